// nsinfo: the namespaces of one or more processes, side by side.
//
// What `ls -l /proc/PID/ns` shows, as a table: one row per namespace kind, one
// column per process, and a '*' on the rows where the processes differ — that is,
// where one of them is isolated from the other.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "nslab/error.hpp"
#include "nslab/namespaces.hpp"

namespace {

void usage(std::ostream& out) {
  out << "Usage: nsinfo [PID...]\n\n"
         "Shows the namespaces of each PID (default: this process) as /proc/PID/ns\n"
         "names them, and marks with '*' the kinds in which the processes differ.\n\n"
         "Example: nsinfo 1 $$   # compare the host's init with your shell\n";
}

bool parse_pid(const std::string& word, pid_t& pid) {
  if (word == "self") {
    pid = ::getpid();
    return true;
  }
  if (word.empty() || word.find_first_not_of("0123456789") != std::string::npos || word.size() > 9) return false;
  pid = static_cast<pid_t>(std::stol(word));
  return pid > 0;
}

// What an errno from /proc/PID/ns means here, for the one line nsinfo prints.
std::string hint_for(int errnum) {
  switch (errnum) {
    // Reading another process's ns links needs ptrace access to it (proc(5)):
    // the same user, or root.
    case EACCES:
    case EPERM: return " (another user's process: run nsinfo as root to read it)";
    case ENOENT:
    case ESRCH: return " (no such process)";
    default: return "";
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  std::vector<pid_t> pids;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "-h" || word == "--help") {
      usage(std::cout);
      return 0;
    }
    pid_t pid = 0;
    if (!parse_pid(word, pid)) {
      std::cerr << "nsinfo: not a process ID: \"" << word << "\" (see --help)\n";
      return 2;
    }
    pids.push_back(pid);
  }
  if (pids.empty()) pids.push_back(::getpid());

  int status = 0;
  try {
    // Every process has the same kinds; take them from this process.
    const std::vector<std::string> kinds = nslab::list_namespace_entries(0);
    std::vector<std::vector<std::string>> cells(kinds.size());
    for (const pid_t pid : pids) {
      // One line per process that cannot be read, not one per kind: the cause
      // (no such process, no access to it) is the process's, not the kind's.
      std::string first_error;
      for (std::size_t row = 0; row < kinds.size(); ++row) {
        try {
          cells[row].push_back(std::to_string(nslab::read_namespace_id(pid, kinds[row]).inode));
        } catch (const nslab::Error& e) {
          if (first_error.empty()) first_error = e.what() + hint_for(e.errnum());
          cells[row].emplace_back("?");
        }
      }
      if (!first_error.empty()) {
        std::cerr << "nsinfo: PID " << pid << ": " << first_error << "\n";
        status = 1;
      }
    }
    std::printf("%-18s", "NAMESPACE");
    for (const pid_t pid : pids) std::printf(" %-13s", ("PID " + std::to_string(pid)).c_str());
    std::printf("\n");
    for (std::size_t row = 0; row < kinds.size(); ++row) {
      // Only readable cells count: "?" (no access) says nothing about isolation.
      bool differs = false;
      const std::string* first = nullptr;
      for (const std::string& cell : cells[row]) {
        if (cell == "?") continue;
        if (first == nullptr) first = &cell;
        differs = differs || cell != *first;
      }
      std::printf("%-18s", kinds[row].c_str());
      for (const std::string& cell : cells[row]) std::printf(" %-13s", cell.c_str());
      std::printf("%s\n", differs ? " *" : "");
    }
  } catch (const nslab::Error& e) {
    std::cerr << "nsinfo: " << e.what() << "\n";
    return 1;
  }
  return status;
}
