// Lab 07, exercise "keep a namespace alive, then join it" — a solution.
//
//   07-setns-join-file FILE [COMMAND [ARG...]]    (COMMAND defaults to /bin/sh)
//
//   touch /tmp/kept && mount --bind /proc/4242/ns/uts /tmp/kept    holds 4242's UTS namespace
//   kill 4242                                                      its last process ends...
//   07-setns-join-file /tmp/kept hostname                          ...and it is still there
//   umount /tmp/kept                                               now it is gone
//
// A namespace lives as long as something holds it: a process in it, an open
// file descriptor of its /proc/PID/ns/KIND file, or a bind mount of that file
// (namespaces(7)). `ip netns add NAME` does the third: it bind-mounts a network
// namespace's file on /run/netns/NAME, and `ip netns exec NAME` opens that
// file and calls setns(2) with it. This program does the same for any kind.
//
// A bind mount can have any name, so the name does not say which kind it
// holds: ioctl(NS_GET_NSTYPE) asks the kernel (ioctl_ns(2), Linux 4.11), and
// setns(fd, 0) joins whatever kind fd is (nstype 0: no check). The kind
// matters for one thing only: a PID namespace takes the caller's children,
// never the caller (pid_namespaces(7)), so COMMAND must then be forked.
//
// Errors: one line, "07-setns-join-file: what failed: why", exit status 125.

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "command.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080  // Linux 5.6; older C libraries lack the name
#endif

namespace {

constexpr const char* kProgram = "07-setns-join-file";

struct Kind {
  int clone_flag;    // what ioctl(NS_GET_NSTYPE) returns
  const char* name;  // as in /proc/PID/ns
};

constexpr Kind kKinds[] = {
    {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWIPC, "ipc"},   {CLONE_NEWNS, "mnt"},    {CLONE_NEWNET, "net"},
    {CLONE_NEWPID, "pid"},       {CLONE_NEWTIME, "time"}, {CLONE_NEWUSER, "user"}, {CLONE_NEWUTS, "uts"},
};

std::string kind_name(int clone_flag) {
  for (const Kind& kind : kKinds) {
    if (kind.clone_flag == clone_flag) return kind.name;
  }
  return "unknown (" + std::to_string(clone_flag) + ")";
}

// What an errno from setns(2) means here.
std::string setns_hint(int error, int clone_flag) {
  if (error == EPERM) {
    return "joining a namespace needs CAP_SYS_ADMIN in the user namespace that owns it: run as root";
  }
  if (error == EINVAL && clone_flag == CLONE_NEWUSER) {
    return "a process cannot join the user namespace it is in, nor any while it has other threads";
  }
  if (error == EINVAL && clone_flag == CLONE_NEWPID) {
    return "a process may join only its own PID namespace or one below it";
  }
  return "";
}

int fail(const std::string& what, int error, const std::string& why = "") {
  (void)std::fprintf(stderr, "%s: %s: %s%s%s\n", kProgram, what.c_str(), std::strerror(error),
                     why.empty() ? "" : ": ", why.c_str());
  return exercise::kExitFailed;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) {
    (void)std::fprintf(stderr, "Usage: %s FILE [COMMAND [ARG...]]\n", kProgram);
    return exercise::kExitFailed;
  }
  const std::string file = std::string("\"") + argv[1] + "\"";

  // Read-only is enough: setns(2) needs a descriptor of the file, not its
  // contents. Close-on-exec: COMMAND must not inherit it (it would hold the
  // namespace for as long as COMMAND runs, and any child of it).
  const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd == -1) return fail("open " + file, errno);

  //! [join-file-setns]
  // ENOTTY: the kernel's answer to an ioctl the file does not know, here
  // that it is not a namespace file (a regular file, or a bind mount gone).
  const int clone_flag = ::ioctl(fd, NS_GET_NSTYPE);
  if (clone_flag == -1) {
    const int saved = errno;
    return fail("ioctl(" + file + ", NS_GET_NSTYPE)", saved,
                saved == ENOTTY ? "not a namespace file: give a /proc/PID/ns/KIND file, or a bind mount of one" : "");
  }
  // nstype 0: join whatever kind the file is. (A program that expects one
  // kind passes its CLONE_NEW* flag instead, and a mismatch is EINVAL.)
  if (::setns(fd, 0) == -1) {
    const int saved = errno;
    return fail("setns(" + file + " (" + kind_name(clone_flag) + "), 0)", saved, setns_hint(saved, clone_flag));
  }
  // From here this process holds the namespace; the file is no longer needed.
  (void)::close(fd);
  //! [join-file-setns]

  char** command = exercise::command_or_shell(argc, argv, 2);
  //! [join-file-fork]
  // setns(CLONE_NEWPID) changed /proc/self/ns/pid_for_children only: our own
  // PID stays where it was, and a child is the first of ours inside.
  if (clone_flag == CLONE_NEWPID) return exercise::fork_exec_and_wait(kProgram, command, true);
  // Any other kind applies to this very process: COMMAND replaces it there.
  exercise::exec_command(kProgram, command);
  //! [join-file-fork]
}
