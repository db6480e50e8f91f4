// Narrator: `--verbose` lines on stderr, and silence without it.
//
// stderr (fd 2) is replaced by a pipe while a test speaks, and put back after.

#include "nslab/narrate.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <string>

#include <gtest/gtest.h>

namespace nslab {
namespace {

class StderrCapture {
 public:
  StderrCapture() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) == -1) return;
    saved_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    read_end_ = fds[0];
    ok_ = saved_ != -1 && ::dup2(fds[1], STDERR_FILENO) != -1;
    ::close(fds[1]);  // fd 2 is now the only write end
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture() {
    restore();
    if (read_end_ != -1) ::close(read_end_);
  }
  [[nodiscard]] bool ok() const { return ok_; }

  // Puts stderr back and returns everything written to it meanwhile.
  std::string finish() {
    restore();
    std::string text;
    std::array<char, 4096> buffer{};
    ssize_t got = 0;
    while ((got = ::read(read_end_, buffer.data(), buffer.size())) > 0) {
      text.append(buffer.data(), static_cast<std::size_t>(got));
    }
    return text;
  }

 private:
  void restore() {
    if (saved_ == -1) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  int saved_ = -1;
  int read_end_ = -1;
  bool ok_ = false;
};

void write_to_stderr(std::string_view text) {
  ASSERT_EQ(::write(STDERR_FILENO, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

TEST(Narrator, SilentWhenNotVerbose) {
  Narrator narrator("01-uts", false);
  EXPECT_FALSE(narrator.enabled());
  StderrCapture capture;
  ASSERT_TRUE(capture.ok());
  narrator.say("clone(CLONE_NEWUTS|SIGCHLD)");
  narrator.set_side("child");
  narrator.say("sethostname(\"box\")");
  write_to_stderr("marker\n");  // proves the capture sees stderr
  EXPECT_EQ(capture.finish(), "marker\n") << "a container's output must be only its own without --verbose";
}

TEST(Narrator, VerboseLineIsProgramSideThenTheStep) {
  const Narrator narrator("01-uts", true);
  EXPECT_TRUE(narrator.enabled());
  StderrCapture capture;
  ASSERT_TRUE(capture.ok());
  narrator.say("clone(CLONE_NEWUTS|SIGCHLD) = 4242");
  EXPECT_EQ(capture.finish(), "[01-uts parent] clone(CLONE_NEWUTS|SIGCHLD) = 4242\n");
}

TEST(Narrator, SetSideChangesTheSideOfLaterLines) {
  Narrator narrator("03-pid", true);
  StderrCapture capture;
  ASSERT_TRUE(capture.ok());
  narrator.say("one");
  narrator.set_side("child");
  narrator.say("two");
  narrator.set_side("init");
  narrator.say("");
  EXPECT_EQ(capture.finish(), "[03-pid parent] one\n[03-pid child] two\n[03-pid init] \n");
}

}  // namespace
}  // namespace nslab
