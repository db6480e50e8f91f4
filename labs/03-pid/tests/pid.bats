#!/usr/bin/env bats
# Lab 03 — the PID namespace and PID 1's duties, seen from inside and from the host.

load ../../../common/bats/nslab
NSLAB_LAB=03-pid
DOC=lab03-pid.md

# The host PIDs of PID's children, zombies included.
children_of() {
  ps -o pid= --ppid "$1" || true
}

# The host PIDs of PID's children that are zombies (state Z).
zombie_children_of() {
  ps -o pid=,stat= --ppid "$1" | awk '$2 ~ /^Z/ { print $1 }'
}

has_children() { [ -n "$(children_of "$1")" ]; }
has_zombie_children() { [ -n "$(zombie_children_of "$1")" ]; }

@test "COMMAND is PID 1 inside" {
  expect "on the host, a shell is not PID 1 (negative control)" "$DOC" -- [ "$(sh -c 'echo $$')" != 1 ]
  run ct -- sh -c 'echo $$'
  assert_success
  expect "inside, \$\$ is 1" "$DOC#lab03-flag" --hint shared-pid -- [ "$output" = 1 ]
}

@test "the host sees the container's PID 1 under its real PID" {
  # COMMAND waits for the test's word (at most 10 s): it is there however slow the machine.
  start_ct -- sh -c "n=0; until [ -e '$BATS_TEST_TMPDIR/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  wait_for 5 child_of "$CT_PID"
  inside=$(child_of "$CT_PID")
  nspid=$(awk '/^NSpid:/ { $1 = ""; print }' "/proc/$inside/status")
  expect "NSpid lists the host's PID, then 1" "$DOC#lab03-flag" -- [ "$(echo $nspid)" = "$inside 1" ]
  expect_namespaces "$inside" "$DOC#lab03-flag" "pid ipc uts" "mnt net user"
  touch "$BATS_TEST_TMPDIR/go"
  finish_ct
  assert_success
}

@test "--verbose shows both PIDs" {
  run --separate-stderr ct --verbose -- true
  assert_success
  expect "the parent shows NSpid: the host's PID, then 1" "$DOC" -- grep -qE 'has PIDs [0-9]+ 1 ' <<< "$stderr"
  expect "the child says getpid() = 1" "$DOC" -- grep -q 'getpid() = 1 inside' <<< "$stderr"
  expect "the flags by name" "$DOC" -- grep -q 'clone(CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|SIGCHLD)' <<< "$stderr"
}

@test "without a mount namespace, /proc is still the host's (lab 04 fixes it)" {
  run ct -- sh -c 'ls /proc | grep -c "^[0-9][0-9]*$"'
  assert_success
  expect "the host's /proc lists more than the container's 3 processes" "$DOC" -- [ "$output" -gt 3 ]
}

@test "--init: an init is PID 1 and COMMAND is PID 2" {
  run ct --init -- sh -c 'echo $$ $PPID'
  assert_success
  expect "COMMAND is PID 2, child of PID 1" "$DOC#lab03-init" -- [ "$output" = "2 1" ]
}

@test "--init exits with COMMAND's status, 128+N when it is killed" {
  run ct --init -- sh -c 'exit 3'
  expect "exit status 3" "$DOC#lab03-init" -- [ "$status" -eq 3 ]
  run ct --init -- sh -c 'kill -KILL $$'
  expect "128+9 when COMMAND is killed by SIGKILL" "$DOC#lab03-init" -- [ "$status" -eq 137 ]
}

@test "--init: SIGTERM to the runtime ends sleep with 143 within 2 seconds" {
  start_ct --init -- sleep 30
  wait_for 5 child_of "$CT_PID"
  init=$(child_of "$CT_PID")
  wait_for 5 has_children "$init"
  kill -TERM "$CT_PID"
  finish_ct 2
  expect "sleep (PID 2) got SIGTERM from the init: 128+15" "$DOC#lab03-init" -- [ "$status" -eq 143 ]
}

@test "without --init, sleep as PID 1 ignores SIGTERM; a second one kills it" {
  start_ct -- sleep 30
  wait_for 5 child_of "$CT_PID"
  kill -TERM "$CT_PID"
  sleep 0.5
  expect "PID 1 without a handler ignores SIGTERM: the container still runs" "$DOC" -- kill -0 "$CT_PID"
  kill -TERM "$CT_PID"
  finish_ct 2
  expect "the second SIGTERM becomes SIGKILL: 128+9" "$DOC" -- [ "$status" -eq 137 ]
}

