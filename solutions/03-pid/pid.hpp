/// @file pid.hpp
/// @brief Lab 03: the PID namespace — COMMAND is PID 1, and PID 1's duties.
#pragma once

#include "nslab/module.hpp"

namespace nslab {

/// @brief Gives the container its own PID namespace: its first process is PID 1.
/// With `--init`, that PID 1 is a minimal init that runs COMMAND as PID 2.
class PidNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "pid"; }
  void add_options(cli::Parser& parser) override;
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void setup_outside(Context& ctx) override;
  void setup_inside(Context& ctx) override;
  std::optional<int> run_command(Context& ctx, const ExecCommand& exec) override;

 private:
  bool init_ = false;
};

/// @brief The minimal init: runs COMMAND as its child, forwards signals to it,
/// reaps every orphan, and returns COMMAND's exit status (128+N if killed).
/// Signals in forwarded_signals_and_sigchld() must be blocked already.
int run_init(Context& ctx, const ExecCommand& exec);

}  // namespace nslab
