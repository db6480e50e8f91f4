#include "nslab/error.hpp"

#include <array>
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

std::string escape(std::string_view text, bool in_quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
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
