// Lab 08 — a cgroup per container, and a cgroup namespace.
//
// Namespaces decide what a process sees; a cgroup decides how much it may
// use. The runtime makes the container's cgroup while the child waits for GO,
// writes the limits, and moves the child in: from then on COMMAND and every
// process it forks are counted, and held, together.
//
// The cgroup namespace comes last, after the move (PITFALLS: "cgroup namespace
// too early"): a cgroup namespace's root is the cgroup its creator is in at
// that moment. Made by clone(2), its root would be the runtime's cgroup, and
// the container would see its own as /nslab/4242. Made with unshare(2) once the
// child is in its cgroup, the container sees "/" and nothing above it.

#include "08-cgroup/cgroup.hpp"

#include <sched.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "nslab/error.hpp"

namespace nslab {
namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Digits only, as an unsigned number; nullopt when not a number or too large.
std::optional<std::uint64_t> number(std::string_view digits) {
  std::uint64_t value = 0;
  if (!all_digits(digits)) return std::nullopt;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::string plural(std::uint64_t count, const std::string& one, const std::string& many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

std::uint64_t parse_memory(std::string_view text) {
  const std::string shown = "--memory " + quoted(text);
  const std::string form = ": expected bytes, or a number with K, M or G (e.g. 48M)";
  std::uint64_t unit = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': unit = std::uint64_t{1} << 10; break;
      case 'M': case 'm': unit = std::uint64_t{1} << 20; break;
      case 'G': case 'g': unit = std::uint64_t{1} << 30; break;
      default: break;
    }
    if (unit != 1) digits.remove_suffix(1);
  }
  if (!all_digits(digits)) throw UsageError(shown + form);
  const std::optional<std::uint64_t> value = number(digits);  // nullopt: more than 64 bits
  if (!value || *value > kMaxMemory / unit) throw UsageError(shown + ": too large (at most 4294967296G: 2^62 bytes)");
  const std::uint64_t bytes = *value * unit;
  if (bytes < kMinMemory) {
    throw UsageError(shown + ": below 1M, the container would be killed before COMMAND starts");
  }
  return bytes;
}

std::uint64_t parse_pids(std::string_view text) {
  const std::optional<std::uint64_t> value = number(text);
  if (!value || *value < 1 || *value > static_cast<std::uint64_t>(kPidMaxLimit)) {
    throw UsageError("--pids " + quoted(text) + ": expected a number of processes from 1 to " +
                     std::to_string(kPidMaxLimit));
  }
  return *value;
}

std::uint64_t parse_cpus(std::string_view text, unsigned online) {
  const std::string shown = "--cpus " + quoted(text);
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(fraction)) || fraction.size() > 5) {
    throw UsageError(shown + ": expected a number of CPUs, e.g. 0.5 or 2 (at most five decimals)");
  }
  const std::string too_many = shown + ": this machine has " + plural(online, "CPU", "CPUs") + " online";
  const std::optional<std::uint64_t> cpus = number(whole);  // nullopt: more than 64 bits
  if (!cpus || *cpus > online) throw UsageError(too_many);
  // Microseconds per 100 ms period: the fraction's five digits are exactly that.
  std::string micro(fraction);
  micro.resize(5, '0');
  const std::uint64_t quota = *cpus * kCpuPeriodUs + *number(micro);
  if (quota < kCpuPeriodUs / 100) throw UsageError(shown + ": at least 0.01 (the kernel's smallest quota is 1 ms)");
  if (quota > std::uint64_t{online} * kCpuPeriodUs) throw UsageError(too_many);
  return quota;
}

