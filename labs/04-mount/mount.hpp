/// @file mount.hpp
/// @brief Lab 04: the mount namespace — private mounts, a fresh /proc, pivot_root into a root filesystem.
#pragma once

#include <optional>
#include <string>

#include "nslab/module.hpp"

namespace nslab {

/// @brief Gives the container its own mount namespace, with mount propagation to
/// the host cut, a /proc that shows only its own processes and, with `--rootfs`,
/// a root filesystem of its own.
class MountNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "mnt"; }
  void add_options(cli::Parser& parser) override;
  void prepare(Context& ctx) override;
  [[nodiscard]] int clone_flags() const override;
  void setup_inside(Context& ctx) override;

 private:
  std::optional<std::string> rootfs_;
};

/// @brief Checks that @p dir can be a root filesystem: a directory holding the
/// mount points proc/, dev/ and tmp/. @return its absolute, resolved path.
/// @throws Error (ENOENT, ENOTDIR, ...) naming what is missing.
std::string check_rootfs(const std::string& dir);

}  // namespace nslab
