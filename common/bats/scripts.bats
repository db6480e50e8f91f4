#!/usr/bin/env bats
# The build and the scripts as a new user meets them: what configure says when a
# tool is missing, how the programs are linked, where the sources are found, and
# what scripts/test.sh and scripts/make-starters.sh do before they can do
# their job (as another user, over a learner's work; scripts/grade.sh's tests
# are in grade.bats); the sandbox's cgroup subtree; and the demo's lab 07 step,
# with and without tmux, its lab 08 step, its probe steps and its build
# progress. Everything runs
# on copies or fakes in a scratch directory, or (the demo) on the build under
# test: nothing here builds, grades or rewrites the real tree.

load nslab

lab_setup() {
  # World-readable, unlike $BATS_TEST_TMPDIR, so that "another user" can run
  # what is copied here.
  SCRATCH=$(mktemp -d /tmp/nslab-scripts.XXXXXX)
  chmod 755 "$SCRATCH"
}

lab_teardown() {
  # A sandbox of a sandbox test that failed half-way: its cleaner removes its cgroups.
  if [ -n "${SANDBOX_PID:-}" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill -KILL "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
  fi
  # A tmux server of a demo test, should the test have failed half-way.
  [ ! -S "$SCRATCH/tmux.sock" ] || tmux -S "$SCRATCH/tmux.sock" kill-server 2>/dev/null || true
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
    "$SCRATCH/build/CMakeFiles/exercise_solutions_chroot_escape.dir/link.txt"
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
    "$SCRATCH/build/CMakeFiles/exercise_solutions_chroot_escape.dir/link.txt"
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
  assert_equal "$(target_of solutions/04-mount/exercises/chroot_escape.cpp)" exercise_solutions_chroot_escape
}

# --- scripts/test.sh as another user ---------------------------------------------

@test "scripts/test.sh as another user says at once that it needs root, and fails" {
  mkdir -p "$SCRATCH/tree/scripts"
  cp "$NSLAB_SOURCE_DIR"/scripts/{test,setup}.sh "$SCRATCH/tree/scripts/"
  run as_nobody bash "$SCRATCH/tree/scripts/test.sh"
  assert_failure
  assert_equal "${lines[0]}" "test: needs root: the labs' tests, the mutant check and its sandbox create namespaces (CAP_SYS_ADMIN); run it as root (sudo scripts/test.sh), or grade one lab with scripts/grade.sh NN, as root too"
  assert_equal "${lines[-1]}" "0 passed, 1 failed, 0 skipped"
  assert_equal "${#lines[@]}" 2
}

# --- scripts/sandbox.sh: a cgroup subtree of its own ----------------------------
#
# The sandbox (scripts/mutants.sh and scripts/grade.sh run the labs' tests in
# it) makes a cgroup S = /nslab-sandbox.<PID> in every hierarchy, exports its
# path as NSLAB_CGROUP_BASE, and removes S when the command has ended, with
# whatever is in it. These tests run it for real (it needs root, as this file
# does), its command and the processes they put in S marked for the host guard.
# One end cannot be tested, for no script can survive it: a SIGKILL of the
# sandbox's cleaner as well as of the sandbox (S then stays, empty).

# The hierarchies S is made in: the cgroup2 root on pure v2; else each of the
# memory, pids and cpu hierarchies and the cgroup2 one at unified/ that is mounted.
sandbox_hierarchies() {
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    echo /sys/fs/cgroup
    return 0
  fi
  local name
  for name in memory pids cpu unified; do
    case $(stat -f -c %T "/sys/fs/cgroup/$name" 2>/dev/null) in
      cgroupfs | cgroup2fs) echo "/sys/fs/cgroup/$name" ;;
    esac
  done
}

