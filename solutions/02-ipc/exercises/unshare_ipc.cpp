// Lab 02, exercise "unshare(2) instead of clone(2)" — a solution.
//
//   02-ipc-unshare COMMAND [ARG...]
//
// unshare(2) moves the *calling* process into new namespaces; no child is
// created. Then exec(3) replaces this process with COMMAND, which stays in the
// new IPC namespace. Compare with lab 02, where clone(2) creates a child that
// starts in the new namespace while the parent stays on the host to wait for it,
// forward signals and clean up — a runtime needs that parent; a one-shot tool
// like unshare(1) does not.

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char* argv[]) {
  if (argc < 2) {
    (void)std::fprintf(stderr, "Usage: 02-ipc-unshare COMMAND [ARG...]\n");
    return 125;
  }
  //! [unshare-ipc]
  if (::unshare(CLONE_NEWIPC) == -1) {
    (void)std::fprintf(stderr, "02-ipc-unshare: unshare(CLONE_NEWIPC): %s\n", std::strerror(errno));
    return 125;
  }
  ::execvp(argv[1], argv + 1);  // this same process, now in the new namespace
  //! [unshare-ipc]
  const int saved = errno;
  (void)std::fprintf(stderr, "02-ipc-unshare: exec \"%s\": %s\n", argv[1], std::strerror(saved));
  return saved == ENOENT || saved == ENOTDIR ? 127 : 126;  // as docker does
}
