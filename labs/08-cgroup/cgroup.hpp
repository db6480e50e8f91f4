/// @file cgroup.hpp
/// @brief Lab 08: a cgroup per container — `--memory`, `--pids`, `--cpus` — and a
/// cgroup namespace made once the child is in it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "04-mount/mount.hpp"
#include "07-setns/setns.hpp"
#include "08-cgroup/hierarchy.hpp"
#include "nslab/module.hpp"

namespace nslab {

/// @brief The smallest `--memory`: with less, the container is killed before
/// COMMAND has even started.
inline constexpr std::uint64_t kMinMemory = std::uint64_t{1} << 20;
/// @brief The largest `--memory` taken (2^62 bytes): beyond, the kernel's
/// page counters overflow.
inline constexpr std::uint64_t kMaxMemory = std::uint64_t{1} << 62;

/// @brief Parses `--memory`: bytes, or a number with K, M or G (powers of 1024;
/// k, m, g too), from kMinMemory to kMaxMemory.
/// @throws UsageError: empty, not a number, another suffix, out of range.
std::uint64_t parse_memory(std::string_view text);

/// @brief Parses `--pids`: a number of tasks from 1 to kPidMaxLimit.
std::uint64_t parse_pids(std::string_view text);

/// @brief Parses `--cpus`: a decimal fraction of CPUs (`0.5`, `2`, `1.25`), from
/// 0.01 to @p online CPUs, at most five decimals.
/// @return the CPU time allowed per kCpuPeriodUs, in microseconds (0.5: 50000).
std::uint64_t parse_cpus(std::string_view text, unsigned online);

/// @brief Lab 08's module: the container's cgroup, made by the parent while the
/// child waits, and the child's cgroup namespace, made after the move.
class CgroupNamespace : public Module {
 public:
  /// @param mnt lab 04's module: with `--rootfs`, the container's own cgroup
  /// tree is mounted in the new root's /sys/fs/cgroup.
  explicit CgroupNamespace(const MountNamespace& mnt) : mnt_(mnt) {}

  [[nodiscard]] std::string_view name() const override { return "cgroup"; }
  void add_options(cli::Parser& parser) override;
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] int unshare_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void prepare(Context& ctx) override;
  void check_privilege(const Context& ctx) const override;
  void setup_outside(Context& ctx) override;
  void setup_inside(Context& ctx) override;
  std::string teardown(Context& ctx) noexcept override;

 private:
  const MountNamespace& mnt_;
  Limits limits_;
  std::string memory_arg_, pids_arg_, cpus_arg_;  // as given, for the messages
  std::unique_ptr<Cgroup> cgroup_;  // none: no cgroup this user may write, and no limit asked
  std::string no_cgroup_warning_;   // why there is none, said by check_privilege() ("": nothing to say)
};

/// @brief Lab 07's `--enter`, which also moves the joining process into the
/// container's cgroup before it joins the namespaces: a joined COMMAND is
/// limited like the container's own processes, and counts against `--pids`.
class EnterContainerWithCgroup : public EnterContainer {
 protected:
  void before_joining(pid_t target, const Narrator& narrator) override;
};

}  // namespace nslab
