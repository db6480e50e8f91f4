// Lab 08's values: --memory's sizes, --pids, --cpus' fractions; and the cgroup
// paths of /proc/self/cgroup that the runtime walks up from.

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "08-cgroup/cgroup.hpp"
#include "08-cgroup/hierarchy.hpp"
#include "nslab/error.hpp"

namespace nslab {
namespace {

using testing::error_from;

// Every refusal: one line, naming the option first.
void expect_refused(std::string_view option, std::string_view bad, const std::function<void()>& parse,
                    std::string_view reason) {
  const auto e = error_from(parse);
  ASSERT_TRUE(e.has_value()) << option << " \"" << bad << "\" must be refused";
  const std::string message = e->what();
  EXPECT_EQ(message.rfind(std::string(option) + " ", 0), 0U) << message;
  EXPECT_NE(message.find(reason), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line, whatever the value holds: " << message;
}

// ---- parse_memory -------------------------------------------------------------

TEST(ParseMemory, TakesBytesOrKMGInPowersOf1024) {
  EXPECT_EQ(parse_memory("1048576"), 1048576U);
  EXPECT_EQ(parse_memory("1024K"), 1048576U);
  EXPECT_EQ(parse_memory("48M"), 48U << 20);
  EXPECT_EQ(parse_memory("48m"), 48U << 20) << "lower case too, as docker and systemd take them";
  EXPECT_EQ(parse_memory("2G"), std::uint64_t{2} << 30);
  EXPECT_EQ(parse_memory("1M"), kMinMemory) << "the smallest taken";
  EXPECT_EQ(parse_memory("4294967296G"), kMaxMemory) << "2^32 G = 2^62 bytes, the largest taken";
}

TEST(ParseMemory, RefusesWhatIsNotASizeInOneLine) {
  for (const char* bad : {"12Q", "-3", "zero", "", "M", "1.5G", " 48M", "48M ", "48MB", "0x10", "4\n8M", "+5M"}) {
    expect_refused("--memory", bad, [bad] { (void)parse_memory(bad); }, "expected bytes, or a number with K, M or G");
  }
}

TEST(ParseMemory, RefusesTooLittleAndTooMuch) {
  for (const char* small : {"0", "1", "1023K", "4096"}) {
    expect_refused("--memory", small, [small] { (void)parse_memory(small); }, "below 1M");
  }
  for (const char* huge : {"4294967297G", "99999999999999999999G", "18446744073709551615"}) {
    expect_refused("--memory", huge, [huge] { (void)parse_memory(huge); }, "too large");
  }
}

// ---- parse_pids -----------------------------------------------------------------

TEST(ParsePids, TakesOneToPidMaxLimit) {
  EXPECT_EQ(parse_pids("1"), 1U);
  EXPECT_EQ(parse_pids("64"), 64U);
  EXPECT_EQ(parse_pids("4194304"), 4194304U);
}

TEST(ParsePids, RefusesZeroNegativesAndWords) {
  for (const char* bad : {"0", "-3", "", "zero", "4194305", "99999999999999999999", "8 ", "1e3", "max"}) {
    expect_refused("--pids", bad, [bad] { (void)parse_pids(bad); }, "expected a number of processes from 1 to 4194304");
  }
}

// ---- parse_cpus -----------------------------------------------------------------

TEST(ParseCpus, GivesTheQuotaInMicrosecondsPerTenthOfASecond) {
  EXPECT_EQ(parse_cpus("0.5", 2), 50000U) << "half of each 100 ms period";
  EXPECT_EQ(parse_cpus("1", 2), 100000U);
  EXPECT_EQ(parse_cpus("1.25", 2), 125000U);
  EXPECT_EQ(parse_cpus("2", 2), 200000U) << "every CPU of the machine";
  EXPECT_EQ(parse_cpus("0.01", 1), 1000U) << "1 ms: the kernel's smallest quota";
}

TEST(ParseCpus, RefusesTooLittleTooMuchAndWords) {
  for (const char* bad : {"abc", "", ".5", "5.", "-1", "0,5", "1e-1", "0.123456", "0.5 "}) {
    expect_refused("--cpus", bad, [bad] { (void)parse_cpus(bad, 2); }, "expected a number of CPUs");
  }
  for (const char* small : {"0", "0.0", "0.009", "0.00001"}) {
    expect_refused("--cpus", small, [small] { (void)parse_cpus(small, 2); }, "at least 0.01");
  }
  expect_refused("--cpus", "2.5", [] { (void)parse_cpus("2.5", 2); }, "this machine has 2 CPUs online");
  expect_refused("--cpus", "1.5", [] { (void)parse_cpus("1.5", 1); }, "this machine has 1 CPU online");
}

TEST(ParseCpus, AWholeNumberTooLargeIsTooManyCpusNotAMalformedOne) {
  // A number of CPUs still, however many digits: what is wrong is the machine's size.
  for (const char* many : {"3", "9999999", "9223372036854775808", "18446744073709551616"}) {
    expect_refused("--cpus", many, [many] { (void)parse_cpus(many, 2); }, "this machine has 2 CPUs online");
  }
  const std::string huge(131000, '9');
  expect_refused("--cpus", "9...9", [&huge] { (void)parse_cpus(huge, 2); }, "this machine has 2 CPUs online");
  const auto e = error_from([&huge] { (void)parse_cpus(huge, 2); });
  ASSERT_TRUE(e.has_value());
  EXPECT_LT(std::string(e->what()).size(), 200U) << "the value is shortened in the message";
}

// ---- NSLAB_CGROUP_BASE ------------------------------------------------------------

// The variable names a cgroup path; anything else is refused before a directory
// is made, in one line that names the variable.
TEST(FindBase, RefusesABaseThatIsNotACgroupPath) {
  for (const char* bad : {"relative/path", "/a/../..", "/a//b", "/no-such-cgroup-anywhere"}) {
    ::setenv("NSLAB_CGROUP_BASE", bad, 1);
    const auto e = error_from([] { (void)find_base(std::string(kCgroupMount), "/"); });
    ::unsetenv("NSLAB_CGROUP_BASE");
    ASSERT_TRUE(e.has_value()) << bad << " must be refused";
    const std::string message = e->what();
    EXPECT_EQ(message.rfind("NSLAB_CGROUP_BASE=", 0), 0U) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace nslab
