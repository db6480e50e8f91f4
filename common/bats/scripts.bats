#!/usr/bin/env bats
# The build and the scripts as a new user meets them: what configure says when a
# tool is missing, how the programs are linked, where the sources are found, and
# what scripts/test.sh, scripts/grade.sh and scripts/make-starters.sh do before
# they can do their job (as another user, over a learner's work, with nothing
# to grade). Everything runs on copies or fakes in a scratch directory: nothing
# here builds, grades or rewrites the real tree.

load nslab

lab_setup() {
  # World-readable, unlike $BATS_TEST_TMPDIR, so that "another user" can run
  # what is copied here.
  SCRATCH=$(mktemp -d /tmp/nslab-scripts.XXXXXX)
  chmod 755 "$SCRATCH"
}

lab_teardown() {
  rm -rf "$SCRATCH"
}

# clean_env COMMAND...: runs COMMAND without this Bats run's environment, which
# would confuse a Bats that the script under test starts: the variables, and
# Bats' own libexec/ at the front of PATH.
clean_env() {
  env -i PATH="$(tr ':' '\n' <<< "$PATH" | grep -v '/libexec/bats' | paste -sd:)" HOME="$HOME" "$@"
}

as_nobody() {
  clean_env setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# configure BUILD_DIR [ARG...]: configures the real sources into BUILD_DIR.
configure() {
  local dir=$1
  shift
  run cmake -S "$NSLAB_SOURCE_DIR" -B "$dir" "$@"
}

# count_lines REGEX: how many lines of $output match REGEX (grep -E).
count_lines() {
  grep -cE "$1" <<< "$output" || true
}

# --- configure: only a compiler and CMake are needed ---------------------------

@test "configure without GoogleTest, Bats and Doxygen succeeds, says so once each, and registers no test" {
  configure "$SCRATCH/build" -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_Bats=ON -DCMAKE_DISABLE_FIND_PACKAGE_Doxygen=ON
  assert_success
  assert_equal "$(count_lines '^-- nslab: GoogleTest not found: the unit tests are not built \(Debian: libgtest-dev, Fedora: gtest-devel\)$')" 1
  assert_equal "$(count_lines '^-- nslab: Bats not found: the Bats tests are not registered \(Debian: bats bats-support bats-assert, Fedora: bats, .*\)$')" 1
  assert_equal "$(count_lines '^-- nslab: Doxygen not found: .*\(Debian: doxygen, Fedora: doxygen\)$')" 1
  assert_equal "$(count_lines 'not found')" 3
  run ctest --test-dir "$SCRATCH/build" -N
  assert_output --partial "Total Tests: 0"
}

@test "configure without bats-support and bats-assert names them, and registers no Bats test" {
  configure "$SCRATCH/build" -DBATS_SUPPORT_DIR="$SCRATCH/nowhere" -DBATS_ASSERT_DIR="$SCRATCH/nowhere"
  assert_success
  assert_equal "$(count_lines '^-- nslab: bats-support, bats-assert not found: the Bats tests are not registered \(Debian: bats-support bats-assert, Fedora: .*\)$')" 1
  run ctest --test-dir "$SCRATCH/build" -N -L bats
  assert_output --partial "Total Tests: 0"
}

# --- warnings as errors: in scripts/test.sh and CI, not in a learner's build ----

@test "the default preset keeps warnings as warnings; scripts/test.sh and scripts/mutants.sh make them errors" {
  cd "$NSLAB_SOURCE_DIR"
  run cmake --preset default -B "$SCRATCH/build"
  assert_success
  run grep -x 'CMAKE_COMPILE_WARNING_AS_ERROR:[A-Z]*=OFF' "$SCRATCH/build/CMakeCache.txt"
  assert_success
  # What scripts/test.sh adds on the command line wins over the preset.
  run grep -c -- '--preset default -DCMAKE_COMPILE_WARNING_AS_ERROR=ON' scripts/test.sh
  assert_output 1
  run cmake --preset default -B "$SCRATCH/build" -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
  assert_success
  run grep -x 'CMAKE_COMPILE_WARNING_AS_ERROR:[A-Z]*=ON' "$SCRATCH/build/CMakeCache.txt"
  assert_success
  run grep -c -- '^cmake -S "$work/src" -B "$work/build" .*-DCMAKE_COMPILE_WARNING_AS_ERROR=ON' scripts/mutants.sh
  assert_output 1
  # The learner's build, graded, stays lenient.
  run grep -c 'WARNING_AS_ERROR=ON' scripts/grade.sh
  assert_output 0
}

# --- static where possible, dynamic (and said so) otherwise ---------------------

@test "with everything installed: nothing said missing, the Bats tests registered, and the programs and chroot-escape linked statically" {
  configure "$SCRATCH/build"
  assert_success
  assert_equal "$(count_lines '^-- nslab: linking the programs statically')" 1
  # The negative control of the tests above.
  assert_equal "$(count_lines '^-- nslab: .*not found')" 0
  run ctest --test-dir "$SCRATCH/build" -N -L bats
  refute_output --partial "Total Tests: 0"
  run grep -c -- ' -static ' "$SCRATCH/build/CMakeFiles/solutions_01-uts.dir/link.txt" \
    "$SCRATCH/build/CMakeFiles/labs_01-uts.dir/link.txt" \
    "$SCRATCH/build/CMakeFiles/exercise_chroot_escape.dir/link.txt"
  refute_output --partial ':0'
}

@test "without a static libstdc++ the build is dynamic, and one line says so and what it costs" {
  # An empty libstdc++.a found first: a static link of C++ fails, as where the
  # static library is not installed; a plain program still links.
  mkdir "$SCRATCH/lib"
  ar rc "$SCRATCH/lib/libstdc++.a"
  configure "$SCRATCH/build" -DCMAKE_EXE_LINKER_FLAGS="-L$SCRATCH/lib"
  assert_success
  assert_equal "$(count_lines '^-- nslab: static libc or libstdc\+\+ not found: linking dynamically, .*chroot-escape cannot run inside .* \(Debian: libc6-dev libstdc\+\+.*-dev, Fedora: glibc-static libstdc\+\+-static\)$')" 1
  assert_equal "$(count_lines '^-- nslab: linking')" 0
  run grep -l -- '-static' "$SCRATCH/build/CMakeFiles/solutions_01-uts.dir/link.txt" \
    "$SCRATCH/build/CMakeFiles/exercise_chroot_escape.dir/link.txt"
  assert_output ""
}

# --- sources found, not listed ---------------------------------------------------

# target_of FILE: the target whose object FILE (a path under the copy) compiles to.
target_of() {
  jq -r --arg file "$SCRATCH/src/$1" '.[] | select(.file == $file) | .command' "$SCRATCH/build/compile_commands.json" |
    grep -oE 'CMakeFiles/[^ /]+\.dir/' | sed -E 's|CMakeFiles/(.*)\.dir/|\1|' | sort -u | xargs
}

@test "a lab's module library takes every .cpp beside main.cpp, the learner's program every .cpp, nslab_common every src/*.cpp" {
  mkdir "$SCRATCH/src"
  (cd "$NSLAB_SOURCE_DIR" && cp -r CMakeLists.txt CMakePresets.json cmake common docs labs solutions "$SCRATCH/src/")
  echo 'int nslab_probe_solution() { return 1; }' > "$SCRATCH/src/solutions/01-uts/probe_extra.cpp"
  echo 'int nslab_probe_labs() { return 1; }' > "$SCRATCH/src/labs/01-uts/probe_extra.cpp"
  echo 'int nslab_probe_common() { return 1; }' > "$SCRATCH/src/common/src/probe_extra.cpp"
  run cmake -S "$SCRATCH/src" -B "$SCRATCH/build"
  assert_success
  assert_equal "$(target_of solutions/01-uts/probe_extra.cpp)" solution_module_01-uts
  assert_equal "$(target_of labs/01-uts/probe_extra.cpp)" labs_01-uts
  assert_equal "$(target_of common/src/probe_extra.cpp)" nslab_common
  # main.cpp is the program's, exercises/ are programs of their own.
  assert_equal "$(target_of solutions/01-uts/main.cpp)" solutions_01-uts
  assert_equal "$(target_of labs/01-uts/main.cpp)" labs_01-uts
  assert_equal "$(target_of solutions/04-mount/exercises/chroot_escape.cpp)" exercise_chroot_escape
}

# --- scripts/test.sh and scripts/grade.sh as another user -----------------------

@test "scripts/test.sh as another user says at once that it needs root, and fails" {
  mkdir -p "$SCRATCH/tree/scripts"
  cp "$NSLAB_SOURCE_DIR"/scripts/{test,setup}.sh "$SCRATCH/tree/scripts/"
  run as_nobody bash "$SCRATCH/tree/scripts/test.sh"
  assert_failure
  assert_equal "${lines[0]}" "test: needs root: the labs' tests, the mutant check and its sandbox create namespaces (CAP_SYS_ADMIN); run it as root (sudo scripts/test.sh), or grade one lab with scripts/grade.sh NN, as root too"
  assert_equal "${lines[-1]}" "0 passed, 1 failed, 0 skipped"
  assert_equal "${#lines[@]}" 2
}

# grade_tree [CMAKE LINE...]: a tree for scripts/grade.sh whose build runs the
# given CMake lines and makes a stand-in build/bin/labs/01-uts, and whose lab
# 01 has the tests that the caller writes to $SCRATCH/tree/labs/01-uts/tests/.
grade_tree() {
  local tree=$SCRATCH/tree
  mkdir -p "$tree/scripts" "$tree/labs/01-uts/tests"
  cp "$NSLAB_SOURCE_DIR"/scripts/{grade,sandbox}.sh "$tree/scripts/"
  cp "$NSLAB_SOURCE_DIR/CMakePresets.json" "$tree/"
  {
    echo 'cmake_minimum_required(VERSION 3.25)'
    echo 'project(grade_tree LANGUAGES NONE)'
    printf '%s\n' "$@"
    echo 'file(WRITE ${CMAKE_BINARY_DIR}/bin/labs/01-uts "#!/bin/sh\n")'
    echo 'file(CHMOD ${CMAKE_BINARY_DIR}/bin/labs/01-uts PERMISSIONS OWNER_READ OWNER_EXECUTE)'
  } > "$tree/CMakeLists.txt"
}

# lab_tests BODY...: lab 01's tests, one @test per BODY ("name|commands").
lab_tests() {
  local entry
  for entry in "$@"; do
    printf '@test "%s" {\n  %s\n}\n' "${entry%%|*}" "${entry#*|}"
  done > "$SCRATCH/tree/labs/01-uts/tests/lab.bats"
}

@test "scripts/grade.sh as another user says at once that it needs root, and fails" {
  grade_tree 'message(FATAL_ERROR "grade.sh built as another user")'
  lab_tests "passes|true"
  run --separate-stderr as_nobody bash "$SCRATCH/tree/scripts/grade.sh" 01
  assert_failure
  assert_equal "$stderr" "grade: needs root: the labs' tests create namespaces (CAP_SYS_ADMIN), so as another user none can run; run it as root (sudo scripts/grade.sh 01)"
  assert_equal "$output" "lab 01: 0 of 1 tests pass"
  assert [ ! -e "$SCRATCH/tree/build" ]
}

@test "scripts/grade.sh passes when every test ran and passed" {
  grade_tree
  lab_tests "one|true" "two|true"
  run --separate-stderr clean_env bash "$SCRATCH/tree/scripts/grade.sh" 01
  assert_success
  assert_equal "${lines[-1]}" "lab 01: 2 of 2 tests pass"
  assert_equal "$stderr" ""
}

@test "scripts/grade.sh fails when a test fails" {
  grade_tree
  lab_tests "one|true" "two|false"
  run --separate-stderr clean_env bash "$SCRATCH/tree/scripts/grade.sh" 01
  assert_failure
  assert_equal "${lines[-1]}" "lab 01: 1 of 2 tests pass"
  assert_equal "$(grep -c '^grade: ' <<< "$stderr")" 1
  assert_regex "$stderr" '^grade: 1 test\(s\) failed'
}

@test "scripts/grade.sh fails when a test is skipped, and says which and why" {
  grade_tree
  lab_tests "one|true" "two|skip 'needs what this machine lacks'"
  run --separate-stderr clean_env bash "$SCRATCH/tree/scripts/grade.sh" 01
  assert_failure
  assert_equal "${lines[-1]}" "lab 01: 1 of 2 tests pass"
  assert_equal "$stderr" 'grade: skipped, so not a pass: "two": needs what this machine lacks'
}

@test "scripts/grade.sh fails when there is no test to run" {
  grade_tree
  : > "$SCRATCH/tree/labs/01-uts/tests/lab.bats"
  run --separate-stderr clean_env bash "$SCRATCH/tree/scripts/grade.sh" 01
  assert_failure
  assert_equal "${lines[-1]}" "lab 01: 0 of 0 tests pass"
  assert_regex "$stderr" '^grade: no test ran .*nothing was graded$'
}

@test "scripts/grade.sh fails when the build fails, and says so" {
  grade_tree 'message(FATAL_ERROR "the learner'"'"'s code does not compile")'
  lab_tests "one|true"
  run --separate-stderr clean_env bash "$SCRATCH/tree/scripts/grade.sh" 01
  assert_failure
  assert_equal "$output" "lab 01: 0 of 1 tests pass"
  assert_regex "$stderr" "the learner's code does not compile"
  assert_regex "$(tail -n 1 <<< "$stderr")" '^grade: the build failed '
}

# --- scripts/make-starters.sh keeps a learner's work ----------------------------

# starters_tree [--no-git]: what make-starters.sh reads and writes, committed in
# a git checkout of its own (or not a checkout at all).
starters_tree() {
  local tree=$SCRATCH/tree
  mkdir -p "$tree/scripts"
  cp "$NSLAB_SOURCE_DIR/scripts/make-starters.sh" "$tree/scripts/"
  cp -r "$NSLAB_SOURCE_DIR/solutions" "$NSLAB_SOURCE_DIR/labs" "$tree/"
  [ "${1:-}" = --no-git ] && return 0
  git -C "$tree" init -q
  git -C "$tree" add -A
  git -C "$tree" -c user.name=nslab -c user.email=nslab@localhost -c commit.gpgsign=false commit -qm starters
}

@test "scripts/make-starters.sh refuses to overwrite uncommitted work in labs/, unless --force" {
  starters_tree
  cd "$SCRATCH/tree"
  echo '// the learner was here' >> labs/01-uts/uts.cpp
  run bash scripts/make-starters.sh
  assert_failure 1
  assert_output "make-starters: labs/ has work that is not committed (labs/01-uts/uts.cpp), which this would overwrite: commit it, or run scripts/make-starters.sh --force"
  run tail -n 1 labs/01-uts/uts.cpp
  assert_output '// the learner was here'
  run bash scripts/make-starters.sh --force
  assert_success
  run bash scripts/make-starters.sh --check
  assert_success
}

@test "scripts/make-starters.sh refuses over an untracked file in labs/; changes in labs/*/tests/ do not count" {
  starters_tree
  cd "$SCRATCH/tree"
  echo '# a teacher edits a test' >> labs/01-uts/tests/uts.bats
  mkdir -p labs/05-net/tests && touch labs/05-net/tests/net.bats
  run bash scripts/make-starters.sh
  assert_success
  git add -A && git -c user.name=nslab -c user.email=nslab@localhost -c commit.gpgsign=false commit -qm regenerated
  touch labs/01-uts/notes.cpp labs/02-ipc/notes.hpp
  run bash scripts/make-starters.sh
  assert_failure 1
  assert_output "make-starters: labs/ has work that is not committed (labs/01-uts/notes.cpp and 1 more), which this would overwrite: commit it, or run scripts/make-starters.sh --force"
}

@test "scripts/make-starters.sh outside a git checkout refuses unless --force" {
  starters_tree --no-git
  cd "$SCRATCH/tree"
  # A checkout around the scratch directory would be found instead.
  run git rev-parse --is-inside-work-tree
  assert_failure
  run bash scripts/make-starters.sh
  assert_failure 1
  assert_regex "$output" '^make-starters: cannot tell whether labs/ holds uncommitted work \(git: not a git repository.*\): run scripts/make-starters.sh --force to overwrite labs/ all the same$'
  assert_equal "${#lines[@]}" 1
  run bash scripts/make-starters.sh --force
  assert_success
}
