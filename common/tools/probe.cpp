// nslab-probe: what a process sees of the machine, told from the inside.
//
//   nslab-probe [--json] [--only SECTION[,SECTION...]]
//
// Run as a container's COMMAND (01-uts -- nslab-probe), or on the host to have
// something to compare with, it reports what the kernel shows this process:
// its namespaces, hostname, PIDs, ids and id maps, capabilities, cgroup and
// limits, mounts, network links, open file descriptors, environment and root.
// Each is read the way a process inside a container can read it, and a source
// that is missing (a bare root filesystem has no /proc, no /sys) is reported as
// such ("not mounted: /proc") rather than failing: the probe exits 0 whenever
// it could report, 125 with one line on a bad option.
//
// It is linked statically and needs no shell and no library, so that it runs
// in a busybox root filesystem (04-mount --rootfs DIR -- /bin/nslab-probe).
//
// Sections (--only takes their names; the default is all of them, in order):
//   namespaces    /proc/self/ns/*: each kind and its inode (readlink(2))
//   process       hostname and NIS domain name (uname(2)), PID and PPID
//                 (getpid(2), getppid(2)), NSpid (/proc/self/status: this
//                 process's PID in each PID namespace from /proc's down to its own)
//   ids           real/effective/saved uid and gid (getresuid(2)), supplementary
//                 groups, /proc/self/uid_map, gid_map and setgroups
//   capabilities  effective, permitted and bounding sets (what CapEff, CapPrm
//                 and CapBnd of /proc/self/status say), read with capget(2) and
//                 prctl(PR_CAPBSET_READ) so that they are known without /proc,
//                 decoded to names
//   cgroup        /proc/self/cgroup: this process's cgroup in each hierarchy
//   limits        the memory, pids and cpu limits this process can read in the
//                 cgroup tree mounted here: its own cgroup's, and the smallest
//                 of those above it up to the top of the mount (a container's
//                 runtime may set them one level up, out of its reach). A tree
//                 mounted from above the process's cgroup namespace shows its
//                 root as "/../.."; the probe then finds its cgroup there by its
//                 PID in cgroup.procs. cgroup v1's memory.stat also tells the
//                 memory limit of the whole way up (hierarchical_memory_limit)
//   mounts        /proc/self/mountinfo: mount point, type, source, propagation
//   links         the network links of this network namespace (getifaddrs(3),
//                 which asks rtnetlink): name, index, state, flags, addresses
//   fds           /proc/self/fd: each open descriptor and what it refers to; the
//                 descriptor the probe reads that directory with is left out
//   environment   every variable, name and value
//   root          stat(2) of / beside /proc/1/root (PID 1's root, when visible),
//                 and the mount that is /
//
// JSON (--json): one object. Its keys are stable; a section's keys are present
// exactly when the section is asked for (all by default). A value that could
// not be read is null, and "unavailable" says why, under the same key.
//   "probe": "nslab-probe", "version": 1
//   "proc", "sys": "mounted" | "not mounted" (procfs at /proc, sysfs at /sys)
//   "unavailable": {KEY: "why", ...}  (KEY: one of the keys below, or
//                 "pid1_root" for root's "pid1_root")
//   namespaces:   "namespaces": {KIND: "KIND:[INODE]", ...} | null
//   process:      "hostname": str, "domainname": str, "pid": int, "ppid": int,
//                 "nspid": [int, ...] | null   (outermost first, own last)
//   ids:          "uid", "gid": {"real": int, "effective": int, "saved": int},
//                 "groups": [int, ...],
//                 "uid_map", "gid_map": [[inside, outside, count], ...] | null,
//                 "setgroups": "allow" | "deny" | null
//   capabilities: "capabilities": {"last_cap": int, "effective", "permitted",
//                 "bounding": {"mask": "0x%016x", "all": bool, "names": [str, ...]}}
//                 ("all": every capability up to last_cap)
//   cgroup:       "cgroup": [{"hierarchy": str, "controllers": str, "path": str},
//                 ...] | null
//   limits:       "limits": {"memory", "pids", "cpu": {"visible": bool,
//                 "version": "v1" | "v2" | null,
//                 "directory": str | null, "found_by": "path" | "search" | null,
//                 "here": str | null, "effective": str | null,
//                 "effective_in": str | null, "why": str}}
//                 (values as the files say them, "max" for none: memory in bytes,
//                 pids a count, cpu "QUOTA PERIOD" in microseconds; "effective" is
//                 the smallest on the way up from "directory" to the top of the
//                 mounted tree, where "effective_in" says)
//   mounts:       "mounts": [{"id": int, "parent": int, "mount_point": str,
//                 "root": str, "fstype": str, "source": str, "options": str,
//                 "super_options": str, "propagation": "private" | "shared:N" |
//                 "master:N" | ... (the optional fields, space-separated)}] | null
//   links:        "links": [{"name": str, "index": int, "state": "up" | "down",
//                 "flags": [str, ...], "addresses": ["ADDRESS/PREFIX", ...]}] | null
//   fds:          "fds": [{"fd": int, "target": str | null}, ...]
//                 (target null: /proc is not mounted, fds found by fcntl(2))
//   environment:  "environment": {NAME: VALUE, ...}
//   root:         "root": {"device": "MAJOR:MINOR", "inode": int,
//                 "pid1_root": {"device": str, "inode": int} | null,
//                 "same_as_pid1": bool | null, "mount": {as in "mounts"} | null}
// Strings are UTF-8; a byte that is not UTF-8 is written as the character of
// the same number (\u00XX), so that the output is always valid JSON.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr int kExitUsage = 125;
constexpr std::size_t kColumns = 80;

// --- reading what the kernel shows ------------------------------------------------

// The text of a file, or nullopt with errno set. The probe holds no descriptor
// between reads, so that the fds section lists only what it was started with.
std::optional<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd == -1) return std::nullopt;
  std::string text;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got == -1 && errno == EINTR) continue;
    if (got == -1) {
      const int saved = errno;
      (void)::close(fd);
      errno = saved;
      return std::nullopt;
    }
    if (got == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(got));
  }
  (void)::close(fd);
  return text;
}

