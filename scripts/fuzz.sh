#!/usr/bin/env bash
# Fuzzes nslab's parsers with libFuzzer, under AddressSanitizer and
# UndefinedBehaviorSanitizer: the sizes, --pids and --cpus of lab 08, lab 05's
# addresses and --veth, lab 06's id maps, lab 07's --enter PID, the links of
# /proc/PID/ns, lab 08's whole command line, and what the runtime reads from
# its child on the channel (common/fuzz/, one target per parser). Each target
# checks what its parser promises, not only that nothing crashes: a refusal
# is an nslab::Error on one line, a value taken is in range and is what the
# rule gives, a value written out parses to itself.
#
#   scripts/fuzz.sh                        every target for 5 s, two at a time (scripts/test.sh's run)
#   scripts/fuzz.sh --seconds 600          a longer run: ten minutes per target (before a release,
#                                          or after changing a parser); the corpus found is kept
#   scripts/fuzz.sh --seconds 60 veth cli  some targets only
#   scripts/fuzz.sh --list                 the targets
#
# Options: --seconds N (each target's time, default 5), --jobs N (targets run
# at once, default 2, at most the CPUs online).
#
# Builds the fuzz preset (clang, NSLAB_FUZZ=ON) in NSLAB_FUZZ_BUILD_DIR
# (default: build-fuzz/ of this checkout): configured the first time, with
# ccache where it is installed, then only the fuzz targets are built. Each
# target starts from its seeds, common/fuzz/corpus/NAME/ (read, never
# written), and what it found before, BUILD/corpus/NAME/ (kept between runs).
#
# Prints one line per target, "fuzz: NAME  ok  RUNS runs in S s, corpus N",
# and a summary. A crash, a sanitizer's report or a broken property is
# FOUND: the input is left in BUILD/crashes/, and the line after says what
# broke and the command that runs that input again; fix the parser, and make
# the input a unit test in common/tests/.
#
# Exit status: 0 when no target found anything; 1 when one did, or the build
# failed; 2 for a bad argument; 77 when this machine cannot fuzz (no clang, or
# no libFuzzer runtime), said in one line (scripts/setup.sh installs them).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NSLAB_FUZZ_BUILD_DIR:-$top/build-fuzz}
usage="usage: scripts/fuzz.sh [--seconds N] [--jobs N] [--list] [TARGET...]"

# The longest input each target is given: a value of a few words, a map of
# hundreds of lines (the kernel's limits are 340 lines and 4096 bytes), a
# command line, a few records of the channel (1032 bytes each).
max_len_of() {
  case $1 in
    id_range | channel) echo 8192 ;;
    cli) echo 2048 ;;
    *) echo 256 ;;
  esac
}

