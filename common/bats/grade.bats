#!/usr/bin/env bats
# scripts/grade.sh as a teacher and a CI job rely on it: points per test from
# the weights file, the lab's and the total line, results.json in
# Gradescope's format and results.xml in JUnit's (both parsed back here), its
# exit status (all pass, a failure, a skip, no test, a build that fails, a bad
# argument), exercises graded only when attempted, the teacher's own tests,
# and the grading without root. Everything runs on a small scratch tree with
# fake labs and tests, in seconds: nothing here builds or grades the real tree.

load nslab

lab_setup() {
  # World-readable, unlike $BATS_TEST_TMPDIR, so that "another user" can run
  # what is copied here.
  SCRATCH=$(mktemp -d /tmp/nslab-grade-test.XXXXXX)
  chmod 755 "$SCRATCH"
  TREE=$SCRATCH/tree
  RESULTS=$TREE/build/grade
}

lab_teardown() {
  rm -rf "$SCRATCH"
}

# clean_env COMMAND...: runs COMMAND without this Bats run's environment, which
# would confuse the Bats that grade.sh starts: the variables, and Bats' own
# libexec/ at the front of PATH.
clean_env() {
  env -i PATH="$(tr ':' '\n' <<< "$PATH" | grep -v '/libexec/bats' | paste -sd:)" HOME="$HOME" "$@"
}

as_nobody() {
  clean_env setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# grade ARG...: runs the tree's scripts/grade.sh as root, output and stderr apart.
grade() {
  run --separate-stderr clean_env bash "$TREE/scripts/grade.sh" "$@"
}

# grade_tree [CMAKE LINE...]: a tree for scripts/grade.sh whose build runs the
# given CMake lines and makes, for each lab of GRADE_LABS (default 01-uts), a
# stand-in program build/bin/labs/NN-name and a target labs_NN-name (one that
# fails for the lab GRADE_BROKEN names); the caller writes the labs' tests
# (lab_tests). The default weights file comes along.
grade_tree() {
  local lab
  mkdir -p "$TREE/scripts"
  cp "$NSLAB_SOURCE_DIR"/scripts/{grade,sandbox}.sh "$NSLAB_SOURCE_DIR/scripts/grade-weights.txt" "$TREE/scripts/"
  cp "$NSLAB_SOURCE_DIR/CMakePresets.json" "$TREE/"
  {
    echo 'cmake_minimum_required(VERSION 3.25)'
    echo 'project(grade_tree LANGUAGES NONE)'
    printf '%s\n' "$@"
    for lab in ${GRADE_LABS:-01-uts}; do
      mkdir -p "$TREE/labs/$lab/tests"
      echo "file(WRITE \${CMAKE_BINARY_DIR}/bin/labs/$lab \"#!/bin/sh\\n\")"
      echo "file(CHMOD \${CMAKE_BINARY_DIR}/bin/labs/$lab PERMISSIONS OWNER_READ OWNER_EXECUTE)"
      if [ "$lab" = "${GRADE_BROKEN:-}" ]; then
        echo "add_custom_target(labs_$lab ALL COMMAND \${CMAKE_COMMAND} -E echo \"$lab.cpp:1:1: error: lab $lab does not compile\" COMMAND false)"
      else
        echo "add_custom_target(labs_$lab ALL)"
      fi
    done
  } > "$TREE/CMakeLists.txt"
}

# lab_tests BODY...: lab 01's tests, one @test per BODY ("name|commands"), in
# lab.bats (GRADE_LAB and GRADE_FILE name another lab and file; GRADE_HEAD is
# written first).
lab_tests() {
  local entry
  {
    [ -z "${GRADE_HEAD:-}" ] || printf '%s\n' "$GRADE_HEAD"
    for entry in "$@"; do
      printf '@test "%s" {\n  %s\n}\n' "${entry%%|*}" "${entry#*|}"
    done
  } > "$TREE/labs/${GRADE_LAB:-01-uts}/tests/${GRADE_FILE:-lab.bats}"
}

# results_summary [DIR]: checks DIR/results.json (default: the tree's
# build/grade/) against Gradescope's fields and their types, and that its score
# is the sum of its tests'; prints "SCORE/MAX PASSED FAILED MODE", then one
# line per test: "SCORE/MAX STATUS NAME". Fails, saying why, if anything is off.
results_summary() {
  python3 - "${1:-$RESULTS}/results.json" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    r = json.load(f)
def check(ok, what):
    if not ok:
        sys.exit("results.json: " + what)
number = (int, float)
check(isinstance(r.get("score"), number) and not isinstance(r["score"], bool), "score is not a number")
check(isinstance(r.get("execution_time"), number), "execution_time is not a number")
check(isinstance(r.get("output"), str), "output is not a string")
check(isinstance(r.get("tests"), list), "tests is not a list")
for t in r["tests"]:
    check(set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}, "a test lacks a field: %r" % t)
    check(isinstance(t["name"], str) and isinstance(t["output"], str), "name or output not a string: %r" % t)
    check(isinstance(t["score"], number) and isinstance(t["max_score"], number), "score or max_score not a number: %r" % t)
    check(t["status"] in ("passed", "failed"), "status neither passed nor failed: %r" % t)
    check(t["visibility"] == "visible", "visibility not visible: %r" % t)
    check(t["score"] == (t["max_score"] if t["status"] == "passed" else 0), "score does not follow status: %r" % t)
check(r["score"] == sum(t["score"] for t in r["tests"]), "score is not the sum of the tests' scores")
mode = r["extra_data"]["mode"]
labs = r["extra_data"]["labs"]
check(sum(l["max_score"] for l in labs) == sum(t["max_score"] for t in r["tests"]), "the labs' max_score is not the tests'")
print("%s/%s %d %d %s" % (r["score"], sum(t["max_score"] for t in r["tests"]),
      sum(t["status"] == "passed" for t in r["tests"]), sum(t["status"] == "failed" for t in r["tests"]), mode))
for t in r["tests"]:
    print("%s/%s %s %s" % (t["score"], t["max_score"], t["status"], t["name"]))
PY
}

