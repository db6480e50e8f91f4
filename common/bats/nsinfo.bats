#!/usr/bin/env bats
# nsinfo: the /proc/PID/ns view of one or more processes, differences marked.

load nslab
NSLAB_LAB=01-uts

lab_setup() {
  NSINFO=$NSLAB_BUILD_DIR/bin/nsinfo
  SCRATCH=""
}

lab_teardown() {
  [ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
}

@test "nsinfo lists every entry of /proc/self/ns with its inode" {
  run "$NSINFO"
  assert_success
  assert_equal "$(sed -n 1p <<< "$output" | awk '{ print $1 }')" NAMESPACE
  expect "one row per entry of /proc/PID/ns, as ls sorts them" README.md -- \
    [ "$(tail -n +2 <<< "$output" | awk '{ print $1 }' | xargs echo)" = "$(ls /proc/self/ns | xargs echo)" ]
  uts_inode=$(stat -L -c %i /proc/self/ns/uts)
  expect "the uts row shows the inode of /proc/self/ns/uts" README.md -- grep -qE "^uts +$uts_inode *$" <<< "$output"
}

@test "nsinfo marks the uts namespace of a lab 01 container, and only it" {
  start_ct -- sleep 1
  wait_for 5 child_of "$CT_PID"
  inside=$(child_of "$CT_PID")
  run "$NSINFO" $$ "$inside"
  assert_success
  expect "uts differs: marked with *" README.md -- grep -qE '^uts .* \*$' <<< "$output"
  expect "nothing else is marked" README.md -- [ "$(grep -c ' \*$' <<< "$output")" -eq 1 ]
  finish_ct
}

@test "nsinfo: a bad PID is refused in one line" {
  run --separate-stderr "$NSINFO" not-a-pid
  assert_equal "$status" 2
  assert_equal "$stderr" 'nsinfo: not a process ID: "not-a-pid" (see --help)'
  run --separate-stderr "$NSINFO" 999999999
  assert_equal "$status" 1
  expect "the error names the path and errno" README.md -- grep -q 'No such file or directory' <<< "$stderr"
}

@test "nsinfo as another user: one line for each process it cannot read, the rest still shown" {
  # A copy another user can run, wherever the build directory is.
  SCRATCH=$(mktemp -d /tmp/nslab-nsinfo.XXXXXX)
  chmod 755 "$SCRATCH"
  cp "$NSINFO" "$SCRATCH/nsinfo"
  run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$SCRATCH/nsinfo" 1 $$ self
  assert_equal "$status" 1
  expect "one line per process that cannot be read, naming its PID and errno, not one per namespace" README.md -- \
    [ "$(wc -l <<< "$stderr")" -eq 2 ]
  assert_regex "$(sed -n 1p <<< "$stderr")" "^nsinfo: PID 1: readlink /proc/1/ns/[a-z_]+: Permission denied \(another user's process: run nsinfo as root to read it\)$"
  assert_regex "$(sed -n 2p <<< "$stderr")" "^nsinfo: PID $$: readlink /proc/$$/ns/[a-z_]+: Permission denied "
  # What can be read is shown: the caller's own column, '?' for the others.
  uts_inode=$(stat -L -c %i /proc/self/ns/uts)
  expect "the uts row: ? for PID 1 and PID $$, the inode for nsinfo itself" README.md -- \
    grep -qE "^uts +\? +\? +$uts_inode *$" <<< "$output"
}
