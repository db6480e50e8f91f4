// Lab 08 — the cgroup file system, version 2 and version 1.
//
// A cgroup is a directory. mkdir(2) makes one, a PID written to its
// cgroup.procs moves that process in (its children are born there), the files
// of a controller set its limits (memory.max, pids.max, cpu.max), and rmdir(2)
// removes it once no process is left. Nothing else: no library, no daemon.
//
// The two versions differ in where those directories are:
//   * cgroup v2 has one tree, mounted at /sys/fs/cgroup, and every controller
//     in it. A controller works in a cgroup only when its parent enabled it in
//     cgroup.subtree_control, and a cgroup that has processes may not enable
//     any for its children (the "no internal processes" rule, PITFALLS 8): so
//     the processes live in the leaves, here BASE/nslab/NAME.
//   * cgroup v1 has one tree per controller, /sys/fs/cgroup/memory,
//     /sys/fs/cgroup/pids, /sys/fs/cgroup/cpu: the container gets a directory
//     in each, and its PID is written to each.

#include "08-cgroup/hierarchy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "nslab/error.hpp"
#include "nslab/mounts.hpp"

namespace nslab {
namespace {

// --- files of the cgroup file system -----------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_errno("open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One write(2) of the whole text: the kernel reads a cgroup file's value from
// one write, and its errno is the answer (EINVAL: a bad value, EBUSY: a rule).
void write_file(const std::string& path, const std::string& text) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw_errno("open " + path);
  if (::write(fd.get(), text.data(), text.size()) == -1) throw_errno("write " + quoted(text) + " to " + path);
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The number after KEY in a flat-keyed file ("oom_kill 1\n"); 0 when absent.
std::uint64_t keyed_value(const std::string& path, std::string_view key) {
  std::ifstream in(path);
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

// "/a/b" in the hierarchy mounted at M is the directory M/a/b.
std::string directory_of(const std::string& mount, const std::string& cgroup) {
  return cgroup == "/" ? mount : mount + cgroup;
}

std::string parent_of(const std::string& cgroup) {
  const auto slash = cgroup.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : cgroup.substr(0, slash);
}

// May this user make a cgroup in DIR and move processes into it?
bool writable(const std::string& dir) {
  return ::access(dir.c_str(), W_OK) == 0 && ::access((dir + "/cgroup.procs").c_str(), W_OK) == 0;
}

std::vector<std::string> subdirectories(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* stream = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(stream)) {
      if (entry->d_type == DT_DIR && std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
        names.emplace_back(entry->d_name);
      }
    }
    ::closedir(stream);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<pid_t> processes_in(const std::string& dir) {
  std::vector<pid_t> pids;
  std::ifstream in(dir + "/cgroup.procs");
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// SIGKILL every process in DIR and the cgroups below it, until none is left
// (a process may fork while we read the list; PITFALLS 10). True when empty.
bool kill_listed(const std::string& dir) {
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    std::vector<std::string> dirs{dir};
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      for (const std::string& sub : subdirectories(dirs[i])) dirs.push_back(dirs[i] + "/" + sub);
      for (const pid_t pid : processes_in(dirs[i])) {
        any = true;
        (void)::kill(pid, SIGKILL);
      }
    }
    if (!any) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// v2's way: one write to cgroup.kill ends every process of the subtree at once,
// forks in flight included (Linux 5.14). Older kernels: one by one.
void kill_cgroup(const std::string& dir, bool has_kill_file) {
  if (has_kill_file && exists(dir + "/cgroup.kill")) {
    try {
      write_file(dir + "/cgroup.kill", "1");
      return;
    } catch (const Error&) {
      // below: the slow way still ends them
    }
  }
  (void)kill_listed(dir);
}

//! [cgroup-rmdir]
// rmdir(2) of a cgroup fails with EBUSY while a process is in it, and a moment
// after its last process exited, until the kernel has let go of it (PITFALLS
// 10): so try again, waiting twice as long each time, for about two seconds.
// The cgroups a container made below its own go first. "" when removed.
std::string remove_directory(const std::string& dir) noexcept {
  for (const std::string& sub : subdirectories(dir)) {
    if (std::string left = remove_directory(dir + "/" + sub); !left.empty()) return left;
  }
  auto wait = std::chrono::milliseconds(1);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt == 11) return dir + " (rmdir: " + std::strerror(errno) + ")";
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}
//! [cgroup-rmdir]

// The lock of a container's directory: held by its runtime for the
// container's life. Returns an fd holding it, or none when another holds it.
UniqueFd try_lock(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return {};
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == -1) return {};
  return fd;
}

// --- one directory per hierarchy -------------------------------------------------

// The container's directory in one hierarchy: MOUNT/BASE/nslab/NAME.
struct Directory {
  std::string mount;       // "/sys/fs/cgroup" (v2) or "/sys/fs/cgroup/memory" (v1)
  std::string controller;  // "" (v2) or "memory" (v1)
  std::optional<std::string> base;  // the cgroup path nslab/ goes in; nullopt: none writable
  std::string path;        // the directory, once made
  UniqueFd lock;

