// Error, throw_errno, check, Todo and UsageError: the one error type of nslab.

#include "nslab/error.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace nslab {
namespace {

using testing::error_from;

// The Error that fn throws, or nullopt when it throws none.

TEST(Error, WhatIsContextColonStrerror) {
  const Error e(ENOENT, "open(\"/nope\")");
  EXPECT_STREQ(e.what(), "open(\"/nope\"): No such file or directory");
  EXPECT_EQ(e.errnum(), ENOENT);
  EXPECT_EQ(e.context(), "open(\"/nope\")") << "context() is the context alone";
}

TEST(Error, ErrnumZeroHasNoStrerrorSuffix) {
  const Error e(0, "--rootfs /x: no directory proc/");
  EXPECT_STREQ(e.what(), "--rootfs /x: no directory proc/");
  EXPECT_EQ(e.errnum(), 0);
  EXPECT_EQ(e.context(), "--rootfs /x: no directory proc/");
}

TEST(Error, IsCaughtAsStdRuntimeError) {
  try {
    throw Error(EPERM, "sethostname(\"box\")");
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), std::string("sethostname(\"box\"): ") + std::strerror(EPERM));
    return;
  }
  ADD_FAILURE() << "Error is not a std::runtime_error";
}

TEST(ThrowErrno, CarriesTheErrnoOfTheMomentItWasCalled) {
  const auto e = error_from([] {
    errno = EACCES;
    throw_errno("write /proc/4242/uid_map");
  });
  ASSERT_TRUE(e.has_value()) << "throw_errno must throw Error";
  EXPECT_EQ(e->errnum(), EACCES);
  EXPECT_STREQ(e->what(), "write /proc/4242/uid_map: Permission denied");
  EXPECT_EQ(e->context(), "write /proc/4242/uid_map");
}

TEST(ThrowErrno, ErrnoChangedAfterTheThrowDoesNotChangeTheError) {
  const auto e = error_from([] {
    errno = ENOSPC;
    throw_errno("clone");
  });
  errno = EINVAL;
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOSPC);
  EXPECT_STREQ(e->what(), "clone: No space left on device");
}

TEST(Check, ReturnsTheResultWhenItIsNotMinusOne) {
  EXPECT_EQ(check(0, "x"), 0);
  EXPECT_EQ(check(42, "x"), 42);
  EXPECT_EQ(check(-2, "x"), -2) << "only -1 means failure";
  EXPECT_EQ(check(::getpid(), "getpid"), ::getpid());
}

TEST(Check, ThrowsTheErrnoOfAFailedCall) {
  const auto e = error_from([] { (void)check(::close(-1), "close(-1)"); });
  ASSERT_TRUE(e.has_value()) << "check(-1, ...) must throw";
  EXPECT_EQ(e->errnum(), EBADF);
  EXPECT_STREQ(e->what(), "close(-1): Bad file descriptor");
  EXPECT_EQ(e->context(), "close(-1)");
}

TEST(Todo, MessageNamesTheLabWhatToImplementAndWhereToRead) {
  const Todo todo("01", "sethostname() in the child", "docs/en/lab01-uts.md#lab01-sethostname");
  // The dash is U+2014 EM DASH, in UTF-8.
  EXPECT_STREQ(todo.what(),
               "TODO(lab 01): implement sethostname() in the child \xE2\x80\x94 see "
               "docs/en/lab01-uts.md#lab01-sethostname");
  EXPECT_EQ(todo.errnum(), 0) << "a TODO is not a system call's failure";
  EXPECT_EQ(todo.context(), todo.what());
}

TEST(Todo, IsCaughtAsError) {
  const auto e = error_from([] { throw Todo("04", "pivot_root", "docs/en/lab04-mount.md#lab04-pivot"); });
  ASSERT_TRUE(e.has_value()) << "the pipeline catches Error: Todo must be one";
  EXPECT_EQ(std::string(e->what()).rfind("TODO(lab 04): implement pivot_root", 0), 0U) << e->what();
}

