// Fuzzes lab 05's ADDRESS/PREFIX (parse_ipv4_cidr), one end of --veth: what it
// takes is four numbers 0-255 and a prefix from 0 to 32, and nothing else.

#include <arpa/inet.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "05-net/net.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view text = as_text(data, size);
  const auto cidr = value_or_refusal([text] { return nslab::parse_ipv4_cidr(text); }, text);
  if (!cidr) return 0;
  expect(text.find_first_not_of("0123456789./") == std::string_view::npos,
         "only digits, dots and the slash are taken (a value comes from argv: no other byte belongs)", text);
  expect(cidr->prefix <= 32, "a prefix from 0 to 32", text);
  expect(cidr->text == text, "the text kept for messages is the text given", text);
  const std::uint32_t mask = cidr->mask();
  expect(static_cast<unsigned>(std::popcount(mask)) == cidr->prefix && (mask == 0 || std::countr_zero(mask) == 32 - static_cast<int>(cidr->prefix)),
         "the mask is PREFIX leading ones", text);
  expect(cidr->host_order() == ntohl(cidr->address.s_addr), "host order is the address byte-swapped", text);
  // Round trip: the address as inet_ntop writes it, with the prefix, is the same.
  std::array<char, INET_ADDRSTRLEN> address{};
  expect(::inet_ntop(AF_INET, &cidr->address, address.data(), address.size()) != nullptr, "inet_ntop takes it", text);
  const std::string again = std::string(address.data()) + "/" + std::to_string(cidr->prefix);
  const auto parsed = value_or_refusal([&again] { return nslab::parse_ipv4_cidr(again); }, again);
  if (!parsed || parsed->address.s_addr != cidr->address.s_addr || parsed->prefix != cidr->prefix) {
    fail("the address written out parses to itself: " + again, text);
  }
  return 0;
}