std::optional<std::string> read_link(const std::string& path) {
  std::array<char, 4096> buffer{};
  const ssize_t length = ::readlink(path.c_str(), buffer.data(), buffer.size());
  if (length == -1) return std::nullopt;
  return std::string(buffer.data(), static_cast<std::size_t>(length));
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

std::string trimmed(std::string_view text) {
  const std::vector<std::string> words = words_of(text);
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

bool parse_number(std::string_view text, std::uint64_t& value) {
  if (text.empty() || text.size() > 19) return false;
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

// Why /proc cannot tell this process anything, or "" when it can.
std::string proc_unavailable(bool proc_mounted) {
  if (!proc_mounted) return "not mounted: /proc";
  struct stat self {};
  if (::stat("/proc/self", &self) == -1) {
    // A /proc of another PID namespace, in which this process has no number.
    return std::string("not visible: /proc/self: ") + std::strerror(errno) +
           " (this /proc belongs to a PID namespace this process is not in)";
  }
  return "";
}

bool mounted_as(const char* path, std::int64_t magic) {
  struct statfs fs {};
  return ::statfs(path, &fs) == 0 && static_cast<std::int64_t>(fs.f_type) == magic;
}

// --- what the probe collects ------------------------------------------------------

struct Ids {
  uid_t real = 0, effective = 0, saved = 0;
};

struct CapSet {
  std::uint64_t mask = 0;
};

struct CgroupEntry {
  std::string hierarchy, controllers, path;
};

struct Limit {
  std::string controller;
  bool visible = false;
  std::string version, directory, found_by, here, effective, effective_in, why;
};

struct Mount {
  long id = 0, parent = 0;
  std::string root, point, options, fstype, source, super_options, propagation;
};

struct Link {
  std::string name;
  unsigned index = 0;
  unsigned flags = 0;
  std::vector<std::string> addresses;
};

struct Fd {
  int number = 0;
  std::optional<std::string> target;
};

struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
};

struct View {
  bool proc = false, sys = false;
  std::map<std::string, std::string> unavailable;
  std::optional<std::map<std::string, std::string>> namespaces;
  std::string hostname, domainname;
  pid_t pid = 0, ppid = 0;
  std::optional<std::vector<std::uint64_t>> nspid;
  Ids uid, gid;
  std::vector<gid_t> groups;
  std::optional<std::vector<std::array<std::uint64_t, 3>>> uid_map, gid_map;
  std::optional<std::string> setgroups;
  int last_cap = -1;
  CapSet effective, permitted, bounding;
  std::optional<std::vector<CgroupEntry>> cgroups;
  std::vector<Limit> limits;
  std::optional<std::vector<Mount>> mounts;
  std::optional<std::vector<Link>> links;
  std::vector<Fd> fds;
  std::vector<std::pair<std::string, std::string>> environment;
  std::optional<FileId> root, pid1_root;
  std::optional<Mount> root_mount;
};

// The descriptors this process holds. Read first, before the probe opens
// anything: the directory's own descriptor is the one left out.
void collect_fds(View& view) {
  if (view.unavailable.count("fds") == 0) {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir != nullptr) {
      const int own = ::dirfd(dir);
      while (const dirent* entry = ::readdir(dir)) {
        std::uint64_t number = 0;
        if (!parse_number(entry->d_name, number) || static_cast<int>(number) == own) continue;
        Fd fd{static_cast<int>(number), read_link(std::string("/proc/self/fd/") + entry->d_name)};
        if (!fd.target) fd.target = std::string("? (") + std::strerror(errno) + ")";
        view.fds.push_back(std::move(fd));
      }
      (void)::closedir(dir);
      std::sort(view.fds.begin(), view.fds.end(), [](const Fd& a, const Fd& b) { return a.number < b.number; });
      return;
    }
  }
  // No /proc: each descriptor number asked in turn, up to the limit (at most 4096).
  rlimit files{};
  rlim_t top = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) top = files.rlim_cur;
  top = std::min<rlim_t>(top, 4096);
  for (int fd = 0; static_cast<rlim_t>(fd) < top; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) view.fds.push_back(Fd{fd, std::nullopt});
  }
}

void collect_namespaces(View& view) {
  const std::string why = view.unavailable.count("namespaces") != 0 ? view.unavailable["namespaces"] : "";
  if (!why.empty()) return;
  DIR* dir = ::opendir("/proc/self/ns");
  if (dir == nullptr) {
    view.unavailable["namespaces"] = std::string("/proc/self/ns: ") + std::strerror(errno);
    return;
  }
  std::map<std::string, std::string> ids;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string kind = entry->d_name;
    if (kind == "." || kind == "..") continue;
    const std::optional<std::string> id = read_link("/proc/self/ns/" + kind);
    ids[kind] = id ? *id : std::string("? (") + std::strerror(errno) + ")";
  }
  (void)::closedir(dir);
  view.namespaces = std::move(ids);
}

void collect_process(View& view) {
  utsname names{};
  if (::uname(&names) == 0) {
    view.hostname = names.nodename;
    view.domainname = names.domainname;
  }
  view.pid = ::getpid();
  view.ppid = ::getppid();
  if (view.unavailable.count("nspid") != 0) return;
  const std::optional<std::string> status = read_file("/proc/self/status");
  if (!status) {
    view.unavailable["nspid"] = std::string("/proc/self/status: ") + std::strerror(errno);
    return;
  }
  for (const std::string& line : lines_of(*status)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::vector<std::uint64_t> pids;
    for (const std::string& word : words_of(line.substr(6))) {
      std::uint64_t pid = 0;
      if (parse_number(word, pid)) pids.push_back(pid);
    }
    view.nspid = std::move(pids);
    return;
  }
  view.unavailable["nspid"] = "no NSpid line in /proc/self/status (a kernel before 4.1)";
}

std::optional<std::vector<std::array<std::uint64_t, 3>>> read_id_map(View& view, const std::string& key) {
  if (view.unavailable.count(key) != 0) return std::nullopt;
  const std::optional<std::string> text = read_file("/proc/self/" + key);
  if (!text) {
    view.unavailable[key] = "/proc/self/" + key + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<std::array<std::uint64_t, 3>> map;
  for (const std::string& line : lines_of(*text)) {
    const std::vector<std::string> words = words_of(line);
    std::array<std::uint64_t, 3> entry{};
    if (words.size() == 3 && parse_number(words[0], entry[0]) && parse_number(words[1], entry[1]) &&
        parse_number(words[2], entry[2])) {
      map.push_back(entry);
    }
  }
  return map;
}

void collect_ids(View& view) {
  (void)::getresuid(&view.uid.real, &view.uid.effective, &view.uid.saved);
  gid_t real = 0, effective = 0, saved = 0;
  (void)::getresgid(&real, &effective, &saved);
  view.gid = Ids{real, effective, saved};
  const int count = ::getgroups(0, nullptr);
  if (count > 0) {
    view.groups.resize(static_cast<std::size_t>(count));
    const int got = ::getgroups(count, view.groups.data());
    view.groups.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  }
  view.uid_map = read_id_map(view, "uid_map");
  view.gid_map = read_id_map(view, "gid_map");
  if (view.unavailable.count("setgroups") != 0) return;
  const std::optional<std::string> setgroups = read_file("/proc/self/setgroups");
  if (setgroups) {
    view.setgroups = trimmed(*setgroups);
  } else {
    view.unavailable["setgroups"] = std::string("/proc/self/setgroups: ") + std::strerror(errno);
  }
}

// capabilities(7)'s names, by number.
constexpr std::array<const char*, 41> kCapabilityNames = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",         "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",      "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",   "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",          "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

std::string capability_name(int cap) {
  if (cap >= 0 && static_cast<std::size_t>(cap) < kCapabilityNames.size()) {
    return kCapabilityNames[static_cast<std::size_t>(cap)];
  }
  return "CAP_" + std::to_string(cap);  // newer than this table
}

std::vector<std::string> capability_names(std::uint64_t mask) {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap) {
    if ((mask >> static_cast<unsigned>(cap) & 1U) != 0) names.push_back(capability_name(cap));
  }
  return names;
}

