/// @file mount.hpp
/// @brief Lab 04: the mount namespace — private mounts, a fresh /proc, pivot_root into a root filesystem.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/module.hpp"

namespace nslab {

/// @brief A root filesystem as check_rootfs() found it: its path, and the
/// identity of the directory (device and inode), by which the child makes sure
/// it pivots into that very directory, whatever the path leads to by then.
struct RootFs {
  std::string path;  ///< absolute, resolved
  dev_t dev = 0;     ///< st_dev of the directory
  ino_t ino = 0;     ///< st_ino of the directory
};

/// @brief Gives the container its own mount namespace, with mount propagation to
/// the host cut, a /proc that shows only its own processes and, with `--rootfs`,
/// a root filesystem of its own.
class MountNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "mnt"; }
  void add_options(cli::Parser& parser) override;
  void prepare(Context& ctx) override;
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void setup_inside(Context& ctx) override;
  /// @brief Whether `--rootfs` was given: the container then has a root of its own.
  [[nodiscard]] bool has_rootfs() const { return rootfs_arg_.has_value(); }

 private:
  std::optional<std::string> rootfs_arg_;  // --rootfs DIR, as given
  std::optional<RootFs> rootfs_;           // DIR, once prepare() checked it
  std::vector<std::string> env_;           // --env NAME=VALUE, in order
};

/// @brief Checks that @p dir can be a root filesystem: a directory, not the
/// host's own root (by identity, so a bind mount of `/` is refused too), holding
/// the mount points proc/, dev/ and tmp/, each a directory of its own inside it.
/// @return its resolved path and identity.
/// @throws Error (ENOENT, ENOTDIR, ...) naming what is missing.
RootFs check_rootfs(const std::string& dir);

/// @brief Refuses (Error) when fd 0, 1 or 2 is open on a directory: COMMAND
/// keeps them, and `/proc/self/fd/0/..` would walk the host's tree.
void refuse_directories_on_standard_fds(const std::string& rootfs);

/// @brief Checks an `--env` value: NAME=VALUE, NAME of letters, digits and `_`,
/// not starting with a digit. @throws UsageError.
void check_env_assignment(std::string_view assignment);

/// @brief The small clean environment COMMAND starts with in a root filesystem
/// of its own: PATH, HOME=/root, and the caller's TERM (PITFALLS 19). Lab 07
/// gives it to a COMMAND that joins such a container.
std::vector<std::string> clean_environment();

}  // namespace nslab
