/// @file namespaces.hpp
/// @brief The kinds of namespace, clone flags by name, and identities from /proc/PID/ns.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab {

/// @brief One kind of namespace: its name in /proc/PID/ns, its clone flag, what it isolates.
struct NamespaceKind {
  std::string_view name;       ///< as in /proc/PID/ns: "uts", "mnt", ...
  int clone_flag;              ///< CLONE_NEWUTS, CLONE_NEWNS, ...
  std::string_view isolates;   ///< what it gives each container its own copy of
};

/// @brief Every kind the kernel has, in the order `ls /proc/PID/ns` lists them.
extern const std::array<NamespaceKind, 8> kNamespaceKinds;

/// @brief The kind whose name is @p name ("uts"), if there is one.
std::optional<NamespaceKind> namespace_kind(std::string_view name);

/// @brief Names the bits of a clone(2)/unshare(2) flags word: "CLONE_NEWUTS|CLONE_NEWIPC".
///
/// The low byte of a clone flags word is the signal sent to the parent on exit;
/// it prints as "SIGCHLD". Unknown bits print in hex, so nothing is hidden. 0 prints "0".
std::string clone_flags_to_string(unsigned long flags);

/// @brief What an errno from clone(2) or unshare(2) with @p flags means, for the
/// hint of an Error ("" when there is nothing to add).
///
/// ENOSPC is the misleading one (PITFALLS 14): not a full disk, but a namespace
/// limit; the hint names the `max_KIND_namespaces` file of each kind in @p flags
/// and its value, the ones at 0 first. @p sysctl_dir is where those files are
/// (tests give another).
std::string explain_clone_errno(int errnum, int flags, const std::string& sysctl_dir = "/proc/sys/user");

/// @brief Why an unprivileged user namespace may be refused here (PITFALLS 11),
/// for the hint of an EPERM or EACCES: the setting found restrictive under
/// @p proc_sys — `user.max_user_namespaces` at 0, Debian's
/// `kernel.unprivileged_userns_clone` at 0, Ubuntu's
/// `kernel.apparmor_restrict_unprivileged_userns` at 1 — and how to change it;
/// when none is, all three names.
std::string userns_restriction_hint(const std::string& proc_sys = "/proc/sys");

/// @brief The restrictive setting userns_restriction_hint() would name, or ""
/// when none of the three is set to restrict: for errors whose usual cause is
/// another (a mount's EPERM), so that the setting is named only when it applies.
std::string restrictive_userns_setting(const std::string& proc_sys = "/proc/sys");

/// @brief Why /proc/PID would not name the process PID as this process numbers
/// it, or "" when it would: under `unshare --pid --fork` without --mount-proc,
/// /proc is the outer PID namespace's, and /proc/CHILD is another process.
/// Whatever writes or opens a child's /proc files (lab 05's namespace fd, lab
/// 06's maps) checks this first.
std::string foreign_proc_problem();

/// @brief A namespace's identity: its kind and inode number, as the kernel shows
/// them in the link /proc/PID/ns/KIND -> "uts:[4026531838]".
struct NamespaceId {
  std::string kind;     ///< "uts"
  std::uint64_t inode;  ///< 4026531838
  /// @brief "uts:[4026531838]", as readlink(2) shows it.
  [[nodiscard]] std::string str() const;
  /// @brief Same kind and inode: the same namespace.
  friend bool operator==(const NamespaceId&, const NamespaceId&) = default;
};

/// @brief Parses "uts:[4026531838]"; nullopt if the text is not of that form.
std::optional<NamespaceId> parse_namespace_link(std::string_view link);

/// @brief Reads the identity of @p pid's namespace of kind @p kind (pid 0: this process).
/// @throws Error from readlink(2): ENOENT (no such process or kind), EACCES.
NamespaceId read_namespace_id(pid_t pid, std::string_view kind);

/// @brief The same for each of @p kinds, in their order, from one open of
/// /proc/PID/ns: each entry then costs one readlinkat(2), not a walk of the
/// whole path (/proc, self, the PID's directory) again.
/// @throws Error from open(2) or readlinkat(2), as read_namespace_id().
std::vector<NamespaceId> read_namespace_ids(pid_t pid, const std::vector<std::string_view>& kinds);

/// @brief The entries of /proc/PID/ns (pid 0: this process), sorted as `ls` sorts them.
/// @throws Error from opendir(2).
std::vector<std::string> list_namespace_entries(pid_t pid);

/// @brief "uts:[4026531838] ipc:[4026531839]" for the kinds in @p flags, of @p pid.
std::string describe_namespaces(pid_t pid, int flags);

}  // namespace nslab
