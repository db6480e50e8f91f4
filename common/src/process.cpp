#include "nslab/process.hpp"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>  // memfd_create
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/channel.hpp"
#include "nslab/error.hpp"
#include "nslab/fd.hpp"
#include "nslab/namespaces.hpp"
#include "nslab/signals.hpp"

namespace nslab {
namespace {

// The child's whole life: it runs body and ends with its result, and never
// returns into the frames it shares with its parent (see clone_process).
// noexcept: an exception that escapes body ends the child (std::terminate)
// instead of unwinding into a copy of the parent's callers.
[[noreturn]] void run_child(const std::function<int()>& body) noexcept { ::_exit(body()); }

// The PIDs listed in /proc/self/task/*/children (proc(5)).
std::vector<pid_t> list_children() {
  std::vector<pid_t> children;
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return children;
  while (const dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + entry->d_name + "/children");
    pid_t pid = 0;
    while (in >> pid) children.push_back(pid);
  }
  ::closedir(tasks);
  return children;
}

// State Z in /proc/PID/stat: ended, waiting to be reaped (proc(5)).
bool is_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');  // the name may hold spaces and parentheses
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

}  // namespace

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = other.release();
  }
  return *this;
}

int ChildProcess::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) == -1) {
    if (errno != EINTR) {
      // Not ours to wait for (ECHILD): never kill that PID later, it may be reused.
      const pid_t pid = std::exchange(pid_, -1);
      throw_errno("waitpid(" + std::to_string(pid) + ")");
    }
  }
  pid_ = -1;
  return status;
}

void ChildProcess::kill_and_reap() noexcept {
  if (pid_ <= 0) return;
  (void)::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) == -1 && errno == EINTR) {
  }
  pid_ = -1;
}

ChildProcess clone_process(int flags, const std::function<int()>& body) {
  // The system call itself, with no stack for the child: clone(2), "C
  // library/kernel differences": the raw call "accepts NULL as a stack
  // argument", and the child then "uses a duplicate of the parent's stack".
  // Like fork(2)'s, the child goes on from this very point, where the call
  // returns 0 to it, on its copy of our stack: as deep as ours, with no size
  // to guess for what its setup runs (pivot_root, netlink, C++ exceptions),
  // and the stack this process started on, which every tool that watches the
  // stack (AddressSanitizer) already knows. glibc's clone() wrapper wants a
  // new stack of the caller's making instead, one that no such tool knows.
  // The copy is the point: with CLONE_VM both would write one stack.
  // The flags come first on x86-64, arm64 and most others; s390 swaps the
  // first two (the other arguments, 0 here, are not used).
  if ((flags & CLONE_VM) != 0) {
    throw Error(EINVAL, "clone(" + clone_flags_to_string(static_cast<unsigned>(flags | SIGCHLD)) + ")",
                "CLONE_VM: the child runs on a copy of this process's stack, which it must not share");
  }
  const auto clone_flags = static_cast<unsigned long>(flags | SIGCHLD);
#if defined(__s390__)
  const long pid = ::syscall(SYS_clone, nullptr, clone_flags, nullptr, nullptr, 0UL);
#else
  const long pid = ::syscall(SYS_clone, clone_flags, nullptr, nullptr, nullptr, 0UL);
#endif
  if (pid == 0) run_child(body);
  if (pid == -1) {
    const int saved = errno;
    throw Error(saved, "clone(" + clone_flags_to_string(static_cast<unsigned>(flags | SIGCHLD)) + ")",
                explain_clone_errno(saved, flags));
  }
  return ChildProcess(static_cast<pid_t>(pid));
}

bool die_with_parent(const Channel& to_parent) {
  check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG, SIGKILL)");
  return !to_parent.peer_gone();
}

void set_process_title(const std::string& title) noexcept {
  (void)::prctl(PR_SET_NAME, title.c_str(), 0, 0, 0);
  // argv's strings lie end to end from argv[0], which glibc keeps in
  // program_invocation_name; /proc/self/cmdline tells how long they are.
  std::size_t length = 0;
  {
    std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
    length = static_cast<std::size_t>(std::distance(std::istreambuf_iterator<char>(cmdline), {}));
  }
  if (length == 0) return;
  char* args = program_invocation_name;
  // Zeroed first, so the title is terminated wherever it is cut.
  std::memset(args, 0, length);
  title.copy(args, std::min(title.size(), length - 1));
}

