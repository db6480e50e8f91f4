/// @file channel.hpp
/// @brief The parent/child channel: a small named protocol over a socketpair.
#pragma once

#include <string>

#include "nslab/fd.hpp"

namespace nslab {

/// @brief The messages of the parent/child protocol.
///
///     parent                                  child
///     ------                                  -----
///     clone() ---------------------------->   waits for GO
///     setup from outside (maps, veth, ...)
///     send GO  --------------------------->   setup inside (hostname, mounts, ...)
///                                             execve(COMMAND)
///     receive: end-of-file  <-------------    (exec closed the O_CLOEXEC end)
///          or: FAILED/EXEC_FAILED + errno <-  (a step failed; the child exits)
///
/// End-of-file is how success is seen: a successful execve(2) closes the
/// child's end of the socket because it is close-on-exec, so no message can be
/// lost or forged by COMMAND.
enum class MessageKind : int {
  end_of_file = 0,  ///< the peer closed its end: exec succeeded (or the peer died)
  go = 1,           ///< parent to child: the outside setup is done, carry on
  failed = 2,       ///< child to parent: a setup step failed (exit 125)
  exec_failed = 3,  ///< child to parent: execve(COMMAND) failed (exit 126 or 127)
};

/// @brief One message: its kind, an errno and the failed step's context.
struct Message {
  MessageKind kind = MessageKind::end_of_file;  ///< what happened
  int errnum = 0;                               ///< errno of the failed call, or 0
  std::string context;                          ///< the call and its arguments
};

/// @brief One end of the channel (an AF_UNIX SOCK_SEQPACKET socket, so each
/// send is one record and end-of-file is reliable).
class Channel {
 public:
  /// @brief Creates both ends (close-on-exec): first is the parent's, second the child's.
  /// @throws Error from socketpair(2).
  static std::pair<Channel, Channel> create_pair();

  /// @brief Sends one message. @throws Error from send(2) (EPIPE if the peer is gone).
  void send(MessageKind kind, int errnum = 0, const std::string& context = {}) const;
  /// @brief Waits for one message; MessageKind::end_of_file when the peer closed its end.
  /// @throws Error from recv(2), or on a malformed record.
  [[nodiscard]] Message receive() const;
  /// @brief Closes this end (the child's copy, in the parent; see the protocol).
  void close() noexcept { fd_.reset(); }
  /// @brief The socket, for tests and for narration.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nslab
