// Fuzzes lab 08's --memory (parse_memory) against the rule it documents: bytes,
// or a number with K, M or G (powers of 1024, either case), from 1M to 2^62.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "08-cgroup/cgroup.hpp"
#include "fuzz_support.hpp"

namespace {

// The value the rule gives the text, computed apart: nullopt when it refuses it.
std::optional<std::uint64_t> expected_bytes(std::string_view text) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': unit = std::uint64_t{1} << 10; break;
      case 'M': case 'm': unit = std::uint64_t{1} << 20; break;
      case 'G': case 'g': unit = std::uint64_t{1} << 30; break;
      default: break;
    }
    if (unit != 1) text.remove_suffix(1);
  }
  const auto count = nslab::fuzz::decimal(text, nslab::kMaxMemory / unit);
  if (!count || *count * unit < nslab::kMinMemory) return std::nullopt;
  return *count * unit;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view text = as_text(data, size);
  const auto bytes = value_or_refusal([text] { return nslab::parse_memory(text); }, text);
  const auto expected = expected_bytes(text);
  expect(bytes.has_value() == expected.has_value(),
         bytes ? "taken, though the rule refuses it" : "refused, though the rule takes it", text);
  if (!bytes) return 0;
  expect(*bytes >= nslab::kMinMemory && *bytes <= nslab::kMaxMemory, "a size from 1M to 2^62", text);
  expect(*bytes == *expected, "the value the rule gives it", text);
  // Round trip: the bytes written out in decimal are the same size again.
  const std::string again = std::to_string(*bytes);
  expect(nslab::parse_memory(again) == *bytes, "its value in bytes parses to itself", text);
  return 0;
}
