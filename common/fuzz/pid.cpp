// Fuzzes lab 07's --enter PID (parse_pid): decimal digits alone, from 1 to
// kPidMaxLimit, and nothing else (no sign, no space, no "0x").

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "07-setns/setns.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view text = as_text(data, size);
  const auto pid = value_or_refusal([text] { return nslab::parse_pid(text); }, text);
  const auto expected = decimal(text, nslab::kPidMaxLimit);
  const bool in_range = expected && *expected >= 1;
  expect(pid.has_value() == in_range, pid ? "taken, though not a number from 1 to kPidMaxLimit"
                                          : "refused, though a number from 1 to kPidMaxLimit", text);
  if (!pid) return 0;
  expect(static_cast<std::uint64_t>(*pid) == *expected, "the number the digits say", text);
  expect(nslab::parse_pid(std::to_string(*pid)) == *pid, "the PID written out parses to itself", text);
  return 0;
}
