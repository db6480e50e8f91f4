// Lab 08, exercise 2 "a cgroup namespace made too early" — a solution.
//
//   08-cgroup-ns-early GROUP
//
// GROUP: a new cgroup directory to make, in the hierarchy to look at
// (v1: e.g. /sys/fs/cgroup/pids/ex2; v2: /sys/fs/cgroup/ex2). The program
// makes GROUP/runtime and GROUP/container, two groups that play the runtime's
// and the container's, and runs two children, each moved by this process —
// as a runtime moves its container, from outside — and each making a cgroup
// namespace (unshare(CLONE_NEWCGROUP)) of its own:
//
//   too early   the child is moved into runtime/, makes its namespace there,
//               and is moved into container/ only then;
//   in time     the child is moved into container/ first, then makes it.
//
// Each child says what /proc/self/cgroup shows for GROUP's hierarchy, and
// what a cgroupfs of that hierarchy mounted inside its namespace (in a mount
// namespace of its own) holds at its root. The report, one "WHAT: VALUE" a
// line:
//
//   too early, before the move: /
//   too early, after the move: /../container
//   too early, a cgroupfs mounted inside: 0 processes at its root, not this one
//   in time: /
//   in time, a cgroupfs mounted inside: 1 process at its root, this one
//
// A cgroup namespace's root is the group its creator was in at that moment
// (cgroup_namespaces(7)); paths are shown from there, with ".." for a group
// that is not below it, and a cgroupfs mounted inside is rooted there too.
// Afterwards the three directories are removed (retried while the kernel says
// EBUSY, a moment after the last process has left).
//
// Needs root. Exit status 0 when both children reported. Errors (a wrong
// argument, GROUP there already or not in a cgroup file system, a step that
// failed): one line, "08-cgroup-ns-early: what failed: why", exit status 125.

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

constexpr const char* kProgram = "08-cgroup-ns-early";
constexpr int kExitFailed = 125;

int fail(const std::string& what, int error, const std::string& why = "") {
  (void)std::fprintf(stderr, "%s: %s%s%s%s%s\n", kProgram, what.c_str(), error != 0 ? ": " : "",
                     error != 0 ? std::strerror(error) : "", why.empty() ? "" : ": ", why.c_str());
  return kExitFailed;
}

// The hierarchy GROUP is in: the cgroup or cgroup2 mount that holds it.
struct Hierarchy {
  std::string mount_point;  // /sys/fs/cgroup/pids
  std::string type;         // cgroup or cgroup2
  std::string controllers;  // v1: the mount's controllers ("pids", "cpu,cpuacct"); v2: ""
};

// A mountinfo field with its octal escapes (\040 for a blank) undone.
std::string unescape(const std::string& field) {
  std::string plain;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      plain += static_cast<char>(std::strtol(field.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      plain += field[i];
    }
  }
  return plain;
}

// The cgroup mount with the longest mount point that PATH (absolute, real) is
// under; false when there is none.
bool hierarchy_of(const std::string& path, Hierarchy& found) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  bool any = false;
  while (std::getline(mountinfo, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER_OPTIONS
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    const std::size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string type, source, options;
    if (!(tail >> type >> source >> options)) continue;
    if (type != "cgroup" && type != "cgroup2") continue;
    mount_point = unescape(mount_point);
    const bool under = path == mount_point || path.rfind(mount_point + "/", 0) == 0;
    if (!under || (any && mount_point.size() <= found.mount_point.size())) continue;
    found = {mount_point, type, ""};
    if (type == "cgroup") {
      // The super options name the controllers, among other options.
      std::istringstream words(options);
      std::string word;
      while (std::getline(words, word, ',')) {
        if (word == "rw" || word == "ro" || word.find('=') != std::string::npos || word == "noprefix" ||
            word == "clone_children" || word == "xattr" || word == "cpuset_v2_mode" || word == "favordynmods")
          continue;
        found.controllers += (found.controllers.empty() ? "" : ",") + word;
      }
    }
    any = true;
  }
  return any;
}

void write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd == -1) throw std::system_error(errno, std::generic_category(), "open " + path);
  if (::write(fd, text.data(), text.size()) == -1) {
    const int saved = errno;
    (void)::close(fd);
    throw std::system_error(saved, std::generic_category(), "write " + path + " \"" + text + "\"");
  }
  (void)::close(fd);
}

