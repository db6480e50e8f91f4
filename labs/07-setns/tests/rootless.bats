#!/usr/bin/env bats
# Lab 07 — joining without root. An unprivileged user (this shell's user, or,
# when the tests run as root, NSLAB_ROOTLESS_UID, default 65534, with no
# capability and no supplementary group) joins its own rootless container:
# it may join nothing until it is in the container's user namespace, so every
# other setns(2) is refused (EPERM) first and tried again after it. The same
# user may not join a root container; root may join the user's. USER_DIR is a
# directory of that user's own (see nslab.bash).

load ../../../common/bats/nslab
load join
NSLAB_LAB=07-setns
NSLAB_ROOTLESS=1
DOC=lab07-setns.md

NEW_KINDS="user uts ipc pid mnt net"

lab_setup() {
  PID_FILE=$USER_DIR/target.pid
  TARGET="" JOIN_PID="" ROOT_CT_PID=""
  case $BATS_TEST_DESCRIPTION in
    *"root container"* | "root joins"*)
      [ "$EUID" = 0 ] || skip "needs root: this test starts a root container beside the user's, or joins as root"
      ;;
  esac
}

lab_teardown() {
  end_started "${JOIN_PID:-}" "${ROOT_CT_PID:-}"
}

# --- helpers (the shared ones: join.bash) -----------------------------------------

# root_enter PID ARGS...: ct_enter (join.bash), but as root whoever runs the file.
root_enter() {
  local pid=$1
  shift
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$NSLAB_PROGRAM" --enter "$pid" "$@"
}

map_of() {
  awk '{ print $1, $2, $3 }' "$1"
}

# --- the user's own container ------------------------------------------------------

@test "done when, without root: the owner joins its rootless container: box, a PID above 1, its processes, uid_map 0 UID 1" {
  start_target --hostname box -- sleep 100
  run --separate-stderr ct_enter "$TARGET" -- sh -c 'hostname; echo $$; ls /proc | grep -E "^[0-9]+$" | xargs; id -u; cat /proc/self/uid_map'
  expect "exit status 0, without root" "$DOC#lab07-run-rootless" -- [ "$status" -eq 0 ]
  expect "the container's hostname, box" lab01-uts.md#lab01-sethostname -- [ "${lines[0]}" = box ]
  joined=${lines[1]}
  expect "a PID of the container's PID namespace, above 1" "$DOC#lab07-fork" -- [ "$joined" -gt 1 ]
  expect "/proc lists the joined shell itself, $joined, and PID 1 (got: ${lines[2]})" "$DOC#lab07-fork" -- \
    [ -n "$(grep -w "$joined" <<< "${lines[2]}")" -a -n "$(grep -w 1 <<< "${lines[2]}")" ]
  expect "and only the container's few processes (got: ${lines[2]})" lab04-mount.md#lab04-proc -- [ "$(wc -w <<< "${lines[2]}")" -le 5 ]
  expect "root inside" lab06-user.md#lab06-root -- [ "${lines[3]}" = 0 ]
  expect "the container's map: 0 inside is $NSLAB_USER_UID outside, one id" "$DOC#lab07-order" -- \
    [ "$(awk '{ print $1, $2, $3 }' <<< "${lines[4]}")" = "0 $NSLAB_USER_UID 1" ]
  expect "that is /proc/$TARGET/uid_map, from the host" "$DOC#lab07-order" -- \
    [ "$(awk '{ print $1, $2, $3 }' <<< "${lines[4]}")" = "$(map_of "/proc/$TARGET/uid_map")" ]
  expect "nothing on stderr" "$DOC" -- [ -z "$stderr" ]
  run as_user id -u
  expect "outside, the user is uid $NSLAB_USER_UID, not root (negative control)" lab06-user.md#lab06-rootless -- \
    [ "$output" = "$NSLAB_USER_UID" -a "$output" != 0 ]
  expect "the host keeps its hostname" lab01-uts.md#lab01-flag -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
  stop_target
}

@test "the user's joined COMMAND is in every namespace of its container, from inside and from the host" {
  start_target --hostname box -- sleep 100
  join_everywhere 1234.21
  command=$JOINED
  expect "from the host, the joined COMMAND runs as the user, uid $NSLAB_USER_UID" "$DOC#lab07-order" -- \
    grep -qE "^Uid:\s+$NSLAB_USER_UID\s+$NSLAB_USER_UID\s+$NSLAB_USER_UID\s+$NSLAB_USER_UID\$" "/proc/$command/status"
  kill -TERM "$JOIN_PID"
  finish_join
  expect "SIGTERM forwarded to the joined sleep ends it: 128+15" "$DOC#lab07-fork" -- [ "$status" -eq 143 ]
  stop_target
}

