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
  expect "only /, /dev and its six devices, /proc, /sys (read-only), /tmp are mounted" "$DOC#lab04-pivot" -- \
    [ "$mounts" = "/ /dev /dev/full /dev/null /dev/random /dev/tty /dev/urandom /dev/zero /proc /sys /tmp" ]
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

@test "--rootfs with --init and --hostname" {
  run ct --rootfs "$ROOTFS" --init --hostname box -- sh -c 'echo $$; hostname; ps -o pid,comm | grep -c nslab-init'
  assert_success
  assert_equal "$(echo $output)" "2 box 1"
}

@test "a COMMAND that exists only on the host is not found inside: 127" {
  run -127 --separate-stderr ct --rootfs "$ROOTFS" -- bats --version
  assert_equal "$stderr" '04-mount: exec "bats": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)'
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

@test "an fd the caller left open on / does not undo pivot_root" {
  # With fd 7 on the host's /, /proc/self/fd/7/etc would be the host's /etc
  # from inside any root filesystem (PITFALLS 15).
  exec 7</
  expect "the test's fd 7 reads the host's os-release (negative control)" "$DOC" -- test -r /proc/self/fd/7/etc/os-release
  run --separate-stderr ct --rootfs "$ROOTFS" -- sh -c 'cat /etc/issue; cat /proc/self/fd/7/etc/os-release'
  exec 7<&-
  expect "the container ran in its root filesystem (positive control)" "$DOC#lab04-pivot" -- grep -q '^nslab root filesystem' <<< "$output"
  expect "the host's /etc is out of reach: fd 7 was closed before COMMAND" "$DOC#lab04-fds" -- [ "$status" -ne 0 ]
  expect "nothing of the host's os-release was printed" "$DOC#lab04-fds" -- [ "$(wc -l <<< "$output")" -eq 1 ]
}

@test "under --init, PID 1 holds no fd but 0, 1 and 2" {
  exec 7</
  run ct --rootfs "$ROOTFS" --init -- ls /proc/1/fd
  exec 7<&-
  assert_success
  expect "the init keeps neither the caller's fd 7 nor the runtime's channel" "$DOC#lab04-fds" -- [ "$(echo $output)" = "0 1 2" ]
}

@test "with --rootfs, COMMAND starts with a small clean environment" {
  run env -i TERM=xterm-test SECRET_TOKEN=s3cr3t HOME=/home/someone PATH="$PATH" \
    NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --env "NSLAB_GUARD=$NSLAB_GUARD_TOKEN" --rootfs "$ROOTFS" -- env
  assert_success
  expect "PATH, HOME and TERM only, none of the host's other variables" "$DOC#lab04-env" -- \
    [ "$(grep -v '^NSLAB_GUARD=' <<< "$output" | sort | xargs echo)" = "HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm-test" ]
}

@test "--env adds to the clean environment and overrides it" {
  run ct --rootfs "$ROOTFS" --env GREETING=hello --env HOME=/tmp --env 'EMPTY=' -- env
  assert_success
  expect "GREETING=hello is set" "$DOC#lab04-env" -- grep -qx 'GREETING=hello' <<< "$output"
  expect "HOME is overridden, once" "$DOC#lab04-env" -- [ "$(grep '^HOME=' <<< "$output")" = HOME=/tmp ]
  expect "an empty value is a value" "$DOC#lab04-env" -- grep -qx 'EMPTY=' <<< "$output"
  run --separate-stderr ct --rootfs "$ROOTFS" --env NOEQUALS -- true
  assert_equal "$status" 125
  assert_equal "$stderr" '04-mount: --env: expected NAME=VALUE (NAME: letters, digits, _), got "NOEQUALS"'
}

@test "a mount point that is a symlink is resolved inside the root filesystem" {
  # tmp -> /etc: followed on the host's side, the tmpfs would land on the host's
  # /etc (in our namespace) and /tmp writes would go to the rootfs's etc/ on
  # disk. Resolved inside the root, /tmp is a tmpfs over the rootfs's own etc/.
  hostile=$BATS_TEST_TMPDIR/hostile
  cp -a "$ROOTFS" "$hostile"
  rmdir "$hostile/tmp"
  ln -s /etc "$hostile/tmp"
  run ct --rootfs "$hostile" -- sh -c 'echo x > /tmp/nslab-probe && findmnt -n -o FSTYPE /etc 2>/dev/null || grep " /etc " /proc/mounts'
  assert_success
  expect "the tmpfs is on the rootfs's /etc, inside" "$DOC#lab04-symlinks" -- grep -q tmpfs <<< "$output"
  expect "the write did not reach the rootfs on disk" "$DOC#lab04-symlinks" -- [ ! -e "$hostile/etc/nslab-probe" ]
  expect "nor the host's /etc" "$DOC#lab04-symlinks" -- [ ! -e /etc/nslab-probe ]
}

@test "a mount point that leads back to the root is refused, before anything is mounted" {
  hostile=$BATS_TEST_TMPDIR/hostile
  cp -a "$ROOTFS" "$hostile"
  rm -rf "$hostile/dev"
  ln -s / "$hostile/dev"
  run --separate-stderr ct --rootfs "$hostile" -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "04-mount: --rootfs $hostile: dev leads back to the root itself, which cannot be a mount point"
}

@test "a root filesystem swapped for a link to / after the check is refused, never entered" {
  # Whoever can write to DIR's parent can swap DIR for a link to the host's /
  # between the runtime's check and its use. The child checks that it binds and
  # enters the very directory that was checked (by device and inode).
  race=$BATS_TEST_TMPDIR/race
  mkdir -p "$race"
  cp -a "$ROOTFS" "$race/r"
  ln -s / "$race/s"
  (exec "$NSLAB_BUILD_DIR/bin/tests/swap-dirs" "$race/r" "$race/s" 4) 3>&- &
  swapper=$!
  escaped=0 entered=0 refused=0
  for round in $(seq 150); do
    out=$(ct --rootfs "$race/r" -- /bin/sh -c "[ -e '$NSLAB_SOURCE_DIR/common' ] && echo ESCAPED || echo INSIDE" 2>/dev/null) && status=0 || status=$?
    case $out in
      *ESCAPED*) escaped=$((escaped + 1)) ;;
      *INSIDE*) entered=$((entered + 1)) ;;
      *) [ "$status" -eq 125 ] && refused=$((refused + 1)) ;;
    esac
  done
  wait "$swapper" || true
  echo "inside: $entered, refused: $refused, escaped: $escaped" >&3
  expect "no run saw the host's tree (escaped $escaped times)" "$DOC#lab04-symlinks" -- [ "$escaped" -eq 0 ]
  expect "every run either stayed inside or was refused with 125" "$DOC" -- [ $((entered + refused)) -eq 150 ]
}

