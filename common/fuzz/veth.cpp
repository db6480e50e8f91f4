// Fuzzes lab 05's --veth HOST_CIDR,CONTAINER_CIDR (parse_veth) against what it
// promises: two host addresses of one subnet, with one prefix from 8 to 31.

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "05-net/net.hpp"
#include "fuzz_support.hpp"

namespace {

std::string cidr_text(const nslab::Ipv4Cidr& cidr) {
  std::array<char, INET_ADDRSTRLEN> address{};
  if (::inet_ntop(AF_INET, &cidr.address, address.data(), address.size()) == nullptr) return "?";
  return std::string(address.data()) + "/" + std::to_string(cidr.prefix);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view text = as_text(data, size);
  const auto plan = value_or_refusal([text] { return nslab::parse_veth(text); }, text);
  if (!plan) return 0;
  expect(text.find_first_not_of("0123456789./,") == std::string_view::npos,
         "only digits, dots, slashes and the comma are taken", text);
  const nslab::Ipv4Cidr& host = plan->host;
  const nslab::Ipv4Cidr& container = plan->container;
  expect(host.prefix == container.prefix, "one prefix for both ends", text);
  expect(host.prefix >= 8 && host.prefix <= 31, "a prefix from 8 to 31", text);
  const std::uint32_t mask = host.mask();
  expect((host.host_order() & mask) == (container.host_order() & mask), "both ends in one subnet", text);
  expect(host.host_order() != container.host_order(), "two addresses", text);
  for (const nslab::Ipv4Cidr* end : {&host, &container}) {
    const std::uint32_t first = end->host_order() >> 24;
    expect(first != 0 && first != 127 && first < 224, "neither 0/8, loopback, multicast nor reserved", text);
    if (host.prefix <= 30) {
      expect((end->host_order() & ~mask) != 0, "not the subnet's own address", text);
      expect((end->host_order() & ~mask) != ~mask, "not the subnet's broadcast address", text);
    }
  }
  // Round trip: both ends written out as inet_ntop writes them give the same plan.
  const std::string again = cidr_text(host) + "," + cidr_text(container);
  const auto parsed = value_or_refusal([&again] { return nslab::parse_veth(again); }, again);
  if (!parsed || parsed->host.address.s_addr != host.address.s_addr ||
      parsed->container.address.s_addr != container.address.s_addr || parsed->host.prefix != host.prefix) {
    fail("the plan written out parses to itself: " + again, text);
  }
  return 0;
}
