#!/usr/bin/env bash
# Grades a learner's work: builds, then runs each lab's tests against YOUR
# program (build/bin/labs/NN-name, built from labs/NN-name/), inside a
# throw-away sandbox (scripts/sandbox.sh) so that a bug cannot rename or
# remount your real machine, and counts points.
#
#   scripts/grade.sh                 every lab
#   scripts/grade.sh 01 03           labs 01 and 03 (NN or NN-name)
#   scripts/grade.sh 01 --solution   the same tests on the reference program
#   --weights FILE   the points per test (default: scripts/grade-weights.txt,
#                    whose header gives its format; a test it does not name
#                    is worth 1 point)
#   --tests DIR      more tests of your own: DIR/NN-name/*.bats run with the
#                    lab's public ones (they load the helpers with
#                    load "$NSLAB_SOURCE_DIR/common/bats/nslab")
#   --results DIR    where results.json and results.xml go (default:
#                    build/grade/; Gradescope reads /autograder/results/)
#
# What it prints, on standard output: per lab, one line per test (points,
# pass/FAIL/skip, its name; under a failure, the test's own explanation:
# expected, read, got), then "lab NN: X/Y points (P of T tests pass)", and
# last "total: X/Y points (...)". Lines starting "grade: " on standard error
# say what went wrong, one each. It writes results.json, in Gradescope's
# autograder format (score, execution_time, output, tests[] with name, score,
# max_score, status, output, visibility; extra_data says per lab what was
# graded and how), and results.xml, JUnit XML (a testsuite per lab), with
# python3. Exit status 0 only when every test asked for ran and passed: a
# failed or skipped test (a skip never looked at the program), a lab that
# did not build or has no test, or results not written exits 1; a bad
# argument exits 2.
#
# Each lab is graded on its own: its program takes the earlier labs' modules
# from solutions/ (cmake/labs.cmake), and when the whole build fails, each
# lab asked for is built alone, so that lab 03's compile error costs lab 03's
# points only. The build is the learner's own (the default preset): warnings
# are not errors.
#
# Exercises (labs/NN-name/tests/exercises.bats: tests named "exercise N: ...",
# and near the top one line "# answers: 1=FILE[,FILE] 2=FILE ..." naming the
# answer files of each exercise, as in solutions/NN-name/exercises/). An
# exercise is graded only when all its answer files exist in
# labs/NN-name/exercises/; until then its tests are not run, not counted,
# and reported as "not attempted". With --solution every exercise is graded,
# against the reference answers. A test named "exercise: ..." (no number) or
# one whose number no answers line names cannot be matched with the
# learner's files, so it is reported as not attempted too, saying why.
#
# Without root, a lab whose tests include rootless.bats (lab 06 on) is graded
# on that file alone, run directly: an unprivileged program cannot change the
# host, so it needs no sandbox. The lab's closing line and results.json
# (extra_data.mode "rootless") say so. A test there that skips because it
# needs root (its reason starts "needs root", as every such skip in nslab's
# tests does) is left to the grading as root, named in one line, and not
# counted; any other skip still fails. A lab without rootless.bats cannot be
# graded without root: its tests count as not run.
#
# Test names are matched as Bats prints them: plain text in the .bats files
# (no $variables in a test's name).
set -euo pipefail
shopt -s lastpipe  # the TAP reader below runs in this shell, keeping what it counts
top=$(cd "$(dirname "$0")/.." && pwd)
all_labs=()
for dir in "$top"/labs/[0-9][0-9]-*/; do
  dir=${dir%/}
  all_labs+=("${dir##*/}")
done
numbers=$(for lab in "${all_labs[@]}"; do printf '%s ' "${lab:0:2}"; done)
usage="usage: scripts/grade.sh [NN...] [--solution] [--weights FILE] [--tests DIR] [--results DIR]   (NN: ${numbers% }; default: every lab)"

bad_usage() {
  echo "$usage" >&2
  exit 2
}

# absolute PATH: PATH from the caller's working directory, for after the cd below.
absolute() {
  case $1 in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
  esac
}

impl=labs
weights=$top/scripts/grade-weights.txt
results_dir=$top/build/grade
hidden_dirs=()
labs=()
while [ $# -gt 0 ]; do
  case $1 in
    --solution) impl=solutions ;;
    --weights | --tests | --results)
      { [ $# -ge 2 ] && [ -n "$2" ]; } || bad_usage
      case $1 in
        --weights) weights=$(absolute "$2") ;;
        --tests) hidden_dirs+=("$(absolute "$2")") ;;
        --results) results_dir=$(absolute "$2") ;;
      esac
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
      exit 0
      ;;
    [0-9][0-9] | [0-9][0-9]-*)
      lab=""
      for known in "${all_labs[@]}"; do
        [ "$1" != "${known:0:2}" ] && [ "$1" != "$known" ] || lab=$known
      done
      [ -n "$lab" ] || bad_usage
      [[ " ${labs[*]} " == *" $lab "* ]] || labs+=("$lab")
      ;;
    *) bad_usage ;;
  esac
  shift
