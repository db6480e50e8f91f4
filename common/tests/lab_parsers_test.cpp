// The option values the labs check before anything exists: --hostname (lab 01)
// and --rootfs (lab 04).

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "01-uts/uts.hpp"
#include "04-mount/mount.hpp"
#include "nslab/cli.hpp"
#include "nslab/error.hpp"

namespace nslab {
namespace {

using testing::error_from;


// ---- check_hostname (lab 01) ----------------------------------------------

std::optional<std::string> hostname_usage_error(std::string_view name) {
  try {
    check_hostname(name);
  } catch (const UsageError& e) {
    return e.what();
  }
  return std::nullopt;
}

TEST(CheckHostname, EmptyNameIsRejected) {
  const auto message = hostname_usage_error("");
  ASSERT_TRUE(message.has_value()) << "sethostname(2) would give the container no name";
  EXPECT_EQ(*message, "--hostname: the name is empty");
}

TEST(CheckHostname, UpToHostNameMaxBytesIsAccepted) {
  EXPECT_EQ(hostname_usage_error("b"), std::nullopt);
  EXPECT_EQ(hostname_usage_error("box"), std::nullopt);
  EXPECT_EQ(hostname_usage_error(std::string(64, 'a')), std::nullopt) << "64 is HOST_NAME_MAX itself";
}

TEST(CheckHostname, OneByteMoreIsRejectedNamingTheLimit) {
  const auto message = hostname_usage_error(std::string(65, 'a'));
  ASSERT_TRUE(message.has_value()) << "sethostname(2) fails with EINVAL beyond HOST_NAME_MAX";
  EXPECT_EQ(*message, "--hostname: the name is 65 bytes; the kernel allows at most 64 (HOST_NAME_MAX)");
}

TEST(UtsNamespace, HostnameOptionChecksItsValue) {
  UtsNamespace uts;
  cli::Parser parser("01-uts", "test");
  uts.add_options(parser);
  EXPECT_NO_THROW((void)parser.parse({"--hostname", "box"}));
  UtsNamespace fresh;  // one command line per module: a second --hostname is refused
  cli::Parser fresh_parser("01-uts", "test");
  fresh.add_options(fresh_parser);
  const auto e = error_from([&fresh_parser] { (void)fresh_parser.parse({"--hostname", std::string(65, 'a')}); });
  ASSERT_TRUE(e.has_value()) << "--hostname must reject a name sethostname(2) would refuse";
  EXPECT_NE(std::string(e->what()).find("HOST_NAME_MAX"), std::string::npos) << e->what();
  EXPECT_EQ(uts.clone_flags(), CLONE_NEWUTS);
}

// ---- check_rootfs (lab 04) ------------------------------------------------

class CheckRootfs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (std::filesystem::temp_directory_path() / "nslab-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr) << "mkdtemp: " << std::strerror(errno);
    base = name;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!base.empty()) std::filesystem::remove_all(base, ignored);
  }

  // A directory under base with the given subdirectories.
  std::string make_dir(const std::string& name, std::initializer_list<const char*> subdirs) const {
    std::string dir = base + "/" + name;
    EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
    for (const char* sub : subdirs) EXPECT_EQ(::mkdir((dir + "/" + sub).c_str(), 0755), 0) << sub;
    return dir;
  }
  std::string make_file(const std::string& path) const {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    EXPECT_NE(fd, -1) << path;
    if (fd != -1) ::close(fd);
    return path;
  }

  static std::string real_path(const std::string& path) {
    std::array<char, PATH_MAX> resolved{};
    return ::realpath(path.c_str(), resolved.data()) != nullptr ? std::string(resolved.data()) : std::string();
  }

  std::string base;
};

TEST_F(CheckRootfs, MissingDirectoryIsEnoent) {
  const std::string dir = base + "/missing";
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOENT);
  EXPECT_EQ(e->context(), "--rootfs " + dir);
}

TEST_F(CheckRootfs, RegularFileIsEnotdir) {
  const std::string file = make_file(base + "/file");
  const auto e = error_from([&file] { (void)check_rootfs(file); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOTDIR);
  EXPECT_EQ(e->context(), "--rootfs " + file);
}

TEST_F(CheckRootfs, PathThroughAFileIsEnotdir) {
  const std::string dir = make_file(base + "/file") + "/below";
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOTDIR);
}