void collect_capabilities(View& view) {
  // The bounding set, one capability at a time: PR_CAPBSET_READ fails with
  // EINVAL past the last capability this kernel knows (its cap_last_cap).
  for (int cap = 0; cap < 64; ++cap) {
    const int held = ::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(cap), 0UL, 0UL, 0UL);
    if (held < 0) break;
    view.last_cap = cap;
    if (held == 1) view.bounding.mask |= std::uint64_t{1} << static_cast<unsigned>(cap);
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  // glibc has no wrapper for capget(2); libcap's would be a library to carry.
  if (::syscall(SYS_capget, &header, data.data()) == 0) {
    view.effective.mask = data[0].effective | std::uint64_t{data[1].effective} << 32U;
    view.permitted.mask = data[0].permitted | std::uint64_t{data[1].permitted} << 32U;
  } else {
    view.unavailable["capabilities"] = std::string("capget: ") + std::strerror(errno);
  }
}

std::uint64_t all_capabilities(int last_cap) {
  if (last_cap < 0) return 0;
  if (last_cap >= 63) return ~std::uint64_t{0};
  return (std::uint64_t{1} << static_cast<unsigned>(last_cap + 1)) - 1;
}

// mountinfo writes a space, a tab, a newline and a backslash in a path as \ooo.
std::string unescape_octal(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' &&
        text[i + 1] <= '3' && text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

// One line of /proc/self/mountinfo (proc(5)):
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
std::optional<Mount> parse_mountinfo_line(const std::string& line) {
  const std::vector<std::string> fields = split(line, ' ');
  if (fields.size() < 10) return std::nullopt;
  Mount mount;
  std::uint64_t id = 0, parent = 0;
  if (!parse_number(fields[0], id) || !parse_number(fields[1], parent)) return std::nullopt;
  mount.id = static_cast<long>(id);
  mount.parent = static_cast<long>(parent);
  mount.root = unescape_octal(fields[3]);
  mount.point = unescape_octal(fields[4]);
  mount.options = fields[5];
  std::size_t i = 6;
  std::vector<std::string> tags;
  for (; i < fields.size() && fields[i] != "-"; ++i) tags.push_back(fields[i]);
  if (i + 2 >= fields.size()) return std::nullopt;
  mount.fstype = fields[i + 1];
  mount.source = unescape_octal(fields[i + 2]);
  // The optional fields name the peer groups; none means a private mount.
  for (const std::string& tag : tags) mount.propagation += (mount.propagation.empty() ? "" : " ") + tag;
  if (mount.propagation.empty()) mount.propagation = "private";
  // The super block's options, after the source, say which v1 controllers a
  // cgroup mount holds.
  if (i + 3 < fields.size()) mount.super_options = fields[i + 3];
  return mount;
}

void collect_mounts(View& view) {
  if (view.unavailable.count("mounts") != 0) return;
  const std::optional<std::string> text = read_file("/proc/self/mountinfo");
  if (!text) {
    view.unavailable["mounts"] = std::string("/proc/self/mountinfo: ") + std::strerror(errno);
    return;
  }
  std::vector<Mount> mounts;
  for (const std::string& line : lines_of(*text)) {
    if (std::optional<Mount> mount = parse_mountinfo_line(line)) mounts.push_back(std::move(*mount));
  }
  view.mounts = std::move(mounts);
}

// --- cgroup limits ------------------------------------------------------------------

void collect_cgroups(View& view) {
  if (view.unavailable.count("cgroup") != 0) return;
  const std::optional<std::string> text = read_file("/proc/self/cgroup");
  if (!text) {
    view.unavailable["cgroup"] = std::string("/proc/self/cgroup: ") + std::strerror(errno);
    return;
  }
  std::vector<CgroupEntry> entries;
  for (const std::string& line : lines_of(*text)) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    entries.push_back({line.substr(0, first), line.substr(first + 1, second - first - 1), line.substr(second + 1)});
  }
  view.cgroups = std::move(entries);
}

bool has_item(const std::string& list, const std::string& item) {
  for (const std::string& word : split(list, ',')) {
    if (word == item) return true;
  }
  return false;
}

// How many "/.." a mount's root is made of: a cgroup tree mounted outside this
// process's cgroup namespace shows its root relative to the namespace's, as
// "/../.." (cgroup_namespaces(7)). -1 when the root is not of that form.
int levels_above(const std::string& root) {
  if (root.empty()) return -1;
  int levels = 0;
  for (std::size_t i = 0; i < root.size(); i += 3) {
    if (root.compare(i, 3, "/..") != 0) return -1;
    ++levels;
  }
  return levels;
}

bool lists_pid(const std::string& procs_file, pid_t pid) {
  const std::optional<std::string> text = read_file(procs_file);
  if (!text) return false;
  const std::string wanted = std::to_string(pid);
  for (const std::string& line : lines_of(*text)) {
    if (line == wanted) return true;
  }
  return false;
}

// The directory LEVELS below MOUNT_POINT, then PATH, whose cgroup.procs lists
// this process: where it is in a tree mounted from above its cgroup namespace.
// The kernel translates each PID of cgroup.procs into the reader's PID
// namespace, so only this process has its number there. At most a few
// thousand directories are looked at.
std::optional<std::string> search_own_cgroup(const std::string& mount_point, int levels, const std::string& path,
                                             pid_t pid) {
  std::vector<std::string> layer{mount_point};
  std::size_t budget = 20000;
  for (int depth = 0; depth < levels; ++depth) {
    std::vector<std::string> next;
    for (const std::string& dir : layer) {
      DIR* stream = ::opendir(dir.c_str());
      if (stream == nullptr) continue;
      while (const dirent* entry = ::readdir(stream)) {
        if (entry->d_type != DT_DIR || std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) {
          continue;
        }
        if (budget == 0) break;
        --budget;
        next.push_back(dir + "/" + entry->d_name);
      }
      (void)::closedir(stream);
    }
    layer = std::move(next);
  }
  const std::string below = path == "/" ? "" : path;
  for (const std::string& dir : layer) {
    if (lists_pid(dir + below + "/cgroup.procs", pid)) return dir + below;
  }
  return std::nullopt;
}

// A limit as comparable numbers: the value, and the period for cpu
// (a quota per period); "max" is infinity.
struct Amount {
  std::string text;  // as the file says it: "67108864", "max", "50000 100000"
  double per_period = std::numeric_limits<double>::infinity();
};

// v1 writes "no limit" as a huge number (memory: PAGE_COUNTER_MAX pages; cpu: -1).
constexpr std::uint64_t kV1Unlimited = std::uint64_t{1} << 62U;

