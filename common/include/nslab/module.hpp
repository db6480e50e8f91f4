/// @file module.hpp
/// @brief The shape every namespace (and cgroup) module of every lab takes, and
/// the contract between a module and the pipeline that runs it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/channel.hpp"
#include "nslab/cli.hpp"
#include "nslab/namespaces.hpp"
#include "nslab/narrate.hpp"

namespace nslab {

/// @brief What the pipeline knows about the container, shared by its modules.
struct Context {
  std::string program;               ///< the lab's name, e.g. "03-pid"
  std::vector<std::string> command;  ///< COMMAND [ARG...]
  Narrator narrator;                 ///< --verbose
  /// COMMAND's whole environment, NAME=VALUE each; nullopt: the caller's own.
  /// Lab 04 sets a small clean one with --rootfs (PITFALLS 19).
  std::optional<std::vector<std::string>> environment;
  int clone_flags = 0;    ///< every module's clone_flags(), combined: what clone(2) creates
  int unshare_flags = 0;  ///< every module's unshare_flags(), combined: created after GO
  pid_t child = -1;       ///< parent side: the container's first process, as the host sees it
  Channel* channel = nullptr;  ///< child side: its end of the parent/child channel
  /// The runtime's own namespaces, read before clone, of every kind a module
  /// isolates: what the safety net compares the child's with.
  std::vector<NamespaceId> runtime_namespaces;
};

/// @brief Runs COMMAND: execve(2) it, or report why not and exit (126/127).
/// Never returns. Given to Module::run_command, which may call it in a fork.
using ExecCommand = std::function<void()>;

/// @brief The namespace a module works in, for the safety net: before the
/// module acts inside, the pipeline checks, in the child, that this namespace
/// really is new (its /proc/self/ns/KIND differs from the runtime's). Otherwise
/// the module's work would land on the host — a learner who writes
/// sethostname() but forgets CLONE_NEWUTS would rename the machine — so the
/// pipeline stops first, with exit status 125 and one line:
/// `01-uts: refusing to set the hostname: this process is still in the host's
/// uts namespace (clone_flags() asked for no CLONE_NEWUTS) — see SECTION`.
struct Isolation {
  std::string_view kind;     ///< as in /proc/PID/ns: "uts", "mnt", ...
  std::string_view action;   ///< what the module would do there: "set the hostname"
  std::string_view section;  ///< where the tutorial explains the flag
  bool after_go = false;     ///< created by unshare_flags() after GO, not by clone(2)
};

/// @brief One namespace (or cgroup) feature: what it asks of clone(2), what the
/// parent does from outside, what the child does inside.
///
/// ## The contract
///
/// The pipeline (run_container) calls each module's steps in the order the
/// lab's `main` lists the modules, and every step of one stage for every module
/// before the next stage:
///
/// | stage          | side   | steps                                               |
/// | -------------- | ------ | --------------------------------------------------- |
/// | command line   | parent | add_options(); then, after parsing, joins()         |
/// | plan           | parent | clone_flags(), unshare_flags() (may read options)   |
/// | prepare        | parent | prepare(): check values only                         |
/// | privilege      | parent | check_privilege(), after the pipeline's own check   |
/// | start          | both   | clone; the child closes inherited fds, arms its death signal, passes the safety net (isolation()), says READY |
/// | outside        | parent | setup_outside(), while the child waits              |
/// | inside         | child  | after GO: unshare(unshare_flags), the safety net again for those, then setup_inside() |
/// | run            | child  | run_command(), or a plain execve(2)                 |
/// | supervise      | parent | once the child says EXEC, command_started(); then signals forwarded to the container until it ends |
/// | teardown       | parent | teardown(), last module first                       |
///
/// Rules every module keeps:
/// - **List order is step order.** The user namespace module (lab 06) comes
///   first: every other namespace is created owned by it, and its ID maps must
///   be written before any other module acts from outside or inside.
/// - **Host resources and fds are created only once the child exists** — in
///   setup_outside() or setup_inside(), never in prepare(). By then signals are
///   blocked and the teardown guard stands, so Ctrl-C or an error at any moment
///   still reaches teardown(); and the child has closed every fd it inherited
///   (close_fds_except()), so an fd opened earlier would not reach it anyway.
///   Every fd a module opens is close-on-exec.
/// - **teardown() always runs, for every module** — on success, on every error,
///   on a signal, whether or not setup_outside() ran — after the child has been
///   reaped. So it must be idempotent and must undo only what exists. It must not
///   throw; what it could not undo it returns, and the pipeline prints that on
///   stderr (`05-net: left on the host: ...`); the exit status stays COMMAND's.
/// - **Errors are thrown as Error** (a starter's TODO throws Todo, even from
///   clone_flags()); the pipeline prints one line and exits 125. In the child
///   the pipeline sends the error to the parent instead. No exception crosses
///   clone(2) or fork(2).
/// - **A joining module** (lab 07's `--enter PID`) creates nothing: when its
///   joins() is true, the pipeline runs that module alone — no other module's
///   steps, so nothing renames or remounts the container being joined — and
///   refuses any other module's option given with it. Its child starts in the
///   host's namespaces (clone flags 0), joins the container's in setup_inside()
///   and forks COMMAND in run_command(); the runtime itself never leaves the host.
class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;
  virtual ~Module() = default;

