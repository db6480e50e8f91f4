// nslab-inject: runs a program and makes one of its system calls fail, or lists them.
//
// scripts/faults.sh proves that a container that fails at any step of its
// set-up leaves nothing on the host and says so in one line. To fail a step it
// must fail one system call — this mount(2), in this process — and no other:
//
//     nslab-inject --fail mount --depth 1 --match '"proc"' --log LOG -- 04-mount -- true
//
// Labs 01-04 are linked statically, so no LD_PRELOAD library can stand in for
// their libc. strace's -e inject (ptrace(2)) counts calls per system call and
// per process: "the 2nd sendto" then fails in every process that makes two,
// the runtime's and the container's alike, whichever comes first; and under
// ptrace a set-user-ID helper (newuidmap) runs without its privilege. So this
// tool asks the kernel instead: a seccomp(2) filter, installed before PROGRAM
// is executed and
// inherited by every process it starts, hands each call of the watched system
// calls to this tool (SECCOMP_RET_USER_NOTIF, seccomp_unotify(2)). For each one
// the tool reads the caller's arguments (strings through process_vm_readv(2),
// fds through /proc/PID/fd), works out how far down the process tree the
// caller is (DEPTH: 0 is PROGRAM, 1 its children, 2 theirs), and either lets
// the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE) or answers it with an error
// without running it. Nothing else of PROGRAM changes: no tracer, no signal.
//
// --fail SYSCALL: the NTH call of SYSCALL (default: the first) made by a process
// at DEPTH (default: any) whose rendering matches REGEX (an ECMAScript regular
// expression searched in the call as the log shows it; default: any) fails with
// ERRNO (default ENOTRECOVERABLE, which no step of the labs expects); every
// other call runs. Without --fail, every call of the --watch list is logged.
//
// The log (--log FILE, else nothing) gets one line per event, so that
// PROGRAM's own standard error stays its own:
//
//     call DEPTH PID RENDERING        (without --fail: each call seen)
//     injected DEPTH PID RENDERING errno=NAME
//     exit N | signal N               (how PROGRAM ended)
//
// Exit status: PROGRAM's (128+N when it was killed by signal N); 125 when this
// tool could not do its job (named on stderr as "nslab-inject: ..."); 2 for a
// bad argument.
// Needs CAP_SYS_ADMIN (or no_new_privs, which it then sets), and Linux 5.5.

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kToolFailed = 125;

// How an argument is shown: s a string, f an fd (with what it is), x a number
// in hex, d in decimal, m mount flags, c clone flags, b the buffer of the next
// argument's length (write), n a netlink request (sendto), - not shown.
struct SyscallInfo {
  std::string_view name;
  long number;
  std::string_view args;
};

// The native ABI, the only one the filter watches (seccomp_data.arch).
#if defined(__x86_64__)
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t kAuditArch = 0;  // not known here: the filter is refused
#endif

