#!/usr/bin/env bats
# Lab 08 — the exercises' answers. Exercise 1 (by_hand.sh): the limits of
# `08-cgroup --memory 48M --pids 8 --cpus 0.5` set by hand with mkdir and echo
# under /sys/fs/cgroup: a memory hog killed under them and a small one not,
# forks refused past pids.max, a busy loop at half a CPU, and the group gone
# afterwards, on a signal too. Exercise 2 (08-cgroup-ns-early): a cgroup
# namespace made before the move into the container's group, and after it.
# Exercise 3 (raise_limit.sh): a container that tries to lift its own memory
# limit, without --rootfs, with it, and with a map that leaves out the host's
# root. Both layouts: v2, and v1 or hybrid (cgroup.bash).
# answers: 1=by_hand.sh 2=cgroupns_too_early.cpp 3=raise_limit.sh

# serial file: by_hand.sh makes its cgroups at the top of each hierarchy, where every sandbox sees them
load ../../../common/bats/nslab
load cgroup
NSLAB_LAB=08-cgroup
DOC=lab08-cgroup.md
NSLAB_ROOT_WHY="the exercises make cgroups at the top of /sys/fs/cgroup, which root owns"

lab_setup() {
  cgroup_setup
  [ "$CG_LAYOUT" != none ] || skip "no cgroup file system at /sys/fs/cgroup: lab 08 needs cgroup v1 or v2 mounted there"
  BY_HAND=$(exercise_answer by_hand.sh)
  NS_EARLY=$(exercise_answer 08-cgroup-ns-early)
  RAISE_LIMIT_SH=$(exercise_answer raise_limit.sh)
  SCRIPT_PID=""
  # Where 08-cgroup makes its containers' groups: the root of each hierarchy,
  # or the sandbox's subtree (NSLAB_CGROUP_BASE).
  CG_BASE=${NSLAB_CGROUP_BASE:-}
  CG_BASE=${CG_BASE%/}
  remember_cgroups
  # Exercise 2's group, in the first hierarchy lab 08 uses.
  EX2_HIERARCHY=${CG_HIERARCHIES%% *}
  EX2_GROUP=$(cgroup_dir "$EX2_HIERARCHY" "$CG_BASE/nslab-ex2-$$-${BATS_TEST_NUMBER:-0}")
}

lab_teardown() {
  if [ -n "$SCRIPT_PID" ] && kill -0 "$SCRIPT_PID" 2>/dev/null; then
    kill -KILL "$SCRIPT_PID" 2>/dev/null || true  # ours: started by this test
    wait "$SCRIPT_PID" 2>/dev/null || true
  fi
  # What a script that failed its cleanup left: the test has said so; the
  # host must not keep it (remove_cgroup_tree: cgroup.bash).
  local dir
  for dir in $(by_hand_dirs) "$EX2_GROUP"; do
    remove_cgroup_tree "$dir" || true
  done
  remove_cgroups_left
}

# The groups by_hand.sh makes: by-hand in each hierarchy the lab uses.
by_hand_dirs() {
  local hierarchy
  for hierarchy in $CG_HIERARCHIES; do
    [ ! -d "$(cgroup_dir "$hierarchy" /by-hand)" ] || cgroup_dir "$hierarchy" /by-hand
  done
}

# A hog of 8 MiB, the negative control of HOG's 300 (cgroup.bash).
if [ -n "$HOG_PYTHON" ]; then
  SMALL_HOG=("$HOG_PYTHON" -c 'bytearray(8 << 20); print("done")')
else
  SMALL_HOG=(sh -c 'head -c 8M /dev/zero | tail > /dev/null; echo done')
fi

# by_hand COMMAND...: runs by_hand.sh COMMAND, marked for the host guard;
# sets status, output (COMMAND's), stderr (the steps and the counters).
by_hand() {
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$BY_HAND" "$@"
}

# counted KEY: the number after KEY on the counter line of by_hand.sh's stderr
# ("oom_kill 1", "max 22", "nr_throttled 7").
counted() {
  awk -v key="$1" '$1 == key && NF == 2 { print $2; found = 1 } END { exit !found }' <<< "$stderr"
}

# nothing_left: no by-hand group in any hierarchy, and no process of the test's.
nothing_left() {
  [ -z "$(by_hand_dirs)" ] && wait_for 5 nslab_no_guarded_processes
}

# --- exercise 1: the same limits, by hand ----------------------------------------