# json_field EXPRESSION: a value of results.json, by a Python expression on r.
json_field() {
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' \
    "$RESULTS/results.json" "$1"
}

# junit_summary: results.xml parsed; prints "TESTS FAILURES SKIPPED" of
# <testsuites>, then that of each <testsuite> as counted from its testcases,
# with its name; fails if the counts written disagree with the testcases.
junit_summary() {
  python3 - "$RESULTS/results.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
total = [0, 0, 0]
lines = []
for suite in root.findall("testsuite"):
    cases = suite.findall("testcase")
    counted = [len(cases), sum(c.find("failure") is not None for c in cases),
               sum(c.find("skipped") is not None for c in cases)]
    written = [int(suite.get(k)) for k in ("tests", "failures", "skipped")]
    if counted != written:
        sys.exit("results.xml: %s says %s, its testcases %s" % (suite.get("name"), written, counted))
    total = [a + b for a, b in zip(total, counted)]
    lines.append("%d %d %d %s" % (*counted, suite.get("name")))
if total != [int(root.get(k)) for k in ("tests", "failures", "skipped")]:
    sys.exit("results.xml: testsuites says otherwise than its testsuites")
print("%d %d %d" % tuple(total))
print("\n".join(lines))
PY
}

# --- arguments ---------------------------------------------------------------------

@test "scripts/grade.sh refuses a bad argument with the usage line, exit 2, before it builds anything" {
  grade_tree
  lab_tests "one|true"
  local argument
  for argument in 09 1 --bogus 01-ipc --results "--weights $SCRATCH/none.txt" "--tests $SCRATCH/none"; do
    # shellcheck disable=SC2086  # two words where the case has two
    run --separate-stderr clean_env bash "$TREE/scripts/grade.sh" $argument
    assert_failure 2
    assert_equal "$output" ""
    assert_regex "$stderr" '^(usage: scripts/grade.sh \[NN\.\.\.\] \[--solution\] \[--weights FILE\] \[--tests DIR\] \[--results DIR\]   \(NN: 01; default: every lab\)|grade: --weights .*: no such file|grade: --tests .*: no such directory)$'
  done
  assert [ ! -e "$TREE/build" ]
  # A line of the weights that is no rule is a bad argument too.
  echo "01 many one" > "$SCRATCH/weights.txt"
  grade --weights "$SCRATCH/weights.txt"
  assert_failure 2
  assert_equal "$stderr" "grade: $SCRATCH/weights.txt:1: not a rule \"LAB POINTS TEST\" (POINTS a whole number): 01 many one"
  assert [ ! -e "$TREE/build" ]
}

# --- exit status, text and results ------------------------------------------------

