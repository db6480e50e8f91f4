#!/usr/bin/env bats
# Lab 01 — the UTS namespace, as a user sees it: from inside the container and from the host.

load ../../../common/bats/nslab
NSLAB_LAB=01-uts
DOC=lab01-uts.md

@test "--hostname sets the hostname inside the container" {
  expect "the host's own name is not 'box' (negative control)" "$DOC" -- [ "$HOST_HOSTNAME" != box ]
  run --separate-stderr ct --hostname box -- hostname
  expect "exit status 0" "$DOC#lab01-sethostname" -- [ "$status" -eq 0 ]
  expect "the host keeps its hostname" "$DOC#lab01-flag" --hint shared-uts -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
  expect "hostname inside prints exactly 'box'" "$DOC#lab01-sethostname" --hint hostname-not-set -- [ "$output" = box ]
}

@test "the host keeps its hostname while the container is running" {
  start_ct --hostname box -- sh -c "hostname > '$BATS_TEST_TMPDIR/inside'; sleep 0.5"
  wait_for 5 test -s "$BATS_TEST_TMPDIR/inside"
  expect "the container sees 'box'" "$DOC#lab01-sethostname" -- [ "$(cat "$BATS_TEST_TMPDIR/inside")" = box ]
  expect "the host, at the same moment, still has its own name" "$DOC#lab01-flag" -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
  finish_ct
  assert_success
}

@test "without --hostname the container starts with a copy of the host's name" {
  run ct -- hostname
  assert_success
  expect "a new UTS namespace starts as a copy of its parent's" "$DOC#lab01-flag" -- [ "$output" = "$HOST_HOSTNAME" ]
}

@test "the domain name is isolated too, even without --hostname" {
  host_domain=$(cat /proc/sys/kernel/domainname)
  run ct -- sh -c 'echo nslab.test > /proc/sys/kernel/domainname && cat /proc/sys/kernel/domainname'
  assert_success
  expect "the container can change its own domain name" "$DOC#lab01-flag" -- [ "$output" = nslab.test ]
  expect "the host's domain name is unchanged" "$DOC#lab01-flag" -- [ "$(cat /proc/sys/kernel/domainname)" = "$host_domain" ]
}

@test "only the uts namespace differs from the host's" {
  # COMMAND waits for the test's word (at most 10 s): it is there however slow the machine.
  start_ct -- sh -c "n=0; until [ -e '$BATS_TEST_TMPDIR/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  wait_for 5 child_of "$CT_PID"
  inside=$(child_of "$CT_PID")
  expect_namespaces "$inside" "$DOC#lab01-flag" "uts" "ipc mnt net pid user cgroup"
  touch "$BATS_TEST_TMPDIR/go"
  finish_ct
  assert_success
}

@test "--verbose names the clone flags and shows the uts identities before and after" {
  run --separate-stderr ct --verbose --hostname box -- hostname
  assert_success
  expect "stdout is still only COMMAND's output" "$DOC" -- [ "$output" = box ]
  expect "the narration names CLONE_NEWUTS" "$DOC" -- grep -q 'clone(CLONE_NEWUTS|SIGCHLD)' <<< "$stderr"
  expect "the narration shows the host's uts identity" "$DOC" -- grep -qF "$(ns_of $$ uts) (host)" <<< "$stderr"
  expect "the narration shows a new uts identity" "$DOC" -- grep -qE 'uts:\[[0-9]+\] \(container\)  new' <<< "$stderr"
}

@test "without --verbose the program prints nothing of its own" {
  run --separate-stderr ct --hostname box -- hostname
  assert_success
  expect "nothing on stderr" "$DOC" -- [ -z "$stderr" ]
}

@test "COMMAND's exit status is the container's" {
  run ct -- sh -c 'exit 7'
  expect "exit status 7" "$DOC" -- [ "$status" -eq 7 ]
  run ct -- sh -c 'kill -TERM $$'
  expect "128+15 when COMMAND is killed by SIGTERM" "$DOC" -- [ "$status" -eq 143 ]
}

@test "COMMAND defaults to /bin/sh" {
  run ct --hostname box <<< 'hostname; exit 3'
  expect "the default shell reads the commands from stdin" "$DOC" -- [ "$status" -eq 3 ]
  assert_output box
}

