/// @file hierarchy.hpp
/// @brief Lab 08: the cgroup file system, behind one interface — cgroup v2 (one
/// hierarchy, every controller in it) and cgroup v1 (one hierarchy per controller).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/fd.hpp"
#include "nslab/narrate.hpp"

namespace nslab {

/// @brief Where the kernel's cgroup file systems are mounted.
inline constexpr std::string_view kCgroupMount = "/sys/fs/cgroup";

/// @brief How /sys/fs/cgroup is laid out (PITFALLS 9).
enum class CgroupLayout {
  v2,      ///< cgroup2 itself: one hierarchy with every controller (most machines today)
  hybrid,  ///< a tmpfs of v1 hierarchies, and a cgroup2 at unified/ without controllers
  v1,      ///< a tmpfs of v1 hierarchies only
};

/// @brief "cgroup v2", "hybrid (cgroup v1 controllers, cgroup2 at unified/)", "cgroup v1".
std::string_view layout_name(CgroupLayout layout);

/// @brief The layout, from statfs(2) of /sys/fs/cgroup and of its unified/.
/// @throws Error when no cgroup file system is mounted there.
CgroupLayout detect_layout();

/// @brief The limits a container asked for; each is optional.
struct Limits {
  std::optional<std::uint64_t> memory;        ///< bytes
  std::optional<std::uint64_t> pids;          ///< tasks
  std::optional<std::uint64_t> cpu_quota_us;  ///< CPU time per kCpuPeriodUs
  [[nodiscard]] bool any() const { return memory || pids || cpu_quota_us; }
};

/// @brief The period `--cpus` is a fraction of: 100 ms, the kernel's default.
inline constexpr std::uint64_t kCpuPeriodUs = 100000;

/// @brief What the kernel counted while the container ran: how often it hit a limit.
struct LimitEvents {
  std::uint64_t oom_kills = 0;     ///< processes killed for memory (memory.events oom_kill)
  std::uint64_t pids_refused = 0;  ///< forks refused (pids.events max)
};

/// @brief The cgroup path of process @p pid (0: this process) in one
/// hierarchy, as /proc/PID/cgroup shows it: "/" or "/user.slice/...";
/// "" when it has no such line. @p controller "" for cgroup v2's line
/// (`0::/path`), else a v1 controller ("memory" in `4:memory:/path`).
std::string cgroup_of(pid_t pid, std::string_view controller);

/// @brief The root, in its hierarchy, of the cgroup file system mounted at
/// @p mount, as this process sees it (the 4th field of /proc/self/mountinfo):
/// "/" unless this process is in a cgroup namespace of its own that did not
/// mount its own tree. Then the paths of /proc/self/cgroup are not the mount's.
std::string mount_root(const std::string& mount);

/// @brief Where a container's cgroups go: the highest ancestor of @p own, in the
/// hierarchy mounted at @p mount, that this user may write (the directory and its
/// cgroup.procs): for root the top of the hierarchy, for a user the top of the
/// subtree delegated to it. NSLAB_CGROUP_BASE, when set, names it instead.
/// @return the cgroup path ("/" or "/user.slice/..."), or nullopt: none writable.
std::optional<std::string> find_base(const std::string& mount, const std::string& own);

/// @brief One container's cgroup, on either version of the file system.
///
/// The parent makes it while the child waits (create, limit, add), and removes it
/// once the container has ended (kill, remove). Its directory is
/// BASE/nslab/NAME in each hierarchy; nslab/ is shared by every container and
/// removed by the last. The runtime holds each directory locked (flock(2)) for
/// its life: a directory whose lock is free belongs to a runtime that died, and
/// sweep() removes it.
class Cgroup {
 public:
  Cgroup() = default;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  Cgroup(Cgroup&&) = delete;
  Cgroup& operator=(Cgroup&&) = delete;
  virtual ~Cgroup() = default;

  /// @brief "v2" or "v1".
  [[nodiscard]] virtual std::string_view version() const = 0;
  /// @brief Throws Error, one line, when @p limits cannot be set here: a
  /// controller missing, or no directory this user may write. Creates nothing.
  virtual void check(const Limits& limits) const = 0;
  /// @brief Removes what runtimes killed before their teardown left in nslab/.
  virtual void sweep(const Narrator& narrator) = 0;
  /// @brief Makes the container's directories, controllers enabled for @p limits.
  virtual void create(const std::string& name, const Limits& limits, const Narrator& narrator) = 0;
  /// @brief Writes each limit to its file.
  virtual void limit(const Limits& limits, const Narrator& narrator) = 0;
  /// @brief Moves process @p pid (and so all it will fork) into the cgroup.
  virtual void add(pid_t pid, const Narrator& narrator) = 0;
  /// @brief What the kernel counted against the limits.
  [[nodiscard]] virtual LimitEvents events() const = 0;
  /// @brief Ends every process in the cgroup, removes its directories (and
  /// nslab/ when it is empty). @return what it could not remove, "" if nothing.
  virtual std::string remove(const Narrator& narrator) noexcept = 0;
  /// @brief The container's directories on the host, one per hierarchy.
  [[nodiscard]] virtual std::vector<std::string> directories() const = 0;
  /// @brief Inside the container, in its cgroup namespace: mounts its own cgroup
  /// tree at @p target (e.g. /sys/fs/cgroup of its root filesystem), read-only.
  virtual void mount_tree(const std::string& target, const Narrator& narrator) const = 0;
};

/// @brief The implementation for @p layout: v2 for cgroup v2; v1 (its memory,
/// pids and cpu hierarchies) for hybrid and v1.
std::unique_ptr<Cgroup> make_cgroup(CgroupLayout layout);

}  // namespace nslab