@test "scripts/grade.sh passes when every test ran and passed: each test's points, the lab's line, the total; results.json and results.xml agree" {
  grade_tree
  lab_tests "one|true" "two|true"
  grade
  assert_success
  assert_equal "$stderr" ""
  assert_line --regexp '^ +1/1  pass  one$'
  assert_line --regexp '^ +1/1  pass  two$'
  assert_line "lab 01: 2/2 points (2 of 2 tests pass)"
  assert_line "grade: wrote build/grade/results.json and build/grade/results.xml"
  assert_equal "${lines[-1]}" "total: 2/2 points (2 of 2 tests pass; labs 01)"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "2/2 2 0 root"
  assert_line "1/1 passed lab 01: one"
  assert_line "1/1 passed lab 01: two"
  run junit_summary
  assert_success
  assert_output "2 0 0
2 0 0 lab 01 (01-uts)"
}

@test "scripts/grade.sh fails when a test fails: its explanation under it, in results.json's test and in results.xml's failure, escaped" {
  grade_tree
  # A name and an output that JSON and XML must escape: quotes, <&>, a control character.
  lab_tests "one|true" "two <&> 'quoted'|printf 'expected: a \"box\" <&>\\001\\nread: docs/en/lab01-uts.md\\n' >&2; false"
  grade
  assert_failure 1
  assert_line --regexp "^ +0/1  FAIL  two <&> 'quoted'$"
  assert_line --regexp '^ {15}expected: a "box" <&>.$'
  assert_line --regexp '^ {15}read: docs/en/lab01-uts.md$'
  assert_line "lab 01: 1/2 points (1 of 2 tests pass)"
  assert_equal "${lines[-1]}" "total: 1/2 points (1 of 2 tests pass; labs 01)"
  assert_equal "$stderr" "grade: lab 01: 1 test(s) did not pass: each says above what it expected and which tutorial section explains it"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "1/2 1 1 root"
  assert_line "0/1 failed lab 01: two <&> 'quoted'"
  run json_field '[t["output"] for t in r["tests"] if t["status"] == "failed"][0].split("\n")[-2:]'
  assert_output "['expected: a \"box\" <&>\\x01', 'read: docs/en/lab01-uts.md']"
  run junit_summary
  assert_success
  assert_line --index 0 "2 1 0"
  run python3 -c 'import sys, xml.etree.ElementTree as ET; f = ET.parse(sys.argv[1]).getroot().find(".//failure"); print(f.get("message")); print(f.text.split("\n")[-1])' "$RESULTS/results.xml"
  assert_success
  assert_output "expected: a \"box\" <&>�
read: docs/en/lab01-uts.md"
}

@test "scripts/grade.sh fails when a test is skipped, says which and why; skipped in results.xml, failed in results.json" {
  grade_tree
  lab_tests "one|true" "two|skip 'needs what this machine lacks'"
  grade
  assert_failure 1
  assert_line --regexp '^ +0/1  skip  two: needs what this machine lacks$'
  assert_line "lab 01: 1/2 points (1 of 2 tests pass)"
  assert_equal "$stderr" 'grade: skipped, so not a pass: "two": needs what this machine lacks'
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "1/2 1 1 root"
  run json_field '[t["output"] for t in r["tests"] if t["name"] == "lab 01: two"]'
  assert_output "['skipped, so not a pass: needs what this machine lacks']"
  run junit_summary
  assert_success
  assert_line --index 0 "2 0 1"
}

@test "scripts/grade.sh fails when there is no test to run" {
  grade_tree
  : > "$TREE/labs/01-uts/tests/lab.bats"
  grade
  assert_failure 1
  assert_line "lab 01: 0/0 points (0 of 0 tests pass)"
  assert_equal "${lines[-1]}" "total: 0/0 points (0 of 0 tests pass; labs 01)"
  assert_equal "$stderr" "grade: lab 01: no test ran: nothing was graded"
  run results_summary
  assert_success
  assert_equal "$output" "0/0 0 0 root"
}

