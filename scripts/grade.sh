#!/usr/bin/env bash
# Checks a learner's work: builds, then runs lab NN's tests against YOUR program
# (build/bin/labs/NN-name, built from labs/NN-name/), inside a throw-away sandbox
# (scripts/sandbox.sh) so that a bug cannot rename or remount your real machine.
#
#   scripts/grade.sh 01            lab 01's tests on your build/bin/labs/01-uts
#   scripts/grade.sh 01 --solution the same tests on the reference solution
#
# Prints each test, then "lab NN: N of M tests pass". Exit 0 when all pass.
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
cd "$top"
cmake --preset default >/dev/null && cmake --build --preset default -j"$(nproc)" >/dev/null || {
  echo "grade: the build failed; run: cmake --build --preset default" >&2; exit 1; }
program=$top/build/bin/$impl/$lab
echo "grade: lab $lab, testing $program"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
NSLAB_BIN=$program NSLAB_SOURCE_DIR=$top NSLAB_BUILD_DIR=$top/build \
  "$top/scripts/sandbox.sh" bats "$top/labs/$lab/tests" | tee "$out"
total=$(grep -cE '^(ok|not ok) ' "$out")
bad=$(grep -c '^not ok ' "$out")
echo "lab $number: $((total - bad)) of $total tests pass"
[ "$bad" -eq 0 ]
