// ChildProcess, clone_process, capabilities, and ending a container's leftovers
// with become_subreaper + kill_all_children.
//
// Whether a process is gone is asked of the kernel: waitpid fails with ECHILD
// once it is reaped, kill(pid, 0) with ESRCH once it no longer exists.

#include "nslab/process.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include "nslab/channel.hpp"
#include "nslab/error.hpp"
#include "nslab/namespaces.hpp"

namespace nslab {
namespace {

using testing::error_from;
using testing::Passed;
using testing::run_forked;


bool is_reaped(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD; }
bool is_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }
bool is_running_child(pid_t pid) { return ::kill(pid, 0) == 0 && ::waitpid(pid, nullptr, WNOHANG) == 0; }

// Waits for signals forever (at most a few seconds: a failed test must not
// leave it behind), and dies with its parent.
[[noreturn]] void wait_forever() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::alarm(5);
  for (;;) ::pause();
}

pid_t fork_waiting_child() {
  const pid_t pid = ::fork();
  if (pid == 0) wait_forever();
  return pid;
}

void kill_and_wait(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}


// The parent PID of pid, from /proc/PID/stat (after the ")" that ends comm).
pid_t parent_of(pid_t pid) {
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd == -1) return -1;
  std::array<char, 512> buffer{};
  const ssize_t length = ::read(fd, buffer.data(), buffer.size());
  ::close(fd);
  if (length <= 0) return -1;
  const std::string text(buffer.data(), static_cast<std::size_t>(length));
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  char state = 0;
  pid_t ppid = -1;
  std::istringstream(text.substr(paren + 1)) >> state >> ppid;
  return ppid;
}

bool send_pid(int fd, pid_t pid) { return ::write(fd, &pid, sizeof pid) == static_cast<ssize_t>(sizeof pid); }
pid_t receive_pid(int fd) {
  pid_t pid = -1;
  return ::read(fd, &pid, sizeof pid) == static_cast<ssize_t>(sizeof pid) ? pid : -1;
}

// ---- ChildProcess ---------------------------------------------------------

TEST(ChildProcess, DefaultOwnsNoProcess) {
  const ChildProcess child;
  EXPECT_EQ(child.pid(), -1);
}

TEST(ChildProcess, DestructorKillsAndReapsARunningChild) {
  const pid_t pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  const auto start = std::chrono::steady_clock::now();
  {
    const ChildProcess child(pid);
    EXPECT_EQ(child.pid(), pid);
    EXPECT_TRUE(is_running_child(pid));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(is_reaped(pid)) << "the destructor must reap the child";
  EXPECT_TRUE(is_gone(pid)) << "no process, not even a zombie, may be left";
  EXPECT_LT(elapsed, std::chrono::seconds(2)) << "the child must be killed, not waited for";
}

TEST(ChildProcess, KillAndReapEndsTheChildNow) {
  const pid_t pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  ChildProcess child(pid);
  child.kill_and_reap();
  EXPECT_EQ(child.pid(), -1);
  EXPECT_TRUE(is_reaped(pid));
  EXPECT_TRUE(is_gone(pid));
}

TEST(ChildProcess, WaitReturnsTheWaitStatus) {
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) ::_exit(7);
  ChildProcess child(pid);
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_EQ(child.pid(), -1) << "a waited-for child is no longer owned";
  EXPECT_TRUE(is_reaped(pid));
}