@test "exercise 1: by hand, a memory hog is killed under the 48M limit (oom_kill 1), a small one is not; nothing left" {
  by_hand "${HOG[@]}"
  expect "the 300 MiB hog is killed by the OOM killer in the hand-made group: exit status 128+9" "$DOC#lab08-ex1" -- \
    [ "$status" -eq 137 ]
  expect "the host counts one OOM kill in the group's $(oom_events_file)" "$DOC#lab08-ex1" -- [ "$(counted oom_kill)" = 1 ]
  expect "the group is removed, and nothing of the run is left" "$DOC#lab08-ex1" -- nothing_left

  # The negative control: the limit, not the script, kills.
  by_hand "${SMALL_HOG[@]}"
  expect "8 MiB fits in 48M: exit status 0" "$DOC#lab08-ex1" -- [ "$status.$output" = "0.done" ]
  expect "no OOM kill counted" "$DOC#lab08-ex1" -- [ "$(counted oom_kill)" = 0 ]
  expect "the group is removed" "$DOC#lab08-ex1" -- nothing_left
}

@test "exercise 1: by hand, forks past the pids limit of 8 are refused (pids.events max), fewer are not; nothing left" {
  by_hand sh -c 'for i in $(seq 30); do sleep 1 & done; wait'
  expect "30 sleeps in a group of at most 8 tasks: the shell cannot fork, and fails" "$DOC#lab08-ex1" -- \
    [ "$status" -ne 0 ]
  expect "the shell says so (EAGAIN: $stderr)" "$DOC#lab08-ex1" -- grep -qiE 'fork|resource temporarily unavailable' <<< "$stderr"
  expect "the host counts the refused forks in pids.events" "$DOC#lab08-ex1" -- [ "$(counted max)" -gt 0 ]
  expect "the group is removed, its sleeps killed, nothing left" "$DOC#lab08-ex1" -- nothing_left

  # The negative control: four sleeps and their shell fit in 8.
  by_hand sh -c 'for i in 1 2 3 4; do sleep 0.2 & done; wait; echo waited'
  expect "5 tasks in a group of 8: all run" "$DOC#lab08-ex1" -- [ "$status.$output" = "0.waited" ]
  expect "no fork refused" "$DOC#lab08-ex1" -- [ "$(counted max)" = 0 ]
  expect "the group is removed" "$DOC#lab08-ex1" -- nothing_left
}

@test "exercise 1: by hand, a busy loop gets about half a CPU under the quota of 50 ms in 100 ms, and is throttled" {
  # The probe, and the negative control: without a limit, a whole CPU.
  whole=$(cpu_share "$(sh -c "$BUSY")")
  awk -v w="$whole" 'BEGIN { exit !(w >= 0.75) }' ||
    skip "this machine is too busy to measure a share of a CPU: without a limit, the busy loop got only $whole of one (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  by_hand sh -c "$BUSY"
  expect "the busy loop ran its 1.5 s" "$DOC#lab08-ex1" -- [ "$status" -eq 0 ]
  share=$(cpu_share "$output")
  expect "between 0.3 and 0.7 of a CPU (got: $share; without the limit: $whole)" "$DOC#lab08-ex1" -- between "$share" 0.3 0.7
  expect "the host's cpu.stat counts throttled periods" "$DOC#lab08-ex1" -- [ "$(counted nr_throttled)" -gt 0 ]
  expect "the group is removed" "$DOC#lab08-ex1" -- nothing_left
}

@test "exercise 1: by_hand.sh ended by SIGTERM while COMMAND runs: COMMAND is killed with its group, and the group removed" {
  (NSLAB_GUARD=$NSLAB_GUARD_TOKEN exec "$BY_HAND" sleep 1000) > "$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  SCRIPT_PID=$!
  procs=$(cgroup_dir pids /by-hand)/cgroup.procs
  wait_for 10 grep -q . "$procs"
  sleeper=$(head -n 1 "$procs")
  expect "the group holds COMMAND, sleep" "$DOC#lab08-ex1" -- [ "$(cat "/proc/$sleeper/comm")" = sleep ]
  kill -TERM "$SCRIPT_PID"
  status=0
  wait "$SCRIPT_PID" || status=$?
  SCRIPT_PID=""
  expect "by_hand.sh ends at once, with 128+15" "$DOC#lab08-ex1" -- [ "$status" -eq 143 ]
  expect "the group is removed, and sleep is gone with it" "$DOC#lab08-ex1" -- nothing_left
}

