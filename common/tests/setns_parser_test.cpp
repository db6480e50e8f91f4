// Lab 07's values: the PID that --enter takes, and the order in which the
// namespaces of a container are joined.

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "07-setns/setns.hpp"
#include "nslab/cli.hpp"
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

// ---- --pid-file: refused before anything exists ------------------------------

// The message of the Error that prepare() throws for --pid-file FILE ("" when none).
std::string pid_file_refusal(const std::string& file) {
  EnterContainer enter;
  cli::Parser parser("07-setns", "test");
  enter.add_options(parser);
  (void)parser.parse({"--pid-file", file});
  Context ctx{.program = "07-setns", .command = {}, .narrator = Narrator("07-setns", false), .environment = {},
              .runtime_namespaces = {}};
  const auto e = error_from([&enter, &ctx] { enter.prepare(ctx); });
  return e ? e->what() : "";
}

TEST(PidFile, ANameTooLongForItsTemporaryNameIsRefusedBeforeTheContainerStarts) {
  std::string dir = "/tmp/nslab-pid-file-test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  // Written first as ".NAME.XXXXXX" beside it: 8 bytes more than NAME, within NAME_MAX.
  EXPECT_EQ(pid_file_refusal(dir + "/" + std::string(NAME_MAX - 8, 'a')), "") << "the longest name that fits";
  const std::string refused = pid_file_refusal(dir + "/" + std::string(NAME_MAX - 7, 'a'));
  EXPECT_NE(refused.find("too long a name (at most 247 bytes for the file"), std::string::npos) << refused;
  const std::string huge = pid_file_refusal(std::string(131000, 'a'));
  EXPECT_NE(huge.find("File name too long"), std::string::npos) << huge;
  EXPECT_NE(huge.find("... (131000 bytes)"), std::string::npos) << "shortened: " << huge;
  EXPECT_EQ(::rmdir(dir.c_str()), 0) << "prepare() created nothing in " << dir;
}

TEST(PidFile, APathThroughAFileIsRefusedBeforeTheContainerStarts) {
  // As root, access(2) grants W_OK|X_OK on an executable file: the path itself must be checked.
  const std::string refused = pid_file_refusal("/proc/self/exe/");
  EXPECT_NE(refused.find("--pid-file \"/proc/self/exe/\": Not a directory"), std::string::npos) << refused;
  EXPECT_NE(pid_file_refusal("/proc/self/exe/x").find("Not a directory"), std::string::npos);
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