# start_sandbox COMMAND: the sandbox running sh -c COMMAND in the background,
# marked; COMMAND first writes NSLAB_CGROUP_BASE to $SCRATCH/base. Sets
# SANDBOX_PID (the sandbox's script) and SANDBOX_BASE (S, once written).
start_sandbox() {
  (NSLAB_GUARD=$NSLAB_GUARD_TOKEN exec bash "$NSLAB_SOURCE_DIR/scripts/sandbox.sh" \
     sh -c "echo \"\$NSLAB_CGROUP_BASE\" > '$SCRATCH/base.part' && mv '$SCRATCH/base.part' '$SCRATCH/base'; $1") \
    > "$SCRATCH/sandbox.out" 2>&1 3>&- &
  SANDBOX_PID=$!
  wait_for 10 test -s "$SCRATCH/base"
  SANDBOX_BASE=$(cat "$SCRATCH/base")
}

# The command of a sandbox that waits until the test creates $SCRATCH/go.
until_go() {
  echo "until [ -e '$SCRATCH/go' ]; do sleep 0.05; done"
}

# finish_sandbox: waits for the sandbox (10 s at most); sets status.
finish_sandbox() {
  wait_for 10 nslab_not_running "$SANDBOX_PID"
  status=0
  wait "$SANDBOX_PID" || status=$?
  SANDBOX_PID=""
}

# expect_no_sandbox_cgroup WHAT: S has gone from every hierarchy.
expect_no_sandbox_cgroup() {
  local root
  for root in $(sandbox_hierarchies); do
    [ ! -e "$root$SANDBOX_BASE" ] || fail "$1: $root$SANDBOX_BASE is still there: $(find "$root$SANDBOX_BASE" -type d | xargs)"
  done
}

# park_in CGROUP: a process of the test's own (sleep, marked), moved into
# CGROUP; its PID is added to PARKED.
park_in() {
  (NSLAB_GUARD=$NSLAB_GUARD_TOKEN exec sleep 1000) >/dev/null 2>&1 3>&- &
  PARKED+=("$!")
  echo "$!" > "$1/cgroup.procs"
}

# expect_parked_killed: each process of PARKED ended by SIGKILL.
expect_parked_killed() {
  local pid status
  for pid in "${PARKED[@]}"; do
    status=0
    wait "$pid" || status=$?
    assert_equal "$status" 137  # 128 + SIGKILL
  done
}

@test "scripts/sandbox.sh: NSLAB_CGROUP_BASE names a cgroup of its own, /nslab-sandbox.PID in every hierarchy; gone after; COMMAND's exit status" {
  local hierarchies root
  hierarchies=$(sandbox_hierarchies)
  [ -n "$hierarchies" ] || fail "no cgroup hierarchy at /sys/fs/cgroup"
  # shellcheck disable=SC2016  # expanded by the sandbox's sh
  run --separate-stderr bash "$NSLAB_SOURCE_DIR/scripts/sandbox.sh" sh -c \
    'echo "$NSLAB_CGROUP_BASE"; for root in "$@"; do [ -d "$root$NSLAB_CGROUP_BASE" ] && echo "$root: a directory"; done; exit 3' \
    sh $hierarchies
  assert_equal "$status" 3
  assert_equal "$stderr" ""
  assert_regex "${lines[0]}" '^/nslab-sandbox\.[0-9]+$'
  SANDBOX_BASE=${lines[0]}
  for root in $hierarchies; do
    assert_line "$root: a directory"
  done
  expect_no_sandbox_cgroup "the sandbox has ended"
  if [ "$hierarchies" = /sys/fs/cgroup ]; then
    # Pure v2: the controllers of lab 08's limits are enabled below the root.
    for controller in memory pids cpu; do
      ! grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers ||
        grep -qw "$controller" /sys/fs/cgroup/cgroup.subtree_control || fail "$controller not in /sys/fs/cgroup/cgroup.subtree_control"
    done
  fi
}