@test "--init forwards SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGTERM to COMMAND" {
  log=$BATS_TEST_TMPDIR/got
  start_ct --init -- sh -c "for s in INT HUP QUIT USR1 USR2; do trap \"echo \$s >> '$log'\" \$s; done
                            trap 'echo TERM >> \"$log\"; exit 9' TERM
                            touch '$BATS_TEST_TMPDIR/ready'; while :; do sleep 0.05; done"
  wait_for 5 test -e "$BATS_TEST_TMPDIR/ready"
  for sig in INT HUP QUIT USR1 USR2 TERM; do
    kill -"$sig" "$CT_PID"
    expect "COMMAND got SIG$sig" "$DOC#lab03-init" -- wait_for 3 grep -qsx "$sig" "$log"
  done
  finish_ct 3
  expect "COMMAND's TERM trap exited 9" "$DOC#lab03-init" -- [ "$status" -eq 9 ]
}

@test "when PID 1 exits, the rest of the namespace dies and the runtime returns at once" {
  SECONDS=0
  run ct -- sh -c 'sleep 30 & echo $!'
  assert_success
  expect "the runtime returned without waiting for the background sleep" "$DOC" -- [ "$SECONDS" -lt 5 ]
  SECONDS=0
  run ct --init -- sh -c 'sleep 30 & sleep 30 & exit 0'
  assert_success
  expect "under --init too" "$DOC#lab03-init" -- [ "$SECONDS" -lt 5 ]
}

@test "--init reaps orphans: no zombie while COMMAND runs" {
  # The inner shell starts a short sleep and exits: the sleep is orphaned and
  # re-parented to PID 1, where it ends 0.1 s later.
  start_ct --init -- sh -c "sh -c 'sleep 0.1 &'; touch '$BATS_TEST_TMPDIR/orphaned'; sleep 2"
  wait_for 5 test -e "$BATS_TEST_TMPDIR/orphaned"
  init=$(child_of "$CT_PID")
  sleep 0.6
  zombies=$(zombie_children_of "$init")
  expect "no zombie child of the init (found: $zombies)" "$DOC#lab03-init" --hint orphans-not-reaped -- [ -z "$zombies" ]
  kill -TERM "$CT_PID"
  finish_ct 3
}

@test "without --init, an orphan of a shell that never waits stays a zombie (negative control)" {
  # PID 1 here is a shell that execs sleep: nothing reaps the orphan.
  start_ct -- sh -c "sh -c 'sleep 0.1 &'; touch '$BATS_TEST_TMPDIR/orphaned'; exec sleep 2"
  wait_for 5 test -e "$BATS_TEST_TMPDIR/orphaned"
  pid1=$(child_of "$CT_PID")
  expect "the orphan becomes a zombie under a PID 1 that does not reap" "$DOC#lab03-init" -- wait_for 3 has_zombie_children "$pid1"
  kill -TERM "$CT_PID"
  kill -TERM "$CT_PID"
  finish_ct 3
}

@test "bad input and exit codes under --init" {
  run --separate-stderr ct --init=yes -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "03-pid: --init takes no value"
  run -127 --separate-stderr ct --init -- no-such-command-here
  assert_equal "$stderr" '03-pid: exec "no-such-command-here": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)'
  touch "$BATS_TEST_TMPDIR/not-executable"
  run -126 --separate-stderr ct --init -- "$BATS_TEST_TMPDIR/not-executable"
  assert_equal "$(wc -l <<< "$stderr")" 1
}

@test "killing the runtime with SIGKILL at random moments leaves no process behind" {
  # PID 1 (the init) dies with the runtime (PR_SET_PDEATHSIG), and the kernel
  # then ends every process of its PID namespace: COMMAND's children too.
  for round in $(seq 60); do
    (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --init -- sh -c 'sleep 30 & sleep 30') 3>&- &
    runtime=$!
    sleep "0.00$((RANDOM % 8))"
    kill -KILL "$runtime"
    wait "$runtime" 2>/dev/null || true
  done
  expect "no container process outlives its killed runtime" "$DOC" -- wait_for 3 nslab_no_guarded_processes
}

