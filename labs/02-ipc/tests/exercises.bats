#!/usr/bin/env bats
# Lab 02 — the exercises' answers, each run with the lab's program: two
# containers, two queue tables (two_queues.sh); unshare(2) instead of clone(2)
# (02-ipc-unshare); and msgmni, a limit of the IPC namespace's own (msgmni.sh).
# answers: 1=two_queues.sh 2=unshare_ipc.cpp 3=msgmni.sh

load ../../../common/bats/nslab
NSLAB_LAB=02-ipc
DOC=lab02-ipc.md

# Objects a test makes on the host, removed whatever happens.
lab_setup() {
  HOST_IPC_IDS=()
  UNSHARE_IPC=$(exercise_answer 02-ipc-unshare)
}

lab_teardown() {
  local object
  for object in "${HOST_IPC_IDS[@]}"; do ipcrm $object 2>/dev/null || true; done
}

# make_host_queue: creates a System V message queue on the host, records it.
make_host_queue() {
  local out
  out=$(ipcmk -Q)
  HOST_IPC_IDS+=("-q ${out##* }")
}

# The keys of the message queues on this side, sorted.
host_queue_keys() {
  ipcs -q | awk '/^0x/ { print $1 }' | sort
}

# ipc_of LINE: the ipc namespace a line names (ipc:[4026532252]).
ipc_of() {
  grep -oE 'ipc:\[[0-9]+\]' <<< "$1"
}

# queues_of LINE: the number before " queue(s)".
queues_of() {
  sed -nE 's/.* ([0-9]+) queue\(s\)$/\1/p' <<< "$1"
}

@test "exercise 1: two containers, two IPC namespaces: the second does not see the first's queue" {
  make_host_queue
  before=$(host_queue_keys)
  answer two_queues.sh "$NSLAB_PROGRAM"
  expect "two_queues.sh runs to the end" "$DOC#lab02-ex1" -- [ "$status" -eq 0 ]
  expect "three lines: container 1, container 2, this shell" "$DOC#lab02-ex1" -- [ "${#lines[@]}" -eq 3 ]
  expect "container 1 sees the queue it made (negative control: a queue can be seen)" "$DOC#lab02-ex1" -- \
    [ "$(queues_of "${lines[0]}")" = 1 ]
  expect "container 2 sees no queue" "$DOC#lab02-flag" -- [ "$(queues_of "${lines[1]}")" = 0 ]
  expect "this shell counts the host's queues, the test's among them" "$DOC#lab02-ex1" -- \
    [ "$(queues_of "${lines[2]}")" = "$(wc -l <<< "$before" | tr -d ' ')" ]
  expect "the last line is this shell's own ipc namespace" "$DOC#lab02-ex1" -- [ "$(ipc_of "${lines[2]}")" = "$(ns_of $$ ipc)" ]
  expect "three different ipc namespaces" "$DOC#lab02-flag" -- \
    [ "$(for line in "${lines[@]}"; do ipc_of "$line"; done | sort -u | wc -l)" -eq 3 ]
  expect "container 1 has ended" "$DOC#lab02-ex1" -- wait_for 5 nslab_no_guarded_processes
  expect "the host's queues are what they were: container 1's went with its namespace" "$DOC#lab02-flag" -- \
    [ "$(host_queue_keys)" = "$before" ]
}

@test "exercise 1: two_queues.sh with no program, or one that cannot run: one line, exit 2" {
  answer two_queues.sh
  expect "no argument: exit 2 and one line" "$DOC#lab02-ex1" -- usage_error
  answer two_queues.sh /no/such/02-ipc
  expect "a program that does not exist: exit 2 and one line" "$DOC#lab02-ex1" -- usage_error
}

