#!/usr/bin/env bats
# Lab 08 — cgroups without root. The program runs as an unprivileged user:
# this shell's user, or, when the tests run as root, NSLAB_ROOTLESS_UID
# (default 65534, nobody), with no capability and no supplementary group.
# Without a delegated cgroup, a limit is refused with one line that says how
# to get one, and a container without a limit runs in the caller's cgroup
# after a one-line warning. With a cgroup delegated by hand, as runc's
# rootless tests do where systemd does not (cgroup.bash: root makes it, gives
# it to the user, and removes it afterwards, with whatever is in it), the
# user's limits work and its containers' cgroups are made, and removed, under
# it. Delegating needs root: as another user those tests skip ("needs root").

load ../../../common/bats/nslab
load cgroup
NSLAB_LAB=08-cgroup
NSLAB_ROOTLESS=1
DOC=lab08-cgroup.md

lab_setup() {
  DELEGATED_DIRS=() ROOT_ENABLED=()
  cgroup_setup
  [ "$CG_LAYOUT" != none ] || skip "no cgroup file system at /sys/fs/cgroup: lab 08 needs cgroup v1 or v2 mounted there"
  AWAIT_GO="n=0; until [ -e '$USER_DIR/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  case $BATS_TEST_DESCRIPTION in
    "without a delegated cgroup"*)
      ! user_has_delegation $$ ||
        skip "uid $NSLAB_USER_UID may write a cgroup here (one is delegated to it): a container without delegation cannot be shown"
      # The user's own situation: no NSLAB_CGROUP_BASE (the sandbox's, under
      # grade.sh), which would make the line name it instead.
      NSLAB_RUNNER=(env -u NSLAB_CGROUP_BASE "${NSLAB_RUNNER[@]}")
      ;;
    *"delegated cgroup"*)
      [ "$EUID" = 0 ] || skip "needs root: these tests delegate a cgroup by hand (mkdir and chown under /sys/fs/cgroup)"
      case $BATS_TEST_DESCRIPTION in
        *"without the pids controller"*) delegate_cgroup "memory cpu" ;;
        *) delegate_cgroup ;;
      esac
      ;;
  esac
}

