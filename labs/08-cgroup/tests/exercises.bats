#!/usr/bin/env bats
# Lab 08 — the exercises' answers. Exercise 1 (by_hand.sh): the limits of
# `08-cgroup --memory 48M --pids 8 --cpus 0.5` set by hand with mkdir and echo
# under /sys/fs/cgroup: a memory hog killed under them and a small one not,
# forks refused past pids.max, a busy loop at half a CPU, and the group gone
# afterwards, on a signal too. Both layouts: v2, and v1 or hybrid (cgroup.bash).

# serial file: by_hand.sh makes its cgroups at the top of each hierarchy, where every sandbox sees them
load ../../../common/bats/nslab
load cgroup
NSLAB_LAB=08-cgroup
DOC=lab08-cgroup.md
NSLAB_ROOT_WHY="the exercises make cgroups at the top of /sys/fs/cgroup, which root owns"

lab_setup() {
  cgroup_setup
  [ "$CG_LAYOUT" != none ] || skip "no cgroup file system at /sys/fs/cgroup: lab 08 needs cgroup v1 or v2 mounted there"
  BY_HAND=$NSLAB_SOURCE_DIR/solutions/08-cgroup/exercises/by_hand.sh
  SCRIPT_PID=""
}

lab_teardown() {
  if [ -n "$SCRIPT_PID" ] && kill -0 "$SCRIPT_PID" 2>/dev/null; then
    kill -KILL "$SCRIPT_PID" 2>/dev/null || true  # ours: started by this test
    wait "$SCRIPT_PID" 2>/dev/null || true
  fi
  # What a script that failed its cleanup left: the test has said so; the
  # host must not keep it (remove_cgroup_tree: cgroup.bash).
  local dir
  for dir in $(by_hand_dirs); do
    remove_cgroup_tree "$dir" || true
  done
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

@test "exercise: by hand, a memory hog is killed under the 48M limit (oom_kill 1), a small one is not; nothing left" {
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

@test "exercise: by hand, forks past the pids limit of 8 are refused (pids.events max), fewer are not; nothing left" {
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

@test "exercise: by hand, a busy loop gets about half a CPU under the quota of 50 ms in 100 ms, and is throttled" {
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

@test "exercise: by_hand.sh ended by SIGTERM while COMMAND runs: COMMAND is killed with its group, and the group removed" {
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

@test "exercise: by_hand.sh refuses to run without a COMMAND, and makes nothing" {
  run --separate-stderr "$BY_HAND"
  assert_equal "$status" 2
  assert_equal "$stderr" "usage: by_hand.sh COMMAND [ARG...]"
  expect "no group made" "$DOC#lab08-ex1" -- [ -z "$(by_hand_dirs)" ]
}