void erase_environment_block() noexcept {
  try {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');  // the name may hold spaces and parentheses
    if (close == std::string::npos) return;
    // After the name come the fields from 3 (state) on; env_start and env_end are 50 and 51.
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    std::uintptr_t env_start = 0;
    std::uintptr_t env_end = 0;
    for (int number = 3; number <= 51 && fields >> field; ++number) {
      if (number == 50) env_start = std::stoull(field);
      if (number == 51) env_end = std::stoull(field);
    }
    if (env_start == 0 || env_end <= env_start) return;
    // The kernel tells the address as a number: this cast is the point.
    std::memset(reinterpret_cast<void*>(env_start), 0, env_end - env_start);  // NOLINT(performance-no-int-to-ptr)
  } catch (...) {
    // Nothing to blank that we could find.
  }
}

bool has_effective_capability(int cap) {
  // capget(2), version 3: each set in two 32-bit words, the low one first.
  // (The same bits as CapEff in /proc/self/status, without formatting and
  // parsing that file.)
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> sets{};
  if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3 || ::syscall(SYS_capget, &header, sets.data()) == -1) return false;
  return ((sets[static_cast<std::size_t>(cap) / 32].effective >> (cap % 32)) & 1U) != 0;
}

void become_subreaper() { check(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)"); }

int kill_all_children() noexcept {
  int killed = 0;
  try {
    for (;;) {
      const std::vector<pid_t> children = list_children();
      if (children.empty()) break;
      for (const pid_t pid : children) {
        // A zombie has already ended: it is reaped below, but not counted.
        if (!is_zombie(pid) && ::kill(pid, SIGKILL) == 0) ++killed;
      }
      // Reap them; their own children are re-parented to us and show up next round.
      for (const pid_t pid : children) {
        while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
        }
      }
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  } catch (...) {
    // Out of memory while listing: nothing more can be done here.
  }
  return killed;
}

}  // namespace nslab

namespace nslab {

ProgramResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds time_limit) {
  std::array<int, 2> pipe_fds{};
  check(::pipe2(pipe_fds.data(), O_CLOEXEC), "pipe2 for " + quoted(argv.front()));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  std::vector<char*> words;
  words.reserve(argv.size() + 1);
  for (const std::string& word : argv) words.push_back(const_cast<char*>(word.c_str()));
  words.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == -1) throw_errno("fork for " + quoted(argv.front()));
  if (pid == 0) {
    // The runtime is single-threaded, so the child may do what the parent
    // could; still, only plain system calls from here to execvp.
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null == -1 || ::dup2(null, STDIN_FILENO) == -1 || ::dup2(null, STDOUT_FILENO) == -1 ||
        ::dup2(write_end.get(), STDERR_FILENO) == -1) {
      ::_exit(126);
    }
    (void)::syscall(SYS_close_range, 3U, ~0U, 0U);
    reset_signal_dispositions();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(words.front(), words.data());
    const char* why = std::strerror(errno);
    (void)!::write(STDERR_FILENO, words.front(), std::strlen(words.front()));
    (void)!::write(STDERR_FILENO, ": ", 2);
    (void)!::write(STDERR_FILENO, why, std::strlen(why));
    ::_exit(127);
  }
  ChildProcess child(pid);
  write_end.reset();
  ProgramResult result;
  // Until the helper exits — not until end-of-file, which a child it left in
  // the background could hold off — and for 10 s at most: the runtime holds
  // its signals meanwhile, so a helper that hangs must not hang it too.
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  // One read of what it said, kept up to 4 KiB; false at end-of-file.
  auto read_some = [&read_end, &result] {
    std::array<char, 512> chunk{};
    const ssize_t got = ::read(read_end.get(), chunk.data(), chunk.size());
    if (got > 0 && result.error_output.size() < 4096) result.error_output.append(chunk.data(), static_cast<std::size_t>(got));
    return got > 0 || (got == -1 && errno == EINTR);
  };
  bool open = true;
  for (;;) {
    int status = 0;
    const pid_t ended = ::waitpid(pid, &status, WNOHANG);
    if (ended == -1 && errno != EINTR) throw_errno("waitpid " + quoted(argv.front()));
    if (ended == pid) {
      (void)child.release();
      result.wait_status = status;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      child.kill_and_reap();
      result.wait_status = W_EXITCODE(0, SIGKILL);
      result.error_output += (result.error_output.empty() ? "" : " ");
      result.error_output += "(killed: it had not finished within " + std::to_string(time_limit.count()) + " ms)";
      return result;
    }
    pollfd entry{read_end.get(), POLLIN, 0};
    if (::poll(&entry, open ? 1 : 0, 50) == 1) open = read_some();
  }
  // What it wrote before it exited, without waiting for anyone else.
  for (pollfd entry{read_end.get(), POLLIN, 0}; open && ::poll(&entry, 1, 0) == 1;) open = read_some();
  while (!result.error_output.empty() &&
         (result.error_output.back() == '\n' || result.error_output.back() == ' ')) {
    result.error_output.pop_back();
  }
  return result;
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    const auto colon = rest.find(':');
    std::string candidate(rest.substr(0, colon));
    // An empty entry would mean the working directory: never, for a helper
    // that runs with privilege.
    if (!candidate.empty()) {
      candidate += '/';
      candidate += name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}


