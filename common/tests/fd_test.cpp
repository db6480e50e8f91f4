// UniqueFd: owns one fd, closes it exactly once, moves but never copies.
//
// Whether an fd is open is asked of the kernel (fcntl(F_GETFD) fails with EBADF
// on a closed fd), never of the object under test.

#include "nslab/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

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

// In a forked process: the tests close fds of their own process.
using testing::Passed;
using testing::run_forked;

TEST(CloseFdsExcept, ClosesEveryFdAboveTwoButTheOneKept) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    std::vector<int> fds(5);
    for (int& fd : fds) fd = ::open("/", O_RDONLY);  // no O_CLOEXEC: as a caller's would be
    const int high = ::fcntl(fds[0], F_DUPFD, 200);
    const int keep = fds[2];
    close_fds_except(keep);
    for (const int fd : fds) {
      if (fd != keep && is_open(fd)) return "fd " + std::to_string(fd) + " is still open";
    }
    if (is_open(high)) return "fd 200+ is still open";
    if (!is_open(keep)) return "the kept fd was closed";
    for (int fd = 0; fd <= 2; ++fd) {
      if (!is_open(fd)) return "fd " + std::to_string(fd) + " was closed: 0-2 are COMMAND's";
    }
    return "";
  })));
}

TEST(CloseFdsExcept, WithNothingToKeepClosesAllAboveTwo) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    const int a = ::open("/", O_RDONLY);
    const int b = ::fcntl(a, F_DUPFD, 3);
    close_fds_except(-1);
    if (is_open(a) || is_open(b)) return "an fd above 2 survived";
    return is_open(2) ? "" : "stderr was closed";
  })));
}

TEST(EnsureStandardFdsOpen, ReopensClosedOnesOnDevNull) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    ::close(0);
    ::close(2);
    ensure_standard_fds_open();
    if (!is_open(0) || !is_open(2)) return "fd 0 or 2 is still closed";
    // The next fd opened must not become "stderr".
    const int next = ::open("/", O_RDONLY | O_CLOEXEC);
    if (next <= 2) return "a new fd took " + std::to_string(next);
    char target[64] = {};
    if (::readlink("/proc/self/fd/2", target, sizeof target - 1) == -1) return "readlink fd 2 failed";
    return std::string(target) == "/dev/null" ? "" : std::string("fd 2 is ") + target;
  })));
}

TEST(EnsureStandardFdsOpen, LeavesOpenOnesAlone) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    struct stat before {};
    struct stat after {};
    ::fstat(1, &before);
    ensure_standard_fds_open();
    ::fstat(1, &after);
    return before.st_ino == after.st_ino && before.st_dev == after.st_dev ? "" : "fd 1 was replaced";
  })));
}

}  // namespace
}  // namespace nslab
