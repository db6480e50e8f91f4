// Lab 06, exercise 5 "root inside writes a file of the host's root" — a solution.
//
//   06-user-write-root-file FILE
//
// Says who this process is — its uid here and on the host, its effective
// capabilities — and what it sees of FILE, then tries to write FILE: it opens
// it for appending and adds one line. Meant for a file of the host's root
// that you made for the purpose (a copy, in a directory of your own): where
// the write is allowed, it is made.
//
//   uid 0, which is uid 65534 outside (uid_map: 0 65534 1)
//   CapEff: 000001ffffffffff
//   FILE: owner 65534, group 65534, mode 0644, as this namespace sees it
//   open(FILE, O_WRONLY|O_APPEND): Permission denied
//
// Root of a rootless container holds every capability, CAP_DAC_OVERRIDE
// among them, but a capability of a user namespace overrides a file's mode
// only if the file's owner and group are mapped in that namespace
// (capable_wrt_inode_uidgid in the kernel; user_namespaces(7)). The host's
// root is not: inside, its files show the overflow id, 65534, and the
// container's root is "others" for them. Run by the host's root (or in a
// container whose map covers 0, as 06-user's default for root, 0 0 1), the
// same program writes FILE.
//
// Exit status: 0 when FILE was written, 1 when the kernel refused it (EACCES,
// EPERM, EROFS). Errors (a wrong argument, FILE not there): one line,
// "06-user-write-root-file: what failed: why", exit status 125.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

constexpr const char* kProgram = "06-user-write-root-file";
constexpr int kExitFailed = 125;
constexpr int kExitRefused = 1;

int fail(const std::string& what, int error) {
  (void)std::fprintf(stderr, "%s: %s: %s\n", kProgram, what.c_str(), std::strerror(error));
  return kExitFailed;
}

// The value of FIELD ("CapEff") in /proc/self/status, or "?".
std::string status_field(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    const std::size_t value = line.find_first_not_of(" \t", field.size() + 1);
    return value == std::string::npos ? "?" : line.substr(value);
  }
  return "?";
}

// /proc/self/uid_map as one line: "0 65534 1", ranges joined by "; ".
std::string uid_map() {
  std::ifstream file("/proc/self/uid_map");
  std::string line;
  std::string lines;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string in;
    std::string out;
    std::string count;
    if (!(fields >> in >> out >> count)) continue;
    if (!lines.empty()) lines += "; ";
    lines.append(in).append(" ").append(out).append(" ").append(count);
  }
  return lines.empty() ? "?" : lines;
}

// The host's number for uid ID of this namespace, from the map, or "?".
// (For the host's own initial namespace the map is "0 0 4294967295".)
std::string outside(uid_t id) {
  std::ifstream file("/proc/self/uid_map");
  unsigned long in = 0;
  unsigned long out = 0;
  unsigned long count = 0;
  while (file >> in >> out >> count) {
    if (id >= in && id - in < count) return std::to_string(out + (id - in));
  }
  return "?";
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2 || argv[1][0] == '\0') {
    (void)std::fprintf(stderr, "Usage: %s FILE\n", kProgram);
    return kExitFailed;
  }
  const char* path = argv[1];
  struct stat info {};
  if (::stat(path, &info) == -1) return fail(std::string("stat ") + path, errno);
  if (!S_ISREG(info.st_mode)) return fail(std::string("stat ") + path, EINVAL);

  const uid_t uid = ::geteuid();
  (void)std::printf("uid %u, which is uid %s outside (uid_map: %s)\n", static_cast<unsigned>(uid),
                    outside(uid).c_str(), uid_map().c_str());
  (void)std::printf("CapEff: %s\n", status_field("CapEff").c_str());
  // An owner the namespace does not map reads as the overflow id, 65534.
  (void)std::printf("%s: owner %u, group %u, mode %04o, as this namespace sees it\n", path,
                    static_cast<unsigned>(info.st_uid), static_cast<unsigned>(info.st_gid),
                    static_cast<unsigned>(info.st_mode & 07777));

  //! [write-root-file]
  const int fd = ::open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd == -1) {
    const int saved = errno;
    (void)std::printf("open(%s, O_WRONLY|O_APPEND): %s\n", path, std::strerror(saved));
    return saved == EACCES || saved == EPERM || saved == EROFS ? kExitRefused : fail("open", saved);
  }
  //! [write-root-file]
  const std::string line = "written by uid " + std::to_string(uid) + " (uid " + outside(uid) + " outside)\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int saved = errno;
  (void)::close(fd);
  if (written == -1) {
    (void)std::printf("write(%s): %s\n", path, std::strerror(saved));
    return saved == EACCES || saved == EPERM || saved == EROFS ? kExitRefused : fail("write", saved);
  }
  (void)std::printf("open(%s, O_WRONLY|O_APPEND): done; wrote %zd bytes\n", path, written);
  return 0;
}