known=()
for source in "$top"/common/fuzz/*.cpp; do
  known+=("$(basename "$source" .cpp)")
done

seconds=5
jobs=2
list=false
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds | --jobs)
      if [ $# -lt 2 ] || ! [[ $2 =~ ^[1-9][0-9]{0,5}$ ]]; then
        echo "fuzz: $1 needs a whole number from 1 to 999999 ($usage)" >&2
        exit 2
      fi
      if [ "$1" = --seconds ]; then seconds=$2; else jobs=$2; fi
      shift 2 ;;
    --list) list=true; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option $(printf %q "$1") ($usage)" >&2; exit 2 ;;
    *)
      if ! printf '%s\n' "${known[@]}" | grep -qxF -- "$1"; then
        echo "fuzz: no target $(printf %q "$1") (the targets: ${known[*]})" >&2
        exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
if $list; then
  printf '%s\n' "${known[@]}"
  exit 0
fi
cpus=$(nproc 2>/dev/null || echo 1)
[ "$jobs" -le "$cpus" ] || jobs=$cpus

if ! command -v clang++ >/dev/null; then
  echo "fuzz: cannot fuzz here: no clang++ (Debian: clang libclang-rt-dev, Fedora: clang compiler-rt; scripts/setup.sh installs them)"
  exit 77
fi

# Configure once (again when libFuzzer was missing: the probe runs at each
# configure), then build only the fuzz targets.
started=$SECONDS
mkdir -p "$build" || exit 1
works() { grep -q '^NSLAB_LIBFUZZER_WORKS:INTERNAL=1$' "$build/CMakeCache.txt" 2>/dev/null; }
if ! works; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if [ -f "$build/CMakeCache.txt" ]; then
    configure=(cmake "$build")
  else
    configure=(cmake --preset fuzz -B "$build" "${launcher[@]}")
  fi
  if ! (cd "$top" && "${configure[@]}") > "$build/fuzz-configure.log" 2>&1; then
    tail -n 20 "$build/fuzz-configure.log"
    echo "fuzz: configuring the fuzz preset failed (whole log: $build/fuzz-configure.log)"
    exit 1
  fi
  if ! works; then
    line=$(grep -m1 'nslab: libFuzzer not found' "$build/fuzz-configure.log" | sed 's/^-- nslab: //')
    echo "fuzz: cannot fuzz here: ${line:-libFuzzer not found (see $build/fuzz-configure.log)}"
    exit 77
  fi
fi
# With ccache, a fresh clone in another directory (CI's) reuses what an
# earlier one compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
if ! cmake --build "$build" --target nslab_fuzz -j"$cpus" > "$build/fuzz-build.log" 2>&1; then
  grep -E 'error|Error' "$build/fuzz-build.log" | head -n 20
  echo "fuzz: building the fuzz targets failed (whole log: $build/fuzz-build.log)"
  exit 1
fi
built=$((SECONDS - started))
echo "fuzz: fuzz targets built in ${built} s ($build)"

available=$(sed -n 's/^NSLAB_FUZZ_TARGETS:INTERNAL=//p' "$build/CMakeCache.txt" | tr ';' ' ')
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<< "$available"
fi
for target in "${targets[@]}"; do
  if ! [[ " $available " == *" $target "* ]]; then
    echo "fuzz: target $target is not built here (see the nslab: lines of $build/fuzz-configure.log)"
    exit 1
  fi
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
mkdir -p "$build/crashes" "$build/fuzz-logs"

# One target: libFuzzer for SECONDS, its log in fuzz-logs/NAME.log.
run_target() {
  local target=$1
  mkdir -p "$build/corpus/$target"
  # Its own limit too, well past libFuzzer's: a hang must not hang the run.
  timeout -k 5 $((seconds + 120)) "$build/bin/fuzz/$target" \
    -max_total_time="$seconds" -max_len="$(max_len_of "$target")" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$target-" \
    "$build/corpus/$target" "$top/common/fuzz/corpus/$target" > "$build/fuzz-logs/$target.log" 2>&1
}

# What a target's log says: one line, and the reproduction after a finding.
report_target() {
  local target=$1 status=$2
  local log=$build/fuzz-logs/$target.log runs corpus artifact what
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  corpus=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
  artifact=$(sed -n 's/^.*Test unit written to //p' "$log" | tail -n 1)
  total_runs=$((total_runs + ${runs:-0}))
  if [ "$status" = 0 ] && [ -z "$artifact" ]; then
    printf 'fuzz: %-15s ok     %9s runs in %s s, corpus %s\n' "$target" "${runs:-?}" "$seconds" "${corpus:-?}"
    return
  fi
  found=$((found + 1))
  what=$(grep -m1 -E '^fuzz: property broken: |^SUMMARY: |ERROR: libFuzzer: |==ERROR: ' "$log" | cut -c1-300)
  printf 'fuzz: %-15s FOUND  %9s runs, exit %s: %s\n' "$target" "${runs:-?}" "$status" "${what:-see $log}"
  if [ -n "$artifact" ]; then
    echo "fuzz:   input kept in $artifact; run it again: $build/bin/fuzz/$target $artifact"
  else
    echo "fuzz:   no input kept (whole log: $log)"
  fi
}

total_runs=0
found=0
fuzz_started=$SECONDS
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  batch=("${targets[@]:i:jobs}")
  pids=()
  for target in "${batch[@]}"; do
    run_target "$target" &
    pids+=($!)
  done
  for k in "${!batch[@]}"; do
    wait "${pids[$k]}"
    report_target "${batch[$k]}" $?
  done
done
echo "fuzz: ${#targets[@]} targets, $total_runs runs in $((SECONDS - fuzz_started)) s (+ ${built} s to build): $([ "$found" -eq 0 ] && echo "nothing found" || echo "$found found something")"
[ "$found" -eq 0 ]
