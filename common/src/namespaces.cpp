#include "nslab/namespaces.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <utility>

#include "flag_names.hpp"
#include "nslab/error.hpp"
#include "nslab/fd.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nslab {

const std::array<NamespaceKind, 8> kNamespaceKinds = {{
    {"cgroup", CLONE_NEWCGROUP, "the root of the cgroup tree it sees"},
    {"ipc", CLONE_NEWIPC, "System V IPC objects and POSIX message queues"},
    {"mnt", CLONE_NEWNS, "mount points"},
    {"net", CLONE_NEWNET, "network devices, addresses, routes and ports"},
    {"pid", CLONE_NEWPID, "process IDs"},
    {"time", CLONE_NEWTIME, "the boot-time and monotonic clocks"},
    {"user", CLONE_NEWUSER, "user and group IDs, and capabilities"},
    {"uts", CLONE_NEWUTS, "hostname and NIS domain name"},
}};

std::optional<NamespaceKind> namespace_kind(std::string_view name) {
  for (const NamespaceKind& kind : kNamespaceKinds) {
    if (kind.name == name) return kind;
  }
  return std::nullopt;
}

std::string clone_flags_to_string(unsigned long flags) {
  // Namespace flags first, then the other clone flags a runtime may use.
  static constexpr std::array<flag_names::Name, 14> kNames = {{
      {CLONE_NEWNS, "CLONE_NEWNS"},
      {CLONE_NEWUTS, "CLONE_NEWUTS"},
      {CLONE_NEWIPC, "CLONE_NEWIPC"},
      {CLONE_NEWPID, "CLONE_NEWPID"},
      {CLONE_NEWNET, "CLONE_NEWNET"},
      {CLONE_NEWUSER, "CLONE_NEWUSER"},
      {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
      {CLONE_NEWTIME, "CLONE_NEWTIME"},
      {CLONE_VM, "CLONE_VM"},
      {CLONE_FS, "CLONE_FS"},
      {CLONE_FILES, "CLONE_FILES"},
      {CLONE_SIGHAND, "CLONE_SIGHAND"},
      {CLONE_VFORK, "CLONE_VFORK"},
      {CLONE_PARENT, "CLONE_PARENT"},
  }};
  // The low byte is the signal sent to the parent on exit — unless it is
  // exactly CLONE_NEWTIME (0x80), which lives in that byte: clone(2) cannot
  // take both.
  const unsigned long signal = flags & 0xffUL;
  const bool new_time = signal == CLONE_NEWTIME;
  unsigned long rest = new_time ? flags : flags & ~0xffUL;
  std::string out;
  flag_names::name_bits(out, rest, kNames);
  if (!new_time && signal != 0) {
    flag_names::append(out, signal == SIGCHLD ? std::string("SIGCHLD") : "signal " + std::to_string(signal));
  }
  return flag_names::finish(std::move(out), rest);
}

std::string explain_clone_errno(int errnum, int flags, const std::string& sysctl_dir) {
  switch (errnum) {
    case ENOSPC: {
      // user_namespaces(7), "/proc/sys/user": one limit per kind, per user namespace.
      std::string at_zero;
      std::string others;
      std::string first_sysctl_at_zero;
      for (const NamespaceKind& kind : kNamespaceKinds) {
        if ((flags & kind.clone_flag) == 0 || kind.clone_flag == CLONE_NEWTIME) continue;
        const std::string path = sysctl_dir + "/max_" + std::string(kind.name) + "_namespaces";
        std::ifstream in(path);
        long limit = -1;
        if (!(in >> limit)) continue;
        if (limit == 0 && at_zero.empty()) first_sysctl_at_zero = "user.max_" + std::string(kind.name) + "_namespaces";
        std::string& list = limit == 0 ? at_zero : others;
        list += (list.empty() ? "" : ", ") + path + " is " + std::to_string(limit);
      }
      std::string hint = "a namespace limit was reached, not a full disk";
      if (!at_zero.empty()) return hint + ": " + at_zero + " (as root, sysctl -w " + first_sysctl_at_zero + "=10000 raises it)";
      if (!others.empty()) return hint + ": " + others;
      return hint + ": see " + sysctl_dir + "/max_*_namespaces";
    }
    case EPERM:
      return (flags & CLONE_NEWUSER) != 0 ? userns_restriction_hint()
                                          : "creating namespaces needs CAP_SYS_ADMIN: run it as root";
    case EUSERS:
      return "too many nested user or PID namespaces (the kernel allows 32 levels)";
    case EINVAL:
      return "the kernel does not accept this combination of flags, or does not have one of these namespaces";
    default:
      return "";
  }
}

std::string restrictive_userns_setting(const std::string& proc_sys) {
  auto read_value = [&proc_sys](const std::string& name) -> long {
    std::ifstream in(proc_sys + "/" + name);
    long value = -1;
    return (in >> value) ? value : -1;
  };
  // user_namespaces(7) and the distributions' own switches, in the order a
  // clone(CLONE_NEWUSER) meets them.
  if (read_value("user/max_user_namespaces") == 0) {
    return "user namespaces are off: user.max_user_namespaces is 0 (as root, sysctl -w user.max_user_namespaces=10000)";
  }
  if (read_value("kernel/unprivileged_userns_clone") == 0) {
    return "unprivileged user namespaces are off: kernel.unprivileged_userns_clone is 0 (as root, sysctl -w "
           "kernel.unprivileged_userns_clone=1)";
  }
  if (read_value("kernel/apparmor_restrict_unprivileged_userns") == 1) {
    return "AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns is 1 (as "
           "root, sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give this program an AppArmor profile "
           "that allows userns)";
  }
  return {};
}

std::string userns_restriction_hint(const std::string& proc_sys) {
  std::string setting = restrictive_userns_setting(proc_sys);
  if (!setting.empty()) return setting;
  return "user namespaces may be restricted here: see user.max_user_namespaces, kernel.unprivileged_userns_clone "
         "and kernel.apparmor_restrict_unprivileged_userns";
}

std::string foreign_proc_problem() {
  std::array<char, 32> link{};
  const ssize_t length = ::readlink("/proc/self", link.data(), link.size() - 1);
  if (length == -1) return "/proc/self cannot be read (is a proc mounted on /proc?)";
  const std::string self(link.data(), static_cast<std::size_t>(length));
  if (self == std::to_string(::getpid())) return {};
  return "/proc is not this PID namespace's: /proc/self is " + self + ", getpid() is " + std::to_string(::getpid()) +
         " (mount a proc for it, e.g. unshare --pid --fork --mount-proc)";
}

std::string NamespaceId::str() const { return kind + ":[" + std::to_string(inode) + "]"; }

std::optional<NamespaceId> parse_namespace_link(std::string_view link) {
  const auto open = link.find(":[");
  if (open == std::string_view::npos || open == 0 || link.size() < open + 4 || link.back() != ']') {
    return std::nullopt;
  }
  const std::string_view number = link.substr(open + 2, link.size() - open - 3);
  std::uint64_t inode = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), inode);
  if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
  return NamespaceId{std::string(link.substr(0, open)), inode};
}

