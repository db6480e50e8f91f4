// Lab 03, exercise 5 "a PID namespace applies to children" — a solution.
//
//   03-pid-unshare COMMAND [ARG...]
//
// calls unshare(CLONE_NEWPID), then forks; the child execs COMMAND, and this
// process waits for it and exits with its status (128+N when signal N killed
// it). Two lines on stdout say where each process is, with its getpid() and
// its two PID namespace links as readlink(1) shows them:
//
//   caller: getpid() = 4242, ns/pid=pid:[4026531836], ns/pid_for_children=(none yet)
//   child: getpid() = 1, ns/pid=pid:[4026532713], ns/pid_for_children=pid:[4026532713]
//
// unshare(2) with CLONE_NEWPID does not move the caller: a process's PID is
// given once, when it is created (pid_namespaces(7)), so the caller keeps its
// number and its namespace; only pid_for_children, where its next child is
// born, changes (and names nothing until that child exists). That child is
// the first process of the new namespace: PID 1 there, its init. This is why
// unshare(1) needs --fork with --pid, and why a runtime that uses clone(2)
// gets it in one call.
//
// Errors: one line on stderr, "03-pid-unshare: what failed: why", exit status
// 125; 127 or 126 when COMMAND cannot be run, as the labs do.

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char* kProgram = "03-pid-unshare";
constexpr int kExitFailed = 125;

int fail(const char* what) {
  const int saved = errno;
  (void)std::fprintf(stderr, "%s: %s: %s\n", kProgram, what, std::strerror(saved));
  return kExitFailed;
}

// The target of /proc/self/ns/ENTRY: "pid:[4026531836]"; "(none yet)" for a
// pid_for_children whose namespace has no process yet: the link gains its
// value with the namespace's first process (namespaces(7); readlink(2) gives
// an empty buffer, or, on recent kernels, ENOENT); "?" if unreadable.
std::string own_namespace(const char* entry) {
  const std::string path = std::string("/proc/self/ns/") + entry;
  char link[64] = {};
  const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
  if (length == 0 || (length == -1 && errno == ENOENT)) return "(none yet)";
  return length > 0 ? std::string(link, static_cast<std::size_t>(length)) : "?";
}

void report(const char* who) {
  (void)std::printf("%s: getpid() = %d, ns/pid=%s, ns/pid_for_children=%s\n", who, static_cast<int>(::getpid()),
                    own_namespace("pid").c_str(), own_namespace("pid_for_children").c_str());
  // Before a fork, or an exec: what is still in stdio's buffer would be
  // written twice, or never.
  (void)std::fflush(stdout);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) {
    (void)std::fprintf(stderr, "Usage: 03-pid-unshare COMMAND [ARG...]\n");
    return kExitFailed;
  }
  //! [pid-unshare]
  if (::unshare(CLONE_NEWPID) == -1) return fail("unshare(CLONE_NEWPID)");
  report("caller");  // the same PID and PID namespace as before
  const pid_t child = ::fork();  // the first process born in the new namespace
  if (child == -1) return fail("fork");
  if (child == 0) {
    report("child");  // PID 1: the new namespace's init
    ::execvp(argv[1], argv + 1);
    const int saved = errno;
    (void)std::fprintf(stderr, "%s: exec \"%s\": %s\n", kProgram, argv[1], std::strerror(saved));
    ::_exit(saved == ENOENT || saved == ENOTDIR ? 127 : 126);
  }
  //! [pid-unshare]
  int status = 0;
  while (::waitpid(child, &status, 0) == -1) {
    if (errno != EINTR) return fail("waitpid");
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
