#!/usr/bin/env bats
# Lab 04 — the exercises' answers: three escapes from a root filesystem, each
# run under the lab's program with --rootfs, where it must fail, and under a
# plain chroot (or unshare --root), where it works — the negative control
# that shows the test can see an escape. The chroot escape (chroot-escape), a
# descriptor on the host's tree passed in (04-mount-fd-escape), and the
# host's init's root through /proc/1/root (04-mount-proc-escape). Each looks
# for a file the test made on the host, which the root filesystem does not hold.
# answers: 4=chroot_escape.cpp 7=fd_escape.cpp 8=proc_root_escape.cpp

load ../../../common/bats/nslab
NSLAB_LAB=04-mount
DOC=lab04-mount.md

# A copy of the test root filesystem, with the answers (the learner's or the
# reference ones: exercise_answer) in its /bin; a file only the host has.
lab_setup() {
  local program
  ROOTFS=$BATS_TEST_TMPDIR/rootfs
  cp -a "$(nslab_rootfs)" "$ROOTFS"
  for program in chroot-escape 04-mount-fd-escape 04-mount-proc-escape; do
    cp "$(exercise_answer "$program")" "$ROOTFS/bin/$program"
  done
  MARKER=$BATS_TEST_TMPDIR/host-only-marker
  echo "the host's own file" > "$MARKER"
}

# The root filesystem holds no such path: what an escape finds is the host's.
no_marker_inside() {
  [ ! -e "$ROOTFS$MARKER" ]
}

# failed_with STATUS REGEX: the last run exited STATUS, with one line on
# stderr matching REGEX, and nothing on stdout.
failed_with() {
  [ "$status" -eq "$1" ] && is_one_line_matching "$stderr" "$2" && [ -z "$output" ]
}

@test "exercise 4: the chroot escape works under chroot(2) and fails after pivot_root" {
  expect "the root filesystem has no $MARKER" "$DOC#lab04-ex4" -- no_marker_inside
  run chroot "$ROOTFS" /bin/chroot-escape "$MARKER"
  expect "under plain chroot, the escape reaches the host's file (negative control)" "$DOC#lab04-ex4" -- [ "$status" -eq 0 ]
  expect "and says so" "$DOC#lab04-ex4" -- [ "$output" = "escaped: $MARKER is reachable" ]
  expect "it removed the directory it made" "$DOC#lab04-ex4" -- [ ! -e "$ROOTFS/tmp/.escape" ]
  run ct --rootfs "$ROOTFS" -- /bin/chroot-escape "$MARKER"
  expect "after pivot_root and detaching the old root, the escape stays inside" "$DOC#lab04-pivot" -- [ "$status" -eq 1 ]
  expect "and says so" "$DOC#lab04-pivot" -- [ "$output" = "stayed inside: $MARKER is not reachable" ]
}

@test "exercise 4: chroot-escape with no PATH: one line, exit 2" {
  run --separate-stderr "$(exercise_answer chroot-escape)"
  expect "no PATH: exit 2, one line that says how to call it" "$DOC#lab04-ex4" -- failed_with 2 '^Usage: chroot-escape PATH$'
}

@test "exercise 7: a descriptor on the host's tree escapes a chroot, and reaches nothing in the container" {
  expect "the root filesystem has no $MARKER" "$DOC#lab04-ex7" -- no_marker_inside
  # fd 5 on /, fd 6 on a directory of the host below it: the walk up finds the top from either.
  exec 5< / 6< "$BATS_TEST_TMPDIR"
  run chroot "$ROOTFS" /bin/04-mount-fd-escape 5 "$MARKER"
  expect "under chroot, fd 5 on the host's / reads the host's file (negative control)" "$DOC#lab04-ex7" -- [ "$status" -eq 0 ]
  expect "all of it" "$DOC#lab04-ex7" -- [ "$output" = "escaped: read $(stat -c %s "$MARKER") bytes of $MARKER through fd 5" ]
  run unshare --mount --root="$ROOTFS" /bin/04-mount-fd-escape 6 "$MARKER"
  expect "in a mount namespace of its own, rooted by unshare --root, fd 6 on a host directory does as well" "$DOC#lab04-ex7" -- \
    [ "$status" -eq 0 ]
  run ct --rootfs "$ROOTFS" -- /bin/04-mount-fd-escape 5 "$MARKER"
  run_5=("$status" "$output")
  run ct --rootfs "$ROOTFS" -- /bin/04-mount-fd-escape 6 "$MARKER"
  exec 5<&- 6<&-
  expect "under the lab's program, fd 5 was closed before COMMAND: exit 1" "$DOC#lab04-fds" -- [ "${run_5[0]}" -eq 1 ]
  expect "fchdir(5) said EBADF" "$DOC#lab04-fds" -- \
    [ "${run_5[1]}" = "stayed inside: fchdir: Bad file descriptor; $MARKER is not reachable" ]
  expect "and so was fd 6" "$DOC#lab04-fds" -- [ "$status" -eq 1 ]
}