TEST(ChildProcess, WaitReportsTheSignalThatKilledTheChild) {
  const pid_t pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  ChildProcess child(pid);
  ::kill(pid, SIGKILL);
  const int status = child.wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(ChildProcess, WaitForAProcessThatIsNotAChildThrowsEchild) {
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);  // reaped here: no longer a child
  ChildProcess child(pid);
  const auto e = error_from([&child] { (void)child.wait(); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(child.pid(), -1) << "after ECHILD the owner must forget the PID";
  EXPECT_EQ(e->errnum(), ECHILD);
  EXPECT_EQ(e->context(), "waitpid(" + std::to_string(pid) + ")");
}

TEST(ChildProcess, ReleaseLeavesTheChildRunning) {
  const pid_t pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  {
    ChildProcess child(pid);
    EXPECT_EQ(child.release(), pid);
    EXPECT_EQ(child.pid(), -1);
  }
  EXPECT_TRUE(is_running_child(pid)) << "a released child is the caller's to reap";
  kill_and_wait(pid);
}

TEST(ChildProcess, MoveConstructionTransfersOwnership) {
  const pid_t pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  {
    ChildProcess from(pid);
    const ChildProcess to(std::move(from));
    EXPECT_EQ(to.pid(), pid);
    // The moved-from state is what is tested here.
    EXPECT_EQ(from.pid(), -1);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    from.kill_and_reap();  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move): owns nothing, must not touch the child
    EXPECT_TRUE(is_running_child(pid));
  }
  EXPECT_TRUE(is_reaped(pid));
}

TEST(ChildProcess, MoveAssignmentKillsTheTargetsOwnChild) {
  const pid_t first = fork_waiting_child();
  const pid_t second = fork_waiting_child();
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  {
    ChildProcess target(first);
    ChildProcess source(second);
    target = std::move(source);
    EXPECT_TRUE(is_reaped(first)) << "the child the target owned before must be killed and reaped";
    EXPECT_TRUE(is_running_child(second));
    EXPECT_EQ(target.pid(), second);
    EXPECT_EQ(source.pid(), -1);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  }
  EXPECT_TRUE(is_reaped(second));
}

// ---- clone_process --------------------------------------------------------

TEST(CloneProcess, RunsTheBodyInAChildAndItsResultIsTheExitStatus) {
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe2(fds.data(), O_CLOEXEC), 0);
  ChildProcess child = clone_process(0, [&fds] { return send_pid(fds[1], ::getpid()) ? 42 : 1; });
  ::close(fds[1]);
  const pid_t reported = receive_pid(fds[0]);
  ::close(fds[0]);
  EXPECT_EQ(reported, child.pid()) << "the body runs in the new process";
  EXPECT_NE(reported, ::getpid());
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST(CloneProcess, TheChildHasACopyOfMemoryNotTheParents) {
  int touched = 0;
  ChildProcess child = clone_process(0, [&touched] {
    touched = 1;
    return touched;
  });
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(touched, 0) << "without CLONE_VM the child writes its own copy";
}

TEST(CloneProcess, WithoutFlagsTheChildSharesTheUtsNamespace) {
  ChildProcess child = clone_process(0, []() -> int { wait_forever(); });
  EXPECT_EQ(read_namespace_id(child.pid(), "uts"), read_namespace_id(0, "uts"));
}

TEST(CloneProcess, NewUtsGivesTheChildItsOwnUtsNamespace) {
  if (!has_effective_capability(CAP_SYS_ADMIN)) {
    GTEST_SKIP() << "creating a UTS namespace needs CAP_SYS_ADMIN: run the unit tests as root";
  }
  ChildProcess child = clone_process(CLONE_NEWUTS, []() -> int { wait_forever(); });
  const NamespaceId host = read_namespace_id(0, "uts");
  const NamespaceId inside = read_namespace_id(child.pid(), "uts");
  EXPECT_EQ(inside.kind, "uts");
  EXPECT_NE(inside, host) << "CLONE_NEWUTS must put the child in a new UTS namespace";
  EXPECT_EQ(read_namespace_id(child.pid(), "ipc"), read_namespace_id(0, "ipc")) << "and no other";
}

// The child's frames are on the stack the process started on (the [stack]
// mapping of /proc/self/maps), not on one made for it: its own copy of the
// caller's (clone(2) with no stack, as fork(2)).
TEST(CloneProcess, TheChildRunsOnItsCopyOfTheCallersStack) {
  ChildProcess child = clone_process(0, [] {
    std::ifstream maps("/proc/self/maps");
    const auto frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    std::string line;
    while (std::getline(maps, line)) {
      if (line.find("[stack]") == std::string::npos) continue;
      std::uintptr_t low = 0;
      std::uintptr_t high = 0;
      char dash = 0;
      std::istringstream(line) >> std::hex >> low >> dash >> high;
      return low <= frame && frame < high ? 0 : 1;
    }
    return 2;
  });
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the child's frame is not on the [stack] mapping; 2: no [stack] mapping";
}

TEST(CloneProcess, TheChildHasAsMuchStackAsTheCaller) {
  // Four times the 1 MiB that a stack made for the child would commonly get.
  ChildProcess child = clone_process(0, [] {
    std::array<volatile char, std::size_t{4} << 20> deep{};
    deep.back() = 1;
    return deep.front() + deep.back();
  });
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(CloneProcess, CloneVmIsRefused) {
  const auto e = error_from([] { (void)clone_process(CLONE_VM, [] { return 0; }); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), EINVAL);
  EXPECT_EQ(e->context(), "clone(CLONE_VM|SIGCHLD)") << "refused by clone_process, not the kernel";
}

TEST(CloneProcess, BadFlagsThrowEinval) {
  // clone(2): CLONE_SIGHAND without CLONE_VM is EINVAL.
  const auto e = error_from([] { (void)clone_process(CLONE_SIGHAND, [] { return 0; }); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->errnum(), EINVAL);
  EXPECT_EQ(e->context(), "clone(CLONE_SIGHAND|SIGCHLD)") << "the error names the call with its flags";
  EXPECT_NE(e->hint(), "") << "and says what EINVAL means there";
}

TEST(DieWithParent, ArmsTheDeathSignalWhileTheParentLives) {
  auto pair = Channel::create_pair();
  EXPECT_TRUE(Passed(run_forked([&pair]() -> std::string {
    pair.first.close();  // the forked process's copy of "the parent's end"
    // The test process, which holds pair.first, plays the parent.
    if (!die_with_parent(pair.second)) return "the parent is there, yet die_with_parent said it is gone";
    int sig = 0;
    ::prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
    return sig == SIGKILL ? "" : "PR_SET_PDEATHSIG is not SIGKILL";
  })));
}

TEST(DieWithParent, SeesAParentThatDiedBeforeItWasArmed) {
  // A middle process forks a child, then dies before the child arms its death
  // signal: no signal will ever come, and die_with_parent must say so.
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    std::array<int, 2> report{};
    if (::pipe2(report.data(), O_CLOEXEC) == -1) return "pipe2";
    const pid_t middle = ::fork();
    if (middle == 0) {
      // The pair is made here, so that the middle process holds the only copy
      // of "the parent's end" once the child has closed its own.
      auto pair = Channel::create_pair();
      const pid_t self = ::getpid();
      const pid_t child = ::fork();
      if (child == 0) {
        pair.first.close();
        while (::getppid() == self) ::usleep(1000);  // until the middle process is gone
        const char verdict = die_with_parent(pair.second) ? 'L' : 'G';
        (void)::write(report[1], &verdict, 1);
        ::_exit(0);
      }
      ::_exit(0);  // dies at once, holding the parent's end until then
    }
    ::close(report[1]);
    ::waitpid(middle, nullptr, 0);
    char verdict = 0;
    if (::read(report[0], &verdict, 1) != 1) return "the child said nothing";
    return verdict == 'G' ? "" : "die_with_parent did not see that its parent was already gone";
  })));
}

