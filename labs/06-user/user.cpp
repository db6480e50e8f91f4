// Lab 06 — the user namespace.
//
// A user namespace has ids of its own (user_namespaces(7)): uid 0 inside can be
// uid 1000 outside. Its first process has every capability — but over the
// namespaces this user namespace owns, and no others. Created in the same
// clone(2) as the rest, it owns all of them: so the container's root may set
// its hostname, mount its /proc and bring its lo up, while the host's files,
// sysctls and network stay as far out of reach as they are for uid 1000.
// And creating it needs no privilege at all, which is why lab 06 runs without root.
//
// Until its ID maps are written, the new namespace maps nothing: the child is
// "nobody" (65534) inside. The maps are written once, from outside, by a
// process of the parent namespace — the runtime, while the child waits —
// because who may write what is judged by the writer's ids and capabilities
// *outside* (user_namespaces(7), "Defining user and group ID mappings").

#include "06-user/user.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <string>

#include "nslab/error.hpp"
#include "nslab/exit_status.hpp"
#include "nslab/fd.hpp"
#include "nslab/namespaces.hpp"
#include "nslab/process.hpp"

namespace nslab {
namespace {

constexpr std::uint32_t kLastId = 4294967294U;  // (uid_t)-1 means "no id" to the kernel
constexpr std::size_t kMaxLines = 340;          // user_namespaces(7), since Linux 4.15
constexpr std::size_t kMaxMapBytes = 4096;      // the write must be shorter than a page

std::string range_text(const IdRange& range) {
  return std::to_string(range.inside) + ":" + std::to_string(range.outside) + ":" + std::to_string(range.count);
}

// What an errno from writing FILE (a map, setgroups) or changing ids means here.
std::string map_hint(int errnum, const std::string& file) {
  if (errnum == EPERM || errnum == EACCES) {
    if (std::string setting = restrictive_userns_setting(); !setting.empty()) return setting;
    if (file == "gid_map" || file == "uid_map") {
      const bool gid = file == "gid_map";
      if (has_effective_capability(gid ? CAP_SETGID : CAP_SETUID)) {
        return std::string("every id OUT of the map must exist in the runtime's own user namespace (its /proc/self/") +
               file + ")";
      }
      return gid ? "without CAP_SETGID outside, a gid_map may map only your own gid, one id, and only after "
                   "\"deny\" was written to setgroups (since Linux 3.19)"
                 : "without CAP_SETUID outside, a uid_map may map only your own uid, one id";
    }
    return userns_restriction_hint();
  }
  if (errnum == EINVAL) {
    return file == "ids" ? "id 0 is not mapped in this user namespace: were the maps written before GO?"
                         : "a map is written once, in one write, of ranges that do not overlap";
  }
  return {};
}

//! [user-write]
// One map, or setgroups, of the child: one write(2) of the whole text. A map
// can be written only once, all at once (PITFALLS 2).
void write_proc_file(pid_t child, const std::string& file, const std::string& text) {
  const std::string path = "/proc/" + std::to_string(child) + "/" + file;
  std::string shown = text;
  if (!shown.empty() && shown.back() == '\n') shown.pop_back();
  // errno is saved at once: the hint reads /proc/sys files, which sets it anew.
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    const int saved = errno;
    throw Error(saved, "open " + path, map_hint(saved, file));
  }
  const ssize_t written = ::write(fd.get(), text.data(), text.size());
  if (written == -1) {
    const int saved = errno;
    throw Error(saved, "write " + path + " " + quoted(shown), map_hint(saved, file));
  }
  if (static_cast<std::size_t>(written) != text.size()) {
    throw Error(0, "write " + path + " " + quoted(shown) + ": only " + std::to_string(written) + " bytes taken");
  }
}
//! [user-write]

//! [user-helper]
// As an unprivileged user, the kernel lets us map only our own id, one of it.
// More ids — the ranges /etc/subuid gives each user, 65536 from 100000 on —
// take newuidmap(1) and newgidmap(1): set-user-ID root programs that check the
// ranges against /etc/subuid and /etc/subgid and write the map for us, as
// rootless podman does.
// KIND is "uid" or "gid": newuidmap writes uid_map from /etc/subuid, and so on.
void write_map_with_helper(const std::string& kind, pid_t child, const std::vector<IdRange>& map) {
  std::vector<std::string> argv{find_in_path("new" + kind + "map"), std::to_string(child)};
  for (const IdRange& range : map) {
    argv.insert(argv.end(), {std::to_string(range.inside), std::to_string(range.outside), std::to_string(range.count)});
  }
  std::string command;
  for (const std::string& word : argv) command += (command.empty() ? "" : " ") + word;
  const ProgramResult result = run_program(argv);
  if (WIFEXITED(result.wait_status) && WEXITSTATUS(result.wait_status) == 0) {
    // Trust, but check: the map must be there now.
    const std::string map_file = "/proc/" + std::to_string(child) + "/" + kind + "_map";
    std::ifstream written(map_file);
    std::string line;
    if (std::getline(written, line) && !line.empty()) return;
    throw Error(0, command + " exited 0 but " + map_file + " is still empty");
  }
  std::string said = result.error_output;
  std::replace(said.begin(), said.end(), '\n', ' ');
  throw Error(0, command + " " + describe_wait_status(result.wait_status) + (said.empty() ? "" : ": " + said),
              "it checks /etc/sub" + kind + " for a range of yours");
}
//! [user-helper]

// "0 1000 1", or "0 1000 1; 1 100000 65536": a map on one line.
std::string map_for_narration(const std::vector<IdRange>& map) {
  std::string text = id_map_text(map);
  if (!text.empty()) text.pop_back();
  std::string out;
  for (const char c : text) out += c == '\n' ? std::string("; ") : std::string(1, c);
  return out;
}

// The map that needs no helper: the caller's own id, one of it (user_namespaces(7)).
bool is_own_id_only(const std::vector<IdRange>& map, std::uint32_t own) {
  return map.size() == 1 && map.front().outside == own && map.front().count == 1;
}

}  // namespace

