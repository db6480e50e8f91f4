// Fuzzes the reader of /proc/PID/ns/KIND links (parse_namespace_link), which
// nsinfo and every lab use to compare namespaces: "KIND:[INODE]" or nothing,
// never an exception; and NamespaceId::str(), its printer, gives it back.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "nslab/namespaces.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view link = as_text(data, size);
  std::optional<nslab::NamespaceId> id;
  try {
    id = nslab::parse_namespace_link(link);
  } catch (const std::exception& e) {
    fail(std::string("a link that is not KIND:[INODE] is nullopt, never an exception: ") + e.what(), link);
  }
  if (!id) return 0;
  expect(!id->kind.empty(), "a kind is named", link);
  expect(link.substr(0, id->kind.size()) == id->kind, "the kind is the text before \":[\"", link);
  const std::string text = id->str();
  expect(text.size() <= link.size(), "str() is no longer than the link (only leading zeros go)", link);
  const auto again = nslab::parse_namespace_link(text);
  if (!again || *again != *id) fail("str() parses to the same identity: " + text, link);
  expect(again->str() == text, "str() of that is the same text", link);
  return 0;
}