  [[nodiscard]] std::string nslab() const { return directory_of(mount, *base) + "/nslab"; }
};

Directory locate(const std::string& mount, const std::string& controller) {
  Directory dir{mount, controller, std::nullopt, {}, {}};
  dir.base = find_base(mount, own_cgroup(controller));
  return dir;
}

std::string option_of(std::string_view controller);
std::vector<std::string> controllers_for(const Limits& limits);

std::string no_base_message(const Directory& dir, const Limits& limits) {
  const std::vector<std::string> asked = controllers_for(limits);
  const std::string prefix = asked.empty() ? "" : option_of(asked[0]) + " needs a cgroup of the container's own, but there is ";
  std::string own;
  try {
    own = own_cgroup(dir.controller);
  } catch (const Error&) {
    own = "?";
  }
  return prefix + "no cgroup this user may write in " + dir.mount + " (this process is in " + own +
         ", which is not delegated to uid " + std::to_string(::geteuid()) +
         "): run it in a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes COMMAND, or as root";
}

// Sweeps DIR's nslab/: each directory whose lock is free was left by a runtime
// that was killed before its teardown (SIGKILL): end what is in it, remove it.
void sweep_directory(const Directory& dir, bool v2, const Narrator& narrator) {
  if (!dir.base) return;
  const std::string nslab = dir.nslab();
  for (const std::string& name : subdirectories(nslab)) {
    const std::string path = nslab + "/" + name;
    const UniqueFd lock = try_lock(path);
    if (!lock) continue;  // its runtime is alive
    kill_cgroup(path, v2);
    if (remove_directory(path).empty()) {
      narrator.say("swept " + path + ": left by a runtime that was killed (its lock was free)");
    }
  }
}

// Makes NSLAB/NAME (NAME.2, NAME.3 ... when taken) and locks it. The lock is
// taken on the directory we made; if a sweep removed it in between (it was
// empty and unlocked for a moment), it is made again.
std::string make_locked(const std::string& nslab, const std::string& name, UniqueFd& lock) {
  for (int suffix = 1; suffix < 100; ++suffix) {
    const std::string path = nslab + "/" + name + (suffix == 1 ? "" : "." + std::to_string(suffix));
    if (::mkdir(path.c_str(), 0755) == -1) {
      if (errno == EEXIST) continue;
      throw_errno("mkdir " + path);
    }
    lock = try_lock(path);
    if (lock && exists(path + "/cgroup.procs")) return path;
    lock.reset();
  }
  throw Error(0, "mkdir " + nslab + "/" + name + ": no free name");
}

// Removes DIR's container directory, and nslab/ when no other container uses it.
std::string remove_container_directory(Directory& dir, bool v2, const Narrator& narrator) noexcept {
  if (dir.path.empty()) return {};
  kill_cgroup(dir.path, v2);
  std::string left = remove_directory(dir.path);
  if (left.empty()) {
    narrator.say("removed " + dir.path);
    dir.path.clear();
    // Another container may be using nslab/: then it is not empty, and stays.
    if (::rmdir(dir.nslab().c_str()) == 0) narrator.say("removed " + dir.nslab() + ": no other container uses it");
  }
  dir.lock.reset();
  return left;
}

// Writes PID into DIR's cgroup.procs.
void add_to(const Directory& dir, pid_t pid, const Narrator& narrator) {
  // >>> lab 08: move the child into the container's cgroup: its PID into cgroup.procs | docs/{en,zh}/lab08-cgroup.md#lab08-move
  write_file(dir.path + "/cgroup.procs", std::to_string(pid));
  // <<< lab 08
  narrator.say("wrote " + std::to_string(pid) + " to " + dir.path + "/cgroup.procs: the child is in the cgroup");
}

// A limit's file: written, and said.
void set(const std::string& dir, const std::string& file, const std::string& value, const Narrator& narrator) {
  write_file(dir + "/" + file, value);
  narrator.say("wrote " + value + " to " + dir + "/" + file);
}

// --- cgroup v2 -------------------------------------------------------------------

std::vector<std::string> controllers_for(const Limits& limits) {
  std::vector<std::string> names;
  if (limits.memory) names.emplace_back("memory");
  if (limits.pids) names.emplace_back("pids");
  if (limits.cpu_quota_us) names.emplace_back("cpu");
  return names;
}

std::string option_of(std::string_view controller) {
  return controller == "memory" ? "--memory" : controller == "pids" ? "--pids" : "--cpus";
}

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream words(text);
  std::string each;
  while (words >> each) {
    if (each == word) return true;
  }
  return false;
}

class CgroupV2 final : public Cgroup {
 public:
  CgroupV2() : dir_(locate(std::string(kCgroupMount), "")) {}

