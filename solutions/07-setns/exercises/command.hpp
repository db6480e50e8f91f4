// Lab 07's exercises: what they do once the namespaces are joined — run
// COMMAND, and report its exit status as 07-setns does (docker's conventions:
// 126 found but not executable, 127 not found, 128+N killed by signal N).
// Not the lesson; shared by 07-setns-join-file and 07-setns-pidfd.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace exercise {

inline constexpr int kExitFailed = 125;  // the program itself failed, not COMMAND

// COMMAND: argv[first] and what follows it, or /bin/sh when there is none.
inline char** command_or_shell(int argc, char* argv[], int first) {
  static char shell[] = "/bin/sh";
  static char* default_command[] = {shell, nullptr};
  return argc > first ? argv + first : default_command;
}

// execvp(3) COMMAND in this process; on failure, one line and 126 or 127.
[[noreturn]] inline void exec_command(const char* program, char* const command[]) {
  ::execvp(command[0], command);
  const int saved = errno;
  (void)std::fprintf(stderr, "%s: exec \"%s\": %s\n", program, command[0], std::strerror(saved));
  ::_exit(saved == ENOENT || saved == ENOTDIR ? 127 : 126);
}

// COMMAND in a child, in the PID namespace joined if @p joined_pid_namespace;
// returns its exit status, or 128+N when signal N killed it.
//
// While it waits, this process ignores SIGINT and SIGQUIT, as system(3) does:
// the terminal sends Ctrl-C to both (they are one process group), and an
// interactive shell, which ignores it, must not lose its parent to it. Other
// signals are not forwarded; a fuller tool does that (07-setns --enter
// forwards SIGTERM and the others, and its child dies with it).
inline int fork_exec_and_wait(const char* program, char* const command[], bool joined_pid_namespace) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int {};
  struct sigaction old_quit {};
  (void)::sigaction(SIGINT, &ignore, &old_int);
  (void)::sigaction(SIGQUIT, &ignore, &old_quit);
  const pid_t child = ::fork();
  if (child == -1) {
    const int saved = errno;
    // pid_namespaces(7): once a PID namespace's init has exited, the kernel
    // refuses every new process in it, and fork(2) says ENOMEM.
    const char* why = saved == ENOMEM && joined_pid_namespace
                          ? ": the PID namespace joined has lost its init, and takes no new process"
                          : "";
    (void)std::fprintf(stderr, "%s: fork: %s%s\n", program, std::strerror(saved), why);
    return kExitFailed;
  }
  if (child == 0) {
    // An ignored signal stays ignored across execve(2): COMMAND gets them back.
    (void)::sigaction(SIGINT, &old_int, nullptr);
    (void)::sigaction(SIGQUIT, &old_quit, nullptr);
    exec_command(program, command);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) == -1) {
    if (errno != EINTR) {
      (void)std::fprintf(stderr, "%s: waitpid(%d): %s\n", program, static_cast<int>(child), std::strerror(errno));
      return kExitFailed;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace exercise