std::optional<Amount> read_amount(const std::string& dir, const std::string& controller, const std::string& version) {
  if (controller == "cpu") {
    std::string quota, period;
    if (version == "v2") {
      const std::optional<std::string> text = read_file(dir + "/cpu.max");
      if (!text) return std::nullopt;
      const std::vector<std::string> words = words_of(*text);
      if (words.size() != 2) return std::nullopt;
      quota = words[0];
      period = words[1];
    } else {
      const std::optional<std::string> q = read_file(dir + "/cpu.cfs_quota_us");
      const std::optional<std::string> p = read_file(dir + "/cpu.cfs_period_us");
      if (!q || !p) return std::nullopt;
      quota = trimmed(*q) == "-1" ? "max" : trimmed(*q);
      period = trimmed(*p);
    }
    Amount amount{quota + " " + period};
    std::uint64_t q = 0, p = 0;
    if (parse_number(quota, q) && parse_number(period, p) && p > 0) {
      amount.per_period = static_cast<double>(q) / static_cast<double>(p);
    }
    return amount;
  }
  std::string file = controller == "pids" ? "pids.max" : "memory.max";
  if (controller == "memory" && version == "v1") file = "memory.limit_in_bytes";
  const std::optional<std::string> text = read_file(dir + "/" + file);
  if (!text) return std::nullopt;
  Amount amount{trimmed(*text)};
  std::uint64_t value = 0;
  if (parse_number(amount.text, value)) {
    if (value >= kV1Unlimited) {
      amount.text = "max";
    } else {
      amount.per_period = static_cast<double>(value);
    }
  }
  return amount;
}

// v1's memory.stat knows the limit of the whole way up, even the part of it
// outside this process's view: hierarchical_memory_limit.
std::optional<Amount> v1_hierarchical_memory(const std::string& dir) {
  const std::optional<std::string> text = read_file(dir + "/memory.stat");
  if (!text) return std::nullopt;
  for (const std::string& line : lines_of(*text)) {
    const std::vector<std::string> words = words_of(line);
    std::uint64_t value = 0;
    if (words.size() == 2 && words[0] == "hierarchical_memory_limit" && parse_number(words[1], value)) {
      if (value >= kV1Unlimited) return Amount{"max"};
      return Amount{words[1], static_cast<double>(value)};
    }
  }
  return std::nullopt;
}

// Whether CONTROLLER counts in the cgroup DIR: a v1 hierarchy's directory
// (the mount said it holds the controller), or a v2 cgroup whose
// cgroup.controllers lists it.
bool controller_applies(const std::string& dir, const std::string& controller, const std::string& version) {
  if (version == "v1") return ::access((dir + "/cgroup.procs").c_str(), F_OK) == 0;
  const std::optional<std::string> offered = read_file(dir + "/cgroup.controllers");
  if (!offered) return false;
  const std::vector<std::string> words = words_of(*offered);
  return std::find(words.begin(), words.end(), controller) != words.end();
}

// Where this process's cgroup for CONTROLLER is, in a tree mounted here, and
// the limit there and above it.
Limit read_limit(const View& view, const std::string& controller) {
  Limit limit;
  limit.controller = controller;
  if (!view.cgroups || !view.mounts) {
    limit.why = "not visible: /proc/self/cgroup and /proc/self/mountinfo are needed";
    return limit;
  }
  // v1: the hierarchy that holds the controller; else v2's one tree.
  const CgroupEntry* entry = nullptr;
  for (const CgroupEntry& e : *view.cgroups) {
    if (e.hierarchy != "0" && has_item(e.controllers, controller)) entry = &e;
  }
  limit.version = entry != nullptr ? "v1" : "v2";
  for (const CgroupEntry& e : *view.cgroups) {
    if (entry == nullptr && e.hierarchy == "0") entry = &e;
  }
  if (entry == nullptr) {
    limit.why = "not visible: this process is in no cgroup hierarchy with the " + controller + " controller";
    return limit;
  }
  std::string last_why = "not visible: no " + std::string(limit.version == "v1" ? "cgroup" : "cgroup2") +
                         " hierarchy with the " + controller + " controller is mounted here";
  // The last mount on a mount point is the one seen; try those in turn.
  for (auto mount = view.mounts->rbegin(); mount != view.mounts->rend(); ++mount) {
    if (limit.version == "v1" && (mount->fstype != "cgroup" || !has_item(mount->super_options, controller))) continue;
    if (limit.version == "v2" && mount->fstype != "cgroup2") continue;
    std::string dir;
    std::string found_by = "path";
    const std::string& path = entry->path;
    const std::string& root = mount->root;
    if (root == "/") {
      dir = mount->point + (path == "/" ? "" : path);
    } else if (path == root || path.rfind(root + "/", 0) == 0) {
      dir = mount->point + path.substr(root.size());
    } else if (const int levels = levels_above(root); levels > 0) {
      const std::optional<std::string> found = search_own_cgroup(mount->point, levels, path, view.pid);
      if (!found) {
        last_why = "not visible: " + mount->point + " is mounted from " + std::to_string(levels) +
                   " level(s) above this cgroup namespace, and no cgroup there lists this process";
        continue;
      }
      dir = *found;
      found_by = "search";
    } else {
      last_why = "not visible: " + mount->point + " shows ";
      last_why += root;
      last_why += " of the tree, which does not hold " + path;
      continue;
    }
    std::optional<Amount> here = read_amount(dir, controller, limit.version);
    const int read_errno = errno;
    if (!here && read_errno == ENOENT && controller_applies(dir, controller, limit.version)) {
      // The root of a hierarchy has no limit files: nothing limits it.
      here = Amount{"max"};
    }
    if (!here) {
      last_why = "not visible: " + dir;
      last_why += " has no " + controller + " limit file (" + std::strerror(read_errno) + ")";
      if (limit.version == "v2") last_why += ": the controller is not enabled for this cgroup";
      continue;
    }
    limit.visible = true;
    limit.directory = dir;
    limit.found_by = found_by;
    limit.here = here->text;
    Amount smallest = *here;
    std::string smallest_in = dir;
    // Up to the top of the mounted tree: a limit on any cgroup above holds too.
    std::string up = dir;
    while (up.size() > mount->point.size()) {
      up = up.substr(0, up.rfind('/'));
      if (up.size() < mount->point.size()) break;
      const std::optional<Amount> above = read_amount(up, controller, limit.version);
      if (above && above->per_period < smallest.per_period) {
        smallest = *above;
        smallest_in = up;
      }
    }
    if (controller == "memory" && limit.version == "v1") {
      const std::optional<Amount> whole = v1_hierarchical_memory(dir);
      if (whole && whole->per_period < smallest.per_period) {
        smallest = *whole;
        smallest_in = dir + " (memory.stat: hierarchical_memory_limit)";
      }
    }
    limit.effective = smallest.text;
    limit.effective_in = smallest_in;
    limit.why = "";
    return limit;
  }
  limit.why = last_why;
  return limit;
}

// --- network links ------------------------------------------------------------------

unsigned prefix_length(const sockaddr* mask) {
  if (mask == nullptr) return 0;
  const unsigned char* bytes = nullptr;
  std::size_t size = 0;
  if (mask->sa_family == AF_INET) {
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(mask)->sin_addr);
    size = 4;
  } else if (mask->sa_family == AF_INET6) {
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr);
    size = 16;
  }
  unsigned bits = 0;
  for (std::size_t i = 0; i < size; ++i) bits += static_cast<unsigned>(__builtin_popcount(bytes[i]));
  return bits;
}

