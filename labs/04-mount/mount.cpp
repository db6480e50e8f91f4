// Lab 04 — the mount namespace.
//
// A new mount namespace starts with a copy of the parent's mount table; mounts
// made in it are its own — unless mount propagation carries them back. On
// systemd hosts `/` is a *shared* mount (mount_namespaces(7), "Shared subtrees"):
// the copies in a new namespace are peers of the host's, and a mount under any of
// them appears on the host too. So the first thing a container does, before any
// mount, is make its whole tree private. Then it can mount a /proc for its own
// PID namespace, and with a root filesystem, pivot_root(2) into it so that
// nothing of the host's tree stays reachable.

#include "04-mount/mount.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>

#include "nslab/error.hpp"
#include "nslab/fd.hpp"
#include "nslab/mounts.hpp"

namespace nslab {
namespace {

// COMMAND's PATH in a root filesystem of its own: the usual directories, not the host's.
constexpr const char* kContainerPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

//! [mount-private]
// mount_namespaces(7): MS_REC|MS_PRIVATE on "/" turns every mount we copied from
// the host into a private one. From now on, nothing mounted here reaches the
// host, and nothing the host mounts reaches us. It changes our copies only.
void make_mounts_private(const Context& ctx) {
  // TODO(lab 04): implement make every mount private (recursively), before any other mount.
  // Read docs/{en,zh}/lab04-mount.md#lab04-private, then replace the line below with your code.
  throw nslab::Todo("04", "make every mount private (recursively), before any other mount", "docs/{en,zh}/lab04-mount.md#lab04-private");
  ctx.narrator.say("mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL): no mount propagates to or from the host");
}
//! [mount-private]

//! [mount-proc]
// proc(5): a proc filesystem shows the PID namespace of the process that mounts
// it. We are PID 1 of the new namespace, so this /proc lists only the container.
// SHOWN is the path for messages, when TARGET is a /proc/self/fd/N.
void mount_proc(const Context& ctx, const std::string& target, const std::string& shown) {
  // TODO(lab 04): implement mount a fresh proc filesystem for the new PID namespace.
  // Read docs/{en,zh}/lab04-mount.md#lab04-proc, then replace the line below with your code.
  throw nslab::Todo("04", "mount a fresh proc filesystem for the new PID namespace", "docs/{en,zh}/lab04-mount.md#lab04-proc");
  ctx.narrator.say("mounted a new proc on " + shown + ": it lists this PID namespace only");
}
//! [mount-proc]

//! [mount-point]
// A mount point of the root filesystem, NAME ("dev", "tmp"), opened *inside* it.
// The root filesystem is data, maybe hostile: with `tmp -> /etc` in it, a mount
// on the host path DIR/tmp would follow the link on the host's side of the tree
// (PITFALLS 18). open_in_root() resolves every link as if DIR were "/", and the
// mount goes on the fd's path, /proc/self/fd/N. A name that resolves to the
// root itself is refused: a mount there would hide the whole root filesystem.
UniqueFd open_mount_point(int root_fd, const std::string& rootfs, const std::string& name) {
  UniqueFd fd = open_in_root(root_fd, name, rootfs + "/" + name);
  struct stat point {};
  struct stat root {};
  check(::fstat(fd.get(), &point), "fstat " + printable(rootfs) + "/" + name);
  check(::fstat(root_fd, &root), "fstat " + printable(rootfs));
  if (point.st_dev == root.st_dev && point.st_ino == root.st_ino) {
    throw Error(0, "--rootfs " + printable(rootfs) + ": " + name + " leads back to the root itself, which cannot be a mount point");
  }
  return fd;
}
//! [mount-point]

// A minimal /dev: a tmpfs holding the six devices programs expect, each a bind
// mount of the host's node (mknod(2) would not work in a user namespace, lab 06).
void mount_minimal_dev(const Context& ctx, int root_fd, const std::string& rootfs) {
  const std::string shown = rootfs + "/dev";
  mount_checked("tmpfs", fd_path(open_mount_point(root_fd, rootfs, "dev").get()), "tmpfs", MS_NOSUID | MS_NOEXEC,
                "mode=755,size=64k", shown);
  // Opened again: a new walk to "dev" ends on the tmpfs just mounted (the fd
  // opened before still names the directory underneath it).
  const UniqueFd dev = open_mount_point(root_fd, rootfs, "dev");
  static constexpr std::array<const char*, 6> kDevices = {"null", "zero", "full", "random", "urandom", "tty"};
  for (const char* device : kDevices) {
    const std::string node = shown + "/" + device;
    const UniqueFd file(::openat(dev.get(), device, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!file) throw_errno("create " + printable(node));
    mount_checked((std::string("/dev/") + device).c_str(), fd_path(file.get()), nullptr, MS_BIND, nullptr, node);
  }
  static constexpr std::array<std::array<const char*, 2>, 4> kLinks = {{{"/proc/self/fd", "fd"},
                                                                        {"/proc/self/fd/0", "stdin"},
                                                                        {"/proc/self/fd/1", "stdout"},
                                                                        {"/proc/self/fd/2", "stderr"}}};
  for (const auto& [target, name] : kLinks) {
    check(::symlinkat(target, dev.get(), name), "symlink " + printable(shown) + "/" + name);
  }
  ctx.narrator.say("mounted a tmpfs on " + shown + " with null, zero, full, random, urandom, tty");
}

void mount_tmp(const Context& ctx, int root_fd, const std::string& rootfs) {
  mount_checked("tmpfs", fd_path(open_mount_point(root_fd, rootfs, "tmp").get()), "tmpfs", MS_NOSUID | MS_NODEV,
                "mode=1777", rootfs + "/tmp");
  ctx.narrator.say("mounted a tmpfs on " + rootfs + "/tmp");
}

// /sys, when the root filesystem has the directory: a fresh sysfs, read-only.
// sysfs shows the network devices of the namespace of the process that mounts
// it (sysfs(5)): from lab 05 on, the container's own, lo and eth0.
void mount_sys(const Context& ctx, int root_fd, const std::string& rootfs) {
  UniqueFd point;
  try {
    point = open_mount_point(root_fd, rootfs, "sys");
  } catch (const Error& e) {
    if (e.errnum() == ENOENT) return;  // no /sys in this root filesystem: none mounted
    throw;
  }
  mount_checked("sysfs", fd_path(point.get()), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                rootfs + "/sys");
  ctx.narrator.say("mounted a read-only sysfs on " + rootfs + "/sys");
}

// For EACCES on the way into the root filesystem, with lab 06's --uid-map: the
// container's root is an ordinary uid to the host.
std::string remapped_root_hint() {
  std::ifstream map("/proc/self/uid_map");  // "0 100000 65536": our uid 0 is 100000 outside
  unsigned long inside = 1;
  unsigned long outside = 0;
  const std::string who = (map >> inside >> outside) && inside == 0 ? "uid " + std::to_string(outside) : "another uid";
  return "the container's root is " + who + " to the host, and every directory on the way must let it through";
}

// Opens PATH, which must be the very directory prepare() checked: between the
// check and now, whoever can write to its parent could have swapped it for a
// link to the host's "/", so the path alone proves nothing; its identity does.
UniqueFd open_checked_rootfs(const std::string& path, const RootFs& rootfs) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd && errno == EACCES) {
    // Lab 06 with --uid-map: the container's root is an ordinary uid outside.
    const int saved = errno;
    throw Error(saved, "open(" + quoted(rootfs.path) + ")", remapped_root_hint());
  }
  if (!fd) throw_errno("open(" + quoted(rootfs.path) + ")");
  struct stat info {};
  check(::fstat(fd.get(), &info), "fstat " + printable(rootfs.path));
  if (info.st_dev != rootfs.dev || info.st_ino != rootfs.ino) {
    throw Error(0, "--rootfs " + printable(rootfs.path) + ": the directory was replaced after it was checked");
  }
  return fd;
}

//! [mount-pivot]
// pivot_root(2), the pivot_root(".", ".") way: no directory for the old root is
// needed. After it, the old root is stacked on top of the new one, at "/" — we
// detach it, and the host's tree is gone from this namespace.
void pivot_into(const Context& ctx, const RootFs& rootfs) {
  const std::string& dir = rootfs.path;
  // TODO(lab 04): implement pivot_root into the root filesystem and detach the old root.
  // Read docs/{en,zh}/lab04-mount.md#lab04-pivot, then replace the line below with your code.
  throw nslab::Todo("04", "pivot_root into the root filesystem and detach the old root", "docs/{en,zh}/lab04-mount.md#lab04-pivot");
  ctx.narrator.say("pivot_root(\".\", \".\") into " + dir + ", old root detached: the host's tree is out of reach");
}
//! [mount-pivot]

}  // namespace

