/// @file process.hpp
/// @brief Owning a child process, creating one with clone(2), and privilege checks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace nslab {

/// @brief Owns a child process: kills it with SIGKILL and reaps it unless it was
/// waited for or released, so no error path leaves a process behind.
class ChildProcess {
 public:
  ChildProcess() noexcept = default;
  /// @brief Takes ownership of the child @p pid.
  explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// @brief Takes over @p other's child; @p other owns none afterwards.
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.release()) {}
  /// @brief Kills and reaps the owned child, then takes over @p other's.
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess() { kill_and_reap(); }

  /// @brief The child's PID as this process sees it (-1 if none).
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// @brief Gives up ownership: the caller now reaps the child.
  [[nodiscard]] pid_t release() noexcept { return std::exchange(pid_, -1); }
  /// @brief Waits for the child to end and returns its wait status.
  /// @throws Error on a waitpid(2) failure other than EINTR (ECHILD).
  int wait();
  /// @brief Sends SIGKILL and reaps; does nothing when no child is owned.
  void kill_and_reap() noexcept;

 private:
  pid_t pid_ = -1;
};

/// @brief Runs @p body in a new process created by clone(2) with @p flags
/// (namespace flags; SIGCHLD is added so the parent can waitpid it).
///
/// The raw system call, given no stack: as after fork(2), the child goes on
/// from the call on a copy of the parent's memory, stack included (clone(2),
/// "C library/kernel differences"), so it has as much stack as the caller.
/// @p body's return value is the child's exit status; it must not let an
/// exception escape (one that does ends the child with std::terminate).
/// @throws Error whose context names the call with its flags,
///         `clone(CLONE_NEWUTS|SIGCHLD)`, with a hint from explain_clone_errno()
///         (EPERM without privilege, EINVAL for bad flag combinations, ENOSPC
///         when a namespace limit is reached, ENOMEM); EINVAL for CLONE_VM,
///         with which the child would share the stack it runs on.
ChildProcess clone_process(int flags, const std::function<int()>& body);

class Channel;

/// @brief Child side: asks for SIGKILL when the parent dies (PR_SET_PDEATHSIG),
/// then checks that the parent, at the other end of @p to_parent, is still there.
///
/// The check after arming closes a race (PITFALLS 13): a parent that died
/// before prctl(2) sends no death signal. It has closed its end of the channel
/// by then (a dying process closes its fds before the kernel looks at its
/// children), so Channel::peer_gone() sees it. The caller must have closed its
/// own copy of the parent's end first. Changing credentials (setresuid(2),
/// setresgid(2)) clears the death signal (prctl(2)): call this again afterwards.
/// @return false when the parent is already gone: the caller should exit.
/// @throws Error from prctl(2).
[[nodiscard]] bool die_with_parent(const Channel& to_parent);

/// @brief Renames this process as `ps` shows it: its command line
/// (/proc/PID/cmdline, overwritten in place, within the space the original took)
/// and its name (/proc/PID/comm, PR_SET_NAME). A fork of the runtime that stays
/// in a container — lab 03's init — uses it so that the container does not see
/// the runtime's arguments, such as a host path given to --rootfs.
void set_process_title(const std::string& title) noexcept;

/// @brief Blanks this process's original environment block, the memory
/// /proc/PID/environ shows (proc(5): env_start to env_end of /proc/PID/stat).
///
/// For lab 03's init with a root filesystem: COMMAND starts with a clean
/// environment, but the init, a fork of the runtime, still holds the caller's
/// block, readable by the container as /proc/1/environ (PITFALLS 19). `environ`
/// must not be used afterwards: its strings are now empty.
void erase_environment_block() noexcept;

/// @brief What a helper program run by run_program() did.
struct ProgramResult {
  int wait_status = 0;       ///< as waitpid(2) reports it
  std::string error_output;  ///< what it wrote on stderr (at most 4 KiB), for the error line
};

/// @brief Runs a helper program, @p argv (searched in PATH), to its end — lab
/// 06's newuidmap(1) and newgidmap(1). It starts with fds 0 and 1 on /dev/null,
/// its stderr captured, no other fd, every signal at its default action and
/// none blocked, whatever the runtime holds. It is waited for until it exits
/// (what it left in the background may hold its stderr longer: not waited
/// for), and killed after @p time_limit, which error_output then says.
/// @throws Error from pipe2(2), fork(2) or waitpid(2); a program that cannot be
///         run shows as exit status 127, with the reason in error_output.
ProgramResult run_program(const std::vector<std::string>& argv,
                          std::chrono::milliseconds time_limit = std::chrono::seconds(10));

/// @brief Finds @p name in PATH, as execvp(3) would, but never in the working
/// directory (an empty entry); an unset or empty PATH is /usr/local/bin:/usr/bin:/bin.
/// @return the path, or "" when it is not there.
std::string find_in_path(const std::string& name);

/// @brief Makes sure this process runs from a sealed copy of its program in
/// memory, not from the file on the host: if it does not yet, it copies
/// /proc/self/exe into a memfd, seals it against every write, and re-executes
/// itself from it with the same arguments and environment (runc's answer to
/// CVE-2019-5736). Lab 07 calls it before joining a container: a process of the
/// container could otherwise reach the host's program through /proc/PID/exe of
/// one that runs it there (a COMMAND that is a `#!/proc/self/exe` script) and
/// rewrite it once it is no longer busy. @p name is the process's name for `ps`.
/// Returns only when already running from the copy; otherwise it does not return.
/// @throws Error when the copy cannot be made or executed.
void run_from_sealed_copy(const std::string& name);

/// @brief True when this process has capability @p cap in its effective set
/// (capget(2): the set /proc/self/status shows as CapEff).
bool has_effective_capability(int cap);

/// @brief Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER): orphans
/// of its descendants are re-parented to it instead of to the host's init.
/// @throws Error from prctl(2).
void become_subreaper();

/// @brief Kills (SIGKILL) and reaps every child of this process, again and again,
/// until it has none. With become_subreaper(), this ends a container's background
/// processes that outlived COMMAND when there is no PID namespace to do it.
/// @return how many processes it killed.
int kill_all_children() noexcept;

}  // namespace nslab
