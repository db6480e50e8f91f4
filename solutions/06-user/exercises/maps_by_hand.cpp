// Lab 06, exercise 1 "write the maps by hand" — a solution.
//
//   06-user-maps-by-hand
//
// A child unshares a new user namespace and waits; this process, its parent,
// still in the parent user namespace, writes the child's maps the way the
// exercise asks — first a gid_map with setgroups still "allow", then in the
// right order, then a second uid_map and a late setgroups — and prints what
// each write answered. The ids mapped are the caller's own (getuid, getgid):
//
//   child 4243, in a new user namespace, before the maps: uid 65534
//   uid_map before: empty
//   gid_map "0 65534 1", setgroups still allow: Operation not permitted
//   setgroups "deny": written
//   gid_map "0 65534 1": written
//   uid_map "0 65534 1": written
//   uid_map "0 65534 1", a second time: Operation not permitted
//   setgroups "allow", after gid_map: Operation not permitted
//   uid_map after: 0 65534 1
//   child, after the maps: uid 0
//
// (user_namespaces(7): an unprivileged writer may map only its own id, and
// its group only once setgroups(2) is denied; each map is written once; and
// setgroups can no longer change once gid_map is written.) Run as root, the
// first gid_map is written — root holds CAP_SETGID in the parent namespace —
// and the "deny" after it is refused instead.
//
// Exit status 0 once every write was tried, whatever the kernel answered.
// Errors (a wrong argument; fork, unshare, a pipe failing): one line,
// "06-user-maps-by-hand: what failed: why", exit status 125.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

constexpr const char* kProgram = "06-user-maps-by-hand";
constexpr int kExitFailed = 125;

int fail(const std::string& what, int error, const std::string& why = "") {
  (void)std::fprintf(stderr, "%s: %s%s%s%s%s\n", kProgram, what.c_str(), error != 0 ? ": " : "",
                     error != 0 ? std::strerror(error) : "", why.empty() ? "" : ": ", why.c_str());
  return kExitFailed;
}

// write_once PATH TEXT: TEXT in a single write(2), as the kernel requires of
// a map; "written", or the errno of the open or the write.
std::string write_once(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd == -1) return std::strerror(errno);
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int saved = errno;
  (void)::close(fd);
  if (written == -1) return std::strerror(saved);
  return static_cast<std::size_t>(written) == text.size() ? "written" : "written in part";
}

// The lines of a map file, each "IN OUT COUNT" with single blanks, joined by
// "; "; "empty" when it has none.
std::string read_map(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::string("unreadable: ") + std::strerror(errno);
  std::string line;
  std::string lines;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string in;
    std::string out;
    std::string count;
    if (!(fields >> in >> out >> count)) continue;
    if (!lines.empty()) lines += "; ";
    lines.append(in).append(" ").append(out).append(" ").append(count);
  }
  return lines.empty() ? "empty" : lines;
}

// The child: a new user namespace, then the parent is told, then it waits
// for the parent to close its end of the "go" pipe. Never returns.
[[noreturn]] void child_in_new_namespace(int ready, int go) {
  // The child must not outlive a parent that failed half-way.
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::unshare(CLONE_NEWUSER) == -1) {
    const int saved = errno;
    (void)fail("unshare(CLONE_NEWUSER)", saved,
               saved == ENOSPC || saved == EPERM ? "user namespaces are limited or restricted here (user.max_user_namespaces)"
                                                 : "");
    ::_exit(kExitFailed);
  }
  // Unmapped, the child's uid reads as the overflow uid (65534).
  (void)std::printf("child %d, in a new user namespace, before the maps: uid %u\n", static_cast<int>(::getpid()),
                    static_cast<unsigned>(::getuid()));
  (void)std::fflush(stdout);
  const char byte = 'r';
  if (::write(ready, &byte, 1) != 1) ::_exit(kExitFailed);
  char ignored = 0;
  while (::read(go, &ignored, 1) == -1 && errno == EINTR) {
  }
  (void)std::printf("child, after the maps: uid %u\n", static_cast<unsigned>(::getuid()));
  (void)std::fflush(stdout);
  ::_exit(0);
}

}  // namespace

int main(int argc, char* /*argv*/[]) {
  if (argc != 1) {
    (void)std::fprintf(stderr, "Usage: %s\n", kProgram);
    return kExitFailed;
  }
  int ready[2];
  int go[2];
  if (::pipe2(ready, O_CLOEXEC) == -1 || ::pipe2(go, O_CLOEXEC) == -1) return fail("pipe2", errno);
  (void)std::fflush(stdout);
  const pid_t child = ::fork();
  if (child == -1) return fail("fork", errno);
  if (child == 0) {
    (void)::close(ready[0]);
    (void)::close(go[1]);
    child_in_new_namespace(ready[1], go[0]);
  }
  (void)::close(ready[1]);
  (void)::close(go[0]);
  char byte = 0;
  ssize_t got = 0;
  while ((got = ::read(ready[0], &byte, 1)) == -1 && errno == EINTR) {
  }
  int status = 0;
  if (got != 1) {
    // The child failed before it was ready, and has said why.
    (void)::waitpid(child, &status, 0);
    return kExitFailed;
  }

  const std::string proc = "/proc/" + std::to_string(child) + "/";
  const std::string uid = std::to_string(::getuid());
  const std::string gid = std::to_string(::getgid());
  const std::string uid_line = "0 " + uid + " 1";
  const std::string gid_line = "0 " + gid + " 1";
  //! [maps-by-hand]
  (void)std::printf("uid_map before: %s\n", read_map(proc + "uid_map").c_str());
  (void)std::printf("gid_map \"%s\", setgroups still allow: %s\n", gid_line.c_str(),
                    write_once(proc + "gid_map", gid_line + "\n").c_str());
  (void)std::printf("setgroups \"deny\": %s\n", write_once(proc + "setgroups", "deny\n").c_str());
  (void)std::printf("gid_map \"%s\": %s\n", gid_line.c_str(), write_once(proc + "gid_map", gid_line + "\n").c_str());
  (void)std::printf("uid_map \"%s\": %s\n", uid_line.c_str(), write_once(proc + "uid_map", uid_line + "\n").c_str());
  (void)std::printf("uid_map \"%s\", a second time: %s\n", uid_line.c_str(),
                    write_once(proc + "uid_map", uid_line + "\n").c_str());
  (void)std::printf("setgroups \"allow\", after gid_map: %s\n", write_once(proc + "setgroups", "allow\n").c_str());
  (void)std::printf("uid_map after: %s\n", read_map(proc + "uid_map").c_str());
  //! [maps-by-hand]
  (void)std::fflush(stdout);

  (void)::close(go[1]);  // the child goes on, and says who it is now
  while (::waitpid(child, &status, 0) == -1) {
    if (errno != EINTR) return fail("waitpid", errno);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : kExitFailed;
}