// The calls a step of the labs makes (some exist on x86-64 only: arm64 has
// no mkdir(2), only mkdirat(2)).
constexpr SyscallInfo kSyscalls[] = {
    SyscallInfo{"mount", SYS_mount, "sssms"},
    SyscallInfo{"umount2", SYS_umount2, "sx"},
    SyscallInfo{"pivot_root", SYS_pivot_root, "ss"},
    SyscallInfo{"sethostname", SYS_sethostname, "sd"},
    SyscallInfo{"unshare", SYS_unshare, "c"},
    SyscallInfo{"setns", SYS_setns, "fc"},
    SyscallInfo{"setresuid", SYS_setresuid, "ddd"},
    SyscallInfo{"setresgid", SYS_setresgid, "ddd"},
    SyscallInfo{"setgroups", SYS_setgroups, "dx"},
    SyscallInfo{"chdir", SYS_chdir, "s"},
    SyscallInfo{"fchdir", SYS_fchdir, "f"},
    SyscallInfo{"chroot", SYS_chroot, "s"},
    SyscallInfo{"openat", SYS_openat, "fsx"},
    SyscallInfo{"openat2", SYS_openat2, "fs"},
#ifdef SYS_mkdir
    SyscallInfo{"mkdir", SYS_mkdir, "sx"},
#endif
    SyscallInfo{"mkdirat", SYS_mkdirat, "fsx"},
#ifdef SYS_rmdir
    SyscallInfo{"rmdir", SYS_rmdir, "s"},
#endif
    SyscallInfo{"symlinkat", SYS_symlinkat, "sfs"},
    SyscallInfo{"write", SYS_write, "fbd"},
    SyscallInfo{"sendto", SYS_sendto, "fnd"},
    SyscallInfo{"socket", SYS_socket, "dxd"},
    SyscallInfo{"bind", SYS_bind, "f"},
    SyscallInfo{"prctl", SYS_prctl, "dx"},
    SyscallInfo{"clone", SYS_clone, "c"},
    SyscallInfo{"clone3", SYS_clone3, "x"},
    SyscallInfo{"execve", SYS_execve, "s"},
    SyscallInfo{"execveat", SYS_execveat, "fs"},
    SyscallInfo{"pidfd_open", SYS_pidfd_open, "dx"},
    SyscallInfo{"memfd_create", SYS_memfd_create, "sx"},
    SyscallInfo{"socketpair", SYS_socketpair, "dxd"},
    SyscallInfo{"pipe2", SYS_pipe2, "xx"},
    SyscallInfo{"signalfd4", SYS_signalfd4, "fx"},
    SyscallInfo{"mmap", SYS_mmap, "xxxxfx"},
};

const SyscallInfo* find_syscall(std::string_view name) {
  const auto* found = std::find_if(std::begin(kSyscalls), std::end(kSyscalls),
                                   [name](const SyscallInfo& info) { return info.name == name; });
  return found == std::end(kSyscalls) ? nullptr : found;
}

const SyscallInfo* find_syscall(long number) {
  const auto* found = std::find_if(std::begin(kSyscalls), std::end(kSyscalls),
                                   [number](const SyscallInfo& info) { return info.number == number; });
  return found == std::end(kSyscalls) ? nullptr : found;
}

// An errno by its name ("ENOTRECOVERABLE") or number.
std::optional<int> parse_errno(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() < 5) {
    const int value = std::stoi(text);
    if (value >= 1 && value <= 4095) return value;
    return std::nullopt;
  }
  for (int value = 1; value < 200; ++value) {
    const char* name = ::strerrorname_np(value);
    if (name != nullptr && text == name) return value;
  }
  return std::nullopt;
}

std::string errno_name(int value) {
  const char* name = ::strerrorname_np(value);
  return name != nullptr ? name : std::to_string(value);
}

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "nslab-inject: " << what << "\n";
  std::exit(kToolFailed);
}

[[noreturn]] void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

// --- what the caller passed -------------------------------------------------------

// Up to SIZE bytes at ADDRESS in process PID; fewer where its memory ends.
std::string read_memory(pid_t pid, std::uint64_t address, std::size_t size) {
  std::string bytes;
  constexpr std::uint64_t kPage = 4096;
  while (bytes.size() < size) {
    // One page at a time: a read that crosses into an unmapped page fails whole.
    const std::uint64_t at = address + bytes.size();
    const std::size_t chunk = std::min<std::size_t>(size - bytes.size(), kPage - at % kPage);
    std::string piece(chunk, '\0');
    const iovec local{piece.data(), chunk};
    const iovec remote{reinterpret_cast<void*>(at), chunk};  // NOLINT(performance-no-int-to-ptr)
    const ssize_t got = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (got <= 0) break;
    bytes.append(piece.data(), static_cast<std::size_t>(got));
    if (static_cast<std::size_t>(got) < chunk) break;
  }
  return bytes;
}

std::string escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      std::array<char, 8> hex{};
      (void)std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else {
      out += c;
    }
  }
  return out;
}

