// Lab 06, exercise 2 "capabilities inside and outside" — a solution.
//
//   06-user-caps
//
// Prints this process's effective capabilities, its user namespace, and the
// user namespace that owns its UTS namespace (ioctl NS_GET_USERNS, ioctl_ns(2)),
// then tries a privileged operation on that UTS namespace: sethostname(2)
// with the name it has already, which changes nothing even when allowed.
//
//   CapEff: 000001ffffffffff
//   user namespace: user:[4026532712]
//   UTS namespace: uts:[4026532713], owned by user:[4026532712], ours
//   sethostname("box"): done
//
// The kernel allows sethostname only with CAP_SYS_ADMIN in the user namespace
// that owns the UTS namespace (user_namespaces(7)). In a rootless container
// the owner is the container's user namespace, where root holds every
// capability: done. Root of a new user namespace that kept the host's UTS
// namespace (unshare --user --map-root-user) shows the very same CapEff, but
// the owner is the host's user namespace, above its own — NS_GET_USERNS then
// refuses to name it — and the kernel says EPERM. An ordinary process of the
// host is in the owner's namespace, without the capability: EPERM as well.
//
// Exit status: 0 when sethostname was allowed, 1 when it was refused.
// Errors (a wrong argument, /proc unreadable): one line,
// "06-user-caps: what failed: why", exit status 125.

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace {

constexpr const char* kProgram = "06-user-caps";
constexpr int kExitFailed = 125;
constexpr int kExitRefused = 1;

int fail(const std::string& what, int error) {
  (void)std::fprintf(stderr, "%s: %s: %s\n", kProgram, what.c_str(), std::strerror(error));
  return kExitFailed;
}

// The value of FIELD ("CapEff") in /proc/self/status, or "" when absent.
std::string status_field(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    const std::size_t value = line.find_first_not_of(" \t", field.size() + 1);
    return value == std::string::npos ? "" : line.substr(value);
  }
  return "";
}

// What /proc/self/fd/FD links to: "user:[4026532712]" for a namespace.
std::string fd_target(int fd) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  char target[PATH_MAX] = {};
  const ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
  return length > 0 ? std::string(target, static_cast<std::size_t>(length)) : "?";
}

bool same_file(int a, int b) {
  struct stat first {};
  struct stat second {};
  return ::fstat(a, &first) == 0 && ::fstat(b, &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

}  // namespace

int main(int argc, char* /*argv*/[]) {
  if (argc != 1) {
    (void)std::fprintf(stderr, "Usage: %s\n", kProgram);
    return kExitFailed;
  }
  const std::string capabilities = status_field("CapEff");
  if (capabilities.empty()) return fail("read CapEff from /proc/self/status", errno != 0 ? errno : ENOENT);
  const int user = ::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (user == -1) return fail("open /proc/self/ns/user", errno);
  const int uts = ::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  if (uts == -1) return fail("open /proc/self/ns/uts", errno);
  (void)std::printf("CapEff: %s\n", capabilities.c_str());
  (void)std::printf("user namespace: %s\n", fd_target(user).c_str());

  //! [caps-owner]
  // The owner of a namespace: the user namespace that was the creator's when
  // it was made. The kernel names it only if it is ours or one below ours.
  const int owner = ::ioctl(uts, NS_GET_USERNS);
  if (owner >= 0) {
    (void)std::printf("UTS namespace: %s, owned by %s, %s\n", fd_target(uts).c_str(), fd_target(owner).c_str(),
                      same_file(owner, user) ? "ours" : "one below ours");
    (void)::close(owner);
  } else if (errno == EPERM) {
    (void)std::printf("UTS namespace: %s, owned by a user namespace above ours (NS_GET_USERNS: %s)\n",
                      fd_target(uts).c_str(), std::strerror(errno));
  } else {
    return fail("ioctl(/proc/self/ns/uts, NS_GET_USERNS)", errno);
  }
  //! [caps-owner]

  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) == -1) return fail("gethostname", errno);
  //! [caps-try]
  const bool allowed = ::sethostname(name, std::strlen(name)) == 0;  // the same name: nothing changes
  (void)std::printf("sethostname(\"%s\"): %s\n", name, allowed ? "done" : std::strerror(errno));
  //! [caps-try]
  (void)::close(uts);
  (void)::close(user);
  return allowed ? 0 : kExitRefused;
}