RootFs check_rootfs(const std::string& dir) {
  const std::string shown = "--rootfs " + printable(dir);
  std::array<char, PATH_MAX> resolved{};
  if (::realpath(dir.c_str(), resolved.data()) == nullptr) throw_errno(shown);
  RootFs rootfs{resolved.data()};
  const UniqueFd root_fd(::open(rootfs.path.c_str(), O_PATH | O_CLOEXEC));
  if (!root_fd) throw_errno(shown);
  struct stat info {};
  struct stat host_root {};
  check(::fstat(root_fd.get(), &info), shown);
  if (!S_ISDIR(info.st_mode)) throw Error(ENOTDIR, shown);
  check(::stat("/", &host_root), "stat(\"/\")");
  // By identity, not by name: a bind mount of "/" elsewhere is the host's root too.
  if (info.st_dev == host_root.st_dev && info.st_ino == host_root.st_ino) {
    throw Error(EINVAL, shown + ": the host's own root cannot be a container's");
  }
  rootfs.dev = info.st_dev;
  rootfs.ino = info.st_ino;
  // Each mount point a directory of its own: with `dev -> tmp`, /dev would
  // be mounted and then hidden under /tmp, and /dev/null would be a file.
  std::vector<std::pair<const char*, struct stat>> seen;
  // sys/ is optional: without it, no /sys is mounted; with it, it is checked alike.
  for (const char* mount_point : {"proc", "dev", "tmp", "sys"}) {
    const bool optional = std::string_view(mount_point) == "sys";
    struct stat point {};
    try {
      check(::fstat(open_mount_point(root_fd.get(), rootfs.path, mount_point).get(), &point), shown);
    } catch (const Error& e) {
      if (optional && e.errnum() == ENOENT) continue;
      if (e.errnum() != ENOENT && e.errnum() != ENOTDIR) throw;
      throw Error(0, shown + ": no directory " + mount_point +
                         "/ to mount on (scripts/make-rootfs.sh DIR makes a complete one)");
    }
    for (const auto& [other, other_point] : seen) {
      if (other_point.st_dev == point.st_dev && other_point.st_ino == point.st_ino) {
        throw Error(0, shown + ": " + other + " and " + mount_point + " lead to the same directory");
      }
    }
    seen.emplace_back(mount_point, point);
  }
  return rootfs;
}

