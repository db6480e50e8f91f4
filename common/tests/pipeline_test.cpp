// The pipeline (run_container) and the module contract of module.hpp, shown
// with modules that only record what is asked of them. Most of these create no
// namespace, so they need no privilege; each runs the pipeline in a forked
// process, since it blocks signals and becomes a subreaper.

#include "nslab/runtime.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nslab/error.hpp"
#include "nslab/process.hpp"

namespace nslab {
namespace {

// A log both sides append to, one line per step: the parent and the child are
// separate processes, so the steps are written to a file as they happen.
class StepLog {
 public:
  StepLog() {
    std::array<char, 32> name{"/tmp/nslab-steps.XXXXXX"};
    const int fd = ::mkstemp(name.data());
    if (fd != -1) ::close(fd);
    path_ = name.data();
  }
  StepLog(const StepLog&) = delete;
  StepLog& operator=(const StepLog&) = delete;
  ~StepLog() { ::unlink(path_.c_str()); }

  void note(const std::string& step) const {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd == -1) return;
    const std::string line = step + "\n";
    (void)::write(fd, line.data(), line.size());
    ::close(fd);
  }
  [[nodiscard]] std::string text() const {
    std::ifstream in(path_);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
  [[nodiscard]] bool has(const std::string& step) const { return text().find(step + "\n") != std::string::npos; }

 private:
  std::string path_;
};

// A module that records each step it is asked to take, and fails, leaks or
// joins when told to.
class Recording : public Module {
 public:
  Recording(std::string name, const StepLog& log) : name_(std::move(name)), log_(log) {}

  std::string fail_at;   // the step that throws, e.g. "setup_outside"
  std::string leak;      // what teardown() reports it could not undo
  bool can_join = false;  // joins() when its option --NAME-opt is given
  int flags = 0;
  int late_flags = 0;
  std::optional<Isolation> isolates;
  std::function<void()> inside;  // extra work in setup_inside

  [[nodiscard]] std::string_view name() const override { return name_; }
  void add_options(cli::Parser& parser) override {
    parser.add_flag(name_ + "-opt", 0, "a recording module's option", option_);
  }
  [[nodiscard]] bool joins() const override { return can_join && option_; }
  [[nodiscard]] int clone_flags() const override { return flags; }
  [[nodiscard]] int unshare_flags() const override { return late_flags; }
  [[nodiscard]] std::optional<Isolation> isolation() const override { return isolates; }
  void prepare(Context&) override { step("prepare"); }
  void check_privilege(const Context&) const override { step("check_privilege"); }
  void setup_outside(Context&) override { step("setup_outside"); }
  void setup_inside(Context&) override {
    step("setup_inside");
    if (inside) inside();
  }
  std::string teardown(Context&) noexcept override {
    log_.note("teardown " + name_);
    return leak;
  }

