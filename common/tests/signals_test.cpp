// Signals: names, the forwarded set, blocking, and forwarding to a child.
//
// Whatever changes the signal mask or waits for children runs in a forked copy
// of the test process (run_forked), so the test binary is left as it was.

#include "nslab/signals.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <exception>
#include <functional>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "nslab/error.hpp"
#include "nslab/narrate.hpp"

namespace nslab {
namespace {

using testing::Passed;
using testing::run_forked;


std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by " + signal_name(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

sigset_t set_of(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : signals) sigaddset(&set, sig);
  return set;
}

sigset_t current_mask() {
  sigset_t mask;
  sigemptyset(&mask);
  ::sigprocmask(SIG_SETMASK, nullptr, &mask);
  return mask;
}

// Set in a forked child before it installs on_signal_exit.
volatile sig_atomic_t g_exit_code = 0;
void on_signal_exit(int /*sig*/) { ::_exit(g_exit_code); }

// Forks a child that exits with `code` when `sig` reaches it (and lives at most
// a few seconds otherwise); returns once its handler is installed.
pid_t fork_exit_on_signal(int sig, int code) {
  std::array<int, 2> ready{};
  if (::pipe2(ready.data(), O_CLOEXEC) == -1) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::alarm(3);
    g_exit_code = code;
    struct sigaction action {};
    action.sa_handler = on_signal_exit;
    ::sigaction(sig, &action, nullptr);
    const sigset_t just_sig = set_of({sig});
    ::sigprocmask(SIG_UNBLOCK, &just_sig, nullptr);  // the parent's block was inherited
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

// Replaces stderr with a pipe for the rest of a forked process; returns the read end.
int capture_stderr() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) == -1) return -1;
  ::dup2(fds[1], STDERR_FILENO);
  ::close(fds[1]);
  return fds[0];
}

std::string drain(int fd) {
  // Closes the write end first: fd 2 is the only one.
  ::close(STDERR_FILENO);
  std::string text;
  std::array<char, 1024> buffer{};
  ssize_t got = 0;
  while ((got = ::read(fd, buffer.data(), buffer.size())) > 0) text.append(buffer.data(), static_cast<std::size_t>(got));
  ::close(fd);
  return text;
}

TEST(SignalName, NamesAsKillDashLDoes) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signal_name(SIGUSR1), "SIGUSR1");
}

TEST(SignalName, UnnamedNumbersPrintAsNumbers) { EXPECT_EQ(signal_name(1000), "signal 1000"); }

TEST(ForwardedSignals, StartWithTheSixTheSpecNames) {
  const std::set<int> first(kForwardedSignals.begin(), kForwardedSignals.begin() + 6);
  EXPECT_EQ(first, (std::set<int>{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}));
  const std::set<int> forwarded(kForwardedSignals.begin(), kForwardedSignals.end());
  EXPECT_EQ(forwarded.size(), kForwardedSignals.size()) << "no signal twice";
}

// Every signal whose default action ends a process from outside must be taken
// by the runtime, or it would die before cleaning up (signal(7), "Standard signals").
TEST(ForwardedSignals, CoverEveryAsynchronousSignalThatWouldEndTheRuntime) {
  const std::set<int> forwarded(kForwardedSignals.begin(), kForwardedSignals.end());
  const std::set<int> not_taken = {SIGKILL, SIGSTOP,                                    // cannot be caught
                                   SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS,  // the runtime's own faults
                                   SIGPIPE,                                           // ignored: EPIPE instead
                                   SIGCHLD, SIGCONT, SIGURG, SIGWINCH,                // default: ignore or go on
                                   SIGTSTP, SIGTTIN, SIGTTOU};                        // default: stop
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    if (::sigabbrev_np(sig) == nullptr) continue;  // numbers glibc keeps for itself
    EXPECT_NE(forwarded.count(sig) + not_taken.count(sig), 0U) << signal_name(sig) << " is neither forwarded nor known to be safe";
  }
}

TEST(ForwardedSignals, WaitedSetIsThemPlusSigchldAndNothingElse) {
  const sigset_t set = forwarded_signals_and_sigchld();
  std::set<int> expected(kForwardedSignals.begin(), kForwardedSignals.end());
  expected.insert(SIGCHLD);
  for (int sig = 1; sig < NSIG; ++sig) {
    EXPECT_EQ(sigismember(&set, sig) == 1, expected.count(sig) == 1) << signal_name(sig);
  }
}

TEST(BlockSignals, AddsToTheMaskAndReturnsThePreviousOne) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    const sigset_t none = set_of({});
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    const sigset_t before_usr1 = block_signals(set_of({SIGUSR1}));
    if (sigisemptyset(&before_usr1) == 0) return "the first block_signals did not return the empty mask before it";
    sigset_t now = current_mask();
    if (sigismember(&now, SIGUSR1) != 1) return "SIGUSR1 is not blocked after block_signals";

    const sigset_t before_usr2 = block_signals(set_of({SIGUSR2}));
    if (sigismember(&before_usr2, SIGUSR1) != 1) return "the returned mask lacks SIGUSR1, blocked before";
    if (sigismember(&before_usr2, SIGUSR2) == 1) return "the returned mask has SIGUSR2, blocked only now";
    now = current_mask();
    if (sigismember(&now, SIGUSR1) != 1) return "block_signals replaced the mask instead of adding to it";
    if (sigismember(&now, SIGUSR2) != 1) return "SIGUSR2 is not blocked";
    return "";
  })));
}

