// Fuzzes lab 06's id maps: each line of the input is one --uid-map IN:OUT:COUNT
// (parse_id_range), and the lines taken together are the whole map
// (check_id_map), as the option repeated builds it.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "06-user/user.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::uint64_t kLastId = 4294967294U;  // user_namespaces(7): (uid_t)-1 is no id

// The rule for one range, computed apart: nullopt when it refuses the text.
std::optional<nslab::IdRange> expected_range(std::string_view text) {
  std::array<std::uint64_t, 3> numbers{};
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const auto colon = i + 1 < numbers.size() ? text.find(':') : std::string_view::npos;
    if (i + 1 < numbers.size() && colon == std::string_view::npos) return std::nullopt;
    const auto number = nslab::fuzz::decimal(text.substr(0, colon), kLastId + 1);
    if (!number) return std::nullopt;
    numbers[i] = *number;
    text.remove_prefix(colon == std::string_view::npos ? text.size() : colon + 1);
  }
  const auto [inside, outside, count] = numbers;
  if (count == 0 || inside + count - 1 > kLastId || outside + count - 1 > kLastId) return std::nullopt;
  return nslab::IdRange{static_cast<std::uint32_t>(inside), static_cast<std::uint32_t>(outside),
                        static_cast<std::uint32_t>(count)};
}

bool overlap(std::uint64_t first, std::uint64_t count, std::uint64_t other_first, std::uint64_t other_count) {
  return first < other_first + other_count && other_first < first + count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view input = as_text(data, size);
  std::vector<std::string_view> lines;
  for (std::string_view rest = input; lines.size() <= 400;) {  // past the kernel's 340: enough to see the limit
    const auto newline = rest.find('\n');
    lines.push_back(rest.substr(0, newline));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  std::vector<nslab::IdRange> map;
  for (const std::string_view text : lines) {
    const auto range = value_or_refusal([text] { return nslab::parse_id_range(text, "uid-map"); }, text);
    const auto expected = expected_range(text);
    expect(range.has_value() == expected.has_value(),
           range ? "taken, though not IN:OUT:COUNT within 32-bit ids" : "refused, though IN:OUT:COUNT within 32-bit ids",
           text);
    if (!range) continue;
    expect(range->inside == expected->inside && range->outside == expected->outside && range->count == expected->count,
           "the three numbers the text says", text);
    // Round trip: the line of /proc/PID/uid_map, with colons for spaces, is the same range.
    std::string line = nslab::id_map_text({*range});
    expect(!line.empty() && line.back() == '\n' && std::count(line.begin(), line.end(), '\n') == 1,
           "one range is one line of the map", text);
    line.pop_back();
    std::replace(line.begin(), line.end(), ' ', ':');
    const nslab::IdRange again = nslab::parse_id_range(line, "uid-map");
    if (again.inside != range->inside || again.outside != range->outside || again.count != range->count) {
      fail("the range written out parses to itself: " + line, text);
    }
    map.push_back(*range);
  }
  if (map.empty()) return 0;
  if (!accepted([&map] { nslab::check_id_map(map, "uid-map"); }, input)) return 0;
  // A map taken is one the kernel takes: few lines, one short write, no id twice, root mapped.
  expect(map.size() <= 340, "at most 340 lines", input);
  expect(nslab::id_map_text(map).size() < 4096, "written in one write of less than a page", input);
  expect(std::any_of(map.begin(), map.end(), [](const nslab::IdRange& r) { return r.inside == 0; }),
         "id 0 is mapped inside", input);
  for (std::size_t i = 0; i < map.size(); ++i) {
    for (std::size_t j = i + 1; j < map.size(); ++j) {
      expect(!overlap(map[i].inside, map[i].count, map[j].inside, map[j].count) &&
                 !overlap(map[i].outside, map[i].count, map[j].outside, map[j].count),
             "no id mapped twice, inside or outside", input);
    }
  }
  return 0;
}