  [[nodiscard]] std::string_view version() const override { return "v2"; }

  void check(const Limits& limits) const override {
    if (!dir_.base) throw Error(0, no_base_message(dir_, limits));
    // A controller is there to enable only if every cgroup above offers it:
    // the root's cgroup.controllers lists what this kernel has.
    const std::string root = std::string(kCgroupMount) + "/cgroup.controllers";
    const std::string available = read_file(root);
    for (const std::string& controller : controllers_for(limits)) {
      if (!has_word(available, controller)) {
        throw Error(0, option_of(controller) + " needs the " + controller + " controller, which this kernel's cgroup v2 has not got (" + root + ": " + printable(available.substr(0, available.find('\n'))) + ")");
      }
    }
  }

  void sweep(const Narrator& narrator) override { sweep_directory(dir_, true, narrator); }

  void create(const std::string& name, const Limits& limits, const Narrator& narrator) override {
    const std::vector<std::string> controllers = controllers_for(limits);
    narrator.say("cgroup v2: the container's cgroup goes in " + dir_.nslab());
    // A runtime that removes nslab/ as the last one out may do it between our
    // steps: then ENOENT, and once more from the top.
    for (int attempt = 0;; ++attempt) {
      try {
        enable(*dir_.base, controllers, narrator);
        const std::string nslab = dir_.nslab();
        if (::mkdir(nslab.c_str(), 0755) == 0) narrator.say("mkdir " + nslab);
        else if (errno != EEXIST) throw_errno("mkdir " + nslab);
        enable_in(nslab, controllers, narrator);
        dir_.path = make_locked(nslab, name, dir_.lock);
        narrator.say("mkdir " + dir_.path + ": the container's cgroup");
        return;
      } catch (const Error& e) {
        if (e.errnum() != ENOENT || attempt == 4) throw;
      }
    }
  }

  void limit(const Limits& limits, const Narrator& narrator) override {
    // >>> lab 08: write each limit to its cgroup v2 file (memory.max, pids.max, cpu.max) | docs/{en,zh}/lab08-cgroup.md#lab08-memory
    if (limits.memory) {
      set(dir_.path, "memory.max", std::to_string(*limits.memory), narrator);
      // Without swap off, a process over the limit is swapped out, not killed.
      if (exists(dir_.path + "/memory.swap.max")) set(dir_.path, "memory.swap.max", "0", narrator);
    }
    if (limits.pids) set(dir_.path, "pids.max", std::to_string(*limits.pids), narrator);
    if (limits.cpu_quota_us) {
      set(dir_.path, "cpu.max", std::to_string(*limits.cpu_quota_us) + " " + std::to_string(kCpuPeriodUs), narrator);
    }
    // <<< lab 08
  }

