#include "nslab/error.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace nslab {
namespace {

std::string describe(int errnum, const std::string& context, const std::string& hint) {
  std::string text = context;
  if (errnum != 0) text += std::string(": ") + std::strerror(errnum);
  if (!hint.empty()) text += " (" + hint + ")";
  return text;
}

// The length of the valid UTF-8 sequence at the start of @p text, 0 if there is
// none. C1 controls (U+0080 to U+009F, such as CSI) count as invalid: a
// terminal acts on them as it acts on an escape sequence.
std::size_t utf8_sequence(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1fU;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0fU;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07U;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[i]);
    if ((next & 0xc0U) != 0x80U) return 0;
    code = (code << 6U) | (next & 0x3fU);
  }
  const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  const bool invalid = code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || (code >= 0x80 && code <= 0x9f);
  return overlong || invalid ? 0 : length;
}

std::string escape(std::string_view text, bool in_quotes) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      if (const std::size_t length = utf8_sequence(text.substr(i)); length > 0) {
        out.append(text.substr(i, length));
        i += length - 1;
        continue;
      }
      std::array<char, 5> hex{};
      (void)std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      std::array<char, 5> hex{};
      (void)std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else if (in_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max, bool in_quotes) {
  if (text.size() <= max) return escape(text, in_quotes);
  // Cut on a character boundary: never inside a UTF-8 sequence.
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0U) == 0x80U) --cut;
  return escape(text.substr(0, cut), in_quotes) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

Error::Error(int errnum, const std::string& context, const std::string& hint)
    : std::runtime_error(describe(errnum, context, hint)), errnum_(errnum), context_(context), hint_(hint) {}

std::string printable(std::string_view text, std::size_t max) { return shorten(text, max, false); }

std::string quoted(std::string_view text, std::size_t max) { return '"' + shorten(text, max, true) + '"'; }

void throw_errno(const std::string& context) {
  const int saved = errno;  // before anything else can change it
  throw Error(saved, context);
}

long check(long result, const std::string& context) {
  if (result == -1) throw_errno(context);
  return result;
}

