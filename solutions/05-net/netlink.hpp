/// @file netlink.hpp
/// @brief Lab 05: an rtnetlink socket (rtnetlink(7)) through libmnl — requests
/// built from the kernel's own structures, and the kernel's answer turned into errno.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

struct mnl_socket;

namespace nslab {

/// @brief A NETLINK_ROUTE socket in the network namespace of the process that
/// opens it: every request it sends acts on *that* namespace's links, addresses
/// and routes. The parent opens one on the host's side, the child one inside.
///
/// A request is one netlink message: a `struct nlmsghdr`, the family header of
/// its type (`struct ifinfomsg` for links, `ifaddrmsg` for addresses, `rtmsg`
/// for routes) and attributes. The kernel answers each request sent with
/// NLM_F_ACK by an NLMSG_ERROR message whose `error` is 0 (the ack) or a
/// negative errno: call() turns that into an Error, as a failed syscall would be.
class Rtnetlink {
 public:
  /// @throws Error from socket(2) or bind(2).
  Rtnetlink();
  Rtnetlink(const Rtnetlink&) = delete;
  Rtnetlink& operator=(const Rtnetlink&) = delete;
  Rtnetlink(Rtnetlink&&) = delete;
  Rtnetlink& operator=(Rtnetlink&&) = delete;
  ~Rtnetlink();

  /// @brief Starts a new request of @p type (RTM_NEWLINK, ...) in the socket's
  /// buffer, with NLM_F_REQUEST|NLM_F_ACK, @p flags and a new sequence number.
  /// The family header and attributes follow (mnl_nlmsg_put_extra_header, mnl_attr_put_*).
  nlmsghdr* start(std::uint16_t type, std::uint16_t flags = 0);
  /// @brief Sends @p request and waits for the kernel's answer to it.
  /// @param what the request as a person reads it, for the error:
  ///        `RTM_NEWLINK nslab-4242 type veth peer eth0 (ip link add ...)`.
  /// @throws Error with the errno the kernel answered (EEXIST, EPERM, ...).
  void call(nlmsghdr* request, const std::string& what);
  /// @brief Sends a dump request (NLM_F_DUMP) and calls @p on_message with each
  /// message of the answer, until NLMSG_DONE. @throws Error as call() does.
  void dump(nlmsghdr* request, const std::string& what, const std::function<void(const nlmsghdr*)>& on_message);

 private:
  void send(const nlmsghdr* request, const std::string& what);

  mnl_socket* socket_ = nullptr;
  unsigned port_ = 0;
  unsigned sequence_ = 0;
  std::vector<char> request_;  // one request at a time, built in place
  std::vector<char> answer_;   // room for the largest message a dump sends
};

}  // namespace nslab
