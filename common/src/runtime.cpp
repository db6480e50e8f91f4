#include "nslab/runtime.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <vector>

#include "nslab/channel.hpp"
#include "nslab/error.hpp"
#include "nslab/exit_status.hpp"
#include "nslab/namespaces.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"

namespace nslab {
namespace {

using Modules = std::initializer_list<Module*>;

void report(const std::string& program, const std::string& message) {
  const std::string line = program + ": " + message + "\n";
  (void)::write(STDERR_FILENO, line.data(), line.size());
}

// The last step of the child: become COMMAND. Only returns by _exit().
[[noreturn]] void exec_command(Context& ctx) {
  ::sigprocmask(SIG_SETMASK, &ctx.exec_mask, nullptr);
  std::vector<char*> argv;
  argv.reserve(ctx.command.size() + 1);
  for (std::string& word : ctx.command) argv.push_back(word.data());
  argv.push_back(nullptr);
  ctx.narrator.say("execvp(\"" + ctx.command.front() + "\"), getpid() = " + std::to_string(::getpid()));
  ::execvp(argv.front(), argv.data());
  const int saved = errno;
  try {
    ctx.channel->send(MessageKind::exec_failed, saved, "exec \"" + ctx.command.front() + "\"");
  } catch (...) {
    // The parent is gone: nobody is left to tell.
  }
  ::_exit(exit_code_for_exec_errno(saved));
}

// A container starts with every signal at its default action, whatever the
// runtime inherited: a shell starts background jobs with SIGINT and SIGQUIT
// ignored, and an ignored signal stays ignored across execve(2) (signal(7)).
void reset_signal_dispositions() noexcept {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) (void)::signal(sig, SIG_DFL);
  }
}

// The child: everything from clone() to execve(). No exception leaves it.
int child_main(Context& ctx, Modules modules, Channel& channel) noexcept {
  ctx.narrator.set_side("child");
  ctx.channel = &channel;
  try {
    // If the runtime dies, the container dies with it. The parent may already
    // have died before this line (PITFALLS 13); then GO never comes: the
    // receive below reads end-of-file and the child gives up.
    check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)");
    if (channel.receive().kind != MessageKind::go) return kExitRuntimeFailed;
    reset_signal_dispositions();

    for (Module* module : modules) module->setup_inside(ctx);

    const ExecCommand exec = [&ctx] { exec_command(ctx); };
    for (Module* module : modules) {
      if (const auto status = module->run_command(ctx, exec)) return *status;
    }
    exec();
  } catch (const Error& e) {
    try {
      channel.send(MessageKind::failed, e.errnum(), e.context());
    } catch (...) {
    }
  } catch (const std::exception& e) {
    try {
      channel.send(MessageKind::failed, 0, e.what());
    } catch (...) {
    }
  }
  return kExitRuntimeFailed;
}

// Tells, for a classroom, which namespaces the child has that the host has not.
void narrate_namespaces(const Context& ctx, int flags) {
  if (!ctx.narrator.enabled() || flags == 0) return;
  for (const NamespaceKind& kind : kNamespaceKinds) {
    if ((flags & kind.clone_flag) == 0) continue;
    try {
      const NamespaceId host = read_namespace_id(0, kind.name);
      const NamespaceId child = read_namespace_id(ctx.child, kind.name);
      ctx.narrator.say("  " + host.str() + " (host) -> " + child.str() + " (container)" +
                       (host == child ? "  SAME: not isolated!" : "  new"));
    } catch (const Error& e) {
      ctx.narrator.say(std::string("  ") + e.what());
    }
  }
}

// Runs every module's teardown, last module first, however the scope is left.
class TeardownGuard {
 public:
  TeardownGuard(Context& ctx, Modules modules) : ctx_(ctx), modules_(modules) {}
  TeardownGuard(const TeardownGuard&) = delete;
  TeardownGuard& operator=(const TeardownGuard&) = delete;
  ~TeardownGuard() {
    for (auto it = std::rbegin(modules_); it != std::rend(modules_); ++it) (*it)->teardown(ctx_);
  }