TEST_F(CheckRootfs, HostRootIsRejected) {
  for (const std::string dir : {"/", "/.", "//"}) {
    SCOPED_TRACE(dir);
    const auto e = error_from([&dir] { (void)check_rootfs(dir); });
    ASSERT_TRUE(e.has_value()) << "pivot_root into the host's own / must be refused";
    EXPECT_EQ(e->errnum(), EINVAL);
    EXPECT_NE(std::string(e->what()).find("the host's own root cannot be a container's"), std::string::npos)
        << e->what();
  }
}

TEST_F(CheckRootfs, DirectoryWithoutAMountPointIsRejectedNamingIt) {
  struct Case {
    const char* name;
    std::initializer_list<const char*> subdirs;
    const char* missing;
  };
  const std::array<Case, 4> cases = {{
      {"empty", {}, "proc/"},
      {"no-dev", {"proc", "tmp"}, "dev/"},
      {"no-tmp", {"proc", "dev"}, "tmp/"},
      {"only-tmp", {"tmp"}, "proc/"},
  }};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = make_dir(c.name, c.subdirs);
    const auto e = error_from([&dir] { (void)check_rootfs(dir); });
    ASSERT_TRUE(e.has_value()) << "a rootfs without " << c.missing << " was accepted";
    EXPECT_EQ(e->errnum(), 0);
    EXPECT_EQ(std::string(e->what()).rfind("--rootfs " + dir + ": no directory " + c.missing, 0), 0U)
        << e->what();
  }
}

TEST_F(CheckRootfs, MountPointThatIsAFileIsRejected) {
  const std::string dir = make_dir("tmp-is-a-file", {"proc", "dev"});
  make_file(dir + "/tmp");
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(std::string(e->what()).find("no directory tmp/"), std::string::npos) << e->what();
}

TEST_F(CheckRootfs, CompleteRootfsReturnsItsRealPath) {
  const std::string dir = make_dir("root", {"proc", "dev", "tmp"});
  const std::string expected = real_path(dir);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(check_rootfs(dir).path, expected);
  EXPECT_EQ(check_rootfs(dir + "/").path, expected);
  EXPECT_EQ(check_rootfs(dir + "/proc/..").path, expected) << "resolved: no .. left";
  const std::string link = base + "/link";
  ASSERT_EQ(::symlink(dir.c_str(), link.c_str()), 0);
  EXPECT_EQ(check_rootfs(link).path, expected) << "a symlink resolves to its target";
}

TEST_F(CheckRootfs, AMountPointLinkIsResolvedInsideTheRootNotOnTheHost) {
  // tmp -> /etc: on the host's side that is the host's /etc; inside the root it
  // is DIR/etc, which this rootfs lacks, so the link leads nowhere.
  const std::string dir = make_dir("tmp-links-out", {"proc", "dev"});
  ASSERT_EQ(::symlink("/etc", (dir + "/tmp").c_str()), 0);
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value()) << "tmp -> /etc was followed to the host's /etc";
  EXPECT_NE(std::string(e->what()).find("no directory tmp/"), std::string::npos) << e->what();
  // With DIR/etc present, the same link is fine: it stays inside.
  ASSERT_EQ(::mkdir((dir + "/etc").c_str(), 0755), 0);
  EXPECT_EQ(check_rootfs(dir).path, real_path(dir));
}

TEST_F(CheckRootfs, AMountPointThatLeadsBackToTheRootIsRefused) {
  const std::string dir = make_dir("dev-is-root", {"proc", "tmp"});
  ASSERT_EQ(::symlink("/", (dir + "/dev").c_str()), 0);
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value()) << "a mount on dev -> / would hide the whole root filesystem";
  EXPECT_NE(std::string(e->what()).find("dev leads back to the root itself"), std::string::npos) << e->what();
}

TEST_F(CheckRootfs, ControlBytesInDirAreEscapedInTheError) {
  const std::string dir = base + "/two\nlines";
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(std::string(e->what()).find('\n'), std::string::npos) << "one error, one line";
}

TEST_F(CheckRootfs, RecordsTheIdentityOfTheDirectory) {
  const std::string dir = make_dir("identity", {"proc", "dev", "tmp"});
  struct stat info {};
  ASSERT_EQ(::stat(dir.c_str(), &info), 0);
  const RootFs rootfs = check_rootfs(dir);
  EXPECT_EQ(rootfs.dev, info.st_dev);
  EXPECT_EQ(rootfs.ino, info.st_ino) << "the child checks it pivots into this very directory";
}

