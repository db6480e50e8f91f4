// Lab 07's values: the PID that --enter takes, and the order in which the
// namespaces of a container are joined.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "07-setns/setns.hpp"
#include "nslab/error.hpp"
#include "nslab/namespaces.hpp"

namespace nslab {
namespace {

using testing::error_from;

// ---- parse_pid ----------------------------------------------------------------

TEST(ParsePid, TakesADecimalPidFromOneToPidMaxLimit) {
  EXPECT_EQ(parse_pid("1"), 1);
  EXPECT_EQ(parse_pid("4242"), 4242);
  EXPECT_EQ(parse_pid("4194304"), kPidMaxLimit) << "PID_MAX_LIMIT, the largest PID a 64-bit kernel gives";
  EXPECT_EQ(parse_pid("007"), 7) << "leading zeros are still decimal, not octal";
  EXPECT_EQ(kPidMaxLimit, 4194304);
}

TEST(ParsePid, RefusesWhatIsNotAPidInOneLineNamingTheOption) {
  for (const char* bad : {"0", "-1", "+5", " 5", "5 ", "", "4194305", "99999999999999999999", "abc", "0x10", "1e3",
                          "5\n"}) {
    const auto e = error_from([bad] { (void)parse_pid(bad); });
    ASSERT_TRUE(e.has_value()) << '"' << bad << "\" must be refused";
    const std::string message = e->what();
    EXPECT_EQ(message.rfind("--enter ", 0), 0U) << message;
    EXPECT_NE(message.find("expected a process ID, a number from 1 to 4194304"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line, whatever the value holds: " << message;
  }
}

TEST(ParsePid, RefusesWithAUsageError) {
  // A usage error, like every bad option value: exit 125, one line.
  EXPECT_THROW((void)parse_pid("abc"), UsageError);
  EXPECT_THROW((void)parse_pid("0"), UsageError);
}

// ---- join_order ---------------------------------------------------------------

TEST(JoinOrder, UserFirstMountLast) {
  const std::vector<std::string_view>& order = join_order();
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.front(), "user") << "the user namespace is tried first or last, around all the others";
  EXPECT_EQ(order.back(), "mnt") << "once in the container's mount namespace, the host's /proc is out of reach";
}

TEST(JoinOrder, HoldsEveryKindOnce) {
  const std::vector<std::string_view>& order = join_order();
  const std::set<std::string_view> unique(order.begin(), order.end());
  EXPECT_EQ(unique.size(), order.size()) << "no kind twice";
  for (const NamespaceKind& kind : kNamespaceKinds) {
    EXPECT_EQ(unique.count(kind.name), 1U) << kind.name << " is missing from join_order()";
  }
  for (const std::string_view name : order) {
    EXPECT_TRUE(namespace_kind(name).has_value()) << name << " is not a kind of namespace";
  }
  EXPECT_EQ(order.size(), kNamespaceKinds.size());
}

}  // namespace
}  // namespace nslab
