/// @file mounts.hpp
/// @brief mount(2) with errors that name every argument, and paths resolved inside a root.
#pragma once

#include <string>

#include "nslab/fd.hpp"

namespace nslab {

/// @brief Names the bits of a mount(2) flags word: "MS_NOSUID|MS_NODEV|MS_NOEXEC".
/// Unknown bits print in hex; 0 prints "0".
std::string mount_flags_to_string(unsigned long flags);

/// @brief The call as a student would write it, for narration and errors:
/// `mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)`.
/// A null pointer prints as NULL, strings quoted (printable()).
std::string describe_mount(const char* source, const std::string& target, const char* fstype,
                           unsigned long flags, const char* data);

/// @brief mount(2), or throws Error naming the call with every argument.
///
/// @p shown_target, when given, is what the error shows instead of @p target:
/// a mount made through `/proc/self/fd/N` (see open_in_root()) reads better with
/// the path the fd stands for. ENOSPC gets a hint: it means the mount limit
/// (/proc/sys/fs/mount-max) or a full mount namespace, not a full disk (PITFALLS 14).
/// @throws Error from mount(2).
void mount_checked(const char* source, const std::string& target, const char* fstype,
                   unsigned long flags, const char* data, const std::string& shown_target = {});

/// @brief Opens @p path as a directory (O_PATH) *inside* the tree rooted at
/// @p root_fd: every symlink in it, absolute ones and `..` included, is resolved
/// as if @p root_fd were `/` (openat2(2) RESOLVE_IN_ROOT; no magic links).
///
/// A root filesystem is data we do not control: a mount point `tmp -> /etc` in
/// it, given to mount(2) as a host path, would be followed on the host's side of
/// the tree (PITFALLS 18, runc's CVE-2021-30465). Mount on `/proc/self/fd/N`
/// of the fd this returns instead. On kernels without openat2 (before 5.6), a
/// single-component @p path is opened with O_NOFOLLOW: a symlink is refused.
/// @p shown names the path in errors.
/// @throws Error (ENOENT, ENOTDIR, ELOOP, ENOSYS for a longer path on an old kernel).
UniqueFd open_in_root(int root_fd, const std::string& path, const std::string& shown);

/// @brief `/proc/self/fd/N`: the path through which mount(2) reaches what @p fd is open on.
std::string fd_path(int fd);

}  // namespace nslab