@test "--verbose: every setns but the user namespace's is refused (EPERM) at first, then joined once in it" {
  start_target --hostname box -- sleep 100
  run --separate-stderr ct_enter "$TARGET" -v -- true
  assert_success
  declare -A flag=([uts]=CLONE_NEWUTS [ipc]=CLONE_NEWIPC [pid]=CLONE_NEWPID [mnt]=CLONE_NEWNS [net]=CLONE_NEWNET)
  user=$(grep -nE "\] setns\(/proc/$TARGET/ns/user, CLONE_NEWUSER\)\$" <<< "$stderr" | cut -d: -f1)
  expect "a line: setns(/proc/$TARGET/ns/user, CLONE_NEWUSER), joined at once" "$DOC#lab07-order" -- [ -n "$user" ]
  for kind in uts ipc pid mnt net; do
    call="setns(/proc/$TARGET/ns/$kind, ${flag[$kind]})"
    refused=$(grep -nF "$call: EPERM for now; again once in the container's user namespace" <<< "$stderr" | cut -d: -f1)
    joined=$(grep -nE "\] setns\(/proc/$TARGET/ns/$kind, ${flag[$kind]}\)\$" <<< "$stderr" | cut -d: -f1)
    expect "$call is refused with EPERM first, and deferred" "$DOC#lab07-order" -- [ -n "$refused" ]
    expect "then joined" "$DOC#lab07-order" -- [ -n "$joined" ]
    expect "refused (line $refused) before the user namespace is joined (line $user), joined (line $joined) after" "$DOC#lab07-order" -- \
      [ "$refused" -lt "$user" -a "$user" -lt "$joined" ]
  done
  for kind in $NEW_KINDS; do
    entry=$kind
    [ "$kind" != pid ] || entry=pid_for_children
    expect "after joining: $entry: $(ns_of $$ "$kind") -> $(ns_of "$TARGET" "$kind") (process $TARGET's)" "$DOC#lab07-open" -- \
      grep -qF "  $entry: $(ns_of $$ "$kind") -> $(ns_of "$TARGET" "$kind") (process $TARGET's)" <<< "$stderr"
  done
  expect "no namespace ends up other than the target's" "$DOC#lab07-open" -- lacks "$stderr" "NOT process"
  stop_target
}

@test "the joining process is not dumpable: the files of its /proc/PID belong to root, COMMAND's to the user" {
  start_target -- sleep 100
  start_join "$TARGET" -- sleep 1234.8
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 only_process 'sleep 1234\.8'
  command=$(only_process 'sleep 1234\.8')
  joining=$(child_of "$JOIN_PID")
  expect "the runtime is the user's, and dumpable: /proc/$JOIN_PID/status belongs to uid $NSLAB_USER_UID (negative control)" "$DOC#lab07-dumpable" -- \
    [ "$(stat -c %u "/proc/$JOIN_PID/status")" = "$NSLAB_USER_UID" ]
  expect "the joining process runs as the user too" "$DOC#lab07-dumpable" -- \
    grep -qE "^Uid:\s+$NSLAB_USER_UID\s" "/proc/$joining/status"
  # The files of /proc/PID: the directory itself keeps the process's euid as
  # its owner, dumpable or not.
  expect "but it is not dumpable (PR_SET_DUMPABLE 0): the files of /proc/$joining belong to root, so no process of the container may ptrace it" "$DOC#lab07-dumpable" -- \
    [ "$(stat -c %u "/proc/$joining/status" "/proc/$joining/ns")" = "$(printf '0\n0')" ]
  run as_user cat "/proc/$joining/environ"
  expect "the user cannot read its /proc/$joining/environ" "$DOC#lab07-dumpable" -- [ "$status" -ne 0 ]
  run as_user cat "/proc/$JOIN_PID/environ"
  expect "but can read the runtime's (negative control)" "$DOC#lab07-dumpable" -- [ "$status" -eq 0 ]
  expect "COMMAND, after execve(2), is dumpable again: the files of /proc/$command belong to the user" "$DOC#lab07-dumpable" -- \
    [ "$(stat -c %u "/proc/$command/status" "/proc/$command/ns")" = "$(printf '%s\n%s' "$NSLAB_USER_UID" "$NSLAB_USER_UID")" ]
  kill -TERM "$JOIN_PID"
  finish_join
  assert_equal "$status" 143
  stop_target
}

