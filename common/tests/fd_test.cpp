// UniqueFd: owns one fd, closes it exactly once, moves but never copies.
//
// Whether an fd is open is asked of the kernel (fcntl(F_GETFD) fails with EBADF
// on a closed fd), never of the object under test.

#include "nslab/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace nslab {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
bool is_closed(int fd) { return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

int open_dev_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFd, DefaultConstructedOwnsNothing) {
  const UniqueFd fd;
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(fd);
}

TEST(UniqueFd, DestructorClosesTheOwnedFd) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  {
    const UniqueFd fd(raw);
    EXPECT_TRUE(fd);
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(is_open(raw)) << "owning an fd must not close it";
  }
  EXPECT_TRUE(is_closed(raw)) << "the destructor must close the fd it owns";
}

// The fd number is reused by the next open(2) (POSIX: lowest free number); a
// second close by the stale owner would close the new, unrelated file.
TEST(UniqueFd, ResetClosesOnceAndTheDestructorDoesNotCloseAgain) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  int reused = -1;
  {
    UniqueFd fd(raw);
    fd.reset();
    EXPECT_TRUE(is_closed(raw)) << "reset() must close the owned fd";
    EXPECT_EQ(fd.get(), -1);
    EXPECT_FALSE(fd);
    reused = open_dev_null();
    EXPECT_EQ(reused, raw) << "the test needs the freed number to be reused";
  }
  EXPECT_TRUE(is_open(reused)) << "the destructor closed an fd it no longer owned";
  ::close(reused);
}

TEST(UniqueFd, ResetToAnotherFdClosesTheOldOneAndOwnsTheNewOne) {
  const int first = open_dev_null();
  const int second = open_dev_null();
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  {
    UniqueFd fd(first);
    fd.reset(second);
    EXPECT_TRUE(is_closed(first));
    EXPECT_TRUE(is_open(second));
    EXPECT_EQ(fd.get(), second);
  }
  EXPECT_TRUE(is_closed(second));
}

TEST(UniqueFd, ResetToTheSameFdKeepsItOpen) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  UniqueFd fd(raw);
  fd.reset(raw);
  EXPECT_TRUE(is_open(raw)) << "reset(get()) must not close the fd it keeps";
  EXPECT_EQ(fd.get(), raw);
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_EQ(fd.get(), -1);
    EXPECT_FALSE(fd);
  }
  EXPECT_TRUE(is_open(raw)) << "a released fd belongs to the caller";
  ::close(raw);
}

TEST(UniqueFd, MoveConstructionTransfersOwnership) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  {
    UniqueFd from(raw);
    {
      const UniqueFd to(std::move(from));
      EXPECT_EQ(to.get(), raw);
      EXPECT_EQ(from.get(), -1);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    }
    EXPECT_TRUE(is_closed(raw)) << "the new owner's destructor closes the fd";
  }
}

TEST(UniqueFd, MovedFromOwnerDoesNotClose) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  UniqueFd to;
  {
    UniqueFd from(raw);
    to = std::move(from);
  }
  EXPECT_TRUE(is_open(raw)) << "the moved-from owner closed the fd on destruction";
  EXPECT_EQ(to.get(), raw);
}

TEST(UniqueFd, MoveAssignmentClosesTheTargetsOldFd) {
  const int old_fd = open_dev_null();
  const int new_fd = open_dev_null();
  ASSERT_GE(old_fd, 0);
  ASSERT_GE(new_fd, 0);
  UniqueFd target(old_fd);
  UniqueFd source(new_fd);
  target = std::move(source);
  EXPECT_TRUE(is_closed(old_fd));
  EXPECT_TRUE(is_open(new_fd));
  EXPECT_EQ(target.get(), new_fd);
  EXPECT_EQ(source.get(), -1);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
}

TEST(UniqueFd, SelfMoveAssignmentKeepsTheFd) {
  const int raw = open_dev_null();
  ASSERT_GE(raw, 0);
  UniqueFd fd(raw);
  UniqueFd& alias = fd;
  fd = std::move(alias);
  EXPECT_EQ(fd.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

}  // namespace
}  // namespace nslab
