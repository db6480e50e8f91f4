#!/usr/bin/env bats
# Lab 04 — the mount namespace: private propagation and a /proc of its own.

load ../../../common/bats/nslab
NSLAB_LAB=04-mount
DOC=lab04-mount.md

@test "/proc inside lists only the container's processes" {
  host_count=$(ls /proc | grep -c '^[0-9][0-9]*$')
  expect "the host's /proc lists many processes (negative control)" "$DOC" -- [ "$host_count" -gt 3 ]
  run ct -- sh -c 'ls /proc | grep -c "^[0-9][0-9]*$"'
  assert_success
  expect "inside, /proc lists sh, ls and grep at most" "$DOC#lab04-proc" --hint proc-of-the-host -- [ "$output" -le 3 ]
}

@test "ps inside shows only the container" {
  run ct -- ps -e -o pid=,comm=
  assert_success
  expect "ps sees PID 1 (ps itself, or the shell)" "$DOC#lab04-proc" -- grep -qE '^ *1 ' <<< "$output"
  expect "and nothing of the host" "$DOC#lab04-proc" -- [ "${#lines[@]}" -le 2 ]
}

@test "/proc is mounted nosuid, nodev and noexec" {
  run ct -- findmnt -n -o OPTIONS /proc
  assert_success
  for option in nosuid nodev noexec; do
    expect "/proc mounted with $option" "$DOC#lab04-proc" -- grep -q "$option" <<< "$output"
  done
}

@test "inside, every mount is private" {
  run ct -- findmnt -n -o PROPAGATION
  assert_success
  expect "no shared or slave mount inside" "$DOC#lab04-private" -- [ -z "$(grep -v private <<< "$output")" ]
}

@test "the mnt namespace differs from the host's, along with pid, ipc and uts" {
  # COMMAND waits for the test's word (at most 10 s): it is there however slow the machine.
  start_ct -- sh -c "n=0; until [ -e '$BATS_TEST_TMPDIR/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  wait_for 5 child_of "$CT_PID"
  inside=$(child_of "$CT_PID")
  expect_namespaces "$inside" "$DOC#lab04-flag" "mnt pid ipc uts" "net user"
  touch "$BATS_TEST_TMPDIR/go"
  finish_ct
  assert_success
}

@test "a mount inside never reaches a host whose / is shared, even while the container runs" {
  # systemd makes / shared. Reproduce that in a throw-away mount namespace (made
  # private first, so nothing can reach the real host) and run the container there.
  target=$BATS_TEST_TMPDIR/target
  state=$BATS_TEST_TMPDIR/state
  mkdir -p "$target" "$state"
  run env PROGRAM="$NSLAB_PROGRAM" GUARD="$NSLAB_GUARD_TOKEN" TARGET="$target" STATE="$state" \
    unshare --mount --propagation private -- bash -c '
    set -u
    mount --make-rshared / || exit 90
    [ "$(findmnt -n -o PROPAGATION /)" = shared ] || exit 91
    NSLAB_GUARD=$GUARD "$PROGRAM" -- sh -c "mount -t tmpfs nslab-test \"$TARGET\" && touch \"$STATE/mounted\" && sleep 0.8" &
    runtime=$!
    for _ in $(seq 100); do [ -e "$STATE/mounted" ] && break; sleep 0.05; done
    [ -e "$STATE/mounted" ] || exit 92
    # The container is alive, with its tmpfs mounted: the "host" must not see it.
    if grep -q " $TARGET " /proc/self/mountinfo; then kill -KILL $runtime; exit 93; fi
    wait $runtime || exit 94
    [ "$(findmnt -n -o PROPAGATION /)" = shared ] || exit 95
    exit 0
  '
  expect "a shared / set up for the test (exit 90/91 means the test could not)" "$DOC" -- [ "$status" != 90 ]
  expect "a shared / set up for the test (exit 90/91 means the test could not)" "$DOC" -- [ "$status" != 91 ]
  expect "the container mounted its tmpfs (92: it never did)" "$DOC#lab04-private" -- [ "$status" != 92 ]
  expect "the container's mount did not appear on the host while it ran (93)" "$DOC#lab04-private" --hint mount-propagated -- [ "$status" != 93 ]
  expect "the container ended well (94)" "$DOC" -- [ "$status" != 94 ]
  expect "the host's / is still shared: the container changed only its own copies (95)" "$DOC#lab04-private" --hint mount-propagated -- [ "$status" != 95 ]
  assert_success
}

@test "a mount made inside is gone with the container" {
  target=$BATS_TEST_TMPDIR/target
  mkdir -p "$target"
  run ct -- sh -c "mount -t tmpfs nslab-test '$target' && echo hello > '$target/file' && cat '$target/file'"
  assert_success
  assert_output hello
  expect "the file lived in the container's tmpfs, not on the host" "$DOC#lab04-private" -- [ ! -e "$target/file" ]
}

@test "labs 01-03 still work: hostname, IPC, PID 1 and --init" {
  run ct --hostname box -- sh -c 'hostname; echo $$; ipcs -q | grep -c "^0x" || true'
  assert_success
  assert_equal "${lines[0]}" box
  assert_equal "${lines[1]}" 1
  assert_equal "${lines[2]}" 0
  run ct --init -- sh -c 'echo $$; ps -o pid=,comm= -p 1'
  assert_success
  assert_equal "${lines[0]}" 2
  expect "with its own /proc, ps shows the init as PID 1" "$DOC" -- grep -q 'nslab-init' <<< "${lines[1]}"
}

@test "--verbose narrates the mount steps" {
  run --separate-stderr ct --verbose -- true
  assert_success
  expect "the flags by name" "$DOC" -- grep -q 'clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|SIGCHLD)' <<< "$stderr"
  expect "MS_REC|MS_PRIVATE first" "$DOC#lab04-private" -- grep -q 'MS_REC|MS_PRIVATE' <<< "$stderr"
  expect "a new proc" "$DOC#lab04-proc" -- grep -q 'mounted a new proc on /proc' <<< "$stderr"
  expect "the mnt identity changes" "$DOC" -- grep -qE 'mnt:\[[0-9]+\] \(host\) -> mnt:\[[0-9]+\] \(container\)  new' <<< "$stderr"
}

@test "without --rootfs, COMMAND keeps the caller's environment, with --env on top" {
  export NSLAB_CALLER_VAR=kept
  run ct --env NSLAB_ADDED=yes -- env
  unset NSLAB_CALLER_VAR
  assert_success
  expect "the caller's variable is there" "$DOC#lab04-env" -- grep -qx 'NSLAB_CALLER_VAR=kept' <<< "$output"
  expect "and the one --env added" "$DOC#lab04-env" -- grep -qx 'NSLAB_ADDED=yes' <<< "$output"
}
