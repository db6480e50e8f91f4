#include "nslab/mounts.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <utility>

#include "flag_names.hpp"
#include "nslab/error.hpp"
#include "nslab/namespaces.hpp"

namespace nslab {

std::string mount_flags_to_string(unsigned long flags) {
  // In bit order, which puts MS_REC before the propagation flags: `MS_REC|MS_PRIVATE`.
  static constexpr std::array<flag_names::Name, 16> kNames = {{
      {MS_RDONLY, "MS_RDONLY"},
      {MS_NOSUID, "MS_NOSUID"},
      {MS_NODEV, "MS_NODEV"},
      {MS_NOEXEC, "MS_NOEXEC"},
      {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
      {MS_REMOUNT, "MS_REMOUNT"},
      {MS_NOATIME, "MS_NOATIME"},
      {MS_NODIRATIME, "MS_NODIRATIME"},
      {MS_BIND, "MS_BIND"},
      {MS_MOVE, "MS_MOVE"},
      {MS_REC, "MS_REC"},
      {MS_UNBINDABLE, "MS_UNBINDABLE"},
      {MS_PRIVATE, "MS_PRIVATE"},
      {MS_SLAVE, "MS_SLAVE"},
      {MS_SHARED, "MS_SHARED"},
      {MS_STRICTATIME, "MS_STRICTATIME"},
  }};
  std::string out;
  unsigned long rest = flags;
  flag_names::name_bits(out, rest, kNames);
  return flag_names::finish(std::move(out), rest);
}

std::string describe_mount(const char* source, const std::string& target, const char* fstype,
                           unsigned long flags, const char* data) {
  auto arg = [](const char* text) { return text == nullptr ? std::string("NULL") : quoted(text); };
  return "mount(" + arg(source) + ", " + quoted(target) + ", " + arg(fstype) + ", " +
         mount_flags_to_string(flags) + ", " + arg(data) + ")";
}

void mount_checked(const char* source, const std::string& target, const char* fstype,
                   unsigned long flags, const char* data, const std::string& shown_target) {
  if (::mount(source, target.c_str(), fstype, flags, data) == 0) return;
  const int saved = errno;
  std::string hint;
  if (saved == ENOSPC) hint = "the mount limit was reached (/proc/sys/fs/mount-max), not a full disk";
  if (saved == EPERM) {
    hint = "mounting needs CAP_SYS_ADMIN in the user namespace that owns this mount namespace";
    // Ubuntu's AppArmor switch lets the user namespace be made, then denies
    // its capabilities: the first mount is where it shows (PITFALLS 11).
    if (const std::string setting = restrictive_userns_setting(); !setting.empty()) hint += "; " + setting;
  }
  throw Error(saved, describe_mount(source, shown_target.empty() ? target : shown_target, fstype, flags, data),
              hint);
}

UniqueFd open_in_root(int root_fd, const std::string& path, const std::string& shown) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  if (errno != ENOSYS) throw_errno("openat2(" + quoted(shown) + ", RESOLVE_IN_ROOT)");
  // No openat2: a plain name, with O_NOFOLLOW, cannot leave the root either.
  if (path.find('/') != std::string::npos) {
    throw Error(ENOSYS, "openat2(" + quoted(shown) + ", RESOLVE_IN_ROOT)",
                "this kernel is older than 5.6: it cannot resolve a path inside a root");
  }
  const int plain = ::openat(root_fd, path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (plain == -1) throw_errno("open(" + quoted(shown) + ", O_NOFOLLOW)");
  return UniqueFd(plain);
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace nslab
