#!/usr/bin/env bats
# scripts/load.sh, small: its refusals (one line, exit 2, before any sandbox),
# a --quick run of every lab that passes and prints its tables, and negative
# controls that prove each check bites: a program (NSLAB_LOAD_PROGRAM) that
# leaves a mount, a process in a namespace of its own, a veth pair, a message
# queue and a cgroup directory in the sandbox is reported, each on its line
# of the host's state; one that exits wrong once is reported; one that slows
# down half-way is reported as drift. The script runs itself in scripts/sandbox.sh,
# so what the fakes leave goes with the sandbox; the host guard checks that
# the real host kept nothing.

load nslab
NSLAB_LAB=08-cgroup
NSLAB_ROOT_WHY="scripts/load.sh runs in scripts/sandbox.sh, and its rows create namespaces, veths and cgroups as root"

SCRIPT=$NSLAB_SOURCE_DIR/scripts/load.sh

lab_setup() {
  # The script's working directories: /tmp/nslab-load.*; none may be left.
  WORK_BEFORE=$(ls -d /tmp/nslab-load.* 2>/dev/null || true)
}

lab_teardown() {
  # A working directory that appeared during the test: the script left it.
  local dir
  for dir in $(comm -13 <(echo "$WORK_BEFORE") <(ls -d /tmp/nslab-load.* 2>/dev/null || true)); do
    rm -rf "$dir"
  done
}

# load_run ARG...: the script, its processes marked for the host guard; sets
# status, output, lines, stderr.
load_run() {
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" bash "$SCRIPT" "$@" 3>&-
}

# no_work_left: no working directory of the script's is left in /tmp.
no_work_left() {
  local now
  now=$(ls -d /tmp/nslab-load.* 2>/dev/null || true)
  [ "$now" = "$WORK_BEFORE" ] || fail "the script left its working directory: $(comm -13 <(echo "$WORK_BEFORE") <(echo "$now") | xargs)"
}

