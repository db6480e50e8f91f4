// Lab 05 — the rtnetlink socket. What the messages *say* is the lesson, in
// net.cpp; here is how they are laid out and how they travel: one request at a
// time, answered by an ack or an errno (netlink(7), "NLMSG_ERROR").
//
// No library: the layout is the kernel's own (<linux/netlink.h>), and the
// bookkeeping it asks for is small — a length in every header, 4-byte padding
// after every value, a nest's length written when it closes, and an answer
// checked to be ours before it is believed.

#include "05-net/netlink.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "nslab/error.hpp"

namespace nslab {
namespace {

// The largest message a dump sends is one page or 8 KiB (the kernel's
// NLMSG_GOODSIZE); 32 KiB is room for it on any page size.
constexpr std::size_t kAnswerSize = 32768;

// The kernel's reason in NLMSG_ERROR message ERROR, when an extended ack
// carries one (NLMSGERR_ATTR_MSG): "Unknown device type", ...
std::string extended_ack_text(const nlmsghdr* error) {
  if ((error->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  const auto* body = static_cast<const nlmsgerr*>(NLMSG_DATA(error));
  // After the nlmsgerr: our request echoed whole, unless capped to its header;
  // then the attributes.
  std::size_t offset = sizeof(nlmsgerr);
  if ((error->nlmsg_flags & NLM_F_CAPPED) == 0) {
    if (body->msg.nlmsg_len < sizeof(nlmsghdr)) return {};
    offset += NLMSG_ALIGN(body->msg.nlmsg_len - sizeof(nlmsghdr));
  }
  std::string text;
  (void)for_each_attribute(error, offset, [&text](std::uint16_t type, const void* value, std::size_t length) {
    const auto* chars = static_cast<const char*>(value);
    // A NUL-terminated string; anything else is not the kernel's text.
    if (type == NLMSGERR_ATTR_MSG && length > 0 && std::memchr(chars, '\0', length) != nullptr) text = chars;
  });
  return text;
}

}  // namespace

// --- building a request -----------------------------------------------------------------

Request::Request(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence) {
  nlmsghdr* message = header();
  message->nlmsg_len = NLMSG_HDRLEN;
  message->nlmsg_type = type;
  message->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  message->nlmsg_seq = sequence;
  message->nlmsg_pid = 0;  // the kernel fills in our port
}

void* Request::append(std::size_t length) {
  nlmsghdr* message = header();
  const std::size_t padded = NLMSG_ALIGN(length);
  if (padded > buffer_.size() - message->nlmsg_len) {
    throw Error(EMSGSIZE, "netlink request of type " + std::to_string(message->nlmsg_type) + ": more than " +
                              std::to_string(buffer_.size()) + " bytes");
  }
  char* end = buffer_.data() + message->nlmsg_len;
  std::memset(end, 0, padded);  // the padding too: the kernel sees every byte
  message->nlmsg_len += static_cast<std::uint32_t>(padded);
  return end;
}

nlattr* Request::append_attribute(std::uint16_t type, std::size_t length) {
  if (length > 0xffff - NLA_HDRLEN) throw Error(EMSGSIZE, "netlink attribute " + std::to_string(type) + ": too long");
  auto* attribute = static_cast<nlattr*>(append(NLA_HDRLEN + length));
  attribute->nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + length);  // without the padding
  attribute->nla_type = type;
  return attribute;
}

void Request::add_attribute(std::uint16_t type, const void* value, std::size_t length) {
  nlattr* attribute = append_attribute(type, length);
  if (length > 0) std::memcpy(reinterpret_cast<char*>(attribute) + NLA_HDRLEN, value, length);
}

void Request::add_string(std::uint16_t type, std::string_view value) {
  // Room for the terminating zero, which append() has zeroed already.
  nlattr* attribute = append_attribute(type, value.size() + 1);
  if (!value.empty()) std::memcpy(reinterpret_cast<char*>(attribute) + NLA_HDRLEN, value.data(), value.size());
}

void Request::add_u32(std::uint16_t type, std::uint32_t value) { add_attribute(type, &value, sizeof value); }

nlattr* Request::begin_nest(std::uint16_t type) {
  // "My value is attributes"; its length is known only at end_nest().
  return append_attribute(static_cast<std::uint16_t>(NLA_F_NESTED | type), 0);
}

void Request::end_nest(nlattr* nest) {
  const char* end = buffer_.data() + header()->nlmsg_len;
  nest->nla_len = static_cast<std::uint16_t>(end - reinterpret_cast<const char*>(nest));
}

// --- reading an answer ------------------------------------------------------------------

Answer read_answer(const char* data, std::size_t length, std::uint32_t sequence, std::uint32_t port,
                   const std::function<void(const nlmsghdr*)>& on_message) {
  Answer answer;
  std::size_t offset = 0;
  while (offset < length) {
    const auto* message = reinterpret_cast<const nlmsghdr*>(data + offset);
    // A header cut short, or a length that lies: nothing after it can be trusted.
    if (length - offset < sizeof(nlmsghdr) || message->nlmsg_len < sizeof(nlmsghdr) ||
        message->nlmsg_len > length - offset) {
      answer.error = EBADMSG;
      return answer;
    }
    // The port the kernel sent to (ours, or 0 for a broadcast) and our request's number.
    if (message->nlmsg_pid != port && message->nlmsg_pid != 0) {
      answer.error = ESRCH;
      return answer;
    }
    if (message->nlmsg_seq != sequence) {
      answer.error = EPROTO;
      return answer;
    }
    switch (message->nlmsg_type) {
      case NLMSG_NOOP:
      case NLMSG_OVERRUN:
        break;
      case NLMSG_ERROR: {
        const auto* error = family_header<nlmsgerr>(message);
        if (error == nullptr || error->error > 0 || error->error < -4095) {  // an errno is 1..4095
          answer.error = EBADMSG;
          return answer;
        }
        answer.complete = true;  // the ack (0), or a refusal: the request is answered
        if (error->error < 0) {
          answer.error = -error->error;
          answer.reason = printable(extended_ack_text(message), 200);  // for one line on stderr
        }
        return answer;
      }
      case NLMSG_DONE: {
        answer.complete = true;
        // A dump's end carries an int: 0, or the errno that cut it short.
        int status = 0;
        if (message->nlmsg_len >= NLMSG_LENGTH(sizeof status)) std::memcpy(&status, NLMSG_DATA(message), sizeof status);
        if (status > 0 || status < -4095) answer.error = EBADMSG;
        else if (status < 0) answer.error = -status;
        else if ((message->nlmsg_flags & NLM_F_DUMP_INTR) != 0) answer.error = EINTR;
        return answer;
      }
      default:
        // Below NLMSG_MIN_TYPE the types are netlink's own, reserved: not data.
        if (message->nlmsg_type >= NLMSG_MIN_TYPE && on_message) on_message(message);
        break;
    }
    offset += NLMSG_ALIGN(message->nlmsg_len);  // past the end when the last one's padding is not sent
  }
  return answer;
}

bool for_each_attribute(const nlmsghdr* message, std::size_t header_size,
                        const std::function<void(std::uint16_t, const void*, std::size_t)>& on_attribute) {
  std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(header_size);
  if (offset > message->nlmsg_len) return false;
  const char* data = reinterpret_cast<const char*>(message);
  while (offset < message->nlmsg_len) {
    if (message->nlmsg_len - offset < NLA_HDRLEN) return false;
    nlattr attribute{};
    std::memcpy(&attribute, data + offset, sizeof attribute);
    if (attribute.nla_len < NLA_HDRLEN || attribute.nla_len > message->nlmsg_len - offset) return false;
    on_attribute(static_cast<std::uint16_t>(attribute.nla_type & NLA_TYPE_MASK), data + offset + NLA_HDRLEN,
                 attribute.nla_len - NLA_HDRLEN);
    offset += NLA_ALIGN(attribute.nla_len);
  }
  return true;
}

// --- the socket -------------------------------------------------------------------------

Rtnetlink::Rtnetlink() : answer_(kAnswerSize) {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ == -1) throw_errno("socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)");
  // Port 0: the kernel picks our address (nl_pid), and getsockname says which.
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  socklen_t size = sizeof address;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == -1 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == -1) {
    const int saved = errno;
    ::close(fd_);
    throw Error(saved, "bind(AF_NETLINK)");
  }
  port_ = address.nl_pid;
  // Extended acks (netlink(7), NETLINK_EXT_ACK): a refusal then carries the
  // kernel's own reason as text, besides the errno. Older kernels lack it.
  const int on = 1;
  (void)::setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  sequence_ = static_cast<std::uint32_t>(::time(nullptr));
}