  void add(pid_t pid, const Narrator& narrator) override { add_to(dir_, pid, narrator); }

  [[nodiscard]] LimitEvents events() const override {
    if (dir_.path.empty()) return {};
    return {keyed_value(dir_.path + "/memory.events", "oom_kill"), keyed_value(dir_.path + "/pids.events", "max")};
  }

  std::string remove(const Narrator& narrator) noexcept override {
    return remove_container_directory(dir_, true, narrator);
  }

  [[nodiscard]] std::vector<std::string> directories() const override {
    return dir_.path.empty() ? std::vector<std::string>{} : std::vector<std::string>{dir_.path};
  }

  void mount_tree(const std::string& target, const Narrator& narrator) const override {
    // In the container's cgroup namespace, the new mount's root is its own cgroup.
    mount_checked("cgroup2", target, "cgroup2", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, target);
    narrator.say("mounted the container's cgroup tree (cgroup2) on " + target + ", read-only");
  }

 private:
  // Enables CONTROLLERS in the cgroup.subtree_control of CGROUP (a path in the
  // hierarchy), and first in its parent's when CGROUP has not got them: along
  // the path from the root. A user's delegated cgroup has them already, or the
  // error says which one it lacks and where.
  void enable(const std::string& cgroup, const std::vector<std::string>& controllers, const Narrator& narrator) {
    const std::string dir = directory_of(dir_.mount, cgroup);
    std::vector<std::string> missing;
    const std::string offered = read_file(dir + "/cgroup.controllers");
    for (const std::string& controller : controllers) {
      if (!has_word(offered, controller)) missing.push_back(controller);
    }
    if (!missing.empty()) {
      if (cgroup == "/") {
        throw Error(0, option_of(missing[0]) + " needs the " + missing[0] + " controller, which " + dir + " has not got");
      }
      enable(parent_of(cgroup), missing, narrator);
    }
    enable_in(dir, controllers, narrator);
  }

  static void enable_in(const std::string& dir, const std::vector<std::string>& controllers, const Narrator& narrator) {
    const std::string file = dir + "/cgroup.subtree_control";
    const std::string enabled = read_file(file);
    std::string change;
    for (const std::string& controller : controllers) {
      if (!has_word(enabled, controller)) change += (change.empty() ? "+" : " +") + controller;
    }
    if (change.empty()) return;
    try {
      write_file(file, change);
    } catch (const Error& e) {
      if (e.errnum() == EBUSY) {
        throw Error(EBUSY, "write " + quoted(change) + " to " + file,
                    "cgroup v2's no-internal-processes rule: " + dir +
                        " holds processes, so it may not enable controllers for its children; run from a cgroup "
                        "without other processes, or set NSLAB_CGROUP_BASE to an empty one");
      }
      if (e.errnum() == EACCES || e.errnum() == EPERM) {
        throw Error(e.errnum(), "write " + quoted(change) + " to " + file,
                    "the controller is not delegated to this user: ask for it, e.g. systemd-run --user --scope -p "
                    "Delegate=yes, or run as root");
      }
      throw;
    }
    narrator.say("wrote " + quoted(change) + " to " + file);
  }

  Directory dir_;
};

// --- cgroup v1 -------------------------------------------------------------------

class CgroupV1 final : public Cgroup {
 public:
  CgroupV1() {
    for (const char* controller : {"memory", "pids", "cpu"}) {
      const std::string mount = std::string(kCgroupMount) + "/" + controller;
      struct statfs fs {};
      if (::statfs(mount.c_str(), &fs) == -1 || fs.f_type != CGROUP_SUPER_MAGIC) continue;
      try {
        dirs_.push_back(locate(mount, controller));
      } catch (const Error&) {
        // mounted, but this process is in none of its cgroups: not usable
      }
    }
  }

  [[nodiscard]] std::string_view version() const override { return "v1"; }

