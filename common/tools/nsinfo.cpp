// nsinfo: the namespaces of one or more processes, side by side.
//
// What `ls -l /proc/PID/ns` shows, as a table: one row per namespace kind, one
// column per process, and a '*' on the rows where the processes differ — that is,
// where one of them is isolated from the other.
//
// With --dot, the same facts as a Graphviz graph (dot(1) draws it): a cluster per
// process, and one node per namespace — per identity, "uts:[4026532251]" — so a
// namespace two processes share is one node both are linked to. The tutorials'
// diagrams are drawn from it (docs/diagrams.sh), which relies on these names:
//
//   "pN"                 the Nth process given (1, 2, ...), in "cluster_pN";
//                        "cluster_pN" also holds the namespaces only it is in
//   "KIND:[INODE]"       a namespace, as readlink(2) of /proc/PID/ns/KIND shows it
//   "cluster_shared_N_M" the namespaces processes N, M (and more) all share
//   "legend_first", "legend_new" in "cluster_legend"
//
// A namespace the first process is not in is "new" (filled, bold): the first
// process is the one the others are compared with, as with the table's '*'.
// The output is sorted (namespaces as `ls` sorts /proc/PID/ns, then by inode),
// so the same processes always give the same text.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "nslab/error.hpp"
#include "nslab/fd.hpp"
#include "nslab/namespaces.hpp"

namespace {

void usage(std::ostream& out) {
  out << "Usage: nsinfo [--dot] [PID...]\n\n"
         "Shows the namespaces of each PID (default: this process) as /proc/PID/ns\n"
         "names them, and marks with '*' the kinds in which the processes differ.\n\n"
         "  --dot   print a Graphviz graph instead: a cluster per process, one node per\n"
         "          namespace, shared namespaces linked to every process in them, and\n"
         "          the ones the first PID is not in filled (\"new\"). Draw it with dot:\n"
         "          nsinfo --dot 1 $$ | dot -Tsvg > ns.svg\n\n"
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

// The table: one row per kind, one column per process. Exit status 1 when a
// process could not be read (its cells show '?').
int print_table(const std::vector<pid_t>& pids, const std::vector<std::string>& kinds) {
  int status = 0;
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
  return status;
}

// --- --dot -------------------------------------------------------------------

// One process as the graph shows it: what /proc/PID says of it.
struct Process {
  pid_t pid = 0;
  std::string comm;                          // /proc/PID/comm
  std::string nspid;                         // "4025 1": NSpid of /proc/PID/status, "" if none
  // One per entry of /proc/PID/ns, in order; none for a *_for_children entry
  // that names no namespace yet (below).
  std::vector<std::optional<nslab::NamespaceId>> entries;
};

// Reads a whole small /proc file; throws Error naming it and the errno.
std::string read_proc_file(const std::string& path) {
  const nslab::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) nslab::throw_errno("open " + path);
  std::string text;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t length = ::read(fd.get(), buffer.data(), buffer.size());
    if (length == -1 && errno == EINTR) continue;
    if (length == -1) nslab::throw_errno("read " + path);
    if (length == 0) return text;
    text.append(buffer.data(), static_cast<std::size_t>(length));
  }
}

Process read_process(pid_t pid, const std::vector<std::string>& kinds) {
  Process process;
  process.pid = pid;
  for (const std::string& kind : kinds) {
    try {
      process.entries.emplace_back(nslab::read_namespace_id(pid, kind));
    } catch (const nslab::Error& e) {
      // pid_for_children reads ENOENT after unshare(CLONE_NEWPID) until the
      // first child is born in the new namespace (pid_namespaces(7)): there is
      // no namespace to draw yet, and the process is no less there.
      const bool for_children = kind.size() > 13 && kind.compare(kind.size() - 13, 13, "_for_children") == 0;
      // (An entry read before this one: the process itself is there.)
      if (!for_children || e.errnum() != ENOENT || process.entries.empty()) throw;
      process.entries.emplace_back(std::nullopt);
    }
  }
  const std::string dir = "/proc/" + std::to_string(pid);
  process.comm = read_proc_file(dir + "/comm");
  if (!process.comm.empty() && process.comm.back() == '\n') process.comm.pop_back();
  // NSpid (Linux 4.1+): the PID in each PID namespace, from the one of this
  // /proc down to the process's own: "4025 1" for a container's PID 1.
  std::istringstream status(read_proc_file(dir + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream numbers(line.substr(6));
    for (std::string number; numbers >> number;) process.nspid += (process.nspid.empty() ? "" : " ") + number;
  }
  return process;
}

// @p line as a quoted DOT string: made printable by nslab::printable (a
// command name is whatever its program chose: a newline in it becomes \n,
// what is not UTF-8 \xNN), then its backslashes and quotes escaped, so that
// dot shows it as it is.
std::string quote(const std::string& line) {
  std::string out = "\"";
  for (const char c : nslab::printable(line, 200)) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// @p lines as one quoted DOT label, each line escaped as quote() does.
std::string quote_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    const std::string quoted = quote(line);
    out += (out.empty() ? "\"" : "\\n") + quoted.substr(1, quoted.size() - 2);
  }
  return out + "\"";
}