@test "bad --hostname values: one line and exit 125" {
  run --separate-stderr ct --hostname '' -- true
  expect "an empty name is refused" "$DOC" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "01-uts: --hostname: the name is empty"
  run --separate-stderr ct --hostname "$(printf 'a%.0s' {1..65})" -- true
  expect "65 bytes is over HOST_NAME_MAX" "$DOC" -- [ "$status" -eq 125 ]
  expect "the message names the limit" "$DOC" -- grep -q 'at most 64 (HOST_NAME_MAX)' <<< "$stderr"
  run --separate-stderr ct --hostname "$(printf 'a%.0s' {1..64})" -- hostname
  expect "64 bytes is allowed" "$DOC" -- [ "$status" -eq 0 ]
  run --separate-stderr ct --hostname $'box\n\e[31mred' -- hostname
  expect "a newline or an escape sequence in the name is refused" "$DOC" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" '01-uts: --hostname: the name holds a control byte or is not UTF-8: "box\n\x1b[31mred"'
  expect "COMMAND never ran" "$DOC" -- [ -z "$output" ]
}

@test "bad options: one line and exit 125" {
  run --separate-stderr ct --no-such-option -- true
  assert_equal "$status" 125
  assert_equal "$stderr" "01-uts: unknown option --no-such-option (see --help)"
  run --separate-stderr ct --hostname
  assert_equal "$status" 125
  assert_equal "$stderr" "01-uts: --hostname needs a value (NAME)"
}

@test "COMMAND not found: 127; not executable: 126" {
  run -127 --separate-stderr ct -- /no/such/command
  assert_equal "$status" 127
  assert_equal "$stderr" '01-uts: exec "/no/such/command": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)'
  touch "$BATS_TEST_TMPDIR/not-executable"
  run -126 --separate-stderr ct -- "$BATS_TEST_TMPDIR/not-executable"
  assert_equal "$status" 126
  assert_equal "$(wc -l <<< "$stderr")" 1
}

@test "without root: one line, exit 125, and a pointer to lab 06" {
  command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
  run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NSLAB_PROGRAM" --hostname box -- hostname
  assert_equal "$status" 125
  expect "one line that says why and points to lab 06" "$DOC" -- grep -q '^01-uts: creating namespaces needs CAP_SYS_ADMIN: .*lab 06' <<< "$stderr"
  assert_equal "$(wc -l <<< "$stderr")" 1
}

@test "--help explains the options and exits 0" {
  run --separate-stderr bash -c '"$1" --help >/dev/full' sh "$NSLAB_PROGRAM"
  expect "a --help that cannot be written is an error, not a success" "$DOC" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "01-uts: --help: writing the usage to stdout: No space left on device"
  run ct --help
  assert_success
  assert_output --partial "Usage: 01-uts [OPTIONS] [--] [COMMAND [ARG...]]"
  assert_output --partial "--hostname NAME"
  assert_output --partial "--verbose"
}

@test "a background process does not outlive the container" {
  run ct -- sh -c 'sleep 30 & echo $!'
  assert_success
  expect "the container's background sleep ($output) is gone when the runtime returns" "$DOC" -- [ ! -e "/proc/$output" ]
}

@test "SIGTERM to the runtime reaches COMMAND" {
  start_ct -- sh -c "trap 'exit 42' TERM; touch '$BATS_TEST_TMPDIR/ready'; while :; do sleep 0.05; done"
  wait_for 5 test -e "$BATS_TEST_TMPDIR/ready"
  kill -TERM "$CT_PID"
  finish_ct 5
  expect "COMMAND's TERM trap ran (exit 42)" "$DOC" -- [ "$status" -eq 42 ]
}

@test "an fd the caller left open does not reach COMMAND" {
  # A shell's `exec 7</` (and Bats' own fd 3) is inherited by every child. The
  # runtime closes all but 0-2 before COMMAND (close_range(2), PITFALLS 15).
  exec 7</
  expect "the test's fd 7 is open on the host's / (negative control)" "$DOC" -- [ "$(readlink /proc/self/fd/7)" = / ]
  run ct -- sh -c 'for fd in 3 4 5 6 7 8 9; do [ -e /proc/self/fd/$fd ] && echo "fd $fd is open"; done; true'
  exec 7<&-
  assert_success
  expect "COMMAND has no fd but 0, 1 and 2" lab04-mount.md#lab04-fds --hint fds-inherited -- [ -z "$output" ]
}

@test "killing the runtime with SIGKILL at random moments leaves no process behind" {
  # Here only the death signal (PR_SET_PDEATHSIG) ends COMMAND with its runtime:
  # no PID namespace, no cgroup. COMMAND is exec'd directly, so it keeps it.
  for round in $(seq 60); do
    (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" -- sleep 30) 3>&- &
    runtime=$!
    sleep "0.00$((RANDOM % 6))"
    kill -KILL "$runtime"
    wait "$runtime" 2>/dev/null || true
  done
  expect "no container process outlives its killed runtime" lab01-uts.md#lab01-observe -- \
    wait_for 3 nslab_no_guarded_processes
}

@test "closed fds 0-2 do not break the runtime, even under --verbose" {
  run ct -v -- true 2>&-
  expect "with stderr closed, --verbose still exits as COMMAND does" "$DOC" -- [ "$status" -eq 0 ]
  run ct -v -- sh -c 'exit 4' 0<&- 1>&- 2>&-
  expect "with 0, 1 and 2 closed, exit status 4" "$DOC" -- [ "$status" -eq 4 ]
}

@test "a namespace limit at 0: the error names the clone flags and the limit" {
  # In a throw-away user namespace, whose limits are its own to lower.
  run --separate-stderr unshare --user --map-root-user sh -c \
    'echo 0 > /proc/sys/user/max_uts_namespaces && exec env NSLAB_GUARD="$1" "$2" -- true' sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM"
  assert_equal "$status" 125
  expect "the flags by name, the errno, and the limit that caused it" "$DOC#lab01-errors" -- \
    grep -qxF '01-uts: clone(CLONE_NEWUTS|SIGCHLD): No space left on device (a namespace limit was reached, not a full disk: /proc/sys/user/max_uts_namespaces is 0 (as root, sysctl -w user.max_uts_namespaces=10000 raises it)) (run scripts/doctor.sh; see docs/{en,zh}/troubleshooting.md#ts-clone-ENOSPC)' <<< "$stderr"
}

@test "an error line echoes no control byte and stays short" {
  run --separate-stderr ct $'--bad\nline' -- true
  assert_equal "$status" 125
  expect "one line, the newline shown as \\n" "$DOC" -- [ "$stderr" = '01-uts: unknown option --bad\nline (see --help)' ]
  run --separate-stderr ct $'--x\e[31mred' -- true
  expect "an escape sequence is shown, not sent to the terminal" "$DOC" -- [ "$stderr" = '01-uts: unknown option --x\x1b[31mred (see --help)' ]
  run --separate-stderr ct $'--\xc2\x9b2J\xff' -- true
  expect "a C1 control (CSI) and a byte that is not UTF-8 are shown, not sent" "$DOC" -- [ "$stderr" = '01-uts: unknown option --\xc2\x9b2J\xff (see --help)' ]
  run --separate-stderr ct "--$(head -c 120000 /dev/zero | tr '\0' x)" -- true
  assert_equal "$status" 125
  expect "a 120 kB option is cut, with its size" "$DOC" -- [ "${#stderr}" -lt 200 ]
  expect "a 120 kB option is cut, with its size" "$DOC" -- grep -q '(120002 bytes)' <<< "$stderr"
}

@test "a closed stderr pipe does not kill the runtime before it cleans up" {
  # SIGPIPE is ignored: a narration line written to a reader that left fails
  # with EPIPE, and the runtime goes on to end the container's leftovers.
  run bash -c '"$1" --verbose -- sh -c "sleep 0.3; sleep 30 & echo \$! > \"\$1\"; exit 5" sh "$3" 2> >(exec true); echo "status $?"' \
    sh "$NSLAB_PROGRAM" x "$BATS_TEST_TMPDIR/leftover"
  expect "COMMAND's own status, not 141 (SIGPIPE)" "$DOC" -- [ "$output" = "status 5" ]
  expect "the background sleep was ended by the runtime" "$DOC" -- [ ! -e "/proc/$(cat "$BATS_TEST_TMPDIR/leftover")" ]
}

@test "SIGALRM and the other signals that would end the runtime are forwarded, and nothing is left" {
  for sig in ALRM XCPU PWR VTALRM; do
    start_ct -- sh -c "sleep 30 & echo \$! > '$BATS_TEST_TMPDIR/bg'; touch '$BATS_TEST_TMPDIR/ready'; wait"
    wait_for 5 test -e "$BATS_TEST_TMPDIR/ready"
    kill -"$sig" "$CT_PID"
    finish_ct 3
    expect "SIG$sig was forwarded to COMMAND, which died of it: 128+N" "$DOC" -- [ "$status" -eq $((128 + $(kill -l "$sig"))) ]
    expect "the background sleep did not outlive the container (SIG$sig)" "$DOC" -- [ ! -e "/proc/$(cat "$BATS_TEST_TMPDIR/bg")" ]
    rm -f "$BATS_TEST_TMPDIR/ready"
  done
}