  void check(const Limits& limits) const override {
    for (const std::string& controller : controllers_for(limits)) {
      const Directory* dir = find(controller);
      if (dir == nullptr) {
        throw Error(0, option_of(controller) + " needs the " + controller + " controller, which has no cgroup v1 hierarchy here (" + std::string(kCgroupMount) + "/" + controller + " is not a cgroup mount)");
      }
      if (!dir->base) throw Error(0, no_base_message(*dir, limits));
    }
    if (dirs_.empty()) throw Error(0, "no cgroup v1 hierarchy of memory, pids or cpu under " + std::string(kCgroupMount));
    for (const Directory& dir : dirs_) {
      if (!dir.base) throw Error(0, no_base_message(dir, limits));
    }
  }

  void sweep(const Narrator& narrator) override {
    for (const Directory& dir : dirs_) sweep_directory(dir, false, narrator);
  }

  void create(const std::string& name, const Limits& limits, const Narrator& narrator) override {
    (void)limits;  // every hierarchy gets a directory: v1 enables nothing
    for (Directory& dir : dirs_) {
      const std::string nslab = dir.nslab();
      for (int attempt = 0;; ++attempt) {
        try {
          if (::mkdir(nslab.c_str(), 0755) == 0) narrator.say("mkdir " + nslab);
          else if (errno != EEXIST) throw_errno("mkdir " + nslab);
          dir.path = make_locked(nslab, name, dir.lock);
          break;
        } catch (const Error& e) {
          if (e.errnum() != ENOENT || attempt == 4) throw;
        }
      }
      narrator.say("mkdir " + dir.path + ": the container's cgroup in the " + dir.controller + " hierarchy");
    }
  }

  void limit(const Limits& limits, const Narrator& narrator) override {
    // >>> lab 08: write each limit to its cgroup v1 file (memory.limit_in_bytes, pids.max, cpu.cfs_quota_us) | docs/{en,zh}/lab08-cgroup.md#lab08-memory
    if (limits.memory) {
      const std::string& dir = find("memory")->path;
      set(dir, "memory.limit_in_bytes", std::to_string(*limits.memory), narrator);
      // memory+swap: the same, so that going over the limit cannot swap.
      if (exists(dir + "/memory.memsw.limit_in_bytes")) {
        set(dir, "memory.memsw.limit_in_bytes", std::to_string(*limits.memory), narrator);
      }
    }
    if (limits.pids) set(find("pids")->path, "pids.max", std::to_string(*limits.pids), narrator);
    if (limits.cpu_quota_us) {
      const std::string& dir = find("cpu")->path;
      set(dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs), narrator);
      set(dir, "cpu.cfs_quota_us", std::to_string(*limits.cpu_quota_us), narrator);
    }
    // <<< lab 08
  }

  void add(pid_t pid, const Narrator& narrator) override {
    for (const Directory& dir : dirs_) add_to(dir, pid, narrator);
  }

  [[nodiscard]] LimitEvents events() const override {
    LimitEvents counted;
    if (const Directory* memory = find("memory"); memory && !memory->path.empty()) {
      counted.oom_kills = keyed_value(memory->path + "/memory.oom_control", "oom_kill");
    }
    if (const Directory* pids = find("pids"); pids && !pids->path.empty()) {
      counted.pids_refused = keyed_value(pids->path + "/pids.events", "max");
    }
    return counted;
  }

  std::string remove(const Narrator& narrator) noexcept override {
    std::string left;
    for (Directory& dir : dirs_) {
      const std::string one = remove_container_directory(dir, false, narrator);
      if (!one.empty()) left += (left.empty() ? "" : ", ") + one;
    }
    return left;
  }

  [[nodiscard]] std::vector<std::string> directories() const override {
    std::vector<std::string> paths;
    for (const Directory& dir : dirs_) {
      if (!dir.path.empty()) paths.push_back(dir.path);
    }
    return paths;
  }