// A namespace of the graph: its identity, and which processes are in it.
struct Node {
  nslab::NamespaceId id;
  std::size_t first_entry = 0;      // the first /proc/PID/ns entry it appears as: the sort key
  std::vector<bool> members;        // members[i]: process i is in it
  std::vector<std::string> notes;   // "pid_for_children of PID 7": reached by an entry of another name only
};

// The colours print as light grey and white on paper, so "new" is also bold.
constexpr const char* kNewFill = "#fdd49e";
constexpr const char* kFirstFill = "#ffffff";
constexpr const char* kProcessFill = "#e6e6e6";

std::string node_style(bool is_new) {
  return is_new ? std::string("fillcolor=\"") + kNewFill + "\", penwidth=2"
                : std::string("fillcolor=\"") + kFirstFill + "\"";
}

std::string members_name(const std::vector<bool>& members) {
  std::string name = "cluster_shared";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i]) name += "_" + std::to_string(i + 1);
  }
  return name;
}

std::string pid_list(const std::vector<Process>& processes, const std::vector<bool>& members) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i]) names.push_back("PID " + std::to_string(processes[i].pid));
  }
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : (i + 1 == names.size() ? " and " : ", ")) + names[i];
  }
  return out;
}

std::string node_label(const Node& node) {
  std::vector<std::string> lines{node.id.str()};
  lines.insert(lines.end(), node.notes.begin(), node.notes.end());
  return quote_lines(lines);
}