 private:
  Context& ctx_;
  Modules modules_;
};

int run(const Lab& lab, Modules modules, const std::vector<std::string>& args) {
  // 1. The command line: the lab's own options plus each module's.
  bool verbose = false;
  cli::Parser parser(lab.program, lab.summary);
  parser.add_flag("verbose", 'v', "tell each step on stderr (for a classroom)", verbose);
  for (Module* module : modules) module->add_options(parser);
  if (!lab.epilog.empty()) parser.add_epilog(lab.epilog);
  const cli::ParseResult parsed = parser.parse(args);
  if (parsed.help) {
    std::cout << parser.usage();
    return 0;
  }
  Context ctx{lab.program, parsed.command, Narrator(lab.program, verbose)};

  // 2. Privilege: creating any namespace but a user namespace needs CAP_SYS_ADMIN.
  if (lab.needs_root && !has_effective_capability(CAP_SYS_ADMIN)) {
    throw Error(0, "creating namespaces needs CAP_SYS_ADMIN: run it as root (sudo), or see lab 06-user for containers without root");
  }

  // 3. Each module checks its options before anything exists.
  for (Module* module : modules) module->prepare(ctx);
  int flags = 0;
  for (Module* module : modules) flags |= module->clone_flags();

  // 4. The channel, and signals held back until we can forward them.
  auto channels = Channel::create_pair();
  Channel& channel = channels.first;      // the parent's end
  Channel& child_end = channels.second;  // the child's; closed here after clone
  ctx.exec_mask = block_signals(forwarded_signals_and_sigchld());
  become_subreaper();

  // Declared before the child, so it runs after the child is killed and reaped.
  const TeardownGuard teardown(ctx, modules);

  // 5. clone(): the child starts in its new namespaces and waits for GO.
  ctx.narrator.say("clone(" + clone_flags_to_string(static_cast<unsigned>(flags | SIGCHLD)) + ")");
  ChildProcess child = clone_process(flags, [&ctx, modules, &child_end] {
    return child_main(ctx, modules, child_end);
  });
  ctx.child = child.pid();
  child_end.close();
  ctx.narrator.say("  = " + std::to_string(ctx.child) + " (the container's first process, as the host numbers it)");
  narrate_namespaces(ctx, flags);

  // 6. The parent's outside work, then GO, then wait for exec or an error.
  for (Module* module : modules) module->setup_outside(ctx);
  channel.send(MessageKind::go);
  const Message reply = channel.receive();
  if (reply.kind == MessageKind::failed) {
    (void)child.wait();
    throw Error(reply.errnum, reply.context);
  }
  if (reply.kind == MessageKind::exec_failed) {
    (void)child.wait();
    report(lab.program, Error(reply.errnum, reply.context).what());
    return exit_code_for_exec_errno(reply.errnum);
  }

  // 7. COMMAND runs. Forward signals to it until it ends.
  ctx.narrator.say("COMMAND is running; waiting for it, forwarding signals");
  const int status = forward_signals_until_exit(ctx.child, ctx.narrator);
  (void)child.release();
  // Without a PID namespace, COMMAND's background processes outlive it; as
  // their subreaper we end them, so the host keeps no process.
  if (const int killed = kill_all_children(); killed > 0) {
    ctx.narrator.say("killed " + std::to_string(killed) + " leftover process(es) of the container");
  }
  const int code = exit_code_from_wait_status(status);
  ctx.narrator.say("container ended: exit status " + std::to_string(code));
  return code;
}

}  // namespace

int run_container(const Lab& lab, Modules modules, int argc, char* argv[]) noexcept {
  try {
    return run(lab, modules, std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    kill_all_children();
    report(lab.program, e.what());
  } catch (...) {
    report(lab.program, "unexpected error");
  }
  return kExitRuntimeFailed;
}

}  // namespace nslab
