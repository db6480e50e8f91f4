// How a container's end becomes the runtime's exit status: from real children's
// wait statuses and real execve(2) failures.

#include "nslab/exit_status.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace nslab {
namespace {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string name = (std::filesystem::temp_directory_path() / "nslab-test-XXXXXX").string();
    if (::mkdtemp(name.data()) != nullptr) path_ = name;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool write_file(const std::string& path, std::string_view text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd == -1) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written && ::chmod(path.c_str(), mode) == 0;
}

int wait_for(pid_t pid, int options = 0) {
  int status = 0;
  while (::waitpid(pid, &status, options) == -1 && errno == EINTR) {
  }
  return status;
}

int wait_status_of_exit(int code) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(code);
  return wait_for(pid);
}

// A child that waits for signals with every one at its default action; returns
// once it is ready, so no signal can reach it before.
pid_t fork_waiting_child() {
  std::array<int, 2> ready{};
  if (::pipe2(ready.data(), O_CLOEXEC) == -1) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::alarm(5);  // never outlive a failed test for long
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) (void)::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const char byte = 'r';
    if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  const bool ok = pid != -1 && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  return ok ? pid : -1;
}

int wait_status_of_kill(int sig) {
  const pid_t pid = fork_waiting_child();
  if (pid == -1) return -1;
  ::kill(pid, sig);
  return wait_for(pid);
}

// The errno with which execve(2) of path fails, seen from a child.
int errno_of_execve(const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::array<char*, 2> argv = {const_cast<char*>(path.c_str()), nullptr};
    std::array<char*, 1> envp = {nullptr};
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(errno);
  }
  const int status = wait_for(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ExitCodeFromWaitStatus, ExitedChildGivesItsOwnCode) {
  for (const int code : {0, 1, 3, 125, 255}) {
    EXPECT_EQ(exit_code_from_wait_status(wait_status_of_exit(code)), code);
  }
}

TEST(ExitCodeFromWaitStatus, KilledChildGives128PlusTheSignal) {
  EXPECT_EQ(exit_code_from_wait_status(wait_status_of_kill(SIGTERM)), 143);
  EXPECT_EQ(exit_code_from_wait_status(wait_status_of_kill(SIGKILL)), 137);
  EXPECT_EQ(exit_code_from_wait_status(wait_status_of_kill(SIGINT)), 130);
  EXPECT_EQ(exit_code_from_wait_status(wait_status_of_kill(SIGHUP)), 129);
}

TEST(ExitCodeFromWaitStatus, StoppedChildIsNotAnEnd) {
  const pid_t pid = fork_waiting_child();
  ASSERT_NE(pid, -1);
  ::kill(pid, SIGSTOP);
  const int status = wait_for(pid, WUNTRACED);
  ::kill(pid, SIGKILL);
  wait_for(pid);
  ASSERT_TRUE(WIFSTOPPED(status));
  EXPECT_EQ(exit_code_from_wait_status(status), kExitRuntimeFailed);
}

TEST(ExitCodeForExecErrno, NotFoundIs127) {
  for (const int errnum : {ENOENT, ENOTDIR, ENAMETOOLONG, ELOOP}) {
    EXPECT_EQ(exit_code_for_exec_errno(errnum), 127) << "errno " << errnum;
  }
}

TEST(ExitCodeForExecErrno, FoundButNotRunnableIs126) {
  for (const int errnum : {EACCES, ENOEXEC, EPERM, ETXTBSY}) {
    EXPECT_EQ(exit_code_for_exec_errno(errnum), 126) << "errno " << errnum;
  }
}

TEST(ExitCodeForExecErrno, RealExecveFailures) {
  const TempDir dir;
  ASSERT_FALSE(dir.path().empty()) << "mkdtemp failed";
  const std::string plain = dir.path() + "/plain";
  const std::string garbage = dir.path() + "/garbage";
  ASSERT_TRUE(write_file(plain, "#!/bin/sh\n", 0644));
  ASSERT_TRUE(write_file(garbage, "not a program\n", 0755));
  struct Case {
    std::string path;
    int errnum;
    int code;
  };
  const std::array<Case, 5> cases = {{
      {dir.path() + "/missing", ENOENT, 127},
      {plain + "/below-a-file", ENOTDIR, 127},
      {plain, EACCES, 126},  // no execute bit, even for root
      {dir.path(), EACCES, 126},
      {garbage, ENOEXEC, 126},  // execve(2) itself does not fall back to sh
  }};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    const int errnum = errno_of_execve(c.path);
    EXPECT_EQ(errnum, c.errnum);
    EXPECT_EQ(exit_code_for_exec_errno(errnum), c.code);
  }
}

}  // namespace
}  // namespace nslab
