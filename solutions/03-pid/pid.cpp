// Lab 03 — the PID namespace, and the duties of PID 1.
//
// A new PID namespace numbers its processes from 1. The first process clone(2)
// creates in it is its PID 1, its "init", and the kernel treats it as init
// (pid_namespaces(7)):
//   * orphans in the namespace are re-parented to it, so it must reap them, or
//     they stay zombies;
//   * it gets only the signals it has a handler for — even from root on the
//     host, SIGKILL and SIGSTOP aside — so `sleep` as PID 1 ignores SIGTERM;
//   * when it exits, the kernel kills every other process in the namespace.
// The host still sees every one of these processes, under its own numbers.

#include "03-pid/pid.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "nslab/error.hpp"
#include "nslab/exit_status.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"

namespace nslab {
namespace {

// "NSpid: 4242 1": the process's PID in each PID namespace it is in, from the
// host's outward to its own (proc(5)).
std::string read_nspid(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NSpid:", 0) == 0) {
      std::string pids = line.substr(6);
      for (char& c : pids) c = c == '\t' ? ' ' : c;
      return pids;
    }
  }
  return "?";
}

}  // namespace

void PidNamespace::add_options(cli::Parser& parser) {
  parser.add_flag("init", 0,
                  "run a minimal init as PID 1: it runs COMMAND as PID 2, forwards signals "
                  "to it and reaps orphans",
                  init_);
}

//! [pid-flag]
int PidNamespace::clone_flags() const {
  // >>> lab 03: the clone flag that gives the child a new PID namespace | docs/{en,zh}/lab03-pid.md#lab03-flag
  // clone(2): with CLONE_NEWPID the child is the first process of a new PID
  // namespace — its PID 1. (unshare(CLONE_NEWPID) would move only future
  // children there: the caller keeps its PID. PITFALLS 3.)
  return CLONE_NEWPID;
  // <<< lab 03
}
//! [pid-flag]

std::optional<Isolation> PidNamespace::isolation() const {
  return Isolation{"pid", "make COMMAND the first process of its own PID namespace",
                   "docs/{en,zh}/lab03-pid.md#lab03-flag"};
}

void PidNamespace::setup_outside(Context& ctx) {
  if (!ctx.narrator.enabled()) return;  // only told: no need to read /proc/PID/status otherwise
  ctx.narrator.say("the container's first process has PIDs" + read_nspid(ctx.child) +
                   " (NSpid in /proc/" + std::to_string(ctx.child) + "/status: the host's, then its own)");
}

void PidNamespace::setup_inside(Context& ctx) {
  ctx.narrator.say("getpid() = " + std::to_string(::getpid()) + " inside the new PID namespace");
}

std::optional<int> PidNamespace::run_command(Context& ctx, const ExecCommand& exec) {
  if (!init_) return std::nullopt;  // COMMAND itself becomes PID 1
  return run_init(ctx, exec);
}

//! [pid-init]
int run_init(Context& ctx, const ExecCommand& exec) {
  ctx.narrator.set_side("init");
  set_process_title("nslab-init");  // how `ps` shows PID 1, not the runtime's arguments
  // With a clean environment for COMMAND (lab 04's --rootfs), /proc/1/environ
  // must not show the caller's: the init is a fork of the runtime.
  if (ctx.environment) erase_environment_block();

  // >>> lab 03: the init: fork COMMAND as PID 2, forward signals to it, reap every child, return COMMAND's status | docs/{en,zh}/lab03-pid.md#lab03-init
  const pid_t command = ::fork();
  if (command == -1) throw_errno("fork");
  if (command == 0) exec();  // PID 2: becomes COMMAND (or reports why not and exits)

  // Our copy of the channel closes now: PID 2 says EXEC on its own copy, which
  // its execve closes, and a channel to the runtime must not stay open inside
  // the container, where any of its processes could write to it.
  ctx.channel->close();
  ctx.narrator.say("running COMMAND as PID " + std::to_string(command));

  // The signals are blocked (the runtime blocked them before clone), so they
  // wait for us here instead of hitting PID 1's default actions.
  const sigset_t waited = forwarded_signals_and_sigchld();
  for (;;) {
    // Reap every child that has ended: COMMAND, or an orphan re-parented to us.
    int status = 0;
    pid_t reaped = 0;
    while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped == command) {
        ctx.narrator.say("COMMAND ended; exiting, and the kernel ends the rest of the namespace");
        return exit_code_from_wait_status(status);
      }
      ctx.narrator.say("reaped orphan PID " + std::to_string(reaped));
    }
    siginfo_t info{};
    if (::sigwaitinfo(&waited, &info) == -1) {
      if (errno == EINTR) continue;
      throw_errno("sigwaitinfo");
    }
    const int sig = info.si_signo;
    if (sig == SIGCHLD) continue;
    // Ctrl-C and Ctrl-\ at a terminal reach a whole foreground process group,
    // not one process: `sh -c 'a; b'` waits for `a` to end before it acts on
    // SIGINT, so SIGINT for PID 2 alone would be lost. kill(-1) from PID 1
    // reaches every process of this PID namespace but PID 1 (kill(2)). Other
    // signals go to COMMAND alone: SIGHUP or SIGUSR1 may mean "reload" to it and
    // "die" to its helpers.
    const bool to_all = sig == SIGINT || sig == SIGQUIT;
    ctx.narrator.say("forwarding " + signal_name(sig) +
                     (to_all ? " to every process of the container (kill(-1))" : " to PID " + std::to_string(command)));
    (void)::kill(to_all ? -1 : command, sig);
  }
  // <<< lab 03
}
//! [pid-init]

}  // namespace nslab
