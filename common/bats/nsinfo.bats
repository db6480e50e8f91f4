#!/usr/bin/env bats
# nsinfo: the /proc/PID/ns view of one or more processes, differences marked.

load nslab
NSLAB_LAB=01-uts

lab_setup() {
  NSINFO=$NSLAB_BUILD_DIR/bin/nsinfo
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