@test "scripts/sandbox.sh: the cgroup directories COMMAND leaves in it, nested, are gone afterwards" {
  local hierarchies
  hierarchies=$(sandbox_hierarchies)
  # shellcheck disable=SC2016  # expanded by the sandbox's sh
  run --separate-stderr bash "$NSLAB_SOURCE_DIR/scripts/sandbox.sh" sh -c \
    'for root in "$@"; do mkdir -p "$root$NSLAB_CGROUP_BASE/nslab/4242/deeper" "$root$NSLAB_CGROUP_BASE/nslab/4243" || exit 1; done
     echo "$NSLAB_CGROUP_BASE"' sh $hierarchies
  assert_success
  assert_equal "$stderr" ""
  SANDBOX_BASE=$output
  expect_no_sandbox_cgroup "what COMMAND left in S"
}

@test "scripts/sandbox.sh: processes left in its cgroups are killed (v1: by PID; v2: cgroup.kill), and the cgroups removed" {
  local root
  PARKED=()
  start_sandbox "$(until_go)"
  for root in $(sandbox_hierarchies); do
    mkdir "$root$SANDBOX_BASE/left"
    park_in "$root$SANDBOX_BASE/left"
  done
  : > "$SCRATCH/go"
  finish_sandbox
  assert_equal "$status" 0
  expect_parked_killed
  expect_no_sandbox_cgroup "the processes were killed"
}

@test "scripts/sandbox.sh: SIGTERM is forwarded to the sandbox's processes; it exits 143 and leaves nothing" {
  # A shell as PID 1 takes a signal from outside only with a handler for it.
  start_sandbox "trap 'echo TERM > \"$SCRATCH/pid1\"; exit 0' TERM; sleep 1000 & $(until_go)"
  kill -TERM "$SANDBOX_PID"
  finish_sandbox
  assert_equal "$status" 143
  assert_equal "$(cat "$SCRATCH/pid1")" TERM
  expect_no_sandbox_cgroup "after SIGTERM"
  wait_for 5 nslab_no_guarded_processes
}