void print_dot(const std::vector<Process>& processes, const std::vector<std::string>& kinds) {
  const std::size_t count = processes.size();
  // One node per identity, sorted by the first entry it appears as, then inode.
  std::vector<Node> nodes;
  for (std::size_t p = 0; p < count; ++p) {
    for (std::size_t e = 0; e < kinds.size(); ++e) {
      if (!processes[p].entries[e]) continue;
      const nslab::NamespaceId& id = *processes[p].entries[e];
      auto node = std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.id == id; });
      if (node == nodes.end()) {
        nodes.push_back(Node{id, e, std::vector<bool>(count, false), {}});
        node = nodes.end() - 1;
      }
      node->first_entry = std::min(node->first_entry, e);
      node->members[p] = true;
    }
  }
  // Noted: a process that is in a namespace only through an entry of another
  // name (pid_for_children after unshare(CLONE_NEWPID), before the fork).
  for (Node& node : nodes) {
    for (std::size_t p = 0; p < count; ++p) {
      if (!node.members[p]) continue;
      bool as_itself = false;
      std::string other;
      for (std::size_t e = 0; e < kinds.size(); ++e) {
        if (processes[p].entries[e] != node.id) continue;
        if (kinds[e] == node.id.kind) as_itself = true;
        else if (other.empty()) other = kinds[e];
      }
      if (!as_itself) node.notes.push_back(other + " of PID " + std::to_string(processes[p].pid));
    }
  }
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) {
    return a.first_entry != b.first_entry ? a.first_entry < b.first_entry : a.id.inode < b.id.inode;
  });

  std::string pids;
  for (const Process& process : processes) pids += " " + std::to_string(process.pid);
  const std::string first = "PID " + std::to_string(processes.front().pid);
  std::cout << "// nsinfo --dot" << pids << ": draw with dot -Tsvg\n"
            << "digraph nsinfo {\n"
            << "  graph [rankdir=LR, compound=true, fontname=\"Helvetica\", fontsize=12, nodesep=0.12, "
               "ranksep=0.35, labelloc=t, label="
            << quote("Namespaces of " + pid_list(processes, std::vector<bool>(count, true))) << "];\n"
            << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, height=0.25, "
               "margin=\"0.08,0.03\", color=\"#444444\"];\n"
            << "  edge [dir=none, color=\"#444444\", fontname=\"Helvetica\", fontsize=9];\n";

  // Each process's cluster: the process, and the namespaces only it is in.
  for (std::size_t p = 0; p < count; ++p) {
    const Process& process = processes[p];
    const std::string id = "p" + std::to_string(p + 1);
    std::vector<std::string> label{process.comm, "PID " + std::to_string(process.pid)};
    if (!process.nspid.empty()) label.push_back("NSpid " + process.nspid);
    std::cout << "  subgraph \"cluster_" << id << "\" {\n"
              << "    label=" << quote("PID " + std::to_string(process.pid)) << "; style=rounded; color=\"#444444\";\n"
              << "    \"" << id << "\" [label=" << quote_lines(label) << ", shape=box, style=filled, fillcolor=\""
              << kProcessFill << "\"];\n";
    // dot stacks the namespaces the first process links to (left to right) in
    // the reverse of their order here, and the others' (right to left) in this
    // order: the first's are given backwards, so that both read in `ls` order.
    std::vector<const Node*> own;
    for (const Node& node : nodes) {
      if (std::count(node.members.begin(), node.members.end(), true) == 1 && node.members[p]) own.push_back(&node);
    }
    if (p == 0) std::reverse(own.begin(), own.end());
    for (const Node* node : own) {
      std::cout << "    " << quote(node->id.str()) << " [label=" << node_label(*node) << ", "
                << node_style(p != 0) << "];\n";
    }
    std::cout << "  }\n";
  }
  // The shared namespaces, one cluster per set of processes sharing them, in
  // the order of their first node.
  std::vector<std::vector<bool>> groups;
  for (const Node& node : nodes) {
    if (std::count(node.members.begin(), node.members.end(), true) < 2) continue;
    if (std::find(groups.begin(), groups.end(), node.members) == groups.end()) groups.push_back(node.members);
  }
  for (const std::vector<bool>& group : groups) {
    std::cout << "  subgraph " << quote(members_name(group)) << " {\n"
              << "    label=" << quote("shared by " + pid_list(processes, group)) << "; style=\"rounded,dashed\"; "
              << "color=\"#444444\";\n";
    for (const Node& node : nodes) {
      if (node.members != group) continue;
      std::cout << "    " << quote(node.id.str()) << " [label=" << node_label(node) << ", "
                << node_style(!group[0]) << "];\n";
    }
    std::cout << "  }\n";
  }
  // The links. The first process's go left to right, the others' right to left,
  // so that the first stands on the left and the rest on the right; a shared
  // cluster is linked once per process, to its border (lhead/ltail).
  for (std::size_t p = 0; p < count; ++p) {
    const std::string process = quote("p" + std::to_string(p + 1));
    for (const Node& node : nodes) {
      if (std::count(node.members.begin(), node.members.end(), true) == 1 && node.members[p]) {
        if (p == 0) std::cout << "  " << process << " -> " << quote(node.id.str()) << ";\n";
        else std::cout << "  " << quote(node.id.str()) << " -> " << process << ";\n";
      }
    }
    for (const std::vector<bool>& group : groups) {
      if (!group[p]) continue;
      const auto head = std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.members == group; });
      const std::string cluster = quote(members_name(group));
      if (p == 0) std::cout << "  " << process << " -> " << quote(head->id.str()) << " [lhead=" << cluster << "];\n";
      else std::cout << "  " << quote(head->id.str()) << " -> " << process << " [ltail=" << cluster << "];\n";
    }
  }
  std::cout << "  subgraph \"cluster_legend\" {\n"
            << "    label=\"\"; style=invis;\n"
            << "    \"legend_first\" [label=" << quote("a namespace " + first + " is in") << ", "
            << node_style(false) << "];\n"
            << "    \"legend_new\" [label=" << quote("new: " + first + " is not in it") << ", " << node_style(true)
            << "];\n"
            << "    \"legend_first\" -> \"legend_new\" [style=invis];\n"
            << "  }\n"
            << "}\n";
}

}  // namespace

int main(int argc, char* argv[]) {
  std::vector<pid_t> pids;
  bool dot = false;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "-h" || word == "--help") {
      usage(std::cout);
      return 0;
    }
    if (word == "--dot") {
      dot = true;
      continue;
    }
    pid_t pid = 0;
    if (!parse_pid(word, pid)) {
      std::cerr << "nsinfo: not a process ID: \"" << word << "\" (see --help)\n";
      return 2;
    }
    pids.push_back(pid);
  }
  if (pids.empty()) pids.push_back(::getpid());

  try {
    // Every process has the same kinds; take them from this process.
    const std::vector<std::string> kinds = nslab::list_namespace_entries(0);
    if (!dot) return print_table(pids, kinds);
    // A graph with a process missing would show sharing that was not seen:
    // the first process that cannot be read ends it, in one line, before any
    // output.
    std::vector<Process> processes;
    for (const pid_t pid : pids) {
      try {
        processes.push_back(read_process(pid, kinds));
      } catch (const nslab::Error& e) {
        std::cerr << "nsinfo: PID " << pid << ": " << e.what() << hint_for(e.errnum()) << "\n";
        return 125;
      }
    }
    print_dot(processes, kinds);
  } catch (const nslab::Error& e) {
    std::cerr << "nsinfo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
