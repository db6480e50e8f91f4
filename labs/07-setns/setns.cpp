// Lab 07 — joining a running container with setns(2).
//
// A namespace lives as long as something holds it: a process in it, a mount of
// its /proc/PID/ns/KIND file, or an open file descriptor of that file. setns(2)
// takes such a descriptor and moves the caller into the namespace: nothing is
// created, nothing is copied. A container is the set of namespaces its
// processes share, so joining one is opening each of them and calling setns on
// each, as nsenter(1), `docker exec` and `ip netns exec` do.
//
// Three things make it more than a loop over setns():
//   * every file is opened before any namespace is joined: in the container's
//     mount namespace "/proc" is the container's, where /proc/PID (a host PID)
//     is another process, or none;
//   * the order matters to privilege: root may join every namespace from the
//     host and keeps that power only until it joins the container's user
//     namespace, so that one comes last for root; the owner of a rootless
//     container may join nothing until it is in the user namespace, which
//     gives it every capability there, so it comes first for the owner;
//   * a PID namespace takes the caller's children only: the caller keeps its
//     PID, and COMMAND must be forked.

#include "07-setns/setns.hpp"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "04-mount/mount.hpp"
#include "nslab/channel.hpp"
#include "nslab/error.hpp"
#include "nslab/exit_status.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nslab {
namespace {

std::string proc_path(pid_t pid, std::string_view rest) {
  return "/proc/" + std::to_string(pid) + "/" + std::string(rest);
}

std::string flag_name(int flag) { return clone_flags_to_string(static_cast<unsigned>(flag)); }

// The state letter of /proc/PID/stat ('Z' for a zombie), or 0 when unreadable.
char process_state(pid_t pid) {
  std::ifstream stat(proc_path(pid, "stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');  // the name in parentheses may hold anything
  return paren != std::string::npos && paren + 2 < text.size() ? text[paren + 2] : '\0';
}

// Why the caller may not look into PID's namespaces: reading /proc/PID/ns takes
// the right to ptrace PID (proc(5)), which only its owner and root have.
std::string not_yours(pid_t pid) {
  struct stat st {};
  const std::string owner = ::stat(proc_path(pid, "").c_str(), &st) == 0 ? "uid " + std::to_string(st.st_uid)
                                                                          : "another user";
  return "permission denied: process " + std::to_string(pid) + " runs as " + owner + " and this one as uid " +
         std::to_string(::geteuid()) + "; only root, or the owner of a rootless container, may join it";
}

// Tgid in /proc/PID/status: the process a thread PID belongs to (0 if unknown).
pid_t thread_group_of(pid_t pid) {
  std::ifstream status(proc_path(pid, "status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Tgid:", 0) == 0) {
      const std::size_t start = line.find_first_not_of(" \t", 5);
      if (start == std::string::npos) return 0;
      const std::string_view digits = std::string_view(line).substr(start);
      pid_t tgid = 0;
      (void)std::from_chars(digits.data(), digits.data() + digits.size(), tgid);
      return tgid;
    }
  }
  return 0;
}

Error exited_while_joined(pid_t pid) {
  return Error(0, "--enter " + std::to_string(pid) + ": process " + std::to_string(pid) + " exited while being joined");
}

// The target has exited since pidfd_open(2): its pidfd reads as ready then.
bool has_exited(const JoinTarget& target) {
  if (target.pidfd) {
    pollfd ready{target.pidfd.get(), POLLIN, 0};
    return ::poll(&ready, 1, 0) == 1 && (ready.revents & POLLIN) != 0;
  }
  return ::kill(target.pid, 0) == -1 && errno == ESRCH;  // a kernel before 5.3
}

// What an errno from setns(2) means for a namespace of KIND.
std::string setns_hint(int errnum, std::string_view kind) {
  if (errnum == EPERM) {
    return "joining a namespace needs CAP_SYS_ADMIN over it: run as root, or as the owner of a rootless "
           "container, whose user namespace gives it that";
  }
  if (errnum == EINVAL && kind == "user") {
    return "a process cannot enter its own user namespace again, nor any while it has other threads";
  }
  if (errnum == EINVAL) return "the file is not a namespace of the kind nstype names, or this process shares its root "
                               "and working directory with another (CLONE_FS)";
  return {};
}

// /proc/PID/ns/KIND, opened: the namespace is held while the fd is.
UniqueFd open_namespace(pid_t pid, std::string_view kind) {
  const std::string path = proc_path(pid, "ns/" + std::string(kind));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int saved = errno;
    if (saved == EACCES || saved == EPERM) throw Error(0, "--enter " + std::to_string(pid) + ": " + not_yours(pid));
    throw Error(saved, "open " + path);
  }
  return fd;
}

UniqueFd open_directory(pid_t pid, std::string_view which) {
  const std::string path = proc_path(pid, which);
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno("open " + path);
  return fd;
}

NamespaceId identity_of(const UniqueFd& fd, std::string_view kind) {
  struct stat st {};
  check(::fstat(fd.get(), &st), "fstat /proc/PID/ns/" + std::string(kind));
  return NamespaceId{std::string(kind), st.st_ino};
}

//! [setns-join-one]
// setns(2) into one namespace. With @p may_wait, EPERM is not an error yet:
// the namespace is tried again once the user namespace is joined.
bool join_one(TargetNamespace& ns, pid_t pid, bool may_wait, const Narrator& narrator) {
  const std::string call = "setns(" + proc_path(pid, "ns/" + std::string(ns.kind)) + ", " + flag_name(ns.clone_flag) + ")";
  // nstype is the kind we expect: the kernel checks the fd against it (0 would take any).
  if (::setns(ns.fd.get(), ns.clone_flag) == 0) {
    ns.joined = true;
    narrator.say(call);
    return true;
  }
  const int saved = errno;
  if (saved == EPERM && may_wait) {
    narrator.say(call + ": EPERM for now; again once in the container's user namespace");
    return false;
  }
  throw Error(saved, call, setns_hint(saved, ns.kind));
}
//! [setns-join-one]

//! [setns-join]
// Every namespace of the target, in two passes around the user namespace.
void join_namespaces(JoinTarget& target, const Narrator& narrator) {
  // TODO(lab 07): implement join every namespace, the user namespace first or last as the caller's privilege needs.
  // Read docs/{en,zh}/lab07-setns.md#lab07-order, then replace the line below with your code.
  throw nslab::Todo("07", "join every namespace, the user namespace first or last as the caller's privilege needs", "docs/{en,zh}/lab07-setns.md#lab07-order");
}
//! [setns-join]

// Root of the container's user namespace, as its first process is (lab 06):
// uid and gid 0, no supplementary group.
void become_root_inside(const Context& ctx) {
  // EPERM: the container denied setgroups(2) (lab 06), and we have none to drop
  // that matter: a joined user namespace maps none of the caller's groups.
  if (::setgroups(0, nullptr) == -1 && errno != EPERM) throw_errno("setgroups(0, NULL)");
  if (::setresgid(0, 0, 0) == -1) {
    const int saved = errno;
    throw Error(saved, "setresgid(0, 0, 0)", "gid 0 is not mapped in the container's user namespace");
  }
  if (::setresuid(0, 0, 0) == -1) {
    const int saved = errno;
    throw Error(saved, "setresuid(0, 0, 0)", "uid 0 is not mapped in the container's user namespace");
  }
  // A change of credentials clears the death signal (PITFALLS 17) and resets
  // "dumpable" to fs.suid_dumpable: both set again.
  if (!die_with_parent(*ctx.channel)) throw Error(0, "the runtime ended while joining");
  check(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE, 0)");
}

// For --verbose: what this process is in now, read through its own /proc/PID/ns
// opened on the host's /proc before joining (the container's /proc has no
// entry for it: it is not in the container's PID namespace).
void narrate_after(const JoinTarget& target, const UniqueFd& own_ns, const Narrator& narrator) {
  for (const TargetNamespace& ns : target.namespaces) {
    // A PID namespace is entered by children only: ns/pid stays ours.
    const std::string entry = ns.kind == "pid" ? "pid_for_children" : std::string(ns.kind);
    std::array<char, 64> link{};
    const ssize_t length = ::readlinkat(own_ns.get(), entry.c_str(), link.data(), link.size() - 1);
    const auto now = length > 0 ? parse_namespace_link(std::string_view(link.data(), static_cast<std::size_t>(length)))
                                : std::nullopt;
    std::string line = "  " + entry + ": " + ns.ours.str() + " -> ";
    line += now ? now->str() : "?";
    line += now && *now == ns.theirs ? " (process " + std::to_string(target.pid) + "'s)"
                                     : " (NOT process " + std::to_string(target.pid) + "'s " + ns.theirs.str() + ")";
    narrator.say(line);
  }
}

// A regular file of one line, a number: a pid file (a stale one, by now).
bool holds_a_pid(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode) || st.st_size > 16) return false;
  std::ifstream file(path);
  std::string line;
  std::string rest;
  if (!std::getline(file, line) || std::getline(file, rest)) return false;
  return !line.empty() && std::all_of(line.begin(), line.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string pid_file_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

pid_t parse_pid(std::string_view text) {
  const std::string shown = "--enter " + quoted(text, 40);
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits || ec != std::errc() || end != text.data() + text.size() || value < 1 || value > kPidMaxLimit) {
    throw UsageError(shown + ": expected a process ID, a number from 1 to " + std::to_string(kPidMaxLimit));
  }
  return static_cast<pid_t>(value);
}