@test "scripts/sandbox.sh: COMMAND gets SIGINT and SIGQUIT as the sandbox got them: at their default from a terminal, ignored when ignored" {
  # bash starts a background command with both ignored, and a script started
  # so cannot trap them: a forwarded Ctrl-C would be lost on COMMAND.
  sigign() {
    with_sigint "$1" env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" bash "$NSLAB_SOURCE_DIR/scripts/sandbox.sh" \
      sh -c 'grep ^SigIgn: /proc/self/status' 3>&-
  }
  run sigign SIG_DFL
  assert_success
  # SigIgn: bit 1 is SIGINT, bit 2 SIGQUIT.
  expect "SIGINT and SIGQUIT at their default in COMMAND" "scripts/sandbox.sh" -- \
    [ $((0x${output##*[[:space:]]} & 6)) -eq 0 ]
  run sigign SIG_IGN
  assert_success
  expect "SIGINT and SIGQUIT still ignored in COMMAND" "scripts/sandbox.sh" -- \
    [ $((0x${output##*[[:space:]]} & 6)) -eq 6 ]
  wait_for 5 nslab_no_guarded_processes
}

@test "scripts/sandbox.sh: SIGKILL of its script: its processes die with it, and its cleaner kills what is in its cgroups and removes them" {
  local root
  PARKED=()
  # shellcheck disable=SC2016  # expanded by the sandbox's sh
  start_sandbox 'for root in '"$(sandbox_hierarchies | xargs)"'; do mkdir -p "$root$NSLAB_CGROUP_BASE/nslab/4242"; done; sleep 1000 & '"$(until_go)"
  for root in $(sandbox_hierarchies); do
    wait_for 5 test -d "$root$SANDBOX_BASE/nslab/4242"
    park_in "$root$SANDBOX_BASE/nslab/4242"
  done
  kill -KILL "$SANDBOX_PID"
  finish_sandbox
  assert_equal "$status" 137
  expect_parked_killed
  # The sandbox's sleep, and the cleaner too once done: every marked process.
  wait_for 15 nslab_no_guarded_processes || fail "left: $(ps -o pid,args -p "$(nslab_guarded_processes | paste -sd,)")"
  expect_no_sandbox_cgroup "the cleaner has ended"
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

# --- scripts/demo.sh: lab 07's two terminals -------------------------------------
#
# The demo runs its lab 07 step alone (scripts/demo.sh --no-pause 07) on the
# build under test, marked for the host guard (NSLAB_GUARD), so that every
# process it starts, the tmux servers included, carries the mark: none may be
# left. Without a terminal it prints the two terminals one after the other; in
# a tmux pane it splits the window; in a terminal outside tmux it runs a tmux
# server of its own. The tmux tests run it in a tmux server of this test's, in a
# window of 80 columns and 24 lines, and watch the panes.

requires_lab07() {
  [ -x "$NSLAB_BUILD_DIR/bin/solutions/07-setns" ] ||
    skip "no $NSLAB_BUILD_DIR/bin/solutions/07-setns: lab 07 is not built"
}

requires_tmux() {
  command -v tmux >/dev/null || skip "tmux is not installed (scripts/setup.sh installs it): the demo's two-pane modes need it"
}

# The demo's work directories in /tmp now, one a line.
demo_dirs() {
  find /tmp -maxdepth 1 -name 'nslab-demo.*' | sort
}

# demo_07 [--no-tmux]: the command that runs the demo's lab 07 step, marked;
# --quick, so that in a terminal it does not stay on a step to be read.
demo_07() {
  printf 'NSLAB_BUILD_DIR=%q NSLAB_GUARD=%q bash %q --no-pause --quick 07' "$NSLAB_BUILD_DIR" "$NSLAB_GUARD_TOKEN" \
    "$NSLAB_SOURCE_DIR/scripts/demo.sh"
}

# tmux_test ARG...: tmux, on this test's own server.
tmux_test() {
  tmux -S "$SCRATCH/tmux.sock" -f /dev/null "$@"
}

# expect_demo_left_nothing DIRS: no process of the demo's is left, no work
# directory but DIRS (those that were there before), and the hostname is the host's.
expect_demo_left_nothing() {
  if ! wait_for 5 nslab_no_guarded_processes; then
    ps -o pid,args -p "$(nslab_guarded_processes | paste -sd,)" >&2 || true
    fail "the demo left processes behind (above)"
  fi
  assert_equal "$(demo_dirs)" "$1"
  assert_equal "$(cat /proc/sys/kernel/hostname)" "$HOST_HOSTNAME"
}

@test "scripts/demo.sh 07 without a terminal: terminal 1's container, joined from terminal 2, each output labelled, in 80 columns; nothing left" {
  requires_lab07
  local before demo_output
  before=$(demo_dirs)
  run --separate-stderr clean_env TERM=xterm COLUMNS=80 bash -c "$(demo_07)"
  assert_success
  assert_equal "$stderr" ""
  demo_output=$output
  assert_line "No tmux (or no terminal) here: the two take turns in this one, terminal 1's "
  assert_line --regexp '^terminal 1\$ 07-setns --hostname box --pid-file box\.pid -- sh -c '
  assert_line --regexp '^terminal 2\$ 07-setns -v --enter "\$\(cat box\.pid\)" -- sh -c '
  # Terminal 1's container is PID 1 of its own; terminal 2's shell is inside
  # it, with another PID, and sees its processes.
  assert_line '    box: I am PID 1'
  assert_line --regexp '^    box: I am PID ([2-9]|[1-9][0-9]+)$'
  assert_line --regexp '^ +1 sh$'
  # The pid file went with the container, removed by 07-setns itself.
  assert_line "    ls: cannot access 'box.pid': No such file or directory"
  # The rootless join: EPERM first, then the user namespace, then root inside.
  assert_output --partial 'CLONE_NEWIPC): EPERM for now;'
  assert_line '    uid=0(root) gid=0(root) groups=0(root)'
  run awk 'length > 80' <<< "$demo_output"
  assert_output ""
  expect_demo_left_nothing "$before"
}

# watch_demo_window: polls this test's tmux window until the demo says its exit
# status (40 s at most); sets MOST_PANES (the most panes the window had), SEEN
# (the lines of every capture of every pane, each once, in the order first
# seen) and SCREEN (the first pane, whole history, wrapped lines joined).
watch_demo_window() {
  local deadline=$((SECONDS + 40)) panes pane
  MOST_PANES=0 SEEN=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    panes=$(tmux_test list-panes -t demo -F '#{pane_id}' 2>/dev/null | wc -l)
    [ "$panes" -le "$MOST_PANES" ] || MOST_PANES=$panes
    for pane in $(tmux_test list-panes -t demo -F '#{pane_id}' 2>/dev/null); do
      SEEN+=$(tmux_test capture-pane -p -t "$pane" 2>/dev/null || true)$'\n'  # the pane may close meanwhile
    done
    tmux_test capture-pane -p -J -S - -t demo 2>/dev/null | grep -q '^demo exit status' && break
    sleep 0.2
  done
  SEEN=$(awk '!seen[$0]++' <<< "$SEEN")
  SCREEN=$(tmux_test capture-pane -p -J -S - -t demo)
}

# serial: it watches a terminal against the clock, which tests beside it would slow
@test "scripts/demo.sh 07 in a tmux pane, 80 columns: the window split, box joined in the right pane; the pane, the container and its pid file gone after" {
  requires_lab07
  requires_tmux
  local before
  before=$(demo_dirs)
  clean_env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" tmux -S "$SCRATCH/tmux.sock" -f /dev/null \
    new-session -d -s demo -x 80 -y 24 "$(demo_07); echo \"demo exit status \$?\"; exec sleep 60"
  watch_demo_window
  assert_equal "$MOST_PANES" 2
  # Two terminals at the same moment: the left one the container, the right one inside it.
  assert_regex "$SEEN" '(^|'$'\n'')box: I am PID 1('$'\n''|$)'
  assert_regex "$SEEN" '(^|'$'\n'')box: I am PID ([2-9]|[1-9][0-9]+)('$'\n''|$)'
  assert_regex "$SCREEN" '(^|'$'\n'')Terminal 2, whose pane is closed now, showed:'$'\n''terminal 2\$ 07-setns -v --enter'
  assert_regex "$SCREEN" '(^|'$'\n'')demo exit status 0('$'\n''|$)'
  assert_regex "$SCREEN" "ls: cannot access 'box.pid': No such file or directory"
  # The demo's pane has gone; its own is whole again.
  run tmux_test list-panes -t demo -F '#{pane_id} #{pane_width}'
  assert_output --regexp '^%0 80$'
  tmux_test kill-server
  expect_demo_left_nothing "$before"
}

@test "scripts/demo.sh 07 in a terminal outside tmux, 80 columns: a tmux session of its own shows both terminals, then its screen comes back; no tmux server left" {
  requires_lab07
  requires_tmux
  local before
  before=$(demo_dirs)
  clean_env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" tmux -S "$SCRATCH/tmux.sock" -f /dev/null \
    new-session -d -s demo -x 80 -y 24 "env -u TMUX -u TMUX_PANE $(demo_07); echo \"demo exit status \$?\"; exec sleep 60"
  watch_demo_window
  # One pane of ours, in which the demo's own tmux drew its two, titled.
  assert_equal "$MOST_PANES" 1
  assert_regex "$SEEN" 'terminal 1[^'$'\n'']*terminal 2'
  assert_regex "$SEEN" 'box: I am PID 1 +[^ ]'
  assert_regex "$SEEN" 'box: I am PID ([2-9]|[1-9][0-9]+)'
  assert_regex "$SCREEN" '(^|'$'\n'')What the two terminals showed:'
  assert_regex "$SCREEN" '(^|'$'\n'')demo exit status 0('$'\n''|$)'
  assert_regex "$SCREEN" "ls: cannot access 'box.pid': No such file or directory"
  tmux_test kill-server
  expect_demo_left_nothing "$before"
}

# --- scripts/demo.sh: lab 08's limits --------------------------------------------

requires_lab08() {
  [ -x "$NSLAB_BUILD_DIR/bin/solutions/08-cgroup" ] ||
    skip "no $NSLAB_BUILD_DIR/bin/solutions/08-cgroup: lab 08 is not built"
}

# The containers' cgroups in the hierarchies now (.../nslab/PID), one a line.
nslab_cgroups() {
  find /sys/fs/cgroup -maxdepth 6 -type d -path '*/nslab/*' 2>/dev/null | sort
}

# serial: it measures a share of a CPU, and runs lab 08 on the host, whose nslab/ cgroups the sandboxes beside it would see
@test "scripts/demo.sh 08 without a terminal: the OOM kill from both sides, refused forks, a share of a CPU, in 80 columns; no cgroup left" {
  requires_lab08
  local before cgroups_before demo_output
  before=$(demo_dirs)
  cgroups_before=$(nslab_cgroups)
  run --separate-stderr clean_env TERM=xterm COLUMNS=80 NSLAB_BUILD_DIR="$NSLAB_BUILD_DIR" NSLAB_GUARD="$NSLAB_GUARD_TOKEN" \
    bash "$NSLAB_SOURCE_DIR/scripts/demo.sh" --no-pause 08
  assert_success
  assert_equal "$stderr" ""
  demo_output=$output
  # Inside: the hog killed (128+9), and the runtime's line on its way out.
  assert_line '    hog: exit status 137'
  assert_line --regexp '^    08-cgroup: --memory 48M was reached: the kernel killed 1 process ?$'
  # The host, reading the container's cgroup while it ran.
  # (The path may be wrapped onto the next line, at 80 columns.)
  assert_line --regexp '^host\$ +grep -w oom_kill( |$)'
  assert_regex "$demo_output" 'nslab/[0-9]+/container/memory\.(events|oom_control)'
  assert_line '    oom_kill 1'
  assert_line --regexp '^    08-cgroup: --pids 8 was reached: [0-9]+ forks? (was|were) refused \(pids\.events max [0-9]+\)$'
  assert_line --regexp '^    .*([Cc]annot fork|Resource temporarily unavailable)'
  # The busy loop: at most about 1 s of CPU time in 2 under --cpus 0.5.
  assert_regex "$demo_output" 'with --cpus 0\.5, (0\.[0-9]|1\.[01]) s:'
  assert_line --regexp '^host\$ +ls -d /sys/fs/cgroup/.*nslab/[0-9]+ 2>/dev/null \|\| echo gone$'
  assert_line '    gone'
  # What the container sees: nslab-probe inside, every lab's part in place,
  # beside the probe on the host. Its own uts namespace, the host's time
  # namespace (nslab makes none: the negative control), the hostname box.
  assert_line '== What the container sees =='
  assert_equal "$(awk '$1 == "uts" && $3 == "|" { print ($2 != $5) }' <<< "$demo_output")" 1
  assert_equal "$(awk '$1 == "time" && $3 == "|" { print ($2 == $5) }' <<< "$demo_output")" 1
  assert_line --regexp '^  hostname   [^ ]+ +\|   hostname   box$'
  # Its cgroup is / in every hierarchy (a cgroup namespace), the host's is not
  # always; its limits found above it.
  assert_line --regexp '\|   0::/$'
  refute_line --regexp '\|   [0-9]+:[^:]*:/.+$'
  assert_line '      memory 64M (67108864 bytes), set 1 level up; here: max'
  assert_line '      pids   20, set 1 level up; here: max'
  run awk 'length > 80' <<< "$demo_output"
  assert_output ""
  expect_demo_left_nothing "$before"
  assert_equal "$(nslab_cgroups)" "$cgroups_before"
}

# --- scripts/demo.sh: nslab-probe beside the host, and the build --------------

@test "scripts/demo.sh 03 04 without a terminal: nslab-probe inside beside the probe on the host (PID 1 and the host's number for it, the root filesystem's own mounts), in 80 columns" {
  local before demo_output host_pid inside outside
  before=$(demo_dirs)
  run --separate-stderr clean_env TERM=xterm COLUMNS=80 NSLAB_BUILD_DIR="$NSLAB_BUILD_DIR" NSLAB_GUARD="$NSLAB_GUARD_TOKEN" \
    bash "$NSLAB_SOURCE_DIR/scripts/demo.sh" --no-pause 03 04
  assert_success
  assert_equal "$stderr" ""
  demo_output=$output
  # Lab 03: PID 1 with no parent inside; NSpid names the host's number first.
  assert_line --regexp '^  pid        [0-9]+ \(ppid [0-9]+\) +\|   pid        1 \(ppid 0\)$'
  host_pid=$(sed -nE 's/^  NSpid      [0-9]+ +\|   NSpid      ([0-9]+) 1 \(outermost first\)$/\1/p' <<< "$demo_output")
  assert [ -n "$host_pid" ]
  assert_output --partial "the host knew it as PID $host_pid."
  # Lab 04: the mounts of the probe in the root filesystem, its only ones; the
  # host's, beside them, are others (the negative control).
  mount_points() {
    awk -F' [|] ' -v side="$1" '/^container\$ 04-mount --rootfs / { start = 1 } start && /^-- host / { on = 1; next }
      on && !/ [|] / { exit } on && $side ~ /^  \// { split($side, f, " "); print f[1] }' <<< "$demo_output" | sort | xargs echo
  }
  inside=$(mount_points 2)
  outside=$(mount_points 1)
  assert_equal "$inside" "/ /dev /dev/full /dev/null /dev/random /dev/tty /dev/urandom /dev/zero /proc /sys /tmp"
  assert [ -n "$outside" ]
  assert [ "$outside" != "$inside" ]
  assert_line '    hostname: box'
  run awk 'length > 80' <<< "$demo_output"
  assert_output ""
  expect_demo_left_nothing "$before"
}

# demo_tree: a scratch tree in which scripts/demo.sh finds nothing built: the
# demo itself, CMakePresets.json, a scripts/setup.sh with nothing to install,
# and a small project that really builds (eight programs, each with a compiler
# warning the demo must not show), then links the build under test's bin/ in,
# where the demo looks for its programs.
demo_tree() {
  local tree=$SCRATCH/tree n
  mkdir -p "$tree/scripts" "$tree/src"
  cp "$NSLAB_SOURCE_DIR/scripts/demo.sh" "$tree/scripts/"
  cp "$NSLAB_SOURCE_DIR/CMakePresets.json" "$tree/"
  printf '#!/usr/bin/env bash\necho "setup: every package is here"\n' > "$tree/scripts/setup.sh"
  for n in 1 2 3 4 5 6 7 8; do
    printf '#warning "the compiler speaking"\nint main() { return 0; }\n' > "$tree/src/p$n.cpp"
  done
  cat > "$tree/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(demo_build LANGUAGES CXX)
foreach(n RANGE 1 8)
  add_executable(p${n} src/p${n}.cpp)
endforeach()
add_custom_target(programs ALL COMMAND ${CMAKE_COMMAND} -E create_symlink $ENV{DEMO_PROGRAMS} ${CMAKE_BINARY_DIR}/bin)
CMAKE
  echo "$tree"
}

# demo_build_logs: the logs of the demo's builds in /tmp now, one a line.
demo_build_logs() {
  find /tmp -maxdepth 1 -name 'nslab-demo-build.*' | sort
}

@test "scripts/demo.sh with nothing built: it builds first, one line of progress instead of the compiler's output, then the tour; a failed build shows its end" {
  command -v cmake >/dev/null || skip "needs cmake"
  local tree before logs demo_output log
  tree=$(demo_tree)
  before=$(demo_dirs)
  logs=$(demo_build_logs)
  run --separate-stderr clean_env TERM=xterm COLUMNS=80 NSLAB_BUILD_DIR="$tree/build" NSLAB_GUARD="$NSLAB_GUARD_TOKEN" \
    DEMO_PROGRAMS="$NSLAB_BUILD_DIR/bin" bash "$tree/scripts/demo.sh" --no-pause 01
  assert_success
  assert_equal "$stderr" ""
  demo_output=$output
  assert_line "demo: nslab is not built yet: building it first."
  assert_line "demo: configuring (cmake --preset default) ..."
  # Each tenth reached, on one line.
  assert_line 'demo: building nslab: 0% 10% 20% 30% 40% 50% 60% 70% 80% 90% 100%'
  assert_line --regexp '^demo: built in [0-9]+ s\.$'
  refute_output --partial 'the compiler speaking'
  refute_output --partial 'Building CXX'
  refute_output --partial 'setup: every package is here'
  # Then the tour, with the programs built.
  assert_line --partial '== Lab 01 '
  assert [ -x "$tree/build/p8" ]
  assert_equal "$(demo_build_logs)" "$logs"
  run awk 'length > 80' <<< "$demo_output"
  assert_output ""
  # A build that fails: its end, the error in it, and the log kept, named.
  rm -rf "$tree/build"
  printf 'int main() { return missing; }\n' > "$tree/src/p5.cpp"
  run --separate-stderr clean_env TERM=xterm COLUMNS=80 NSLAB_BUILD_DIR="$tree/build" NSLAB_GUARD="$NSLAB_GUARD_TOKEN" \
    DEMO_PROGRAMS="$NSLAB_BUILD_DIR/bin" bash "$tree/scripts/demo.sh" --no-pause 01
  assert_failure 1
  assert_regex "$stderr" '(^|'$'\n'')demo: cmake --build failed; the end of what it printed:'$'\n'
  assert_regex "$stderr" 'p5\.cpp:[0-9]+:[0-9]+: error: '
  log=$(sed -n 's/^demo: all of it is in //p' <<< "$stderr")
  assert [ -f "$log" ]
  rm -f "$log"
  refute_output --partial '== Lab 01 '
  assert_equal "$(demo_build_logs)" "$logs"
  expect_demo_left_nothing "$before"
}

@test "scripts/demo.sh refuses a lab it has no step for, before anything" {
  run --separate-stderr bash "$NSLAB_SOURCE_DIR/scripts/demo.sh" 09
  assert_failure 2
  assert_equal "$stderr" "usage: scripts/demo.sh [--no-pause [--quick]] [NN...]   (NN: a lab, 01 to 08)"
}

# --- scripts/vm-test.sh: what it refuses before it boots anything ----------------

@test "scripts/vm-test.sh refuses a bad argument with one line, before it looks for a build or a VM" {
  local argument
  for argument in --bogus 99 1 "--quick 03" "03 --quick"; do
    # shellcheck disable=SC2086  # two words where the case has two
    run --separate-stderr env NSLAB_BUILD_DIR="$SCRATCH/nothing" bash "$NSLAB_SOURCE_DIR/scripts/vm-test.sh" $argument
    assert_failure 2
    assert_equal "$output" ""
    assert_regex "$stderr" '^usage: scripts/vm-test.sh \[--quick \| NN\.\.\. \| --faults \[FAULTS-ARG\.\.\.\]\]   \(NN: 01 02 .*\)$'
  done
  assert [ ! -e "$SCRATCH/nothing" ]
}

@test "scripts/vm-test.sh without a build says in one line to build first, and boots nothing" {
  local argument
  for argument in 01 --faults "--faults --lab 08"; do
    # shellcheck disable=SC2086  # the words of the case
    run --separate-stderr env NSLAB_BUILD_DIR="$SCRATCH/nothing" bash "$NSLAB_SOURCE_DIR/scripts/vm-test.sh" $argument
    assert_failure 1
    assert_equal "$output" ""
    assert_regex "$stderr" "^vm-test: no build at $SCRATCH/nothing/bin: build first \\(.*\\)$"
  done
  assert [ ! -e "$SCRATCH/nothing" ]
}
