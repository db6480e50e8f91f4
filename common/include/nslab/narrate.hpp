/// @file narrate.hpp
/// @brief `--verbose`: each step told on stderr, for a classroom.
#pragma once

#include <string>
#include <string_view>

namespace nslab {

/// @brief Tells what the program does, step by step, on stderr — only when verbose.
///
/// Lines read `[01-uts parent] clone(CLONE_NEWUTS|SIGCHLD) = 4242`: the program,
/// the side (parent on the host, child inside, init as PID 1), then the step.
/// Without --verbose nothing is printed, so a container's output is only its own.
class Narrator {
 public:
  /// @param program e.g. "01-uts"; @param verbose whether to print at all.
  Narrator(std::string program, bool verbose) : program_(std::move(program)), verbose_(verbose) {}
  /// @brief Whether lines are printed (to skip work that only narration needs).
  [[nodiscard]] bool enabled() const noexcept { return verbose_; }
  /// @brief Changes the side shown in each line ("parent", "child", "init").
  void set_side(std::string side) { side_ = std::move(side); }
  /// @brief Prints one line, if verbose.
  void say(std::string_view line) const;

 private:
  std::string program_;
  std::string side_ = "parent";
  bool verbose_;
};

}  // namespace nslab
