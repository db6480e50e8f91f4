// Lab 07, exercise "getpid() after setns into a PID namespace" — a solution.
//
//   07-setns-getpid PID
//
// joins the PID namespace of process PID, and prints three lines: this
// process's getpid() before and after setns(2), and a forked child's. Each
// line goes on with this process's (the child's) two PID namespace links,
// /proc/self/ns/pid and /proc/self/ns/pid_for_children, as readlink(1)
// shows them, and the child's line with its NSpid (proc(5)): its PID in each
// PID namespace from ours down to its own, separated by commas.
//
//   before: 4242 ns/pid=pid:[4026531836] ns/pid_for_children=pid:[4026531836]
//   after setns: 4242 ns/pid=pid:[4026531836] ns/pid_for_children=pid:[4026532713]
//   child: 2 ns/pid=pid:[4026532713] ns/pid_for_children=pid:[4026532713] NSpid=4243,2
//
// A process's PID is given once, when it is created, in its PID namespace and
// in every one above it; it never changes (pid_namespaces(7)). So setns(2)
// with a PID namespace cannot move the caller: getpid() is the same after,
// and /proc/self/ns/pid too. What it changes is pid_for_children, the
// namespace the caller's next child is created in: that child gets a number
// of the container's, small, and another as the host sees it.
// (The child's getppid() is 0: its parent is in no namespace it can see.)
//
// Errors: one line, "07-setns-getpid: what failed: why", exit status 125.

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

constexpr const char* kProgram = "07-setns-getpid";
constexpr int kExitFailed = 125;

int fail(const std::string& what, int error, const std::string& why = "") {
  (void)std::fprintf(stderr, "%s: %s%s%s%s%s\n", kProgram, what.c_str(), error != 0 ? ": " : "",
                     error != 0 ? std::strerror(error) : "", why.empty() ? "" : ": ", why.c_str());
  return kExitFailed;
}

// The target of /proc/self/ns/ENTRY: "pid:[4026531836]", or "?" if unreadable.
std::string own_namespace(const char* entry) {
  const std::string path = std::string("/proc/self/ns/") + entry;
  char link[64] = {};
  const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
  return length > 0 ? std::string(link, static_cast<std::size_t>(length)) : "?";
}

// The NSpid line of /proc/self/status ("NSpid:\t4243\t2"), as "4243,2".
std::string own_nspid() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::string pid;
    std::string pids;
    while (fields >> pid) pids += (pids.empty() ? "" : ",") + pid;
    return pids;
  }
  return "?";
}

void report(const char* label, const std::string& more = "") {
  (void)std::printf("%s: %d ns/pid=%s ns/pid_for_children=%s%s\n", label, static_cast<int>(::getpid()),
                    own_namespace("pid").c_str(), own_namespace("pid_for_children").c_str(), more.c_str());
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2 || argv[1][0] == '\0' || std::strspn(argv[1], "0123456789") != std::strlen(argv[1])) {
    (void)std::fprintf(stderr, "Usage: %s PID\n", kProgram);
    return kExitFailed;
  }
  const std::string path = std::string("/proc/") + argv[1] + "/ns/pid";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    const int saved = errno;
    return fail("open " + path, saved, saved == ENOENT ? "there is no process " + std::string(argv[1]) : "");
  }

  //! [getpid-setns]
  report("before");
  if (::setns(fd, CLONE_NEWPID) == -1) {
    const int saved = errno;
    return fail("setns(" + path + ", CLONE_NEWPID)", saved,
                saved == EINVAL ? "a process may join only its own PID namespace or one below it"
                : saved == EPERM ? "joining needs CAP_SYS_ADMIN over the namespace: run as root"
                                 : "");
  }
  (void)::close(fd);
  report("after setns");  // the same PID, the same ns/pid: only pid_for_children moved
  //! [getpid-setns]

  // The child would inherit unwritten output and print it a second time.
  (void)std::fflush(stdout);
  //! [getpid-fork]
  const pid_t child = ::fork();
  if (child == -1) {
    const int saved = errno;
    return fail("fork", saved, saved == ENOMEM ? "the PID namespace's init has exited: it takes no new process" : "");
  }
  if (child == 0) {
    report("child", " NSpid=" + own_nspid());  // the first process of ours in the container's PID namespace
    (void)std::fflush(stdout);
    ::_exit(0);
  }
  //! [getpid-fork]
  int status = 0;
  while (::waitpid(child, &status, 0) == -1) {
    if (errno != EINTR) return fail("waitpid", errno);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : kExitFailed;
}