Rtnetlink::~Rtnetlink() { ::close(fd_); }

Request Rtnetlink::start(std::uint16_t type, std::uint16_t flags) { return Request(type, flags, ++sequence_); }

void Rtnetlink::call(const Request& request, const std::string& what) { exchange(request, what, {}); }

void Rtnetlink::dump(Request& request, const std::string& what,
                     const std::function<void(const nlmsghdr*)>& on_message) {
  request.header()->nlmsg_flags |= NLM_F_DUMP;
  exchange(request, what, on_message);
}

void Rtnetlink::exchange(const Request& request, const std::string& what,
                         const std::function<void(const nlmsghdr*)>& on_message) {
  const nlmsghdr* message = request.header();
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  while (::sendto(fd_, message, message->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) ==
         -1) {
    if (errno != EINTR) throw_errno("sendto(netlink): " + what);
  }
  for (;;) {
    sockaddr_nl sender{};
    iovec buffer{answer_.data(), answer_.size()};
    msghdr header{};
    header.msg_name = &sender;
    header.msg_namelen = sizeof sender;
    header.msg_iov = &buffer;
    header.msg_iovlen = 1;
    const ssize_t length = ::recvmsg(fd_, &header, 0);
    if (length == -1) {
      if (errno == EINTR) continue;
      throw_errno("recv(netlink): " + what);
    }
    if ((header.msg_flags & MSG_TRUNC) != 0) throw Error(EMSGSIZE, "recv(netlink): " + what, "an answer larger than the buffer");
    if (sender.nl_pid != 0) continue;  // not from the kernel: not an answer
    const Answer answer =
        read_answer(answer_.data(), static_cast<std::size_t>(length), message->nlmsg_seq, port_, on_message);
    if (answer.error != 0) throw Error(answer.error, what, answer.reason.empty() ? "" : "the kernel says: " + answer.reason);
    if (answer.complete) return;
  }
}

}  // namespace nslab
