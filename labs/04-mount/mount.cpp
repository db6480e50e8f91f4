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

#include <array>
#include <climits>
#include <cstdlib>
#include <string>

#include "nslab/error.hpp"

namespace nslab {
namespace {

void mount_or_throw(const char* source, const std::string& target, const char* type,
                    unsigned long flags, const char* data, const std::string& what) {
  check(::mount(source, target.c_str(), type, flags, data), what);
}

//! [mount-private]
// mount_namespaces(7): MS_REC|MS_PRIVATE on "/" turns every mount we copied from
// the host into a private one. From now on, nothing mounted here reaches the
// host, and nothing the host mounts reaches us. It changes our copies only.
void make_mounts_private(const Context& ctx) {
  // TODO(lab 04): implement make every mount private (recursively), before any other mount.
  // Read docs/{en,zh}/lab04-mount.md#lab04-private, then replace the line below with your code.
  throw nslab::Todo("04", "make every mount private (recursively), before any other mount", "docs/{en,zh}/lab04-mount.md#lab04-private");
  ctx.narrator.say("mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE): no mount propagates to or from the host");
}
//! [mount-private]

//! [mount-proc]
// proc(5): a proc filesystem shows the PID namespace of the process that mounts
// it. We are PID 1 of the new namespace, so this /proc lists only the container.
void mount_proc(const Context& ctx, const std::string& target) {
  // TODO(lab 04): implement mount a fresh proc filesystem for the new PID namespace.
  // Read docs/{en,zh}/lab04-mount.md#lab04-proc, then replace the line below with your code.
  throw nslab::Todo("04", "mount a fresh proc filesystem for the new PID namespace", "docs/{en,zh}/lab04-mount.md#lab04-proc");
  ctx.narrator.say("mounted a new proc on " + target + ": it lists this PID namespace only");
}
//! [mount-proc]

// A minimal /dev: a tmpfs holding the six devices programs expect, each a bind
// mount of the host's node (mknod(2) would not work in a user namespace, lab 06).
void mount_minimal_dev(const Context& ctx, const std::string& dev) {
  mount_or_throw("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k",
                 "mount(\"tmpfs\", \"" + dev + "\", \"tmpfs\")");
  static constexpr std::array<const char*, 6> kDevices = {"null", "zero", "full",
                                                          "random", "urandom", "tty"};
  for (const char* device : kDevices) {
    const std::string node = dev + "/" + device;
    const int fd = ::open(node.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd == -1) throw_errno("create " + node);
    ::close(fd);
    mount_or_throw((std::string("/dev/") + device).c_str(), node, nullptr, MS_BIND, nullptr,
                   std::string("mount(\"/dev/") + device + "\", \"" + node + "\", MS_BIND)");
  }
  static constexpr std::array<std::array<const char*, 2>, 4> kLinks = {{{"/proc/self/fd", "fd"},
                                                                        {"/proc/self/fd/0", "stdin"},
                                                                        {"/proc/self/fd/1", "stdout"},
                                                                        {"/proc/self/fd/2", "stderr"}}};
  for (const auto& [target, name] : kLinks) check(::symlink(target, (dev + "/" + name).c_str()), "symlink " + dev + "/" + name);
  ctx.narrator.say("mounted a tmpfs on " + dev + " with null, zero, full, random, urandom, tty");
}

//! [mount-pivot]
// pivot_root(2), the pivot_root(".", ".") way: no directory for the old root is
// needed. After it, the old root is stacked on top of the new one, at "/" — we
// detach it, and the host's tree is gone from this namespace.
void pivot_into(const Context& ctx, const std::string& rootfs) {
  // TODO(lab 04): implement pivot_root into the root filesystem and detach the old root.
  // Read docs/{en,zh}/lab04-mount.md#lab04-pivot, then replace the line below with your code.
  throw nslab::Todo("04", "pivot_root into the root filesystem and detach the old root", "docs/{en,zh}/lab04-mount.md#lab04-pivot");
  ctx.narrator.say("pivot_root(\".\", \".\") into " + rootfs + ", old root detached: the host's tree is out of reach");
}
//! [mount-pivot]

}  // namespace

std::string check_rootfs(const std::string& dir) {
  std::array<char, PATH_MAX> resolved{};
  if (::realpath(dir.c_str(), resolved.data()) == nullptr) throw_errno("--rootfs " + dir);
  std::string root = resolved.data();
  struct stat info {};
  check(::stat(root.c_str(), &info), "--rootfs " + dir);
  if (!S_ISDIR(info.st_mode)) throw Error(ENOTDIR, "--rootfs " + dir);
  if (root == "/") throw Error(EINVAL, "--rootfs " + dir + ": the host's own root cannot be a container's");
  for (const char* mount_point : {"proc", "dev", "tmp"}) {
    const std::string path = root + "/" + mount_point;
    if (::stat(path.c_str(), &info) == -1 || !S_ISDIR(info.st_mode)) {
      throw Error(0, "--rootfs " + dir + ": no directory " + mount_point +
                         "/ to mount on (scripts/make-rootfs.sh DIR makes a complete one)");
    }
  }
  return root;
}

void MountNamespace::add_options(cli::Parser& parser) {
  parser.add_value("rootfs", "DIR",
                   "pivot_root into DIR, with its own /proc, a minimal /dev and a tmpfs /tmp",
                   [this](std::string_view value) { rootfs_ = std::string(value); });
}

void MountNamespace::prepare(Context& ctx) {
  if (!rootfs_) return;
  rootfs_ = check_rootfs(*rootfs_);  // before clone: a bad DIR costs nothing
  ctx.narrator.say("root filesystem: " + *rootfs_);
}

//! [mount-flag]
int MountNamespace::clone_flags() const {
  // TODO(lab 04): implement the clone flag that gives the child a new mount namespace.
  // Read docs/{en,zh}/lab04-mount.md#lab04-flag, then replace the line below with your code.
  throw nslab::Todo("04", "the clone flag that gives the child a new mount namespace", "docs/{en,zh}/lab04-mount.md#lab04-flag");
}
//! [mount-flag]

//! [mount-setup]
void MountNamespace::setup_inside(Context& ctx) {
  make_mounts_private(ctx);  // first: before any mount (PITFALLS 1)
  if (rootfs_) pivot_into(ctx, *rootfs_);
  mount_proc(ctx, "/proc");  // after the pivot, in the new root
}
//! [mount-setup]

}  // namespace nslab