std::string string_at(pid_t pid, std::uint64_t address) {
  if (address == 0) return "NULL";
  std::string text = read_memory(pid, address, 256);
  const auto end = text.find('\0');
  if (end != std::string::npos) text.resize(end);
  return "\"" + escaped(text) + "\"";
}

std::string hex(std::uint64_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

// VALUE as FLAGS' names joined by '|', with what is left in hex.
template <std::size_t N>
std::string flag_names(std::uint64_t value, const std::array<std::pair<std::uint64_t, std::string_view>, N>& flags) {
  std::string out;
  for (const auto& [bit, name] : flags) {
    if ((value & bit) == 0) continue;
    out += (out.empty() ? "" : "|") + std::string(name);
    value &= ~bit;
  }
  if (value != 0 || out.empty()) out += (out.empty() ? "" : "|") + hex(value);
  return out;
}

std::string mount_flags(std::uint64_t value) {
  static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 11> kFlags = {{
      {1, "MS_RDONLY"}, {2, "MS_NOSUID"}, {4, "MS_NODEV"}, {8, "MS_NOEXEC"}, {32, "MS_REMOUNT"},
      {4096, "MS_BIND"}, {8192, "MS_MOVE"}, {16384, "MS_REC"}, {1U << 18, "MS_PRIVATE"},
      {1U << 19, "MS_SLAVE"}, {1U << 20, "MS_SHARED"}}};
  return flag_names(value, kFlags);
}

std::string clone_flags(std::uint64_t value) {
  static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 8> kFlags = {{
      {0x00020000, "CLONE_NEWNS"}, {0x02000000, "CLONE_NEWCGROUP"}, {0x04000000, "CLONE_NEWUTS"},
      {0x08000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"},
      {0x40000000, "CLONE_NEWNET"}, {0x00000080, "CLONE_NEWTIME"}}};
  return flag_names(value, kFlags);
}

std::string fd_text(pid_t pid, std::uint64_t value) {
  const auto fd = static_cast<int>(value);
  if (fd == AT_FDCWD) return "AT_FDCWD";
  std::array<char, 512> link{};
  const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  const ssize_t length = ::readlink(path.c_str(), link.data(), link.size() - 1);
  if (length <= 0) return std::to_string(fd);
  return std::to_string(fd) + "<" + escaped(std::string_view(link.data(), static_cast<std::size_t>(length))) + ">";
}

// sendto(fd, buf, len, flags, dest, destlen): the netlink message's type when
// the call goes to a netlink address (rtnetlink(7): RTM_NEWLINK is 16).
std::string netlink_text(pid_t pid, const seccomp_data& data) {
  std::string out = "len=" + std::to_string(data.args[2]);
  if (data.args[4] == 0) return out;
  const std::string family = read_memory(pid, data.args[4], sizeof(sa_family_t));
  if (family.size() != sizeof(sa_family_t)) return out;
  sa_family_t value = 0;
  std::memcpy(&value, family.data(), sizeof value);
  if (value != AF_NETLINK) return out;
  const std::string header = read_memory(pid, data.args[1], 6);  // nlmsg_len (4), nlmsg_type (2)
  if (header.size() == 6) {
    std::uint16_t type = 0;
    std::memcpy(&type, header.data() + 4, sizeof type);
    out += ", nlmsg_type=" + std::to_string(type);
  }
  return out + ", to=AF_NETLINK";
}

// "mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)": the call as the log shows it.
std::string render(pid_t pid, const seccomp_data& data) {
  const SyscallInfo* info = find_syscall(static_cast<long>(data.nr));
  if (info == nullptr) return "syscall_" + std::to_string(data.nr) + "(...)";
  std::string out = std::string(info->name) + "(";
  for (std::size_t i = 0; i < info->args.size(); ++i) {
    const std::uint64_t value = data.args[i];
    std::string shown;
    switch (info->args[i]) {
      case 's': shown = string_at(pid, value); break;
      case 'f': shown = fd_text(pid, value); break;
      case 'd': shown = std::to_string(static_cast<std::int64_t>(value)); break;
      case 'm': shown = mount_flags(value); break;
      case 'c': shown = clone_flags(value); break;
      case 'b': {
        const std::size_t length = i + 1 < 6 ? std::min<std::uint64_t>(data.args[i + 1], 128) : 0;
        shown = "\"" + escaped(read_memory(pid, value, length)) + "\"";
        break;
      }
      case 'n': shown = netlink_text(pid, data); break;
      default: shown = hex(value); break;
    }
    out += (i == 0 ? "" : ", ") + shown;
    if (info->args[i] == 'n') break;  // it shows the rest of sendto's arguments itself
  }
  return out + ")";
}

// The parent of PID, from /proc/PID/stat (0 when it cannot be read).
pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');  // the name may hold blanks and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string state;
  pid_t parent = 0;
  fields >> state >> parent;
  return parent;
}

// How many generations PID is below ROOT; -1 when it is not below it.
int depth_of(pid_t pid, pid_t root) {
  for (int depth = 0; depth < 64 && pid > 0; ++depth) {
    if (pid == root) return depth;
    pid = parent_of(pid);
  }
  return -1;
}

// --- the filter -------------------------------------------------------------------

// Every call of WATCHED goes to the listener; everything else runs. Returns
// the listener, or -1 (errno set).
int install_filter(const std::vector<long>& watched) {
  if (kAuditArch == 0) {
    errno = ENOSYS;
    return -1;
  }
  std::vector<sock_filter> program;
  program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0));
  program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  for (const long number : watched) {
    program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(number), 0, 1));
    program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));
  }
  program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  const sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  if (listener == -1 && errno == EACCES) {
    // Without CAP_SYS_ADMIN a filter needs no_new_privs (seccomp(2)).
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) return -1;
    listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  }
  return static_cast<int>(listener);
}

}  // namespace

