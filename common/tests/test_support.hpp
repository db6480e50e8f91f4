// Helpers shared by nslab's unit tests.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <functional>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "nslab/error.hpp"
#include "nslab/signals.hpp"

namespace nslab::testing {

// The Error that fn throws, if any.
template <typename Fn>
std::optional<Error> error_from(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

// Tests that change process-wide state (the signal mask, the subreaper flag)
// run in a forked process, so the test binary is left as it was.
struct Forked {
  int status = -1;     // wait status of the forked process
  std::string report;  // what it said went wrong ("" if nothing)
};

// Runs body in a forked process; body returns "" on success, else what failed.
inline Forked run_forked(const std::function<std::string()>& body) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) == -1) return {-1, "pipe2 failed"};
  const pid_t pid = ::fork();
  if (pid == -1) return {-1, "fork failed"};
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(4);  // a hang fails the test instead of blocking the suite
    std::string report;
    try {
      report = body();
    } catch (const std::exception& e) {
      report = std::string("exception: ") + e.what();
    } catch (...) {
      report = "unknown exception";
    }
    std::size_t done = 0;
    while (done < report.size()) {
      const ssize_t n = ::write(fds[1], report.data() + done, report.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(report.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  Forked result;
  std::array<char, 1024> buffer{};
  ssize_t got = 0;
  while ((got = ::read(fds[0], buffer.data(), buffer.size())) > 0) {
    result.report.append(buffer.data(), static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  while (::waitpid(pid, &result.status, 0) == -1 && errno == EINTR) {
  }
  return result;
}

inline ::testing::AssertionResult Passed(const Forked& forked) {
  if (forked.status != -1 && WIFEXITED(forked.status) && WEXITSTATUS(forked.status) == 0) {
    return ::testing::AssertionSuccess();
  }
  if (!forked.report.empty()) return ::testing::AssertionFailure() << forked.report;
  if (forked.status != -1 && WIFSIGNALED(forked.status)) {
    return ::testing::AssertionFailure() << "the forked test was killed by " << signal_name(WTERMSIG(forked.status));
  }
  return ::testing::AssertionFailure() << "the forked test failed, wait status " << forked.status;
}

}  // namespace nslab::testing