done
[ ${#labs[@]} -gt 0 ] || labs=("${all_labs[@]}")
for dir in "${hidden_dirs[@]}"; do
  [ -d "$dir" ] || { echo "grade: --tests $dir: no such directory" >&2; exit 2; }
done
[ "$weights" = "$top/scripts/grade-weights.txt" ] || [ -f "$weights" ] ||
  { echo "grade: --weights $weights: no such file" >&2; exit 2; }
cd "$top"

work=$(mktemp -d /tmp/nslab-grade.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/out"
: > "$work/output.txt"  # results.json's "output": what the whole grading says
: > "$work/exercises.tsv"
: > "$work/labs.tsv"

# note TEXT: a line for results.json's output and for standard output.
note() {
  printf '%s\n' "$1" | tee -a "$work/output.txt"
}

# problem TEXT: a "grade: " line on standard error, kept for results.json too.
problem() {
  echo "grade: $1" >&2
  echo "grade: $1" >> "$work/output.txt"
}

# --- the weights -----------------------------------------------------------------
#
# Each rule: LAB POINTS TEST, TEST a pattern of the rest of the line. The last
# rule that matches a test gives its points; none, 1 point.
rule_lab=() rule_points=() rule_test=() rule_line=() rule_used=() rule_seen=()
if [ -f "$weights" ]; then
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}  # a file saved with DOS line ends
    [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    if [[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]+([0-9]+)[[:space:]]+(.*[^[:space:]])[[:space:]]*$ ]]; then
      rule_lab+=("${BASH_REMATCH[1]}") rule_points+=("$((10#${BASH_REMATCH[2]}))")
      rule_test+=("${BASH_REMATCH[3]}") rule_line+=("$n") rule_used+=(0) rule_seen+=(0)
    else
      echo "grade: $weights:$n: not a rule \"LAB POINTS TEST\" (POINTS a whole number): $line" >&2
      exit 2
    fi
  done < "$weights"
fi

# points_of LAB NAME: sets POINTS, the points of test NAME of LAB (NN-name),
# and marks the rules it looked at (seen) and the one that gave them (used).
points_of() {
  local r pattern
  POINTS=1
  for r in "${!rule_lab[@]}"; do
    pattern=${rule_lab[r]}
    # shellcheck disable=SC2053  # the rules are patterns
    [[ ${1:0:2} == $pattern || $1 == $pattern ]] || continue
    rule_seen[r]=1
    pattern=${rule_test[r]}
    # shellcheck disable=SC2053
    if [[ $2 == $pattern ]]; then
      POINTS=${rule_points[r]}
      rule_used[r]=1
    fi
  done
}

# --- which labs can be graded here -------------------------------------------------

rootless=no
[ "$(id -u)" = 0 ] || rootless=yes
me=$(id -un 2>/dev/null || id -u)

# files_of LAB: the test files of LAB, one a line: its own and the teacher's
# (--tests); without root, their rootless.bats only.
files_of() {
  local dir file
  for dir in "$top/labs/$1/tests" "${hidden_dirs[@]/%//$1}"; do
    for file in "$dir"/*.bats; do
      [ -f "$file" ] || continue
      [ "$rootless" = no ] || [ "$(basename "$file")" = rootless.bats ] || continue
      echo "$file"
    done
  done
}

# --- the tests of a lab, read from its files ------------------------------------------
#
# One entry k per test, in these arrays: T_LAB, T_NAME (as Bats prints it),
# T_RAW (as written, which Bats' --filter matches), T_FILE, T_EX (its
# exercise number; "?" for an exercise with no number; "" for a test that is
# no exercise), T_MAX (its points), T_STATE (pending, then pass, fail, skip or
# notrun; "na" an exercise not attempted, "root" left to the grading as root),
# T_MS (its time), T_EXTRA (1: a line of Bats that is not a test of the files,
# such as "teardown_file failed": 0 points, but a failure all the same).
T_LAB=() T_NAME=() T_RAW=() T_FILE=() T_EX=() T_MAX=() T_STATE=() T_MS=() T_EXTRA=()
declare -A ANSWERS  # "LAB N" -> the answer files of exercise N, comma-separated

# read_tests LAB FILE...: adds LAB's tests and answer lines.
read_tests() {
  local lab=$1 file line name raw item items number exercise
  shift
  for file in "$@"; do
    while IFS= read -r line || [ -n "$line" ]; do
      if [[ $line =~ ^#[[:space:]]*answers:[[:space:]]*(.*)$ ]]; then
        read -r -a items <<< "${BASH_REMATCH[1]}"
        for item in "${items[@]}"; do
          if [[ $item =~ ^([0-9]+)=([^=]+)$ ]]; then
            number=$((10#${BASH_REMATCH[1]}))
            ANSWERS["$lab $number"]=${ANSWERS["$lab $number"]:+${ANSWERS["$lab $number"]},}${BASH_REMATCH[2]}
          else
            problem "${file#"$top"/}: the answers line has \"$item\", not N=FILE[,FILE]"
          fi
        done
      # The pattern of bats-preprocess: @test NAME {, the quotes around NAME dropped.
      elif [[ $line =~ ^[[:blank:]]*@test[[:blank:]]+(.*[^[:blank:]])[[:blank:]]+\{ ]]; then
        raw=${BASH_REMATCH[1]#[\'\"]}
        raw=${raw%[\'\"]}
        name=$raw
        if [[ ${BASH_REMATCH[1]} == \"* ]]; then
          # What Bats prints: the name as a double-quoted string, its escapes undone.
          name=${name//\\\"/\"} name=${name//\\\$/\$} name=${name//\\\`/\`} name=${name//\\\\/\\}
        fi
        exercise=""
        if [[ $name =~ ^exercise[[:blank:]]+([0-9]+): ]]; then
          exercise=$((10#${BASH_REMATCH[1]}))
        elif [[ $name =~ ^exercise[[:blank:]]*: ]]; then
          exercise="?"
        fi
        points_of "$lab" "$name"
        T_LAB+=("$lab") T_NAME+=("$name") T_RAW+=("$raw") T_FILE+=("$file") T_EX+=("$exercise")
        T_MAX+=("$POINTS") T_STATE+=(pending) T_MS+=("") T_EXTRA+=(0)
      fi
    done < "$file"
  done
}

# output_of K: the file that holds test K's explanation.
output_of() {
  echo "$work/out/$1"
}

# set_state K STATE TEXT: test K's verdict, and what it says.
set_state() {
  T_STATE[$1]=$2
  if [ -n "$3" ]; then printf '%s\n' "$3"; fi > "$(output_of "$1")"
}

# verdict_line POINTS MAX WORD NAME: one line of a test's verdict, in columns.
verdict_line() {
  printf '%7s  %-4s  %s\n' "$1/$2" "$3" "$4"
}

# re_escape TEXT: TEXT as an extended regular expression matching it alone.
re_escape() {
  local text=$1 out="" c i
  for ((i = 0; i < ${#text}; i++)); do
    c=${text:i:1}
    case $c in
      "\\" | '^' | '$' | '.' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}') out+="\\$c" ;;
      *) out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

# --- the build ---------------------------------------------------------------------

build_log=$work/build.log
build_state=none  # none (nothing to build as this user), ok, partial (some of it failed), failed
# build_errors LOG: the compiler's (or CMake's) errors in LOG, not the pages of progress around them.
build_errors() {
  local errors
  errors=$(grep -E -m 20 -A 3 ': (fatal )?error:|^CMake Error|undefined reference' "$1" || true)
  [ -n "$errors" ] || errors=$(tail -n 30 "$1")
  printf '%s\n' "$errors"
}

gradable=()
for lab in "${labs[@]}"; do
  [ "$rootless" = no ] || [ -f "$top/labs/$lab/tests/rootless.bats" ] && gradable+=("$lab")
done
missing_tool=""
if ! command -v bats >/dev/null; then
  missing_tool="bats not found: install bats, bats-support and bats-assert (scripts/setup.sh; Fedora: see README.md)"
elif ! command -v python3 >/dev/null; then
  missing_tool="python3 not found: it writes results.json and results.xml (Debian: python3; scripts/setup.sh installs it)"
fi
if [ -n "$missing_tool" ]; then
  problem "$missing_tool"
  gradable=()
fi
if [ ${#gradable[@]} -gt 0 ]; then
  echo "grade: building (cmake --preset default; the log goes to ${results_dir#"$top"/}/build.log) ..."
  if ! cmake --preset default > "$build_log" 2>&1; then
    build_state=failed
  elif cmake --build --preset default -j"$(nproc)" >> "$build_log" 2>&1; then
    build_state=ok
  else
    # Everything else that builds, so that each lab can be tried alone below.
    build_state=partial
    keep_going=()
    case $(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' build/CMakeCache.txt 2>/dev/null) in
      "Unix Makefiles") keep_going=(-- -k) ;;
      Ninja*) keep_going=(-- -k 0) ;;
    esac
    cmake --build --preset default -j"$(nproc)" "${keep_going[@]}" >> "$build_log" 2>&1 || true
  fi
  if [ "$build_state" = failed ]; then
    build_errors "$build_log" | tee -a "$work/output.txt" >&2
    problem "the build failed (its errors are above): fix them, then run scripts/grade.sh again"
  fi
fi

# exercise_target LAB FILE: the CMake target of the learner's answer FILE, if
# cmake/labs.cmake declares one (nslab_add_exercise LAB PROGRAM SOURCE).
exercise_target() {
  local program
  program=$(sed -nE "s/^[[:space:]]*nslab_add_exercise\\($1 ([^ )]+) $2([ )].*)?$/\\1/p" cmake/labs.cmake 2>/dev/null | head -1)
  [ -z "$program" ] || echo "exercise_${impl}_${program//[^A-Za-z0-9_]/_}"
}

# --- one lab -------------------------------------------------------------------------

# grade_lab LAB: reads its tests, decides what runs, runs it, prints the verdicts.
grade_lab() {
  local lab=$1 number=${1:0:2} program=build/bin/$impl/$1 k first why="" files=() n
  mapfile -t files < <(files_of "$lab")
  first=${#T_NAME[@]}
  read_tests "$lab" "${files[@]}"
  if [ "$rootless" = yes ] && [ ${#files[@]} -eq 0 ]; then
    # Not one file of it runs without root: all its tests count, not run.
    mapfile -t files < <(rootless=no files_of "$lab")
    read_tests "$lab" "${files[@]}"
  fi
  local last=$((${#T_NAME[@]} - 1)) answer answers unwritten

  # The exercises: which run.
  local -A ex_files=() ex_why=() ex_count=()
  local order=()
  for ((k = first; k <= last; k++)); do
    [ -n "${T_EX[k]}" ] || continue
    n=${T_EX[k]}
    ex_count[$n]=$((${ex_count[$n]:-0} + 1))
    [ -z "${ex_why[$n]+x}" ] || continue
    ex_why[$n]=""
    if [ "$impl" = solutions ]; then
      continue
    elif [ "$n" = "?" ]; then
      ex_why[$n]="named \"exercise: ...\", with no number to find the answer files by"
    elif [ -z "${ANSWERS["$lab $n"]:-}" ]; then
      ex_why[$n]="no \"# answers:\" line in its test file names its answer files"
    else
      unwritten=()
      IFS=, read -r -a answers <<< "${ANSWERS["$lab $n"]}"
      for answer in "${answers[@]}"; do
        [ -e "labs/$lab/exercises/$answer" ] || unwritten+=("labs/$lab/exercises/$answer")
      done
      ex_files[$n]=${ANSWERS["$lab $n"]}
      [ ${#unwritten[@]} -eq 0 ] || ex_why[$n]="not written: $(printf '%s, ' "${unwritten[@]}" | sed 's/, $//')"
    fi
  done
  for ((k = first; k <= last; k++)); do
    n=${T_EX[k]}
    [ -z "$n" ] || [ -z "${ex_why[$n]}" ] || set_state "$k" na "not attempted: ${ex_why[$n]}"
  done

  # Why the lab cannot be graded at all, if it cannot.
  if [ -n "$missing_tool" ]; then
    why=${missing_tool%%:*}
  elif [ "$rootless" = yes ] && [ ! -f "labs/$lab/tests/rootless.bats" ]; then
    why="needs root"
  elif [ "$build_state" = failed ]; then
    why="the build failed"
  elif [ "$build_state" = partial ]; then
    # This lab alone, and the learner's exercise answers that it grades.
    if ! cmake --build --preset default --target "${impl}_$lab" > "$work/build-$lab.log" 2>&1; then
      build_errors "$work/build-$lab.log" | tee -a "$work/output.txt" >&2
      problem "lab $number: its program did not build (the errors are above); the other labs are graded on their own"
      why="its program did not build"
    fi
  fi
  if [ -z "$why" ] && [ ! -x "$program" ]; then
    problem "lab $number: the build made no $program$(grep -m 1 -o 'nslab: [^(]*not built.*' "$build_log" 2>/dev/null | sed 's/^/ (/; s/$/)/' || true)"
    why="the build made no $program"
  fi
  if [ -z "$why" ] && [ "$impl" = labs ] && [ "$build_state" = partial ]; then
    local target
    for n in "${!ex_files[@]}"; do
      [ -z "${ex_why[$n]}" ] || continue
      IFS=, read -r -a answers <<< "${ex_files[$n]}"
      for answer in "${answers[@]}"; do
        target=$(exercise_target "$lab" "$answer")
        [ -n "$target" ] || continue
        cmake --build --preset default --target "$target" > "$work/build-$target.log" 2>&1 && continue
        build_errors "$work/build-$target.log" | tee -a "$work/output.txt" >&2
        problem "lab $number: exercise $n: labs/$lab/exercises/$answer did not build (the errors are above)"
        for ((k = first; k <= last; k++)); do
          [ "${T_EX[k]}" != "$n" ] || set_state "$k" notrun "not run: its answer labs/$lab/exercises/$answer did not build"
        done
      done
    done
  fi

  if [ -n "$why" ]; then
    for ((k = first; k <= last; k++)); do
      [ "${T_STATE[k]}" != pending ] || set_state "$k" notrun "not run: $why"
    done
  else
    run_lab "$lab" "$program" "$first" "$last" "${files[@]}"
  fi
  summarise_lab "$lab" "$first" "${why:-graded}"
  mapfile -t order < <(in_order "${!ex_count[@]}")
  for n in "${order[@]}"; do
    [ -z "${ex_why[$n]}" ] || printf '%s\t%s\t%s\t%s\n' "$lab" "$n" "${ex_count[$n]}" "${ex_why[$n]}" >> "$work/exercises.tsv"
  done
}

# run_lab LAB PROGRAM FIRST LAST FILE...: runs the tests of entries FIRST..LAST
# that are pending, and reads their verdicts.
run_lab() {
  local lab=$1 program=$2 first=$3 last=$4 k filter=() names=() all=yes
  shift 4
  for ((k = first; k <= last; k++)); do
    if [ "${T_STATE[k]}" = pending ]; then
      names+=("$(re_escape "${T_RAW[k]}")")
    else
      all=no
    fi
  done
  [ ${#names[@]} -gt 0 ] || return 0
  echo "lab $lab: testing $program"
  # Only what runs: Bats' --filter, one regular expression of the names.
  [ "$all" = yes ] || filter=(--filter "^($(IFS='|'; echo "${names[*]}"))\$")
  local runner=(env NSLAB_BIN="$top/$program" NSLAB_SOURCE_DIR="$top" NSLAB_BUILD_DIR="$top/build")
  if [ "$rootless" = yes ]; then
    echo "grade: without root: only rootless.bats, run as $me; the other tests of lab ${lab:0:2} need root (sudo scripts/grade.sh ${lab:0:2})"
  else
    runner+=("$top/scripts/sandbox.sh")
  fi
  { "${runner[@]}" bats --tap --timing "${filter[@]}" "$@" || echo "$?" > "$work/bats-status"; } | read_tap "$lab" "$first"
  local status=0
  [ ! -f "$work/bats-status" ] || status=$(cat "$work/bats-status")
  rm -f "$work/bats-status"
  local failed=no
  for ((k = first; k < ${#T_NAME[@]}; k++)); do
    case ${T_STATE[k]} in
      pending)
        set_state "$k" notrun "not run: Bats did not report it (see the lab's output above: a setup_file that failed, or Bats stopped)"
        verdict_line 0 "${T_MAX[k]}" FAIL "${T_NAME[k]}"
        echo "               (not run: Bats did not report it)"
        failed=yes
        ;;
      fail | notrun) failed=yes ;;
    esac
  done
  if [ "$failed" = no ] && [ "$status" != 0 ]; then
    k=${#T_NAME[@]}
    T_LAB+=("$lab") T_NAME+=("bats exited $status") T_RAW+=("") T_FILE+=("") T_EX+=("")
    T_MAX+=(0) T_STATE+=(fail) T_MS+=("") T_EXTRA+=(1)
    printf 'bats exited %s although no test failed (see its output above)\n' "$status" > "$(output_of "$k")"
    verdict_line 0 0 FAIL "bats exited $status although no test failed"
  fi
}

# read_tap LAB FIRST: reads Bats' TAP from standard input, gives each line
# "ok N NAME" or "not ok N NAME" to its test (the first pending one of that
# name from FIRST on), prints its verdict, and keeps a failure's "# " lines as
# its explanation.
read_tap() {
  local lab=$1 first=$2 line rest word reason ms current="" k
  while IFS= read -r line; do
    if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
      rest=${BASH_REMATCH[2]} word=pass reason=""
      [ -z "${BASH_REMATCH[1]}" ] || word=fail
      if [[ $rest =~ ^(.*)\ \#\ skip(\ (.*))?$ ]]; then
        rest=${BASH_REMATCH[1]} word=skip reason=${BASH_REMATCH[3]:-no reason given}
      elif [[ $rest =~ ^(.*)\ \#\ (timeout\ after\ .*)$ ]]; then
        rest=${BASH_REMATCH[1]} reason=${BASH_REMATCH[2]}
      fi
      ms=""
      if [[ $rest =~ ^(.*)\ in\ ([0-9]+)ms$ ]]; then
        rest=${BASH_REMATCH[1]} ms=${BASH_REMATCH[2]}
      fi
      current=""
      for ((k = first; k < ${#T_NAME[@]}; k++)); do
        if [ "${T_STATE[k]}" = pending ] && [ "${T_NAME[k]}" = "$rest" ]; then
          current=$k
          break
        fi
      done
      if [ -z "$current" ]; then
        # Bats' own lines (setup_file failed, teardown_file failed: the
        # host guard's verdict) and what else it reports.
        current=${#T_NAME[@]}
        T_LAB+=("$lab") T_NAME+=("$rest") T_RAW+=("") T_FILE+=("") T_EX+=("")
        T_MAX+=(0) T_STATE+=(pending) T_MS+=("") T_EXTRA+=(1)
      fi
      T_MS[current]=$ms
      if [ "$word" = skip ] && [ "$rootless" = yes ] && [[ $reason == "needs root"* ]]; then
        # The grading as root's, not a skip of this one.
        set_state "$current" root "left to the grading as root: $reason"
        echo "grade: left to the grading as root: \"$rest\": $reason"
      elif [ "$word" = skip ]; then
        set_state "$current" skip "skipped, so not a pass: $reason"
        verdict_line 0 "${T_MAX[current]}" skip "$rest: $reason"
        problem "skipped, so not a pass: \"$rest\": $reason"
      elif [ "$word" = pass ]; then
        set_state "$current" pass ""
        verdict_line "${T_MAX[current]}" "${T_MAX[current]}" pass "$rest"
      else
        set_state "$current" fail "$reason"
        verdict_line 0 "${T_MAX[current]}" FAIL "$rest${reason:+ ($reason)}"
      fi
    elif [[ $line == '# bats warning:'* ]]; then
      # Bats' own remark on the run ("Executed 24 instead of expected 23
      # tests": a teardown_file reported as well), not a test's explanation.
      note "${line#\# }"
    elif [[ $line == '#'* ]] && [ -n "$current" ] && [ "${T_STATE[current]}" = fail ]; then
      line=${line#\#}
      line=${line# }
      printf '%s\n' "$line" >> "$(output_of "$current")"
      if [ -n "$line" ]; then printf '               %s\n' "$line"; else echo; fi
    elif [[ $line == '#'* ]]; then
      # Any other comment outside a failure's explanation: for the lab's output.
      printf '%s\n' "$line" | tee -a "$work/output.txt"
    fi
  done
}

# Totals, over the labs graded so far.
all_score=0 all_max=0 all_passed=0 all_tests=0 all_ok=yes

# summarise_lab LAB FIRST WHY: the lab's closing line, its exercises, and its row of labs.tsv.
summarise_lab() {
  local lab=$1 first=$2 why=$3 number=${1:0:2} k score=0 max=0 passed=0 tests=0 failed=0 skipped=0 left=0 others=()
  local -A ex_score=() ex_max=() not_attempted=()
  for ((k = first; k < ${#T_NAME[@]}; k++)); do
    case ${T_STATE[k]} in
      na) not_attempted[${T_EX[k]}]=1; continue ;;
      root) left=$((left + 1)); continue ;;
      pass) score=$((score + T_MAX[k])) ;;
      skip) skipped=$((skipped + 1)) ;;
      *)
        if [ "${T_EXTRA[k]}" = 1 ]; then others+=("${T_NAME[k]}"); else failed=$((failed + 1)); fi
        ;;
    esac
    max=$((max + T_MAX[k]))
    if [ "${T_EXTRA[k]}" = 0 ]; then
      tests=$((tests + 1))
      [ "${T_STATE[k]}" != pass ] || passed=$((passed + 1))
    fi
    if [ -n "${T_EX[k]}" ]; then
      ex_max[${T_EX[k]}]=$((${ex_max[${T_EX[k]}]:-0} + T_MAX[k]))
      ex_score[${T_EX[k]}]=${ex_score[${T_EX[k]}]:-0}
      [ "${T_STATE[k]}" != pass ] || ex_score[${T_EX[k]}]=$((ex_score[${T_EX[k]}] + T_MAX[k]))
    fi
  done
  local n order=() detail="$passed of $tests tests pass"
  mapfile -t order < <(in_order "${!ex_max[@]}")
  for n in "${order[@]}"; do
    note "lab $number, $(exercise_label "$n"): ${ex_score[$n]}/${ex_max[$n]} points"
  done
  if [ ${#not_attempted[@]} -gt 0 ]; then
    mapfile -t order < <(in_order "${!not_attempted[@]}")
    for n in "${order[@]}"; do
      local count=0
      for ((k = first; k < ${#T_NAME[@]}; k++)); do
        [ "${T_STATE[k]}" != na ] || [ "${T_EX[k]}" != "$n" ] || count=$((count + 1))
      done
      note "lab $number, $(exercise_label "$n"): not attempted: $(tests_word "$count") not run, not counted ($(sed -n '1s/^not attempted: //p' "$(output_of "$(first_na "$first" "$n")")"))"
    done
    detail+="; exercises not attempted: $(in_order "${!not_attempted[@]}" | sed 's/^?$/unnumbered/' | xargs)"
  fi
  if [ "$why" = "needs root" ]; then
    detail+="; not run: the tests of lab $number need root"
    problem "needs root: the tests of lab $number create namespaces (CAP_SYS_ADMIN), so as another user none can run; run it as root (sudo scripts/grade.sh $number)"
  elif [ "$why" != graded ]; then
    detail+="; not run: $why"
  elif [ "$rootless" = yes ]; then
    detail+="; without root: rootless.bats only"
    [ "$left" = 0 ] || detail+=", $left of its tests left to the grading as root"
  fi
  if [ ${#others[@]} -gt 0 ]; then
    detail+="; and failed: $(printf '%s, ' "${others[@]}" | sed 's/, $//')"
  fi
  note "lab $number: $score/$max points ($detail)"
  if [ "$why" != graded ]; then
    all_ok=no
  elif [ "$tests" = 0 ]; then
    problem "lab $number: no test ran: nothing was graded"
    all_ok=no
  fi
  [ "$skipped" = 0 ] || all_ok=no
  if [ "$failed" -gt 0 ]; then
    all_ok=no
    [ "$why" != graded ] || problem "lab $number: $failed test(s) did not pass: each says above what it expected and which tutorial section explains it"
  fi
  if [ ${#others[@]} -gt 0 ]; then
    all_ok=no
    problem "lab $number: a failure outside the tests ($(printf '%s, ' "${others[@]}" | sed 's/, $//')): see above (a teardown_file that fails is the host guard's, naming what the tests left on the host)"
  fi
  all_score=$((all_score + score)) all_max=$((all_max + max))
  all_passed=$((all_passed + passed)) all_tests=$((all_tests + tests))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$number" "$lab" "$why" "$score" "$max" "$passed" "$tests" "$left" >> "$work/labs.tsv"
}

# in_order N...: the exercise numbers N, one a line, in order; "?" (no number) last.
in_order() {
  [ $# -gt 0 ] || return 0
  printf '%s\n' "$@" | grep -vx '?' | sort -n || true
  printf '%s\n' "$@" | grep -x '?' || true
}

# exercise_label N: "exercise N", or what the tests named "exercise: ..." are.
exercise_label() {
  if [ "$1" = "?" ]; then echo "the exercise tests with no number"; else echo "exercise $1"; fi
}

# tests_word N: "1 test", "2 tests".
tests_word() {
  if [ "$1" = 1 ]; then echo "1 test"; else echo "$1 tests"; fi
}

# first_na FIRST N: the first entry from FIRST on of exercise N, not attempted.
first_na() {
  local k
  for ((k = $1; k < ${#T_NAME[@]}; k++)); do
    [ "${T_STATE[k]}" != na ] || [ "${T_EX[k]}" != "$2" ] || { echo "$k"; return 0; }
  done
}

for lab in "${labs[@]}"; do
  grade_lab "$lab"
done

# A rule of the weights for a lab graded here that names none of its tests: a typo, most likely.
for r in "${!rule_lab[@]}"; do
  [ "${rule_seen[r]}" = 0 ] || [ "${rule_used[r]}" = 1 ] ||
    problem "$weights:${rule_line[r]}: the rule \"${rule_lab[r]} ${rule_points[r]} ${rule_test[r]}\" names no test of the labs graded"
done

# --- the results ---------------------------------------------------------------------

# results.json and results.xml, from the entries (tests.tsv, one a line, and
# each one's explanation in out/K) and the labs (labs.tsv, exercises.tsv).
for k in "${!T_NAME[@]}"; do
  [ -f "$(output_of "$k")" ] || : > "$(output_of "$k")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "${T_LAB[k]}" "${T_NAME[k]}" "${T_STATE[k]}" "${T_MAX[k]}" \
    "${T_MS[k]}" "${T_EX[k]}" "${T_FILE[k]#"$top"/}" "${T_EXTRA[k]}"
done > "$work/tests.tsv"
write_results() {
  python3 - "$work" "$results_dir" "$SECONDS" "$rootless" "$impl" "$me" <<'PY'
import json, os, re, sys
import xml.etree.ElementTree as ET

work, results_dir, seconds, rootless, impl, user = sys.argv[1:7]

def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")

def rows(name):
    return [line.split("\t") for line in read(os.path.join(work, name)).splitlines() if line]

tests, labs = [], []
for k, lab, name, state, points, ms, exercise, source, extra in rows("tests.tsv"):
    if state in ("na", "root"):
        continue
    tests.append(dict(lab=lab, name=name, state=state, max=int(points), ms=ms, exercise=exercise,
                      source=source, output=read(os.path.join(work, "out", k)).rstrip("\n")))
not_attempted = {}
for lab, number, count, why in rows("exercises.tsv"):
    not_attempted.setdefault(lab, []).append(
        {"number": number, "status": "not attempted", "tests": int(count), "why": why})
for number, lab, why, score, max_score, passed, count, left in rows("labs.tsv"):
    mine = [t for t in tests if t["lab"] == lab]
    exercises = {}
    for t in mine:
        if t["exercise"]:
            e = exercises.setdefault(t["exercise"], {"number": t["exercise"], "status": "graded",
                                                     "tests": 0, "score": 0, "max_score": 0})
            e["tests"] += 1
            e["max_score"] += t["max"]
            e["score"] += t["max"] if t["state"] == "pass" else 0
    labs.append({"lab": number, "name": lab, "graded": why == "graded",
                 "why": "" if why == "graded" else why,
                 "score": int(score), "max_score": int(max_score),
                 "tests": int(count), "passed": int(passed), "left_to_root": int(left),
                 "exercises": sorted(list(exercises.values()) + not_attempted.get(lab, []),
                                     key=lambda e: (not e["number"].isdigit(), int(e["number"]) if e["number"].isdigit() else 0))})

def gradescope(t):
    return {"name": "lab %s: %s" % (t["lab"][:2], t["name"]),
            "score": t["max"] if t["state"] == "pass" else 0,
            "max_score": t["max"],
            "status": "passed" if t["state"] == "pass" else "failed",
            "output": t["output"],
            "visibility": "visible"}

results = {
    "score": sum(t["max"] for t in tests if t["state"] == "pass"),
    "execution_time": int(seconds),
    "output": read(os.path.join(work, "output.txt")),
    "extra_data": {"mode": "rootless" if rootless == "yes" else "root",
                   "user": user, "program": impl, "labs": labs},
    "tests": [gradescope(t) for t in tests],
}

# JUnit XML: a testsuite per lab. XML 1.0 cannot hold most control characters,
# even escaped: they become U+FFFD.
invalid = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
def clean(text):
    return invalid.sub("\ufffd", text)

def seconds_of(t):
    return "%.3f" % (int(t["ms"]) / 1000) if t["ms"] else "0"

suites = ET.Element("testsuites", name="nslab")
for lab in labs:
    mine = [t for t in tests if t["lab"] == lab["name"]]
    suite = ET.SubElement(suites, "testsuite", name="lab %s (%s)" % (lab["lab"], lab["name"]),
                          tests=str(len(mine)), errors="0",
                          failures=str(sum(t["state"] in ("fail", "notrun") for t in mine)),
                          skipped=str(sum(t["state"] == "skip" for t in mine)),
                          time="%.3f" % sum(float(seconds_of(t)) for t in mine))
    properties = ET.SubElement(suite, "properties")
    for key in ("score", "max_score", "graded", "why"):
        value = lab[key]
        value = ("true" if value else "false") if isinstance(value, bool) else str(value)
        ET.SubElement(properties, "property", name=key, value=clean(value))
    for t in mine:
        case = ET.SubElement(suite, "testcase", name=clean(t["name"]),
                             classname=clean(t["source"] or lab["name"]), time=seconds_of(t))
        # The message: the test's "expected:" line, when it has one.
        lines = t["output"].split("\n")
        first_line = clean(next((l for l in lines if l.startswith("expected:")), lines[0]))
        if t["state"] == "skip":
            ET.SubElement(case, "skipped", message=first_line)
        elif t["state"] != "pass":
            ET.SubElement(case, "failure", message=first_line).text = clean(t["output"])
for key in ("tests", "failures", "errors", "skipped"):
    suites.set(key, str(sum(int(s.get(key)) for s in suites)))
suites.set("time", "%.3f" % sum(float(s.get("time")) for s in suites))

if hasattr(ET, "indent"):  # Python 3.9 on
    ET.indent(suites)
os.makedirs(results_dir, exist_ok=True)
for name, write in (("results.json", lambda f: json.dump(results, f, indent=2, ensure_ascii=False)),
                    ("results.xml", lambda f: ET.ElementTree(suites).write(f, encoding="unicode", xml_declaration=True))):
    path = os.path.join(results_dir, name)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        write(f)
        f.write("\n")
    os.replace(path + ".tmp", path)
PY
}
results_shown=${results_dir#"$top"/}
if [ -z "$missing_tool" ] || [[ $missing_tool != python3* ]]; then
  total_line="total: $all_score/$all_max points ($all_passed of $all_tests tests pass; labs $(printf '%s\n' "${labs[@]}" | cut -c1-2 | xargs))"
  echo "$total_line" >> "$work/output.txt"
  if write_results 2> "$work/results.err"; then
    # The build's whole log beside them (or none: nothing was built).
    if [ -f "$build_log" ]; then cp "$build_log" "$results_dir/build.log"; else rm -f "$results_dir/build.log"; fi
    echo "grade: wrote $results_shown/results.json and $results_shown/results.xml"
  else
    problem "could not write the results to $results_shown: $(tail -n 1 "$work/results.err")"
    all_ok=no
  fi
else
  total_line="total: $all_score/$all_max points ($all_passed of $all_tests tests pass)"
  all_ok=no
fi
echo "$total_line"
[ "$all_ok" = yes ] && [ -z "$missing_tool" ]
