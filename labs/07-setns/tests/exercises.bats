#!/usr/bin/env bats
# Lab 07 — the exercises' answers: a namespace kept alive by a bind mount of its
# /proc/PID/ns file and joined after its last process (07-setns-join-file),
# every namespace of a process joined in one setns(2) with a pidfd
# (07-setns-pidfd), and getpid() unchanged by setns into a PID namespace
# (07-setns-getpid). The bind mounts are made in a mount namespace of the
# test's own, private, so that none can reach the host, and all vanish with it.
# answers: 1=join_file.cpp 2=pidfd_join.cpp 3=getpid_after_setns.cpp

load ../../../common/bats/nslab
NSLAB_LAB=07-setns
NSLAB_ROOT_WHY="the exercises join namespaces of other processes and bind-mount their files, which needs root"
DOC=lab07-setns.md

# exercise_program NAME: the answer 07-setns-NAME (exercise_answer, nslab.bash):
# the learner's, next to the program under test, or else the reference one.
exercise_program() {
  exercise_answer "07-setns-$1"
}

lab_setup() {
  JOIN_FILE=$(exercise_program join-file)
  PIDFD_JOIN=$(exercise_program pidfd)
  GETPID=$(exercise_program getpid)
  PID_FILE=$BATS_TEST_TMPDIR/ct.pid
  MOUNTS_PID=""
}

lab_teardown() {
  # The private mount namespace ends with its only process, and every bind
  # mount in it with the namespace: nothing to unmount by hand.
  if [ -n "$MOUNTS_PID" ]; then
    kill -KILL "$MOUNTS_PID" 2>/dev/null || true
    wait "$MOUNTS_PID" 2>/dev/null || true
  fi
}