  /// @brief The module's short name, as in /proc/PID/ns when it is a namespace.
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// @brief Command line: add this module's options to the lab's parser.
  virtual void add_options(cli::Parser& parser) { (void)parser; }
  /// @brief Command line: true when the options ask to join an existing
  /// container instead of creating one (lab 07). Then this module runs alone.
  [[nodiscard]] virtual bool joins() const { return false; }
  /// @brief Plan: the CLONE_NEW* flags this module asks clone(2) for.
  [[nodiscard]] virtual int clone_flags() const { return 0; }
  /// @brief Plan: the CLONE_NEW* flags of namespaces the child must create
  /// later, with unshare(2) after GO — lab 08's cgroup namespace, which must be
  /// made once the child is in its cgroup, so that the cgroup is its root.
  [[nodiscard]] virtual int unshare_flags() const { return 0; }
  /// @brief The namespace this module works in, checked by the safety net.
  [[nodiscard]] virtual std::optional<Isolation> isolation() const { return std::nullopt; }
  /// @brief Prepare (parent): check option values. Creates nothing.
  virtual void prepare(Context& ctx) { (void)ctx; }
  /// @brief Privilege (parent): throw Error, one line that says what to do, when
  /// this module's work needs a privilege the runtime lacks (lab 05's `--veth`
  /// needs CAP_NET_ADMIN on the host; lab 08 a writable cgroup directory). The
  /// pipeline itself checks that the namespaces can be created.
  virtual void check_privilege(const Context& ctx) const { (void)ctx; }
  /// @brief Outside (parent): act on the child from outside, while it waits.
  virtual void setup_outside(Context& ctx) { (void)ctx; }
  /// @brief Inside (child): act inside the new namespaces, before exec.
  virtual void setup_inside(Context& ctx) { (void)ctx; }
  /// @brief Run (child): run COMMAND another way than a plain exec, e.g. under
  /// an init; return the child's exit status. nullopt: not this module's job.
  /// A module that forks COMMAND must close its own copy of ctx.channel once
  /// COMMAND is started: the parent sees end-of-file only when every copy is closed.
  virtual std::optional<int> run_command(Context& ctx, const ExecCommand& exec) {
    (void)ctx;
    (void)exec;
    return std::nullopt;
  }
  /// @brief Supervise (parent): COMMAND is starting — the child said EXEC, every
  /// module's work inside done. Lab 07 writes `--pid-file` here, so that whoever
  /// reads it joins a finished container, not one half set up.
  virtual void command_started(Context& ctx) { (void)ctx; }
  /// @brief Teardown (parent): undo what this module made on the host.
  /// @return what it could not undo ("" when nothing is left).
  virtual std::string teardown(Context& ctx) noexcept {
    (void)ctx;
    return {};
  }
};

}  // namespace nslab
