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
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
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

// DIR/NAME.
std::string path_in(const std::string& dir, std::string_view name) {
  std::string path = dir;
  path += '/';
  path += name;
  return path;
}

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

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream words(text);
  std::string each;
  while (words >> each) {
    if (each == word) return true;
  }
  return false;
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

// The names of the directories in the directory open at FD (which stays open).
std::vector<std::string> subdirectories(int fd) {
  std::vector<std::string> names;
  const int copy = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy == -1) return names;
  DIR* stream = ::fdopendir(copy);
  if (stream == nullptr) {
    (void)::close(copy);
    return names;
  }
  while (const dirent* entry = ::readdir(stream)) {
    if (entry->d_type == DT_DIR && std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  (void)::closedir(stream);
  std::sort(names.begin(), names.end());
  return names;
}

// The directory NAME in the directory open at FD, opened (none if it is gone).
UniqueFd open_below(int fd, const std::string& name) {
  return UniqueFd(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// The processes listed in the cgroup.procs of the cgroup open at FD.
std::vector<pid_t> processes_in(int fd) {
  std::vector<pid_t> pids;
  const UniqueFd procs(::openat(fd, "cgroup.procs", O_RDONLY | O_CLOEXEC));
  if (!procs) return pids;
  std::string text;
  std::array<char, 4096> chunk{};
  ssize_t got = 0;
  while ((got = ::read(procs.get(), chunk.data(), chunk.size())) > 0) text.append(chunk.data(), static_cast<std::size_t>(got));
  std::istringstream in(text);
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// SIGKILLs every process in the cgroup open at FD and in the cgroups below it.
// Through file descriptors, never paths: a container may nest its own cgroups
// deeper than PATH_MAX. True when none was found.
bool kill_listed_once(int fd) {
  bool none = true;
  for (const pid_t pid : processes_in(fd)) {
    none = false;
    (void)::kill(pid, SIGKILL);
  }
  for (const std::string& name : subdirectories(fd)) {
    if (const UniqueFd below = open_below(fd, name); below && !kill_listed_once(below.get())) none = false;
  }
  return none;
}

// v2's way: one write to cgroup.kill ends every process of the subtree at once,
// forks in flight included (Linux 5.14). v1 (or an older kernel): one by one,
// again until none is left, since a process may fork while we read the list.
void kill_cgroup(int fd, bool v2) {
  if (v2) {
    const UniqueFd kill_file(::openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC));
    if (kill_file && ::write(kill_file.get(), "1", 1) == 1) return;
  }
  for (int round = 0; round < 200 && !kill_listed_once(fd); ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

//! [cgroup-rmdir]
// rmdir(2) of a cgroup fails with EBUSY while a process is in it, and a moment
// after its last process exited, until the kernel has let go of it (PITFALLS
// 10): so try again, waiting twice as long each time, for about two seconds.
// The cgroups a container made below its own go first. "" when removed.
std::string remove_tree(int parent, const std::string& name, const std::string& shown) noexcept {
  if (const UniqueFd dir = open_below(parent, name)) {
    for (const std::string& below : subdirectories(dir.get())) {
      if (std::string left = remove_tree(dir.get(), below, shown); !left.empty()) return left;
    }
  }
  auto wait = std::chrono::milliseconds(1);
  for (int attempt = 0;; ++attempt) {
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt == 11) return shown + " (rmdir: " + std::strerror(errno) + ")";
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}
//! [cgroup-rmdir]

// --- one directory per hierarchy -------------------------------------------------

// Where one hierarchy is, and the runtime in it.
struct Hierarchy {
  std::string mount;       // "/sys/fs/cgroup" (v2) or "/sys/fs/cgroup/memory" (v1)
  std::string controller;  // "" (v2) or "memory" (v1)
  std::string options;     // v1: the hierarchy's controllers, "memory" or "cpu,cpuacct"
  std::string own;         // the runtime's cgroup in it, "/..."
  std::optional<std::string> base;  // where nslab/ goes; nullopt: nowhere this user may write
  std::string why_not;     // when base is nullopt: why, for the message
};

// The container's cgroup in one hierarchy:
//
//     BASE/nslab/NAME             the limits; locked by the runtime (flock)
//     BASE/nslab/NAME/container   the processes; the root of the cgroup namespace
//
// Two levels, so that the limits are above what the container can see: inside
// its cgroup namespace the container's root is NAME/container, and whatever it
// may write there (its root may mount the tree) cannot lift NAME's limits,
// which hold for the whole subtree.
struct Directory {
  Hierarchy where;
  std::string path;  // BASE/nslab/NAME, once made
  UniqueFd fd;       // open on it, and holding its lock
  struct stat identity {};  // what fd is: a directory renamed in its place is not ours

  [[nodiscard]] std::string nslab() const { return directory_of(where.mount, *where.base) + "/nslab"; }
  [[nodiscard]] std::string leaf() const { return path + "/container"; }
};

}  // namespace

namespace {

// What this process's own /proc files say about its cgroups and mounts, read
// once by a runtime: the kernel writes each of them out anew at every read.
// "" where one cannot be read (no /proc): then nothing is found in it.
struct SelfView {
  std::string cgroups = text_of("/proc/self/cgroup");
  std::string mountinfo = text_of("/proc/self/mountinfo");

  static std::string text_of(const char* path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

// mount_root() from the text of a mountinfo file.
std::string mount_root_in(const std::string& mountinfo, const std::string& mount) {
  char real[PATH_MAX];
  if (::realpath(mount.c_str(), real) == nullptr) return "/";
  std::istringstream info(mountinfo);
  std::string line;
  std::string root = "/";
  while (std::getline(info, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, this_root, point;
    fields >> id >> parent >> device >> this_root >> point;
    if (point == real) root = this_root;  // the last mount on a path is the one seen
  }
  return root;
}

// cgroup_of() from the text of a /proc/PID/cgroup file; with @p listed, the
// line's controllers too ("cpu,cpuacct": a v1 hierarchy is mounted by its
// whole set).
std::string cgroup_in(const std::string& text, std::string_view controller, std::string* listed = nullptr) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "ID:CONTROLLERS:PATH": v2's line is "0::PATH"; v1's list their controllers.
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string spaced = controllers;  // "cpu,cpuacct": co-mounted controllers
    std::replace(spaced.begin(), spaced.end(), ',', ' ');
    const bool wanted = controller.empty() ? controllers.empty() && line.compare(0, first, "0") == 0
                                           : has_word(spaced, controller);
    if (wanted) {
      if (listed != nullptr) *listed = controllers;
      return line.substr(second + 1);
    }
  }
  return {};
}

}  // namespace

std::string mount_root(const std::string& mount) { return mount_root_in(SelfView::text_of("/proc/self/mountinfo"), mount); }

namespace {

Hierarchy locate(const std::string& mount, const std::string& controller, const SelfView& self) {
  Hierarchy where{mount, controller, controller, {}, std::nullopt, {}};
  where.own = cgroup_in(self.cgroups, controller, &where.options);
  if (where.own.empty()) {
    throw Error(0, "/proc/self/cgroup has no line for " +
                       (controller.empty() ? std::string("cgroup v2") : "the " + controller + " controller"));
  }
  if (controller.empty()) where.options.clear();
  const std::string root = mount_root_in(self.mountinfo, mount);
  if (root != "/") {
    // Our cgroup paths are our namespace's; the mount's are another's.
    where.why_not = "this process is in a cgroup namespace whose root is not the root of " + mount +
                    " (mounted with root " + printable(root) + "): mount this namespace's own cgroup tree there";
    return where;
  }
  where.base = find_base(mount, where.own);
  if (!where.base) {
    const char* given = std::getenv("NSLAB_CGROUP_BASE");
    struct statvfs fs {};
    if (::statvfs(mount.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
      where.why_not = mount + " is mounted read-only";
    } else if (given != nullptr && *given != '\0') {
      where.why_not = "NSLAB_CGROUP_BASE=" + quoted(given) + " is not writable by uid " + std::to_string(::geteuid());
    } else {
      where.why_not = "this process is in " + where.own + ", which is not delegated to uid " +
                      std::to_string(::geteuid()) +
                      ": run it in a delegated cgroup (systemd-run --user --scope -p Delegate=yes COMMAND), or as root";
    }
  }
  return where;
}

std::string option_of(std::string_view controller) {
  return controller == "memory" ? "--memory" : controller == "pids" ? "--pids" : "--cpus";
}

std::vector<std::string> controllers_for(const Limits& limits) {
  std::vector<std::string> names;
  if (limits.memory) names.emplace_back("memory");
  if (limits.pids) names.emplace_back("pids");
  if (limits.cpu_quota_us) names.emplace_back("cpu");
  return names;
}

// "--memory needs the memory controller, WHICH...".
Error missing_controller(std::string_view controller, const std::string& which) {
  return Error(0, option_of(controller) + " needs the " + std::string(controller) + " controller, " + which);
}

Error no_base(const Hierarchy& where, const Limits& limits) {
  const std::vector<std::string> asked = controllers_for(limits);
  const std::string prefix =
      asked.empty() ? "" : option_of(asked[0]) + " needs a cgroup of the container's own, but there is ";
  return Error(0, prefix + "no cgroup this user may write in " + where.mount + ": " + where.why_not);
}

// Sweeps nslab/ of WHERE: each directory whose lock is free was left by a
// runtime that was killed before its teardown (SIGKILL): end what is in it,
// remove it.
void sweep_nslab(const Hierarchy& where, bool v2, const Narrator& narrator) {
  if (!where.base) return;
  const std::string nslab = directory_of(where.mount, *where.base) + "/nslab";
  const UniqueFd parent(::open(nslab.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) return;
  for (const std::string& name : subdirectories(parent.get())) {
    const UniqueFd dir = open_below(parent.get(), name);
    if (!dir || ::flock(dir.get(), LOCK_EX | LOCK_NB) == -1) continue;  // its runtime is alive
    kill_cgroup(dir.get(), v2);
    const std::string left = remove_tree(parent.get(), name, path_in(nslab, name));
    narrator.say(left.empty() ? "swept " + path_in(nslab, name) + ": left by a runtime that was killed (its lock was free)"
                              : "could not sweep " + left);
  }
}

// Makes NSLAB/NAME (NAME.2, NAME.3 ... when taken), opens and locks it. If a
// sweep removed it in between (it was unlocked for a moment), once more.
void make_locked(Directory& dir, const std::string& name) {
  const std::string nslab = dir.nslab();
  for (int suffix = 1; suffix < 100; ++suffix) {
    std::string path = path_in(nslab, name);
    if (suffix > 1) path += "." + std::to_string(suffix);
    if (::mkdir(path.c_str(), 0755) == -1) {
      if (errno == EEXIST) continue;
      throw_errno("mkdir " + path);
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0 && ::fstat(fd.get(), &dir.identity) == 0 &&
        ::faccessat(fd.get(), "cgroup.procs", F_OK, 0) == 0) {
      dir.path = std::move(path);
      dir.fd = std::move(fd);
      return;
    }
    // Swept away (ENOENT), or held by the sweep that is removing it
    // (EWOULDBLOCK): another name. Anything else is an error; either way the
    // directory we made must not stay.
    const int saved = errno;
    (void)::rmdir(path.c_str());
    if (saved != ENOENT && saved != EWOULDBLOCK) throw Error(saved, "open and lock " + path);
  }
  throw Error(0, "mkdir " + path_in(nslab, name) + ": no free name");
}

// The leaf, for the processes.
void make_leaf(const Directory& dir, const Narrator& narrator) {
  check(::mkdirat(dir.fd.get(), "container", 0755), "mkdir " + dir.leaf());
  narrator.say("mkdir " + dir.leaf() + ": for its processes, below the limits");
}

// Ends the container's processes and removes its directories, and nslab/ when
// no other container uses it. Only the directory it made: if another was put
// at its path (renamed there), that one is left alone, and said.
std::string remove_container(Directory& dir, bool v2, const Narrator& narrator) noexcept {
  if (dir.path.empty()) {
    // Its own directory was never made (a step before it failed): nslab/,
    // which it may have made, goes all the same when no other container uses it.
    if (dir.where.base && ::rmdir(dir.nslab().c_str()) == 0) {
      narrator.say("removed " + dir.nslab() + ": no other container uses it");
    }
    return {};
  }
  std::string shown = dir.path;
  struct stat now {};
  if (::stat(dir.path.c_str(), &now) == -1 || now.st_dev != dir.identity.st_dev || now.st_ino != dir.identity.st_ino) {
    kill_cgroup(dir.fd.get(), v2);  // our processes, wherever the directory went
    dir.fd.reset();
    dir.path.clear();
    return shown + " (it was moved while the container ran: what is at its path now is not ours, and stays)";
  }
  // Most often nothing is left in it: the container's PID 1 was reaped, and
  // with it every process of its PID namespace. Then two rmdirs are the whole
  // teardown, the leaf through our descriptor, the directory by the path we
  // just checked. Anything else (a process still dying, one that --enter put
  // there, groups the container made below its own, a group the kernel still
  // holds) fails them with EBUSY or ENOTEMPTY, and the careful way follows.
  std::string left;
  if ((::unlinkat(dir.fd.get(), "container", AT_REMOVEDIR) == 0 || errno == ENOENT) &&
      ::rmdir(dir.path.c_str()) == 0) {
    narrator.say("removed " + dir.path + ": empty, nothing left in it to kill");
  } else {
    kill_cgroup(dir.fd.get(), v2);
    narrator.say(std::string(v2 ? "wrote 1 to cgroup.kill of " : "killed every process in ") + dir.path);
    const UniqueFd nslab(::open(dir.nslab().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const std::string name = dir.path.substr(dir.path.rfind('/') + 1);
    left = nslab ? remove_tree(nslab.get(), name, dir.path) : shown + " (open of nslab/ failed)";
    if (left.empty()) narrator.say("removed " + dir.path);
  }
  if (left.empty()) {
    dir.path.clear();
    // Another container may be using nslab/: then it is not empty, and stays.
    if (::rmdir(dir.nslab().c_str()) == 0) narrator.say("removed " + dir.nslab() + ": no other container uses it");
  }
  dir.fd.reset();
  return left;
}

// Writes PID into the cgroup.procs of DIR's leaf.
void add_to(const Directory& dir, pid_t pid, const Narrator& narrator) {
  // TODO(lab 08): implement move the child into the container's cgroup: its PID into cgroup.procs.
  // Read docs/{en,zh}/lab08-cgroup.md#lab08-move, then replace the line below with your code.
  throw nslab::Todo("08", "move the child into the container's cgroup: its PID into cgroup.procs", "docs/{en,zh}/lab08-cgroup.md#lab08-move");
  narrator.say("wrote " + std::to_string(pid) + " to " + dir.leaf() + "/cgroup.procs: the child is in the cgroup");
}

// A limit's file: written, and said.
void set(const std::string& dir, const std::string& file, const std::string& value, const Narrator& narrator) {
  write_file(dir + "/" + file, value);
  narrator.say("wrote " + value + " to " + dir + "/" + file);
}

// --- cgroup v2 -------------------------------------------------------------------


class CgroupV2 final : public Cgroup {
 public:
  CgroupV2() { dir_.where = locate(std::string(kCgroupMount), "", SelfView{}); }

  [[nodiscard]] std::string_view version() const override { return "v2"; }

  void check(const Limits& limits) const override {
    // A controller can be enabled only if every cgroup above offers it: the
    // root's cgroup.controllers lists what this hierarchy has at all.
    const std::string root = std::string(kCgroupMount) + "/cgroup.controllers";
    const std::string available = read_file(root);
    for (const std::string& controller : controllers_for(limits)) {
      if (!has_word(available, controller)) {
        throw missing_controller(controller, "which this cgroup v2 hierarchy has not got (" + root + ": " +
                                                 printable(available.substr(0, available.find('\n'))) + ")");
      }
    }
    if (!dir_.where.base) throw no_base(dir_.where, limits);
  }

  void sweep(const Narrator& narrator) override { sweep_nslab(dir_.where, true, narrator); }

  void create(const std::string& name, const Limits& limits, const Narrator& narrator) override {
    const std::vector<std::string> controllers = controllers_for(limits);
    narrator.say("cgroup v2: the container's cgroup goes in " + dir_.nslab() + " (" + base_source() + ")");
    // A runtime that removes nslab/ as the last one out may do it between our
    // steps: then ENOENT, and once more from the top.
    for (int attempt = 0;; ++attempt) {
      try {
        enable(*dir_.where.base, controllers, narrator);
        const std::string nslab = dir_.nslab();
        if (::mkdir(nslab.c_str(), 0755) == 0) {
          narrator.say("mkdir " + nslab);
        } else if (errno != EEXIST) {
          throw_errno("mkdir " + nslab);
        }
        enable_in(nslab, controllers, narrator);
        make_locked(dir_, name);
        narrator.say("mkdir " + dir_.path + ": the container's cgroup, for its limits");
        enable_in(dir_.path, controllers, narrator);  // for the leaf, which is below the limits
        make_leaf(dir_, narrator);
        return;
      } catch (const Error& e) {
        if (e.errnum() != ENOENT || attempt == 4) throw;
      }
    }
  }

  void limit(const Limits& limits, const Narrator& narrator) override {
    // TODO(lab 08): implement write each limit to its cgroup v2 file (memory.max, pids.max, cpu.max).
    // Read docs/{en,zh}/lab08-cgroup.md#lab08-memory, then replace the line below with your code.
    throw nslab::Todo("08", "write each limit to its cgroup v2 file (memory.max, pids.max, cpu.max)", "docs/{en,zh}/lab08-cgroup.md#lab08-memory");
  }

  void add(pid_t pid, const Narrator& narrator) override { add_to(dir_, pid, narrator); }

  [[nodiscard]] LimitEvents events() const override {
    if (dir_.path.empty()) return {};
    // memory.events counts for the whole subtree. pids.events counts where the
    // limit is from Linux 6.13 on, before in the cgroup of the task that forked:
    // both are read, the larger taken.
    return {keyed_value(dir_.path + "/memory.events", "oom_kill"),
            std::max(keyed_value(dir_.path + "/pids.events", "max"), keyed_value(dir_.leaf() + "/pids.events", "max"))};
  }

  std::string remove(const Narrator& narrator) noexcept override { return remove_container(dir_, true, narrator); }

  [[nodiscard]] std::vector<std::string> directories() const override {
    return dir_.path.empty() ? std::vector<std::string>{} : std::vector<std::string>{dir_.path};
  }

  void mount_tree(const std::string& target, const Narrator& narrator) const override {
    // In the container's cgroup namespace, the new mount's root is its own cgroup.
    mount_checked("cgroup2", target, "cgroup2", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, target);
    narrator.say("mounted the container's cgroup tree (cgroup2) on " + target + ", read-only");
  }

 private:
  [[nodiscard]] std::string base_source() const {
    const char* given = std::getenv("NSLAB_CGROUP_BASE");
    return given != nullptr && *given != '\0' ? "NSLAB_CGROUP_BASE" : "the highest cgroup above ours we may write";
  }

  // Enables CONTROLLERS in the cgroup.subtree_control of CGROUP (a path in the
  // hierarchy), and first in its parent's when CGROUP has not got them: along
  // the path from the root. A user's delegated cgroup has them already, or the
  // error says which one it lacks and where.
  void enable(const std::string& cgroup, const std::vector<std::string>& controllers, const Narrator& narrator) {
    const std::string dir = directory_of(dir_.where.mount, cgroup);
    std::vector<std::string> missing;
    const std::string offered = read_file(dir + "/cgroup.controllers");
    for (const std::string& controller : controllers) {
      if (!has_word(offered, controller)) missing.push_back(controller);
    }
    if (!missing.empty()) {
      if (cgroup == "/") throw missing_controller(missing[0], "which " + dir + " has not got");
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
    const SelfView self;
    for (const char* controller : {"memory", "pids", "cpu"}) {
      const std::string mount = path_in(std::string(kCgroupMount), controller);
      struct statfs fs {};
      if (::statfs(mount.c_str(), &fs) == -1 || fs.f_type != CGROUP_SUPER_MAGIC) continue;
      if (cgroup_in(self.cgroups, controller).empty()) continue;  // mounted, but not a hierarchy we are in
      Directory dir;
      dir.where = locate(mount, controller, self);
      dirs_.push_back(std::move(dir));
    }
  }

  [[nodiscard]] std::string_view version() const override { return "v1"; }

  void check(const Limits& limits) const override {
    for (const std::string& controller : controllers_for(limits)) {
      if (find(controller) == nullptr) {
        throw missing_controller(controller, "which has no cgroup v1 hierarchy here (" +
                                                 path_in(std::string(kCgroupMount), controller) + " is not a cgroup mount)");
      }
    }
    if (dirs_.empty()) throw Error(0, "no cgroup v1 hierarchy of memory, pids or cpu under " + std::string(kCgroupMount));
    for (const Directory& dir : dirs_) {
      if (!dir.where.base) throw no_base(dir.where, limits);
    }
  }

  void sweep(const Narrator& narrator) override {
    for (const Directory& dir : dirs_) sweep_nslab(dir.where, false, narrator);
  }

  void create(const std::string& name, const Limits& limits, const Narrator& narrator) override {
    (void)limits;  // every hierarchy gets a directory: v1 enables nothing
    for (Directory& dir : dirs_) {
      const std::string nslab = dir.nslab();
      for (int attempt = 0;; ++attempt) {
        try {
          if (::mkdir(nslab.c_str(), 0755) == 0) {
            narrator.say("mkdir " + nslab);
          } else if (errno != EEXIST) {
            throw_errno("mkdir " + nslab);
          }
          make_locked(dir, name);
          break;
        } catch (const Error& e) {
          if (e.errnum() != ENOENT || attempt == 4) throw;
        }
      }
      narrator.say("mkdir " + dir.path + ": the container's cgroup in the " + dir.where.options + " hierarchy");
      // Old kernels let a memory cgroup ignore its parent's limit unless told.
      if (dir.where.controller == "memory" && exists(dir.path + "/memory.use_hierarchy") &&
          read_file(dir.path + "/memory.use_hierarchy").rfind('0', 0) == 0) {
        set(dir.path, "memory.use_hierarchy", "1", narrator);
      }
      make_leaf(dir, narrator);
    }
  }

  void limit(const Limits& limits, const Narrator& narrator) override {
    // TODO(lab 08): implement write each limit to its cgroup v1 file (memory.limit_in_bytes, pids.max, cpu.cfs_quota_us).
    // Read docs/{en,zh}/lab08-cgroup.md#lab08-memory, then replace the line below with your code.
    throw nslab::Todo("08", "write each limit to its cgroup v1 file (memory.limit_in_bytes, pids.max, cpu.cfs_quota_us)", "docs/{en,zh}/lab08-cgroup.md#lab08-memory");
  }

  void add(pid_t pid, const Narrator& narrator) override {
    for (const Directory& dir : dirs_) add_to(dir, pid, narrator);
  }

  [[nodiscard]] LimitEvents events() const override {
    // v1 counts where it happened: an OOM kill in the leaf, a refused fork
    // where the limit is. Each is read in both, the larger taken.
    LimitEvents counted;
    if (const Directory* memory = find("memory"); memory && !memory->path.empty()) {
      counted.oom_kills = std::max(keyed_value(memory->path + "/memory.oom_control", "oom_kill"),
                                   keyed_value(memory->leaf() + "/memory.oom_control", "oom_kill"));
    }
    if (const Directory* pids = find("pids"); pids && !pids->path.empty()) {
      counted.pids_refused = std::max(keyed_value(pids->path + "/pids.events", "max"),
                                      keyed_value(pids->leaf() + "/pids.events", "max"));
    }
    return counted;
  }

  std::string remove(const Narrator& narrator) noexcept override {
    std::string left;
    for (Directory& dir : dirs_) {
      const std::string one = remove_container(dir, false, narrator);
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
    std::string names;
    for (const Directory& dir : dirs_) {
      const std::string point = path_in(target, dir.where.controller);
      nslab::check(::mkdir(point.c_str(), 0755), "mkdir " + point);
      // A v1 hierarchy is mounted by its whole set of controllers ("cpu,cpuacct").
      mount_checked("cgroup", point, "cgroup", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    dir.where.options.c_str(), point);
      names += (names.empty() ? "" : ", ") + dir.where.options;
    }
    mount_checked(nullptr, target, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                  target);
    narrator.say("mounted the container's cgroup tree (cgroup v1: " + names + ") on " + target + ", read-only");
  }

 private:
  [[nodiscard]] const Directory* find(std::string_view controller) const {
    const auto it = std::find_if(dirs_.begin(), dirs_.end(),
                                 [controller](const Directory& dir) { return dir.where.controller == controller; });
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
  const std::string file = pid == 0 ? std::string("/proc/self/cgroup") : "/proc/" + std::to_string(pid) + "/cgroup";
  return cgroup_in(SelfView::text_of(file.c_str()), controller);
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
