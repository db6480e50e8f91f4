// Lab 07, exercise "join with a pidfd, in one call" — a solution.
//
//   07-setns-pidfd PID [COMMAND [ARG...]]    (COMMAND defaults to /bin/sh)
//
//   07-setns --hostname box --pid-file /tmp/c -- sleep 100 &
//   07-setns-pidfd "$(cat /tmp/c)" hostname                      prints box
//
// Since Linux 5.8, setns(2) also takes a pidfd (pidfd_open(2), Linux 5.3), a
// file descriptor that names one process. nstype is then a set of CLONE_NEW*
// flags, and the caller joins that process's namespaces of those kinds, all
// in one call: the kernel prepares the whole set, checks each namespace with
// the credentials the caller will have once in the target's user namespace,
// and changes nothing unless every check passes.
//
// That removes the two problems 07-setns --enter solves by hand (setns.cpp):
//   * the order around the user namespace — root must join it last, the
//     owner of a rootless container first — is the kernel's business now;
//   * no /proc/PID/ns file is opened to join, so none can be looked up once
//     the mount namespace has changed, or belong to another process that was
//     given the same PID.
// /proc/PID/ns is still read, once, to choose the flags: joining the user
// namespace we are already in is EINVAL, so only the kinds that differ are
// asked for.
//
// Errors: one line, "07-setns-pidfd: what failed: why", exit status 125.

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

constexpr const char* kProgram = "07-setns-pidfd";

struct Kind {
  const char* name;  // as in /proc/PID/ns
  int clone_flag;
  const char* flag_name;
};

constexpr Kind kKinds[] = {
    {"user", CLONE_NEWUSER, "CLONE_NEWUSER"}, {"cgroup", CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    {"ipc", CLONE_NEWIPC, "CLONE_NEWIPC"},    {"uts", CLONE_NEWUTS, "CLONE_NEWUTS"},
    {"net", CLONE_NEWNET, "CLONE_NEWNET"},    {"pid", CLONE_NEWPID, "CLONE_NEWPID"},
    {"time", CLONE_NEWTIME, "CLONE_NEWTIME"}, {"mnt", CLONE_NEWNS, "CLONE_NEWNS"},
};

int fail(const std::string& what, int error, const std::string& why = "") {
  (void)std::fprintf(stderr, "%s: %s%s%s%s%s\n", kProgram, what.c_str(), error != 0 ? ": " : "",
                     error != 0 ? std::strerror(error) : "", why.empty() ? "" : ": ", why.c_str());
  return exercise::kExitFailed;
}

// "CLONE_NEWUSER|CLONE_NEWUTS": the flags by name, for errors.
std::string flag_names(int flags) {
  std::string names;
  for (const Kind& kind : kKinds) {
    if ((flags & kind.clone_flag) != 0) names += (names.empty() ? "" : "|") + std::string(kind.flag_name);
  }
  return names;
}

// PID as a number, or 0 when it is not one.
pid_t parse_pid(const char* text) {
  long value = 0;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9' || value > 4194304) return 0;  // PID_MAX_LIMIT: no PID is larger
    value = value * 10 + (*c - '0');
  }
  return value <= 4194304 ? static_cast<pid_t>(value) : 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) {
    (void)std::fprintf(stderr, "Usage: %s PID [COMMAND [ARG...]]\n", kProgram);
    return exercise::kExitFailed;
  }
  const pid_t pid = parse_pid(argv[1]);
  if (pid == 0) return fail(std::string("\"") + argv[1] + "\": expected a process ID", 0);
  const std::string target = std::to_string(pid);

  //! [pidfd-open]
  // The pidfd first: from now on it names this process, and no other that
  // the kernel may give the same PID once it has exited. (No C library
  // wrapper before glibc 2.36: the system call itself.)
  const long pidfd = ::syscall(SYS_pidfd_open, pid, 0U);
  if (pidfd == -1) {
    const int saved = errno;
    return fail("pidfd_open(" + target + ")", saved, saved == ENOSYS ? "pidfd_open(2) needs Linux 5.3" : "");
  }
  //! [pidfd-open]

  //! [pidfd-flags]
  // Every kind whose /proc/PID/ns/KIND is not ours: same device and inode,
  // same namespace (what `ls -l /proc/PID/ns` shows as uts:[4026531838]).
  int flags = 0;
  for (const Kind& kind : kKinds) {
    const std::string ours_path = std::string("/proc/self/ns/") + kind.name;
    const std::string theirs_path = "/proc/" + target + "/ns/" + kind.name;
    struct stat ours {};
    struct stat theirs {};
    if (::stat(ours_path.c_str(), &ours) == -1) {
      if (errno == ENOENT) continue;  // a kind this kernel does not have
      return fail("stat " + ours_path, errno);
    }
    if (::stat(theirs_path.c_str(), &theirs) == -1) {
      const int saved = errno;
      return fail("stat " + theirs_path, saved,
                  saved == EACCES ? "only root, or the user the process runs as, may look into its namespaces" : "");
    }
    if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) flags |= kind.clone_flag;
  }
  if (flags == 0) return fail("process " + target + " is in every namespace this process is in: nothing to join", 0);
  //! [pidfd-flags]

  //! [pidfd-setns]
  // One call, every namespace at once. Had the process exited since
  // pidfd_open, this fails with ESRCH: whatever we read in /proc/PID above
  // was then perhaps another process's, but nothing has been joined.
  if (::setns(static_cast<int>(pidfd), flags) == -1) {
    const int saved = errno;
    const char* why = saved == ESRCH    ? "the process has exited"
                      : saved == EPERM  ? "joining needs CAP_SYS_ADMIN over each namespace: run as root, or as the "
                                          "owner of the container's user namespace"
                      : saved == EINVAL ? "setns(2) takes a pidfd since Linux 5.8; and no process may join a user "
                                          "namespace while it has other threads"
                                        : "";
    return fail("setns(pidfd of " + target + ", " + flag_names(flags) + ")", saved, why);
  }
  (void)::close(static_cast<int>(pidfd));
  //! [pidfd-setns]

  //! [pidfd-root]
  // In a user namespace that does not map our uid, we are "nobody" there:
  // become its root, as the container's own first process is, and as
  // nsenter(1) does. EPERM from setgroups(2): the container denied it (lab 06).
  if ((flags & CLONE_NEWUSER) != 0) {
    if (::setgroups(0, nullptr) == -1 && errno != EPERM) return fail("setgroups(0, NULL)", errno);
    if (::setresgid(0, 0, 0) == -1) return fail("setresgid(0, 0, 0)", errno, "gid 0 is not mapped in its user namespace");
    if (::setresuid(0, 0, 0) == -1) return fail("setresuid(0, 0, 0)", errno, "uid 0 is not mapped in its user namespace");
  }
  //! [pidfd-root]

  // A PID namespace takes our children only (pid_namespaces(7)): COMMAND is
  // forked, and its exit status is ours. The mount namespace's setns set our
  // root and working directory to that namespace's root, where 07-setns's
  // pivot_root(2) put the container's root filesystem.
  return exercise::fork_exec_and_wait(kProgram, exercise::command_or_shell(argc, argv, 2),
                                      (flags & CLONE_NEWPID) != 0);
}
