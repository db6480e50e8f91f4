// Channel: the parent/child protocol over an AF_UNIX SOCK_SEQPACKET socketpair.

#include "nslab/channel.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "nslab/error.hpp"

namespace nslab {
namespace {

using testing::error_from;


// A context of `length` characters that differ along the way, so that a
// truncation or a shifted copy would show.
std::string patterned(std::size_t length) {
  std::string text(length, ' ');
  for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>('a' + i % 26);
  return text;
}

TEST(Channel, PairIsTwoCloseOnExecSeqpacketSockets) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  ASSERT_GE(parent.fd(), 0);
  ASSERT_GE(child.fd(), 0);
  EXPECT_NE(parent.fd(), child.fd());
  for (const int fd : {parent.fd(), child.fd()}) {
    SCOPED_TRACE("fd " + std::to_string(fd));
    const int flags = ::fcntl(fd, F_GETFD);
    ASSERT_NE(flags, -1);
    EXPECT_NE(flags & FD_CLOEXEC, 0) << "exec success is seen as end-of-file only if the fd is close-on-exec";
    int type = 0;
    socklen_t size = sizeof type;
    ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size), 0);
    EXPECT_EQ(type, SOCK_SEQPACKET);
  }
}

TEST(Channel, EveryKindRoundTripsWithErrnoAndContext) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  struct Case {
    MessageKind kind;
    int errnum;
    std::string context;
    std::string hint;
  };
  const std::array<Case, 5> cases = {{
      {MessageKind::ready, 0, "", ""},
      {MessageKind::go, 0, "", ""},
      {MessageKind::exec, 0, "", ""},
      {MessageKind::failed, ENOSPC, "clone(CLONE_NEWUTS|SIGCHLD)", "a namespace limit was reached"},
      {MessageKind::exec_failed, ENOENT, "exec \"/no/such/cmd\"", ""},
  }};
  for (const Case& c : cases) {
    SCOPED_TRACE(message_name(c.kind));
    child.send(c.kind, c.errnum, c.context, c.hint);
    const Message m = parent.receive();
    EXPECT_EQ(m.kind, c.kind);
    EXPECT_EQ(m.errnum, c.errnum);
    EXPECT_EQ(m.context, c.context);
    EXPECT_EQ(m.hint, c.hint);
  }
}

TEST(Channel, WorksInBothDirections) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  parent.send(MessageKind::go);
  EXPECT_EQ(child.receive().kind, MessageKind::go);
  child.send(MessageKind::failed, EACCES, "write uid_map");
  const Message m = parent.receive();
  EXPECT_EQ(m.kind, MessageKind::failed);
  EXPECT_EQ(m.errnum, EACCES);
  EXPECT_EQ(m.context, "write uid_map");
}

TEST(Channel, EachSendIsOneRecordInOrder) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  child.send(MessageKind::failed, 1, "first");
  child.send(MessageKind::exec_failed, 2, "second");
  const Message first = parent.receive();
  const Message second = parent.receive();
  EXPECT_EQ(first.context, "first");
  EXPECT_EQ(first.errnum, 1);
  EXPECT_EQ(second.context, "second");
  EXPECT_EQ(second.errnum, 2);
  EXPECT_EQ(second.kind, MessageKind::exec_failed);
}

TEST(Channel, ReceiveIsEndOfFileWhenThePeerClosed) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  child.close();
  EXPECT_EQ(child.fd(), -1);
  const Message m = parent.receive();
  EXPECT_EQ(m.kind, MessageKind::end_of_file);
  EXPECT_EQ(m.errnum, 0);
  EXPECT_EQ(m.context, "");
}

// The protocol's core: a successful execve(2) closes the child's end, so the
// parent reads end-of-file while COMMAND is still running.
TEST(Channel, ExecOfThePeerIsSeenAsEndOfFile) {
  if (::access("/bin/sleep", X_OK) != 0) GTEST_SKIP() << "needs /bin/sleep to exec";
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    std::array<char*, 3> argv = {const_cast<char*>("sleep"), const_cast<char*>("5"), nullptr};
    ::execv("/bin/sleep", argv.data());
    ::_exit(127);
  }
  child.close();  // the parent's copy of the child's end, as run_container does
  const Message m = parent.receive();
  EXPECT_EQ(m.kind, MessageKind::end_of_file);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "end-of-file must come from exec, not from the child's exit";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(Channel, SendToAClosedPeerThrowsEpipeWithoutSigpipe) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  child.close();
  const auto e = error_from([&parent] { parent.send(MessageKind::go); });
  ASSERT_TRUE(e.has_value()) << "sending to a closed peer must throw";
  EXPECT_EQ(e->errnum(), EPIPE);
  EXPECT_EQ(e->context(), "send(channel, GO)");
}

TEST(Channel, ContextUpToTheRecordSizeIsKeptWhole) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  const std::string context = patterned(767);
  child.send(MessageKind::failed, EIO, context);
  const Message m = parent.receive();
  EXPECT_EQ(m.context, context);
  EXPECT_EQ(m.errnum, EIO);
}

TEST(Channel, LongerContextIsTruncatedNotOverflowed) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  const std::string context = patterned(5000);
  child.send(MessageKind::failed, E2BIG, context);
  child.send(MessageKind::go, 0, "next");  // the record after it is intact
  const Message m = parent.receive();
  EXPECT_EQ(m.kind, MessageKind::failed);
  EXPECT_EQ(m.errnum, E2BIG);
  EXPECT_EQ(m.context.size(), 767U) << "768 bytes on the wire, the last one the terminating NUL";
  EXPECT_EQ(m.context, context.substr(0, 767));
  const Message next = parent.receive();
  EXPECT_EQ(next.kind, MessageKind::go);
  EXPECT_EQ(next.context, "next");
}