@test "exercise 1: by_hand.sh refuses to run without a COMMAND, and makes nothing" {
  run --separate-stderr "$BY_HAND"
  assert_equal "$status" 2
  assert_equal "$stderr" "usage: by_hand.sh COMMAND [ARG...]"
  expect "no group made" "$DOC#lab08-ex1" -- [ -z "$(by_hand_dirs)" ]
}

# --- exercise 2: a cgroup namespace made too early --------------------------------

@test "exercise 2: a cgroup namespace made before the move shows the container's group above its root; made after it, as /" {
  run --separate-stderr "$NS_EARLY" "$EX2_GROUP"
  expect "08-cgroup-ns-early: exit 0, nothing on stderr" "$DOC#lab08-ex2" -- [ "$status.$stderr" = "0." ]
  expect "made in runtime/, the namespace's root is runtime/: the child sees / there" "$DOC#lab08-ns" -- \
    [ "$(reported "too early, before the move")" = / ]
  expect "moved into container/ afterwards, its group is beside the root: /../container" "$DOC#lab08-ns" -- \
    [ "$(reported "too early, after the move")" = /../container ]
  expect "and a cgroupfs mounted inside is rooted at runtime/, which holds nothing of the container" "$DOC#lab08-ns" -- \
    [ "$(reported "too early, a cgroupfs mounted inside")" = "0 processes at its root, not this one" ]
  expect "negative control: made after the move, the namespace shows the container's group as /" "$DOC#lab08-ns" -- \
    [ "$(reported "in time")" = / ]
  expect "and its cgroupfs is rooted at the container's own group, which holds the child" "$DOC#lab08-ns" -- \
    [ "$(reported "in time, a cgroupfs mounted inside")" = "1 process at its root, this one" ]
  expect "the groups it made are removed" "$DOC#lab08-ex2" -- [ ! -e "$EX2_GROUP" ]
  expect "no mount of the children reached the host" "$DOC#lab08-ex2" -- [ -z "$(grep nslab-cgroupns /proc/self/mountinfo)" ]
}

@test "exercise 2: 08-cgroup-ns-early without GROUP, outside a cgroup file system, or with a GROUP there already: one line, exit 125" {
  run --separate-stderr "$NS_EARLY"
  expect "no GROUP: the usage line, exit 125" "$DOC#lab08-ex2" -- \
    [ "$status.$stderr" = "125.Usage: 08-cgroup-ns-early GROUP    (a new cgroup directory, an absolute path)" ]
  run --separate-stderr "$NS_EARLY" "$BATS_TEST_TMPDIR/group"
  expect "a directory outside a cgroup file system: exit 125, one line, nothing made" "$DOC#lab08-ex2" -- \
    failed_with 125 "^08-cgroup-ns-early: $BATS_TEST_TMPDIR/group: not in a cgroup file system"
  expect "nothing made there" "$DOC#lab08-ex2" -- [ ! -e "$BATS_TEST_TMPDIR/group" ]
  mkdir "$EX2_GROUP"
  run --separate-stderr "$NS_EARLY" "$EX2_GROUP"
  expect "a GROUP there already: exit 125, one line" "$DOC#lab08-ex2" -- \
    [ "$status.$stderr" = "125.08-cgroup-ns-early: mkdir $EX2_GROUP: File exists" ]
  expect "and it is left as it was, not removed, nothing made in it" "$DOC#lab08-ex2" -- \
    [ -d "$EX2_GROUP" -a ! -e "$EX2_GROUP/runtime" ]
}

# --- exercise 3: raise your own limit -------------------------------------------

# raise_limit: runs raise_limit.sh with the lab's program and the test root
# filesystem; sets status, output (the report) and stderr.
raise_limit() {
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$RAISE_LIMIT_SH" "$NSLAB_PROGRAM" "$(nslab_rootfs)"
  expect "raise_limit.sh: exit 0" "$DOC#lab08-ex3" -- [ "$status" -eq 0 ]
}