namespace {

std::string proc_ns_dir(pid_t pid) {
  return pid == 0 ? std::string("/proc/self/ns") : "/proc/" + std::to_string(pid) + "/ns";
}

// The identity behind entry KIND of DIR (an fd on /proc/PID/ns, or AT_FDCWD
// with KIND a whole path); SHOWN names it in an error.
NamespaceId read_link(int dir, const std::string& kind, const std::string& shown) {
  std::array<char, 128> buffer{};
  const ssize_t length = ::readlinkat(dir, kind.c_str(), buffer.data(), buffer.size() - 1);
  if (length == -1) throw_errno("readlink " + shown);
  const auto id = parse_namespace_link(std::string_view(buffer.data(), static_cast<std::size_t>(length)));
  if (!id) throw Error(0, "readlink " + shown + ": unexpected \"" + std::string(buffer.data()) + "\"");
  return *id;
}

}  // namespace

NamespaceId read_namespace_id(pid_t pid, std::string_view kind) {
  const std::string path = proc_ns_dir(pid) + "/" + std::string(kind);
  return read_link(AT_FDCWD, path, path);
}

std::vector<NamespaceId> read_namespace_ids(pid_t pid, const std::vector<std::string_view>& kinds) {
  std::vector<NamespaceId> ids;
  if (kinds.empty()) return ids;
  const std::string path = proc_ns_dir(pid);
  const UniqueFd dir(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_errno("open " + path);
  ids.reserve(kinds.size());
  for (const std::string_view kind : kinds) {
    const std::string name(kind);
    std::string shown = path;
    shown += '/';
    shown += name;
    ids.push_back(read_link(dir.get(), name, shown));
  }
  return ids;
}

std::vector<std::string> list_namespace_entries(pid_t pid) {
  const std::string path = proc_ns_dir(pid);
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) throw_errno("opendir " + path);
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string describe_namespaces(pid_t pid, int flags) {
  std::string out;
  for (const NamespaceKind& kind : kNamespaceKinds) {
    if ((flags & kind.clone_flag) == 0) continue;
    if (!out.empty()) out += ' ';
    try {
      out += read_namespace_id(pid, kind.name).str();
    } catch (const Error& e) {
      out += std::string(kind.name) + ":[?]";
    }
  }
  return out;
}

}  // namespace nslab
