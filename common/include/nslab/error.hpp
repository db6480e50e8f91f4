/// @file error.hpp
/// @brief The one error type of nslab: what failed, and the errno that says why.
#pragma once

#include <cerrno>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nslab {

/// @brief A failed step: the call and its arguments (the context) and the errno.
///
/// `what()` reads like `sethostname("box"): Operation not permitted`, the form
/// every nslab program prints after its own name. An errno of 0 means the error
/// is not a system call's (a bad option value, a missing file in a rootfs).
/// A hint, when there is one, says what the errno means here, in parentheses:
/// `clone(CLONE_NEWUTS|SIGCHLD): No space left on device (a namespace limit ...)`.
class Error : public std::runtime_error {
 public:
  /// @param errnum the errno to report (0 for none); save it before any cleanup.
  /// @param context what was attempted, with its arguments.
  /// @param hint what the errno means in this place, and what to do ("" for none).
  Error(int errnum, const std::string& context, const std::string& hint = {});

  /// @brief The errno this error carries (0 if none).
  [[nodiscard]] int errnum() const noexcept { return errnum_; }
  /// @brief The context alone, without the strerror text.
  [[nodiscard]] const std::string& context() const noexcept { return context_; }
  /// @brief The hint alone ("" when there is none).
  [[nodiscard]] const std::string& hint() const noexcept { return hint_; }

 private:
  int errnum_;
  std::string context_;
  std::string hint_;
};

/// @brief A bad command line: reported in one line, exit status 125.
class UsageError : public Error {
 public:
  /// @param message what is wrong with the command line, e.g. "unknown option --x".
  explicit UsageError(const std::string& message) : Error(0, message) {}
};

/// @brief A learner's TODO that is not done yet (see the starter code in `labs/`).
///
/// The message is `TODO(lab NN): implement WHAT — see SECTION`, so a learner who
/// runs the starter sees at once where to read. Thrown before any namespace
/// exists or inside the child's new namespaces, so a TODO never changes the host.
class Todo : public Error {
 public:
  /// @param lab the lab number, e.g. "01".
  /// @param what what the learner must implement.
  /// @param section where the tutorial explains it.
  Todo(const std::string& lab, const std::string& what, const std::string& section)
      : Error(0, "TODO(lab " + lab + "): implement " + what + " \u2014 see " + section) {}
};

/// @brief @p text made safe for a one-line message: control bytes (a newline, an
/// escape sequence, a C1 control such as U+009B) and bytes that are not UTF-8
/// are written as `\n`, `\t`, `\xNN`, and a text longer than @p max bytes is
/// cut, with the size it had: `aaaa... (131072 bytes)`.
std::string printable(std::string_view text, std::size_t max = 80);

/// @brief printable(@p text, @p max) between double quotes (a quote or a backslash
/// inside is escaped too): for values echoed in an error, `exec "ls"`.
std::string quoted(std::string_view text, std::size_t max = 80);

/// @brief Throws an Error carrying the current errno (saved first) and @p context.
[[noreturn]] void throw_errno(const std::string& context);

/// @brief Returns @p result, or throws Error(errno, @p context) when it is -1.
///
/// For the many calls that return -1 and set errno, e.g.
/// `check(sethostname(name, length), "sethostname")`.
long check(long result, const std::string& context);

/// @brief An entry of the troubleshooting page, docs/{en,zh}/troubleshooting.md.
struct Troubleshooting {
  std::string_view anchor;  ///< the entry's anchor on both pages, e.g. "ts-pivot_root-EINVAL"
  bool machine = false;     ///< the cause may be the machine's setup, which scripts/doctor.sh checks
};

/// @brief The entry of the troubleshooting page for an error, by its errno and
/// its context (the call it names, a file, or the words of an nslab refusal):
/// `pivot_root(".", ".") into /r` with EINVAL is `ts-pivot_root-EINVAL`.
///
/// One table in error.cpp holds every rule, so that every program prints the
/// same pointer for the same failure; common/bats/troubleshooting.bats checks
/// that each anchor it names is on both pages. nullopt when there is no entry.
std::optional<Troubleshooting> troubleshooting_entry(int errnum, std::string_view context);

/// @brief The pointer appended to an error's line for @p entry:
/// ` (see docs/{en,zh}/troubleshooting.md#ts-pivot_root-EINVAL)`, or, when
/// the machine's setup may be the cause,
/// ` (run scripts/doctor.sh; see docs/{en,zh}/troubleshooting.md#ts-clone-ENOSPC)`.
std::string troubleshooting_pointer(const Troubleshooting& entry);

/// @brief The pointer for an error of @p errnum with @p context, or "" when
/// the troubleshooting page has no entry for it.
std::string troubleshooting_pointer(int errnum, std::string_view context);

}  // namespace nslab
