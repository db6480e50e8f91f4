// The namespace table, clone flags by name, and identities from /proc/PID/ns.

#include "nslab/namespaces.hpp"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "nslab/error.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nslab {
namespace {

using testing::error_from;


std::string read_link(const std::string& path) {
  std::array<char, 256> buffer{};
  const ssize_t length = ::readlink(path.c_str(), buffer.data(), buffer.size());
  return length < 0 ? std::string() : std::string(buffer.data(), static_cast<std::size_t>(length));
}

// No process has this PID: pid_max is at most 2^22 (proc(5)).
constexpr pid_t kNoSuchPid = 0x7fffffff;

TEST(NamespaceKinds, AreListedAsLsListsThemWithTheirFlags) {
  const std::array<std::pair<std::string_view, int>, 8> expected = {{
      {"cgroup", CLONE_NEWCGROUP},
      {"ipc", CLONE_NEWIPC},
      {"mnt", CLONE_NEWNS},
      {"net", CLONE_NEWNET},
      {"pid", CLONE_NEWPID},
      {"time", CLONE_NEWTIME},
      {"user", CLONE_NEWUSER},
      {"uts", CLONE_NEWUTS},
  }};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("kNamespaceKinds[" + std::to_string(i) + "]");
    EXPECT_EQ(kNamespaceKinds.at(i).name, expected.at(i).first);
    EXPECT_EQ(kNamespaceKinds.at(i).clone_flag, expected.at(i).second);
    EXPECT_FALSE(kNamespaceKinds.at(i).isolates.empty()) << "each kind says what it isolates";
  }
}

TEST(NamespaceKinds, EveryClassicKindIsInProcSelfNs) {
  const std::vector<std::string> entries = list_namespace_entries(0);
  for (const NamespaceKind& kind : kNamespaceKinds) {
    if (kind.name == "time" || kind.name == "cgroup") continue;  // newer kernels only
    EXPECT_NE(std::find(entries.begin(), entries.end(), kind.name), entries.end())
        << kind.name << " is not in /proc/self/ns";
  }
}

TEST(NamespaceKind, FindsAKindByItsProcName) {
  const auto uts = namespace_kind("uts");
  ASSERT_TRUE(uts.has_value());
  EXPECT_EQ(uts->name, "uts");
  EXPECT_EQ(uts->clone_flag, CLONE_NEWUTS);
  const auto mnt = namespace_kind("mnt");
  ASSERT_TRUE(mnt.has_value());
  EXPECT_EQ(mnt->clone_flag, CLONE_NEWNS);
}

TEST(NamespaceKind, UnknownNamesAreNotKinds) {
  EXPECT_FALSE(namespace_kind("").has_value());
  EXPECT_FALSE(namespace_kind("nope").has_value());
  EXPECT_FALSE(namespace_kind("UTS").has_value()) << "names are exact, as in /proc/PID/ns";
  EXPECT_FALSE(namespace_kind("pid_for_children").has_value());
  EXPECT_FALSE(namespace_kind("ut").has_value());
}

TEST(CloneFlagsToString, ZeroIsZero) { EXPECT_EQ(clone_flags_to_string(0), "0"); }

TEST(CloneFlagsToString, OneFlagByItsName) {
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUTS), "CLONE_NEWUTS");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWNS), "CLONE_NEWNS");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUSER), "CLONE_NEWUSER");
  EXPECT_EQ(clone_flags_to_string(CLONE_VM), "CLONE_VM");
}

TEST(CloneFlagsToString, SeveralFlagsJoinedByBarInTableOrder) {
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUTS | CLONE_NEWIPC), "CLONE_NEWUTS|CLONE_NEWIPC");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS),
            "CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWPID");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP),
            "CLONE_NEWNET|CLONE_NEWUSER|CLONE_NEWCGROUP");
}

TEST(CloneFlagsToString, LowByteIsTheExitSignal) {
  EXPECT_EQ(clone_flags_to_string(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUTS | SIGCHLD), "CLONE_NEWUTS|SIGCHLD");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUTS | SIGUSR1), "CLONE_NEWUTS|signal " + std::to_string(SIGUSR1));
}

TEST(CloneFlagsToString, UnknownBitsPrintInHex) {
  EXPECT_EQ(clone_flags_to_string(CLONE_THREAD), "0x10000");
  EXPECT_EQ(clone_flags_to_string(CLONE_THREAD | CLONE_SYSVSEM), "0x50000") << "unknown bits together, once";
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUTS | CLONE_THREAD | SIGCHLD), "CLONE_NEWUTS|SIGCHLD|0x10000");
  EXPECT_EQ(clone_flags_to_string(1UL << 33), "0x200000000") << "clone3(2) flags are 64 bits";
}

