#include "nslab/fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <charconv>
#include <string_view>
#include <vector>

#include "nslab/error.hpp"

namespace nslab {
namespace {

// close_range(2) through syscall(2): glibc has a wrapper only since 2.34.
int close_fd_range(unsigned first, unsigned last) {
#ifdef SYS_close_range
  return static_cast<int>(::syscall(SYS_close_range, first, last, 0U));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// Without close_range: the fds this process has, from /proc/self/fd.
std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) throw_errno("opendir(\"/proc/self/fd\")");
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = -1;
    const std::string_view name(entry->d_name);
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec == std::errc() && fd != own) fds.push_back(fd);
  }
  ::closedir(dir);
  return fds;
}

}  // namespace

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) {
    // Never retried on EINTR: Linux has released the fd whatever close() returns.
    (void)::close(fd_);
  }
  fd_ = fd;
}

void ensure_standard_fds_open() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open(2) returns the lowest free fd: this one, since those below are open.
    const int opened = ::open("/dev/null", O_RDWR);  // no O_CLOEXEC: COMMAND keeps it
    if (opened == -1) throw_errno("open(\"/dev/null\") for the closed fd " + std::to_string(fd));
    if (opened != fd) {
      (void)::close(opened);
      throw Error(EBADF, "fd " + std::to_string(fd) + " is closed and could not be reopened");
    }
  }
}

void close_fds_except(int keep) {
  const auto first = static_cast<unsigned>(STDERR_FILENO + 1);
  bool done = false;
  if (keep < static_cast<int>(first)) {
    done = close_fd_range(first, UINT_MAX) == 0;
  } else {
    const auto kept = static_cast<unsigned>(keep);
    done = (kept == first || close_fd_range(first, kept - 1) == 0) && close_fd_range(kept + 1, UINT_MAX) == 0;
  }
  if (done) return;
  if (errno != ENOSYS && errno != EPERM) throw_errno("close_range(3, ~0U)");
  for (const int fd : open_fds()) {
    if (fd > STDERR_FILENO && fd != keep) (void)::close(fd);
  }
}

}  // namespace nslab
