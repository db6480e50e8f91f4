// The option values labs 05 and 06 check before anything exists: --veth
// (addresses with prefixes) and --uid-map / --gid-map (ID maps).

#include <arpa/inet.h>
#include <sched.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "05-net/net.hpp"
#include "06-user/user.hpp"
#include "nslab/cli.hpp"
#include "nslab/error.hpp"

namespace nslab {
namespace {

using testing::error_from;

std::string message_of(const std::optional<Error>& e) { return e ? e->what() : "(no error)"; }

// ---- parse_ipv4_cidr, parse_veth (lab 05) -----------------------------------

TEST(ParseIpv4Cidr, ReadsTheAddressAndThePrefix) {
  const Ipv4Cidr cidr = parse_ipv4_cidr("10.200.1.1/24");
  EXPECT_EQ(cidr.host_order(), 0x0ac80101U);
  EXPECT_EQ(cidr.address.s_addr, htonl(0x0ac80101U)) << "the kernel takes network byte order";
  EXPECT_EQ(cidr.prefix, 24U);
  EXPECT_EQ(cidr.mask(), 0xffffff00U);
  EXPECT_EQ(parse_ipv4_cidr("0.0.0.0/0").mask(), 0U) << "a shift by 32 would be undefined";
  EXPECT_EQ(parse_ipv4_cidr("1.2.3.4/32").mask(), 0xffffffffU);
}

TEST(ParseIpv4Cidr, RefusesWhatIsNotAnAddressWithAPrefix) {
  for (const char* bad : {"10.200.1.300/24", "10.200.1/24", "box/24", "/24", "10.200.1.1/", "10.200.1.1/x",
                          "10.200.1.1/24x", "10.200.1.1/-1", " 10.200.1.1/24", "010.200.1.1/24"}) {
    const auto e = error_from([bad] { (void)parse_ipv4_cidr(bad); });
    EXPECT_TRUE(e.has_value()) << bad << " must be refused";
  }
  EXPECT_NE(message_of(error_from([] { (void)parse_ipv4_cidr("10.200.1.300/24"); })).find("not an IPv4 address"),
            std::string::npos);
  EXPECT_NE(message_of(error_from([] { (void)parse_ipv4_cidr("10.200.1.1"); })).find("no prefix length"),
            std::string::npos);
  EXPECT_NE(message_of(error_from([] { (void)parse_ipv4_cidr("10.200.1.1/33"); })).find("over 32"),
            std::string::npos);
}

// Found by fuzzing (scripts/fuzz.sh, target ipv4_cidr): inet_pton(3) stops at
// a NUL, so the bytes after one were taken unread, and kept in the text that
// --veth's messages print, newline and all.
TEST(ParseIpv4Cidr, RefusesAnAddressWithANulInside) {
  using namespace std::string_literals;
  for (const std::string& bad : {"0.0.0.0\0\n/0"s, "10.200.1.1\0x/24"s, "10.200.1.1\0/24"s}) {
    const auto e = error_from([&bad] { (void)parse_ipv4_cidr(bad); });
    ASSERT_TRUE(e.has_value()) << "taken: " << printable(bad);
    EXPECT_EQ(std::string(e->what()).find('\n'), std::string::npos) << "one line: " << e->what();
  }
  const auto e = error_from([] { (void)parse_veth("0.0.0.1\0\n/24,0.0.0.2/24"s); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(std::string(e->what()).find('\n'), std::string::npos) << "one line: " << e->what();
  EXPECT_NE(std::string(e->what()).find("is not an IPv4 address"), std::string::npos) << e->what();
}

TEST(ParseVeth, TakesTwoEndsOfOneSubnet) {
  const VethPlan plan = parse_veth("10.200.1.1/24,10.200.1.2/24");
  EXPECT_EQ(plan.host.text, "10.200.1.1/24");
  EXPECT_EQ(plan.container.host_order(), 0x0ac80102U);
  EXPECT_NO_THROW((void)parse_veth("192.168.7.0/31,192.168.7.1/31")) << "a /31 has no network or broadcast address";
  EXPECT_NO_THROW((void)parse_veth("10.0.0.1/8,10.255.0.9/8"));
}

TEST(ParseVeth, RefusesEachBadValueNamingWhy) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"10.200.1.1/24", "expected HOST_CIDR,CONTAINER_CIDR"},
      {"10.200.1.1/24,10.200.1.2/24,10.200.1.3/24", "expected HOST_CIDR,CONTAINER_CIDR"},
      {"10.200.1.1/24,10.200.2.1/24", "different subnets"},
      {"10.200.1.1/24,10.200.1.1/24", "both ends have the address 10.200.1.1"},
      {"10.200.1.1/24,10.200.1.2/25", "same prefix length"},
      {"10.200.1.0/24,10.200.1.2/24", "address of the subnet"},
      {"10.200.1.1/24,10.200.1.255/24", "broadcast address"},
      {"10.200.1.1/32,10.200.1.2/32", "no room for two addresses"},
      {"10.200.1.1/4,10.200.1.2/4", "too much of the address space"},
      {"10.200.1.1/24,fe80::1/64", "not an IPv4 address"},
      {"0.1.2.3/24,0.1.2.4/24", "this network"},
      {"127.1.0.1/24,127.1.0.2/24", "loopback"},
      {"224.0.0.1/24,224.0.0.2/24", "multicast"},
      {"250.0.0.1/24,250.0.0.2/24", "reserved"},
      {"10.200.1.1/024,10.200.1.2/24", "prefix length must be a number"},
  };
  for (const auto& [value, why] : cases) {
    const auto e = error_from([value = value] { (void)parse_veth(value); });
    ASSERT_TRUE(e.has_value()) << value << " must be refused";
    EXPECT_NE(std::string(e->what()).find(why), std::string::npos) << value << ": " << e->what();
    EXPECT_EQ(std::string(e->what()).find('\n'), std::string::npos) << "one line";
  }
}

TEST(NetNamespace, VethOptionChecksItsValueWhileParsing) {
  NetNamespace net;
  cli::Parser parser("05-net", "test");
  net.add_options(parser);
  EXPECT_NO_THROW((void)parser.parse({"--veth", "10.200.1.1/24,10.200.1.2/24"}));
  EXPECT_TRUE(error_from([&parser] { (void)parser.parse({"--veth=10.200.1.1/24"}); }).has_value());
  EXPECT_EQ(net.clone_flags(), CLONE_NEWNET);
}

TEST(HostEndName, IsDerivedFromTheContainerAndFitsIfnamsiz) {
  EXPECT_EQ(host_end_name(4242), "nslab-4242");
  EXPECT_LE(host_end_name(4194304).size(), 15U) << "IFNAMSIZ is 16 with the NUL; pid_max is at most 2^22";
  EXPECT_NE(host_end_name(1), host_end_name(2));
}

// ---- parse_id_range, check_id_map, id_map_text (lab 06) ---------------------

TEST(ParseIdRange, ReadsInOutCount) {
  const IdRange range = parse_id_range("0:100000:65536", "uid-map");
  EXPECT_EQ(range.inside, 0U);
  EXPECT_EQ(range.outside, 100000U);
  EXPECT_EQ(range.count, 65536U);
  EXPECT_NO_THROW((void)parse_id_range("0:4294967294:1", "uid-map")) << "the last valid id";
}

TEST(ParseIdRange, RefusesBadValuesNamingTheOption) {
  for (const char* bad : {"", "0", "0:1", "0:1:2:3", "a:1:1", "0:1:x", "-1:1:1", "0::1", ":0:1", "0:1:", "0:1:1 ",
                          "99999999999:0:1", "4294967296:0:1", "0:4294967296:1", "0:0:4294967296",
                          "4294967296:4294967296:18446744069414584321", "0:0:18446744073709551615"}) {
    const auto e = error_from([bad] { (void)parse_id_range(bad, "gid-map"); });
    ASSERT_TRUE(e.has_value()) << '"' << bad << "\" must be refused";
    EXPECT_EQ(std::string(e->what()).rfind("--gid-map ", 0), 0U) << e->what();
  }
  EXPECT_NE(message_of(error_from([] { (void)parse_id_range("0:1000:0", "uid-map"); })).find("at least 1"),
            std::string::npos);
  EXPECT_NE(message_of(error_from([] { (void)parse_id_range("0:4294967294:2", "uid-map"); })).find("last id"),
            std::string::npos)
      << "4294967295 is (uid_t)-1, which the kernel never maps";
}

TEST(ParseIdRange, ANumberOverSixtyFourBitsIsNotA32BitIdNotAMalformedRange) {
  for (const char* big : {"0:0:18446744073709551616", "18446744073709551616:0:1", "0:99999999999999999999999:1"}) {
    SCOPED_TRACE(big);
    EXPECT_NE(message_of(error_from([big] { (void)parse_id_range(big, "uid-map"); })).find("is not a 32-bit id"),
              std::string::npos);
  }
  const std::string huge = "0:0:" + std::string(131000, '1');
  const std::string message = message_of(error_from([&huge] { (void)parse_id_range(huge, "uid-map"); }));
  EXPECT_NE(message.find("is not a 32-bit id"), std::string::npos) << message;
  EXPECT_LT(message.size(), 200U) << "the number is shortened in the message";
  EXPECT_NE(message_of(error_from([] { (void)parse_id_range("0:0:1e30", "uid-map"); })).find("expected IN:OUT:COUNT"),
            std::string::npos);
}

TEST(CheckIdMap, RefusesOverlapsInsideOrOutside) {
  EXPECT_NO_THROW(check_id_map({{0, 1000, 1}, {1, 100000, 65536}}, "uid-map"));
  const auto inside = error_from([] { check_id_map({{0, 1000, 10}, {5, 200000, 10}}, "uid-map"); });
  ASSERT_TRUE(inside.has_value());
  EXPECT_NE(std::string(inside->what()).find("overlap"), std::string::npos) << inside->what();
  EXPECT_TRUE(error_from([] { check_id_map({{0, 1000, 10}, {100, 1009, 1}}, "uid-map"); }).has_value())
      << "outside 1000-1009 and 1009 overlap";
  EXPECT_NO_THROW(check_id_map({{0, 1000, 10}, {10, 1010, 1}}, "uid-map")) << "adjacent is not overlapping";
}

TEST(CheckIdMap, NeedsRootInsideAndAtMost340Lines) {
  const auto no_root = error_from([] { check_id_map({{1, 1000, 1}}, "uid-map"); });
  ASSERT_TRUE(no_root.has_value());
  EXPECT_NE(std::string(no_root->what()).find("id 0"), std::string::npos) << no_root->what();
  std::vector<IdRange> many;
  for (std::uint32_t i = 0; i < 341; ++i) many.push_back({i, 1000 + 2 * i, 1});  // short lines
  EXPECT_TRUE(error_from([&many] { check_id_map(many, "uid-map"); }).has_value());
  many.pop_back();
  EXPECT_NO_THROW(check_id_map(many, "uid-map"));
}

TEST(IdMapText, IsOneLinePerRange) {
  EXPECT_EQ(id_map_text({{0, 1000, 1}}), "0 1000 1\n");
  EXPECT_EQ(id_map_text({{0, 1000, 1}, {1, 100000, 65536}}), "0 1000 1\n1 100000 65536\n");
}

TEST(CheckIdMap, RefusesAMapOfAPageOrMore) {
  std::vector<IdRange> many{{0, 1000, 1}};
  for (std::uint32_t i = 1; i < 340; ++i) many.push_back({4294000000U + i, 4294000000U + i, 1});
  ASSERT_GE(id_map_text(many).size(), 4096U);
  const auto e = error_from([&many] { check_id_map(many, "uid-map"); });
  ASSERT_TRUE(e.has_value()) << "the kernel takes a map of less than a page in one write";
  EXPECT_NE(std::string(e->what()).find("4096"), std::string::npos) << e->what();
}

TEST(UserNamespace, MapOptionsAreRepeatableAndChecked) {
  UserNamespace user;
  cli::Parser parser("06-user", "test");
  user.add_options(parser);
  EXPECT_NO_THROW((void)parser.parse({"--uid-map", "0:1000:1", "--uid-map", "1:100000:65536", "--gid-map=0:1000:1"}));
  EXPECT_TRUE(error_from([&parser] { (void)parser.parse({"--uid-map", "0:1000"}); }).has_value());
  EXPECT_EQ(user.clone_flags(), CLONE_NEWUSER);
}

}  // namespace
}  // namespace nslab