TEST(ForwardSignalsUntilExit, ForwardsAPendingSignalAndReturnsTheChildsStatus) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    (void)block_signals(forwarded_signals_and_sigchld());
    const pid_t child = fork_exit_on_signal(SIGUSR1, 42);
    if (child == -1) return "could not start the child";
    const int err = capture_stderr();
    ::kill(::getpid(), SIGUSR1);  // blocked: pending until forward_signals_until_exit takes it
    Narrator narrator("test", true);
    const int status = forward_signals_until_exit(child, narrator);
    const std::string said = drain(err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 42) {
      return "expected the child to exit 42 from its SIGUSR1 handler, got " + describe_status(status);
    }
    const std::string line = "[test parent] got SIGUSR1: kill(" + std::to_string(child) + ", SIGUSR1)\n";
    if (said.find(line) == std::string::npos) return "narration lacks \"" + line + "\": " + said;
    return "";
  })));
}

TEST(ForwardSignalsUntilExit, ReturnsAtOnceForAChildThatAlreadyEnded) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    (void)block_signals(forwarded_signals_and_sigchld());
    const pid_t child = ::fork();
    if (child == 0) ::_exit(7);
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT);  // ended, not reaped
    Narrator narrator("test", false);
    const int status = forward_signals_until_exit(child, narrator);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 7) return "expected exit 7, got " + describe_status(status);
    return "";
  })));
}

TEST(ForwardSignalsUntilExit, ReapsOtherChildrenOnTheWay) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    (void)block_signals(forwarded_signals_and_sigchld());
    const pid_t orphan = ::fork();
    if (orphan == 0) ::_exit(0);
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(orphan), &info, WEXITED | WNOWAIT);
    const pid_t child = fork_exit_on_signal(SIGUSR2, 9);  // alive until SIGUSR2 comes
    if (child == -1) return "could not start the child";
    const int err = capture_stderr();
    ::kill(::getpid(), SIGUSR2);
    Narrator narrator("test", true);
    const int status = forward_signals_until_exit(child, narrator);
    const std::string said = drain(err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 9) return "expected exit 9, got " + describe_status(status);
    if (::waitpid(orphan, nullptr, WNOHANG) != -1 || errno != ECHILD) return "the other child was not reaped";
    const std::string line = "[test parent] reaped orphan " + std::to_string(orphan) + "\n";
    if (said.find(line) == std::string::npos) return "narration lacks \"" + line + "\": " + said;
    return "";
  })));
}

// The child counts the first `sig` in a handler and lives on; a helper sends
// the runtime a second one only after that: the runtime must answer SIGKILL.
std::string second_signal_sends_sigkill(int sig) {
  (void)block_signals(forwarded_signals_and_sigchld());
  std::array<int, 2> ready{};
  std::array<int, 2> got_first{};
  if (::pipe2(ready.data(), O_CLOEXEC) == -1 || ::pipe2(got_first.data(), O_CLOEXEC) == -1) return "pipe2 failed";
  static int s_notify_fd = -1;  // for the handler, in the child's copy of memory
  const pid_t runtime = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::alarm(3);
    s_notify_fd = got_first[1];
    struct sigaction action {};
    action.sa_handler = [](int) {
      const char byte = 's';
      if (::write(s_notify_fd, &byte, 1) != 1) ::_exit(2);
    };
    ::sigaction(sig, &action, nullptr);
    const sigset_t just_sig = set_of({sig});
    ::sigprocmask(SIG_UNBLOCK, &just_sig, nullptr);
    const char byte = 'r';
    if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  const pid_t helper = ::fork();
  if (helper == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char byte = 0;
    if (::read(ready[0], &byte, 1) != 1) ::_exit(1);
    ::kill(runtime, sig);
    if (::read(got_first[0], &byte, 1) != 1) ::_exit(1);  // the child has the first
    ::kill(runtime, sig);
    ::_exit(0);
  }
  for (const int fd : {ready[0], ready[1], got_first[0], got_first[1]}) ::close(fd);
  const int err = capture_stderr();
  Narrator narrator("test", true);
  const int status = forward_signals_until_exit(child, narrator);
  const std::string said = drain(err);
  (void)::waitpid(helper, nullptr, 0);  // unless it was reaped on the way
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    return "expected the child killed by SIGKILL after the second " + signal_name(sig) + ", got " +
           describe_status(status);
  }
  const std::string note = "(the second " + signal_name(sig) + ": SIGKILL cannot be ignored)";
  if (said.find(note) == std::string::npos) return "narration lacks \"" + note + "\": " + said;
  return "";
}

TEST(ForwardSignalsUntilExit, SecondSigtermSendsSigkill) {
  EXPECT_TRUE(Passed(run_forked([] { return second_signal_sends_sigkill(SIGTERM); })));
}

TEST(ForwardSignalsUntilExit, SecondSigintSendsSigkill) {
  EXPECT_TRUE(Passed(run_forked([] { return second_signal_sends_sigkill(SIGINT); })));
}

TEST(ForwardSignalsUntilExit, WithoutChildrenThrowsEchild) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    (void)block_signals(forwarded_signals_and_sigchld());
    Narrator narrator("test", false);
    try {
      (void)forward_signals_until_exit(0x7fffffff, narrator);
    } catch (const Error& e) {
      if (e.errnum() != ECHILD) return std::string("expected ECHILD, got: ") + e.what();
      return "";
    }
    return "forward_signals_until_exit returned without a child to wait for";
  })));
}

}  // namespace
}  // namespace nslab