void collect_links(View& view) {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) == -1) {
    view.unavailable["links"] = std::string("getifaddrs: ") + std::strerror(errno);
    return;
  }
  std::map<std::string, Link> links;
  for (const ifaddrs* entry = all; entry != nullptr; entry = entry->ifa_next) {
    Link& link = links[entry->ifa_name];
    link.name = entry->ifa_name;
    link.flags = entry->ifa_flags;
    if (entry->ifa_addr == nullptr) continue;
    const int family = entry->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* address = family == AF_INET
                              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr)
                              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr);
    if (::inet_ntop(family, address, text.data(), text.size()) != nullptr) {
      link.addresses.push_back(std::string(text.data()) + "/" + std::to_string(prefix_length(entry->ifa_netmask)));
    }
  }
  ::freeifaddrs(all);
  std::vector<Link> ordered;
  for (auto& [name, link] : links) {
    link.index = ::if_nametoindex(name.c_str());
    ordered.push_back(std::move(link));
  }
  std::sort(ordered.begin(), ordered.end(), [](const Link& a, const Link& b) { return a.index < b.index; });
  view.links = std::move(ordered);
}

std::vector<std::string> link_flags(unsigned flags) {
  constexpr unsigned kLowerUp = 0x10000;  // IFF_LOWER_UP: the carrier, from rtnetlink (not in <net/if.h>)
  const std::array<std::pair<unsigned, const char*>, 6> names{{{IFF_UP, "UP"},
                                                               {IFF_LOOPBACK, "LOOPBACK"},
                                                               {IFF_BROADCAST, "BROADCAST"},
                                                               {IFF_POINTOPOINT, "POINTOPOINT"},
                                                               {IFF_RUNNING, "RUNNING"},
                                                               {kLowerUp, "LOWER_UP"}}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : names) {
    if ((flags & bit) != 0) out.emplace_back(name);
  }
  return out;
}

// --- environment and root ----------------------------------------------------------

void collect_environment(View& view) {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    view.environment.emplace_back(std::string(text.substr(0, equals)),
                                  equals == std::string_view::npos ? "" : std::string(text.substr(equals + 1)));
  }
}

void collect_root(View& view) {
  struct stat own {};
  if (::stat("/", &own) == 0) view.root = FileId{own.st_dev, own.st_ino};
  if (view.unavailable.count("pid1_root") == 0) {
    // The magic link is followed to PID 1's root directory, wherever it is.
    struct stat init {};
    if (::stat("/proc/1/root", &init) == 0) {
      view.pid1_root = FileId{init.st_dev, init.st_ino};
    } else {
      view.unavailable["pid1_root"] = std::string("/proc/1/root: ") + std::strerror(errno);
    }
  }
  if (view.mounts) {
    for (const Mount& mount : *view.mounts) {
      if (mount.point == "/") view.root_mount = mount;  // the last one on / is the one seen
    }
  }
}

// --- output: JSON ---------------------------------------------------------------------

// The length of the valid UTF-8 sequence at TEXT[I], or 0 when the byte there
// does not start one (a stray continuation, an overlong form, a surrogate).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned lead = byte(i);
  std::size_t length = 0;
  unsigned low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// BYTE as \u00XX (JSON) or \xXX (a terminal).