namespace {

// One rule of the troubleshooting page: an errno (0 for an nslab refusal,
// which has none), whether the cause may be the machine's setup (which
// scripts/doctor.sh checks), what the context starts with and a part it holds
// ("" for any), and the anchor of the entry, as docs/{en,zh}/troubleshooting.md
// has it. The first rule that matches gives the entry.
struct Rule {
  int errnum;
  bool machine;
  std::string_view starts;
  std::string_view holds;
  std::string_view anchor;
};

// The pointer names scripts/doctor.sh, or not.
constexpr bool kDoctor = true;
constexpr bool kNoDoctor = false;

// In the order of the page: every lab, then lab by lab.
constexpr Rule kRules[] = {
    // Every lab: clone(2), unshare(2), execve(2), the pipeline.
    {0, kNoDoctor, "creating namespaces needs CAP_SYS_ADMIN", "", "ts-need-root"},
    {EPERM, kDoctor, "clone(", "CLONE_NEWUSER", "ts-userns-restricted"},
    {EPERM, kDoctor, "clone(", "", "ts-clone-EPERM"},
    {EPERM, kDoctor, "unshare(", "", "ts-clone-EPERM"},
    {ENOSPC, kDoctor, "clone(", "", "ts-clone-ENOSPC"},
    {ENOSPC, kDoctor, "unshare(", "", "ts-clone-ENOSPC"},
    {EINVAL, kDoctor, "clone(", "", "ts-clone-EINVAL"},
    {EINVAL, kDoctor, "unshare(", "", "ts-clone-EINVAL"},
    {EUSERS, kNoDoctor, "clone(", "", "ts-clone-EUSERS"},
    {EUSERS, kNoDoctor, "unshare(", "", "ts-clone-EUSERS"},
    {ENOENT, kNoDoctor, "exec ", "", "ts-exec-ENOENT"},
    {EACCES, kNoDoctor, "exec ", "", "ts-exec-EACCES"},
    {ENOEXEC, kNoDoctor, "exec ", "", "ts-exec-EACCES"},
    {0, kNoDoctor, "the container's first process ", "", "ts-child-died"},
    {0, kNoDoctor, "the joining process ", "", "ts-child-died"},
    {0, kNoDoctor, "left on the host: ", "", "ts-left-on-host"},
    {0, kDoctor, "", "/proc is not this PID namespace's", "ts-foreign-proc"},
    // Lab 01.
    {EPERM, kDoctor, "sethostname(", "", "ts-sethostname-EPERM"},
    // Labs 03 and 07: fork(2) into a PID namespace; lab 08's --pids.
    {ENOMEM, kNoDoctor, "fork", "", "ts-fork-ENOMEM"},
    {EAGAIN, kNoDoctor, "fork", "", "ts-fork-EAGAIN"},
    // Lab 04.
    {EPERM, kDoctor, "mount(", "", "ts-mount-EPERM"},
    {EPERM, kDoctor, "pivot_root(", "", "ts-mount-EPERM"},
    {EPERM, kDoctor, "umount2(", "", "ts-mount-EPERM"},
    {EINVAL, kNoDoctor, "mount(", "", "ts-mount-EINVAL"},
    {ENOSPC, kNoDoctor, "mount(", "", "ts-mount-ENOSPC"},
    {EINVAL, kNoDoctor, "pivot_root(", "", "ts-pivot_root-EINVAL"},
    {EBUSY, kNoDoctor, "pivot_root(", "", "ts-pivot_root-EBUSY"},
    {ENOSYS, kDoctor, "openat2(", "", "ts-openat2-ENOSYS"},
    // Lab 05: rtnetlink requests are named by their message type.
    {EEXIST, kNoDoctor, "a link named ", "", "ts-veth-EEXIST"},
    {EOPNOTSUPP, kDoctor, "RTM_NEWLINK ", " type veth ", "ts-veth-EOPNOTSUPP"},
    {ESRCH, kNoDoctor, "RTM_NEWLINK ", " type veth ", "ts-veth-ESRCH"},
    {0, kNoDoctor, "--veth needs CAP_NET_ADMIN", "", "ts-veth-root"},
    {EPERM, kNoDoctor, "RTM_", "", "ts-netlink-EPERM"},
    {EEXIST, kNoDoctor, "RTM_", "", "ts-netlink-EEXIST"},
    {ENODEV, kNoDoctor, "RTM_", "", "ts-netlink-ENODEV"},
    {ENODEV, kNoDoctor, "if_nametoindex(", "", "ts-netlink-ENODEV"},
    {EINVAL, kNoDoctor, "RTM_", "", "ts-netlink-EINVAL"},
    {ERANGE, kNoDoctor, "RTM_", "", "ts-netlink-EINVAL"},
    {ENETUNREACH, kNoDoctor, "RTM_NEWROUTE ", "", "ts-netlink-ENETUNREACH"},
    // Lab 06: the files of /proc/PID the runtime writes, and the helpers.
    {EPERM, kDoctor, "", "/uid_map", "ts-uid_map-EPERM"},
    {EACCES, kDoctor, "", "/uid_map", "ts-uid_map-EPERM"},
    {EPERM, kDoctor, "", "/gid_map", "ts-gid_map-EPERM"},
    {EACCES, kDoctor, "", "/gid_map", "ts-gid_map-EPERM"},
    {EPERM, kDoctor, "", "/setgroups", "ts-setgroups-EPERM"},
    {EACCES, kDoctor, "", "/setgroups", "ts-setgroups-EPERM"},
    {EINVAL, kNoDoctor, "", "/uid_map", "ts-id_map-EINVAL"},
    {EINVAL, kNoDoctor, "", "/gid_map", "ts-id_map-EINVAL"},
    {0, kDoctor, "", "newuidmap", "ts-newuidmap"},
    {0, kDoctor, "", "newgidmap", "ts-newuidmap"},
    {EINVAL, kNoDoctor, "setresuid(", "", "ts-setresuid-EINVAL"},
    {EINVAL, kNoDoctor, "setresgid(", "", "ts-setresuid-EINVAL"},
    {EPERM, kDoctor, "setresuid(", "", "ts-userns-restricted"},
    {EPERM, kDoctor, "setresgid(", "", "ts-userns-restricted"},
    {EACCES, kNoDoctor, "open(\"", "", "ts-rootfs-EACCES"},
    {EACCES, kNoDoctor, "chdir(\"", "", "ts-rootfs-EACCES"},
    // Lab 07.
    {EPERM, kNoDoctor, "setns(", "", "ts-setns-EPERM"},
    {EINVAL, kNoDoctor, "setns(", "", "ts-setns-EINVAL"},
    {0, kNoDoctor, "--enter ", ": there is no process ", "ts-enter-ESRCH"},
    {0, kNoDoctor, "--enter ", " exited while being joined", "ts-enter-ESRCH"},
    {0, kNoDoctor, "--enter ", " has exited (a zombie", "ts-enter-ESRCH"},
    {0, kNoDoctor, "--enter ", ": permission denied: ", "ts-enter-EACCES"},
    {ENOENT, kNoDoctor, "open /proc/", "/ns/", "ts-proc_ns-ENOENT"},
    // Lab 08: the cgroup file system.
    {0, kDoctor, "--", " controller, which ", "ts-no-controller"},
    {0, kDoctor, "", "no cgroup this user may write in ", "ts-no-delegation"},
    {0, kDoctor, "cannot join the container's cgroup: this process is in a cgroup namespace", "", "ts-no-delegation"},
    {EACCES, kDoctor, "mkdir ", "/nslab", "ts-no-delegation"},
    {EPERM, kDoctor, "mkdir ", "/nslab", "ts-no-delegation"},
    {EBUSY, kDoctor, "write ", "/cgroup.subtree_control", "ts-subtree_control-EBUSY"},
    {EBUSY, kDoctor, "", "/cgroup.procs", "ts-subtree_control-EBUSY"},
    {EACCES, kDoctor, "write ", "/cgroup.subtree_control", "ts-subtree_control-EACCES"},
    {EPERM, kDoctor, "write ", "/cgroup.subtree_control", "ts-subtree_control-EACCES"},
    {EACCES, kDoctor, "", "/cgroup.procs", "ts-cgroup_procs-EACCES"},
    {EPERM, kDoctor, "", "/cgroup.procs", "ts-cgroup_procs-EACCES"},
    {ENOENT, kDoctor, "open /sys/fs/cgroup/", "", "ts-cgroup_file-ENOENT"},
    {EINVAL, kNoDoctor, "write ", " to /sys/fs/cgroup/", "ts-limit-EINVAL"},
    {0, kDoctor, "no cgroup file system at ", "", "ts-cgroup-layout"},
    {0, kDoctor, "no cgroup v1 hierarchy ", "", "ts-cgroup-layout"},
    {0, kDoctor, "/proc/self/cgroup has no line for ", "", "ts-cgroup-layout"},
};

}  // namespace

std::optional<Troubleshooting> troubleshooting_entry(int errnum, std::string_view context) {
  for (const Rule& rule : kRules) {
    if (rule.errnum == errnum && context.starts_with(rule.starts) &&
        context.find(rule.holds) != std::string_view::npos) {
      return Troubleshooting{rule.anchor, rule.machine};
    }
  }
  return std::nullopt;
}

std::string troubleshooting_pointer(const Troubleshooting& entry) {
  return std::string(entry.machine ? " (run scripts/doctor.sh; see " : " (see ") +
         "docs/{en,zh}/troubleshooting.md#" + std::string(entry.anchor) + ")";
}

std::string troubleshooting_pointer(int errnum, std::string_view context) {
  const std::optional<Troubleshooting> entry = troubleshooting_entry(errnum, context);
  return entry ? troubleshooting_pointer(*entry) : std::string();
}

}  // namespace nslab
