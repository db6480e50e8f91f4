#!/usr/bin/env bash
# The sanitizers and the static analysis, one command: a CI step of its own,
# beside scripts/test.sh, as it takes longer (on 2 busy cores, 45 to 60
# minutes: the asan build 8, 20 with a cold ccache; its tests 12; the tidy
# build 25, which clang-tidy's analysis of every file takes):
#
#   1. the asan preset built, and every test (unit tests, every lab's Bats
#      tests, the tools', scripts' and starters' tests) run on it, under
#      AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer. Every
#      report of AddressSanitizer or LeakSanitizer goes to a file of its own,
#      and any fails the run, even one that a test passed over; a finding of
#      UndefinedBehaviorSanitizer ends the program (-fno-sanitize-recover), as
#      the test sees, and its "runtime error:" line in the log fails the run
#      too. A check that cannot hold for a sanitized program skips, saying why
#      (skip_if_sanitized in common/bats/nslab.bash);
#   2. the tidy preset built: every clang-tidy finding is an error.
#
# Ends with one line: "N passed, N failed, N skipped".
#
#   scripts/sanitize.sh                      both
#   scripts/sanitize.sh --asan [-- ARG...]   the sanitizers only; ARGs go to
#                                            ctest (e.g. -- -L lab03: one lab)
#   scripts/sanitize.sh --tidy               clang-tidy only
#
# Build directories: build-asan/ and build-tidy/ (the presets' own), or
# NSLAB_ASAN_BUILD_DIR and NSLAB_TIDY_BUILD_DIR. CMAKE_CXX_COMPILER_LAUNCHER
# (e.g. ccache) is used when set. Needs root, as scripts/test.sh does: the
# labs' tests create namespaces. Exit status 0 when nothing failed, 1 when
# something did, 2 for a bad argument.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
usage="scripts/sanitize.sh [--asan [-- CTEST-ARG...] | --tidy]"
asan=true tidy=true ctest_args=()
case ${1:-} in
  "") ;;
  --asan) tidy=false; shift ;;
  --tidy) asan=false; shift ;;
  -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) echo "sanitize: unknown argument \"$1\" ($usage)" >&2; exit 2 ;;
esac
if [ "${1:-}" = -- ] && ! $tidy; then
  shift
  ctest_args=("$@")
elif [ $# -gt 0 ]; then
  echo "sanitize: unexpected \"$1\" ($usage)" >&2
  exit 2
fi
asan_dir=${NSLAB_ASAN_BUILD_DIR:-$top/build-asan}
tidy_dir=${NSLAB_TIDY_BUILD_DIR:-$top/build-tidy}
passed=0 failed=0 skipped=0
failures=()

step() { printf '\n== %s   (%d min %02d s so far)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }
count() {  # count NAME OK?  — one check that is not a CTest test
  if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}
finish() {
  step "summary"
  for f in "${failures[@]}"; do echo "failed: $f"; done
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit
}

if [ "$(id -u)" != 0 ] && $asan; then
  echo "sanitize: needs root: the labs' tests create namespaces (CAP_SYS_ADMIN); run it as root, or only clang-tidy with --tidy"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  step "setup"
  bash scripts/setup.sh || { echo "sanitize: setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# build PRESET DIR: configures and builds one preset in DIR, warnings as errors.
build() {
  mkdir -p "$2"
  if ! cmake --preset "$1" -B "$2" -DCMAKE_COMPILE_WARNING_AS_ERROR=ON > "$2/configure.log" 2>&1; then
    tail -n 30 "$2/configure.log"
    return 1
  fi
  # Keep going (make -k, ninja -k 0): every finding of clang-tidy, not only
  # the first file's.
  local keep_going=()
  case $(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$2/CMakeCache.txt") in
    *Makefiles) keep_going=(-- -k) ;;
    Ninja*) keep_going=(-- -k 0) ;;
  esac
  cmake --build "$2" -j"$(nproc)" "${keep_going[@]}" > "$2/build.log" 2>&1
}

if $asan; then
  step "asan: the build (ASan + UBSan, Debug)"
  if ! build asan "$asan_dir"; then
    grep -E 'error' "$asan_dir/build.log" | head -n 30
    count "the asan build failed (see $asan_dir/build.log)" 1
    finish
  fi
  step "asan: every test (ctest), each report of AddressSanitizer and LeakSanitizer in a file of its own"
  reports=$asan_dir/sanitizer-reports
  rm -rf "$reports" && mkdir -p "$reports" && chmod 1777 "$reports"
  log=$asan_dir/ctest.log
  # -V: every test's output in the log, skipped ones' reasons included; the
  # progress lines alone on the terminal.
  NSLAB_SANITIZE=1 \
    ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    ctest --test-dir "$asan_dir" -j"$(nproc)" -V "${ctest_args[@]}" > "$log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ Test +#|% tests passed|^Total Test time' "$log"
  ctest_passed=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log")
  ctest_skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log")
  ctest_failed=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception|Not Run)' "$log")
  passed=$((passed + ctest_passed)); skipped=$((skipped + ctest_skipped)); failed=$((failed + ctest_failed))
  if [ "$ctest_passed" -eq 0 ]; then failed=$((failed + 1)); failures+=("ctest ran no test ($log)"); fi
  # What each failed test printed (its lines, "NUMBER: ...", in the -V log).
  while read -r number name; do
    failures+=("$name")
    echo "---- $name"
    grep -E "^$number: " "$log" | cut -d' ' -f2- | tail -n 40
  done < <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#([0-9]+): (.*[^ ]) \.+ *\*\*\*(Failed|Timeout|Exception|Not Run).*/\1 \2/p' "$log")
  # In CI, a skip is either documented in .ci/allowed-skips or one that says
  # the sanitizers are why (skip_if_sanitized).
  while read -r number name; do
    if grep -qE "^$number: ok [0-9]+ .*# skip not under the sanitizers" "$log" ||
       grep -qxF "$name" .ci/allowed-skips 2>/dev/null; then
      echo "skipped: $name: $(grep -E "^$number: ok [0-9]+ .*# skip" "$log" | head -n 1 | sed 's/.*# skip //')"
    elif [ "${CI:-}" = true ]; then
      failed=$((failed + 1)); skipped=$((skipped - 1)); failures+=("undocumented skip in CI: $name")
    else
      echo "skipped: $name: $(grep -E "^$number: ok [0-9]+ .*# skip" "$log" | head -n 1 | sed 's/.*# skip //')"
    fi
  done < <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#([0-9]+): (.*[^ ]) \.+ *\*\*\*Skipped.*/\1 \2/p' "$log")
  # Every report is a finding, whatever the test made of it.
  for report in "$reports"/*; do
    [ -e "$report" ] || continue
    echo "---- sanitizer report $report:"
    head -n 30 "$report"
    failed=$((failed + 1)); failures+=("a sanitizer's report: $report")
  done
  while read -r finding; do
    failed=$((failed + 1)); failures+=("UndefinedBehaviorSanitizer: $finding")
  done < <(grep -E '^[0-9]+: .*runtime error: ' "$log" | cut -d' ' -f2- | sort -u)
fi

if $tidy; then
  step "tidy: clang-tidy over every target it checks, findings as errors"
  build tidy "$tidy_dir"
  status=$?
  if [ "$status" != 0 ]; then
    grep -E '(error|warning): ' "$tidy_dir/build.log" | sort -u | head -n 40
    [ -s "$tidy_dir/build.log" ] || tail -n 30 "$tidy_dir/configure.log"
  fi
  count "clang-tidy found something (see $tidy_dir/build.log)" "$status"
fi
finish