const std::vector<std::string_view>& join_order() {
  static const std::vector<std::string_view> order{"user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"};
  return order;
}

void EnterContainer::add_options(cli::Parser& parser) {
  parser.add_value("enter", "PID",
                   "join the container process PID is in: its namespaces, root and working directory "
                   "(creates nothing)",
                   [this](std::string_view value) {
                     if (target_ != 0) throw UsageError("--enter given twice: one container is joined at a time");
                     target_ = parse_pid(value);
                   });
  parser.add_value("pid-file", "FILE",
                   "write the container's first process's PID (as the host numbers it) to FILE once COMMAND "
                   "starts; removed when it ends",
                   [this](std::string_view value) {
                     if (value.empty()) throw UsageError("--pid-file: expected a file name");
                     if (!pid_file_.empty()) throw UsageError("--pid-file given twice");
                     pid_file_ = std::string(value);
                   });
}

void EnterContainer::prepare(Context& ctx) {
  if (target_ == 0) {
    if (pid_file_.empty()) return;
    // The file is written once COMMAND runs: whatever would stop it then is
    // said now, before anything exists.
    const std::string dir = pid_file_dir(pid_file_);
    struct stat st {};
    // A name the kernel refuses (too long, through a file, a loop of links).
    if (::lstat(pid_file_.c_str(), &st) == -1 && errno != ENOENT) {
      const int saved = errno;  // before the message is built
      throw Error(saved, "--pid-file " + quoted(pid_file_));
    }
    // It is written as ".NAME.XXXXXX" beside it first (command_started): that name must fit too.
    const std::size_t base = pid_file_.size() - (pid_file_.rfind('/') == std::string::npos ? 0 : pid_file_.rfind('/') + 1);
    if (base + 8 > NAME_MAX || dir.size() + base + 9 >= PATH_MAX) {
      throw UsageError("--pid-file " + quoted(pid_file_) + ": too long a name (at most " + std::to_string(NAME_MAX - 8) +
                       " bytes for the file, " + std::to_string(PATH_MAX - 10) + " for its path)");
    }
    if (::stat(pid_file_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      throw UsageError("--pid-file " + quoted(pid_file_) + ": is a directory");
    }
    // What is there already is replaced: a symlink (itself, never what it
    // points to), or a pid file left by a killed run. Nothing else.
    if (::lstat(pid_file_.c_str(), &st) == 0 && !S_ISLNK(st.st_mode) && !holds_a_pid(pid_file_, st)) {
      throw UsageError("--pid-file " + quoted(pid_file_) + ": exists and is not a pid file: it is left alone");
    }
    if (::access(dir.c_str(), W_OK | X_OK) == -1) {
      throw Error(errno, "--pid-file " + quoted(pid_file_) + ": cannot create a file in " + quoted(dir));
    }
    return;
  }
  // Before anything else: once joined, COMMAND must not run from the host's file.
  run_from_sealed_copy(ctx.program);
  const std::string shown = "--enter " + std::to_string(target_);
  if (!pid_file_.empty()) {
    throw UsageError("--pid-file cannot be used with --enter: it names a container this program creates");
  }
  if (target_ == ::getpid()) throw UsageError(shown + ": that is this process itself: nothing to join");
  if (const std::string problem = foreign_proc_problem(); !problem.empty()) throw Error(0, shown + ": " + problem);
  if (::kill(target_, 0) == -1 && errno == ESRCH) throw Error(0, shown + ": there is no process " + std::to_string(target_));
  if (const pid_t process = thread_group_of(target_); process != 0 && process != target_) {
    throw UsageError(shown + ": " + std::to_string(target_) + " is a thread of process " + std::to_string(process) +
                     ": give the process");
  }
  int differ = 0;
  for (const std::string_view kind : join_order()) {
    NamespaceId ours;
    try {
      ours = read_namespace_id(0, kind);
    } catch (const Error& e) {
      if (e.errnum() == ENOENT) continue;  // a kind this kernel does not have
      throw;
    }
    try {
      expected_.push_back(read_namespace_id(target_, kind));
      if (expected_.back() != ours) ++differ;
    } catch (const Error& e) {
      if (e.errnum() == EACCES || e.errnum() == EPERM) throw Error(0, shown + ": " + not_yours(target_));
      if (e.errnum() != ENOENT) throw;
      if (process_state(target_) == 'Z') {
        throw Error(0, shown + ": process " + std::to_string(target_) +
                           " has exited (a zombie its parent has not reaped): nothing left to join");
      }
      throw Error(0, shown + ": there is no process " + std::to_string(target_));
    }
  }
  if (differ == 0) {
    throw Error(0, shown + ": process " + std::to_string(target_) +
                       " is in every namespace this process is in: nothing to join (give the container's first "
                       "process, the PID --pid-file writes)");
  }
  ctx.narrator.say(shown + ": " + std::to_string(differ) + " of its namespaces differ from ours");
}

//! [setns-inside]
// The joining process: the runtime's child, still in the host's namespaces.
void EnterContainer::setup_inside(Context& ctx) {
  if (target_ == 0) return;
  ctx.narrator.set_side("joining");
  const Narrator& narrator = ctx.narrator;
  // Not dumpable from here to COMMAND's execve(2): no process of the container
  // may ptrace us, or open our /proc/PID/exe — this program, on the host
  // (CVE-2019-5736) — while we are inside.
  check(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE, 0)");
  JoinTarget target;
  target.pid = target_;
  // A pidfd names this process and no later one with its PID: it tells whether
  // the target exited while we opened its files.
  if (const long pidfd = ::syscall(SYS_pidfd_open, target.pid, 0U); pidfd >= 0) {
    target.pidfd.reset(static_cast<int>(pidfd));
  } else if (errno == ESRCH) {
    throw exited_while_joined(target.pid);
  } else if (errno != ENOSYS) {
    throw_errno("pidfd_open(" + std::to_string(target.pid) + ")");
  }
  UniqueFd own_ns;
  if (narrator.enabled()) own_ns.reset(::open("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC));

  try {
    // TODO(lab 07): implement open every namespace of the target that differs from ours, then its root and working directory, before joining any.
    // Read docs/{en,zh}/lab07-setns.md#lab07-open, then replace the line below with your code.
    throw nslab::Todo("07", "open every namespace of the target that differs from ours, then its root and working directory, before joining any", "docs/{en,zh}/lab07-setns.md#lab07-open");
  } catch (const Error& e) {
    // A process that exits loses its namespaces a moment before its pidfd
    // says so: ENOENT waits for the pidfd a little.
    if (target.pidfd && e.errnum() == ENOENT) {
      pollfd ready{target.pidfd.get(), POLLIN, 0};
      (void)::poll(&ready, 1, 200);
    }
    if (has_exited(target)) throw exited_while_joined(target.pid);
    throw;
  }
  // Opened while it was alive: every fd is the target's, not a later process's.
  if (has_exited(target)) throw exited_while_joined(target.pid);
  // And the target is still the process prepare() looked at: a PID reused in
  // between would have other namespaces (or ours, and nothing to join).
  const bool same = !target.namespaces.empty() &&
                    std::all_of(target.namespaces.begin(), target.namespaces.end(), [this](const TargetNamespace& ns) {
                      return std::find(expected_.begin(), expected_.end(), ns.theirs) != expected_.end();
                    });
  if (!same) throw exited_while_joined(target.pid);
  // A container with a root filesystem of its own gets a clean environment
  // from lab 04: the caller's variables (its paths, its tokens) stay outside
  // when COMMAND joins it, too (PITFALLS 19).
  struct stat their_root {};
  struct stat our_root {};
  check(::fstat(target.root.get(), &their_root), "fstat " + proc_path(target.pid, "root"));
  check(::stat("/", &our_root), "stat /");
  if (their_root.st_dev != our_root.st_dev || their_root.st_ino != our_root.st_ino) {
    ctx.environment = clean_environment();
    narrator.say("its root is not ours: COMMAND gets a clean environment (PATH, HOME, TERM)");
  }
  for (const TargetNamespace& ns : target.namespaces) {
    narrator.say("opened " + proc_path(target.pid, "ns/" + std::string(ns.kind)) + ": " + ns.theirs.str() +
                 ", ours " + ns.ours.str());
  }

  before_joining(target.pid, narrator);

  // Root's supplementary groups go before the user namespace is joined: once
  // in it, setgroups(2) is refused (the container denied it, lab 06), and the
  // host's groups would follow COMMAND inside.
  const bool joins_user = std::any_of(target.namespaces.begin(), target.namespaces.end(),
                                      [](const TargetNamespace& ns) { return ns.kind == "user"; });
  if (joins_user && ::setgroups(0, nullptr) == -1 && errno != EPERM) throw_errno("setgroups(0, NULL)");

  join_namespaces(target, narrator);

  // TODO(lab 07): implement take the target's root directory and working directory.
  // Read docs/{en,zh}/lab07-setns.md#lab07-root, then replace the line below with your code.
  throw nslab::Todo("07", "take the target's root directory and working directory", "docs/{en,zh}/lab07-setns.md#lab07-root");
  narrator.say("fchdir + chroot(\".\") to " + proc_path(target.pid, "root") + ", fchdir to its cwd");

  if (joins_user) {
    become_root_inside(ctx);
    narrator.say("setgroups(0), setresgid(0, 0, 0), setresuid(0, 0, 0): root of the container's user namespace");
  }
  if (own_ns) narrate_after(target, own_ns, narrator);
  // Every fd closes here (target's destructor): none may reach COMMAND.
}
//! [setns-inside]

//! [setns-fork]
std::optional<int> EnterContainer::run_command(Context& ctx, const ExecCommand& exec) {
  if (target_ == 0) return std::nullopt;  // a container of our own: COMMAND is the child
  // TODO(lab 07): implement fork COMMAND into the joined PID namespace, forward signals to it, and return its exit status.
  // Read docs/{en,zh}/lab07-setns.md#lab07-fork, then replace the line below with your code.
  throw nslab::Todo("07", "fork COMMAND into the joined PID namespace, forward signals to it, and return its exit status", "docs/{en,zh}/lab07-setns.md#lab07-fork");
}
//! [setns-fork]

//! [setns-pid-file]
// COMMAND is starting, every module's work done: now a second terminal may join.
void EnterContainer::command_started(Context& ctx) {
  if (pid_file_.empty() || target_ != 0) return;
  // Written under another name and renamed: a reader sees no file or a whole
  // one, never half of it; rename(2) replaces a symlink, never follows it.
  const std::string text = std::to_string(ctx.child) + "\n";
  const std::string dir = pid_file_dir(pid_file_);
  const std::string base = pid_file_.substr(pid_file_.rfind('/') == std::string::npos ? 0 : pid_file_.rfind('/') + 1);
  // A name nobody can guess, made with O_EXCL: no one may plant it first.
  std::string temporary = dir + "/." + base + ".XXXXXX";
  {
    const UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));
    if (!fd) throw_errno("--pid-file: create a file in " + quoted(dir));
    check(::fchmod(fd.get(), 0644), "--pid-file: fchmod " + quoted(temporary));
    const ssize_t written = ::write(fd.get(), text.data(), text.size());
    const int saved = errno;
    if (written != static_cast<ssize_t>(text.size()) || ::fstat(fd.get(), &pid_file_stat_) == -1) {
      (void)::unlink(temporary.c_str());
      throw Error(written == -1 ? saved : errno, "--pid-file: write " + quoted(temporary));
    }
  }
  if (::rename(temporary.c_str(), pid_file_.c_str()) == -1) {
    const int saved = errno;
    (void)::unlink(temporary.c_str());
    throw Error(saved, "--pid-file: rename " + quoted(temporary) + " to " + quoted(pid_file_));
  }
  pid_file_written_ = true;
  ctx.narrator.say("wrote " + std::to_string(ctx.child) + " to " + pid_file_ + ": join with --enter " +
                   std::to_string(ctx.child));
}

std::string EnterContainer::teardown(Context& ctx) noexcept {
  if (!pid_file_written_) return {};
  pid_file_written_ = false;
  // Only the file we wrote: another run may have replaced it since.
  struct stat now {};
  if (::lstat(pid_file_.c_str(), &now) == -1 || now.st_dev != pid_file_stat_.st_dev ||
      now.st_ino != pid_file_stat_.st_ino) {
    return {};
  }
  if (::unlink(pid_file_.c_str()) == -1) return "the pid file " + pid_file_ + " (unlink: " + std::strerror(errno) + ")";
  ctx.narrator.say("removed " + pid_file_);
  return {};
}
//! [setns-pid-file]

}  // namespace nslab
