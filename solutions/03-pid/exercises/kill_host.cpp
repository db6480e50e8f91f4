// Lab 03, exercise 7 "kill a process of the host" — a solution.
//
//   03-pid-kill-host PID     exit 0 if SIGKILL reached process PID (the escape
//                            worked), 1 if not; 125 on bad arguments
//
// The escape: a container's root, knowing the host's number of a process
// (from a log, a PID file, a guess), sends it SIGKILL. Without a PID namespace
// the number names that process, and root may signal any process: it dies.
// Inside a PID namespace, kill(2) looks PID up in the caller's own namespace,
// which holds the container's processes only; the host's number names nothing
// there (or, by chance, one of the container's own): ESRCH, "No such process".
// The host's process cannot even be named from inside, so no permission check
// is ever reached (pid_namespaces(7)).

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char* argv[]) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "Usage: 03-pid-kill-host PID\n");
    return 125;
  }
  char* end = nullptr;
  errno = 0;
  const long pid = std::strtol(argv[1], &end, 10);
  // Only a positive number: 0 and -1 would signal a whole process group, or
  // every process this one may signal.
  if (errno != 0 || end == argv[1] || *end != '\0' || pid <= 0 || pid > 4194304) {
    (void)std::fprintf(stderr, "03-pid-kill-host: PID \"%s\": not a process ID (a number from 1 to 4194304)\n",
                       argv[1]);
    return 125;
  }
  //! [kill-host]
  if (::kill(static_cast<pid_t>(pid), SIGKILL) == 0) {
    std::printf("escaped: SIGKILL sent to PID %ld\n", pid);
    return 0;
  }
  //! [kill-host]
  std::printf("stayed inside: kill(%ld, SIGKILL): %s\n", pid, std::strerror(errno));
  return 1;
}