 private:
  void step(const std::string& what) const {
    log_.note(what + " " + name_);
    if (what == fail_at) throw Error(EIO, name_ + " failed in " + what);
  }
  std::string name_;
  const StepLog& log_;
  bool option_ = false;
};

struct Outcome {
  int status = -1;     // the exit status run_container returned (or 128+N if killed)
  std::string stderr;  // everything it printed there
};

// Runs the pipeline with `modules` and `args` in a forked process, its stderr
// captured. `before` runs first in that process (to close fds, ignore SIGCHLD...).
Outcome run_pipeline(std::initializer_list<Module*> modules, std::vector<std::string> args,
                     const std::function<void()>& before = {}) {
  std::array<char, 32> name{"/tmp/nslab-stderr.XXXXXX"};
  const int err = ::mkstemp(name.data());
  Outcome outcome;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(10);  // a hang fails the test instead of blocking the suite
    ::dup2(err, STDERR_FILENO);
    if (before) before();
    args.insert(args.begin(), "99-test");
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const Lab lab{"99-test", "a pipeline under test", ""};
    ::_exit(run_container(lab, modules, static_cast<int>(args.size()), argv.data()));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(name.data());
  std::stringstream text;
  text << in.rdbuf();
  outcome.stderr = text.str();
  ::close(err);
  ::unlink(name.data());
  return outcome;
}

bool can_create_namespaces() { return has_effective_capability(CAP_SYS_ADMIN); }

TEST(Pipeline, EveryStageRunsForEveryModuleInListOrderTeardownLastFirst) {
  const StepLog log;
  Recording a("a", log);
  Recording b("b", log);
  const Outcome run = run_pipeline({&a, &b}, {"--", "/bin/sh", "-c", "exit 3"});
  EXPECT_EQ(run.status, 3) << "COMMAND's own exit status\n" << run.stderr;
  EXPECT_EQ(run.stderr, "") << "the pipeline prints nothing of its own without --verbose";
  EXPECT_EQ(log.text(),
            "prepare a\nprepare b\ncheck_privilege a\ncheck_privilege b\nsetup_outside a\nsetup_outside b\n"
            "setup_inside a\nsetup_inside b\nteardown b\nteardown a\n");
}

TEST(Pipeline, TeardownRunsForEveryModuleWhenALaterModuleFailsOutside) {
  const StepLog log;
  Recording a("a", log);
  Recording b("b", log);
  b.fail_at = "setup_outside";
  const Outcome run = run_pipeline({&a, &b}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_EQ(run.stderr, "99-test: b failed in setup_outside: Input/output error\n");
  EXPECT_FALSE(log.has("setup_inside a")) << "nothing runs inside once a step outside failed";
  EXPECT_TRUE(log.has("teardown b"));
  EXPECT_TRUE(log.has("teardown a")) << "a's setup_outside ran: its teardown must too";
}

TEST(Pipeline, AnErrorInsideTravelsToTheParentAndTeardownStillRuns) {
  const StepLog log;
  Recording a("a", log);
  a.fail_at = "setup_inside";
  const Outcome run = run_pipeline({&a}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_EQ(run.stderr, "99-test: a failed in setup_inside: Input/output error\n")
      << "the child's error, errno included, is printed by the parent in one line";
  EXPECT_TRUE(log.has("teardown a"));
}

TEST(Pipeline, TeardownRunsEvenWhenPrepareFails) {
  const StepLog log;
  Recording a("a", log);
  Recording b("b", log);
  b.fail_at = "prepare";
  const Outcome run = run_pipeline({&a, &b}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_EQ(log.text(), "prepare a\nprepare b\nteardown b\nteardown a\n");
}

TEST(Pipeline, ALeakIsReportedOnStderrAndTheStatusStaysCommands) {
  const StepLog log;
  Recording a("a", log);
  a.leak = "veth nslab-test (RTM_DELLINK: Operation not permitted)";
  const Outcome run = run_pipeline({&a}, {"--", "/bin/sh", "-c", "exit 4"});
  EXPECT_EQ(run.status, 4);
  EXPECT_EQ(run.stderr,
            "99-test: left on the host: veth nslab-test (RTM_DELLINK: Operation not permitted) (see "
            "docs/{en,zh}/troubleshooting.md#ts-left-on-host)\n");
}

TEST(Pipeline, APrivilegeRefusalComesBeforeAnyChildExists) {
  const StepLog log;
  Recording a("a", log);
  Recording b("b", log);
  b.fail_at = "check_privilege";
  const Outcome run = run_pipeline({&a, &b}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_EQ(run.stderr, "99-test: b failed in check_privilege: Input/output error\n");
  EXPECT_FALSE(log.has("setup_outside a")) << "no child was created";
}

TEST(NamespacePrivilegeProblem, NamespacesNeedCapSysAdminUnlessAUserNamespaceComesWithThem) {
  EXPECT_NE(namespace_privilege_problem(CLONE_NEWUTS, 0, false), "");
  EXPECT_NE(namespace_privilege_problem(0, CLONE_NEWCGROUP, false), "") << "a late namespace needs it too";
  EXPECT_EQ(namespace_privilege_problem(CLONE_NEWUTS, 0, true), "");
  EXPECT_EQ(namespace_privilege_problem(CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNS, CLONE_NEWCGROUP, false), "")
      << "namespaces created with a user namespace are owned by it (user_namespaces(7))";
  EXPECT_EQ(namespace_privilege_problem(0, 0, false), "") << "joining creates nothing: its module decides";
  EXPECT_NE(namespace_privilege_problem(CLONE_NEWUTS, 0, false).find("lab 06"), std::string::npos);
}

TEST(Pipeline, AJoiningModuleRunsAloneAndNoOtherModuleActs) {
  const StepLog log;
  Recording uts("uts", log);
  Recording enter("enter", log);
  enter.can_join = true;
  uts.flags = CLONE_NEWUTS;  // would need privilege, were it not dropped
  const Outcome run = run_pipeline({&uts, &enter}, {"--enter-opt", "--", "/bin/true"});
  EXPECT_EQ(run.status, 0) << run.stderr;
  EXPECT_EQ(log.text(), "prepare enter\ncheck_privilege enter\nsetup_outside enter\nsetup_inside enter\nteardown enter\n");
}

TEST(Pipeline, AnotherModulesOptionIsRefusedWhenJoining) {
  const StepLog log;
  Recording uts("uts", log);
  Recording enter("enter", log);
  enter.can_join = true;
  const Outcome run = run_pipeline({&uts, &enter}, {"--enter-opt", "--uts-opt", "--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_EQ(run.stderr, "99-test: --uts-opt cannot be used when joining a container: joining creates nothing\n");
  EXPECT_EQ(log.text(), "") << "refused before any step";
}

// A careless module: its option's handler puts the value, raw, in its error.
class EchoingModule : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "echo"; }
  void add_options(cli::Parser& parser) override {
    parser.add_value("raw", "VALUE", "an option whose error holds its value as given", [](std::string_view value) {
      throw UsageError("--raw: bad value " + std::string(value));
    });
  }
  void prepare(Context&) override {}
};

TEST(Pipeline, AnErrorIsOneLineOnStderrWhateverItHolds) {
  EchoingModule echo;
  const Outcome control = run_pipeline({&echo}, {"--raw", "a\nb\tc\x1b[2J\x01\x7f\xc2\x9b\xff"});
  EXPECT_EQ(control.status, 125);
  EXPECT_EQ(control.stderr, "99-test: --raw: bad value a\\nb\\tc\\x1b[2J\\x01\\x7f\\xc2\\x9b\\xff\n")
      << "a newline, a tab, ESC, C0 and C1 controls and a byte that is not UTF-8, escaped";
  const Outcome huge = run_pipeline({&echo}, {"--raw", std::string(131000, 'a')});
  EXPECT_EQ(huge.status, 125);
  EXPECT_EQ(huge.stderr.find('\n'), huge.stderr.size() - 1) << "one line";
  EXPECT_LT(huge.stderr.size(), 1200U) << "shortened, saying how long it was";
  EXPECT_NE(huge.stderr.find("... (131017 bytes)"), std::string::npos) << huge.stderr.substr(0, 200);
}

TEST(SafetyNet, AForgottenCloneFlagStopsTheModuleBeforeItActs) {
  const StepLog log;
  Recording uts("uts", log);
  uts.isolates = Isolation{"uts", "set the hostname", "docs/{en,zh}/lab01-uts.md#lab01-flag"};
  const Outcome run = run_pipeline({&uts}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_EQ(run.stderr,
            "99-test: refusing to set the hostname: this process is still in the host's uts namespace "
            "(clone_flags() asked for no CLONE_NEWUTS) \u2014 see docs/{en,zh}/lab01-uts.md#lab01-flag\n");
  EXPECT_FALSE(log.has("setup_outside uts")) << "the child refuses before READY: nothing acts from outside either";
  EXPECT_FALSE(log.has("setup_inside uts"));
  EXPECT_TRUE(log.has("teardown uts"));
}

TEST(SafetyNet, AForgottenLateNamespaceIsCaughtAfterGo) {
  const StepLog log;
  Recording cgroup("cgroup", log);
  cgroup.isolates = Isolation{"cgroup", "limit the container", "docs/{en,zh}/lab08-cgroup.md#lab08-ns", true};
  const Outcome run = run_pipeline({&cgroup}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125);
  EXPECT_NE(run.stderr.find("this process is still in the host's cgroup namespace (unshare_flags() asked for no "
                            "CLONE_NEWCGROUP)"),
            std::string::npos)
      << run.stderr;
  EXPECT_TRUE(log.has("setup_outside cgroup")) << "a late namespace is made after GO, so the outside step ran";
  EXPECT_FALSE(log.has("setup_inside cgroup"));
}

TEST(SafetyNet, NewNamespacesPassAndLateOnesAreCreatedAfterGo) {
  if (!can_create_namespaces()) GTEST_SKIP() << "creating namespaces needs CAP_SYS_ADMIN: run the unit tests as root";
  const StepLog log;
  Recording uts("uts", log);
  uts.flags = CLONE_NEWUTS;
  uts.isolates = Isolation{"uts", "set the hostname", "x"};
  Recording late("ipc", log);
  late.late_flags = CLONE_NEWIPC;
  late.isolates = Isolation{"ipc", "count IPC objects", "y", true};
  const std::string host_ipc = read_namespace_id(0, "ipc").str();
  late.inside = [&log] { log.note("inside ipc is " + read_namespace_id(0, "ipc").str()); };
  const Outcome run = run_pipeline({&uts, &late}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 0) << run.stderr;
  EXPECT_TRUE(log.has("setup_inside ipc"));
  EXPECT_FALSE(log.has("inside ipc is " + host_ipc)) << "unshare(CLONE_NEWIPC) ran before setup_inside:\n" << log.text();
}

TEST(Pipeline, SigtermWhileTheChildSetsUpEndsTheContainerAndTearsDown) {
  const StepLog log;
  Recording slow("slow", log);
  slow.inside = [&log] {
    log.note("child " + std::to_string(::getpid()));
    ::pause();  // a setup_inside that never ends
  };
  const pid_t test = ::getpid();
  std::thread killer([&log, test] {
    for (int i = 0; i < 200 && !log.has("setup_inside slow"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The runtime is the only child of this test process.
    std::ifstream children("/proc/" + std::to_string(test) + "/task/" + std::to_string(test) + "/children");
    pid_t runtime = 0;
    children >> runtime;
    if (runtime > 0) ::kill(runtime, SIGTERM);
  });
  const auto started = std::chrono::steady_clock::now();
  const Outcome run = run_pipeline({&slow}, {"--", "/bin/true"});
  killer.join();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(run.status, 143) << "128+SIGTERM, as if COMMAND had been killed by it\n" << run.stderr;
  EXPECT_LT(took, std::chrono::seconds(3)) << "the runtime must answer SIGTERM while it waits for the child";
  EXPECT_TRUE(log.has("teardown slow"));
  const std::string text = log.text();
  const auto at = text.find("child ");
  ASSERT_NE(at, std::string::npos);
  const pid_t child = static_cast<pid_t>(std::strtol(text.c_str() + at + 6, nullptr, 10));
  EXPECT_NE(::kill(child, 0), 0) << "the child was killed and reaped";
}

TEST(Pipeline, AChildThatDiesDuringSetupIsReportedAsTheRuntimesFailure) {
  const StepLog log;
  Recording crash("crash", log);
  crash.inside = [] { ::kill(::getpid(), SIGILL); };  // a crash (SIGILL: the sanitizers leave it alone)
  const Outcome run = run_pipeline({&crash}, {"--", "/bin/true"});
  EXPECT_EQ(run.status, 125) << "not 132: COMMAND never ran";
  EXPECT_EQ(run.stderr,
            "99-test: the container's first process was killed by SIGILL before COMMAND started (see "
            "docs/{en,zh}/troubleshooting.md#ts-child-died)\n");
}

TEST(Pipeline, AnFdTheCallerLeftOpenDoesNotReachCommand) {
  const StepLog log;
  Recording a("a", log);
  const Outcome run = run_pipeline({&a}, {"--", "/bin/sh", "-c", "test ! -e /proc/self/fd/7"}, [] {
    const int fd = ::open("/", O_RDONLY);  // not close-on-exec, as a shell's `exec 7</` is not
    ::dup2(fd, 7);
  });
  EXPECT_EQ(run.status, 0) << "COMMAND still has fd 7, an fd on the host's root\n" << run.stderr;
}

TEST(Pipeline, AnIgnoredSigchldDoesNotHangTheRuntime) {
  const StepLog log;
  Recording a("a", log);
  const Outcome run = run_pipeline({&a}, {"--", "/bin/sh", "-c", "exit 5"}, [] { (void)::signal(SIGCHLD, SIG_IGN); });
  EXPECT_EQ(run.status, 5) << "an ignored SIGCHLD makes the kernel reap the child unseen\n" << run.stderr;
}

TEST(Pipeline, ClosedStandardFdsAreReopenedSoNarrationCannotTakeTheChannel) {
  const StepLog log;
  Recording a("a", log);
  const Outcome run = run_pipeline({&a}, {"--verbose", "--", "/bin/true"}, [] {
    ::close(STDIN_FILENO);
    ::close(STDERR_FILENO);
  });
  EXPECT_EQ(run.status, 0);
}

}  // namespace
}  // namespace nslab
