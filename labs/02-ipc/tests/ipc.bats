#!/usr/bin/env bats
# Lab 02 — the IPC namespace, as a user sees it: from inside the container and from the host.

load ../../../common/bats/nslab
NSLAB_LAB=02-ipc
DOC=lab02-ipc.md

# Objects a test makes on the host, removed whatever happens.
lab_setup() {
  HOST_IPC_IDS=()
}

lab_teardown() {
  local object
  for object in "${HOST_IPC_IDS[@]}"; do ipcrm $object 2>/dev/null || true; done
}

# make_host_ipc -Q|-S N|-M BYTES: creates one System V object on the host, records its key.
make_host_ipc() {
  local out id kind
  out=$(ipcmk "$@")
  id=${out##* }
  case $1 in -Q) kind=-q ;; -S) kind=-s ;; -M) kind=-m ;; esac
  HOST_IPC_IDS+=("$kind $id")
  ipcs "$kind" -i "$id" >/dev/null
  echo "$id"
}

# The keys of every System V object listed by ipcs (one per line).
sysv_keys() {
  awk '/^0x/ { print $1 }'
}

@test "the host's message queue, semaphores and shared memory are invisible inside" {
  make_host_ipc -Q >/dev/null
  make_host_ipc -S 1 >/dev/null
  make_host_ipc -M 4096 >/dev/null
  host_objects=$(ipcs | sysv_keys | wc -l)
  expect "the host lists its 3 new objects (negative control)" "$DOC" -- [ "$host_objects" -ge 3 ]
  run ct -- ipcs
  assert_success
  expect "ipcs inside lists no object at all" "$DOC#lab02-flag" --hint shared-ipc -- [ -z "$(sysv_keys <<< "$output")" ]
}

@test "an object made inside stays inside and dies with the container" {
  before=$(ipcs | sysv_keys | sort)
  run ct -- sh -c 'ipcmk -Q >/dev/null && ipcmk -M 4096 >/dev/null && ipcs | grep -c "^0x"'
  assert_success
  expect "inside, the container sees the 2 objects it made" "$DOC" -- [ "$output" = 2 ]
  expect "the host's objects are exactly what they were" "$DOC#lab02-flag" -- [ "$(ipcs | sysv_keys | sort)" = "$before" ]
}

@test "two containers do not see each other's objects" {
  start_ct -- sh -c "ipcmk -Q >/dev/null; touch '$BATS_TEST_TMPDIR/made'; sleep 0.6"
  wait_for 5 test -e "$BATS_TEST_TMPDIR/made"
  run ct -- sh -c 'ipcs -q | grep -c "^0x" || true'
  expect "a second container sees no queue, while the first holds one" "$DOC#lab02-flag" -- [ "$output" = 0 ]
  finish_ct
  assert_success
}

@test "the ipc and uts namespaces differ from the host's; the others are shared" {
  # COMMAND waits for the test's word (at most 10 s): it is there however slow the machine.
  start_ct -- sh -c "n=0; until [ -e '$BATS_TEST_TMPDIR/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  wait_for 5 child_of "$CT_PID"
  inside=$(child_of "$CT_PID")
  expect_namespaces "$inside" "$DOC#lab02-flag" "ipc uts" "mnt net pid user cgroup"
  touch "$BATS_TEST_TMPDIR/go"
  finish_ct
  assert_success
}

@test "lab 01's --hostname still works" {
  run ct --hostname box -- hostname
  assert_success
  assert_output box
  expect "the host keeps its name" lab01-uts.md -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
}

@test "--verbose names both flags and shows the new ipc identity" {
  run --separate-stderr ct --verbose -- true
  assert_success
  expect "the narration names CLONE_NEWUTS|CLONE_NEWIPC" "$DOC" -- grep -q 'clone(CLONE_NEWUTS|CLONE_NEWIPC|SIGCHLD)' <<< "$stderr"
  expect "the narration shows a new ipc identity" "$DOC" -- grep -qE 'ipc:\[[0-9]+\] \(host\) -> ipc:\[[0-9]+\] \(container\)  new' <<< "$stderr"
  expect "the child counts the objects it sees: none" "$DOC" -- grep -q 'holds 0 message queue(s), 0 semaphore set(s), 0 shared memory segment(s)' <<< "$stderr"
}

@test "exit statuses and bad input" {
  run ct -- sh -c 'exit 5'
  assert_equal "$status" 5
  run --separate-stderr ct --ipc -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "02-ipc: unknown option --ipc (see --help)"
  run -127 --separate-stderr ct -- no-such-command-here
  assert_equal "$stderr" '02-ipc: exec "no-such-command-here": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)'
}