void CgroupNamespace::add_options(cli::Parser& parser) {
  parser.add_value("memory", "SIZE", "limit the container's memory to SIZE bytes (K, M, G: e.g. 48M); over it, the kernel kills",
                   [this](std::string_view value) {
                     if (limits_.memory) throw UsageError("--memory given twice");
                     limits_.memory = parse_memory(value);
                     memory_arg_ = std::string(value);
                   });
  parser.add_value("pids", "N", "limit the container to N processes (threads count): a fork past N fails",
                   [this](std::string_view value) {
                     if (limits_.pids) throw UsageError("--pids given twice");
                     limits_.pids = parse_pids(value);
                     pids_arg_ = std::string(value);
                   });
  parser.add_value("cpus", "FRACTION", "limit the container to FRACTION of a CPU's time (e.g. 0.5)",
                   [this](std::string_view value) {
                     if (limits_.cpu_quota_us) throw UsageError("--cpus given twice");
                     const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
                     limits_.cpu_quota_us = parse_cpus(value, online > 0 ? static_cast<unsigned>(online) : 1U);
                     cpus_arg_ = std::string(value);
                   });
}

//! [cgroup-flag]
// Nothing at clone(2): the child is still in the runtime's cgroup then.
int CgroupNamespace::clone_flags() const { return 0; }

int CgroupNamespace::unshare_flags() const {
  // TODO(lab 08): implement the flag of the cgroup namespace, made by unshare(2) after GO, once the child is in its cgroup.
  // Read docs/{en,zh}/lab08-cgroup.md#lab08-ns, then replace the line below with your code.
  throw nslab::Todo("08", "the flag of the cgroup namespace, made by unshare(2) after GO, once the child is in its cgroup", "docs/{en,zh}/lab08-cgroup.md#lab08-ns");
}
//! [cgroup-flag]

std::optional<Isolation> CgroupNamespace::isolation() const {
  return Isolation{"cgroup", "mount the container's cgroup tree", "docs/{en,zh}/lab08-cgroup.md#lab08-ns", true};
}

// Reads the layout and where the cgroup would go: nothing is made yet.
void CgroupNamespace::prepare(Context& ctx) {
  // Without a limit, a container without a cgroup of its own still runs, in ours.
  try {
    const CgroupLayout layout = detect_layout();
    ctx.narrator.say("/sys/fs/cgroup: " + std::string(layout_name(layout)));
    cgroup_ = make_cgroup(layout);
    if (limits_.any()) return;  // check_privilege() says what stops them
    cgroup_->check(limits_);
  } catch (const Error& e) {
    if (limits_.any()) throw;
    // Said once every module has prepared: a bad option of a later one gets its one line alone.
    no_cgroup_warning_ = ctx.program + ": " + printable(e.what(), 1000) + "; the container stays in this process's cgroup" +
                         troubleshooting_pointer(e.errnum(), e.context()) + "\n";
    cgroup_.reset();
  }
}

void CgroupNamespace::check_privilege(const Context& ctx) const {
  (void)ctx;
  if (cgroup_) cgroup_->check(limits_);
  std::cerr << no_cgroup_warning_ << std::flush;
}

//! [cgroup-outside]
void CgroupNamespace::setup_outside(Context& ctx) {
  if (!cgroup_) return;
  cgroup_->sweep(ctx.narrator);
  // Named after the runtime, whose lock on it says it is in use.
  cgroup_->create(std::to_string(::getpid()), limits_, ctx.narrator);
  cgroup_->limit(limits_, ctx.narrator);
  cgroup_->add(ctx.child, ctx.narrator);
}
//! [cgroup-outside]

//! [cgroup-inside]
void CgroupNamespace::setup_inside(Context& ctx) {
  // The pipeline made the cgroup namespace (unshare_flags) just before this.
  if (ctx.narrator.enabled()) {
    std::FILE* own = std::fopen("/proc/self/cgroup", "re");
    char line[512];
    while (own != nullptr && std::fgets(line, sizeof line, own) != nullptr) {
      std::string text(line);
      if (!text.empty() && text.back() == '\n') text.pop_back();
      ctx.narrator.say("/proc/self/cgroup: " + text);
    }
    if (own != nullptr) (void)std::fclose(own);
  }
  // With a root filesystem of its own, the container's cgroups are shown at its
  // /sys/fs/cgroup (when it has a /sys: lab 04 mounted a fresh sysfs there).
  if (!mnt_.has_rootfs() || !cgroup_) return;
  struct statfs sys {};
  if (::statfs("/sys", &sys) == -1 || sys.f_type != SYSFS_MAGIC || ::access("/sys/fs/cgroup", F_OK) == -1) {
    ctx.narrator.say("no /sys/fs/cgroup in the root filesystem: no cgroup tree mounted");
    return;
  }
  cgroup_->mount_tree("/sys/fs/cgroup", ctx.narrator);
}
//! [cgroup-inside]

