// Fuzzes lab 08's --cpus (parse_cpus): WHOLE[.FRACTION], digits with at most
// five after the point, from 0.01 to the CPUs online. The first byte of the
// input is the number of CPUs online (1 to 256), the rest the text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "08-cgroup/cgroup.hpp"
#include "fuzz_support.hpp"

namespace {

// The quota the rule gives the text, in microseconds per period, computed
// apart: nullopt when it refuses it.
std::optional<std::uint64_t> expected_quota(std::string_view text, unsigned online) {
  using nslab::fuzz::all_digits;
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const auto cpus = nslab::fuzz::decimal(whole, online);  // nullopt too when more than the CPUs online
  if (!cpus) return std::nullopt;
  std::uint64_t quota = *cpus * nslab::kCpuPeriodUs;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    if (!all_digits(fraction) || fraction.size() > 5) return std::nullopt;
    std::uint64_t scale = nslab::kCpuPeriodUs;
    for (const char c : fraction) {
      scale /= 10;
      quota += static_cast<std::uint64_t>(c - '0') * scale;
    }
  }
  if (quota < nslab::kCpuPeriodUs / 100 || quota > std::uint64_t{online} * nslab::kCpuPeriodUs) return std::nullopt;
  return quota;
}

// The quota as --cpus writes it: 50000 is "0.50000".
std::string cpus_text(std::uint64_t quota) {
  std::string fraction = std::to_string(quota % nslab::kCpuPeriodUs);
  fraction.insert(0, 5 - fraction.size(), '0');
  return std::to_string(quota / nslab::kCpuPeriodUs) + "." + fraction;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  if (size == 0) return 0;
  const unsigned online = 1U + data[0];
  const std::string_view text = as_text(data + 1, size - 1);
  const auto quota = value_or_refusal([text, online] { return nslab::parse_cpus(text, online); }, text);
  const auto expected = expected_quota(text, online);
  expect(quota.has_value() == expected.has_value(),
         quota ? "taken, though the rule refuses it" : "refused, though the rule takes it", text);
  if (!quota) return 0;
  expect(*quota == *expected, "the quota the rule gives it", text);
  expect(*quota >= nslab::kCpuPeriodUs / 100 && *quota <= std::uint64_t{online} * nslab::kCpuPeriodUs,
         "a quota from 0.01 CPU to the CPUs online", text);
  expect(nslab::parse_cpus(cpus_text(*quota), online) == *quota, "the quota written out parses to itself", text);
  return 0;
}
