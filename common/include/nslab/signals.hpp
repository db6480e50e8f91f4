/// @file signals.hpp
/// @brief Forwarding the runtime's signals to the container's PID 1.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <string>

#include "nslab/fd.hpp"

namespace nslab {

class Narrator;

/// @brief The signals a runtime passes on to its container, as docker does: the
/// six a user sends (SPEC), then every other one whose default action would end
/// the runtime from outside — a timer's, a resource limit's, a power event's,
/// `kill -ABRT` (abort(3) unblocks SIGABRT itself, so the runtime's own abort still works).
/// Left out: SIGKILL and SIGSTOP (they cannot be caught); the faults the kernel
/// raises for the runtime's own code (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
/// SIGSYS); SIGPIPE, which the runtime ignores so that writing to a closed pipe
/// fails with EPIPE instead of killing it before its cleanup; SIGCHLD, which it
/// waits for; and the real-time signals.
inline constexpr std::array<int, 15> kForwardedSignals = {
    SIGINT,  SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2, SIGABRT, SIGALRM,
    SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO,   SIGPWR,  SIGSTKFLT};

/// @brief kForwardedSignals plus SIGCHLD: what a runtime or an init waits for.
sigset_t forwarded_signals_and_sigchld() noexcept;

/// @brief "SIGTERM" for 15, as kill -l names it.
std::string signal_name(int sig);

/// @brief Sets every signal's action back to its default (SIG_DFL).
///
/// An ignored signal stays ignored across fork and execve(2) (signal(7)): a shell
/// starts background jobs with SIGINT and SIGQUIT ignored, and a caller may
/// ignore SIGCHLD, which makes the kernel reap children on its own so that
/// waitpid(2) never sees them (PITFALLS 16). The runtime resets SIGCHLD first
/// thing; the container's first process resets them all before COMMAND.
void reset_signal_dispositions() noexcept;

/// @brief A signalfd(2) for a set of blocked signals: poll(2) can wait for a
/// signal and a file descriptor at once.
class SignalFd {
 public:
  /// @brief A signalfd for @p set (which the caller has blocked), close-on-exec.
  /// @throws Error from signalfd(2).
  explicit SignalFd(const sigset_t& set);
  /// @brief The fd, for poll(2).
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  /// @brief Takes one pending signal without waiting: its number, or 0 if none.
  /// @throws Error from read(2).
  [[nodiscard]] int take() const;

 private:
  UniqueFd fd_;
};

/// @brief Blocks @p set (adding to the current mask) and returns the mask before.
///
/// Blocking before clone(2) closes a race: a signal that arrives while the child
/// is being set up stays pending until the runtime is ready to forward it. The
/// child inherits the blocked mask and unblocks every signal before execve(2).
/// The runtime never unblocks them again: it exits right after its container,
/// and a signal still pending then must not kill it with the wrong status.
/// @throws Error from sigprocmask(2).
sigset_t block_signals(const sigset_t& set);

/// @brief Waits for @p child, forwarding every signal in kForwardedSignals to it.
///
/// Signals must already be blocked (block_signals(forwarded_signals_and_sigchld())).
/// Other children (orphans re-parented to a subreaper) are reaped on the way.
/// A second SIGINT (or a second SIGTERM) sends SIGKILL instead: a PID 1 without
/// a handler ignores the first (pid_namespaces(7)), and a user who presses
/// Ctrl-C twice means it.
/// @return @p child's wait status.
int forward_signals_until_exit(pid_t child, Narrator& narrator);

}  // namespace nslab
