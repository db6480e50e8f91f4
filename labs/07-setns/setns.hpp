/// @file setns.hpp
/// @brief Lab 07: joining a running container — setns(2) with the files of
/// /proc/PID/ns, and `--pid-file` so that a second terminal knows whom to join.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/fd.hpp"
#include "nslab/module.hpp"
#include "nslab/namespaces.hpp"

namespace nslab {

/// @brief The largest PID Linux can give (PID_MAX_LIMIT, 2^22 on 64-bit kernels).
inline constexpr pid_t kPidMaxLimit = 4194304;

/// @brief Parses the value of `--enter`: a decimal PID from 1 to kPidMaxLimit.
/// @throws UsageError: empty, not only digits, 0, or too large.
pid_t parse_pid(std::string_view text);

/// @brief The kinds of namespace, in the order they are joined: the user
/// namespace first (it is tried first or last: see join_namespaces()), the
/// mount namespace last but for nothing.
const std::vector<std::string_view>& join_order();

/// @brief One namespace of the target that differs from the caller's, opened.
struct TargetNamespace {
  std::string_view kind;  ///< "uts", as in /proc/PID/ns
  int clone_flag = 0;     ///< CLONE_NEWUTS: setns(2)'s nstype, checked against the fd
  UniqueFd fd;            ///< /proc/PID/ns/KIND, open
  NamespaceId ours;       ///< the caller's namespace of that kind
  NamespaceId theirs;     ///< the target's (from fstat(2) of fd)
  bool joined = false;
};

/// @brief Everything of the target process that joining takes, opened at once
/// while the caller still sees the host's /proc: its namespaces that differ
/// from the caller's, its root directory and its working directory.
struct JoinTarget {
  pid_t pid = 0;
  UniqueFd pidfd;  ///< pidfd_open(2): tells whether the target has exited since
  std::vector<TargetNamespace> namespaces;  ///< in join_order()
  UniqueFd root;   ///< /proc/PID/root, O_PATH
  UniqueFd cwd;    ///< /proc/PID/cwd, O_PATH
};

/// @brief Lab 07's module: `--enter PID` joins the container PID is in, instead
/// of creating one; `--pid-file FILE`, when creating one, writes the PID to join.
class EnterContainer : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "setns"; }
  void add_options(cli::Parser& parser) override;
  [[nodiscard]] bool joins() const override { return target_ != 0; }
  void prepare(Context& ctx) override;
  void setup_inside(Context& ctx) override;
  std::optional<int> run_command(Context& ctx, const ExecCommand& exec) override;
  void command_started(Context& ctx) override;
  std::string teardown(Context& ctx) noexcept override;

 protected:
  /// @brief Called in the joining process once the target's files are open and
  /// checked, before any namespace is joined (it still sees the host's /proc
  /// and /sys): lab 08 moves it into the container's cgroup here.
  virtual void before_joining(pid_t target, const Narrator& narrator) {
    (void)target;
    (void)narrator;
  }

 private:
  pid_t target_ = 0;        // --enter
  std::vector<NamespaceId> expected_;  // the target's namespaces as prepare() found them
  std::string pid_file_;    // --pid-file
  bool pid_file_written_ = false;
  struct stat pid_file_stat_ {};  // the file we wrote, so that teardown removes only that
};

}  // namespace nslab