namespace {

// --- the listener, from the child that installed the filter to this process --------

// The child's side: the listener fd over SOCKET (SCM_RIGHTS), or, when the
// filter could not be installed, the errno in the message's one byte.
void send_listener(int socket, int listener, int saved_errno) {
  std::array<char, 1> byte{static_cast<char>(listener >= 0 ? 0 : saved_errno)};
  iovec data{byte.data(), byte.size()};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  if (listener >= 0) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &listener, sizeof(int));
  }
  (void)::sendmsg(socket, &message, MSG_NOSIGNAL);
}

// This process's side: the listener, or -1 with errno the child's.
int receive_listener(int socket) {
  std::array<char, 1> byte{};
  iovec data{byte.data(), byte.size()};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  if (::recvmsg(socket, &message, MSG_CMSG_CLOEXEC) != 1) return -1;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(header), sizeof(int));
      return fd;
    }
  }
  errno = byte[0] != 0 ? byte[0] : EPROTO;
  return -1;
}

// --- the command line ---------------------------------------------------------------

struct Options {
  std::vector<long> watched;
  bool failing = false;
  int depth = -1;  // any
  int nth = 1;
  std::regex match{""};
  int errnum = ENOTRECOVERABLE;
  std::string log;
  std::vector<char*> command;
};

void usage(std::ostream& out) {
  out << "Usage: nslab-inject [--watch SYSCALL,...] [--log FILE] -- PROGRAM [ARG...]\n"
         "       nslab-inject --fail SYSCALL [--depth D] [--nth K] [--match REGEX] [--errno E]\n"
         "                    [--log FILE] -- PROGRAM [ARG...]\n\n"
         "Runs PROGRAM under a seccomp filter that hands the watched system calls to this\n"
         "tool. With --fail, the Kth call of SYSCALL (default 1) by a process D levels\n"
         "below PROGRAM (0: PROGRAM itself; default: any) whose rendering matches REGEX fails\n"
         "with errno E (a name or a number; default ENOTRECOVERABLE), and every other call\n"
         "runs. Without it, each call of the watched ones is logged. The log (FILE) gets\n"
         "\"call|injected DEPTH PID RENDERING\" lines and \"exit N\" or \"signal N\".\n"
         "Exit status: PROGRAM's (128+N if killed by signal N); 125 if this tool failed.\n";
}

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "nslab-inject: " << what << " (see --help)\n";
  std::exit(2);
}

