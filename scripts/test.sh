#!/usr/bin/env bash
# The one test command: installs what is missing, builds, and runs every test —
# unit tests, the labs' Bats tests on the solutions, the starters (they must fail
# safely, and match what scripts/make-starters.sh makes), the tutorials (English
# and Chinese, zero Doxygen warnings) and the mutant check.
# Ends with one line: "N passed, N failed, N skipped".
#
#   scripts/test.sh
#
# Needs root for the labs' tests (labs 01-05 create namespaces). On a learner's
# checkout, where labs/ holds your own work, use scripts/grade.sh NN instead.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log=$top/build/test-logs
passed=0 failed=0 skipped=0
failures=()

step() { printf '\n== %s\n' "$*"; }
count() {  # count NAME OK?  — one check that is not a CTest test
  if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

step "setup"
bash scripts/setup.sh || { echo "test: setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

step "build"
if ! { cmake --preset default >/dev/null && cmake --build --preset default -j"$(nproc)"; }; then
  echo "test: the build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
mkdir -p "$log"

step "unit tests, Bats tests of the labs and the starters (ctest)"
ctest --test-dir build -j"$(nproc)" --output-on-failure 2>&1 | tee "$log/ctest.log"
ctest_passed=$(grep -cE 'Test +#[0-9]+: .* Passed' "$log/ctest.log")
ctest_skipped=$(grep -cE 'Test +#[0-9]+: .*\*\*\*Skipped' "$log/ctest.log")
ctest_failed=$(grep -cE 'Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception|Not Run)' "$log/ctest.log")
passed=$((passed + ctest_passed)); skipped=$((skipped + ctest_skipped)); failed=$((failed + ctest_failed))
[ "$ctest_failed" -eq 0 ] || failures+=("$ctest_failed CTest test(s), see above")
if [ "$ctest_passed" -eq 0 ]; then failed=$((failed + 1)); failures+=("ctest ran no test"); fi
# In CI, a skip must be one we documented (.ci/allowed-skips), never a hidden failure.
if [ "${CI:-}" = true ] && [ "$ctest_skipped" -gt 0 ]; then
  while IFS= read -r name; do
    if ! grep -qxF "$name" .ci/allowed-skips 2>/dev/null; then
      failed=$((failed + 1)); skipped=$((skipped - 1)); failures+=("undocumented skip in CI: $name")
    fi
  done < <(grep -E '\*\*\*Skipped' "$log/ctest.log" | sed -E 's/^.*Test +#[0-9]+: (.*[^ ]) \.+.*$/\1/; s/ \.+\*\*\*Skipped.*//')
fi

step "docs: the English and Chinese tutorials build with zero Doxygen warnings"
cmake --build build --target docs 2>&1 | tail -n 20
count "the tutorials do not build without warnings (cmake --build build --target docs)" "${PIPESTATUS[0]}"

step "starters: labs/ is what scripts/make-starters.sh makes from solutions/"
bash scripts/make-starters.sh --check
count "starters drifted from solutions (scripts/make-starters.sh)" $?

step "mutants: each lab's tests catch the loss of its isolation"
bash scripts/mutants.sh | tee "$log/mutants.log"
mutants_killed=$(grep -c ': killed by' "$log/mutants.log")
mutants_bad=$(grep -cE 'SURVIVED|BROKEN|FAILED' "$log/mutants.log")
passed=$((passed + mutants_killed)); failed=$((failed + mutants_bad))
[ "$mutants_bad" -eq 0 ] || failures+=("$mutants_bad mutant check(s), see above")
[ "$mutants_killed" -gt 0 ] || { failed=$((failed + 1)); failures+=("no mutant ran"); }

step "summary"
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