@test "scripts/grade.sh fails when the build fails: it says so, every test counts as not run, the errors in results.json's output" {
  GRADE_LABS="01-uts 02-ipc" grade_tree 'message(FATAL_ERROR "the learner'"'"'s code does not compile")'
  lab_tests "one|true"
  GRADE_LAB=02-ipc lab_tests "two|true" "three|true"
  grade
  assert_failure 1
  assert_line "lab 01: 0/1 points (0 of 1 tests pass; not run: the build failed)"
  assert_line "lab 02: 0/2 points (0 of 2 tests pass; not run: the build failed)"
  assert_equal "${lines[-1]}" "total: 0/3 points (0 of 3 tests pass; labs 01 02)"
  refute_line --regexp 'pass  '
  assert_regex "$stderr" "the learner's code does not compile"
  assert_regex "$(tail -n 1 <<< "$stderr")" '^grade: the build failed '
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "0/3 0 3 root"
  run json_field '"the learner'"'"'s code does not compile" in r["output"], set(t["output"] for t in r["tests"])'
  assert_output "(True, {'not run: the build failed'})"
}

@test "scripts/grade.sh grades each lab on its own: one that does not build costs only its own points" {
  GRADE_LABS="01-uts 02-ipc" GRADE_BROKEN=02-ipc grade_tree
  lab_tests "one|true"
  GRADE_LAB=02-ipc lab_tests "two|true"
  grade
  assert_failure 1
  assert_line --regexp '^ +1/1  pass  one$'
  assert_line "lab 01: 1/1 points (1 of 1 tests pass)"
  assert_line "lab 02: 0/1 points (0 of 1 tests pass; not run: its program did not build)"
  assert_regex "$stderr" "02-ipc.cpp:1:1: error: lab 02-ipc does not compile"
  assert_regex "$stderr" "grade: lab 02: its program did not build \\(the errors are above\\); the other labs are graded on their own"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "1/2 1 1 root"
  run json_field '[(l["lab"], l["graded"], l["why"]) for l in r["extra_data"]["labs"]]'
  assert_output "[('01', True, ''), ('02', False, 'its program did not build')]"
  # The lab that builds, asked for alone, passes.
  grade 01
  assert_success
}

@test "scripts/grade.sh: Bats' own failures (a setup_file, the host guard's teardown_file) fail the grading; the tests not run count" {
  grade_tree
  lab_tests "one|true"
  printf '%s\n' 'setup_file() { echo "the sandbox is not ready" >&2; false; }' '@test "two" { true; }' \
    > "$TREE/labs/01-uts/tests/broken.bats"
  printf '%s\n' 'teardown_file() { echo "left on the host: a mount" >&2; false; }' '@test "three" { true; }' \
    > "$TREE/labs/01-uts/tests/guarded.bats"
  grade
  assert_failure 1
  assert_line --regexp '^ +0/1  FAIL  two$'
  assert_line --regexp '^ +1/1  pass  three$'
  assert_line --regexp '^ +0/0  FAIL  setup_file failed$'
  assert_line --regexp '^ +0/0  FAIL  teardown_file failed$'
  assert_line --regexp '^ {15}left on the host: a mount$'
  assert_line "lab 01: 2/3 points (2 of 3 tests pass; and failed: setup_file failed, teardown_file failed)"
  assert_regex "$stderr" "grade: lab 01: a failure outside the tests \(setup_file failed, teardown_file failed\): see above"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "2/3 2 3 root"
  assert_line "0/0 failed lab 01: teardown_file failed"
  assert_line "0/1 failed lab 01: two"
}

# --- weights -------------------------------------------------------------------------

@test "scripts/grade.sh takes each test's points from the weights file: the last rule that matches; a rule that names no test is said" {
  grade_tree
  lab_tests "one|true" "two|true" "three|false"
  printf '%s\n' "# a course's weights" "*   2  *" "01  3  tw?" "0[1-4]  0  three" "01  5  no such test" > "$SCRATCH/weights.txt"
  grade --weights "$SCRATCH/weights.txt"
  assert_failure 1
  assert_line --regexp '^ +2/2  pass  one$'
  assert_line --regexp '^ +3/3  pass  two$'
  assert_line --regexp '^ +0/0  FAIL  three$'
  assert_line "lab 01: 5/5 points (2 of 3 tests pass)"
  assert_regex "$stderr" "grade: $SCRATCH/weights.txt:5: the rule \"01 5 no such test\" names no test of the labs graded"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "5/5 2 1 root"
  assert_line "3/3 passed lab 01: two"
  # The tree's own file, scripts/grade-weights.txt, by default: 1 point each.
  grade
  assert_line "lab 01: 2/3 points (2 of 3 tests pass)"
  echo "01  4  three" >> "$TREE/scripts/grade-weights.txt"
  grade
  assert_line "lab 01: 2/6 points (2 of 3 tests pass)"
}