long syscall_number(const std::string& name) {
  const SyscallInfo* info = find_syscall(name);
  if (info == nullptr) {
    std::string known;
    for (const SyscallInfo& each : kSyscalls) known += (known.empty() ? "" : ", ") + std::string(each.name);
    usage_error("unknown system call \"" + name + "\"; known: " + known);
  }
  return info->number;
}

int count_value(const std::string& option, const std::string& text, int lowest) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) < lowest) {
    usage_error(option + ": expected a number from " + std::to_string(lowest) + ", got \"" + text + "\"");
  }
  return std::stoi(text);
}

Options parse(int argc, char* argv[]) {
  Options options;
  int i = 1;
  auto value = [&](const std::string& option) -> std::string {
    if (i + 1 >= argc) usage_error(option + " needs a value");
    return argv[++i];
  };
  for (; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word == "-h" || word == "--help") {
      usage(std::cout);
      std::exit(0);
    } else if (word == "--watch") {
      std::istringstream names(value(word));
      for (std::string name; std::getline(names, name, ',');) options.watched.push_back(syscall_number(name));
    } else if (word == "--fail") {
      if (options.failing) usage_error("--fail given twice: one call fails per run");
      options.failing = true;
      options.watched = {syscall_number(value(word))};
    } else if (word == "--depth") {
      options.depth = count_value(word, value(word), 0);
    } else if (word == "--nth") {
      options.nth = count_value(word, value(word), 1);
    } else if (word == "--match") {
      const std::string text = value(word);
      try {
        options.match = std::regex(text);
      } catch (const std::regex_error& e) {
        usage_error("--match: not a regular expression: \"" + text + "\": " + e.what());
      }
    } else if (word == "--errno") {
      const std::string text = value(word);
      const std::optional<int> parsed = parse_errno(text);
      if (!parsed) usage_error("--errno: not an errno name or number: \"" + text + "\"");
      options.errnum = *parsed;
    } else if (word == "--log") {
      options.log = value(word);
    } else {
      usage_error("unknown option \"" + word + "\"");
    }
  }
  for (; i < argc; ++i) options.command.push_back(argv[i]);
  if (options.command.empty()) usage_error("no PROGRAM given after --");
  if (options.watched.empty()) usage_error("nothing to watch: give --fail SYSCALL or --watch SYSCALL,...");
  options.command.push_back(nullptr);
  return options;
}

// --- the supervisor -----------------------------------------------------------------

class Log {
 public:
  explicit Log(const std::string& path) {
    if (path.empty()) return;
    file_ = std::fopen(path.c_str(), "we");
    if (file_ == nullptr) fail_errno("open --log " + path);
  }
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  Log(Log&&) = delete;
  Log& operator=(Log&&) = delete;
  ~Log() {
    if (file_ != nullptr) (void)std::fclose(file_);
  }
  void line(const std::string& text) const {
    if (file_ == nullptr) return;
    (void)std::fprintf(file_, "%s\n", text.c_str());
    (void)std::fflush(file_);
  }

 private:
  std::FILE* file_ = nullptr;
};

// Answers one call: it fails, or it runs.
void answer(const Options& options, const Log& log, pid_t root, int listener, seccomp_notif& request,
            seccomp_notif_resp& response, int& matched, bool& injected) {
  const pid_t pid = static_cast<pid_t>(request.pid);
  const int depth = depth_of(pid, root);
  const std::string shown = render(pid, request.data);
  std::memset(&response, 0, sizeof response);
  response.id = request.id;
  bool failing = false;
  if (options.failing) {
    const bool wanted = !injected && (options.depth < 0 || depth == options.depth) &&
                        std::regex_search(shown, options.match);
    failing = wanted && ++matched == options.nth;
  } else {
    log.line("call " + std::to_string(depth) + " " + std::to_string(pid) + " " + shown);
  }
  if (failing) {
    injected = true;
    response.error = -options.errnum;
    log.line("injected " + std::to_string(depth) + " " + std::to_string(pid) + " " + shown + " errno=" +
             errno_name(options.errnum));
  } else {
    response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  }
  // ENOENT: the caller died meanwhile (a signal), and the call with it.
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) == -1 && errno != ENOENT) {
    fail_errno("ioctl(SECCOMP_IOCTL_NOTIF_SEND)");
  }
}