lab_teardown() {
  # Its processes first (nslab.bash's teardown has SIGKILLed a runtime that
  # was still running), then every directory of the delegated cgroup.
  [ ${#DELEGATED_DIRS[@]} -eq 0 ] || undelegate_cgroup
}

# start_waiting_ct ARGS...: start_waiting_ct_in (cgroup.bash) in the user's directory.
start_waiting_ct() {
  start_waiting_ct_in "$USER_DIR" "$@"
}

# The line that says there is no delegated cgroup, and how to get one.
NO_DELEGATION='^08-cgroup: .*systemd-run --user --scope -p Delegate=yes'

# The directories of the delegated cgroup that are not the test's own (runner/): what the user's runs left.
left_in_delegated() {
  local dir
  for dir in "${DELEGATED_DIRS[@]}"; do
    find "$dir" -mindepth 1 -type d ! -path "$dir/runner"
  done
}

expect_nothing_left_in_delegated() {
  local left
  left=$(left_in_delegated)
  [ -z "$left" ] || explain "nothing left in the delegated cgroup once the runtime has exited; left: $(echo $left)" "$1"
}

# --- without a delegated cgroup ----------------------------------------------

@test "without a delegated cgroup, a limit is refused: exit 125, one line that says how to get one" {
  for option in "--memory 64M" "--pids 8" "--cpus 0.5"; do
    run --separate-stderr ct $option -- touch "$USER_DIR/ran"
    expect "$option: exit status 125" "$DOC#lab08-rootless" -- [ "$status" -eq 125 ]
    expect "$option: one line that names the way to a delegated cgroup (systemd-run --user --scope -p Delegate=yes)" "$DOC#lab08-rootless" -- \
      is_one_line_matching "$stderr" "$NO_DELEGATION"
  done
  expect "COMMAND never ran" "$DOC#lab08-rootless" -- [ ! -e "$USER_DIR/ran" ]
  expect "no process left" "$DOC#lab08-rootless" -- nslab_no_guarded_processes
}

@test "without a delegated cgroup and without a limit, the container runs in the caller's cgroup after a one-line warning" {
  run --separate-stderr ct -- echo hello
  expect "exit status 0" "$DOC#lab08-rootless" -- [ "$status" -eq 0 ]
  expect "COMMAND's output, untouched" "$DOC#lab08-rootless" -- [ "$output" = hello ]
  expect "one line on stderr that says there is no cgroup, and how to get one" "$DOC#lab08-rootless" -- \
    is_one_line_matching "$stderr" "$NO_DELEGATION"
  start_waiting_ct
  for hierarchy in $CG_HIERARCHIES; do
    expect "from the host, the container is in the caller's cgroup ($hierarchy: $(cgroup_of $$ "$hierarchy"); got: $(cgroup_of "$CHILD" "$hierarchy"))" "$DOC#lab08-rootless" -- \
      [ "$(cgroup_of "$CHILD" "$hierarchy")" = "$(cgroup_of $$ "$hierarchy")" ]
  done
  expect_namespaces "$CHILD" "$DOC#lab08-ns" "cgroup user uts ipc pid mnt net" ""
  expect "inside, its own cgroup namespace: every line of /proc/self/cgroup shows / (got: $(paste -sd' ' "$USER_DIR/inside"))" "$DOC#lab08-ns" -- \
    [ -z "$(awk -F: '$3 != "/"' "$USER_DIR/inside")" ]
  touch "$USER_DIR/go"
  finish_ct
  assert_success
}

# --- with a cgroup delegated by hand ------------------------------------------

@test "with a delegated cgroup, the container's cgroup is made under it, owned by the user, with the limits" {
  start_waiting_ct --memory 48M --pids 8 --cpus 0.5
  cgroup=$(ct_cgroup)
  runner=$DELEGATED
  [ "$CG_LAYOUT" != v2 ] || runner=$DELEGATED/runner
  expect "the runtime runs as the user (the test's set-up)" "$DOC#lab08-rootless" -- \
    grep -qE "^Uid:\s+$NSLAB_USER_UID\s" "/proc/$CT_PID/status"
  expect_in_cgroup "$CT_PID" "$runner" "$DOC#lab08-rootless"
  expect_in_cgroup "$CHILD" "$cgroup" "$DOC#lab08-rootless"
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$cgroup")
    expect "$dir belongs to uid $NSLAB_USER_UID, which made it" "$DOC#lab08-rootless" -- [ "$(stat -c %u "$dir")" = "$NSLAB_USER_UID" ]
  done
  expect "$(memory_limit_file): 50331648" "$DOC#lab08-create" -- [ "$(cgroup_value memory "$cgroup" "$(memory_limit_file)")" = 50331648 ]
  expect "pids.max: 8" "$DOC#lab08-create" -- [ "$(cgroup_value pids "$cgroup" pids.max)" = 8 ]
  expect "the CPU quota: 50000 100000 (got: $(cpu_quota_of "$cgroup"))" "$DOC#lab08-create" -- [ "$(cpu_quota_of "$cgroup")" = "50000 100000" ]
  expect "inside, every line of /proc/self/cgroup shows / (got: $(paste -sd' ' "$USER_DIR/inside"))" "$DOC#lab08-ns" -- \
    [ -z "$(awk -F: '$3 != "/"' "$USER_DIR/inside")" ]
  touch "$USER_DIR/go"
  finish_ct
  assert_success
  expect "nothing on stderr: no warning, the cgroup was made" "$DOC#lab08-rootless" -- [ -z "$output" ]
  expect_nothing_left_in_delegated "$DOC#lab08-teardown"
}

@test "with a delegated cgroup, a memory hog is killed under --memory 48M and not under --memory 512M" {
  run --separate-stderr ct --memory 48M -- "${HOG[@]}"
  expect "the hog is killed: exit status 128+9" "$DOC#lab08-memory" -- [ "$status" -eq 137 ]
  expect "one line: --memory 48M was reached" "$DOC#lab08-memory" -- is_one_line_matching "$stderr" "^08-cgroup: --memory 48M $MEMORY_REACHED"
  expect_nothing_left_in_delegated "$DOC#lab08-teardown"
  run --separate-stderr ct --memory 512M -- "${HOG[@]}"
  expect "under --memory 512M it runs to its end (negative control)" "$DOC#lab08-memory" -- [ "$status.$stderr" = 0. ]
  expect_nothing_left_in_delegated "$DOC#lab08-teardown"
}

@test "with a delegated cgroup, forks past --pids 8 are refused" {
  run --separate-stderr ct --pids 8 -- sh -c 'for i in $(seq 30); do sleep 1 & done; wait'
  expect "the shell reports a fork refused" "$DOC#lab08-pids" -- grep -qE "$FORK_REFUSED" <<< "$stderr"
  expect "the runtime's line: --pids 8 was reached" "$DOC#lab08-pids" -- grep -qE "^08-cgroup: --pids 8 $PIDS_REACHED" <<< "$stderr"
  expect_nothing_left_in_delegated "$DOC#lab08-teardown"
  run --separate-stderr ct --pids 64 -- sh -c 'for i in $(seq 30); do sleep 1 & done; wait'
  expect "under --pids 64, every fork succeeds (negative control)" "$DOC#lab08-pids" -- [ "$status.$stderr" = 0. ]
  expect_nothing_left_in_delegated "$DOC#lab08-teardown"
}

@test "with a delegated cgroup, SIGKILL of the user's runtime leaves a directory that the user's next run sweeps" {
  start_waiting_ct --pids 16
  cgroup=$(ct_cgroup)
  kill -KILL "$CT_PID"
  wait "$CT_PID" 2>/dev/null || true
  expect "the container dies with its runtime" "$DOC#lab08-sweep" -- wait_for 3 nslab_no_guarded_processes
  expect "its directory is left: $(cgroup_dir pids "$cgroup")" "$DOC#lab08-sweep" -- [ -d "$(cgroup_dir pids "$cgroup")" ]
  run ct -- true
  assert_success
  for hierarchy in $CG_HIERARCHIES; do
    expect "the next run swept $(cgroup_dir "$hierarchy" "$cgroup")" "$DOC#lab08-sweep" -- [ ! -e "$(cgroup_dir "$hierarchy" "$cgroup")" ]
  done
  expect_nothing_left_in_delegated "$DOC#lab08-teardown"
}

@test "with a delegated cgroup without the pids controller, --pids is refused with one line naming it" {
  run --separate-stderr ct --pids 8 -- touch "$USER_DIR/ran"
  expect "exit status 125" "$DOC#lab08-errors" -- [ "$status" -eq 125 ]
  if [ "$CG_LAYOUT" = v2 ]; then
    expect "one line: 08-cgroup: --pids needs the pids controller, which … has not got" "$DOC#lab08-errors" -- \
      is_one_line_matching "$stderr" '^08-cgroup: --pids needs the pids controller'
  else
    # v1: a hierarchy of its own for each controller, and no cgroup of the user's in pids'.
    expect "one line that names the pids hierarchy, which holds no cgroup of the user's, and how to get one" "$DOC#lab08-rootless" -- \
      is_one_line_matching "$stderr" '^08-cgroup: .*/sys/fs/cgroup/pids.*systemd-run --user --scope -p Delegate=yes'
  fi
  expect "COMMAND never ran" "$DOC#lab08-errors" -- [ ! -e "$USER_DIR/ran" ]
  expect_nothing_left_in_delegated "$DOC#lab08-errors"
  if [ "$CG_LAYOUT" = v2 ]; then
    run ct --memory 64M -- true
    expect "--memory 64M works: the memory controller is delegated (positive control)" "$DOC#lab08-rootless" -- [ "$status" -eq 0 ]
    expect_nothing_left_in_delegated "$DOC#lab08-teardown"
  fi
}
