// Lab 05, exercise "bring lo up with hand-written netlink, no library" — a solution.
//
//   05-net-lo-up [IFNAME]    sets IFNAME (default lo) up in this network namespace;
//                            prints nothing and exits 0 on success, one line and 1 if not
//
//   unshare --net sh -c '05-net-lo-up && ip -o link show lo'     lo is UP
//
// `ip link set lo up` is one rtnetlink request: RTM_NEWLINK on an existing link,
// saying which flag bits to change (ifi_change) and what they become (ifi_flags).
// Here that request is written out by hand, byte for byte, as the lab's Request
// class (netlink.cpp) builds it — see rtnetlink(7) and netlink(7):
//
//   offset  0  struct nlmsghdr   16 bytes  length 32, type RTM_NEWLINK, flags, seq, pid
//   offset 16  struct ifinfomsg  16 bytes  family, type, index, flags, change
//                                --------
//                                32 bytes, sent as one datagram to the kernel
//
// The kernel answers with an NLMSG_ERROR message whose error is 0 (the ack) or
// a negative errno: netlink reports failure in the reply, not in sendto()'s
// return value, so the reply must be read and turned into errno (PITFALLS 14).

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// The message as it goes on the wire: the netlink header, then the payload.
// The payload starts NLMSG_ALIGN(sizeof(nlmsghdr)) = NLMSG_HDRLEN bytes in (every
// part of a netlink message starts on a 4-byte boundary); both structs are
// 16 bytes, so a plain struct has exactly that layout, with no padding.
struct LinkRequest {
  nlmsghdr header;
  ifinfomsg link;
};
static_assert(offsetof(LinkRequest, link) == NLMSG_HDRLEN);
static_assert(sizeof(LinkRequest) == NLMSG_LENGTH(sizeof(ifinfomsg)));

// Any number will do on a fresh socket; the reply carries it back, which is
// how a reply is matched with its request when several are in flight.
constexpr __u32 kSequence = 1;

int fail(const std::string& what, int error) {
  (void)std::fprintf(stderr, "05-net-lo-up: %s: %s\n", what.c_str(), std::strerror(error));
  return 1;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc > 2) {
    (void)std::fprintf(stderr, "Usage: 05-net-lo-up [IFNAME]\n");
    return 2;
  }
  const std::string name = argc == 2 ? argv[1] : "lo";
  unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0 && name == "lo") index = 1;  // lo is link 1 in every network namespace
  if (index == 0) return fail("if_nametoindex(\"" + name + "\")", errno);

  // A datagram socket to the kernel's routing subsystem. No bind(2): the
  // kernel gives the socket a port id of its own on the first sendto().
  const int sock = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock == -1) return fail("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", errno);

  //! [lo-up-request]
  LinkRequest request{};
  request.header.nlmsg_len = sizeof request;  // header + payload: 32
  request.header.nlmsg_type = RTM_NEWLINK;    // "new link" also changes an existing one
  // NLM_F_REQUEST: a request to the kernel. NLM_F_ACK: answer even on success,
  // or there is no way to tell "done" from "not arrived yet".
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = kSequence;
  request.header.nlmsg_pid = 0;  // the sender's port id; 0 lets the kernel fill it in
  request.link.ifi_family = AF_UNSPEC;
  request.link.ifi_index = static_cast<int>(index);
  request.link.ifi_flags = IFF_UP;   // the new value of the bits below...
  request.link.ifi_change = IFF_UP;  // ...and which bits to change: IFF_UP only
  //! [lo-up-request]

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  kernel.nl_pid = 0;  // port id 0 is the kernel
  if (::sendto(sock, &request, sizeof request, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) == -1) {
    const int saved = errno;
    (void)::close(sock);
    return fail("sendto RTM_NEWLINK " + name, saved);
  }

  //! [lo-up-ack]
  // The ack: a header, then struct nlmsgerr { int error; nlmsghdr msg; } and a
  // copy of our request. Room for far more than that, aligned for nlmsghdr.
  alignas(nlmsghdr) char reply[8192];
  for (;;) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t got = ::recvfrom(sock, reply, sizeof reply, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (got == -1) {
      if (errno == EINTR) continue;
      const int saved = errno;
      (void)::close(sock);
      return fail("recvfrom (the answer to RTM_NEWLINK)", saved);
    }
    // Only the kernel sends from port 0: anything else is another process
    // writing to our socket, and must not pass for the kernel's answer.
    if (from.nl_pid != 0) continue;
    int left = static_cast<int>(got);
    for (auto* message = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(message, left);
         message = NLMSG_NEXT(message, left)) {
      if (message->nlmsg_seq != kSequence) continue;  // not the answer to our request
      if (message->nlmsg_type != NLMSG_ERROR) continue;
      if (message->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        (void)::close(sock);
        return fail("the answer to RTM_NEWLINK", EBADMSG);  // too short to hold an error
      }
      const auto* answer = static_cast<const nlmsgerr*>(NLMSG_DATA(message));
      (void)::close(sock);
      // error is 0 (the ack) or minus an errno, as a system call returns it.
      if (answer->error != 0) return fail("RTM_NEWLINK " + name + " IFF_UP", -answer->error);
      return 0;
    }
  }
  //! [lo-up-ack]
}