@test "a bind mount of the host's / is refused as the host's own root" {
  run --separate-stderr unshare --mount --propagation private -- sh -c '
    mkdir -p "$1/r" && mount --bind / "$1/r" && exec env NSLAB_GUARD="$2" "$3" --rootfs "$1/r" -- true' \
    sh "$BATS_TEST_TMPDIR" "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM"
  assert_equal "$status" 125
  expect "refused by identity, not by name" "$DOC#lab04-pivot" -- grep -q "the host's own root cannot be a container's" <<< "$stderr"
}

@test "under --init with --rootfs, /proc/1/environ shows none of the caller's variables" {
  export NSLAB_SECRET_PROBE=hunter2
  run ct --rootfs "$ROOTFS" --init -- sh -c 'tr "\0" "\n" < /proc/1/environ; echo end'
  unset NSLAB_SECRET_PROBE
  assert_success
  expect "the init's own environment block is blank, as COMMAND's is clean" "$DOC#lab04-env" -- [ -z "$(grep NSLAB_SECRET_PROBE <<< "$output")" ]
  expect "the command ran (positive control)" "$DOC" -- grep -qx end <<< "$output"
}

@test "fd 0, 1 or 2 open on a host directory is refused with --rootfs" {
  run --separate-stderr ct --rootfs "$ROOTFS" -- true < /
  assert_equal "$status" 125
  assert_equal "$stderr" "04-mount: --rootfs $ROOTFS: fd 0 is open on a directory of the host, which would lead back out of the root filesystem (/proc/self/fd/0/..): give it a file, a pipe or a terminal"
}

@test "mount points that lead to the same directory are refused" {
  hostile=$BATS_TEST_TMPDIR/hostile
  cp -a "$ROOTFS" "$hostile"
  rmdir "$hostile/dev"
  ln -s tmp "$hostile/dev"
  run --separate-stderr ct --rootfs "$hostile" -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "04-mount: --rootfs $hostile: dev and tmp lead to the same directory"
}

@test "/sys is a fresh read-only sysfs, and absent when the root filesystem has no sys/" {
  run ct --rootfs "$ROOTFS" -- sh -c 'grep " /sys " /proc/mounts; touch /sys/nslab-probe 2>/dev/null && echo WRITABLE; ls /sys/class/net'
  assert_success
  expect "a sysfs on /sys, mounted ro" "$DOC#lab04-pivot" -- grep -qE '^sysfs /sys sysfs ro,' <<< "${lines[0]}"
  expect "it cannot be written" "$DOC#lab04-pivot" -- [ "$(grep -c WRITABLE <<< "$output")" -eq 0 ]
  # Lab 04 has no network namespace: its sysfs shows the host's links (lab 05 changes that).
  expect "its class/net lists the links of the caller's network namespace, as ip link does" "$DOC#lab04-pivot" -- \
    [ "$(sed 1d <<< "$output" | sort | xargs echo)" = "$(ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | xargs echo)" ]
  bare=$BATS_TEST_TMPDIR/bare
  cp -a "$ROOTFS" "$bare"
  rmdir "$bare/sys"
  run ct --rootfs "$bare" -- sh -c 'grep -c " /sys " /proc/mounts'
  expect "no /sys mounted where the root filesystem has no sys/" "$DOC#lab04-pivot" -- [ "$output" = 0 ]
}

@test "a sys that is a symlink to a host path is resolved inside the root filesystem" {
  hostile=$BATS_TEST_TMPDIR/hostile
  cp -a "$ROOTFS" "$hostile"
  rmdir "$hostile/sys"
  ln -s /etc "$hostile/sys"
  run ct --rootfs "$hostile" -- sh -c 'grep " /etc " /proc/mounts'
  assert_success
  expect "the sysfs lands on the rootfs's own /etc, inside" "$DOC#lab04-symlinks" -- grep -q '^sysfs /etc sysfs ro,' <<< "$output"
  expect "the host's /etc is no sysfs" "$DOC#lab04-symlinks" -- [ "$(stat -f -c %T /etc)" != sysfs ]
}

@test "a sys that leads to another mount point is refused before anything is mounted" {
  hostile=$BATS_TEST_TMPDIR/hostile
  cp -a "$ROOTFS" "$hostile"
  rmdir "$hostile/sys"
  ln -s tmp "$hostile/sys"
  run --separate-stderr ct --rootfs "$hostile" -- true
  assert_equal "$status" 125
  expect "sys is checked like proc, dev and tmp: a read-only sysfs would hide /tmp" "$DOC#lab04-errors" -- \
    [ "$stderr" = "04-mount: --rootfs $hostile: tmp and sys lead to the same directory" ]
}