# fake NAME BODY: a program at $BATS_TEST_TMPDIR/NAME that runs BODY (sh), then
# what follows "--" in its arguments, as a runtime runs COMMAND.
fake() {
  local program=$BATS_TEST_TMPDIR/$1
  cat > "$program" <<EOF
#!/bin/sh
$2
while [ \$# -gt 0 ] && [ "\$1" != -- ]; do shift; done
shift
exec "\$@"
EOF
  chmod 755 "$program"
  echo "$program"
}

# host_line KIND: the line of the host's state for KIND ("  mounts  21 -> 41  GREW: ...").
host_line() {
  grep -E "^  $1 +[0-9]" <<< "$output"
}

@test "scripts/load.sh refuses a bad argument with one line and exit 2, before any sandbox or container" {
  local argument
  for argument in --bogus "--count" "--count 0" "--count -5" "--count 1e3" "--count 01" "--count 99999999" \
    "--loops 251" "--loops x" "--per-loop 0" "--lab 09" "--lab 5" "--lab 03-net" "--max-drift -1" \
    "--quick=yes" "--count="; do
    # shellcheck disable=SC2086  # the case's words
    load_run $argument
    assert_failure 2
    assert_equal "$output" ""
    is_one_line "$stderr" || fail "'$argument': more than one line: $stderr"
    assert_regex "$stderr" '^load: .*; usage: scripts/load\.sh \[--count N\] '
  done
  no_work_left
}

@test "scripts/load.sh as another user says in one line that it needs root, exit 125" {
  run --separate-stderr bash -c 'cd / && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- bash "$1" --quick' \
    as-nobody "$SCRIPT" 3>&-
  assert_failure 125
  assert_equal "$output" ""
  assert_regex "$stderr" '^load: cannot run here: needs root \(.*\)$'
}

@test "scripts/load.sh --quick: every lab's rows and the concurrent run, every exit right, the host unchanged; exit 0" {
  load_run --quick
  assert_success
  assert_equal "$stderr" ""
  assert_regex "${lines[0]}" '^load: .* CPUs, load average [0-9.]+ at the start$'
  assert_line --regexp '^lab +containers +seconds +rate/s +first/s +last/s +drift % +bad exits +load average$'
  local row
  for row in 01-uts 02-ipc 03-pid 04-mount "05-net --veth" 06-user 07-setns "07 --enter" "08-cgroup limits"; do
    # containers, seconds, rate, first, last, drift, bad exits, load average:
    # 20 containers, none wrong.
    assert_line --regexp "^$row +20 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +0  [0-9.]+ -> [0-9.]+$"
  done
  # Rootless, unless this machine forbids it (then said so).
  for row in "06-user rootless" "07-setns rootless" "07 --enter rootless"; do
    assert_line --regexp "^($row +20 .* 0  [0-9.]+ -> [0-9.]+|load: skipped: $row: .*)$"
  done
  assert_line "concurrent: 08-cgroup limits --veth, 4 loops of 5 at once"
  assert_line --regexp '^4 loops x 5 +20 +[0-9.]+ .* 0  [0-9.]+ -> [0-9.]+$'
  assert_line --regexp '^  01-uts \(10\): +[0-9]+ [0-9]+$'
  for row in processes "fds of this shell" namespaces links addresses routes mounts "IPC objects" "cgroup directories"; do
    assert_regex "$(host_line "$row")" ' ok'
  done
  for row in file-handles MemAvailable SUnreclaim slab:net_namespace cgroups:memory; do
    host_line "$row" | grep -qE ': ok$|^$' || fail "$row: $(host_line "$row")"
  done
  assert_regex "${lines[-1]}" '^load: ok: every exit status right, no judged drift beyond -25%, nothing grew$'
  no_work_left
}

@test "scripts/load.sh: a program that leaves a mount, a process in a UTS namespace of its own, a veth pair, a message queue and a cgroup directory is caught, each by name; exit 1" {
  mkdir "$BATS_TEST_TMPDIR/over"
  NSLAB_LOAD_PROGRAM=$(fake leaves-everything "mount -t tmpfs nslab-load-leak '$BATS_TEST_TMPDIR/over'
unshare --uts sleep 60 </dev/null >/dev/null 2>&1 &
n=\$\$
ip link add \"nslab-leak\$n\" type veth peer name \"nslab-peer\$n\"
ipcmk -Q >/dev/null
for root in /sys/fs/cgroup/pids /sys/fs/cgroup; do
  [ -d \"\$root\$NSLAB_CGROUP_BASE\" ] && { mkdir \"\$root\$NSLAB_CGROUP_BASE/nslab-leak\$n\"; break; }
done") load_run --quick --lab 01 --loops 0
  assert_failure 1
  # 20 counted containers (the warm-up's 3 are in "before"), each leaving one
  # of each (and two links).
  assert_regex "$(host_line mounts)" ' -> [0-9]+ +GREW: .*nslab-load-leak'
  assert_regex "$(host_line processes)" 'GREW'
  assert_regex "$(host_line namespaces)" 'GREW: uts:\['
  assert_regex "$(host_line links)" 'GREW: nslab-leak[0-9]+'
  assert_regex "$(host_line "IPC objects")" 'GREW'
  assert_regex "$(host_line "cgroup directories")" 'GREW: .*/nslab-leak[0-9]+'
  assert_regex "$(host_line "fds of this shell")" ' ok$'
  assert_regex "${lines[-1]}" '^load: FAILED: processes grew by 20; namespaces grew by 20; links grew by 40; mounts grew by 20; IPC objects grew by 20; cgroup directories grew by 20$'
  # The real host: none of it (the host guard checks the rest).
  if grep -q nslab-load-leak /proc/self/mountinfo; then fail "the fake's mount reached the real host"; fi
  if ip -o link | grep -q nslab-leak; then fail "the fake's veth pair reached the real host"; fi
  no_work_left
}

@test "scripts/load.sh: a program whose exit status is wrong once is caught, with the container and its stderr; exit 1" {
  NSLAB_LOAD_PROGRAM=$(fake exits-wrong 'case $* in *"exit 7") echo "fake: exits 8" >&2; exit 8 ;; esac') \
    load_run --quick --lab 01 --loops 0
  assert_failure 1
  assert_line --regexp '^01-uts +20 .* 1  [0-9.]+ -> [0-9.]+$'
  assert_equal "$stderr" "load: 01-uts: container 7 exited 8, not 7: fake: exits 8"
  assert_regex "${lines[-1]}" '^load: FAILED: 01-uts: 1 wrong exit status\(es\)$'
  no_work_left
}

@test "scripts/load.sh: a program that slows down after its first hundred is caught as drift; exit 1" {
  printf '0\n' > "$BATS_TEST_TMPDIR/calls"
  # The warm-up's 3 calls, then 100 fast, then 100 slow.
  NSLAB_LOAD_PROGRAM=$(fake slows-down "read n < '$BATS_TEST_TMPDIR/calls'
echo \$((n + 1)) > '$BATS_TEST_TMPDIR/calls'
[ \"\$n\" -lt 103 ] || sleep 0.015") load_run --quick --count 200 --lab 01 --loops 0
  assert_failure 1
  assert_line --regexp '^  01-uts \(100\): +[0-9]+ [0-9]+$'
  assert_regex "${lines[-1]}" '^load: FAILED: 01-uts: the last hundreds ran [0-9.]+% slower than the first \(at most 25%\)$'
  no_work_left
}

# serial: it judges the rate of a fake container program, which tests beside it would change
@test "scripts/load.sh: with six hundreds, one slow hundred at the end is a burst, not drift; the last three slow are drift" {
  # The warm-up's 3 calls, then 600 containers, slowed from container FROM to TO.
  slowed() {
    printf '0\n' > "$BATS_TEST_TMPDIR/calls"
    NSLAB_LOAD_PROGRAM=$(fake "slowed-$1" "read n < '$BATS_TEST_TMPDIR/calls'
echo \$((n + 1)) > '$BATS_TEST_TMPDIR/calls'
[ \"\$n\" -lt $(($1 + 3)) ] || [ \"\$n\" -ge $(($2 + 3)) ] || sleep 0.012") load_run --quick --count 600 --lab 01 --loops 0
  }
  slowed 500 600
  assert_success
  assert_line --regexp '^  01-uts \(100\): +([0-9]+ ){5}[0-9]+$'
  assert_regex "${lines[-1]}" '^load: ok: '
  slowed 300 600
  assert_failure 1
  assert_regex "${lines[-1]}" '^load: FAILED: 01-uts: the last hundreds ran [0-9.]+% slower than the first \(at most 25%\)$'
  no_work_left
}
