/// @file uts.hpp
/// @brief Lab 01: the UTS namespace — a hostname of the container's own.
#pragma once

#include <optional>
#include <string>

#include "nslab/module.hpp"

namespace nslab {

/// @brief Gives the container its own UTS namespace and, with `--hostname`, its own name.
class UtsNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "uts"; }
  void add_options(cli::Parser& parser) override;
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void setup_inside(Context& ctx) override;

 private:
  std::optional<std::string> hostname_;
};

/// @brief Checks a hostname as sethostname(2) will — not empty, at most
/// HOST_NAME_MAX (64) bytes — and refuses control bytes and bytes that are not
/// UTF-8, which every program showing the name would print raw.
/// @throws UsageError naming the limit.
void check_hostname(std::string_view name);

}  // namespace nslab