TEST_F(CheckRootfs, MountPointsThatShareADirectoryAreRefused) {
  const std::string dir = make_dir("dev-is-tmp", {"proc", "tmp"});
  ASSERT_EQ(::symlink("tmp", (dir + "/dev").c_str()), 0);
  const auto e = error_from([&dir] { (void)check_rootfs(dir); });
  ASSERT_TRUE(e.has_value()) << "dev -> tmp: /dev would be hidden under /tmp";
  EXPECT_NE(std::string(e->what()).find("dev and tmp lead to the same directory"), std::string::npos) << e->what();
}

TEST(CheckHostname, AHugeNameIsRefusedForItsLengthNotForItsBytes) {
  const auto message = hostname_usage_error(std::string(131000, 'a'));
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(*message, "--hostname: the name is 131000 bytes; the kernel allows at most 64 (HOST_NAME_MAX)")
      << "a long name of plain letters holds no control byte";
}

TEST(UtsNamespace, HostnameGivenTwiceIsRefused) {
  UtsNamespace uts;
  cli::Parser parser("01-uts", "test");
  uts.add_options(parser);
  const auto e = error_from([&parser] { (void)parser.parse({"--hostname", "a", "--hostname=b"}); });
  ASSERT_TRUE(e.has_value()) << "the second name would silently win";
  EXPECT_STREQ(e->what(), "--hostname given twice: a container has one name");
}

TEST(MountNamespace, RootfsEmptyOrGivenTwiceIsRefusedWhileParsing) {
  {
    MountNamespace mnt;
    cli::Parser parser("04-mount", "test");
    mnt.add_options(parser);
    const auto e = error_from([&parser] { (void)parser.parse({"--rootfs="}); });
    ASSERT_TRUE(e.has_value());
    EXPECT_STREQ(e->what(), "--rootfs: expected a directory");
  }
  MountNamespace mnt;
  cli::Parser parser("04-mount", "test");
  mnt.add_options(parser);
  const auto e = error_from([&parser] { (void)parser.parse({"--rootfs", "/a", "--rootfs", "/b"}); });
  ASSERT_TRUE(e.has_value()) << "the second root would silently win";
  EXPECT_STREQ(e->what(), "--rootfs given twice: a container has one root");
}

TEST(RefuseDirectoriesOnStandardFds, ADirectoryOnStdinIsRefused) {
  EXPECT_TRUE(testing::Passed(testing::run_forked([]() -> std::string {
    const int fd = ::open("/", O_RDONLY | O_DIRECTORY);
    ::dup2(fd, STDIN_FILENO);
    const auto e = error_from([] { refuse_directories_on_standard_fds("/r"); });
    if (!e) return "stdin on / was accepted: /proc/self/fd/0/.. is the host's tree";
    return std::string(e->what()).find("fd 0 is open on a directory") != std::string::npos ? "" : e->what();
  })));
}

TEST(CheckHostname, ControlBytesAndBrokenUtf8AreRefused) {
  for (const std::string& bad : {std::string("box\nred"), std::string("\x1b[31mred"), std::string("a\xff"),
                                std::string("a\xc2\x9b")}) {
    const auto e = error_from([&bad] { check_hostname(bad); });
    ASSERT_TRUE(e.has_value()) << printable(bad);
    EXPECT_EQ(std::string(e->what()).find('\n'), std::string::npos) << "the error itself is one line";
  }
  EXPECT_NO_THROW(check_hostname("box-01.example"));
  EXPECT_NO_THROW(check_hostname("容器")) << "UTF-8 is fine";
}

// ---- --env (lab 04) -------------------------------------------------------

TEST(CheckEnvAssignment, AcceptsNameEqualsValue) {
  EXPECT_NO_THROW(check_env_assignment("LANG=C.UTF-8"));
  EXPECT_NO_THROW(check_env_assignment("_X1="));
  EXPECT_NO_THROW(check_env_assignment("A=b=c")) << "the value may hold '='";
}

TEST(CheckEnvAssignment, RefusesWhatIsNotNameEqualsValue) {
  for (const char* bad : {"LANG", "=value", "1X=y", "A B=c", "A-B=c", ""}) {
    SCOPED_TRACE(bad);
    const auto e = error_from([bad] { check_env_assignment(bad); });
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(std::string(e->what()).rfind("--env: expected NAME=VALUE", 0), 0U) << e->what();
  }
}

}  // namespace
}  // namespace nslab
