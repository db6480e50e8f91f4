#!/usr/bin/env bats
# Lab 03 — the exercises' answers: SIGTERM to a PID 1 with and without a
# handler (pid1_sigterm.sh, run with the lab's program); unshare(CLONE_NEWPID)
# moves only the caller's future children (03-pid-unshare); and the escape
# that fails: kill(2) of a host process from inside the PID namespace
# (03-pid-kill-host), which works without one (lab 02's program). The only
# process any test kills is a sleep it started itself, by its PID.
# answers: 1=pid1_sigterm.sh 5=pid_unshare.cpp 7=kill_host.cpp

load ../../../common/bats/nslab
NSLAB_LAB=03-pid
DOC=lab03-pid.md

lab_setup() {
  PID_UNSHARE=$(exercise_answer 03-pid-unshare)
  KILL_HOST=$(exercise_answer 03-pid-kill-host)
  # Lab 02's reference program: the same container, without a PID namespace.
  NO_PID_NAMESPACE=$NSLAB_BUILD_DIR/bin/solutions/02-ipc
  SLEEP_PID=""
}

lab_teardown() {
  if [ -n "$SLEEP_PID" ]; then
    kill -KILL "$SLEEP_PID" 2>/dev/null || true  # the test's own sleep
    wait "$SLEEP_PID" 2>/dev/null || true
  fi
}

still_running() {
  ! nslab_not_running "$1"
}

# took LINE: "exit status N after K SIGTERM(s)" of a line of pid1_sigterm.sh.
took() {
  sed -nE 's/^[a-z]+: (exit status [0-9]+ after [0-9]+ SIGTERM\(s\)), [0-9.]+ s$/\1/p' <<< "$1"
}

# field LINE KEY: the value after "KEY=" or "KEY = " in LINE, up to a comma.
field() {
  sed -nE "s|.*$2 ?= ?([^,]*).*|\\1|p" <<< "$1"
}

@test "exercise 1: as PID 1, sleep ignores the first SIGTERM, and a shell with a trap ends on it" {
  answer pid1_sigterm.sh "$NSLAB_PROGRAM"
  expect "pid1_sigterm.sh runs to the end" "$DOC#lab03-ex1" -- [ "$status" -eq 0 ]
  expect "two lines, sleep's and the trap's" "$DOC#lab03-ex1" -- [ "${#lines[@]}" -eq 2 ]
  expect "sleep as PID 1 takes two SIGTERMs, the second turned into SIGKILL (128+9)" "$DOC#lab03-pid1" -- \
    [ "$(took "${lines[0]}")" = "exit status 137 after 2 SIGTERM(s)" ]
  expect "the shell with a trap ends on the first, with the trap's status" "$DOC#lab03-ex1" -- \
    [ "$(took "${lines[1]}")" = "exit status 5 after 1 SIGTERM(s)" ]
  expect "nothing is left" "$DOC#lab03-ex1" -- wait_for 5 nslab_no_guarded_processes
}

@test "exercise 1: without a PID namespace (lab 02's program), one SIGTERM ends sleep (negative control)" {
  answer pid1_sigterm.sh "$NO_PID_NAMESPACE"
  expect "pid1_sigterm.sh runs to the end" "$DOC#lab03-ex1" -- [ "$status" -eq 0 ]
  expect "sleep, not PID 1, dies of the first SIGTERM (128+15)" "$DOC#lab03-pid1" -- \
    [ "$(took "${lines[0]}")" = "exit status 143 after 1 SIGTERM(s)" ]
}

@test "exercise 1: pid1_sigterm.sh with no program, or one that cannot run: one line, exit 2" {
  answer pid1_sigterm.sh
  expect "no argument: exit 2 and one line" "$DOC#lab03-ex1" -- usage_error
  answer pid1_sigterm.sh /no/such/03-pid
  expect "a program that does not exist: exit 2 and one line" "$DOC#lab03-ex1" -- usage_error
}