void refuse_directories_on_standard_fds(const std::string& rootfs) {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    struct stat info {};
    if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
      throw Error(0, "--rootfs " + printable(rootfs) + ": fd " + std::to_string(fd) +
                         " is open on a directory of the host, which would lead back out of the root filesystem "
                         "(/proc/self/fd/" + std::to_string(fd) + "/..): give it a file, a pipe or a terminal");
    }
  }
}

void check_env_assignment(std::string_view assignment) {
  const auto equals = assignment.find('=');
  const std::string_view name = assignment.substr(0, equals);
  const bool valid_name = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
                          name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                              std::string_view::npos;
  if (equals == std::string_view::npos || !valid_name) {
    throw UsageError("--env: expected NAME=VALUE (NAME: letters, digits, _), got " + quoted(assignment, 40));
  }
}

void MountNamespace::add_options(cli::Parser& parser) {
  parser.add_value("rootfs", "DIR",
                   "pivot_root into DIR, with its own /proc, a minimal /dev and a tmpfs /tmp; COMMAND "
                   "starts with a clean environment (PATH, HOME, TERM)",
                   [this](std::string_view value) {
                     if (value.empty()) throw UsageError("--rootfs: expected a directory");
                     if (rootfs_arg_) throw UsageError("--rootfs given twice: a container has one root");
                     rootfs_arg_ = std::string(value);
                   });
  parser.add_value("env", "NAME=VALUE", "set a variable in COMMAND's environment (repeatable)",
                   [this](std::string_view value) {
                     check_env_assignment(value);
                     env_.emplace_back(value);
                   });
}

