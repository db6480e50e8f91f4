#include "nslab/runtime.hpp"

#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include "nslab/channel.hpp"
#include "nslab/error.hpp"
#include "nslab/exit_status.hpp"
#include "nslab/fd.hpp"
#include "nslab/namespaces.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"

namespace nslab {
namespace {

using Modules = std::vector<Module*>;

constexpr int kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET |
                                CLONE_NEWUSER | CLONE_NEWCGROUP;

// One line on stderr, whatever it holds: control bytes escaped, length capped.
// POINTER, after the cap, names the entry of the troubleshooting page.
void report(const std::string& program, const std::string& message, const std::string& pointer = {}) {
  const std::string line = program + ": " + printable(message, 1000) + pointer + "\n";
  (void)::write(STDERR_FILENO, line.data(), line.size());
}

// An error's line, with the troubleshooting page's entry for it when there is one.
void report(const std::string& program, const Error& error) {
  report(program, error.what(), troubleshooting_pointer(error.errnum(), error.context()));
}

// ---------------------------------------------------------------------------
// The child: everything from clone() to execve(). No exception leaves it.

// The last step of the child: become COMMAND. Only returns by _exit().
[[noreturn]] void exec_command(Context& ctx) {
  ctx.narrator.say("execvp(" + quoted(ctx.command.front()) + "), getpid() = " + std::to_string(::getpid()));
  // COMMAND starts with every signal at its default action, whatever the
  // runtime inherited (PITFALLS 16) — SIGPIPE included, which the runtime and
  // this child ignore so that a narration line to a closed pipe cannot kill
  // them — and with no signal blocked, whatever the caller blocked: the
  // signals the runtime forwards must reach it.
  reset_signal_dispositions();
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv;
  argv.reserve(ctx.command.size() + 1);
  for (std::string& word : ctx.command) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (ctx.environment) {
    // execvp searches COMMAND in *our* PATH: the container's must be in place.
    for (std::string& entry : *ctx.environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    environ = envp.data();
  }
  try {
    ctx.channel->send(MessageKind::exec);
  } catch (const Error& e) {
    // EPIPE: the runtime is gone, and nobody is left to tell. Any other error
    // is told, as a failed step's. Either way COMMAND must not run without it.
    if (e.errnum() != EPIPE && e.errnum() != ECONNRESET) {
      try {
        ctx.channel->send(MessageKind::failed, e.errnum(), e.context(), e.hint());
      } catch (...) {
      }
    }
    ::_exit(kExitRuntimeFailed);
  } catch (...) {
    ::_exit(kExitRuntimeFailed);
  }
  ::execvp(argv.front(), argv.data());
  const int saved = errno;
  try {
    ctx.channel->send(MessageKind::exec_failed, saved, "exec " + quoted(ctx.command.front()));
  } catch (...) {
    // The parent is gone: nobody is left to tell.
  }
  ::_exit(exit_code_for_exec_errno(saved));
}

// The safety net (Isolation): every namespace a module works in must be new —
// its identity must differ from the runtime's — before the module acts.
void check_isolation(const Context& ctx, const Modules& modules, bool after_go) {
  std::vector<Isolation> checked;
  std::vector<std::string_view> kinds;
  for (const Module* module : modules) {
    const std::optional<Isolation> isolation = module->isolation();
    if (!isolation || isolation->after_go != after_go) continue;
    checked.push_back(*isolation);
    kinds.push_back(isolation->kind);
  }
  const std::vector<NamespaceId> ours = read_namespace_ids(0, kinds);
  for (std::size_t i = 0; i < checked.size(); ++i) {
    const Isolation* isolation = &checked[i];
    const NamespaceId& mine = ours[i];
    for (const NamespaceId& runtime : ctx.runtime_namespaces) {
      if (runtime != mine) continue;
      const auto kind = namespace_kind(isolation->kind);
      const std::string flag = kind ? clone_flags_to_string(static_cast<unsigned>(kind->clone_flag)) : "?";
      throw Error(0, "refusing to " + std::string(isolation->action) + ": this process is still in the host's " +
                         std::string(isolation->kind) + " namespace (" +
                         (after_go ? "unshare_flags()" : "clone_flags()") + " asked for no " + flag +
                         ") \u2014 see " + std::string(isolation->section));
    }
  }
}

// For a classroom: what the child made sure of before it says READY.
void narrate_ready(const Context& ctx, const Modules& modules) {
  if (!ctx.narrator.enabled()) return;
  std::string kinds;
  int count = 0;
  for (const Module* module : modules) {
    if (const auto isolation = module->isolation(); isolation && !isolation->after_go) {
      kinds += (count++ == 0 ? "" : ", ") + std::string(isolation->kind);
    }
  }
  const std::string checked = count == 0   ? std::string()
                              : count == 1 ? ", checked that its " + kinds + " namespace is new"
                                           : ", checked that its " + kinds + " namespaces are new";
  ctx.narrator.say("closed the fds it inherited, armed PR_SET_PDEATHSIG" + checked + ": READY");
}

int child_main(Context& ctx, const Modules& modules, Channel& channel) noexcept {
  ctx.narrator.set_side("child");
  ctx.channel = &channel;
  try {
    // Only the channel stays open: the parent's end (whose copy would hide the
    // parent's death from us), the runtime's signalfd and whatever the caller
    // left open (PITFALLS 15) are closed before any module runs.
    close_fds_except(channel.fd());
    // If the runtime dies, the container dies with it — checked after arming,
    // for a runtime that died before (PITFALLS 13).
    if (!die_with_parent(channel)) return kExitRuntimeFailed;
    check_isolation(ctx, modules, false);
    narrate_ready(ctx, modules);
    channel.send(MessageKind::ready);
    if (channel.receive().kind != MessageKind::go) return kExitRuntimeFailed;

    if (ctx.unshare_flags != 0) {
      const std::string call = "unshare(" + clone_flags_to_string(static_cast<unsigned>(ctx.unshare_flags)) + ")";
      const std::string before = ctx.narrator.enabled() ? describe_namespaces(0, ctx.unshare_flags) : "";
      if (::unshare(ctx.unshare_flags) == -1) {
        const int saved = errno;
        throw Error(saved, call, explain_clone_errno(saved, ctx.unshare_flags));
      }
      ctx.narrator.say(call + ": " + before + " (host) -> " + describe_namespaces(0, ctx.unshare_flags) +
                       " (container)");
    }
    check_isolation(ctx, modules, true);
    for (Module* module : modules) module->setup_inside(ctx);

    const ExecCommand exec = [&ctx] { exec_command(ctx); };
    for (Module* module : modules) {
      if (const auto status = module->run_command(ctx, exec)) return *status;
    }
    exec();
  } catch (const Error& e) {
    try {
      channel.send(MessageKind::failed, e.errnum(), e.context(), e.hint());
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

// ---------------------------------------------------------------------------
// The parent: the stages of one container.

// Is any child left, ended or not? waitid(2) with WNOWAIT reaps none, and
// says ECHILD when there is none at all: then there is no list to read in /proc.
bool has_children() noexcept {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

// What the child said, or the forwarded signal that came first.
struct Reply {
  Message message;
  int signal = 0;
};

Context make_context(const std::string& program) {
  Context ctx{.program = program, .command = {}, .narrator = Narrator(program, false), .environment = {},
              .runtime_namespaces = {}};
  return ctx;
}

class Pipeline {
 public:
  Pipeline(const Lab& lab, Modules modules) : lab_(lab), modules_(std::move(modules)) {}
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  Pipeline(Pipeline&&) = delete;
  Pipeline& operator=(Pipeline&&) = delete;

  // Stage "teardown": every module's, last module first, however the stages
  // were left — once the command line is parsed, whatever failed after it. By
  // then run() has killed and reaped the child.
  ~Pipeline() {
    if (!parsed_) return;
    for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) {
      const std::string leak = (*it)->teardown(ctx_);
      if (!leak.empty()) report(ctx_.program, Error(0, "left on the host: " + leak));
    }
  }

  // Stage "command line": the lab's own options plus each module's. A joining
  // module then runs alone. Returns false after --help.
  bool parse_command_line(const std::vector<std::string>& args) {
    bool verbose = false;
    cli::Parser parser(lab_.program, lab_.summary);
    parser.add_flag("verbose", 'v', "tell each step on stderr (for a classroom)", verbose);
    std::vector<std::vector<std::string>> options_of;  // the options each module added
    for (Module* module : modules_) {
      const std::size_t before = parser.option_names().size();
      module->add_options(parser);
      const std::vector<std::string> names = parser.option_names();
      options_of.emplace_back(names.begin() + static_cast<std::ptrdiff_t>(before), names.end());
    }
    if (!lab_.epilog.empty()) parser.add_epilog(lab_.epilog);
    const cli::ParseResult parsed = parser.parse(args);
    if (parsed.help) {
      std::cout << parser.usage() << std::flush;
      if (!std::cout) throw Error(errno, "--help: writing the usage to stdout");
      return false;
    }
    ctx_.command = parsed.command;
    ctx_.narrator = Narrator(lab_.program, verbose);
    join_if_asked(parsed.given, options_of);
    parsed_ = true;
    return true;
  }

  // Stage "plan": the namespaces to create, and the privilege they need.
  void plan() {
    for (const Module* module : modules_) {
      ctx_.clone_flags |= module->clone_flags();
      ctx_.unshare_flags |= module->unshare_flags();
    }
  }

  void prepare() {
    for (Module* module : modules_) module->prepare(ctx_);
  }

  void check_privilege() const {
    const std::string problem = namespace_privilege_problem(ctx_.clone_flags, ctx_.unshare_flags,
                                                            has_effective_capability(CAP_SYS_ADMIN));
    if (!problem.empty()) throw Error(0, problem);
    for (const Module* module : modules_) module->check_privilege(ctx_);
  }

  // Stage "start" through "teardown".
  int run() {
    // Signals are held back from here on: forwarded to COMMAND once it runs,
    // or ending the start-up cleanly before that (design-signals).
    (void)block_signals(forwarded_signals_and_sigchld());
    const SignalFd signals(forwarded_signals_and_sigchld());
    become_subreaper();
    record_runtime_namespaces();
    if (joining_) {
      ctx_.narrator.say("joining an existing container: only the " + std::string(modules_.front()->name()) +
                        " module runs");
    }
    auto channels = Channel::create_pair();
    Channel& channel = channels.first;      // the parent's end
    Channel& child_end = channels.second;  // the child's; closed here after clone

    // Start: the child begins in its new namespaces and says READY.
    ctx_.narrator.say("clone(" + clone_flags_to_string(static_cast<unsigned>(ctx_.clone_flags | SIGCHLD)) + ")");
    ChildProcess child = clone_process(ctx_.clone_flags, [this, &child_end] {
      return child_main(ctx_, modules_, child_end);
    });
    ctx_.child = child.pid();
    child_end.close();
    ctx_.narrator.say("  = " + std::to_string(ctx_.child) +
                      (joining_ ? " (the joining process: it starts in our namespaces)"
                                : " (the container's first process, as the host numbers it)"));
    Reply reply = await(channel, signals);
    if (reply.signal != 0) return stopped_by(reply.signal, child);
    if (reply.message.kind != MessageKind::ready) return child_failed(child, reply.message, "before it was ready");
    narrate_namespaces();

    // Outside, then GO: the child unshares what comes late, sets up inside, execs.
    for (Module* module : modules_) module->setup_outside(ctx_);
    try {
      channel.send(MessageKind::go);
    } catch (const Error& e) {
      // The child died while we worked outside: say how, as for a silent end.
      if (e.errnum() != EPIPE && e.errnum() != ECONNRESET) throw;
      return child_failed(child, Message{}, "before COMMAND started");
    }
    reply = await(channel, signals);
    if (reply.signal != 0) return stopped_by(reply.signal, child);
    if (reply.message.kind != MessageKind::exec) return child_failed(child, reply.message, "before COMMAND started");
    // The child is in execve(2). Its end of the channel is close-on-exec, and
    // every other copy is closed by now (Module::run_command): end-of-file
    // means COMMAND runs; should execve fail, the child says so first.
    reply = await(channel, signals);
    if (reply.signal != 0) return stopped_by(reply.signal, child);
    if (reply.message.kind != MessageKind::end_of_file) {
      return child_failed(child, reply.message, "while COMMAND started");
    }
    for (Module* module : modules_) module->command_started(ctx_);

    // Supervise: forward signals to COMMAND until it ends.
    ctx_.narrator.say(joining_ ? "COMMAND is running; waiting for the joining process, forwarding signals to it"
                               : "COMMAND is running; waiting for it, forwarding signals");
    const int status = forward_signals_until_exit(ctx_.child, ctx_.narrator);
    (void)child.release();
    const int code = exit_code_from_wait_status(status);
    // Without a PID namespace, COMMAND's background processes outlive it; as
    // their subreaper we end them, so the host keeps no process.
    if (const int killed = has_children() ? kill_all_children() : 0; killed > 0) {
      ctx_.narrator.say("killed " + std::to_string(killed) + " leftover process(es) of the container");
    }
    ctx_.narrator.say(std::string(joining_ ? "COMMAND ended" : "container ended") + ": exit status " +
                      std::to_string(code));
    return code;
  }

 private:
  // --enter PID (lab 07) creates nothing: no other module may act, so that
  // nothing renames or remounts the container being joined.
  void join_if_asked(const std::vector<std::string>& given, const std::vector<std::vector<std::string>>& options_of) {
    for (std::size_t joiner = 0; joiner < modules_.size(); ++joiner) {
      if (!modules_[joiner]->joins()) continue;
      for (std::size_t other = 0; other < modules_.size(); ++other) {
        if (other == joiner) continue;
        for (const std::string& option : options_of[other]) {
          if (std::find(given.begin(), given.end(), option) == given.end()) continue;
          throw UsageError("--" + option + " cannot be used when joining a container: joining creates nothing");
        }
      }
      modules_ = {modules_[joiner]};
      joining_ = true;
      return;
    }
  }

  void record_runtime_namespaces() {
    std::vector<std::string_view> kinds;
    for (const Module* module : modules_) {
      if (const auto isolation = module->isolation()) kinds.push_back(isolation->kind);
    }
    ctx_.runtime_namespaces = read_namespace_ids(0, kinds);
  }

  // Waits for the child's next message; a forwarded signal ends the wait first.
  [[nodiscard]] Reply await(const Channel& channel, const SignalFd& signals) const {
    for (;;) {
      std::array<pollfd, 2> fds{{{channel.fd(), POLLIN, 0}, {signals.fd(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) == -1) {
        if (errno == EINTR) continue;
        throw_errno("poll(channel, signalfd)");
      }
      // The child's word first: a signal not taken stays pending for COMMAND.
      if (fds[0].revents != 0) return Reply{channel.receive(), 0};
      const int sig = signals.take();
      if (sig != 0 && sig != SIGCHLD) return Reply{{}, sig};
    }
  }

  [[nodiscard]] int stopped_by(int sig, ChildProcess& child) const {
    ctx_.narrator.say("got " + signal_name(sig) + " before COMMAND started: ending the container");
    // The child ends now, and with it what it started that came to us, its
    // subreaper: lab 07's COMMAND, forked into the joined container and not
    // yet executed, dies of its death signal only a moment after its parent.
    child.kill_and_reap();
    (void)kill_all_children();
    return kExitSignalBase + sig;  // as if COMMAND had been killed by it
  }

  // The child said FAILED or EXEC_FAILED, or died without a word.
  int child_failed(ChildProcess& child, const Message& message, const std::string& when) {
    if (message.kind == MessageKind::failed) {
      (void)child.wait();
      throw Error(message.errnum, message.context, message.hint);
    }
    if (message.kind == MessageKind::exec_failed) {
      (void)child.wait();
      report(lab_.program, Error(message.errnum, message.context));
      return exit_code_for_exec_errno(message.errnum);
    }
    if (message.kind == MessageKind::end_of_file) {
      const int status = child.wait();
      // A forwarded signal sent straight to the child too (Ctrl-C reaches the
      // terminal's whole foreground group) ends the start as it ends the runtime.
      const sigset_t forwarded = forwarded_signals_and_sigchld();
      if (WIFSIGNALED(status) && sigismember(&forwarded, WTERMSIG(status)) == 1) return stopped_by(WTERMSIG(status), child);
      throw Error(0, first_process() + " " + describe_wait_status(status) + " " + when);
    }
    throw Error(EPROTO, first_process() + " sent " + message_name(message.kind) + " " + when);
  }

  // The runtime's child, as an error names it.
  [[nodiscard]] std::string first_process() const {
    return joining_ ? "the joining process" : "the container's first process";
  }

  // Tells, for a classroom, which namespaces the child has that the host has not.
  void narrate_namespaces() const {
    if (!ctx_.narrator.enabled() || ctx_.clone_flags == 0) return;
    if (const std::string problem = foreign_proc_problem(); !problem.empty()) {
      ctx_.narrator.say("  (no comparison of namespaces: " + problem + ")");
      return;
    }
    for (const NamespaceKind& kind : kNamespaceKinds) {
      if ((ctx_.clone_flags & kind.clone_flag) == 0) continue;
      try {
        const NamespaceId host = read_namespace_id(0, kind.name);
        const NamespaceId child = read_namespace_id(ctx_.child, kind.name);
        ctx_.narrator.say("  " + host.str() + " (host) -> " + child.str() + " (container)" +
                          (host == child ? "  SAME: not isolated!" : "  new"));
      } catch (const Error& e) {
        ctx_.narrator.say(std::string("  ") + e.what());
      }
    }
  }

  const Lab& lab_;
  Modules modules_;
  Context ctx_ = make_context(lab_.program);
  bool parsed_ = false;
  bool joining_ = false;  // a joining module runs alone (join_if_asked)
};

}  // namespace

std::string namespace_privilege_problem(int clone_flags, int unshare_flags, bool has_cap_sys_admin) {
  const int wanted = (clone_flags | unshare_flags) & kNamespaceFlags;
  if (wanted == 0 || has_cap_sys_admin || (clone_flags & CLONE_NEWUSER) != 0) return {};
  return "creating namespaces needs CAP_SYS_ADMIN: run it as root, or see lab 06-user for containers without root";
}

int run_container(const Lab& lab, std::initializer_list<Module*> modules, int argc, char* argv[]) noexcept {
  try {
    // Before anything opens a file: a closed fd 0-2 would be taken by it (PITFALLS 16).
    ensure_standard_fds_open();
    // An ignored SIGCHLD would make the kernel reap the container behind our back.
    (void)::signal(SIGCHLD, SIG_DFL);
    Pipeline pipeline(lab, Modules(modules));
    if (!pipeline.parse_command_line(std::vector<std::string>(argv + 1, argv + argc))) return 0;
    // From here on a closed pipe on stderr makes a write fail, instead of
    // killing the runtime before it can clean up (the child resets it).
    (void)::signal(SIGPIPE, SIG_IGN);
    pipeline.plan();
    pipeline.prepare();
    pipeline.check_privilege();
    return pipeline.run();
  } catch (const Error& e) {
    kill_all_children();
    report(lab.program, e);
  } catch (const std::exception& e) {
    kill_all_children();
    report(lab.program, e.what());
  } catch (...) {
    report(lab.program, "unexpected error");
  }
  return kExitRuntimeFailed;
}

}  // namespace nslab