// ---- capabilities ---------------------------------------------------------

TEST(HasEffectiveCapability, AgreesWithCapget) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  ASSERT_EQ(::syscall(SYS_capget, &header, data.data()), 0);
  for (int cap = 0; cap < 64; ++cap) {
    const bool effective = ((data.at(static_cast<std::size_t>(cap / 32)).effective >> (cap % 32)) & 1U) != 0;
    EXPECT_EQ(has_effective_capability(cap), effective) << "capability " << cap;
  }
}

TEST(HasEffectiveCapability, NoneAfterBecomingAnUnprivilegedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to drop to an unprivileged user";
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    if (::setresgid(65534, 65534, 65534) == -1 || ::setresuid(65534, 65534, 65534) == -1) {
      return "could not become nobody";
    }
    for (int cap = 0; cap < 64; ++cap) {
      if (has_effective_capability(cap)) return "capability " + std::to_string(cap) + " is still effective";
    }
    return "";
  })));
}

// ---- become_subreaper + kill_all_children -------------------------------

// In a forked process (PR_SET_CHILD_SUBREAPER is for the whole process):
//   this process ── direct (a child that waits)
//               └─ middle (exits at once) ── orphan (re-parented to us) ── grandorphan
// kill_all_children must end direct and orphan, then grandorphan, re-parented
// to us when orphan dies: three processes, and no child left.
std::string kill_all_children_ends_orphans_too() {
  become_subreaper();
  const pid_t direct = fork_waiting_child();
  std::array<int, 2> orphan_pipe{};
  std::array<int, 2> grand_pipe{};
  if (::pipe2(orphan_pipe.data(), O_CLOEXEC) == -1 || ::pipe2(grand_pipe.data(), O_CLOEXEC) == -1) return "pipe2 failed";
  const pid_t middle = ::fork();
  if (middle == 0) {
    const pid_t orphan = ::fork();
    if (orphan == 0) {
      const pid_t grandorphan = ::fork();
      if (grandorphan == 0) {
        ::alarm(5);  // no PDEATHSIG: its parent is meant to die before it
        for (;;) ::pause();
      }
      if (!send_pid(grand_pipe[1], grandorphan)) ::_exit(1);
      ::alarm(5);
      for (;;) ::pause();
    }
    ::_exit(send_pid(orphan_pipe[1], orphan) ? 0 : 1);
  }
  ::close(orphan_pipe[1]);
  ::close(grand_pipe[1]);
  const pid_t orphan = receive_pid(orphan_pipe[0]);
  const pid_t grandorphan = receive_pid(grand_pipe[0]);
  int status = 0;
  ::waitpid(middle, &status, 0);
  if (direct <= 0 || orphan <= 0 || grandorphan <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    kill_all_children();
    return "could not set up the process tree";
  }
  if (parent_of(orphan) != ::getpid()) {
    kill_all_children();
    return "the orphan was not re-parented to the subreaper";
  }

  const int killed = kill_all_children();
  if (killed != 3) return "kill_all_children killed " + std::to_string(killed) + ", expected 3";
  for (const pid_t pid : {direct, orphan, grandorphan}) {
    if (!is_gone(pid)) return "process " + std::to_string(pid) + " still exists";
  }
  if (::waitpid(-1, nullptr, WNOHANG) != -1 || errno != ECHILD) return "a child is left";
  if (const int again = kill_all_children(); again != 0) {
    return "with no child left, kill_all_children killed " + std::to_string(again);
  }
  return "";
}

