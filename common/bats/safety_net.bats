#!/usr/bin/env bats
# The safety net: a lab whose module forgot its clone flag stops with 125 before
# it changes anything, even run directly, outside any sandbox. The programs
# under test (build/bin/tests/forgetful-*) are the reference labs with one
# flag removed. Each runs inside a throw-away namespace that stands in for the
# host — should the net ever fail, it renames or remounts only that stand-in —
# and the test looks at the stand-in, as a user would look at the machine.

load nslab
NSLAB_LAB=01-uts

lab_setup() {
  FORGETFUL=$NSLAB_BUILD_DIR/bin/tests
  [ -x "$FORGETFUL/forgetful-uts" ] || { echo "no $FORGETFUL/forgetful-uts: build first" >&2; return 1; }
}

@test "lab 01 without CLONE_NEWUTS refuses to set the hostname, and the host keeps its name" {
  run --separate-stderr unshare --uts -- sh -c '
    before=$(hostname)
    "$1" --hostname renamed-by-mistake -- hostname; status=$?
    [ "$(hostname)" = "$before" ] || { echo "the stand-in host was renamed to $(hostname)"; exit 99; }
    exit $status' sh "$FORGETFUL/forgetful-uts"
  expect "exit status 125, and the stand-in host kept its name (99: it was renamed)" lab01-uts.md#lab01-flag -- [ "$status" -eq 125 ]
  expect "COMMAND never ran" lab01-uts.md#lab01-flag -- [ -z "$output" ]
  assert_equal "$stderr" "01-uts: refusing to set the hostname: this process is still in the host's uts namespace (clone_flags() asked for no CLONE_NEWUTS) — see docs/{en,zh}/lab01-uts.md#lab01-flag"
  assert_equal "$(hostname)" "$HOST_HOSTNAME"
}

@test "lab 04 without CLONE_NEWNS refuses to touch the mounts, and the host's /proc stays" {
  run --separate-stderr unshare --mount --propagation private -- sh -c '
    before=$(cat /proc/self/mountinfo | wc -l)
    "$1" -- true; status=$?
    after=$(cat /proc/self/mountinfo | wc -l)
    [ "$before" = "$after" ] || { echo "the stand-in host has $after mounts, not $before"; exit 99; }
    exit $status' sh "$FORGETFUL/forgetful-mnt"
  expect "exit status 125, and no mount was added to the stand-in host (99)" lab04-mount.md#lab04-flag -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "04-mount: refusing to change mounts (make them private, mount /proc): this process is still in the host's mnt namespace (clone_flags() asked for no CLONE_NEWNS) — see docs/{en,zh}/lab04-mount.md#lab04-flag"
}

@test "a runtime whose /proc is another PID namespace's writes no map and holds no namespace through it" {
  # unshare --pid --fork without --mount-proc: /proc/CHILD would be another process.
  run --separate-stderr unshare --pid --fork "$NSLAB_BUILD_DIR/bin/solutions/06-user" -- true
  assert_equal "$status" 125
  is_one_line_matching "$stderr" '^06-user: /proc is not this PID namespace.s: /proc/self is [0-9]+, getpid\(\) is 1 '
  run --separate-stderr unshare --pid --fork "$NSLAB_BUILD_DIR/bin/solutions/05-net" --veth 10.200.22.1/24,10.200.22.2/24 -- true
  assert_equal "$status" 125
  is_one_line_matching "$stderr" '^05-net: --veth: /proc is not this PID namespace.s'
  # Labs that need no child's /proc file still run there (lab 03's nested-namespace exercise).
  run --separate-stderr unshare --pid --fork "$NSLAB_BUILD_DIR/bin/solutions/03-pid" -- sh -c 'echo $$'
  assert_equal "$output" 1
}