IdRange parse_id_range(std::string_view text, std::string_view option) {
  const std::string shown = "--" + std::string(option) + " " + quoted(text, 40);
  std::array<std::uint64_t, 3> numbers{};
  std::string_view rest = text;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const auto colon = rest.find(':');
    const std::string_view word = rest.substr(0, i + 1 < numbers.size() ? colon : std::string_view::npos);
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), numbers[i]);
    if (word.empty() || end != word.data() + word.size() || (i + 1 < numbers.size() && colon == std::string_view::npos) ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
      throw UsageError(shown + ": expected IN:OUT:COUNT, three numbers, e.g. 0:100000:65536");
    }
    // All digits, but more than 64 bits: a number still, and said so.
    if (ec == std::errc::result_out_of_range) throw UsageError(shown + ": " + printable(word, 24) + " is not a 32-bit id");
    if (i + 1 < numbers.size()) rest.remove_prefix(colon + 1);
  }
  for (const std::uint64_t number : numbers) {
    if (number > kLastId + 1ULL) throw UsageError(shown + ": " + std::to_string(number) + " is not a 32-bit id");
  }
  const auto [inside, outside, count] = numbers;  // each at most 2^32 - 1: no sum below wraps
  if (count == 0) throw UsageError(shown + ": COUNT must be at least 1");
  if (inside + count - 1 > kLastId || outside + count - 1 > kLastId) {
    throw UsageError(shown + ": the range goes past the last id, " + std::to_string(kLastId));
  }
  return IdRange{static_cast<std::uint32_t>(inside), static_cast<std::uint32_t>(outside),
                 static_cast<std::uint32_t>(count)};
}

void check_id_map(const std::vector<IdRange>& map, std::string_view option) {
  const std::string shown = "--" + std::string(option);
  if (map.size() > kMaxLines) {
    throw UsageError(shown + ": " + std::to_string(map.size()) + " ranges, and the kernel takes at most " +
                     std::to_string(kMaxLines));
  }
  auto overlap = [](std::uint64_t first, std::uint64_t count, std::uint64_t other_first, std::uint64_t other_count) {
    return first < other_first + other_count && other_first < first + count;
  };
  for (std::size_t i = 0; i < map.size(); ++i) {
    for (std::size_t j = i + 1; j < map.size(); ++j) {
      const IdRange& a = map[i];
      const IdRange& b = map[j];
      if (overlap(a.inside, a.count, b.inside, b.count) || overlap(a.outside, a.count, b.outside, b.count)) {
        throw UsageError(shown + " " + range_text(a) + " and " + range_text(b) +
                         " overlap: each id may be mapped once, inside and outside");
      }
    }
  }
  if (const std::size_t size = id_map_text(map).size(); size >= kMaxMapBytes) {
    throw UsageError(shown + ": the map is " + std::to_string(size) + " bytes written out, and the kernel takes less than " +
                     std::to_string(kMaxMapBytes) + " in its one write");
  }
  const bool root_mapped = std::any_of(map.begin(), map.end(), [](const IdRange& r) { return r.inside == 0; });
  if (!root_mapped) {
    throw UsageError(shown + ": no range maps id 0 inside: the container's first process becomes root (0) there");
  }
}

std::string id_map_text(const std::vector<IdRange>& map) {
  std::string text;
  for (const IdRange& range : map) {
    text += std::to_string(range.inside) + " " + std::to_string(range.outside) + " " + std::to_string(range.count) + "\n";
  }
  return text;
}

void UserNamespace::add_options(cli::Parser& parser) {
  parser.add_value("uid-map", "IN:OUT:COUNT",
                   "map COUNT user ids from IN inside to OUT outside (repeatable; default: your uid to 0)",
                   [this](std::string_view value) { uid_map_.push_back(parse_id_range(value, "uid-map")); });
  parser.add_value("gid-map", "IN:OUT:COUNT",
                   "map COUNT group ids from IN inside to OUT outside (repeatable; default: your gid to 0, "
                   "or, as root with --uid-map alone, the same ranges as the uid map)",
                   [this](std::string_view value) { gid_map_.push_back(parse_id_range(value, "gid-map")); });
}