std::string CgroupNamespace::teardown(Context& ctx) noexcept {
  if (!cgroup_) return {};
  // What the kernel counted, said once the container ended: the other side of
  // what COMMAND saw (a SIGKILL, a fork that failed).
  const LimitEvents counted = cgroup_->events();
  const bool v2 = cgroup_->version() == "v2";
  try {
    if (counted.oom_kills > 0 && limits_.memory) {
      std::cerr << ctx.program << ": --memory " << memory_arg_ << " was reached: the kernel killed "
                << plural(counted.oom_kills, "process", "processes") << " ("
                << (v2 ? "memory.events" : "memory.oom_control") << " oom_kill " << counted.oom_kills << ")\n";
    }
    if (counted.pids_refused > 0 && limits_.pids) {
      std::cerr << ctx.program << ": --pids " << pids_arg_ << " was reached: "
                << plural(counted.pids_refused, "fork was", "forks were") << " refused (pids.events max "
                << counted.pids_refused << ")\n";
    }
  } catch (...) {
    // stderr is gone: the cgroup is removed all the same
  }
  //! [cgroup-teardown]
  return cgroup_->remove(ctx.narrator);
  //! [cgroup-teardown]
}

//! [cgroup-enter]
namespace {

// SELF (our PID) into PROCS, a container's cgroup.procs.
void join_cgroup(const std::string& procs, const std::string& self, const Narrator& narrator) {
  try {
    std::FILE* file = std::fopen(procs.c_str(), "we");
    if (file == nullptr) throw_errno("open " + procs);
    const bool written = std::fputs(self.c_str(), file) >= 0;
    const bool closed = std::fclose(file) == 0;  // the kernel answers the write here, at the flush
    if (!written || !closed) throw_errno("write " + self + " to " + procs);
  } catch (const Error& e) {
    throw Error(e.errnum(), "cannot join the container's cgroup: " + e.context(),
                "a joined COMMAND would escape the container's limits");
  }
  narrator.say("wrote " + self + " to " + procs + ": the joining process is in the container's cgroup");
}

}  // namespace

void EnterContainerWithCgroup::before_joining(pid_t target, const Narrator& narrator) {
  const CgroupLayout layout = detect_layout();
  std::vector<std::pair<std::string, std::string>> hierarchies;  // mount, controller
  if (layout == CgroupLayout::v2) {
    hierarchies.emplace_back(kCgroupMount, "");
  } else {
    for (const char* controller : {"memory", "pids", "cpu"}) {
      std::string mount(kCgroupMount);
      mount += '/';
      mount += controller;
      hierarchies.emplace_back(std::move(mount), controller);
    }
  }
  const std::string self = std::to_string(::getpid());
  for (const auto& [mount, controller] : hierarchies) {
    const std::string theirs = cgroup_of(target, controller);
    // Only a cgroup lab 08 made is joined: another runtime's container, or
    // unshare(1)'s, keeps the cgroups it has, and so do we.
    if (theirs.empty() || theirs.find("/nslab/") == std::string::npos || theirs == cgroup_of(0, controller)) continue;
    if (const std::string root = mount_root(mount); root != "/") {
      throw Error(0, "cannot join the container's cgroup: this process is in a cgroup namespace whose root is not "
                     "the root of " + mount + " (" + printable(root) + ")");
    }
    std::string procs = mount;
    procs += theirs;
    procs += "/cgroup.procs";
    join_cgroup(procs, self, narrator);
  }
}
//! [cgroup-enter]

}  // namespace nslab