std::vector<std::string> clean_environment() {
  std::vector<std::string> env{kContainerPath, "HOME=/root"};
  if (const char* term = std::getenv("TERM")) env.push_back(std::string("TERM=") + term);
  return env;
}

//! [mount-env]
// With a root filesystem of its own, COMMAND gets a small clean environment, as
// container runtimes do: the caller's variables are the host's (its paths, its
// tokens) and mean nothing inside (PITFALLS 19). --env adds to it. Without
// --rootfs, COMMAND keeps the caller's environment, with --env on top.
void MountNamespace::prepare(Context& ctx) {
  if (rootfs_arg_) {
    rootfs_ = check_rootfs(*rootfs_arg_);  // before clone: a bad DIR costs nothing
    // fds 0-2 are COMMAND's, so they stay open: one on a host directory would
    // lead out of the root filesystem as fd 7 would (PITFALLS 15).
    refuse_directories_on_standard_fds(rootfs_->path);
    ctx.narrator.say("root filesystem: " + rootfs_->path);
  }
  if (!rootfs_ && env_.empty()) return;  // the caller's environment, as it is
  std::vector<std::string> env;
  if (rootfs_) {
    env = clean_environment();
  } else {
    for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  }
  for (const std::string& assignment : env_) {
    const std::string name = assignment.substr(0, assignment.find('=') + 1);  // "NAME="
    std::erase_if(env, [&name](const std::string& entry) { return entry.rfind(name, 0) == 0; });
    env.push_back(assignment);
  }
  ctx.narrator.say("COMMAND's environment: " + std::to_string(env.size()) + " variable(s)" +
                   (rootfs_ ? ", a clean set: the host's stay outside" : ", the caller's with --env"));
  ctx.environment = std::move(env);
}
//! [mount-env]

//! [mount-flag]
int MountNamespace::clone_flags() const {
  // TODO(lab 04): implement the clone flag that gives the child a new mount namespace.
  // Read docs/{en,zh}/lab04-mount.md#lab04-flag, then replace the line below with your code.
  throw nslab::Todo("04", "the clone flag that gives the child a new mount namespace", "docs/{en,zh}/lab04-mount.md#lab04-flag");
}
//! [mount-flag]

std::optional<Isolation> MountNamespace::isolation() const {
  return Isolation{"mnt", "change mounts (make them private, mount /proc)", "docs/{en,zh}/lab04-mount.md#lab04-flag"};
}

//! [mount-setup]
void MountNamespace::setup_inside(Context& ctx) {
  make_mounts_private(ctx);  // first: before any mount (PITFALLS 1)
  if (rootfs_) {
    pivot_into(ctx, *rootfs_);  // with its /proc, mounted on the way
  } else {
    mount_proc(ctx, "/proc", "/proc");
  }
}
//! [mount-setup]

}  // namespace nslab
