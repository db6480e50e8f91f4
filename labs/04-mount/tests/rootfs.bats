#!/usr/bin/env bats
# Lab 04 — --rootfs: pivot_root into a root filesystem of the container's own.

load ../../../common/bats/nslab
NSLAB_LAB=04-mount
DOC=lab04-mount.md

lab_setup() {
  ROOTFS=$(nslab_rootfs)
}

@test "inside, / is the root filesystem" {
  run ct --rootfs "$ROOTFS" -- cat /etc/issue
  assert_success
  expect "/etc/issue of the rootfs, not the host's" "$DOC#lab04-pivot" -- grep -q '^nslab root filesystem' <<< "$output"
}

@test "nothing of the host's tree is reachable inside" {
  expect "the host sees its own source tree (negative control)" "$DOC" -- [ -d "$NSLAB_SOURCE_DIR/common" ]
  run ct --rootfs "$ROOTFS" -- ls "$NSLAB_SOURCE_DIR/common"
  expect "the host's $NSLAB_SOURCE_DIR is not there" "$DOC#lab04-pivot" -- [ "$status" -ne 0 ]
  run ct --rootfs "$ROOTFS" -- ls /
  assert_success
  expect "/ holds the rootfs' directories only" "$DOC#lab04-pivot" -- [ "$(echo $output)" = "$(ls "$ROOTFS" | xargs echo)" ]
}

@test "ps and /proc/mounts show a container that sees only itself" {
  run ct --rootfs "$ROOTFS" -- /bin/sh -c 'ps; cat /proc/mounts'
  assert_success
  expect "ps lists PID 1 and ps, nothing of the host" "$DOC#lab04-proc" -- [ "$(grep -cE '^ +[0-9]+ ' <<< "$output")" -le 2 ]
  mounts=$(awk 'NF == 6 { print $2 }' <<< "$output" | sort | xargs echo)
  expect "only /, /dev and its six devices, /proc, /tmp are mounted" "$DOC#lab04-pivot" -- \
    [ "$mounts" = "/ /dev /dev/full /dev/null /dev/random /dev/tty /dev/urandom /dev/zero /proc /tmp" ]
}

@test "the old root is detached: no mount of the host's / remains" {
  run ct --rootfs "$ROOTFS" -- cat /proc/self/mountinfo
  assert_success
  expect "exactly one mount on / inside" "$DOC#lab04-pivot" -- [ "$(awk '$5 == "/"' <<< "$output" | wc -l)" -eq 1 ]
}

@test "/dev holds null, zero, full, random, urandom and tty, and they work" {
  run ct --rootfs "$ROOTFS" -- sh -c 'for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo missing $d; done
                                      head -c 8 /dev/zero | wc -c; head -c 8 /dev/urandom | wc -c
                                      echo x > /dev/null && echo null-ok; echo x 2>/dev/null > /dev/full || echo full-refuses'
  assert_success
  assert_equal "$(echo $output)" "8 8 null-ok full-refuses"
}

@test "/tmp is a tmpfs of the container's, gone with it" {
  run ct --rootfs "$ROOTFS" -- sh -c 'echo hi > /tmp/nslab-file && cat /tmp/nslab-file && findmnt -n -o FSTYPE /tmp 2>/dev/null || grep " /tmp " /proc/mounts'
  assert_success
  assert_equal "${lines[0]}" hi
  expect "/tmp is a tmpfs" "$DOC#lab04-pivot" -- grep -q tmpfs <<< "${lines[1]}"
  expect "the file is not in the rootfs on the host" "$DOC#lab04-pivot" -- [ ! -e "$ROOTFS/tmp/nslab-file" ]
}

@test "exercise: the chroot escape works under chroot(2) and fails after pivot_root" {
  marker=$BATS_TEST_TMPDIR/host-only-marker
  touch "$marker"
  run chroot "$ROOTFS" /bin/chroot-escape "$marker"
  expect "under plain chroot, the escape reaches the host's file (positive control)" "$DOC" -- [ "$status" -eq 0 ]
  rmdir "$ROOTFS/tmp/.escape" 2>/dev/null || true
  run ct --rootfs "$ROOTFS" -- /bin/chroot-escape "$marker"
  expect "after pivot_root and detaching the old root, the escape stays inside" "$DOC#lab04-pivot" -- [ "$status" -eq 1 ]
  assert_output "stayed inside: $marker is not reachable"
}

@test "--rootfs with --init and --hostname" {
  run ct --rootfs "$ROOTFS" --init --hostname box -- sh -c 'echo $$; hostname; ps -o pid,comm | grep -c nslab-init'
  assert_success
  assert_equal "$(echo $output)" "2 box 1"
}

@test "a COMMAND that exists only on the host is not found inside: 127" {
  run -127 --separate-stderr ct --rootfs "$ROOTFS" -- bats --version
  assert_equal "$stderr" '04-mount: exec "bats": No such file or directory'
}

@test "a bad --rootfs: one line, exit 125, nothing mounted" {
  run --separate-stderr ct --rootfs /no/such/dir -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "04-mount: --rootfs /no/such/dir: No such file or directory"
  touch "$BATS_TEST_TMPDIR/file"
  run --separate-stderr ct --rootfs "$BATS_TEST_TMPDIR/file" -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "04-mount: --rootfs $BATS_TEST_TMPDIR/file: Not a directory"
  mkdir "$BATS_TEST_TMPDIR/empty"
  run --separate-stderr ct --rootfs "$BATS_TEST_TMPDIR/empty" -- true
  assert_equal "$status" 125
  expect "the message names what is missing and how to make a rootfs" "$DOC" -- grep -q 'no directory proc/ to mount on (scripts/make-rootfs.sh' <<< "$stderr"
  run --separate-stderr ct --rootfs / -- true
  assert_equal "$status" 125
  run --separate-stderr ct --rootfs
  assert_equal "$stderr" "04-mount: --rootfs needs a value (DIR)"
}

@test "under --init, PID 1 shows as nslab-init, without the runtime's host paths" {
  run ct --rootfs "$ROOTFS" --init -- sh -c 'tr "\0" " " < /proc/1/cmdline'
  assert_success
  expect "PID 1's command line is nslab-init" lab03-pid.md#lab03-init -- grep -q '^nslab-init' <<< "$output"
  expect "the host path of the rootfs does not leak into the container" "$DOC" -- [ -z "$(grep -F "$ROOTFS" <<< "$output")" ]
}
