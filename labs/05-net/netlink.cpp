// Lab 05 — the rtnetlink socket. What the messages *say* is the lesson, in
// net.cpp; here is how they travel: one request at a time, answered by an ack
// or an errno (netlink(7), "NLMSG_ERROR").

#include "05-net/netlink.hpp"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "nslab/error.hpp"

namespace nslab {
namespace {

// The largest message a dump sends is one page or 8 KiB, the largest request
// we build far less; 32 KiB (MNL_SOCKET_DUMP_SIZE in newer libmnl) is room for both.
constexpr std::size_t kBufferSize = 32768;

// The kernel's reason in an NLMSG_ERROR answer to request SEQUENCE, when an
// extended ack carries one (NLMSGERR_ATTR_MSG): "Unknown device type", ...
std::string extended_ack_text(const char* data, std::size_t length, unsigned sequence) {
  std::string text;
  const auto* message = reinterpret_cast<const nlmsghdr*>(data);
  auto left = static_cast<int>(length);
  for (; mnl_nlmsg_ok(message, left); message = mnl_nlmsg_next(message, &left)) {
    if (message->nlmsg_type != NLMSG_ERROR || message->nlmsg_seq != sequence ||
        (message->nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
      continue;
    }
    const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
    // After the nlmsgerr: our request echoed whole, unless capped to its header.
    std::size_t offset = sizeof(nlmsgerr);
    if ((message->nlmsg_flags & NLM_F_CAPPED) == 0) offset += error->msg.nlmsg_len - sizeof(nlmsghdr);
    auto take_message = [](const nlattr* attribute, void* out) -> int {
      if (mnl_attr_get_type(attribute) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) == 0) {
        *static_cast<std::string*>(out) = mnl_attr_get_str(attribute);
      }
      return MNL_CB_OK;
    };
    (void)mnl_attr_parse(message, static_cast<unsigned>(offset), take_message, &text);
  }
  return text;
}

}  // namespace

Rtnetlink::Rtnetlink() : request_(kBufferSize), answer_(kBufferSize) {
  socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket_ == nullptr) throw_errno("socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)");
  // Port 0: the kernel picks our address (nl_pid) and tells us which.
  if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) == -1) {
    const int saved = errno;
    mnl_socket_close(socket_);
    throw Error(saved, "bind(AF_NETLINK)");
  }
  port_ = mnl_socket_get_portid(socket_);
  // Extended acks (netlink(7), NETLINK_EXT_ACK): a refusal then carries the
  // kernel's own reason as text, besides the errno. Older kernels lack it.
  int on = 1;
  (void)mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &on, sizeof on);
  sequence_ = static_cast<unsigned>(::time(nullptr));
}

Rtnetlink::~Rtnetlink() { mnl_socket_close(socket_); }

nlmsghdr* Rtnetlink::start(std::uint16_t type, std::uint16_t flags) {
  nlmsghdr* request = mnl_nlmsg_put_header(request_.data());
  request->nlmsg_type = type;
  request->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  request->nlmsg_seq = ++sequence_;
  return request;
}

void Rtnetlink::send(const nlmsghdr* request, const std::string& what) {
  if (mnl_socket_sendto(socket_, request, request->nlmsg_len) == -1) throw_errno("sendto(netlink): " + what);
}

void Rtnetlink::call(nlmsghdr* request, const std::string& what) {
  send(request, what);
  // mnl_cb_run() checks that each message answers our sequence number and
  // port, and returns -1 with errno set from an NLMSG_ERROR that is not an ack.
  for (;;) {
    const ssize_t length = mnl_socket_recvfrom(socket_, answer_.data(), answer_.size());
    if (length == -1) {
      if (errno == EINTR) continue;
      throw_errno("recv(netlink): " + what);
    }
    const int result = mnl_cb_run(answer_.data(), static_cast<std::size_t>(length), request->nlmsg_seq, port_,
                                  nullptr, nullptr);
    if (result == -1) {
      const int saved = errno;
      const std::string reason = extended_ack_text(answer_.data(), static_cast<std::size_t>(length), request->nlmsg_seq);
      throw Error(saved, what, reason.empty() ? "" : "the kernel says: " + reason);
    }
    if (result == MNL_CB_STOP) return;  // the ack
  }
}

void Rtnetlink::dump(nlmsghdr* request, const std::string& what,
                     const std::function<void(const nlmsghdr*)>& on_message) {
  request->nlmsg_flags |= NLM_F_DUMP;
  send(request, what);
  auto callback = [](const nlmsghdr* message, void* data) -> int {
    (*static_cast<const std::function<void(const nlmsghdr*)>*>(data))(message);
    return MNL_CB_OK;
  };
  for (;;) {
    const ssize_t length = mnl_socket_recvfrom(socket_, answer_.data(), answer_.size());
    if (length == -1) {
      if (errno == EINTR) continue;
      throw_errno("recv(netlink): " + what);
    }
    auto on = on_message;  // mnl_cb_run takes a non-const void*
    const int result = mnl_cb_run(answer_.data(), static_cast<std::size_t>(length), request->nlmsg_seq, port_,
                                  callback, &on);
    if (result == -1) throw_errno(what);
    if (result == MNL_CB_STOP) return;  // NLMSG_DONE
  }
}

}  // namespace nslab