// /proc/self/cgroup: the path of hierarchy ID ("0" on v2), "" when absent.
std::string own_cgroup(const std::string& id) {
  std::ifstream file("/proc/self/cgroup");
  std::string line;
  while (std::getline(file, line)) {
    const std::size_t first = line.find(':');
    const std::size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (line.substr(0, first) == id) return line.substr(second + 1);
  }
  return "";
}

// The id of the hierarchy in which this process's cgroup is PATH.
std::string hierarchy_id_with(const std::string& path) {
  std::ifstream file("/proc/self/cgroup");
  std::string line;
  while (std::getline(file, line)) {
    const std::size_t first = line.find(':');
    const std::size_t second = line.find(':', first + 1);
    if (first != std::string::npos && second != std::string::npos && line.substr(second + 1) == path)
      return line.substr(0, first);
  }
  return "";
}

// What a cgroupfs of the hierarchy, mounted here, holds at its root, as the
// report says it: "1 process at its root, this one". In a mount namespace of
// this process's own, private, so that the mount reaches nothing outside, and
// goes with the process.
std::string mounted_view(const Hierarchy& hierarchy) {
  if (::unshare(CLONE_NEWNS) == -1) throw std::system_error(errno, std::generic_category(), "unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == -1)
    throw std::system_error(errno, std::generic_category(), "mount / MS_REC|MS_PRIVATE");
  char dir[] = "/tmp/nslab-cgroupns.XXXXXX";
  if (::mkdtemp(dir) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp /tmp");
  const char* data = hierarchy.controllers.empty() ? nullptr : hierarchy.controllers.c_str();
  if (::mount("none", dir, hierarchy.type.c_str(), 0, data) == -1) {
    const int saved = errno;
    (void)::rmdir(dir);
    throw std::system_error(saved, std::generic_category(),
                            std::string("mount -t ") + hierarchy.type + (data != nullptr ? std::string(" -o ") + data : "") +
                                " " + dir);
  }
  std::ifstream procs(std::string(dir) + "/cgroup.procs");
  std::string pid;
  int count = 0;
  bool ours = false;
  while (procs >> pid) {
    ++count;
    ours = ours || pid == std::to_string(::getpid());
  }
  procs.close();
  (void)::umount2(dir, MNT_DETACH);
  (void)::rmdir(dir);
  return std::to_string(count) + (count == 1 ? " process" : " processes") + " at its root, " +
         (ours ? "this one" : "not this one");
}

// One byte on FD; false at end of file (the other side has gone).
bool receive(int fd) {
  char byte = 0;
  ssize_t got = 0;
  while ((got = ::read(fd, &byte, 1)) == -1 && errno == EINTR) {
  }
  return got == 1;
}

void send(int fd) {
  const char byte = 's';
  if (::write(fd, &byte, 1) != 1) throw std::system_error(errno, std::generic_category(), "write to the pipe");
}

// The child: waits for each move, says what it sees. Never returns.
[[noreturn]] void child(bool too_early, const Hierarchy& hierarchy, const std::string& first_group, int from_parent,
                        int to_parent) {
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
  try {
    const char* label = too_early ? "too early" : "in time";
    if (!receive(from_parent)) ::_exit(kExitFailed);  // moved into its first group
    const std::string id = hierarchy_id_with(first_group);
    if (id.empty()) throw std::runtime_error("/proc/self/cgroup names no hierarchy with " + first_group);
    //! [cgroupns-unshare]
    if (::unshare(CLONE_NEWCGROUP) == -1)
      throw std::system_error(errno, std::generic_category(), "unshare(CLONE_NEWCGROUP)");
    //! [cgroupns-unshare]
    if (too_early) {
      (void)std::printf("%s, before the move: %s\n", label, own_cgroup(id).c_str());
      (void)std::fflush(stdout);
      send(to_parent);
      if (!receive(from_parent)) ::_exit(kExitFailed);  // moved into container/
      (void)std::printf("%s, after the move: %s\n", label, own_cgroup(id).c_str());
    } else {
      (void)std::printf("%s: %s\n", label, own_cgroup(id).c_str());
    }
    (void)std::printf("%s, a cgroupfs mounted inside: %s\n", label, mounted_view(hierarchy).c_str());
    (void)std::fflush(stdout);
    ::_exit(0);
  } catch (const std::system_error& error) {
    (void)fail(error.what(), 0);
  } catch (const std::exception& error) {
    (void)fail(error.what(), 0);
  }
  ::_exit(kExitFailed);
}

void move(pid_t pid, const std::string& dir) { write_file(dir + "/cgroup.procs", std::to_string(pid)); }

// One child, as the runtime of the exercise would handle it; its exit status.
int run_child(bool too_early, const Hierarchy& hierarchy, const std::string& group, const std::string& relative) {
  int down[2];
  int up[2];
  if (::pipe2(down, O_CLOEXEC) == -1 || ::pipe2(up, O_CLOEXEC) == -1)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  const std::string first = too_early ? "/runtime" : "/container";
  (void)std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid == -1) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    (void)::close(down[1]);
    (void)::close(up[0]);
    child(too_early, hierarchy, relative + first, down[0], up[1]);
  }
  (void)::close(down[0]);
  (void)::close(up[1]);
  int status = 0;
  try {
    //! [cgroupns-moves]
    move(pid, group + first);  // the child waits: it has not unshared yet
    send(down[1]);             // now it makes its cgroup namespace
    if (too_early) {
      if (receive(up[0])) {  // made, in runtime/
        move(pid, group + "/container");
        send(down[1]);
      }
    }
    //! [cgroupns-moves]
  } catch (...) {
    (void)::kill(pid, SIGKILL);
    (void)::waitpid(pid, &status, 0);
    (void)::close(down[1]);
    (void)::close(up[0]);
    throw;
  }
  (void)::close(down[1]);
  (void)::close(up[0]);
  while (::waitpid(pid, &status, 0) == -1) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// rmdir DIR, again while the kernel says EBUSY (at most 5 s).
int remove_group(const std::string& dir) {
  for (int tries = 0; tries < 50; ++tries) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) break;
    const timespec pause{0, 100'000'000L};
    (void)::nanosleep(&pause, nullptr);
  }
  return errno;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2 || argv[1][0] != '/') {
    (void)std::fprintf(stderr, "Usage: %s GROUP    (a new cgroup directory, an absolute path)\n", kProgram);
    return kExitFailed;
  }
  const std::string group = argv[1];
  const std::string parent = group.substr(0, group.find_last_of('/'));
  char real[PATH_MAX] = {};
  if (::realpath(parent.empty() ? "/" : parent.c_str(), real) == nullptr)
    return fail("realpath " + (parent.empty() ? std::string("/") : parent), errno);
  struct statfs fs {};
  if (::statfs(real, &fs) == -1) return fail(std::string("statfs ") + real, errno);
  if (fs.f_type != CGROUP_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC)
    return fail(group, 0, "not in a cgroup file system (v1: /sys/fs/cgroup/pids/NAME, v2: /sys/fs/cgroup/NAME)");
  Hierarchy hierarchy;
  const std::string path = std::string(real) + group.substr(group.find_last_of('/'));
  if (!hierarchy_of(path, hierarchy)) return fail(group, 0, "no cgroup mount in /proc/self/mountinfo holds it");
  // The group as /proc/PID/cgroup spells it: relative to the hierarchy's root.
  const std::string relative = path.substr(hierarchy.mount_point.size());

  if (::mkdir(group.c_str(), 0755) == -1) return fail("mkdir " + group, errno);
  std::vector<std::string> made{group};
  int status = 0;
  try {
    for (const char* sub : {"/runtime", "/container"}) {
      if (::mkdir((group + sub).c_str(), 0755) == -1)
        throw std::system_error(errno, std::generic_category(), "mkdir " + group + sub);
      made.push_back(group + sub);
    }
    status = run_child(true, hierarchy, group, relative);
    if (status == 0) status = run_child(false, hierarchy, group, relative);
    if (status != 0) status = kExitFailed;  // the child has said why
  } catch (const std::system_error& error) {
    status = fail(error.what(), 0);
  }
  for (auto dir = made.rbegin(); dir != made.rend(); ++dir) {
    const int error = remove_group(*dir);
    if (error != 0) status = fail("rmdir " + *dir, error);
  }
  return status;
}
