/// @file cli.hpp
/// @brief The option parser every lab shares: each module adds its own options.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

/// @brief The command line of every lab.
namespace nslab::cli {

/// @brief What the command line asked for, besides the options' own effects.
struct ParseResult {
  bool help = false;                 ///< -h/--help was given
  std::vector<std::string> command;  ///< COMMAND [ARG...] (defaults to /bin/sh)
  std::vector<std::string> given;    ///< the long names of the options given, in order
};

/// @brief A small long-option parser in the style of util-linux's programs.
///
/// Options come first; the first word that is not an option, or `--`, starts
/// COMMAND, and everything after it belongs to COMMAND (so `01-uts ls -l` runs
/// `ls -l`). `--name VALUE` and `--name=VALUE` are both accepted.
class Parser {
 public:
  /// @brief Called with an option's value; throws UsageError to reject it.
  using ValueHandler = std::function<void(std::string_view value)>;

  /// @param program the program's name, e.g. "01-uts".
  /// @param summary one line that says what the program does.
  Parser(std::string program, std::string summary);

  /// @brief Adds a flag, e.g. `--init`; @p short_name 0 for none.
  void add_flag(std::string long_name, char short_name, std::string help, bool& target);
  /// @brief Adds an option that takes a value, e.g. `--hostname NAME`.
  void add_value(std::string long_name, std::string metavar, std::string help,
                 ValueHandler handler);
  /// @brief Adds a paragraph to the end of `--help` (examples, notes).
  void add_epilog(std::string text);

  /// @brief Parses @p args (without the program name).
  /// @throws UsageError for an unknown option, a missing value, a value
  ///         rejected by its handler, or a value given to a flag.
  ParseResult parse(const std::vector<std::string>& args) const;
  /// @brief The long names of the options added so far, in order.
  [[nodiscard]] std::vector<std::string> option_names() const;
  /// @brief The text of `--help`.
  [[nodiscard]] std::string usage() const;

 private:
  struct Option {
    std::string long_name;
    char short_name;
    std::string metavar;  // empty for a flag
    std::string help;
    bool* flag;
    ValueHandler handler;
  };
  [[nodiscard]] const Option* find(std::string_view word) const;

  std::string program_;
  std::string summary_;
  std::vector<Option> options_;
  std::vector<std::string> epilog_;
};

}  // namespace nslab::cli
