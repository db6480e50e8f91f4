#!/usr/bin/env bash
# Checks a learner's work: builds, then runs lab NN's tests against YOUR program
# (build/bin/labs/NN-name, built from labs/NN-name/), inside a throw-away sandbox
# (scripts/sandbox.sh) so that a bug cannot rename or remount your real machine.
#
#   scripts/grade.sh 01            lab 01's tests on your build/bin/labs/01-uts
#   scripts/grade.sh 01 --solution the same tests on the reference solution
#
# Needs root: the labs' tests create namespaces. Prints each test, then
# "lab NN: N of M tests pass". Exit 0 only when every test ran and passed: a
# failed or skipped test, a failed build, or nothing graded (no root, no test)
# exits 1, with one line saying why, so that an automatic grader records it.
# The build is the learner's own (the default preset): warnings are not errors.
#
# Without root, a lab whose tests include rootless.bats (lab 06 on) is graded
# on that file alone, run directly: an unprivileged program cannot change the
# host, so it needs no sandbox. The closing line then says so:
# "lab 06: N of M tests pass (rootless.bats only: the other lab 06 tests need root)".
# A test of rootless.bats that skips because it needs root (its reason starts
# "needs root", as every such skip in nslab's tests does: lab 07's starts a root
# container beside the user's) is left to the grading as root, like the other
# files, and named in one line; any other skip still fails.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
number=${1:-}
lab=$(cd "$top/labs" && ls -d "${number}"-* 2>/dev/null | head -1)
if [ -z "$number" ] || [ -z "$lab" ]; then
  echo "usage: scripts/grade.sh NN [--solution]   (NN: $(cd "$top/labs" && ls -d [0-9][0-9]-* | cut -c1-2 | xargs))" >&2
  exit 2
fi
impl=labs
[ "${2:-}" = --solution ] && impl=solutions
cd "$top" || exit 1

# The tests to run: all of the lab's, in the sandbox, as root; without root,
# its rootless.bats only (if it has one), directly.
tests=$top/labs/$lab/tests
closing=""
rootless=no
if [ "$(id -u)" != 0 ] && [ -f "$top/labs/$lab/tests/rootless.bats" ]; then
  rootless=yes
  tests=$top/labs/$lab/tests/rootless.bats
  closing=" (rootless.bats only: the other lab $number tests need root)"
fi

# What the tests would count, for the closing line when none could run.
if [ "$rootless" = yes ]; then
  total_tests=$(grep -c '^@test ' "$tests")
else
  total_tests=$(cat "$tests/"*.bats 2>/dev/null | grep -c '^@test ')
fi

# not_graded WHY: says why in one line, closes as usual, and fails.
not_graded() {
  echo "grade: $1" >&2
  echo "lab $number: 0 of $total_tests tests pass$closing"
  exit 1
}

if [ "$(id -u)" != 0 ] && [ "$rootless" = no ]; then
  not_graded "needs root: the labs' tests create namespaces (CAP_SYS_ADMIN), so as another user none can run; run it as root (sudo scripts/grade.sh $*)"
fi
command -v bats >/dev/null ||
  not_graded "bats not found: install bats, bats-support and bats-assert (scripts/setup.sh; Fedora: see README.md)"

build_log=$(mktemp)
out=$(mktemp)
trap 'rm -f "$build_log" "$out"' EXIT
if ! { cmake --preset default >"$build_log" 2>&1 && cmake --build --preset default -j"$(nproc)" >>"$build_log" 2>&1; }; then
  # The compiler's (or CMake's) errors, not the pages of progress around them.
  errors=$(grep -E -m 20 -A 3 ': (fatal )?error:|^CMake Error|undefined reference' "$build_log")
  [ -n "$errors" ] || errors=$(tail -n 30 "$build_log")
  printf '%s\n' "$errors" >&2
  not_graded "the build failed (its errors are above): fix them, then run scripts/grade.sh $* again"
fi
program=$top/build/bin/$impl/$lab
[ -x "$program" ] || not_graded "the build made no $program"

echo "grade: lab $lab, testing $program"
if [ "$rootless" = yes ]; then
  echo "grade: without root: only $(basename "$tests"), run as $(id -un 2>/dev/null || id -u); the other tests of lab $number need root (sudo scripts/grade.sh $*)"
  NSLAB_BIN=$program NSLAB_SOURCE_DIR=$top NSLAB_BUILD_DIR=$top/build bats --tap "$tests" | tee "$out"
else
  NSLAB_BIN=$program NSLAB_SOURCE_DIR=$top NSLAB_BUILD_DIR=$top/build \
    "$top/scripts/sandbox.sh" bats --tap "$tests" | tee "$out"
fi
bats_status=${PIPESTATUS[0]}
total=$(grep -cE '^(ok|not ok) [0-9]+' "$out")
failed=$(grep -cE '^not ok [0-9]+' "$out")
skipped=$(grep -cE '^ok [0-9]+ .* # skip' "$out")
if [ "$rootless" = yes ]; then
  # Tests that need root are the grading as root's, not skips of this one.
  root_only=$(grep -cE '^ok [0-9]+ .* # skip needs root' "$out")
  grep -E '^ok [0-9]+ .* # skip needs root' "$out" |
    sed -E 's/^ok [0-9]+ (.*) # skip (needs root.*)$/grade: left to the grading as root: "\1": \2/'
  if [ "$root_only" -gt 0 ]; then
    total=$((total - root_only)) skipped=$((skipped - root_only))
    closing=" (rootless.bats without the $root_only of its tests that need root, as the other lab $number tests do)"
  fi
  sed -i -E '/^ok [0-9]+ .* # skip needs root/d' "$out"
fi
passed=$((total - failed - skipped))

# A skip is not a pass: the test never looked at the program.
grep -E '^ok [0-9]+ .* # skip' "$out" |
  sed -E 's/^(ok [0-9]+ .*) # skip$/\1 # skip (no reason given)/; s/^ok [0-9]+ (.*) # skip (.*)$/grade: skipped, so not a pass: "\1": \2/' >&2
if [ "$total" -eq 0 ]; then
  echo "grade: no test ran (bats exited $bats_status; see its output above): nothing was graded" >&2
elif [ "$failed" -gt 0 ]; then
  echo "grade: $failed test(s) failed: each says above what it expected and which tutorial section explains it" >&2
elif [ "$skipped" -eq 0 ] && [ "$bats_status" -ne 0 ]; then
  echo "grade: bats exited $bats_status although no test failed (see its output above)" >&2
fi
echo "lab $number: $passed of $total tests pass$closing"
[ "$total" -gt 0 ] && [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$bats_status" -eq 0 ]
