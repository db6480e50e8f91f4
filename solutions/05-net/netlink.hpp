/// @file netlink.hpp
/// @brief Lab 05: an rtnetlink socket (rtnetlink(7)) — requests built in place
/// from the kernel's own structures, and the kernel's answer turned into errno.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab {

/// @brief One netlink request, laid out in place as the kernel reads it: a
/// `struct nlmsghdr`, the family header of its type, then attributes, each a
/// `struct nlattr` (length and type) and its value, padded to 4 bytes.
///
/// Every add_* call appends at the end of the message and keeps
/// `nlmsg_len` right, so the header always says how long the request is.
/// Inside an open nest, "the end" is inside the nest: that is how lab 05 puts
/// the veth peer's own `ifinfomsg` where the kernel looks for it. A request
/// that would outgrow its buffer throws Error(EMSGSIZE), never writes past it.
///
/// Rtnetlink::start() makes one with the socket's next sequence number. It
/// neither copies nor moves, since the pointers it hands out (the family
/// header, nests) point into it.
class Request {
 public:
  /// The room for one request: the largest lab 05 builds is 108 bytes.
  static constexpr std::size_t kCapacity = 1024;

  Request(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence);
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  Request(Request&&) = delete;
  Request& operator=(Request&&) = delete;
  ~Request() = default;

  /// @brief The message's header: type, flags, sequence number, and its
  /// length so far (`nlmsg_len`, what is sent).
  [[nodiscard]] nlmsghdr* header() noexcept { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }
  [[nodiscard]] const nlmsghdr* header() const noexcept { return reinterpret_cast<const nlmsghdr*>(buffer_.data()); }

  /// @brief Appends a zeroed @p Header (`ifinfomsg`, `ifaddrmsg`, `rtmsg`) and
  /// returns it to be filled in: the family header right after the nlmsghdr,
  /// or, inside a VETH_INFO_PEER nest, the peer's.
  template <class Header>
  Header* add_header() {
    return static_cast<Header*>(append(sizeof(Header)));
  }
  /// @brief Appends attribute @p type with @p length bytes of @p value.
  void add_attribute(std::uint16_t type, const void* value, std::size_t length);
  /// @brief A string attribute with its terminating zero (IFLA_IFNAME, IFLA_INFO_KIND).
  void add_string(std::uint16_t type, std::string_view value);
  /// @brief A 32-bit number attribute, in host byte order (IFLA_NET_NS_PID, RTA_OIF).
  void add_u32(std::uint16_t type, std::uint32_t value);
  /// @brief Opens nest @p type: the attributes added until end_nest() are its
  /// value. Returns the nest's header, whose length end_nest() fills in.
  nlattr* begin_nest(std::uint16_t type);
  /// @brief Closes @p nest: its length now covers everything added since
  /// begin_nest(). Nests close in the reverse order they opened.
  void end_nest(nlattr* nest);

 private:
  /// @p length zeroed bytes, padded to 4, at the end; throws Error(EMSGSIZE).
  void* append(std::size_t length);
  /// An attribute's header (@p type, its length) and @p length zeroed bytes
  /// of value after it, padded; the value is the caller's to fill in.
  nlattr* append_attribute(std::uint16_t type, std::size_t length);

  alignas(nlmsghdr) std::array<char, kCapacity> buffer_{};
};

/// @brief What one datagram of the kernel's answer said (read_answer()).
struct Answer {
  bool complete = false;  ///< the ack, or a dump's NLMSG_DONE: nothing more will come
  int error = 0;          ///< the kernel's errno for our request (0: none)
  std::string reason;     ///< the kernel's own words for it (extended ack), printable; or ""
};

/// @brief Reads one datagram of the kernel's answer to request @p sequence of
/// socket @p port: calls @p on_message with each message of a dump, and says
/// whether the answer is complete or failed.
///
/// The checks every netlink client owes (netlink(7)): each message must fit
/// in the datagram and address our port and our request, or the answer is
/// not ours (ESRCH for another port, EPROTO for another request; EBADMSG for
/// a message that does not fit). An `NLMSG_ERROR` carries an errno (0 is the
/// ack); a dump ends with `NLMSG_DONE`, which says EINTR if the kernel saw
/// the data change while it dumped (`NLM_F_DUMP_INTR`): ask again.
/// Pure: it reads @p data only, so a test (or a fuzzer) can hand it anything.
Answer read_answer(const char* data, std::size_t length, std::uint32_t sequence, std::uint32_t port,
                   const std::function<void(const nlmsghdr*)>& on_message = {});

/// @brief The family header of @p message (an `ifaddrmsg` in an RTM_NEWADDR),
/// or nullptr when the message is too short to hold one.
template <class Header>
const Header* family_header(const nlmsghdr* message) {
  if (message->nlmsg_len < NLMSG_LENGTH(sizeof(Header))) return nullptr;
  return static_cast<const Header*>(NLMSG_DATA(message));
}

/// @brief Calls @p on_attribute(type, value, length) for each attribute of
/// @p message after its family header of @p header_size bytes. False when an
/// attribute's length runs past the message (the rest is not read).
bool for_each_attribute(const nlmsghdr* message, std::size_t header_size,
                        const std::function<void(std::uint16_t, const void*, std::size_t)>& on_attribute);

/// @brief A NETLINK_ROUTE socket in the network namespace of the process that
/// opens it: every request it sends acts on *that* namespace's links, addresses
/// and routes. The parent opens one on the host's side, the child one inside.
///
/// The kernel answers each request sent with NLM_F_ACK by an NLMSG_ERROR
/// message whose `error` is 0 (the ack) or a negative errno: call() turns that
/// into an Error, as a failed syscall would be.
class Rtnetlink {
 public:
  /// @throws Error from socket(2) or bind(2).
  Rtnetlink();
  Rtnetlink(const Rtnetlink&) = delete;
  Rtnetlink& operator=(const Rtnetlink&) = delete;
  Rtnetlink(Rtnetlink&&) = delete;
  Rtnetlink& operator=(Rtnetlink&&) = delete;
  ~Rtnetlink();

  /// @brief A new request of @p type (RTM_NEWLINK, ...) with
  /// NLM_F_REQUEST|NLM_F_ACK, @p flags and a new sequence number. Its family
  /// header and attributes follow (Request::add_header, add_string, ...).
  [[nodiscard]] Request start(std::uint16_t type, std::uint16_t flags = 0);
  /// @brief Sends @p request and waits for the kernel's answer to it.
  /// @param what the request as a person reads it, for the error:
  ///        `RTM_NEWLINK nslab-4242 type veth peer eth0 (ip link add ...)`.
  /// @throws Error with the errno the kernel answered (EEXIST, EPERM, ...).
  void call(const Request& request, const std::string& what);
  /// @brief Sends @p request as a dump (NLM_F_DUMP) and calls @p on_message
  /// with each message of the answer, until NLMSG_DONE. @throws Error as call() does.
  void dump(Request& request, const std::string& what, const std::function<void(const nlmsghdr*)>& on_message);

 private:
  void exchange(const Request& request, const std::string& what, const std::function<void(const nlmsghdr*)>& on_message);

  int fd_ = -1;
  std::uint32_t port_ = 0;
  std::uint32_t sequence_ = 0;
  std::vector<char> answer_;  // room for the largest message a dump sends
};

}  // namespace nslab