std::string hex_escape(bool json, unsigned byte) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  return std::string(json ? "\\u00" : "\\x") + kDigits[byte >> 4U & 0xFU] + kDigits[byte & 0xFU];
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence(text, i);
    if (length == 0) {
      out += hex_escape(true, c);  // not UTF-8: the byte read as Latin-1
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += hex_escape(true, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

// A JSON writer just big enough: objects and arrays, two spaces per level.
class Json {
 public:
  explicit Json(std::string& out) : out_(out) {}
  // An object or an array, one member a line; INLINE: an array of numbers or
  // strings, on one line.
  void open(char bracket, bool inline_items = false) {
    item();
    out_ += bracket;
    first_.push_back(true);
    inline_.push_back(inline_items);
  }
  void close(char bracket) {
    const bool empty = first_.back();
    const bool inline_items = inline_.back();
    first_.pop_back();
    inline_.pop_back();
    if (!empty && !inline_items) newline();
    out_ += bracket;
  }
  void key(std::string_view name) {
    item();
    out_ += json_string(name) + ": ";
    after_key_ = true;
  }
  void string(std::string_view text) {
    item();
    out_ += json_string(text);
  }
  void optional_string(const std::optional<std::string>& text) {
    if (text) {
      string(*text);
    } else {
      null();
    }
  }
  void number(long long value) {
    item();
    out_ += std::to_string(value);
  }
  void unsigned_number(std::uint64_t value) {
    item();
    out_ += std::to_string(value);
  }
  void boolean(bool value) {
    item();
    out_ += value ? "true" : "false";
  }
  void null() {
    item();
    out_ += "null";
  }
  void member(std::string_view name, std::string_view text) {
    key(name);
    string(text);
  }
  // A string member, null when TEXT is empty.
  void member_or_null(std::string_view name, const std::string& text) {
    key(name);
    if (text.empty()) {
      null();
    } else {
      string(text);
    }
  }

 private:
  void newline() {
    out_ += '\n';
    out_.append(first_.size() * 2, ' ');
  }
  // Before a value or a key: the comma and the line break it needs.
  void item() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += inline_.back() ? ", " : ",";
    const bool first = first_.back();
    first_.back() = false;
    if (!inline_.back()) {
      newline();
    } else if (first) {
      return;
    }
  }

  std::string& out_;
  std::vector<bool> first_;
  std::vector<bool> inline_;
  bool after_key_ = false;
};

void json_mount(Json& json, const Mount& mount) {
  json.open('{');
  json.key("id");
  json.number(mount.id);
  json.key("parent");
  json.number(mount.parent);
  json.member("mount_point", mount.point);
  json.member("root", mount.root);
  json.member("fstype", mount.fstype);
  json.member("source", mount.source);
  json.member("options", mount.options);
  json.member("super_options", mount.super_options);
  json.member("propagation", mount.propagation);
  json.close('}');
}

void json_ids(Json& json, const char* name, const Ids& ids) {
  json.key(name);
  json.open('{');
  json.key("real");
  json.unsigned_number(ids.real);
  json.key("effective");
  json.unsigned_number(ids.effective);
  json.key("saved");
  json.unsigned_number(ids.saved);
  json.close('}');
}

void json_id_map(Json& json, const char* name, const std::optional<std::vector<std::array<std::uint64_t, 3>>>& map) {
  json.key(name);
  if (!map) {
    json.null();
    return;
  }
  json.open('[');
  for (const auto& entry : *map) {
    json.open('[', true);
    for (const std::uint64_t value : entry) json.unsigned_number(value);
    json.close(']');
  }
  json.close(']');
}

void json_capset(Json& json, const char* name, const CapSet& set, int last_cap) {
  json.key(name);
  json.open('{');
  std::array<char, 24> mask{};
  (void)std::snprintf(mask.data(), mask.size(), "0x%016llx", static_cast<unsigned long long>(set.mask));
  json.member("mask", mask.data());
  json.key("all");
  json.boolean(last_cap >= 0 && (set.mask & all_capabilities(last_cap)) == all_capabilities(last_cap));
  json.key("names");
  json.open('[', true);
  for (const std::string& cap : capability_names(set.mask)) json.string(cap);
  json.close(']');
  json.close('}');
}

std::string device_text(dev_t device) {
  return std::to_string(major(device)) + ":" + std::to_string(minor(device));
}

void json_file_id(Json& json, const FileId& id) {
  json.open('{');
  json.member("device", device_text(id.device));
  json.key("inode");
  json.unsigned_number(id.inode);
  json.close('}');
}

using Sections = std::set<std::string>;

const std::array<const char*, 11> kSections = {"namespaces", "process", "ids",   "capabilities", "cgroup", "limits",
                                                "mounts",     "links",   "fds",   "environment",  "root"};

std::string render_json(const View& view, const Sections& sections) {
  std::string out;
  Json json(out);
  const auto wanted = [&](const char* section) { return sections.count(section) != 0; };
  json.open('{');
  json.member("probe", "nslab-probe");
  json.key("version");
  json.number(1);
  json.member("proc", view.proc ? "mounted" : "not mounted");
  json.member("sys", view.sys ? "mounted" : "not mounted");
  json.key("unavailable");
  json.open('{');
  for (const auto& [key, why] : view.unavailable) json.member(key, why);
  json.close('}');
  if (wanted("namespaces")) {
    json.key("namespaces");
    if (view.namespaces) {
      json.open('{');
      for (const auto& [kind, id] : *view.namespaces) json.member(kind, id);
      json.close('}');
    } else {
      json.null();
    }
  }
  if (wanted("process")) {
    json.member("hostname", view.hostname);
    json.member("domainname", view.domainname);
    json.key("pid");
    json.number(view.pid);
    json.key("ppid");
    json.number(view.ppid);
    json.key("nspid");
    if (view.nspid) {
      json.open('[', true);
      for (const std::uint64_t pid : *view.nspid) json.unsigned_number(pid);
      json.close(']');
    } else {
      json.null();
    }
  }
  if (wanted("ids")) {
    json_ids(json, "uid", view.uid);
    json_ids(json, "gid", view.gid);
    json.key("groups");
    json.open('[', true);
    for (const gid_t group : view.groups) json.unsigned_number(group);
    json.close(']');
    json_id_map(json, "uid_map", view.uid_map);
    json_id_map(json, "gid_map", view.gid_map);
    json.key("setgroups");
    json.optional_string(view.setgroups);
  }
  if (wanted("capabilities")) {
    json.key("capabilities");
    json.open('{');
    json.key("last_cap");
    json.number(view.last_cap);
    json_capset(json, "effective", view.effective, view.last_cap);
    json_capset(json, "permitted", view.permitted, view.last_cap);
    json_capset(json, "bounding", view.bounding, view.last_cap);
    json.close('}');
  }
  if (wanted("cgroup")) {
    json.key("cgroup");
    if (view.cgroups) {
      json.open('[');
      for (const CgroupEntry& entry : *view.cgroups) {
        json.open('{');
        json.member("hierarchy", entry.hierarchy);
        json.member("controllers", entry.controllers);
        json.member("path", entry.path);
        json.close('}');
      }
      json.close(']');
    } else {
      json.null();
    }
  }
  if (wanted("limits")) {
    json.key("limits");
    json.open('{');
    for (const Limit& limit : view.limits) {
      json.key(limit.controller);
      json.open('{');
      json.key("visible");
      json.boolean(limit.visible);
      json.member_or_null("version", limit.visible ? limit.version : "");
      json.member_or_null("directory", limit.directory);
      json.member_or_null("found_by", limit.found_by);
      json.member_or_null("here", limit.here);
      json.member_or_null("effective", limit.effective);
      json.member_or_null("effective_in", limit.effective_in);
      json.member("why", limit.why);
      json.close('}');
    }
    json.close('}');
  }
  if (wanted("mounts")) {
    json.key("mounts");
    if (view.mounts) {
      json.open('[');
      for (const Mount& mount : *view.mounts) json_mount(json, mount);
      json.close(']');
    } else {
      json.null();
    }
  }
  if (wanted("links")) {
    json.key("links");
    if (view.links) {
      json.open('[');
      for (const Link& link : *view.links) {
        json.open('{');
        json.member("name", link.name);
        json.key("index");
        json.unsigned_number(link.index);
        json.member("state", (link.flags & IFF_UP) != 0 ? "up" : "down");
        json.key("flags");
        json.open('[', true);
        for (const std::string& flag : link_flags(link.flags)) json.string(flag);
        json.close(']');
        json.key("addresses");
        json.open('[', true);
        for (const std::string& address : link.addresses) json.string(address);
        json.close(']');
        json.close('}');
      }
      json.close(']');
    } else {
      json.null();
    }
  }
  if (wanted("fds")) {
    json.key("fds");
    json.open('[');
    for (const Fd& fd : view.fds) {
      json.open('{');
      json.key("fd");
      json.number(fd.number);
      json.key("target");
      json.optional_string(fd.target);
      json.close('}');
    }
    json.close(']');
  }
  if (wanted("environment")) {
    json.key("environment");
    json.open('{');
    for (const auto& [name, value] : view.environment) json.member(name, value);
    json.close('}');
  }
  if (wanted("root")) {
    json.key("root");
    json.open('{');
    json.member("device", view.root ? device_text(view.root->device) : "?");
    json.key("inode");
    json.unsigned_number(view.root ? view.root->inode : 0);
    json.key("pid1_root");
    if (view.pid1_root) {
      json_file_id(json, *view.pid1_root);
    } else {
      json.null();
    }
    json.key("same_as_pid1");
    if (view.pid1_root && view.root) {
      json.boolean(view.pid1_root->device == view.root->device && view.pid1_root->inode == view.root->inode);
    } else {
      json.null();
    }
    json.key("mount");
    if (view.root_mount) {
      json_mount(json, *view.root_mount);
    } else {
      json.null();
    }
    json.close('}');
  }
  json.close('}');
  return out + "\n";
}

// --- output: for a person, 80 columns -------------------------------------------------

// TEXT made safe for a terminal (control bytes and bytes that are not UTF-8 as
// \n, \t, \xNN) and cut to COLUMNS characters, the last three "..." when cut.
std::string fit(std::string_view text, std::size_t columns = kColumns) {
  std::vector<std::string> characters;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i);
    const auto c = static_cast<unsigned char>(text[i]);
    if (length == 0 || (length == 1 && (c < 0x20 || c == 0x7F))) {
      characters.push_back(c == '\n' ? "\\n" : c == '\t' ? "\\t" : hex_escape(false, c));
      ++i;
    } else {
      characters.emplace_back(text.substr(i, length));
      i += length;
    }
  }
  // An escape counts as the columns it takes.
  const auto width_of = [](const std::string& character) {
    return character.size() > 1 && character[0] == '\\' ? character.size() : std::size_t{1};
  };
  std::size_t total = 0;
  for (const std::string& character : characters) total += width_of(character);
  std::string out;
  std::size_t width = 0;
  const std::size_t room = total <= columns ? columns : columns - 3;
  for (const std::string& character : characters) {
    if (width + width_of(character) > room) break;
    out += character;
    width += width_of(character);
  }
  return total <= columns ? out : out + "...";
}

