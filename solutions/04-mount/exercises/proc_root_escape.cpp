// Lab 04, exercise 8 "through /proc/1/root" — a solution.
//
//   04-mount-proc-escape PATH    exit 0 if PATH (a path on the host) can be
//                                reached through /proc/1/root, 1 if not; 125
//                                on bad arguments
//
// The escape: /proc/PID/root is not an ordinary symbolic link. Following it
// does not look its text up: it hands out the root directory of process PID,
// wherever that is (proc(5)). PID 1 of the host's PID namespace is the host's
// init, whose root is the host's "/": if this process sees the host's
// processes in its /proc, /proc/1/root/PATH is the host's PATH, whatever its
// own root. A chroot that mounts, or bind-mounts, the host's proc inside
// gives exactly that. In a container with a PID namespace of its own and a
// proc mounted for it, /proc lists the container's processes only: PID 1 is
// the container's own first process, whose root is the container's "/".
// Built static, so it runs in any root filesystem.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

// Who PID 1 is, as /proc/1/comm names it ("systemd", "nslab-init"), or "?".
std::string pid1_name() {
  char name[64] = {};
  const int file = ::open("/proc/1/comm", O_RDONLY | O_CLOEXEC);
  if (file == -1) return "?";
  const ssize_t length = ::read(file, name, sizeof name - 1);
  (void)::close(file);
  if (length <= 0) return "?";
  std::string text(name, static_cast<std::size_t>(length));
  if (text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "Usage: 04-mount-proc-escape PATH\n");
    return 125;
  }
  const std::string path = argv[1];
  if (path.empty() || path[0] != '/') {
    (void)std::fprintf(stderr, "04-mount-proc-escape: PATH \"%s\": not an absolute path\n", argv[1]);
    return 125;
  }
  //! [proc-escape]
  const std::string through = "/proc/1/root" + path;  // PID 1's root, then PATH from there
  struct stat info {};
  const bool reached = ::stat(through.c_str(), &info) == 0;
  //! [proc-escape]
  std::printf("%s: %s is %sreachable through /proc/1/root (PID 1 here is %s)\n", reached ? "escaped" : "stayed inside",
              path.c_str(), reached ? "" : "not ", pid1_name().c_str());
  return reached ? 0 : 1;
}