@test "exercise 7: 04-mount-fd-escape with bad arguments: one line, exit 125" {
  escape=$(exercise_answer 04-mount-fd-escape)
  run --separate-stderr "$escape" 5
  expect "no PATH: exit 125, one line that says how to call it" "$DOC#lab04-ex7" -- failed_with 125 '^Usage: 04-mount-fd-escape FD PATH$'
  run --separate-stderr "$escape" five /etc/os-release
  expect "an FD that is not a number: one line naming it" "$DOC#lab04-ex7" -- failed_with 125 '^04-mount-fd-escape: FD "five": '
  run --separate-stderr "$escape" 5 etc/os-release
  expect "a PATH that is not absolute: one line naming it" "$DOC#lab04-ex7" -- failed_with 125 '^04-mount-fd-escape: PATH "etc/os-release": '
}

@test "exercise 8: /proc/1/root leads to the host's root from a chroot with the host's proc, and to the container's own under 04-mount" {
  expect "the root filesystem has no $MARKER" "$DOC#lab04-ex8" -- no_marker_inside
  # The negative control's proc is mounted in a mount namespace of its own
  # (unshare makes it private): it vanishes with it, and never reaches the host.
  # shellcheck disable=SC2016  # expanded by sh -c
  run unshare --mount -- sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /bin/04-mount-proc-escape "$2"' sh "$ROOTFS" "$MARKER"
  expect "under chroot with a proc of the host's PID namespace, the escape reaches the host's file (negative control)" "$DOC#lab04-ex8" -- \
    [ "$status" -eq 0 ]
  expect "and says so" "$DOC#lab04-ex8" -- begins_with "$output" "escaped: $MARKER is reachable through /proc/1/root"
  run ct --rootfs "$ROOTFS" -- /bin/04-mount-proc-escape "$MARKER"
  expect "under the lab's program, /proc/1 is the container's own first process: exit 1" "$DOC#lab04-proc" -- [ "$status" -eq 1 ]
  expect "its root is the container's: PID 1 is the escape itself" "$DOC#lab04-proc" -- \
    [ "$output" = "stayed inside: $MARKER is not reachable through /proc/1/root (PID 1 here is 04-mount-proc-e)" ]
  run ct --rootfs "$ROOTFS" --init -- /bin/04-mount-proc-escape "$MARKER"
  expect "with --init, PID 1 is the container's init, rooted in the container too" "$DOC#lab04-proc" -- \
    [ "$output" = "stayed inside: $MARKER is not reachable through /proc/1/root (PID 1 here is nslab-init)" ]
}

@test "exercise 8: 04-mount-proc-escape with bad arguments: one line, exit 125" {
  escape=$(exercise_answer 04-mount-proc-escape)
  run --separate-stderr "$escape"
  expect "no PATH: exit 125, one line that says how to call it" "$DOC#lab04-ex8" -- failed_with 125 '^Usage: 04-mount-proc-escape PATH$'
  run --separate-stderr "$escape" etc/os-release
  expect "a PATH that is not absolute: one line naming it" "$DOC#lab04-ex8" -- failed_with 125 '^04-mount-proc-escape: PATH "etc/os-release": '
}
