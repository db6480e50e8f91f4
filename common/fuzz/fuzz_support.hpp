// What every fuzz target of nslab checks besides "no crash": a refusal is an
// nslab::Error, and only that, with a message fit for one line on stderr; a
// property that does not hold is reported with the input that broke it, and
// aborts, so that libFuzzer keeps the input (scripts/fuzz.sh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "nslab/error.hpp"

namespace nslab::fuzz {

/// @brief The fuzzer's bytes as the text a parser takes.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// @brief Says which property failed, for which input (escaped), and aborts.
[[noreturn]] inline void fail(std::string_view property, std::string_view input) {
  std::fprintf(stderr, "fuzz: property broken: %.*s\nfuzz: input: %s\n", static_cast<int>(property.size()),
               property.data(), quoted(input, 400).c_str());
  std::abort();
}

/// @brief fail() unless @p holds. (A property that names values is built only
/// when it fails: `if (!holds) fail(...)`; building it for every input would
/// cost most of the fuzzer's time.)
inline void expect(bool holds, std::string_view property, std::string_view input) {
  if (!holds) fail(property, input);
}

/// @brief True when @p text holds no control byte (a newline, a carriage
/// return, an escape, NUL, DEL): what may go into the one line an nslab
/// program prints on stderr.
inline bool fits_one_line(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return true;
}

/// @brief The checks on a refusal: a message that says something, on one line.
inline void expect_one_line(const Error& error, std::string_view input) {
  const std::string_view message = error.what();
  expect(!message.empty(), "a refusal says what is wrong (empty message)", input);
  if (message.find('\n') != std::string_view::npos) {
    fail("a refusal is one line: the message holds a newline: " + quoted(message, 400), input);
  }
  if (!fits_one_line(message)) fail("a refusal is one line: the message holds a control byte: " + quoted(message, 400), input);
}

/// @brief Runs @p parse: its value, or nullopt when it refused with an
/// nslab::Error whose message fits one line. Any other exception is a failure:
/// the runtime reports Error alone as `NN-name: what failed: why`.
template <typename Parse>
auto value_or_refusal(Parse&& parse, std::string_view input) -> std::optional<decltype(parse())> {
  try {
    return std::forward<Parse>(parse)();
  } catch (const Error& e) {
    expect_one_line(e, input);
    return std::nullopt;
  } catch (const std::exception& e) {
    fail(std::string("refused with an exception that is not nslab::Error: ") + e.what(), input);
  } catch (...) {
    fail("refused with something that is not an exception", input);
  }
}

/// @brief Same, for a parse that returns nothing: true when it took the input.
template <typename Parse>
bool accepted(Parse&& parse, std::string_view input) {
  return value_or_refusal(
             [&parse] {
               std::forward<Parse>(parse)();
               return true;
             },
             input)
      .has_value();
}

/// @brief True when @p text is one or more decimal digits, and nothing else.
inline bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

/// @brief The value of decimal @p digits, or nullopt past @p limit (no overflow).
inline std::optional<std::uint64_t> decimal(std::string_view digits, std::uint64_t limit) {
  if (!all_digits(digits)) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (digit > limit || value > (limit - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace nslab::fuzz
