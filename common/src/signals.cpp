#include "nslab/signals.hpp"

#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "nslab/error.hpp"
#include "nslab/narrate.hpp"

namespace nslab {

sigset_t forwarded_signals_and_sigchld() noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : kForwardedSignals) sigaddset(&set, sig);
  sigaddset(&set, SIGCHLD);
  return set;
}

void reset_signal_dispositions() noexcept {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) (void)::signal(sig, SIG_DFL);
  }
}

SignalFd::SignalFd(const sigset_t& set)
    : fd_(static_cast<int>(check(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK), "signalfd"))) {}

int SignalFd::take() const {
  signalfd_siginfo info{};
  ssize_t got = 0;
  do {
    got = ::read(fd_.get(), &info, sizeof info);
  } while (got == -1 && errno == EINTR);
  if (got == -1 && errno == EAGAIN) return 0;
  if (got != static_cast<ssize_t>(sizeof info)) throw_errno("read(signalfd)");
  return static_cast<int>(info.ssi_signo);
}

sigset_t block_signals(const sigset_t& set) {
  sigset_t previous;
  check(::sigprocmask(SIG_BLOCK, &set, &previous), "sigprocmask(SIG_BLOCK)");
  return previous;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

int forward_signals_until_exit(pid_t child, Narrator& narrator) {
  const sigset_t waited = forwarded_signals_and_sigchld();
  int interrupts = 0;  // SIGINTs so far
  int terminations = 0;  // SIGTERMs so far
  for (;;) {
    // The child may have ended before we got here: look before waiting.
    int status = 0;
    pid_t reaped = 0;
    while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped == child) return status;
      narrator.say("reaped orphan " + std::to_string(reaped));
    }
    if (reaped == -1 && errno == ECHILD) throw Error(ECHILD, "waitpid(" + std::to_string(child) + ")");

    siginfo_t info{};
    if (::sigwaitinfo(&waited, &info) == -1) {
      if (errno == EINTR) continue;
      throw_errno("sigwaitinfo");
    }
    const int sig = info.si_signo;
    if (sig == SIGCHLD) continue;
    const bool again = (sig == SIGINT && ++interrupts > 1) || (sig == SIGTERM && ++terminations > 1);
    const int sent = again ? SIGKILL : sig;
    narrator.say("got " + signal_name(sig) + ": kill(" + std::to_string(child) + ", " +
                 signal_name(sent) + ")" +
                 (again ? " (the second " + signal_name(sig) + ": SIGKILL cannot be ignored)" : ""));
    if (::kill(child, sent) == -1 && errno != ESRCH) throw_errno("kill(" + std::to_string(child) + ")");
  }
}

}  // namespace nslab