TEST(CloneFlagsToString, NewTimeIsNamedWhenItIsTheWholeLowByte) {
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWTIME), "CLONE_NEWTIME");
  EXPECT_EQ(clone_flags_to_string(CLONE_NEWUTS | CLONE_NEWTIME), "CLONE_NEWUTS|CLONE_NEWTIME");
}

TEST(ParseNamespaceLink, ReadsKindAndInode) {
  const auto id = parse_namespace_link("uts:[4026531838]");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->kind, "uts");
  EXPECT_EQ(id->inode, 4026531838U);
  const auto children = parse_namespace_link("pid_for_children:[4026531836]");
  ASSERT_TRUE(children.has_value());
  EXPECT_EQ(children->kind, "pid_for_children");
  const auto largest = parse_namespace_link("mnt:[18446744073709551615]");
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->inode, 18446744073709551615U);
}

TEST(ParseNamespaceLink, RejectsMalformedText) {
  for (const std::string_view text :
       {"", "uts", "uts:", "uts:[", "uts:[]", ":[123]", "uts:[12a]", "uts:[123", "uts:123]",
        "uts:[-1]", "uts:[+1]", "uts:[ 1]", "uts:[1]x", "uts:[18446744073709551616]",
        "uts [123]"}) {
    EXPECT_FALSE(parse_namespace_link(text).has_value()) << "accepted \"" << text << "\"";
  }
}

TEST(NamespaceId, StrIsWhatReadlinkShowsAndParsesBack) {
  const NamespaceId id{"ipc", 4026531839U};
  EXPECT_EQ(id.str(), "ipc:[4026531839]");
  EXPECT_EQ(parse_namespace_link(id.str()), id);
}

TEST(ReadNamespaceId, OfThisProcessIsTheProcSelfNsLink) {
  const std::string link = read_link("/proc/self/ns/uts");
  ASSERT_FALSE(link.empty());
  const NamespaceId id = read_namespace_id(0, "uts");
  EXPECT_EQ(id.str(), link);
  EXPECT_EQ(read_namespace_id(::getpid(), "uts"), id) << "pid 0 and our own PID name the same process";
  EXPECT_EQ(read_namespace_id(0, "mnt").str(), read_link("/proc/self/ns/mnt"));
}

TEST(ReadNamespaceId, UnknownKindIsEnoentNamingThePath) {
  const auto e = error_from([] { (void)read_namespace_id(0, "nosuch"); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOENT);
  EXPECT_EQ(e->context(), "readlink /proc/self/ns/nosuch");
}

TEST(ReadNamespaceId, NoSuchProcessIsEnoent) {
  const auto e = error_from([] { (void)read_namespace_id(kNoSuchPid, "uts"); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOENT);
  EXPECT_EQ(e->context(), "readlink /proc/" + std::to_string(kNoSuchPid) + "/ns/uts");
}

TEST(ListNamespaceEntries, HasTheClassicKindsSorted) {
  const std::vector<std::string> entries = list_namespace_entries(0);
  EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end()));
  for (const char* kind : {"uts", "ipc", "mnt", "pid", "net", "user"}) {
    EXPECT_NE(std::find(entries.begin(), entries.end(), kind), entries.end()) << kind << " missing";
  }
  EXPECT_EQ(std::find(entries.begin(), entries.end(), "."), entries.end()) << "no dot entries";
  EXPECT_EQ(list_namespace_entries(::getpid()), entries);
}

TEST(ListNamespaceEntries, NoSuchProcessThrowsEnoent) {
  const auto e = error_from([] { (void)list_namespace_entries(kNoSuchPid); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOENT);
}

TEST(DescribeNamespaces, ListsTheFlaggedKindsInTableOrder) {
  const std::string expected = read_link("/proc/self/ns/ipc") + " " + read_link("/proc/self/ns/uts");
  EXPECT_EQ(describe_namespaces(0, CLONE_NEWUTS | CLONE_NEWIPC), expected);
  EXPECT_EQ(describe_namespaces(0, CLONE_NEWNS), read_link("/proc/self/ns/mnt"));
  EXPECT_EQ(describe_namespaces(0, 0), "");
}

TEST(DescribeNamespaces, MarksWhatCannotBeRead) {
  EXPECT_EQ(describe_namespaces(kNoSuchPid, CLONE_NEWUTS | CLONE_NEWIPC), "ipc:[?] uts:[?]");
}

// A directory standing in for /proc/sys/user, with the limits a test wants.
class FakeSysctls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::array<char, 32> dir_template{"/tmp/nslab-sysctl.XXXXXX"};
    ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template.data();
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void set_limit(const std::string& kind, int value) const {
    std::ofstream(dir_ + "/max_" + kind + "_namespaces") << value << "\n";
  }
  std::string dir_;
};