@test "exercise 5: after unshare(CLONE_NEWPID) the caller stays where it was; its first child is PID 1 of the new namespace" {
  # The shell prints its PID, then execs the answer: the caller is that same process.
  # shellcheck disable=SC2016  # expanded by the shells
  run --separate-stderr sh -c 'echo $$; exec "$@"' sh "$PID_UNSHARE" sh -c 'echo "COMMAND: $$ $(readlink /proc/self/ns/pid)"'
  expect "03-pid-unshare runs COMMAND and exits with its status" "$DOC#lab03-ex5" -- [ "$status" -eq 0 ]
  expect "four lines: the caller's PID, the caller's, the child's and COMMAND's" "$DOC#lab03-ex5" -- [ "${#lines[@]}" -eq 4 ]
  caller=${lines[1]} child=${lines[2]}
  expect "the caller's line comes first" "$DOC#lab03-ex5" -- begins_with "$caller" "caller: "
  expect "the caller keeps its PID" "$DOC#lab03-idea-clone" -- [ "$(field "$caller" 'getpid\(\)')" = "${lines[0]}" ]
  expect "and its PID namespace, the host's (negative control: the same namespace is seen as the same)" "$DOC#lab03-idea-clone" -- \
    [ "$(field "$caller" ns/pid)" = "$(ns_of $$ pid)" ]
  expect "its children's namespace is another one" "$DOC#lab03-idea-clone" -- \
    [ "$(field "$caller" ns/pid_for_children)" != "$(ns_of $$ pid)" ]
  expect "the child's line comes next" "$DOC#lab03-ex5" -- begins_with "$child" "child: "
  expect "the child is PID 1" "$DOC#lab03-pid1" -- [ "$(field "$child" 'getpid\(\)')" = 1 ]
  expect "in a new PID namespace" "$DOC#lab03-idea-clone" -- [ "$(field "$child" ns/pid)" != "$(ns_of $$ pid)" ]
  expect "COMMAND is that child: PID 1, in the same namespace" "$DOC#lab03-ex5" -- \
    [ "${lines[3]}" = "COMMAND: 1 $(field "$child" ns/pid)" ]
}

@test "exercise 5: 03-pid-unshare with no COMMAND, or one that does not exist: one line" {
  run --separate-stderr "$PID_UNSHARE"
  expect "no COMMAND: exit 125" "$DOC#lab03-ex5" -- [ "$status" -eq 125 ]
  expect "and one line that says how to call it" "$DOC#lab03-ex5" -- is_one_line_matching "$stderr" '^Usage: 03-pid-unshare COMMAND'
  # -127: bats warns about that status unless it is the one expected.
  run -127 --separate-stderr "$PID_UNSHARE" /no/such/command
  expect "a COMMAND that does not exist: one line naming it" "$DOC#lab03-ex5" -- \
    [ "$stderr" = '03-pid-unshare: exec "/no/such/command": No such file or directory' ]
}

@test "exercise 7: kill(2) of a host process fails from inside the PID namespace, and works without one" {
  (exec sleep 100) 3>&- &
  SLEEP_PID=$!
  run ct -- "$KILL_HOST" "$SLEEP_PID"
  expect "inside, the host's PID names no process: exit 1" "$DOC#lab03-ex7" -- [ "$status" -eq 1 ]
  expect "kill(2) said ESRCH" "$DOC#lab03-ex7" -- [ "$output" = "stayed inside: kill($SLEEP_PID, SIGKILL): No such process" ]
  expect "the host's sleep is still running" "$DOC#lab03-flag" -- still_running "$SLEEP_PID"
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NO_PID_NAMESPACE" -- "$KILL_HOST" "$SLEEP_PID"
  expect "without a PID namespace, the same kill works (negative control)" "$DOC#lab03-ex7" -- [ "$status" -eq 0 ]
  expect "and says so" "$DOC#lab03-ex7" -- [ "$output" = "escaped: SIGKILL sent to PID $SLEEP_PID" ]
  sleep_status=0
  wait "$SLEEP_PID" || sleep_status=$?
  SLEEP_PID=""
  expect "the sleep died of SIGKILL (128+9)" "$DOC#lab03-ex7" -- [ "$sleep_status" -eq 137 ]
}

@test "exercise 7: 03-pid-kill-host with no PID, or one that is not a process ID: one line, exit 125" {
  run --separate-stderr "$KILL_HOST"
  expect "no PID: exit 125" "$DOC#lab03-ex7" -- [ "$status" -eq 125 ]
  expect "and one line that says how to call it" "$DOC#lab03-ex7" -- is_one_line_matching "$stderr" '^Usage: 03-pid-kill-host PID'
  for bad in 0 -1 x 12x; do
    run --separate-stderr "$KILL_HOST" "$bad"
    expect "PID $bad is refused: exit 125, one line, nothing signalled" "$DOC#lab03-ex7" -- \
      [ "$status" -eq 125 ]
    expect "the line names the bad value" "$DOC#lab03-ex7" -- is_one_line_matching "$stderr" "^03-pid-kill-host: PID \"$bad\": "
  done
}