namespace {

// How much of the ELF file behind @p fd (of @p size bytes) execve(2) reads: up
// to the end of its last segment. What follows — debugging sections, the
// section headers — is never loaded, and may be most of a RelWithDebInfo
// build. The whole file when it is not a 64-bit ELF file we understand.
// @p header gets the ELF header, without section headers, when the extent is shorter.
off_t loaded_extent(int fd, off_t size, Elf64_Ehdr& header) {
  if (::pread(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 || header.e_phnum > 256) {
    return size;
  }
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  const auto bytes = static_cast<ssize_t>(segments.size() * sizeof(Elf64_Phdr));
  if (::pread(fd, segments.data(), static_cast<std::size_t>(bytes), static_cast<off_t>(header.e_phoff)) != bytes) {
    return size;
  }
  std::uint64_t end = header.e_phoff + static_cast<std::uint64_t>(bytes);
  for (const Elf64_Phdr& segment : segments) end = std::max(end, segment.p_offset + segment.p_filesz);
  if (end >= static_cast<std::uint64_t>(size)) return size;
  header.e_shoff = 0;  // ELF: no section header table
  header.e_shnum = 0;
  header.e_shstrndx = SHN_UNDEF;
  return static_cast<off_t>(end);
}

}  // namespace

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010  // Linux 5.1
#endif
// F_SEAL_FUTURE_WRITE, not F_SEAL_WRITE: both refuse every write from now on
// (and there is no mapping of the copy to write through), but F_SEAL_WRITE
// first waits for every extra reference to the pages to go, and gives up with
// EBUSY when one lingers, as a page just written may still be held by the
// kernel's per-CPU lists on a busy machine.
constexpr int kSealWrites = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

void run_from_sealed_copy(const std::string& name) {
  const UniqueFd program(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!program) throw_errno("open /proc/self/exe");
  const int seals = ::fcntl(program.get(), F_GET_SEALS);
  if (seals != -1 && (seals & kSealWrites) != 0) {
    // The copy: named as the program, not as the fd it was executed from.
    (void)::prctl(PR_SET_NAME, name.substr(0, 15).c_str(), 0, 0, 0);
    return;
  }
#ifndef MFD_EXEC
  constexpr unsigned kMfdExec = 0x10U;  // Linux 6.3: executable even under vm.memfd_noexec=1
#else
  constexpr unsigned kMfdExec = MFD_EXEC;
#endif
  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec);
  if (fd == -1 && errno == EINVAL) fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  const UniqueFd copy(fd);
  if (!copy) throw_errno("memfd_create(" + quoted(name) + ")");
  struct stat st {};
  check(::fstat(program.get(), &st), "fstat /proc/self/exe");
  Elf64_Ehdr header{};
  const off_t extent = loaded_extent(program.get(), st.st_size, header);
  for (off_t left = extent; left > 0;) {
    const ssize_t sent = ::sendfile(copy.get(), program.get(), nullptr, static_cast<std::size_t>(left));
    if (sent == -1 && errno == EINTR) continue;
    if (sent <= 0) throw Error(sent == 0 ? EIO : errno, "copying /proc/self/exe to a memfd");
    left -= sent;
  }
  if (extent < st.st_size &&
      ::pwrite(copy.get(), &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
    throw_errno("writing the ELF header of the copy");
  }
  check(::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE),
        "fcntl(memfd, F_ADD_SEALS)");
  // The same arguments, as the kernel keeps them: NUL-separated in /proc/self/cmdline.
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  std::vector<std::string> words;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\0', start);
    words.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  if (words.empty()) throw Error(0, "reading /proc/self/cmdline: empty");
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  ::fexecve(copy.get(), argv.data(), environ);
  throw_errno("fexecve(the sealed copy of /proc/self/exe)");
}

}  // namespace nslab