@test "SIGTERM at any moment of the start ends the container within 2 seconds" {
  # Before COMMAND runs, the runtime stops the child itself (128+15); after,
  # it forwards SIGTERM to the init, which passes it on. Either way: quick, clean.
  for round in $(seq 40); do
    (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --init -- sleep 30) 3>&- &
    runtime=$!
    sleep "0.00$((RANDOM % 8))"
    kill -TERM "$runtime"
    SECONDS=0
    status=0
    wait "$runtime" || status=$?
    expect "the runtime ended within 2 s of SIGTERM (round $round)" "$DOC#lab03-init" -- [ "$SECONDS" -le 2 ]
    expect "exit status 128+15 (round $round)" "$DOC#lab03-init" -- [ "$status" -eq 143 ]
  done
  expect "nothing is left" "$DOC" -- wait_for 3 nslab_no_guarded_processes
}

@test "a caller that ignores SIGCHLD does not hang the runtime" {
  # An ignored SIGCHLD survives execve: the kernel would reap the container
  # unseen, and the runtime would wait forever (PITFALLS 16).
  run timeout 5 perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die' env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" -- sh -c 'exit 6'
  expect "exit status 6, not a hang (124) or an error" "$DOC" --hint sigchld-ignored -- [ "$status" -eq 6 ]
  run timeout 5 perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die' env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --init -- true
  expect "under --init too" "$DOC#lab03-init" --hint sigchld-ignored -- [ "$status" -eq 0 ]
}

@test "--init: SIGINT reaches the whole container, as Ctrl-C reaches a foreground job" {
  # sh waits for its foreground command before acting on SIGINT: SIGINT to
  # PID 2 alone would let `sleep` finish and `echo after` run.
  start_ct --init -- sh -c "touch '$BATS_TEST_TMPDIR/ready'; sleep 30; echo after"
  wait_for 5 test -e "$BATS_TEST_TMPDIR/ready"
  sleep 0.1
  kill -INT "$CT_PID"
  finish_ct 2
  expect "sh and its sleep both got SIGINT: 128+2" "$DOC#lab03-init" -- [ "$status" -eq 130 ]
  expect "the command after sleep never ran" "$DOC#lab03-init" -- [ -z "$output" ]
}

@test "a caller's blocked signals are not COMMAND's: one SIGTERM still ends it" {
  run timeout 5 perl -e 'use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGTERM, SIGINT)); exec @ARGV or die' \
    env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --init -- sh -c 'grep SigBlk /proc/self/status'
  assert_success
  expect "COMMAND starts with no signal blocked" "$DOC#lab03-init" -- [ "$output" = "SigBlk:	0000000000000000" ]
}

@test "--init: SIGKILL of the runtime ends even a COMMAND that changed its credentials" {
  # Changing uid clears a process's death signal (prctl(2)): COMMAND as PID 1
  # would survive its runtime. The init never changes its credentials, and its
  # death ends the whole PID namespace.
  start_ct --init -- setpriv --reuid=65534 --regid=65534 --clear-groups sleep 30
  wait_for 5 child_of "$CT_PID"
  init=$(child_of "$CT_PID")
  wait_for 5 has_children "$init"
  kill -KILL "$CT_PID"
  expect "nothing of the container is left" "$DOC#lab03-observe" -- wait_for 3 nslab_no_guarded_processes
}

@test "without --init, a COMMAND that changes its credentials outlives a killed runtime (the limit the tutorial shows)" {
  start_ct -- setpriv --reuid=65534 --regid=65534 --clear-groups sleep 30
  wait_for 5 child_of "$CT_PID"
  pid1=$(child_of "$CT_PID")
  wait_for 5 grep -q '^Uid:.*65534' "/proc/$pid1/status"
  kill -KILL "$CT_PID"
  wait "$CT_PID" 2>/dev/null || true
  sleep 0.3
  survived=no
  kill -0 "$pid1" 2>/dev/null && survived=yes
  kill -KILL "$pid1" 2>/dev/null || true  # ours: started by this test
  expect "PID 1 lost its death signal with its credentials, and survived (if this fails, update the tutorial)" "$DOC#lab03-observe" -- [ "$survived" = yes ]
}