# What a joined shell sees: its hostname, uid, the processes of its /proc
# (but itself: the globbing shell forks nothing), and its namespaces.
# shellcheck disable=SC2016  # expanded by sh -c
SEEN='hostname; id -u
for p in /proc/[0-9]*; do n=${p#/proc/}; [ "$n" = $$ ] || printf "%s " "$n"; done; echo
for kind in user uts ipc pid mnt net cgroup; do readlink /proc/self/ns/$kind; done'

# The namespaces of PID as SEEN prints them.
namespaces_of() {
  local kind
  for kind in user uts ipc pid mnt net cgroup; do ns_of "$1" "$kind"; done
}

# start_sleeping_ct ARGS...: a container of the lab's program running sleep;
# returns once COMMAND runs (--pid-file is written then). Sets CHILD, its first
# process as the host numbers it.
start_sleeping_ct() {
  start_ct --pid-file "$PID_FILE" "$@" -- sleep 100 3>&-
  wait_for 10 test -s "$PID_FILE"
  CHILD=$(cat "$PID_FILE")
}

# stop_ct: SIGKILL the runtime (the container's first process dies with it),
# and wait until both have gone.
stop_ct() {
  kill -KILL "$CT_PID"
  finish_ct
  wait_for 5 nslab_not_running "$CHILD"
}

# start_private_mounts: a process alone in a new mount namespace, private
# (no mount made there propagates to the host's); in_private_mounts runs a
# command in it. Sets MOUNTS_PID.
start_private_mounts() {
  (NSLAB_GUARD=$NSLAB_GUARD_TOKEN exec unshare --mount --propagation private -- sleep 1000) 3>&- &
  MOUNTS_PID=$!
  wait_for 5 has_own_mount_namespace "$MOUNTS_PID"
}

has_own_mount_namespace() {
  [ "$(ns_of "$1" mnt)" != "$(ns_of $$ mnt)" ]
}

in_private_mounts() {
  nsenter --target "$MOUNTS_PID" --mount -- "$@"
}

# The PIDs of the processes in namespace ID ("uts:[4026532400]") of KIND.
processes_in() {
  local link
  for link in /proc/[0-9]*/ns/"$1"; do
    [ "$(readlink "$link" 2>/dev/null)" = "$2" ] && echo "${link#/proc/}" | cut -d/ -f1
  done
  return 0
}

no_process_in() {
  [ -z "$(processes_in "$1" "$2")" ]
}

# no_line_with TEXT FILE: no line of FILE holds TEXT.
no_line_with() {
  ! grep -qF -- "$1" "$2"
}

# one_level_down NSPID PID: NSPID (an NSpid line's PIDs, "4243 2" or "4243,2")
# names a process numbered in one PID namespace below ours, as PID there.
one_level_down() {
  local -a pids
  read -r -a pids <<< "${1//,/ }"
  [ "${#pids[@]}" -eq 2 ] && [ "${pids[1]}" = "$2" ] && [ "${pids[0]}" != "$2" ]
}

# --- exercise 1: keep a namespace alive, then join it ---------------------------

@test "exercise 1: a UTS namespace bind-mounted from /proc/PID/ns outlives its last process, and 07-setns-join-file joins it" {
  start_private_mounts
  start_sleeping_ct --hostname kept
  kept=$(ns_of "$CHILD" uts)
  touch "$BATS_TEST_TMPDIR/uts"
  in_private_mounts mount --bind "/proc/$CHILD/ns/uts" "$BATS_TEST_TMPDIR/uts"
  expect "the bind mount is in the private mount namespace: $kept on FILE" "$DOC#lab07-ex1" -- \
    grep -qF " $kept $BATS_TEST_TMPDIR/uts " "/proc/$MOUNTS_PID/mountinfo"
  expect "and not on the host (negative control: --propagation private)" "$DOC#lab07-ex1" -- \
    no_line_with "$BATS_TEST_TMPDIR/uts" /proc/self/mountinfo
  stop_ct
  expect "no process is left in $kept" "$DOC#lab07-ex1" -- wait_for 5 no_process_in uts "$kept"

  # COMMAND prints the hostname, its UTS namespace, then what each of its file descriptors is.
  run --separate-stderr in_private_mounts "$JOIN_FILE" "$BATS_TEST_TMPDIR/uts" sh -c \
    'hostname; readlink /proc/self/ns/uts; for fd in /proc/$$/fd/*; do readlink "$fd"; done; true'
  expect "07-setns-join-file FILE joins the namespace the bind mount holds, and COMMAND runs there" "$DOC#lab07-ex1" -- \
    [ "$status" -eq 0 ]
  expect "the hostname set by the container is still there: kept" "$DOC#lab07-ex1" -- [ "${lines[0]}" = kept ]
  expect "the very namespace $kept, not a new one" "$DOC#lab07-ex1" -- [ "${lines[1]}" = "$kept" ]
  # (A descriptor of FILE reads as FILE's path; of /proc/PID/ns/uts, as uts:[...].)
  expect "COMMAND holds no descriptor of the namespace file (closed, or O_CLOEXEC)" "$DOC#lab07-ex1" -- \
    [ -z "$(printf '%s\n' "${lines[@]:2}" | grep -xF -e "$kept" -e "$BATS_TEST_TMPDIR/uts")" ]
  expect "nothing on stderr" "$DOC#lab07-ex1" -- [ -z "$stderr" ]
  expect "the host keeps its hostname (negative control)" "$DOC#lab07-ex1" -- [ "$(hostname)" = "$HOST_HOSTNAME" ]

  in_private_mounts umount "$BATS_TEST_TMPDIR/uts"
  expect "after umount, no mount holds it" "$DOC#lab07-ex1" -- no_line_with "$kept" "/proc/$MOUNTS_PID/mountinfo"
  run --separate-stderr in_private_mounts "$JOIN_FILE" "$BATS_TEST_TMPDIR/uts" hostname
  expect "FILE is the empty file it was: not a namespace file, exit 125" "$DOC#lab07-ex1" -- \
    failed_with 125 '^07-setns-join-file: ioctl\(".*", NS_GET_NSTYPE\): Inappropriate ioctl for device: not a namespace file'
}

@test "exercise 1: 07-setns-join-file forks into a PID namespace; one kept by a bind mount after its init has gone takes no process" {
  start_private_mounts
  start_sleeping_ct
  container_pid=$(ns_of "$CHILD" pid)
  # sh's $$ is its getpid(), and exec keeps it: cat's /proc/self is the shell's.
  run --separate-stderr "$JOIN_FILE" "/proc/$CHILD/ns/pid" sh -c 'echo $$; readlink /proc/self/ns/pid; exec cat /proc/self/status'
  assert_success
  nspid=$(sed -n 's/^NSpid:\s*//p' <<< "$output" | xargs)
  expect "COMMAND's children are in the container's PID namespace, $container_pid" "$DOC#lab07-ex1" -- \
    [ "${lines[1]}" = "$container_pid" ]
  expect "and so is COMMAND, forked after setns: its NSpid ($nspid) ends with \$\$ (${lines[0]}), one level below ours" "$DOC#lab07-ex1" -- \
    one_level_down "$nspid" "${lines[0]}"

  touch "$BATS_TEST_TMPDIR/pid"
  in_private_mounts mount --bind "/proc/$CHILD/ns/pid" "$BATS_TEST_TMPDIR/pid"
  stop_ct
  run --separate-stderr in_private_mounts "$JOIN_FILE" "$BATS_TEST_TMPDIR/pid" true
  expect "the namespace is there to join, but its init has exited: fork(2) is refused (ENOMEM), exit 125" "$DOC#lab07-ex1" -- \
    failed_with 125 '^07-setns-join-file: fork: Cannot allocate memory: the PID namespace joined has lost its init'
}

@test "exercise 1: 07-setns-join-file with a regular file or a missing one: one line, exit 125, nothing run" {
  touch "$BATS_TEST_TMPDIR/plain"
  run --separate-stderr "$JOIN_FILE" "$BATS_TEST_TMPDIR/plain" echo ran
  expect "a regular file is not a namespace file: exit 125, one line that says why (ENOTTY from NS_GET_NSTYPE)" "$DOC#lab07-ex1" -- \
    failed_with 125 '^07-setns-join-file: ioctl\(".*/plain", NS_GET_NSTYPE\): Inappropriate ioctl for device: not a namespace file'
  expect "COMMAND did not run" "$DOC#lab07-ex1" -- [ -z "$output" ]

  run --separate-stderr "$JOIN_FILE" "$BATS_TEST_TMPDIR/missing" echo ran
  expect "a missing file: exit 125" "$DOC#lab07-ex1" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "07-setns-join-file: open \"$BATS_TEST_TMPDIR/missing\": No such file or directory"
  expect "COMMAND did not run" "$DOC#lab07-ex1" -- [ -z "$output" ]

  run --separate-stderr "$JOIN_FILE" /proc/self/ns/user echo ran
  expect "our own user namespace cannot be joined again: exit 125, and the reason" "$DOC#lab07-ex1" -- \
    failed_with 125 '^07-setns-join-file: setns\("/proc/self/ns/user" \(user\), 0\): Invalid argument: a process cannot join the user namespace it is in'
}

# --- exercise 2: join with a pidfd ----------------------------------------------

@test "exercise 2: 07-setns-pidfd sees what 07-setns --enter sees: hostname, processes, every namespace" {
  start_sleeping_ct --hostname box
  run --separate-stderr "$PIDFD_JOIN" "$CHILD" sh -c "$SEEN"
  expect "07-setns-pidfd PID COMMAND runs COMMAND, exit 0" "$DOC#lab07-ex2" -- [ "$status" -eq 0 ]
  expect "nothing on stderr" "$DOC#lab07-ex2" -- [ -z "$stderr" ]
  pidfd_seen=$output
  expect "the container's hostname, root inside, only the container's PID 1 besides itself" "$DOC#lab07-ex2" -- \
    [ "$(printf '%s\n' "${lines[@]:0:3}")" = "$(printf 'box\n0\n1 ')" ]
  expect "every namespace of process $CHILD: $(namespaces_of "$CHILD" | xargs)" "$DOC#lab07-ex2" -- \
    [ "$(printf '%s\n' "${lines[@]:3}")" = "$(namespaces_of "$CHILD")" ]
  expect_namespaces "$CHILD" "$DOC#lab07-ex2" "user uts ipc pid mnt net" "cgroup"

  run --separate-stderr "$NSLAB_PROGRAM" --enter "$CHILD" -- sh -c "$SEEN"
  assert_success
  expect "07-setns --enter sees the very same (the positive control of the lab's own way)" "$DOC#lab07-ex2" -- \
    [ "$output" = "$pidfd_seen" ]
  stop_ct
}

@test "exercise 2: 07-setns-pidfd joins a rootless container as root, and as its owner, who cannot join its UTS namespace alone" {
  requires_userns
  USER_DIR=$(mktemp -d /tmp/nslab-rootless.XXXXXX)
  chmod 755 "$USER_DIR"
  chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$USER_DIR"
  PID_FILE=$USER_DIR/ct.pid
  cd /
  NSLAB_RUNNER=("${NSLAB_AS_USER[@]}")
  start_sleeping_ct --hostname rootless
  NSLAB_RUNNER=()
  expect "the container's root is uid $NSLAB_USER_UID on the host (a rootless container)" lab06-user.md#lab06-root -- \
    grep -qE "^Uid:\s+$NSLAB_USER_UID\s" "/proc/$CHILD/status"

  run --separate-stderr "$PIDFD_JOIN" "$CHILD" sh -c "$SEEN"
  expect "root joins it: exit 0" "$DOC#lab07-ex2" -- [ "$status" -eq 0 ]
  expect "its hostname, root inside, its processes" "$DOC#lab07-ex2" -- \
    [ "$(printf '%s\n' "${lines[@]:0:3}")" = "$(printf 'rootless\n0\n1 ')" ]
  expect "every namespace of process $CHILD" "$DOC#lab07-ex2" -- [ "$(printf '%s\n' "${lines[@]:3}")" = "$(namespaces_of "$CHILD")" ]
  as_root=$output
  run --separate-stderr "$NSLAB_PROGRAM" --enter "$CHILD" -- sh -c "$SEEN"
  expect "07-setns --enter, as root, sees the same" "$DOC#lab07-ex2" -- [ "$status.$output" = "0.$as_root" ]

  run --separate-stderr as_user "$PIDFD_JOIN" "$CHILD" sh -c "$SEEN"
  expect "its owner, uid $NSLAB_USER_UID, joins it too, in one setns(2): the kernel joins the user namespace first" "$DOC#lab07-ex2" -- \
    [ "$status.$output" = "0.$as_root" ]
  run --separate-stderr as_user nsenter --target "$CHILD" --uts -- hostname
  expect "negative control: the owner may not join its UTS namespace alone, before the user namespace" "$DOC#lab07-ex2" -- \
    [ "$status" -ne 0 ]
  expect "nsenter says EPERM" "$DOC#lab07-ex2" -- grep -q 'Operation not permitted' <<< "$stderr"
  stop_ct
}

@test "exercise 2: 07-setns-pidfd with no such process, no number, or a process in our own namespaces: one line, exit 125" {
  run --separate-stderr "$PIDFD_JOIN" 4194304 echo ran
  expect "a PID no process has: exit 125, and nothing run" "$DOC#lab07-ex2" -- [ "$status.$output" = "125." ]
  assert_equal "$stderr" "07-setns-pidfd: pidfd_open(4194304): No such process"
  run --separate-stderr "$PIDFD_JOIN" 12x echo ran
  expect "not a number: exit 125" "$DOC#lab07-ex2" -- [ "$status.$output" = "125." ]
  assert_equal "$stderr" '07-setns-pidfd: "12x": expected a process ID'
  run --separate-stderr "$PIDFD_JOIN" $$ echo ran
  expect "this shell shares every namespace with us: nothing to join, exit 125" "$DOC#lab07-ex2" -- [ "$status.$output" = "125." ]
  assert_equal "$stderr" "07-setns-pidfd: process $$ is in every namespace this process is in: nothing to join"
}

# --- exercise 3: getpid() after setns -------------------------------------------

@test "exercise 3: after setns into a PID namespace getpid() is unchanged; only a child is numbered in the container" {
  start_sleeping_ct
  container_pid=$(ns_of "$CHILD" pid)
  host_pid=$(ns_of $$ pid)
  # sh prints its own PID, then execs the program: the same process.
  run --separate-stderr sh -c 'echo $$; exec "$@"' sh "$GETPID" "$CHILD"
  expect "exit 0, nothing on stderr" "$DOC#lab07-ex3" -- [ "$status" -eq 0 -a -z "$stderr" ]
  caller=${lines[0]}
  read -r _ _ before_pid before_children <<< "${lines[1]}"
  read -r _ _ _ after_pid after_children <<< "${lines[2]}"
  read -r child_label child child_pid _ child_nspid <<< "${lines[3]}"
  expect "before: our PID as the host numbers it, $caller" "$DOC#lab07-ex3" -- [ "${lines[1]%% ns/*}" = "before: $caller" ]
  expect "after setns: the same PID, $caller" "$DOC#lab07-ex3" -- [ "${lines[2]%% ns/*}" = "after setns: $caller" ]
  expect "and the same ns/pid, the host's: setns(2) does not move the caller" "$DOC#lab07-ex3" -- \
    [ "$before_pid $after_pid" = "ns/pid=$host_pid ns/pid=$host_pid" ]
  expect "pid_for_children moves, from the host's to the container's" "$DOC#lab07-ex3" -- \
    [ "$before_children $after_children" = "ns/pid_for_children=$host_pid ns/pid_for_children=$container_pid" ]
  expect "child: a PID that is not ours, in the container's PID namespace, $container_pid" "$DOC#lab07-ex3" -- \
    [ "$child_label" = "child:" -a "$child" != "$caller" -a "$child_pid" = "ns/pid=$container_pid" ]
  expect "the child's NSpid: a PID as we number it, and $child, the container's" "$DOC#lab07-ex3" -- \
    one_level_down "${child_nspid#NSpid=}" "$child"
  stop_ct
}

@test "exercise 3: 07-setns-getpid into our own PID namespace: the child is numbered as we are (negative control), errors 125" {
  run --separate-stderr "$GETPID" $$
  assert_success
  host_pid=$(ns_of $$ pid)
  read -r _ child child_pid _ child_nspid <<< "${lines[2]}"
  expect "the child is in our PID namespace, $host_pid" "$DOC#lab07-ex3" -- [ "$child_pid" = "ns/pid=$host_pid" ]
  expect "with one PID only, the one getpid() gives it" "$DOC#lab07-ex3" -- [ "$child_nspid" = "NSpid=$child" ]

  run --separate-stderr "$GETPID" 4194304
  expect "no such process: exit 125, one line" "$DOC#lab07-ex3" -- failed_with 125 '^07-setns-getpid: '
  assert_equal "$stderr" "07-setns-getpid: open /proc/4194304/ns/pid: No such file or directory: there is no process 4194304"
}