TEST(UsageError, IsAnErrorWithoutErrno) {
  const auto e = error_from([] { throw UsageError("unknown option --nope (see --help)"); });
  ASSERT_TRUE(e.has_value()) << "UsageError must be caught as Error";
  EXPECT_EQ(e->errnum(), 0);
  EXPECT_STREQ(e->what(), "unknown option --nope (see --help)");
}

TEST(Error, HintFollowsTheErrnoTextInParentheses) {
  const Error e(ENOSPC, "clone(CLONE_NEWUTS|SIGCHLD)", "a namespace limit was reached, not a full disk");
  EXPECT_STREQ(e.what(),
               "clone(CLONE_NEWUTS|SIGCHLD): No space left on device (a namespace limit was reached, not a full disk)");
  EXPECT_EQ(e.context(), "clone(CLONE_NEWUTS|SIGCHLD)");
  EXPECT_EQ(e.hint(), "a namespace limit was reached, not a full disk");
}

// The troubleshooting page's entry, by errno and context, for messages as the
// labs word them.
std::string anchor_of(int errnum, std::string_view context) {
  const std::optional<Troubleshooting> entry = troubleshooting_entry(errnum, context);
  return entry ? std::string(entry->anchor) : "(none)";
}

TEST(Troubleshooting, TheCallAndTheErrnoChooseTheEntry) {
  EXPECT_EQ(anchor_of(EINVAL, "pivot_root(\".\", \".\") into /tmp/r"), "ts-pivot_root-EINVAL");
  EXPECT_EQ(anchor_of(EBUSY, "pivot_root(\".\", \".\") into /tmp/r"), "ts-pivot_root-EBUSY");
  EXPECT_EQ(anchor_of(EPERM, "pivot_root(\".\", \".\") into /tmp/r"), "ts-mount-EPERM");
  EXPECT_EQ(anchor_of(ENOSPC, "clone(CLONE_NEWUTS|SIGCHLD)"), "ts-clone-ENOSPC");
  EXPECT_EQ(anchor_of(ENOSPC, "unshare(CLONE_NEWCGROUP)"), "ts-clone-ENOSPC");
  EXPECT_EQ(anchor_of(EPERM, "clone(CLONE_NEWUTS|SIGCHLD)"), "ts-clone-EPERM");
  EXPECT_EQ(anchor_of(EPERM, "clone(CLONE_NEWNS|CLONE_NEWUSER|SIGCHLD)"), "ts-userns-restricted")
      << "EPERM for a user namespace is a restriction of the machine's";
  EXPECT_EQ(anchor_of(EPERM, "write /proc/4242/uid_map \"0 1000 1\""), "ts-uid_map-EPERM");
  EXPECT_EQ(anchor_of(EPERM, "write /proc/4242/gid_map \"0 1000 1\""), "ts-gid_map-EPERM");
  EXPECT_EQ(anchor_of(EINVAL, "write /proc/4242/uid_map \"0 1000 1\""), "ts-id_map-EINVAL");
  EXPECT_EQ(anchor_of(EINVAL, "setns(/proc/4242/ns/user, CLONE_NEWUSER)"), "ts-setns-EINVAL");
  EXPECT_EQ(anchor_of(ENOENT, "open /sys/fs/cgroup/nslab/4242/pids.max"), "ts-cgroup_file-ENOENT");
  EXPECT_EQ(anchor_of(EBUSY, "write \"+memory\" to /sys/fs/cgroup/a/cgroup.subtree_control"),
            "ts-subtree_control-EBUSY");
  EXPECT_EQ(anchor_of(EEXIST, "a link named nslab-4242 exists on the host already"), "ts-veth-EEXIST");
  EXPECT_EQ(anchor_of(ENOENT, "exec \"bash\""), "ts-exec-ENOENT");
}

TEST(Troubleshooting, AnNslabRefusalIsFoundByItsWords) {
  EXPECT_EQ(anchor_of(0, "creating namespaces needs CAP_SYS_ADMIN: run it as root"), "ts-need-root");
  EXPECT_EQ(anchor_of(0, "--enter 4194304: there is no process 4194304"), "ts-enter-ESRCH");
  EXPECT_EQ(anchor_of(0, "--pids needs the pids controller, which /sys/fs/cgroup has not got"), "ts-no-controller");
  EXPECT_EQ(anchor_of(0, "left on the host: veth nslab-1 (RTM_DELLINK: Operation not permitted)"), "ts-left-on-host");
}