@test "exercise 2: unshare(2) gives the same isolation without a child" {
  make_host_queue
  # The caller prints its PID, then execs the answer: the same process.
  # shellcheck disable=SC2016  # expanded by the shells
  show='echo "$$ $(ipcs -q | grep -c "^0x" || true) $(readlink /proc/self/ns/ipc)"'
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" sh -c 'echo $$; exec "$@"' sh "$UNSHARE_IPC" sh -c "$show"
  assert_success
  read -r pid queues ipc <<< "${lines[1]}"
  expect "after unshare(CLONE_NEWIPC), no queue is visible" "$DOC#lab02-ex2" -- [ "$queues" = 0 ]
  expect "and the process is in a new ipc namespace" "$DOC#lab02-ex2" -- [ "$ipc" != "$(ns_of $$ ipc)" ]
  expect "COMMAND is the very process that called unshare: no child was made" "$DOC#lab02-ex2" -- [ "$pid" = "${lines[0]}" ]
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" sh -c 'echo $$; exec "$@"' sh "$NSLAB_PROGRAM" -- sh -c "$show"
  assert_success
  read -r pid queues ipc <<< "${lines[1]}"
  expect "under the lab's program, COMMAND is a child: another PID (negative control)" "$DOC#lab02-ex2" -- [ "$pid" != "${lines[0]}" ]
  expect "isolated as well" "$DOC#lab02-flag" -- [ "$queues" = 0 ]
}

@test "exercise 2: 02-ipc-unshare with no COMMAND, or one that does not exist: one line" {
  run --separate-stderr "$UNSHARE_IPC"
  expect "no COMMAND: exit 125 and one line" "$DOC#lab02-ex2" -- [ "$status" -eq 125 ]
  expect "the line says how to call it" "$DOC#lab02-ex2" -- is_one_line_matching "$stderr" '^Usage: 02-ipc-unshare COMMAND'
  # -127: bats warns about that status unless it is the one expected.
  run -127 --separate-stderr "$UNSHARE_IPC" /no/such/command
  expect "and one line naming it" "$DOC#lab02-ex2" -- [ "$stderr" = '02-ipc-unshare: exec "/no/such/command": No such file or directory' ]
}

@test "exercise 3: msgmni belongs to the IPC namespace: a new one starts from the default, a change stays inside" {
  host=$(cat /proc/sys/kernel/msgmni)
  # The script's "this side" is a throw-away IPC namespace whose limit is 77,
  # which no new namespace starts with: a copy of the parent's value would
  # show (negative control).
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --ipc -- \
    sh -c 'echo 77 > /proc/sys/kernel/msgmni && exec bash "$@"' sh "$(exercise_answer msgmni.sh)" "$NSLAB_PROGRAM" 3>&-
  expect "msgmni.sh runs to the end" "$DOC#lab02-ex3" -- [ "$status" -eq 0 ]
  expect "four lines" "$DOC#lab02-ex3" -- [ "${#lines[@]}" -eq 4 ]
  expect "this side reads its own limit, 77" "$DOC#lab02-ex3" -- [ "${lines[0]}" = "this side: 77" ]
  start=${lines[1]#inside, at the start: }
  expect "the container reads a limit of its own" "$DOC#lab02-ex3" -- [ "$start" -gt 0 ]
  expect "the kernel's default, not a copy of 77" "$DOC#lab02-ex3" -- [ "$start" != 77 ]
  expect "the container can change its own limit" "$DOC#lab02-ex3" -- [ "${lines[2]}" = "inside, after writing 10: 10" ]
  expect "this side keeps 77 afterwards" "$DOC#lab02-ex3" -- [ "${lines[3]}" = "this side, afterwards: 77" ]
  expect "the host's own limit has not moved" "$DOC#lab02-flag" -- [ "$(cat /proc/sys/kernel/msgmni)" = "$host" ]
}

@test "exercise 3: msgmni.sh with no program, or one that cannot run: one line, exit 2" {
  answer msgmni.sh
  expect "no argument: exit 2 and one line" "$DOC#lab02-ex3" -- usage_error
  answer msgmni.sh /no/such/02-ipc
  expect "a program that does not exist: exit 2 and one line" "$DOC#lab02-ex3" -- usage_error
}
