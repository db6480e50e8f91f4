#include "nslab/channel.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "nslab/error.hpp"

namespace nslab {
namespace {

// One record on the wire; SOCK_SEQPACKET keeps it whole.
struct Record {
  int kind;
  int errnum;
  std::array<char, 1024> context;
};

}  // namespace

std::pair<Channel, Channel> Channel::create_pair() {
  std::array<int, 2> fds{};
  check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds.data()),
        "socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)");
  return {Channel(UniqueFd(fds[0])), Channel(UniqueFd(fds[1]))};
}

void Channel::send(MessageKind kind, int errnum, const std::string& context) const {
  Record record{};
  record.kind = static_cast<int>(kind);
  record.errnum = errnum;
  const std::size_t length = std::min(context.size(), record.context.size() - 1);
  std::memcpy(record.context.data(), context.data(), length);
  ssize_t sent = 0;
  do {
    sent = ::send(fd_.get(), &record, sizeof record, MSG_NOSIGNAL);
  } while (sent == -1 && errno == EINTR);
  if (sent == -1) throw_errno("send(channel)");
}

Message Channel::receive() const {
  Record record{};
  ssize_t got = 0;
  do {
    got = ::recv(fd_.get(), &record, sizeof record, 0);
  } while (got == -1 && errno == EINTR);
  if (got == -1) throw_errno("recv(channel)");
  if (got == 0) return Message{};
  if (static_cast<std::size_t>(got) != sizeof record || record.kind < 1 || record.kind > 3) {
    throw Error(EPROTO, "recv(channel): malformed message of " + std::to_string(got) + " bytes");
  }
  record.context.back() = '\0';
  return Message{static_cast<MessageKind>(record.kind), record.errnum, record.context.data()};
}

}  // namespace nslab