TEST_F(FakeSysctls, EnospcNamesTheLimitThatIsZero) {
  set_limit("uts", 0);
  set_limit("ipc", 31000);
  const std::string hint = explain_clone_errno(ENOSPC, CLONE_NEWUTS | CLONE_NEWIPC, dir_);
  EXPECT_EQ(hint, "a namespace limit was reached, not a full disk: " + dir_ +
                      "/max_uts_namespaces is 0 (as root, sysctl -w user.max_uts_namespaces=10000 raises it)");
}

TEST_F(FakeSysctls, EnospcWithNoLimitAtZeroListsTheKindsAsked) {
  set_limit("uts", 5);
  set_limit("pid", 7);
  set_limit("net", 0);  // not asked for: not named
  const std::string hint = explain_clone_errno(ENOSPC, CLONE_NEWUTS | CLONE_NEWPID, dir_);
  EXPECT_EQ(hint, "a namespace limit was reached, not a full disk: " + dir_ + "/max_pid_namespaces is 7, " + dir_ +
                      "/max_uts_namespaces is 5");
}

TEST_F(FakeSysctls, EnospcWithoutTheFilesPointsToThem) {
  EXPECT_EQ(explain_clone_errno(ENOSPC, CLONE_NEWUTS, dir_),
            "a namespace limit was reached, not a full disk: see " + dir_ + "/max_*_namespaces");
}

TEST(ExplainCloneErrno, EpermSaysWhatToDo) {
  EXPECT_NE(explain_clone_errno(EPERM, CLONE_NEWUTS).find("CAP_SYS_ADMIN"), std::string::npos);
  EXPECT_NE(explain_clone_errno(EPERM, CLONE_NEWUSER | CLONE_NEWUTS).find("user.max_user_namespaces"),
            std::string::npos)
      << "with a user namespace, EPERM means a restriction (PITFALLS 11)";
  EXPECT_EQ(explain_clone_errno(EIO, CLONE_NEWUTS), "") << "nothing to add to other errnos";
}


// ---- userns_restriction_hint (PITFALLS 11) -----------------------------------

class FakeProcSys : public ::testing::Test {
 protected:
  void SetUp() override {
    std::array<char, 32> dir_template{"/tmp/nslab-procsys.XXXXXX"};
    ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template.data();
    ASSERT_EQ(std::system(("mkdir -p '" + dir_ + "/user' '" + dir_ + "/kernel'").c_str()), 0);
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void set(const std::string& name, int value) const { std::ofstream(dir_ + "/" + name) << value << "\n"; }
  std::string dir_;
};

TEST_F(FakeProcSys, NamesTheSettingThatIsRestrictiveAndHowToChangeIt) {
  set("user/max_user_namespaces", 0);
  EXPECT_NE(userns_restriction_hint(dir_).find("user.max_user_namespaces is 0"), std::string::npos);
  set("user/max_user_namespaces", 1000);
  set("kernel/unprivileged_userns_clone", 0);
  EXPECT_NE(userns_restriction_hint(dir_).find("sysctl -w kernel.unprivileged_userns_clone=1"), std::string::npos);
  set("kernel/unprivileged_userns_clone", 1);
  set("kernel/apparmor_restrict_unprivileged_userns", 1);
  EXPECT_NE(userns_restriction_hint(dir_).find("kernel.apparmor_restrict_unprivileged_userns is 1"),
            std::string::npos);
}

TEST_F(FakeProcSys, WithNoSettingRestrictiveNamesAllThree) {
  set("user/max_user_namespaces", 1000);
  const std::string hint = userns_restriction_hint(dir_);
  for (const char* name : {"user.max_user_namespaces", "kernel.unprivileged_userns_clone",
                           "kernel.apparmor_restrict_unprivileged_userns"}) {
    EXPECT_NE(hint.find(name), std::string::npos) << hint;
  }
}
}  // namespace
}  // namespace nslab
