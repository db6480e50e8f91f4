#include "nslab/fd.hpp"

#include <unistd.h>

namespace nslab {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) {
    // Never retried on EINTR: Linux has released the fd whatever close() returns.
    (void)::close(fd_);
  }
  fd_ = fd;
}

}  // namespace nslab
