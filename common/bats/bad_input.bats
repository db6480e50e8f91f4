#!/usr/bin/env bats
# Bad input, lab by lab: every row of common/bats/bad-input.txt — the options
# of every lab with empty, huge, negative, non-numeric, overflowing, repeated
# and control-character values, unknown options, missing values, odd dashes —
# run against every lab it names. Each must end as SPEC.md says: exit status
# 125, nothing on stdout, exactly one line on stderr, "NN-name: what failed:
# why", with the value's control bytes escaped; and nothing may be created.
#
# On the host itself, not in a sandbox: a bad command line must be refused
# before any namespace, mount, link, IPC object, cgroup or file exists, and the
# host is where that is worth checking. common/bats/bad-input.sh runs the rows
# and compares the host after each with how it was before it; the host guard
# around this file (host_guard.bash, through nslab.bash) checks the whole host
# once more. One @test per lab, which reports every row that failed, not just
# the first.

load nslab

# Not the labs' setup (nslab.bash's needs a lab and root): a bad command line
# is refused the same way with or without root, before anything is created.
setup() {
  :
}

# bad_input_of NN-name [RUNNER...]: runs the table's rows for the lab (through
# RUNNER, e.g. as another user); prints the summary (to the TAP stream) and
# every failed row.
bad_input_of() {
  local lab=$1
  shift
  local program=$NSLAB_BUILD_DIR/bin/${NSLAB_IMPL:-solutions}/$lab
  [ -x "$program" ] || { echo "no program at $program: build first (cmake --preset default && cmake --build --preset default)" >&2; return 1; }
  # Under CTest's limit of 60 s a test: a row that hangs is named before it.
  run timeout -k 5 45 "$@" bash "$NSLAB_SOURCE_DIR/common/bats/bad-input.sh" "$lab" "$program"
  echo "# ${lines[0]:-}" >&3
  if [ "$status" != 0 ]; then
    printf '%s\n' "$output" >&2
    return 1
  fi
}

@test "01-uts refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 01-uts
}

@test "02-ipc refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 02-ipc
}

@test "03-pid refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 03-pid
}

@test "04-mount refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 04-mount
}

@test "05-net refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 05-net
}

@test "06-user refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 06-user
}

@test "07-setns refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 07-setns
}

@test "08-cgroup refuses every bad command line of bad-input.txt: 125, one line, nothing created" {
  bad_input_of 08-cgroup
}

# As a user, lab 08 (every option of every lab) must refuse the same command
# lines with the same one line: without root, and on this machine without a
# cgroup delegated to that user, about which it warns only for a container it runs.
@test "08-cgroup refuses them as an unprivileged user too, each with its one line alone" {
  nslab_user_ids
  [ "$EUID" = 0 ] || skip "the tests above ran as uid $EUID already"
  [ "$NSLAB_USER_UID" != 0 ] || skip "NSLAB_ROOTLESS_UID=0 is root itself"
  local program=$NSLAB_BUILD_DIR/bin/${NSLAB_IMPL:-solutions}/08-cgroup
  (cd / && as_user test -x "$program" && as_user test -r "$NSLAB_SOURCE_DIR/common/bats/bad-input.txt") ||
    skip "uid $NSLAB_USER_UID cannot run $program or read the table: put the build and the sources where that user can reach them, or set NSLAB_ROOTLESS_UID"
  USER_DIR=$(mktemp -d /tmp/nslab-bad-input-user.XXXXXX)  # removed by nslab.bash's teardown
  chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$USER_DIR"
  cd /
  bad_input_of 08-cgroup env -u BATS_TEST_TMPDIR TMPDIR="$USER_DIR" "${NSLAB_AS_USER[@]}"
}
