// Flags words by name, for clone(2) and mount(2) alike: "CLONE_NEWUTS|SIGCHLD",
// "MS_REC|MS_PRIVATE". Private to common/src.
#pragma once

#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>

namespace nslab::flag_names {

/// A flag's bit and its name, as the man page writes it.
using Name = std::pair<unsigned long, std::string_view>;

/// Appends @p name to the "A|B" list @p out.
inline void append(std::string& out, std::string_view name) {
  if (!out.empty()) out += '|';
  out += name;
}

/// Appends the name of every bit of @p rest found in @p table, in the table's
/// order, and clears those bits from @p rest.
template <std::size_t N>
void name_bits(std::string& out, unsigned long& rest, const std::array<Name, N>& table) {
  for (const auto& [bit, name] : table) {
    if ((rest & bit) != bit) continue;
    append(out, name);
    rest &= ~bit;
  }
}

/// The finished list: the bits no table named, in hex (so nothing is hidden),
/// and "0" for a word without any bit.
inline std::string finish(std::string out, unsigned long rest) {
  if (rest != 0) {
    std::array<char, 32> hex{};
    const auto [end, ec] = std::to_chars(hex.data(), hex.data() + hex.size(), rest, 16);
    append(out, "0x" + std::string(hex.data(), ec == std::errc() ? end : hex.data()));
  }
  return out.empty() ? "0" : out;
}

}  // namespace nslab::flag_names