//! [user-flag]
int UserNamespace::clone_flags() const {
  // TODO(lab 06): implement the clone flag that gives the child a new user namespace.
  // Read docs/{en,zh}/lab06-user.md#lab06-flag, then replace the line below with your code.
  throw nslab::Todo("06", "the clone flag that gives the child a new user namespace", "docs/{en,zh}/lab06-user.md#lab06-flag");
}
//! [user-flag]

std::optional<Isolation> UserNamespace::isolation() const {
  return Isolation{"user", "write the ID maps and become root inside", "docs/{en,zh}/lab06-user.md#lab06-flag"};
}

// By default the caller alone, as root: its uid and gid become 0 inside, one
// id each, which any user may write.
void UserNamespace::prepare(Context& ctx) {
  const auto euid = static_cast<std::uint32_t>(::geteuid());
  const auto egid = static_cast<std::uint32_t>(::getegid());
  // --uid-map alone, as root: the default gid map would give the container
  // the host's group 0, and with it every root-group file; it follows the
  // uid map instead, so that a shifted root is shifted in both.
  const bool host_root_mapped = std::any_of(uid_map_.begin(), uid_map_.end(), [](const IdRange& r) {
    return r.outside == 0;
  });
  if (gid_map_.empty() && !uid_map_.empty() && egid == 0 && !host_root_mapped) gid_map_ = uid_map_;
  if (uid_map_.empty()) uid_map_ = {IdRange{0, euid, 1}};
  if (gid_map_.empty()) gid_map_ = {IdRange{0, egid, 1}};
  check_id_map(uid_map_, "uid-map");
  check_id_map(gid_map_, "gid-map");
  // Who may write what is decided by the writer's capabilities outside.
  uid_helper_ = !has_effective_capability(CAP_SETUID) && !is_own_id_only(uid_map_, euid);
  gid_helper_ = !has_effective_capability(CAP_SETGID) && !is_own_id_only(gid_map_, egid);
  ctx.narrator.say("uid map " + map_for_narration(uid_map_) + (uid_helper_ ? " (through newuidmap)" : "") +
                   ", gid map " + map_for_narration(gid_map_) + (gid_helper_ ? " (through newgidmap)" : ""));
}

void UserNamespace::check_privilege(const Context& ctx) const {
  (void)ctx;
  // The maps go to /proc/CHILD: that must be our child, not a stranger.
  if (const std::string problem = foreign_proc_problem(); !problem.empty()) throw Error(0, problem);
  const struct {
    bool needed;
    const char* helper;
    const char* option;
    const char* kind;
    const std::vector<IdRange>& map;
    unsigned own;
  } maps[] = {{uid_helper_, "newuidmap", "--uid-map", "uid", uid_map_, ::geteuid()},
              {gid_helper_, "newgidmap", "--gid-map", "gid", gid_map_, ::getegid()}};
  for (const auto& map : maps) {
    if (!map.needed || !find_in_path(map.helper).empty()) continue;
    throw Error(0, std::string(map.option) + " " + range_text(map.map.front()) + (map.map.size() > 1 ? " ..." : "") +
                       ": without root, you may map only your own " + map.kind + " (" + std::to_string(map.own) +
                       ", one id); more takes " + map.helper + ", which is not installed (Debian: apt install uidmap; "
                       "Fedora: shadow-utils) and a range in /etc/sub" + map.kind);
  }
}

//! [user-outside]
// The parent, while the child waits: setgroups first, then the maps.
void UserNamespace::setup_outside(Context& ctx) {
  const pid_t child = ctx.child;
  // TODO(lab 06): implement deny setgroups(2), then write gid_map and uid_map, each in one write.
  // Read docs/{en,zh}/lab06-user.md#lab06-maps, then replace the line below with your code.
  throw nslab::Todo("06", "deny setgroups(2), then write gid_map and uid_map, each in one write", "docs/{en,zh}/lab06-user.md#lab06-maps");
  ctx.narrator.say("wrote \"" + map_for_narration(gid_map_) + "\" to /proc/" + std::to_string(child) + "/gid_map" +
                   (gid_helper_ ? " (newgidmap)" : "") + ", \"" + map_for_narration(uid_map_) + "\" to uid_map" +
                   (uid_helper_ ? " (newuidmap)" : ""));
}
//! [user-outside]

//! [user-inside]
// The child, once the maps are there: become uid and gid 0 of the namespace.
void UserNamespace::setup_inside(Context& ctx) {
  // TODO(lab 06): implement become uid 0 and gid 0 inside, then arm the death signal again.
  // Read docs/{en,zh}/lab06-user.md#lab06-root, then replace the line below with your code.
  throw nslab::Todo("06", "become uid 0 and gid 0 inside, then arm the death signal again", "docs/{en,zh}/lab06-user.md#lab06-root");
  const auto root = std::find_if(uid_map_.begin(), uid_map_.end(), [](const IdRange& r) { return r.inside == 0; });
  ctx.narrator.say("setresgid(0, 0, 0), setresuid(0, 0, 0): root inside, uid " + std::to_string(root->outside) +
                   " outside; PR_SET_PDEATHSIG armed again");
}
//! [user-inside]

}  // namespace nslab
