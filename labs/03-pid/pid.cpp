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
  // TODO(lab 03): implement the clone flag that gives the child a new PID namespace.
  // Read docs/{en,zh}/lab03-pid.md#lab03-flag, then replace the line below with your code.
  throw nslab::Todo("03", "the clone flag that gives the child a new PID namespace", "docs/{en,zh}/lab03-pid.md#lab03-flag");
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

  // TODO(lab 03): implement the init: fork COMMAND as PID 2, forward signals to it, reap every child, return COMMAND's status.
  // Read docs/{en,zh}/lab03-pid.md#lab03-init, then replace the line below with your code.
  throw nslab::Todo("03", "the init: fork COMMAND as PID 2, forward signals to it, reap every child, return COMMAND's status", "docs/{en,zh}/lab03-pid.md#lab03-init");
}
//! [pid-init]

}  // namespace nslab