@test "exercise 3: as root without --rootfs, the container finds its group in the host's tree, raises the limit above its leaf, and moves out" {
  raise_limit
  expect "the host's tree is in view: its leaf is the one that lists PID 1" "$DOC#lab08-ex3" -- \
    [ "$(reported "without --rootfs, its own group")" = found ]
  expect "the container's root is the files' owner: the limit is raised to 1 GiB" "$DOC#lab08-ex3" -- \
    [ "$(reported "without --rootfs, raising the limit above its leaf to 1G")" = "done, it reads 1073741824" ]
  moved=$(reported "without --rootfs, moving itself to the hierarchy's root")
  if [ "$CG_LAYOUT" != v2 ]; then
    expect "on v1, it moves itself to the root of the hierarchy: its cgroup climbs above its namespace's root" "$DOC#lab08-ex3" -- \
      grep -qxE 'done, /proc/self/cgroup says /\.\.(/\.\.)+' <<< "$moved"
  else
    expect "on v2, the move is either made or refused by nsdelegate (got: $moved)" "$DOC#lab08-ex3" -- \
      grep -qxE 'done, /proc/self/cgroup says /\.\.(/\.\.)+|refused \(.*\)' <<< "$moved"
  fi
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "exercise 3: with --rootfs, the write through /sys/fs/cgroup is refused, and a cgroupfs of its own reaches only its leaf: a 300 MiB dd is still killed" {
  raise_limit
  expect "/sys/fs/cgroup inside is read-only" "$DOC#lab08-rootfs" -- \
    [ "$(reported "with --rootfs, writing the limit through /sys/fs/cgroup")" = "refused (Read-only file system)" ]
  leaf=$(reported "with --rootfs, writing its leaf's limit through a cgroupfs of its own")
  if [ "$CG_LAYOUT" != v2 ]; then
    expect "its own cgroupfs mount is writable: the leaf's limit is written" "$DOC#lab08-ex3" -- [ "$leaf" = done ]
  else
    expect "on v2 the leaf's limit is written, or refused (nsdelegate: the namespace's root) (got: $leaf)" "$DOC#lab08-ex3" -- \
      grep -qxE 'done|refused \(.*\)' <<< "$leaf"
  fi
  expect "the limit above the leaf still binds: the 300 MiB dd is killed, exit status 137" "$DOC#lab08-ex3" -- \
    [ "$(reported "with --rootfs, a 300 MiB dd")" = "exit status 137" ]
  expect "the runtime says the limit was reached" "$DOC#lab08-memory" -- grep -qE "^08-cgroup: --memory 48M $MEMORY_REACHED" <<< "$stderr"
  # The negative control: without --memory the same dd runs to its end.
  run ct --rootfs "$(nslab_rootfs)" -- dd if=/dev/zero of=/dev/null bs=300M count=1
  expect "negative control: without --memory, the 300 MiB dd succeeds" "$DOC#lab08-memory" -- [ "$status" -eq 0 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "exercise 3: with a map that leaves out the host's root, the container finds its group, and both writes are refused by the files' mode" {
  raise_limit
  label="with a map that leaves out the host's root"
  expect "its group is found, as in the run without a map (positive control)" "$DOC#lab08-ex3" -- \
    [ "$(reported "$label, its own group")" = found ]
  expect "raising the limit: EACCES, the container's root is uid 100000 on the host" "$DOC#lab08-ex3" -- \
    [ "$(reported "$label, raising the limit above its leaf to 1G")" = "refused (Permission denied)" ]
  expect "moving out: EACCES" "$DOC#lab08-ex3" -- \
    [ "$(reported "$label, moving itself to the hierarchy's root")" = "refused (Permission denied)" ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "exercise 3: raise_limit.sh with a wrong argument, or without root: one line, exit 2" {
  run --separate-stderr "$RAISE_LIMIT_SH" "$NSLAB_PROGRAM"
  expect "one argument: the usage line, exit 2" "$DOC#lab08-ex3" -- \
    [ "$status.$stderr" = "2.Usage: raise_limit.sh PATH/TO/08-cgroup ROOTFS" ]
  run --separate-stderr "$RAISE_LIMIT_SH" "$NSLAB_PROGRAM" "$BATS_TEST_TMPDIR"
  expect "a directory with no bin/sh: exit 2, one line" "$DOC#lab08-ex3" -- \
    [ "$status.$stderr" = "2.raise_limit.sh: $BATS_TEST_TMPDIR: not a root filesystem (no bin/sh in it)" ]
  run --separate-stderr as_user "$RAISE_LIMIT_SH" "$NSLAB_PROGRAM" "$(nslab_rootfs)"
  expect "as a user: exit 2, one line that says root is needed" "$DOC#lab08-ex3" -- \
    failed_with 2 '^raise_limit\.sh: needs root: '
  expect_no_cgroup_left "$DOC#lab08-ex3"
}