# --- exercises ---------------------------------------------------------------------

@test "scripts/grade.sh grades an exercise once its answer files are written; until then its tests do not run, nor count, and it says so" {
  grade_tree
  lab_tests "one|true"
  # Exercise 2's test fails if it runs: so it must not, until its answers are written.
  GRADE_FILE=exercises.bats GRADE_HEAD="# answers: 1=first.sh 2=second.cpp,second.sh" lab_tests \
    "exercise 1: a|true" "exercise 1: b|true" "exercise 2: c|false" "exercise: an old name|false"
  mkdir -p "$TREE/labs/01-uts/exercises"
  touch "$TREE/labs/01-uts/exercises/first.sh" "$TREE/labs/01-uts/exercises/second.sh"
  grade
  assert_success
  assert_line --regexp '^ +1/1  pass  exercise 1: a$'
  refute_line --regexp 'exercise 2: c$'
  assert_line "lab 01, exercise 1: 2/2 points"
  assert_line "lab 01, exercise 2: not attempted: 1 test not run, not counted (not written: labs/01-uts/exercises/second.cpp)"
  assert_line 'lab 01, the exercise tests with no number: not attempted: 1 test not run, not counted (named "exercise: ...", with no number to find the answer files by)'
  assert_line "lab 01: 3/3 points (3 of 3 tests pass; exercises not attempted: 2 unnumbered)"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "3/3 3 0 root"
  run json_field '[(e["number"], e["status"], e["tests"]) for e in r["extra_data"]["labs"][0]["exercises"]]'
  assert_output "[('1', 'graded', 2), ('2', 'not attempted', 1), ('?', 'not attempted', 1)]"
  # Attempted, it runs, and counts.
  touch "$TREE/labs/01-uts/exercises/second.cpp"
  grade
  assert_failure 1
  assert_line --regexp '^ +0/1  FAIL  exercise 2: c$'
  assert_line "lab 01, exercise 2: 0/1 points"
  assert_line "lab 01: 3/4 points (3 of 4 tests pass; exercises not attempted: unnumbered)"
  # With --solution every exercise is graded, on the reference answers.
  rm -r "$TREE/labs/01-uts/exercises"
  mkdir -p "$TREE/build/bin/solutions" && cp "$TREE/build/bin/labs/01-uts" "$TREE/build/bin/solutions/"
  grade --solution
  assert_line "lab 01: 3/5 points (3 of 5 tests pass)"
}

@test "scripts/grade.sh: an attempted exercise whose answer does not build fails, its tests not run; the rest of the lab is graded" {
  # The answer's program, as cmake/labs.cmake declares it; its target fails.
  grade_tree 'add_custom_target(exercise_labs_01_uts_answer ALL COMMAND ${CMAKE_COMMAND} -E echo "answer.cpp:3:1: error: expected a semicolon" COMMAND false)'
  mkdir -p "$TREE/cmake" "$TREE/labs/01-uts/exercises"
  echo "nslab_add_exercise(01-uts 01-uts-answer answer.cpp)" > "$TREE/cmake/labs.cmake"
  touch "$TREE/labs/01-uts/exercises/answer.cpp"
  lab_tests "one|true"
  GRADE_FILE=exercises.bats GRADE_HEAD="# answers: 1=answer.cpp" lab_tests "exercise 1: works|true"
  grade
  assert_failure 1
  assert_line --regexp '^ +1/1  pass  one$'
  refute_line --regexp 'pass  exercise 1: works$'
  assert_line "lab 01, exercise 1: 0/1 points"
  assert_line "lab 01: 1/2 points (1 of 2 tests pass)"
  assert_regex "$stderr" "answer.cpp:3:1: error: expected a semicolon"
  assert_regex "$stderr" "grade: lab 01: exercise 1: labs/01-uts/exercises/answer.cpp did not build \\(the errors are above\\)"
  run json_field '[t["output"] for t in r["tests"] if t["name"] == "lab 01: exercise 1: works"]'
  assert_output "['not run: its answer labs/01-uts/exercises/answer.cpp did not build']"
}

# --- the teacher's own tests ---------------------------------------------------------