// Whether a line has been printed yet.
bool& printed() {
  static bool any = false;
  return any;
}

void line(std::string_view text) {
  std::cout << fit(text) << '\n';
  printed() = true;
}

// A section's title, after a blank line when something came before.
void heading(std::string_view title) {
  if (printed()) std::cout << '\n';
  line(title);
}

// NAME (a column of WIDTH) then VALUE, on one line.
void field(std::string_view name, std::string_view value, std::size_t width = 10) {
  std::string text = "  " + std::string(name);
  if (text.size() < width + 2) text.append(width + 2 - text.size(), ' ');
  line(text + " " + std::string(value));
}

// WORDS after NAME, as many lines as they need.
void wrapped(std::string_view name, const std::vector<std::string>& words, std::size_t width = 10) {
  std::string current;
  bool first = true;
  for (const std::string& word : words) {
    if (!current.empty() && 2 + width + 1 + current.size() + 1 + word.size() > kColumns) {
      field(first ? name : "", current, width);
      first = false;
      current.clear();
    }
    current += (current.empty() ? "" : " ") + word;
  }
  field(first ? name : "", current.empty() ? "none" : current, width);
}

void unavailable_line(const View& view, const char* key) {
  const auto found = view.unavailable.find(key);
  line("  " + (found != view.unavailable.end() ? found->second : std::string("not readable")));
}

std::string bytes_text(const std::string& value) {
  std::uint64_t bytes = 0;
  if (!parse_number(value, bytes)) return value;
  const std::array<std::pair<std::uint64_t, const char*>, 3> units{{{1ULL << 30U, "G"}, {1ULL << 20U, "M"}, {1ULL << 10U, "K"}}};
  for (const auto& [size, unit] : units) {
    if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + unit + " (" + value + " bytes)";
  }
  return value + " bytes";
}

std::string limit_text(const std::string& controller, const std::string& value) {
  if (controller == "memory") return bytes_text(value);
  if (controller == "cpu") {
    const std::vector<std::string> words = words_of(value);
    std::uint64_t quota = 0, period = 0;
    if (words.size() == 2 && parse_number(words[0], quota) && parse_number(words[1], period) && period > 0) {
      const double share = static_cast<double>(quota) / static_cast<double>(period);
      std::array<char, 32> text{};
      (void)std::snprintf(text.data(), text.size(), "%.2g", share);
      return std::string(text.data()) + " CPU (" + value + " us)";
    }
    if (words.size() == 2 && words[0] == "max") return "max";
  }
  return value;
}

// What the human output says of a set: "all 41 (CAP_CHOWN ... CAP_CHECKPOINT_RESTORE)", "none", or the names.
void capset_lines(const char* name, const CapSet& set, int last_cap) {
  const std::uint64_t all = all_capabilities(last_cap);
  if (last_cap >= 0 && (set.mask & all) == all) {
    field(name, "all " + std::to_string(last_cap + 1) + " of this kernel");
    return;
  }
  std::vector<std::string> names = capability_names(set.mask);
  for (std::string& cap : names) cap = cap.substr(4);  // CAP_ is the same for each
  wrapped(name, names);
}

void render_human(const View& view, const Sections& sections) {
  const auto wanted = [&](const char* section) { return sections.count(section) != 0; };
  // The title with every section; with --only, the sections alone (a demo
  // shows two side by side, each in half the screen).
  if (sections.size() == kSections.size()) {
    line("nslab-probe: what this process sees");
    line(std::string("/proc: ") + (view.proc ? "mounted" : "not mounted") + "   /sys: " +
         (view.sys ? "mounted" : "not mounted"));
  }
  if (wanted("namespaces")) {
    heading("namespaces (/proc/self/ns)");
    if (view.namespaces) {
      for (const auto& [kind, id] : *view.namespaces) {
        // "uts:[4026531838]": the inode alone, the kind is the first column.
        const std::size_t open = id.find('[');
        const std::size_t close = id.rfind(']');
        field(kind, open != std::string::npos && close > open ? id.substr(open + 1, close - open - 1) : id, 17);
      }
    } else {
      unavailable_line(view, "namespaces");
    }
  }
  if (wanted("process")) {
    heading("process");
    field("hostname", view.hostname);
    if (view.domainname != "(none)" && !view.domainname.empty()) field("domain", view.domainname);
    field("pid", std::to_string(view.pid) + " (ppid " + std::to_string(view.ppid) + ")");
    if (view.nspid) {
      std::string pids;
      for (const std::uint64_t pid : *view.nspid) pids += (pids.empty() ? "" : " ") + std::to_string(pid);
      field("NSpid", pids + (view.nspid->size() > 1 ? " (outermost first)" : ""));
    } else {
      field("NSpid", view.unavailable.count("nspid") != 0 ? view.unavailable.at("nspid") : "?");
    }
  }
  if (wanted("ids")) {
    heading("ids (real effective saved)");
    const auto ids = [](const Ids& i) {
      return std::to_string(i.real) + " " + std::to_string(i.effective) + " " + std::to_string(i.saved);
    };
    field("uid", ids(view.uid));
    field("gid", ids(view.gid));
    std::vector<std::string> groups;
    for (const gid_t group : view.groups) groups.push_back(std::to_string(group));
    wrapped("groups", groups);
    for (const auto& [key, map] : {std::pair{"uid_map", &view.uid_map}, std::pair{"gid_map", &view.gid_map}}) {
      if (!*map) {
        field(key, view.unavailable.at(key));
        continue;
      }
      if ((*map)->empty()) field(key, "empty (not written yet)");
      bool first = true;
      for (const auto& entry : **map) {
        field(first ? key : "", std::to_string(entry[0]) + " " + std::to_string(entry[1]) + " " + std::to_string(entry[2]));
        first = false;
      }
    }
    field("setgroups", view.setgroups ? *view.setgroups : view.unavailable.at("setgroups"));
  }
  if (wanted("capabilities")) {
    heading("capabilities (CapEff, CapPrm, CapBnd)");
    if (view.unavailable.count("capabilities") != 0) unavailable_line(view, "capabilities");
    capset_lines("effective", view.effective, view.last_cap);
    capset_lines("permitted", view.permitted, view.last_cap);
    capset_lines("bounding", view.bounding, view.last_cap);
  }
  if (wanted("cgroup")) {
    heading("cgroup (/proc/self/cgroup)");
    if (view.cgroups) {
      for (const CgroupEntry& entry : *view.cgroups) line("  " + entry.hierarchy + ":" + entry.controllers + ":" + entry.path);
    } else {
      unavailable_line(view, "cgroup");
    }
  }
  if (wanted("limits")) {
    heading("limits (the smallest on the way up)");
    for (const Limit& limit : view.limits) {
      if (!limit.visible) {
        wrapped(limit.controller, words_of(limit.why), 6);
        continue;
      }
      std::string text = limit_text(limit.controller, limit.effective);
      if (limit.effective_in.rfind(limit.directory + " (", 0) == 0) {
        text += ", set above (memory.stat)";
      } else if (limit.effective_in != limit.directory) {
        const auto depth = [](const std::string& path) { return std::count(path.begin(), path.end(), '/'); };
        const auto levels = depth(limit.directory) - depth(limit.effective_in);
        text += ", set " + std::to_string(levels) + (levels == 1 ? " level" : " levels") + " up";
      }
      if (limit.effective_in != limit.directory) text += "; here: " + limit_text(limit.controller, limit.here);
      field(limit.controller, text, 6);
      field("", limit.directory, 6);
      if (limit.found_by == "search") field("", "(found by its PID: the tree is mounted from above)", 6);
    }
  }
  if (wanted("mounts")) {
    heading("mounts (/proc/self/mountinfo)");
    if (view.mounts) {
      for (const Mount& mount : *view.mounts) {
        std::string text = "  " + mount.point;
        text.append(text.size() < 20 ? 20 - text.size() : 1, ' ');
        text += " " + mount.fstype;
        text.append(text.size() < 32 ? 32 - text.size() : 1, ' ');
        text += " " + mount.source;
        text.append(text.size() < 52 ? 52 - text.size() : 1, ' ');
        line(text + " " + mount.propagation);
      }
    } else {
      unavailable_line(view, "mounts");
    }
  }
  if (wanted("links")) {
    heading("network links");
    if (view.links) {
      for (const Link& link : *view.links) {
        std::vector<std::string> words{(link.flags & IFF_UP) != 0 ? "up" : "down"};
        std::string flags;
        for (const std::string& flag : link_flags(link.flags)) flags += (flags.empty() ? "" : ",") + flag;
        words.push_back("<" + flags + ">");
        for (const std::string& address : link.addresses) words.push_back(address);
        wrapped(link.name, words);
      }
      if (view.links->empty()) line("  none");
    } else {
      unavailable_line(view, "links");
    }
  }
  if (wanted("fds")) {
    heading("file descriptors (but the probe's own)");
    for (const Fd& fd : view.fds) field(std::to_string(fd.number), fd.target ? *fd.target : "open (no /proc to say what)", 3);
  }
  if (wanted("environment")) {
    const std::size_t count = view.environment.size();
    heading("environment (" + std::to_string(count) + (count == 1 ? " variable)" : " variables)"));
    for (const auto& [name, value] : view.environment) {
      std::string text = "  " + name;
      text += '=';
      text += value;
      line(text);
    }
  }
  if (wanted("root")) {
    heading("root (/ beside /proc/1/root)");
    if (view.root) field("/", "device " + device_text(view.root->device) + ", inode " + std::to_string(view.root->inode));
    if (view.pid1_root) {
      const bool same = view.root && view.pid1_root->device == view.root->device && view.pid1_root->inode == view.root->inode;
      field("PID 1's", same ? std::string("the same") :
                              "device " + device_text(view.pid1_root->device) + ", inode " +
                                  std::to_string(view.pid1_root->inode) + ": another root");
    } else {
      field("PID 1's", view.unavailable.at("pid1_root"));
    }
    if (view.root_mount) {
      field("mount", view.root_mount->root + " of " + view.root_mount->source + " (" + view.root_mount->fstype + ")");
    }
  }
}

