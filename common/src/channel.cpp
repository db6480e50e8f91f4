#include "nslab/channel.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
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
  std::array<char, 768> context;
  std::array<char, 256> hint;
};

constexpr int kLastKind = static_cast<int>(MessageKind::exec_failed);

template <std::size_t N>
void copy_text(std::array<char, N>& to, const std::string& from) {
  const std::size_t length = std::min(from.size(), N - 1);
  std::memcpy(to.data(), from.data(), length);
}

}  // namespace

const char* message_name(MessageKind kind) noexcept {
  switch (kind) {
    case MessageKind::end_of_file: return "end-of-file";
    case MessageKind::ready: return "READY";
    case MessageKind::go: return "GO";
    case MessageKind::exec: return "EXEC";
    case MessageKind::failed: return "FAILED";
    case MessageKind::exec_failed: return "EXEC_FAILED";
  }
  return "?";
}

std::pair<Channel, Channel> Channel::create_pair() {
  std::array<int, 2> fds{};
  check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds.data()),
        "socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)");
  return {Channel(UniqueFd(fds[0])), Channel(UniqueFd(fds[1]))};
}

void Channel::send(MessageKind kind, int errnum, const std::string& context, const std::string& hint) const {
  Record record{};
  record.kind = static_cast<int>(kind);
  record.errnum = errnum;
  copy_text(record.context, context);
  copy_text(record.hint, hint);
  ssize_t sent = 0;
  do {
    sent = ::send(fd_.get(), &record, sizeof record, MSG_NOSIGNAL);
  } while (sent == -1 && errno == EINTR);
  if (sent == -1) throw_errno(std::string("send(channel, ") + message_name(kind) + ")");
}

namespace {

// True when the peer's end is shut down (unix(7): poll(2) reports POLLHUP, or
// POLLRDHUP), as it is once every copy of it is closed.
bool peer_shut_down(int fd) noexcept {
  pollfd entry{fd, POLLIN | POLLRDHUP, 0};
  int ready = 0;
  do {
    ready = ::poll(&entry, 1, 0);
  } while (ready == -1 && errno == EINTR);
  return ready == 1 && (entry.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

// One recv(2) of a record: its real size (MSG_TRUNC: a record longer than
// ours says how long it was, instead of being taken cut to our size), 0 at
// end-of-file, -1 with EAGAIN when MSG_DONTWAIT finds nothing.
ssize_t receive_record(int fd, Record& record, int flags) {
  ssize_t got = 0;
  do {
    got = ::recv(fd, &record, sizeof record, flags | MSG_TRUNC);
  } while (got == -1 && errno == EINTR);
  // A peer that died with a record of ours unread resets the connection: for
  // us, that is its end, as end-of-file is.
  if (got == -1 && errno == ECONNRESET) return 0;
  if (got == -1 && !((flags & MSG_DONTWAIT) != 0 && errno == EAGAIN)) throw_errno("recv(channel)");
  // An empty record reads as end-of-file does, and would forge exec success:
  // it is end-of-file only once the peer's end is shut down.
  if (got == 0 && !peer_shut_down(fd)) throw Error(EPROTO, "recv(channel): malformed message of 0 bytes");
  return got;
}

Message decode(Record& record, ssize_t got) {
  if (got == 0) return Message{};
  if (static_cast<std::size_t>(got) != sizeof record || record.kind < 1 || record.kind > kLastKind) {
    throw Error(EPROTO, "recv(channel): malformed message of " + std::to_string(got) + " bytes");
  }
  record.context.back() = '\0';
  record.hint.back() = '\0';
  return Message{static_cast<MessageKind>(record.kind), record.errnum, record.context.data(), record.hint.data()};
}

}  // namespace

Message Channel::receive() const {
  Record record{};
  return decode(record, receive_record(fd_.get(), record, 0));
}

std::optional<Message> Channel::try_receive() const {
  Record record{};
  const ssize_t got = receive_record(fd_.get(), record, MSG_DONTWAIT);
  if (got <= 0) return std::nullopt;
  return decode(record, got);
}

bool Channel::peer_gone() const noexcept {
  // unix(7): once every copy of the peer's end is closed, its socket is shut
  // down for both directions, and poll(2) reports POLLHUP.
  pollfd entry{fd_.get(), POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&entry, 1, 0);
  } while (ready == -1 && errno == EINTR);
  return ready == 1 && (entry.revents & (POLLHUP | POLLERR)) != 0;
}

}  // namespace nslab
