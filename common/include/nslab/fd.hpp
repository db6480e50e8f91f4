/// @file fd.hpp
/// @brief A move-only owner of a file descriptor.
#pragma once

#include <utility>

namespace nslab {

/// @brief Owns one file descriptor and closes it exactly once.
///
/// nslab opens every fd with O_CLOEXEC / SOCK_CLOEXEC: execve(2) must close the
/// child's end of the channel, so that COMMAND can neither read nor forge a
/// message, and no host file may reach the container (close_fds_except() also
/// closes what the caller left open). close(2) is never retried on EINTR: on
/// Linux the fd is already released then, and a retry could close an fd
/// another thread opened.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  /// @brief Takes ownership of @p fd (-1 for none).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  /// @brief Takes over @p other's fd; @p other owns none afterwards.
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  /// @brief Closes the owned fd, then takes over @p other's.
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  /// @brief The fd, still owned (-1 if none).
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// @brief True when an fd is owned.
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// @brief Gives up ownership without closing; returns the fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  /// @brief Closes the owned fd (if any) and takes @p fd instead.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

/// @brief Makes sure fds 0, 1 and 2 are open, opening /dev/null on any that is
/// closed. Called first thing: a caller may start us with stderr closed
/// (`prog 2>&-`), and the next socket or file we open would become "stderr", so
/// that error messages and narration would go into it (PITFALLS 16).
/// @throws Error from open(2).
void ensure_standard_fds_open();

/// @brief Closes every fd above 2 except @p keep (-1: none), with close_range(2)
/// where the kernel has it (Linux 5.9), otherwise one by one from /proc/self/fd.
///
/// The container's first process calls it before anything else: whatever the
/// caller left open (a shell's `exec 7</`, a test runner's fd 3) would otherwise
/// reach COMMAND, and an fd on a host directory undoes pivot_root, since
/// `/proc/self/fd/7/..` walks the host's tree (PITFALLS 15). Closing them, rather
/// than only marking them close-on-exec, keeps them from an init too, which
/// never calls execve(2).
/// @throws Error when an fd cannot be closed for another reason than EBADF.
void close_fds_except(int keep);

}  // namespace nslab
