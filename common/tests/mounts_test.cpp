// mount(2) described by name, and paths opened inside a root (openat2 RESOLVE_IN_ROOT).

#include "nslab/mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "nslab/error.hpp"

namespace nslab {
namespace {

using testing::error_from;

TEST(MountFlagsToString, NamesEachFlag) {
  EXPECT_EQ(mount_flags_to_string(0), "0");
  EXPECT_EQ(mount_flags_to_string(MS_NOSUID | MS_NODEV | MS_NOEXEC), "MS_NOSUID|MS_NODEV|MS_NOEXEC");
  EXPECT_EQ(mount_flags_to_string(MS_REC | MS_PRIVATE), "MS_REC|MS_PRIVATE");
  EXPECT_EQ(mount_flags_to_string(MS_BIND | MS_REC), "MS_BIND|MS_REC");
  EXPECT_EQ(mount_flags_to_string(MS_REC | MS_SLAVE), "MS_REC|MS_SLAVE");
}

TEST(MountFlagsToString, UnknownBitsPrintInHex) {
  EXPECT_EQ(mount_flags_to_string(MS_RDONLY | (1UL << 30)), "MS_RDONLY|0x40000000");
}

TEST(DescribeMount, ReadsAsTheCallWithEveryArgument) {
  EXPECT_EQ(describe_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
            "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)");
  EXPECT_EQ(describe_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
            "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)");
  EXPECT_EQ(describe_mount("tmpfs", "/r/dev", "tmpfs", MS_NOSUID, "mode=755,size=64k"),
            "mount(\"tmpfs\", \"/r/dev\", \"tmpfs\", MS_NOSUID, \"mode=755,size=64k\")");
}

TEST(MountChecked, AFailureNamesTheCallTheShownTargetAndErrno) {
  const auto e = error_from([] {
    mount_checked("proc", "/no/such/dir/nslab", "proc", MS_NOSUID, nullptr, "ROOT/proc");
  });
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->errnum(), 0);
  EXPECT_EQ(e->context(), "mount(\"proc\", \"ROOT/proc\", \"proc\", MS_NOSUID, NULL)")
      << "the error shows the path the caller knows, not /proc/self/fd/N";
}

TEST(FdPath, IsTheMagicLinkOfTheFd) { EXPECT_EQ(fd_path(7), "/proc/self/fd/7"); }

class InRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (std::filesystem::temp_directory_path() / "nslab-root-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    root = name;
    root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_NE(root_fd, -1);
  }
  void TearDown() override {
    ::close(root_fd);
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
  static ino_t inode_of(int fd) {
    struct stat info {};
    return ::fstat(fd, &info) == 0 ? info.st_ino : 0;
  }
  static ino_t inode_of(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
  }
  std::string root;
  int root_fd = -1;
};

TEST_F(InRoot, OpensAPlainDirectory) {
  ASSERT_EQ(::mkdir((root + "/tmp").c_str(), 0755), 0);
  const UniqueFd fd = open_in_root(root_fd, "tmp", "ROOT/tmp");
  EXPECT_EQ(inode_of(fd.get()), inode_of(root + "/tmp"));
}

TEST_F(InRoot, AnAbsoluteLinkResolvesInsideTheRoot) {
  ASSERT_EQ(::mkdir((root + "/etc").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/etc", (root + "/tmp").c_str()), 0);
  const UniqueFd fd = open_in_root(root_fd, "tmp", "ROOT/tmp");
  EXPECT_EQ(inode_of(fd.get()), inode_of(root + "/etc")) << "tmp -> /etc is ROOT/etc, not the host's /etc";
  EXPECT_NE(inode_of(fd.get()), inode_of("/etc"));
}

TEST_F(InRoot, DotDotCannotClimbOutOfTheRoot) {
  ASSERT_EQ(::symlink("../../../../../../etc", (root + "/tmp").c_str()), 0);
  const auto e = error_from([this] { (void)open_in_root(root_fd, "tmp", "ROOT/tmp"); });
  ASSERT_TRUE(e.has_value()) << "ROOT has no etc: the link must not reach the host's";
  EXPECT_EQ(e->errnum(), ENOENT);
  EXPECT_EQ(e->context(), "openat2(\"ROOT/tmp\", RESOLVE_IN_ROOT)");
}

TEST_F(InRoot, AFileIsNotADirectory) {
  const int fd = ::open((root + "/tmp").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_NE(fd, -1);
  ::close(fd);
  const auto e = error_from([this] { (void)open_in_root(root_fd, "tmp", "ROOT/tmp"); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), ENOTDIR);
}

}  // namespace
}  // namespace nslab