// --- the command line -------------------------------------------------------------------


void usage(std::ostream& out) {
  out << "Usage: nslab-probe [--json] [--only SECTION[,SECTION...]]\n\n"
         "Reports what this process sees: namespaces, hostname, PIDs, ids and id maps,\n"
         "capabilities, cgroup and limits, mounts, network links, open fds, environment\n"
         "and root. Run it as a container's COMMAND, and on the host, and compare.\n\n"
         "  --json          one JSON object (its keys: common/tools/probe.cpp's header)\n"
         "  --only LIST     only these sections (comma-separated): namespaces process\n"
         "                  ids capabilities cgroup limits mounts links fds environment\n"
         "                  root\n"
         "  -h, --help      this text\n\n"
         "Example: 04-mount --rootfs DIR -- /bin/nslab-probe\n";
}

}  // namespace

int main(int argc, char* argv[]) {
  bool json = false;
  Sections sections(kSections.begin(), kSections.end());
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "-h" || word == "--help") {
      usage(std::cout);
      return 0;
    }
    if (word == "--json") {
      json = true;
      continue;
    }
    if (word == "--only" || word.rfind("--only=", 0) == 0) {
      std::string list;
      if (word == "--only") {
        if (i + 1 >= argc) {
          std::cerr << "nslab-probe: --only needs a list of sections (see --help)\n";
          return kExitUsage;
        }
        list = argv[++i];
      } else {
        list = std::string(word.substr(7));
      }
      sections.clear();
      for (const std::string& name : split(list, ',')) {
        if (std::find_if(kSections.begin(), kSections.end(), [&](const char* s) { return name == s; }) == kSections.end()) {
          std::cerr << "nslab-probe: unknown section for --only: " << json_string(name) << " (see --help)\n";
          return kExitUsage;
        }
        sections.insert(name);
      }
      continue;
    }
    std::cerr << "nslab-probe: unknown option " << fit(word, 40) << " (see --help)\n";
    return kExitUsage;
  }

  View view;
  view.proc = mounted_as("/proc", PROC_SUPER_MAGIC);
  view.sys = mounted_as("/sys", SYSFS_MAGIC);
  const std::string why = proc_unavailable(view.proc);
  if (!why.empty()) {
    for (const char* key : {"namespaces", "nspid", "uid_map", "gid_map", "setgroups", "cgroup", "mounts", "fds"}) {
      view.unavailable[key] = why;
    }
    if (!view.proc) view.unavailable["pid1_root"] = why;
  }
  collect_fds(view);
  view.unavailable.erase("fds");  // found without /proc too, by number
  collect_namespaces(view);
  collect_process(view);
  collect_ids(view);
  collect_capabilities(view);
  collect_cgroups(view);
  collect_mounts(view);
  for (const char* controller : {"memory", "pids", "cpu"}) view.limits.push_back(read_limit(view, controller));
  collect_links(view);
  collect_environment(view);
  collect_root(view);

  // Only what was asked for is reported, its reasons included.
  const std::map<std::string, std::string> section_of{
      {"namespaces", "namespaces"}, {"nspid", "process"}, {"uid_map", "ids"},  {"gid_map", "ids"},
      {"setgroups", "ids"},         {"capabilities", "capabilities"},          {"cgroup", "cgroup"},
      {"limits", "limits"},
      {"mounts", "mounts"},         {"links", "links"},  {"pid1_root", "root"}};
  for (auto it = view.unavailable.begin(); it != view.unavailable.end();) {
    const auto section = section_of.find(it->first);
    if (section != section_of.end() && sections.count(section->second) == 0) {
      it = view.unavailable.erase(it);
    } else {
      ++it;
    }
  }
  if (json) {
    std::cout << render_json(view, sections);
  } else {
    render_human(view, sections);
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}
