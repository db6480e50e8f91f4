/// @file channel.hpp
/// @brief The parent/child channel: a small named protocol over a socketpair.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "nslab/fd.hpp"

namespace nslab {

/// @brief The messages of the parent/child protocol.
///
///     parent (runtime, on the host)           child (the container's first process)
///     -----------------------------           -------------------------------------
///     clone() ---------------------------->   closes the parent's end and every
///                                             inherited fd; arms PR_SET_PDEATHSIG;
///                                             checks the parent is still there;
///                                             checks its namespaces are new
///     receive READY  <--------------------    send READY
///     setup from outside (maps, veth, ...)
///     send GO  --------------------------->   unshare late namespaces; setup inside
///                                             (hostname, mounts, ...)
///     receive EXEC  <---------------------    send EXEC; execve(COMMAND)
///     supervise COMMAND                       (execve closed the O_CLOEXEC end)
///     when it has ended: EXEC_FAILED? <---    (execve failed: exit 126/127)
///     before EXEC: FAILED + errno <-------    (a step failed: exit 125)
///
/// After EXEC the runtime goes straight to supervising: the only news still to
/// come is EXEC_FAILED, which a failed execve(2) sends before the child exits,
/// and the runtime reads it once the child has ended. A successful execve
/// closes the child's end of the socket, which is close-on-exec, so COMMAND can
/// neither read nor forge a message. End-of-file *before* EXEC means the child
/// died during its setup (a crash, a kill): the runtime reports that, exit 125.
/// READY comes only after the death signal is armed, so the parent's outside
/// work never acts on a child that could outlive it.
enum class MessageKind : int {
  end_of_file = 0,  ///< the peer closed its end (before EXEC: it died during its setup)
  ready = 1,        ///< child to parent: armed to die with the parent, namespaces checked
  go = 2,           ///< parent to child: the outside setup is done, carry on
  exec = 3,         ///< child to parent: setup done, execve(COMMAND) comes next
  failed = 4,       ///< child to parent: a setup step failed (exit 125)
  exec_failed = 5,  ///< child to parent: execve(COMMAND) failed (exit 126 or 127)
};

/// @brief The name of a message kind, as the protocol above writes it ("READY").
const char* message_name(MessageKind kind) noexcept;

/// @brief One message: its kind, an errno, the failed step's context and a hint.
struct Message {
  MessageKind kind = MessageKind::end_of_file;  ///< what happened
  int errnum = 0;                               ///< errno of the failed call, or 0
  std::string context;                          ///< the call and its arguments
  std::string hint;                             ///< what the errno means there, or ""
};

/// @brief One end of the channel (an AF_UNIX SOCK_SEQPACKET socket, so each
/// send is one record and end-of-file is reliable).
class Channel {
 public:
  /// @brief Creates both ends (close-on-exec): first is the parent's, second the child's.
  /// @throws Error from socketpair(2).
  static std::pair<Channel, Channel> create_pair();

  /// @brief Sends one message. @throws Error from send(2) (EPIPE if the peer is gone).
  void send(MessageKind kind, int errnum = 0, const std::string& context = {},
            const std::string& hint = {}) const;
  /// @brief Waits for one message; MessageKind::end_of_file when the peer closed its end.
  /// @throws Error from recv(2), or on a malformed record.
  [[nodiscard]] Message receive() const;
  /// @brief Takes a message already queued, without waiting: nullopt when there
  /// is none (or only end-of-file). @throws Error as receive() does.
  [[nodiscard]] std::optional<Message> try_receive() const;
  /// @brief True when every copy of the peer's end is closed (poll(2) reports
  /// POLLHUP), even with messages still queued. Does not wait, reads nothing.
  [[nodiscard]] bool peer_gone() const noexcept;
  /// @brief Closes this end (the child's copy, in the parent; see the protocol).
  void close() noexcept { fd_.reset(); }
  /// @brief The socket, for poll(2), tests and narration.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nslab
