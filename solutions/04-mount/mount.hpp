/// @file mount.hpp
/// @brief Lab 04: the mount namespace — private mounts, a fresh /proc, pivot_root into a root filesystem.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void setup_inside(Context& ctx) override;

 private:
  std::optional<std::string> rootfs_;
  std::vector<std::string> env_;  // --env NAME=VALUE, in order
};

/// @brief Checks that @p dir can be a root filesystem: a directory holding the
/// mount points proc/, dev/ and tmp/. @return its absolute, resolved path.
/// @throws Error (ENOENT, ENOTDIR, ...) naming what is missing.
std::string check_rootfs(const std::string& dir);

/// @brief Checks an `--env` value: NAME=VALUE, NAME of letters, digits and `_`,
/// not starting with a digit. @throws UsageError.
void check_env_assignment(std::string_view assignment);

}  // namespace nslab
