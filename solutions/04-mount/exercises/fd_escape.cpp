// Lab 04, exercise 7 "an fd on the host's tree" — a solution.
//
//   04-mount-fd-escape FD PATH   exit 0 if PATH (a path on the host) could be
//                                read through descriptor FD, 1 if not; 125 on
//                                bad arguments
//
// The escape: the caller of a runtime left descriptor FD open on a directory
// of the host (a shell's `exec 5< /`, a test runner's fd, a service manager's
// socket directory). A descriptor names the directory itself, not a path, so
// a root filesystem and pivot_root do not change what it leads to:
// fchdir(FD) puts the working directory back in the host's tree, ".." walks
// up to the host's top (nothing stops it: the walk never meets this process's
// root), and PATH, taken from there, is the host's file. The defence is the
// runtime's, not the kernel's: close every descriptor but 0, 1 and 2 before
// COMMAND runs (close_range(2)). Then FD names nothing: EBADF.
// Built static, so it runs in any root filesystem.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int stayed_inside(const char* what, const char* path) {
  std::printf("stayed inside: %s: %s; %s is not reachable\n", what, std::strerror(errno), path);
  return 1;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 3) {
    (void)std::fprintf(stderr, "Usage: 04-mount-fd-escape FD PATH\n");
    return 125;
  }
  char* end = nullptr;
  errno = 0;
  const long fd = std::strtol(argv[1], &end, 10);
  if (errno != 0 || end == argv[1] || *end != '\0' || fd < 0 || fd > 1023) {
    (void)std::fprintf(stderr, "04-mount-fd-escape: FD \"%s\": not a descriptor number (0 to 1023)\n", argv[1]);
    return 125;
  }
  const char* path = argv[2];
  if (path[0] != '/') {
    (void)std::fprintf(stderr, "04-mount-fd-escape: PATH \"%s\": not an absolute path\n", path);
    return 125;
  }
  //! [fd-escape]
  if (::fchdir(static_cast<int>(fd)) == -1) return stayed_inside("fchdir", path);  // back in the host's tree
  for (int i = 0; i < 256; ++i) (void)::chdir("..");  // up to the host's top
  const char* relative = path + std::strspn(path, "/");  // from the working directory, not from "/"
  const int file = ::open(*relative != '\0' ? relative : ".", O_RDONLY | O_CLOEXEC);
  //! [fd-escape]
  if (file == -1) return stayed_inside("open", path);
  char buffer[4096];
  const ssize_t length = ::read(file, buffer, sizeof buffer);
  (void)::close(file);
  if (length == -1) return stayed_inside("read", path);
  std::printf("escaped: read %zd bytes of %s through fd %ld\n", length, path, fd);
  return 0;
}