@test "scripts/grade.sh --tests DIR runs the teacher's DIR/NN-name/*.bats with the public tests, and counts them" {
  grade_tree
  lab_tests "one|true"
  mkdir -p "$SCRATCH/hidden/01-uts"
  # Helpers load as the guide says, from NSLAB_SOURCE_DIR; the file sees the program graded.
  printf '%s\n' '@test "hidden: sees the program" { [ "$NSLAB_BIN" = "$NSLAB_SOURCE_DIR/build/bin/labs/01-uts" ]; }' \
    '@test "hidden: fails" { false; }' > "$SCRATCH/hidden/01-uts/more.bats"
  grade --tests "$SCRATCH/hidden" --results "$SCRATCH/results"
  assert_failure 1
  assert_line --regexp '^ +1/1  pass  hidden: sees the program$'
  assert_line --regexp '^ +0/1  FAIL  hidden: fails$'
  assert_line "lab 01: 2/3 points (2 of 3 tests pass)"
  assert_line "grade: wrote $SCRATCH/results/results.json and $SCRATCH/results/results.xml"
  run results_summary "$SCRATCH/results"
  assert_success
  assert_equal "${lines[0]}" "2/3 2 1 root"
  assert [ ! -e "$RESULTS/results.json" ]
  # Without them, the public tests alone.
  grade
  assert_success
  assert_line "lab 01: 1/1 points (1 of 1 tests pass)"
}

# --- without root ----------------------------------------------------------------------

@test "scripts/grade.sh as another user, a lab without rootless.bats: needs root, said at once, nothing built; its tests count as not run" {
  grade_tree 'message(FATAL_ERROR "grade.sh built as another user")'
  lab_tests "one|true"
  mkdir -m 777 "$SCRATCH/results"
  run --separate-stderr as_nobody bash "$TREE/scripts/grade.sh" 01 --results "$SCRATCH/results"
  assert_failure 1
  assert_equal "$stderr" "grade: needs root: the tests of lab 01 create namespaces (CAP_SYS_ADMIN), so as another user none can run; run it as root (sudo scripts/grade.sh 01)"
  assert_equal "${lines[0]}" "lab 01: 0/1 points (0 of 1 tests pass; not run: the tests of lab 01 need root)"
  assert_equal "${lines[-1]}" "total: 0/1 points (0 of 1 tests pass; labs 01)"
  assert [ ! -e "$TREE/build" ]
  run results_summary "$SCRATCH/results"
  assert_success
  assert_equal "${lines[0]}" "0/1 0 1 rootless"
  assert_line "0/1 failed lab 01: one"
}

# rootless_grade_tree SKIP: lab 07 with a test that needs root in setns.bats,
# and in rootless.bats two that pass and one that skips with SKIP's reason;
# the tree is the user nobody's, who builds it.
rootless_grade_tree() {
  GRADE_LABS=07-setns grade_tree
  GRADE_LAB=07-setns GRADE_FILE=setns.bats lab_tests "as root|false"
  GRADE_LAB=07-setns GRADE_FILE=rootless.bats lab_tests "one|true" "two|true" "three|skip '$1'"
  chown -R 65534:65534 "$TREE"
}

@test "scripts/grade.sh 07 as another user runs rootless.bats alone, says so, and in results.json; its tests that need root are left to the grading as root" {
  rootless_grade_tree "needs root: it starts a root container"
  run --separate-stderr as_nobody bash "$TREE/scripts/grade.sh" 07
  assert_success
  assert_equal "$stderr" ""
  assert_line "grade: without root: only rootless.bats, run as nobody; the other tests of lab 07 need root (sudo scripts/grade.sh 07)"
  assert_line 'grade: left to the grading as root: "three": needs root: it starts a root container'
  refute_line --regexp 'as root$'
  assert_line "lab 07: 2/2 points (2 of 2 tests pass; without root: rootless.bats only, 1 of its tests left to the grading as root)"
  run results_summary
  assert_success
  assert_equal "${lines[0]}" "2/2 2 0 rootless"
  run json_field 'r["extra_data"]["labs"][0]["left_to_root"]'
  assert_output 1
}

@test "scripts/grade.sh 07 as another user fails on a skip in rootless.bats for any other reason" {
  rootless_grade_tree "no user namespaces here"
  run --separate-stderr as_nobody bash "$TREE/scripts/grade.sh" 07
  assert_failure 1
  assert_equal "$stderr" 'grade: skipped, so not a pass: "three": no user namespaces here'
  assert_line "lab 07: 2/3 points (2 of 3 tests pass; without root: rootless.bats only)"
}