int supervise(const Options& options, const Log& log, pid_t root, int listener) {
  // The kernel's structures may be larger than this header's: sized as it says.
  seccomp_notif_sizes sizes{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == -1) fail_errno("seccomp(SECCOMP_GET_NOTIF_SIZES)");
  std::vector<std::byte> request_buffer(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  std::vector<std::byte> response_buffer(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  auto* request = reinterpret_cast<seccomp_notif*>(request_buffer.data());
  auto* response = reinterpret_cast<seccomp_notif_resp*>(response_buffer.data());
  const long pidfd = ::syscall(SYS_pidfd_open, root, 0U);
  if (pidfd == -1) fail_errno("pidfd_open(" + std::to_string(root) + ")");
  int matched = 0;
  bool injected = false;
  bool listening = true;
  for (;;) {
    std::array<pollfd, 2> fds{{{static_cast<int>(pidfd), POLLIN, 0}, {listening ? listener : -1, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) == -1) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    if ((fds[1].revents & POLLIN) != 0) {
      std::fill(request_buffer.begin(), request_buffer.end(), std::byte{0});
      if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, request) == 0) {
        answer(options, log, root, listener, *request, *response, matched, injected);
      } else if (errno != ENOENT && errno != EINTR) {
        fail_errno("ioctl(SECCOMP_IOCTL_NOTIF_RECV)");
      }
      continue;  // calls first: PROGRAM may wait on one before it can end
    }
    if ((fds[1].revents & (POLLHUP | POLLERR)) != 0) listening = false;  // no process holds the filter
    if ((fds[0].revents & POLLIN) != 0) break;
  }
  int status = 0;
  while (::waitpid(root, &status, 0) == -1) {
    if (errno != EINTR) fail_errno("waitpid(" + std::to_string(root) + ")");
  }
  (void)::close(static_cast<int>(pidfd));
  if (WIFSIGNALED(status)) {
    log.line("signal " + std::to_string(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  }
  log.line("exit " + std::to_string(WEXITSTATUS(status)));
  return WEXITSTATUS(status);
}

}  // namespace

namespace {

int run(int argc, char* argv[]) {
  const Options options = parse(argc, argv);
  const Log log(options.log);
  std::array<int, 2> pair{};
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair.data()) == -1) fail_errno("socketpair");
  const pid_t child = ::fork();
  if (child == -1) fail_errno("fork");
  if (child == 0) {
    (void)::close(pair[0]);
    // The filter first, then PROGRAM: every process it starts inherits it.
    const int listener = install_filter(options.watched);
    send_listener(pair[1], listener, errno);
    if (listener < 0) ::_exit(kToolFailed);
    (void)::close(listener);
    ::execvp(options.command.front(), options.command.data());
    std::cerr << "nslab-inject: exec " << options.command.front() << ": " << std::strerror(errno) << "\n";
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  (void)::close(pair[1]);
  const int listener = receive_listener(pair[0]);
  (void)::close(pair[0]);
  if (listener < 0) {
    const int saved = errno;
    (void)::waitpid(child, nullptr, 0);
    errno = saved;
    fail_errno("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER)");
  }
  const int status = supervise(options, log, child, listener);
  (void)::close(listener);
  return status;
}

}  // namespace

int main(int argc, char* argv[]) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "nslab-inject: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "nslab-inject: unexpected error\n";
  }
  return kToolFailed;
}