  void mount_tree(const std::string& target, const Narrator& narrator) const override {
    // A tmpfs to hold one mount per hierarchy, read-only once they are in.
    mount_checked("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", target);
    for (const Directory& dir : dirs_) {
      const std::string point = target + "/" + dir.controller;
      nslab::check(::mkdir(point.c_str(), 0755), "mkdir " + point);
      mount_checked("cgroup", point, "cgroup", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, dir.controller.c_str(),
                    point);
    }
    mount_checked(nullptr, target, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                  target);
    narrator.say("mounted the container's cgroup tree (cgroup v1: memory, pids, cpu) on " + target + ", read-only");
  }

 private:
  [[nodiscard]] const Directory* find(std::string_view controller) const {
    const auto it = std::find_if(dirs_.begin(), dirs_.end(),
                                 [controller](const Directory& dir) { return dir.controller == controller; });
    return it == dirs_.end() ? nullptr : &*it;
  }

  std::vector<Directory> dirs_;
};

}  // namespace

std::string_view layout_name(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::v2: return "cgroup v2";
    case CgroupLayout::hybrid: return "hybrid (cgroup v1 controllers, a cgroup2 without them at unified/)";
    case CgroupLayout::v1: return "cgroup v1";
  }
  return "?";
}

//! [cgroup-layout]
CgroupLayout detect_layout() {
  const std::string mount(kCgroupMount);
  struct statfs fs {};
  check(::statfs(mount.c_str(), &fs), "statfs " + mount);
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::v2;
  if (fs.f_type != TMPFS_MAGIC) {
    throw Error(0, "no cgroup file system at " + mount + " (neither cgroup2 nor a tmpfs of v1 hierarchies)");
  }
  const std::string unified = mount + "/unified";
  if (::statfs(unified.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::hybrid;
  return CgroupLayout::v1;
}
//! [cgroup-layout]

std::string cgroup_of(pid_t pid, std::string_view controller) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/cgroup") : "/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "ID:CONTROLLERS:PATH": v2's line is "0::PATH"; v1's list their controllers.
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    std::string listed = controllers;  // "cpu,cpuacct": co-mounted controllers
    std::replace(listed.begin(), listed.end(), ',', ' ');
    const bool wanted = controller.empty() ? controllers.empty() && line.compare(0, first, "0") == 0
                                           : has_word(listed, controller);
    if (wanted) {
      return path;
    }
  }
  return {};
}

std::string own_cgroup(std::string_view controller) {
  std::string path = cgroup_of(0, controller);
  if (path.empty()) {
    throw Error(0, "/proc/self/cgroup has no line for " +
                       (controller.empty() ? std::string("cgroup v2") : "the " + std::string(controller) + " controller"));
  }
  return path;
}

std::optional<std::string> find_base(const std::string& mount, const std::string& own) {
  if (const char* given = std::getenv("NSLAB_CGROUP_BASE"); given != nullptr && *given != '\0') {
    const std::string base(given);
    if (base[0] != '/' || base.find("/..") != std::string::npos || base.find("//") != std::string::npos) {
      throw Error(0, "NSLAB_CGROUP_BASE=" + quoted(base) + ": not a cgroup path (/a/b, as /proc/self/cgroup shows them)");
    }
    const std::string dir = directory_of(mount, base);
    struct stat st {};
    if (::stat(dir.c_str(), &st) == -1 || !S_ISDIR(st.st_mode) || !exists(dir + "/cgroup.procs")) {
      throw Error(0, "NSLAB_CGROUP_BASE=" + quoted(base) + ": " + dir + " is not a cgroup directory");
    }
    return writable(dir) ? std::optional<std::string>(base) : std::nullopt;
  }
  //! [cgroup-base]
  // Up from our own cgroup for as long as this user may write there.
  if (!writable(directory_of(mount, own))) return std::nullopt;
  std::string base = own;
  while (base != "/" && writable(directory_of(mount, parent_of(base)))) base = parent_of(base);
  return base;
  //! [cgroup-base]
}

std::unique_ptr<Cgroup> make_cgroup(CgroupLayout layout) {
  if (layout == CgroupLayout::v2) return std::make_unique<CgroupV2>();
  return std::make_unique<CgroupV1>();
}

}  // namespace nslab