TEST(Channel, ShortRecordIsRejectedAsMalformed) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  ASSERT_EQ(::send(child.fd(), "xyz", 3, 0), 3);
  const auto e = error_from([&parent] { (void)parent.receive(); });
  ASSERT_TRUE(e.has_value()) << "a 3-byte record is not a message";
  EXPECT_EQ(e->errnum(), EPROTO);
  EXPECT_NE(std::string(e->what()).find("3 bytes"), std::string::npos) << e->what();
}

TEST(Channel, EndOfFileCannotBeSentAsARecord) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  child.send(MessageKind::end_of_file);
  const auto e = error_from([&parent] { (void)parent.receive(); });
  ASSERT_TRUE(e.has_value()) << "a record of kind 0 would forge exec success";
  EXPECT_EQ(e->errnum(), EPROTO);
}

TEST(Channel, UnknownKindIsRejected) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  // The wire record: int kind, int errnum, char context[768], char hint[256].
  std::array<char, sizeof(int) * 2 + 768 + 256> record{};
  const int kind = 6;
  std::memcpy(record.data(), &kind, sizeof kind);
  ASSERT_EQ(::send(child.fd(), record.data(), record.size(), 0), static_cast<ssize_t>(record.size()));
  const auto e = error_from([&parent] { (void)parent.receive(); });
  ASSERT_TRUE(e.has_value()) << "kind 6 is not a MessageKind";
  EXPECT_EQ(e->errnum(), EPROTO);
}

// Found by fuzzing (scripts/fuzz.sh, target channel): an empty record read as
// end-of-file, which after EXEC means "COMMAND runs", so a child could forge
// exec success with it, as with a record of kind 0.
TEST(Channel, EmptyRecordIsMalformedNotEndOfFile) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  for (const bool waiting : {true, false}) {
    SCOPED_TRACE(waiting ? "receive" : "try_receive");
    ASSERT_EQ(::send(child.fd(), "", 0, 0), 0);
    const auto e = error_from([&parent, waiting] {
      (void)(waiting ? std::optional<Message>(parent.receive()) : parent.try_receive());
    });
    ASSERT_TRUE(e.has_value()) << "a 0-byte record is not end-of-file while the peer is there";
    EXPECT_EQ(e->errnum(), EPROTO);
    EXPECT_NE(std::string(e->what()).find("0 bytes"), std::string::npos) << e->what();
  }
  child.close();
  EXPECT_EQ(parent.receive().kind, MessageKind::end_of_file) << "the peer's end closed still is";
}

// A record longer than the protocol's was taken, cut to its size, as if it
// were one (the fuzz target channel checks this too).
TEST(Channel, LongerRecordIsMalformedNotCut) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  std::array<char, sizeof(int) * 2 + 768 + 256 + 1> record{};
  const int kind = static_cast<int>(MessageKind::exec);
  std::memcpy(record.data(), &kind, sizeof kind);
  ASSERT_EQ(::send(child.fd(), record.data(), record.size(), 0), static_cast<ssize_t>(record.size()));
  const auto e = error_from([&parent] { (void)parent.receive(); });
  ASSERT_TRUE(e.has_value()) << "a record of 1033 bytes is not a message of 1032";
  EXPECT_EQ(e->errnum(), EPROTO);
  EXPECT_NE(std::string(e->what()).find("1033 bytes"), std::string::npos) << e->what();
}

TEST(Channel, PeerGoneOnlyOnceEveryCopyOfThePeersEndIsClosed) {
  auto pair = Channel::create_pair();
  Channel& parent = pair.first;
  Channel& child = pair.second;
  EXPECT_FALSE(child.peer_gone()) << "the parent's end is open";
  parent.send(MessageKind::go);
  EXPECT_FALSE(child.peer_gone()) << "a queued message is not a hang-up";
  const int copy = ::dup(parent.fd());
  ASSERT_NE(copy, -1);
  parent.close();
  EXPECT_FALSE(child.peer_gone()) << "a copy of the parent's end is still open (the child's own, before it closes it)";
  ::close(copy);
  EXPECT_TRUE(child.peer_gone()) << "every copy closed: poll(2) reports POLLHUP, even with GO still queued";
}

TEST(Channel, PeerGoneWhenThePeerProcessDies) {
  auto pair = Channel::create_pair();
  Channel& child = pair.second;
  const pid_t peer = ::fork();
  ASSERT_NE(peer, -1);
  if (peer == 0) {
    ::pause();  // holds the parent's end until killed
    ::_exit(0);
  }
  pair.first.close();  // now only the peer process holds that end
  EXPECT_FALSE(child.peer_gone());
  ::kill(peer, SIGKILL);
  ::waitpid(peer, nullptr, 0);
  EXPECT_TRUE(child.peer_gone()) << "a dead process's fds are closed before it can be reaped";
}

TEST(MessageName, NamesEveryKindAsTheProtocolWritesIt) {
  EXPECT_STREQ(message_name(MessageKind::ready), "READY");
  EXPECT_STREQ(message_name(MessageKind::go), "GO");
  EXPECT_STREQ(message_name(MessageKind::exec), "EXEC");
  EXPECT_STREQ(message_name(MessageKind::failed), "FAILED");
  EXPECT_STREQ(message_name(MessageKind::exec_failed), "EXEC_FAILED");
  EXPECT_STREQ(message_name(MessageKind::end_of_file), "end-of-file");
}

}  // namespace
}  // namespace nslab
