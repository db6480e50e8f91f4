#!/usr/bin/env bats
# scripts/faults.sh: a bad argument is refused at once; a small seeded run of
# lab 01 passes, prints its table, and draws the same moments again with the
# same seed; and its negative controls: a "program" (NSLAB_FAULTS_PROGRAM)
# that leaves a process, a mount, a link, a hostname, a cgroup directory and a
# file behind, and one that exits wrongly, are each reported as bad outcomes,
# of the right kind, with exit status 1. Everything runs in the sandbox the
# script starts itself; the host guard (nslab.bash) checks that nothing of it
# is left on the host.

load nslab
NSLAB_ROOT_WHY="scripts/faults.sh runs every trial in scripts/sandbox.sh, which creates namespaces"

lab_setup() {
  FAULTS=(env NSLAB_BUILD_DIR="$NSLAB_BUILD_DIR" bash "$NSLAB_SOURCE_DIR/scripts/faults.sh")
  # World-readable: the fake programs run in the sandbox, from the host's /tmp.
  SCRATCH=$(mktemp -d /tmp/nslab-faults.XXXXXX)
  chmod 755 "$SCRATCH"
}

lab_teardown() {
  rm -rf "$SCRATCH"
}

# faults ARG...: runs scripts/faults.sh (Bats' fd 3 closed: the sandbox's
# cleaner must not hold it).
faults() {
  run --separate-stderr "${FAULTS[@]}" "$@" 3>&-
}

# row PROGRAM FAULT: the table's line for PROGRAM and FAULT, its numbers only:
# trials, bad, then proc mount link ipc/uts cgroup file status.
row() {
  local line
  line=$(grep -E "^$1 +$2 +[0-9]" <<< "$output") || return 1
  line=${line#"$1"}
  line=${line#*"$2"}
  read -r -a numbers <<< "$line"
  echo "${numbers[*]:0:9}"
}

@test "faults.sh: a bad argument is one line on stderr and exit 2, before anything runs" {
  local args
  for args in "--trials" "--trials 0" "--trials x1" "--seed -3" "--lab 9" "--lab 09" "--kind all" "--long=1" "lab01"; do
    # shellcheck disable=SC2086  # one word per argument, on purpose
    faults $args
    [ "$status" -eq 2 ] || fail "scripts/faults.sh $args: expected exit 2, got $status ($stderr)"
    is_one_line_matching "$stderr" '^faults: .*\(scripts/faults\.sh --help\)$' ||
      fail "scripts/faults.sh $args: expected one line \"faults: ...\", got: $stderr"
    assert_equal "$output" ""
  done
  faults --help
  assert_success
  assert_line --index 0 --partial "The host keeps nothing, under faults"
  assert_output --partial "scripts/faults.sh [--long] [--trials N] [--seed N]"
}

@test "faults.sh: a small seeded run of lab 01 passes, with its table; the same seed draws the same moments" {
  # A failed step fails one system call of the program; a sanitized one also
  # makes the sanitizer's own (LeakSanitizer's tracer at exit: clone, prctl),
  # which are no step of nslab's.
  skip_if_sanitized "faults.sh would fail the sanitizer's own system calls as steps of the program"
  faults --seed 7 --lab 01 --trials 3 --verbose
  assert_success
  assert_line --index 0 --regexp '^faults: seed 7, default: 3 of each signal'
  local fault
  for fault in "clean run" SIGKILL SIGTERM SIGINT "SIGKILL PID 1" "failed step"; do
    row "01-uts --hostname" "$fault" | grep -Eq '^[0-9]+ 0 0 0 0 0 0 0 0$' ||
      fail "no clean row for \"$fault\": $(row "01-uts --hostname" "$fault")"
  done
  assert_line --regexp '^total +[0-9]+ +0( +0){7} '
  assert_line --regexp '^faults: no bad outcome in [0-9]+ trials'
  # Every step of the start failed, each named in one line (--verbose).
  assert_line --partial 'failed step, trial 1: '
  assert_line --partial 'sethostname("box", 3)'
  assert_line --partial 'execve("/bin/echo")'
  local first
  first=$(grep -oE 'SIGTERM, trial [0-9]+: signal at [0-9.]+ of the' <<< "$output")
  [ "$(wc -l <<< "$first")" -eq 3 ] || fail "expected 3 SIGTERM trials, got: $first"
  faults --seed 7 --lab 01 --trials 3 --kind term --verbose
  assert_success
  assert_equal "$(grep -oE 'SIGTERM, trial [0-9]+: signal at [0-9.]+ of the' <<< "$output")" "$first"
}

@test "faults.sh: a program that leaves a process, a mount, a link, a hostname, a cgroup and a file is caught, each" {
  cat > "$SCRATCH/leaky" <<'EOF'
#!/bin/sh
# A "runtime" that leaves one of each thing on the host, then runs COMMAND.
while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
shift
tag=$$
sleep 1000 </dev/null >/dev/null 2>&1 &
mkdir /tmp/nslab-leak.$tag && mount -t tmpfs leak /tmp/nslab-leak.$tag
ip link add nslab-leak$tag type veth peer name nslab-peer$tag
hostname leaky
for root in /sys/fs/cgroup/pids /sys/fs/cgroup; do
  if [ -d "$root$NSLAB_CGROUP_BASE" ]; then mkdir "$root$NSLAB_CGROUP_BASE/nslab-leak.$tag"; break; fi
done
exec "$@"
EOF
  chmod 755 "$SCRATCH/leaky"
  NSLAB_FAULTS_PROGRAM=$SCRATCH/leaky faults --lab 01 --kind clean
  assert_failure 1
  # 4 clean runs (one to warm up), each bad in every way but its status.
  assert_equal "$(row "01-uts --hostname" "clean run")" "4 4 4 4 4 4 4 4 0"
  assert_line --regexp 'BAD  01-uts --hostname, clean run, trial 1 .*: proc: process [0-9]+ \(sleep'
  assert_line --regexp 'trial 1 .*: mount: appeared: .* /tmp/nslab-leak\.[0-9]+ '
  assert_line --regexp 'trial 1 .*: link: appeared: link nslab-leak[0-9]+$'
  assert_line --regexp 'trial 1 .*: ipc/uts: appeared: hostname leaky$'
  assert_line --regexp 'trial 1 .*: cgroup: /sys/fs/cgroup/.*/nslab-leak\.[0-9]+$'
  assert_line --regexp 'trial 1 .*: file: /tmp/nslab-leak\.[0-9]+$'
  assert_line --regexp '^faults: 4 bad outcome\(s\) in 4 trials'
}

@test "faults.sh: a program whose exit status or output is wrong is caught" {
  printf '#!/bin/sh\necho "%s: failed for no reason" >&2\nexit 3\n' 01-uts > "$SCRATCH/wrong"
  chmod 755 "$SCRATCH/wrong"
  NSLAB_FAULTS_PROGRAM=$SCRATCH/wrong faults --lab 01 --kind clean
  assert_failure 1
  assert_equal "$(row "01-uts --hostname" "clean run")" "4 4 0 0 0 0 0 0 4"
  assert_line --regexp 'clean run, trial 1 .*: status: expected exit 0, "ran", nothing on stderr; got exit 3'
}
