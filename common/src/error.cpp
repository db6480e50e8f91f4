#include "nslab/error.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace nslab {
namespace {

std::string describe(int errnum, const std::string& context, const std::string& hint) {
  std::string text = context;
  if (errnum != 0) text += std::string(": ") + std::strerror(errnum);
  if (!hint.empty()) text += " (" + hint + ")";
  return text;
}

// The length of the valid UTF-8 sequence at the start of @p text, 0 if there is
// none. C1 controls (U+0080 to U+009F, such as CSI) count as invalid: a
// terminal acts on them as it acts on an escape sequence.
std::size_t utf8_sequence(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1fU;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0fU;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07U;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[i]);
    if ((next & 0xc0U) != 0x80U) return 0;
    code = (code << 6U) | (next & 0x3fU);
  }
  const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  const bool invalid = code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || (code >= 0x80 && code <= 0x9f);
  return overlong || invalid ? 0 : length;
}

std::string escape(std::string_view text, bool in_quotes) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      if (const std::size_t length = utf8_sequence(text.substr(i)); length > 0) {
        out.append(text.substr(i, length));
        i += length - 1;
        continue;
      }
      std::array<char, 5> hex{};
      (void)std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      std::array<char, 5> hex{};
      (void)std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else if (in_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max, bool in_quotes) {
  if (text.size() <= max) return escape(text, in_quotes);
  // Cut on a character boundary: never inside a UTF-8 sequence.
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0U) == 0x80U) --cut;
  return escape(text.substr(0, cut), in_quotes) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

Error::Error(int errnum, const std::string& context, const std::string& hint)
    : std::runtime_error(describe(errnum, context, hint)), errnum_(errnum), context_(context), hint_(hint) {}

std::string printable(std::string_view text, std::size_t max) { return shorten(text, max, false); }

std::string quoted(std::string_view text, std::size_t max) { return '"' + shorten(text, max, true) + '"'; }

void throw_errno(const std::string& context) {
  const int saved = errno;  // before anything else can change it
  throw Error(saved, context);
}

long check(long result, const std::string& context) {
  if (result == -1) throw_errno(context);
  return result;
}

}  // namespace nslab
