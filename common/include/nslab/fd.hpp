/// @file fd.hpp
/// @brief A move-only owner of a file descriptor.
#pragma once

#include <utility>

namespace nslab {

/// @brief Owns one file descriptor and closes it exactly once.
///
/// nslab opens every fd with O_CLOEXEC / SOCK_CLOEXEC: the parent learns that
/// the container's COMMAND was executed when the child's end of the channel is
/// closed by execve(2), and a leaked fd would break that (and leak host files
/// into the container). close(2) is never retried on EINTR: on Linux the fd is
/// already released then, and a retry could close an fd another thread opened.
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

}  // namespace nslab