TEST(KillAllChildren, WithBecomeSubreaperEndsChildrenAndOrphans) {
  EXPECT_TRUE(Passed(run_forked(kill_all_children_ends_orphans_too)));
}

TEST(KillAllChildren, ReapsChildrenThatAlreadyExited) {
  EXPECT_TRUE(Passed(run_forked([]() -> std::string {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);  // a zombie now
    const int killed = kill_all_children();
    if (!is_reaped(pid)) return "the zombie child was not reaped";
    if (killed != 0) return "a child that had already ended was counted as killed";
    return "";
  })));
}

TEST(ChildProcess, AfterEchildTheDestructorDoesNotKillThatPid) {
  // A PID that is not the waiting process's child: a sibling of it.
  const pid_t sibling = fork_waiting_child();
  ASSERT_NE(sibling, -1);
  EXPECT_TRUE(Passed(run_forked([sibling]() -> std::string {
    ChildProcess stranger(sibling);
    if (!error_from([&stranger] { (void)stranger.wait(); })) return "wait() did not fail with ECHILD";
    return "";  // the destructor runs here
  })));
  EXPECT_FALSE(is_gone(sibling)) << "the sibling was killed by an owner that never had it";
  kill_and_wait(sibling);
}


// ---- run_program, find_in_path (lab 06's newuidmap and newgidmap) ----------

