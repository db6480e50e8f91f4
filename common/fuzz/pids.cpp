// Fuzzes lab 08's --pids (parse_pids): decimal digits alone, from 1 to
// kPidMaxLimit, and nothing else.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "07-setns/setns.hpp"
#include "08-cgroup/cgroup.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view text = as_text(data, size);
  const auto pids = value_or_refusal([text] { return nslab::parse_pids(text); }, text);
  const auto expected = decimal(text, nslab::kPidMaxLimit);
  const bool in_range = expected && *expected >= 1;
  expect(pids.has_value() == in_range, pids ? "taken, though not a number from 1 to kPidMaxLimit"
                                            : "refused, though a number from 1 to kPidMaxLimit", text);
  if (!pids) return 0;
  expect(*pids == *expected, "the number the digits say", text);
  expect(nslab::parse_pids(std::to_string(*pids)) == *pids, "its value written out parses to itself", text);
  return 0;
}
