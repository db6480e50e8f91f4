/// @file module.hpp
/// @brief The shape every namespace (and cgroup) module of every lab takes.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/channel.hpp"
#include "nslab/cli.hpp"
#include "nslab/narrate.hpp"

namespace nslab {

/// @brief What the pipeline knows about the container, shared by its modules.
struct Context {
  std::string program;               ///< the lab's name, e.g. "03-pid"
  std::vector<std::string> command;  ///< COMMAND [ARG...]
  Narrator narrator;                 ///< --verbose
  pid_t child = -1;                  ///< parent side: the container's first process, as the host sees it
  Channel* channel = nullptr;        ///< child side: its end of the parent/child channel
  sigset_t exec_mask{};              ///< child side: the signal mask COMMAND must start with
};

/// @brief Runs COMMAND: execve(2) it, or report why not and exit (126/127).
/// Never returns. Given to Module::run_command, which may call it in a fork.
using ExecCommand = std::function<void()>;

/// @brief One namespace (or cgroup) feature: what it asks of clone(2), what the
/// parent does from outside, what the child does inside.
///
/// The pipeline (run_container) calls each module's steps in the order the lab's
/// `main` lists them:
///
/// 1. add_options()   — the lab's command line grows by this module's options;
/// 2. prepare()       — parent, before clone: check values, open what is needed;
/// 3. clone_flags()   — the CLONE_NEW* flags this module needs;
/// 4. setup_outside() — parent, after clone, while the child waits (uid_map,
///                      moving a veth in, joining a cgroup);
/// 5. setup_inside()  — child, in its new namespaces, before exec (sethostname,
///                      mounts, bringing `lo` up);
/// 6. run_command()   — child: a module may take over running COMMAND (an init);
/// 7. teardown()      — parent, after the container ended or failed: undo what
///                      setup_outside() made on the host.
///
/// Every step but teardown() may throw Error (a starter's TODO throws Todo, even
/// from clone_flags()); the pipeline turns it into one line and exit status 125.
/// Steps 5 and 6 run in the child, where the pipeline sends the error to the
/// parent instead.
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
  /// @brief Step 1: add this module's options to the lab's command line.
  virtual void add_options(cli::Parser& parser) { (void)parser; }
  /// @brief Step 2 (parent): check option values before anything is created.
  virtual void prepare(Context& ctx) { (void)ctx; }
  /// @brief Step 3: the CLONE_NEW* flags this module asks clone(2) for.
  [[nodiscard]] virtual int clone_flags() const { return 0; }
  /// @brief Step 4 (parent): act on the child from outside, while it waits.
  virtual void setup_outside(Context& ctx) { (void)ctx; }
  /// @brief Step 5 (child): act inside the new namespaces, before exec.
  virtual void setup_inside(Context& ctx) { (void)ctx; }
  /// @brief Step 6 (child): run COMMAND another way than a plain exec, e.g.
  /// under an init; return the child's exit status. nullopt: not this module's job.
  virtual std::optional<int> run_command(Context& ctx, const ExecCommand& exec) {
    (void)ctx;
    (void)exec;
    return std::nullopt;
  }
  /// @brief Step 7 (parent): undo host-side changes; must not throw.
  virtual void teardown(Context& ctx) noexcept { (void)ctx; }
};

}  // namespace nslab