TEST(Troubleshooting, NoEntryForWhatTheMessageSaysInFull) {
  EXPECT_EQ(anchor_of(0, "--hostname: the name is empty"), "(none)") << "a bad option value needs no page";
  EXPECT_EQ(anchor_of(ENOENT, "--rootfs /no/such"), "(none)");
  EXPECT_EQ(anchor_of(EIO, "pivot_root(\".\", \".\") into /tmp/r"), "(none)") << "another errno, another entry";
  EXPECT_EQ(anchor_of(EINVAL, "umount2(\".\", MNT_DETACH)"), "(none)");
}

TEST(Troubleshooting, ThePointerNamesThePageAndTheAnchorAndTheDoctorWhenTheMachineMayBeTheCause) {
  EXPECT_EQ(troubleshooting_pointer(EINVAL, "pivot_root(\".\", \".\")"),
            " (see docs/{en,zh}/troubleshooting.md#ts-pivot_root-EINVAL)");
  EXPECT_EQ(troubleshooting_pointer(ENOSPC, "clone(CLONE_NEWUTS|SIGCHLD)"),
            " (run scripts/doctor.sh; see docs/{en,zh}/troubleshooting.md#ts-clone-ENOSPC)");
  EXPECT_EQ(troubleshooting_pointer(0, "--hostname: the name is empty"), "");
}

TEST(Printable, LeavesOrdinaryTextAndUtf8Alone) {
  EXPECT_EQ(printable("/tmp/rootfs"), "/tmp/rootfs");
  EXPECT_EQ(printable("容器 \u2014 box"), "容器 \u2014 box");
  EXPECT_EQ(printable(""), "");
}

TEST(Printable, EscapesControlBytesSoOneErrorStaysOneLine) {
  EXPECT_EQ(printable("a\nb"), "a\\nb");
  EXPECT_EQ(printable("a\tb"), "a\\tb");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred") << "an escape sequence must not reach the terminal";
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
}

TEST(Printable, ShortensALongValueAndSaysHowLongItWas) {
  const std::string value(131072, 'a');
  const std::string shown = printable(value, 80);
  EXPECT_EQ(shown, std::string(80, 'a') + "... (131072 bytes)");
  EXPECT_EQ(printable(std::string(80, 'b'), 80), std::string(80, 'b')) << "exactly max bytes is kept whole";
}

TEST(Printable, NeverCutsInsideAUtf8Character) {
  const std::string value = "ab\u00e9\u00e9\u00e9";  // a, b, then three 2-byte characters
  EXPECT_EQ(printable(value, 3), "ab... (8 bytes)") << "byte 3 is the middle of \u00e9";
  EXPECT_EQ(printable(value, 4), "ab\u00e9... (8 bytes)");
}

TEST(Printable, EscapesC1ControlsAndBytesThatAreNotUtf8) {
  EXPECT_EQ(printable("a\xc2\x9b" "2J"), "a\\xc2\\x9b2J") << "U+009B is CSI: a terminal would act on it";
  EXPECT_EQ(printable("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(printable("\xc3"), "\\xc3") << "a sequence cut short";
  EXPECT_EQ(printable("\xe0\x80\xaf"), "\\xe0\\x80\\xaf") << "an overlong form";
  EXPECT_EQ(printable("\xf0\x9f\x93\xa6"), "\xf0\x9f\x93\xa6") << "four bytes, valid";
}

TEST(Quoted, AddsQuotesAndEscapesQuotesAndBackslashes) {
  EXPECT_EQ(quoted("ls"), "\"ls\"");
  EXPECT_EQ(quoted("say \"hi\"\\n"), "\"say \\\"hi\\\"\\\\n\"");
  EXPECT_EQ(quoted("a\nb"), "\"a\\nb\"");
}

}  // namespace
}  // namespace nslab