@test "the owner joins its rootless container with a root filesystem of its own: its / and working directory" {
  rootfs=$(user_rootfs)
  start_target --rootfs "$rootfs" -- sh -c 'mkdir -p /tmp/lab07-work && cd /tmp/lab07-work && exec sleep 100'
  run --separate-stderr ct_enter "$TARGET" -- sh -c 'cat /etc/issue; pwd; id -u; touch made-by-joined && ls'
  assert_success
  expect "/etc/issue of the root filesystem" "$DOC#lab07-root" -- grep -q '^nslab root filesystem' <<< "${lines[0]}"
  expect "the target's working directory" "$DOC#lab07-root" -- [ "${lines[1]}" = /tmp/lab07-work ]
  expect "root inside, who may write there" "$DOC#lab07-root" -- [ "${lines[2]}.${lines[3]}" = 0.made-by-joined ]
  stop_target
}

# --- a root container, and root --------------------------------------------------

@test "the user cannot join a root container: one line, exit 125, nothing ran" {
  root_pid_file=$USER_DIR/root.pid
  (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --hostname rootbox --pid-file "$root_pid_file" -- sleep 100) \
    > "$BATS_TEST_TMPDIR/root.out" 2>&1 3>&- &
  ROOT_CT_PID=$!
  wait_for 5 test -s "$root_pid_file"
  root_target=$(cat "$root_pid_file")
  wait_for 5 runs_sleep "$root_target"
  run --separate-stderr ct_enter "$root_target" -- touch "$USER_DIR/ran"
  expect "exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "one line that says the user may not enter it, and why" "$DOC#lab07-errors" -- \
    is_one_line_matching "$stderr" "^07-setns: --enter $root_target: permission denied: process $root_target runs as uid 0 and this one as uid $NSLAB_USER_UID; "
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$USER_DIR/ran" ]
  run root_enter "$root_target" -- hostname
  expect "root joins it (positive control), and its hostname is still rootbox" "$DOC" -- [ "$status.$output" = 0.rootbox ]
  kill -KILL "$root_target"
  status=0
  wait "$ROOT_CT_PID" || status=$?
  ROOT_CT_PID=""
  assert_equal "$status" 137
}

@test "root joins the user's rootless container and is root inside, the user outside" {
  start_target --hostname box -- sleep 100
  run --separate-stderr root_enter "$TARGET" -- sh -c "hostname; id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map; touch '$USER_DIR/made-by-root'"
  assert_success
  expect "the container's hostname, box; uid and gid 0" "$DOC#lab07-order" -- [ "${lines[0]} ${lines[1]} ${lines[2]}" = "box 0 0" ]
  expect "the container's uid_map: 0 $NSLAB_USER_UID 1" "$DOC#lab07-order" -- \
    [ "$(awk '{ print $1, $2, $3 }' <<< "${lines[3]}")" = "$(map_of "/proc/$TARGET/uid_map")" ]
  expect "and its gid_map" "$DOC#lab07-order" -- \
    [ "$(awk '{ print $1, $2, $3 }' <<< "${lines[4]}")" = "$(map_of "/proc/$TARGET/gid_map")" ]
  expect "that is 0 $NSLAB_USER_UID 1, not the host's 0 0 4294967295" lab06-user.md#lab06-maps -- \
    [ "$(awk '{ print $1, $2, $3 }' <<< "${lines[3]}")" = "0 $NSLAB_USER_UID 1" ]
  expect "a file made by root inside belongs to the user on the host" lab06-user.md#lab06-root -- \
    [ "$(stat -c %u:%g "$USER_DIR/made-by-root")" = "$NSLAB_USER_UID:$NSLAB_USER_GID" ]
  stop_target
}

@test "root joins the user's rootless container without the host's supplementary groups" {
  start_target -- sleep 100
  # Group 6 (disk on Debian) is one root holds here on purpose.
  run --separate-stderr setpriv --groups=6 -- "$NSLAB_PROGRAM" --enter "$TARGET" -- grep '^Groups:' /proc/self/status
  assert_success
  expect "no supplementary group inside: dropped before the user namespace, where setgroups(2) is denied" \
    "$DOC#lab07-order" -- [ "$(tr -d ' \t' <<< "$output")" = "Groups:" ]
  run setpriv --groups=6 -- grep '^Groups:' /proc/self/status
  expect "on the host, the same caller holds group 6 (negative control)" "$DOC#lab07-order" -- \
    [ "$(tr -d ' \t' <<< "$output")" = "Groups:6" ]
  stop_target
}
