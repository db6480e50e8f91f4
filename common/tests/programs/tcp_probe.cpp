// tcp-probe: one line each way over TCP, for the Bats tests of lab 05 — a
// server on one side of a veth, a client on the other.
//
//   tcp-probe serve ADDR PORT [MESSAGE]     listen on ADDR:PORT (IPv4), print
//       "listening" once it does, accept one connection, send MESSAGE (default:
//       this machine's hostname) and a newline, print the line the client sends
//   tcp-probe connect ADDR PORT [MESSAGE]   connect to ADDR:PORT, send MESSAGE
//       (default: the hostname) and a newline, print the line that comes back
//
// Exit status 0 when the line came; 1 after a failed call or after 10 s
// without an answer (alarm(2)), with one line on stderr; 2 for bad arguments.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr unsigned kTimeLimitSeconds = 10;
constexpr std::size_t kMaxLine = 4096;

// What went wrong, in one line, and exit 1.
[[noreturn]] void fail(const std::string& what, int errnum) {
  const std::string line = "tcp-probe: " + what + (errnum != 0 ? std::string(": ") + std::strerror(errnum) : "") + "\n";
  (void)::write(STDERR_FILENO, line.data(), line.size());
  std::_Exit(1);
}

[[noreturn]] void usage(const char* why) {
  (void)std::fprintf(stderr,
                     "tcp-probe: %s\n"
                     "usage: tcp-probe serve ADDR PORT [MESSAGE] | tcp-probe connect ADDR PORT [MESSAGE]\n",
                     why);
  std::_Exit(2);
}

// The time limit: whatever call is blocked, the probe gives up.
extern "C" void on_alarm(int /*sig*/) {
  static constexpr std::string_view kLine = "tcp-probe: no answer within 10 s: giving up\n";
  (void)::write(STDERR_FILENO, kLine.data(), kLine.size());
  ::_exit(1);
}

sockaddr_in parse_address(const char* addr, const char* port_text) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (::inet_pton(AF_INET, addr, &sa.sin_addr) != 1) usage("ADDR must be an IPv4 address");
  char* end = nullptr;
  errno = 0;
  const long port = std::strtol(port_text, &end, 10);
  if (errno != 0 || end == port_text || *end != '\0' || port < 1 || port > 65535) usage("PORT must be 1-65535");
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  return sa;
}

std::string default_message() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == -1) fail("gethostname", errno);
  return name;
}

void send_line(int fd, const std::string& message) {
  const std::string line = message + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) fail("send", errno);
    sent += static_cast<std::size_t>(n);
  }
}

// Reads up to a newline (not included); fails on end-of-file before one.
std::string receive_line(int fd) {
  std::string line;
  for (;;) {
    char c = 0;
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) fail("recv", errno);
    if (n == 0) fail("the other side closed the connection before a whole line", 0);
    if (c == '\n') return line;
    line.push_back(c);
    if (line.size() > kMaxLine) fail("a line longer than 4096 bytes", 0);
  }
}

void print_line(const std::string& line) {
  if (std::printf("%s\n", line.c_str()) < 0 || std::fflush(stdout) != 0) fail("writing to stdout", errno);
}

int serve(const sockaddr_in& sa, const std::string& where, const std::string& message) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener == -1) fail("socket", errno);
  const int yes = 1;
  (void)::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == -1) fail("bind " + where, errno);
  if (::listen(listener, 1) == -1) fail("listen " + where, errno);
  print_line("listening");
  int conn = -1;
  do {
    conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  } while (conn == -1 && errno == EINTR);
  if (conn == -1) fail("accept " + where, errno);
  send_line(conn, message);
  print_line(receive_line(conn));
  (void)::close(conn);
  (void)::close(listener);
  return 0;
}

int connect_to(const sockaddr_in& sa, const std::string& where, const std::string& message) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) fail("socket", errno);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == -1) fail("connect " + where, errno);
  send_line(fd, message);
  print_line(receive_line(fd));
  (void)::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 4 || argc > 5) usage("expected 3 or 4 arguments");
  const std::string_view mode = argv[1];
  if (mode != "serve" && mode != "connect") usage("the first argument is serve or connect");
  const sockaddr_in sa = parse_address(argv[2], argv[3]);
  const std::string where = std::string(argv[2]) + ":" + argv[3];
  const std::string message = argc == 5 ? std::string(argv[4]) : default_message();
  if (message.find('\n') != std::string::npos) usage("MESSAGE must be one line");

  struct sigaction action{};
  action.sa_handler = on_alarm;
  (void)::sigemptyset(&action.sa_mask);
  (void)::sigaction(SIGALRM, &action, nullptr);
  (void)::alarm(kTimeLimitSeconds);

  return mode == "serve" ? serve(sa, where, message) : connect_to(sa, where, message);
}