TEST(RunProgram, ReturnsTheExitStatusAndWhatItSaidOnStderr) {
  const ProgramResult result = run_program({"sh", "-c", "echo out; echo 'it failed' >&2; exit 3"});
  ASSERT_TRUE(WIFEXITED(result.wait_status));
  EXPECT_EQ(WEXITSTATUS(result.wait_status), 3);
  EXPECT_EQ(result.error_output, "it failed") << "stdout goes to /dev/null, the trailing newline is cut";
}

TEST(RunProgram, TheHelperGetsNoFdButZeroToTwoAndNoBlockedSignal) {
  // Not close-on-exec: run_program must close it anyway. (A high number: ls's
  // own fd on /proc/self/fd is the lowest free one.)
  const int extra = ::dup2(STDERR_FILENO, 37);
  ASSERT_EQ(extra, 37);
  const std::string fd = std::to_string(extra);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &block, &old);
  const ProgramResult result =
      run_program({"sh", "-c", "ls /proc/self/fd >&2; grep SigBlk /proc/self/status >&2"});
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(extra);
  EXPECT_EQ(WEXITSTATUS(result.wait_status), 0);
  EXPECT_EQ(result.error_output.find("\n" + fd + "\n"), std::string::npos) << result.error_output;
  EXPECT_NE(result.error_output.find("SigBlk:\t0000000000000000"), std::string::npos) << result.error_output;
}

TEST(RunProgram, AMissingProgramIs127WithTheReason) {
  const ProgramResult result = run_program({"/nonexistent/nslab-helper"});
  ASSERT_TRUE(WIFEXITED(result.wait_status));
  EXPECT_EQ(WEXITSTATUS(result.wait_status), 127);
  EXPECT_NE(result.error_output.find("No such file or directory"), std::string::npos) << result.error_output;
}

TEST(FindInPath, FindsWhatExecvpWouldAndNothingElse) {
  EXPECT_FALSE(find_in_path("sh").empty());
  EXPECT_EQ(find_in_path("nslab-no-such-program"), "");
}

TEST(RunProgram, AHelperThatHangsIsKilledAtTheTimeLimit) {
  const auto start = std::chrono::steady_clock::now();
  const ProgramResult result = run_program({"sleep", "30"}, std::chrono::milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(WIFSIGNALED(result.wait_status));
  EXPECT_EQ(WTERMSIG(result.wait_status), SIGKILL);
  EXPECT_NE(result.error_output.find("not finished within 200 ms"), std::string::npos) << result.error_output;
}

TEST(RunProgram, WaitsForTheHelperNotForWhatItLeftHoldingStderr) {
  const auto start = std::chrono::steady_clock::now();
  const ProgramResult result = run_program({"sh", "-c", "echo said >&2; sleep 5 & exit 0"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3))
      << "the background sleep holds the pipe; the helper itself has exited";
  EXPECT_EQ(WEXITSTATUS(result.wait_status), 0);
  EXPECT_EQ(result.error_output, "said");
}

TEST(FindInPath, NeverLooksInTheWorkingDirectory) {
  const char* saved = std::getenv("PATH");
  const std::string old = saved != nullptr ? saved : "";
  ::setenv("PATH", ":/nonexistent", 1);
  // "sh" is not in /nonexistent; an empty entry would mean ".", which is never searched.
  const std::string empty_entry = find_in_path("sh");
  ::setenv("PATH", "", 1);
  const std::string empty_path = find_in_path("sh");
  ::setenv("PATH", old.c_str(), 1);
  EXPECT_EQ(empty_entry, "");
  EXPECT_FALSE(empty_path.empty()) << "an empty PATH is the default one";
  EXPECT_EQ(empty_path.rfind('/', 0), 0U) << empty_path;
}
}  // namespace
}  // namespace nslab
