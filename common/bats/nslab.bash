# Shared Bats helpers for every lab's tests. A lab's .bats file starts with:
#
#     load ../../../common/bats/nslab
#     NSLAB_LAB=01-uts
#
# Which program is tested:
#   NSLAB_BIN=/path/to/program     exactly this one (the mutant check uses it)
#   NSLAB_IMPL=labs                the learner's build/bin/labs/NN-name
#   (default)                      the reference build/bin/solutions/NN-name

NSLAB_SOURCE_DIR=${NSLAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NSLAB_BUILD_DIR=${NSLAB_BUILD_DIR:-$NSLAB_SOURCE_DIR/build}
bats_require_minimum_version 1.5.0
load "${BATS_SUPPORT_DIR:-/usr/lib/bats/bats-support}/load"
load "${BATS_ASSERT_DIR:-/usr/lib/bats/bats-assert}/load"
source "$NSLAB_SOURCE_DIR/common/bats/host_guard.bash"

setup_file() {
  nslab_guard_begin
}

teardown_file() {
  nslab_guard_end
}

setup() {
  NSLAB_PROGRAM=${NSLAB_BIN:-$NSLAB_BUILD_DIR/bin/${NSLAB_IMPL:-solutions}/${NSLAB_LAB:-01-uts}}
  if [ ! -x "$NSLAB_PROGRAM" ]; then
    echo "no program at $NSLAB_PROGRAM: build first (cmake --preset default && cmake --build --preset default)" >&2
    return 1
  fi
  nslab_requires_root
  HOST_HOSTNAME=$(cat /proc/sys/kernel/hostname)
  # From lab 04 on, a container with --rootfs starts with a clean environment,
  # which would drop the host guard's mark from COMMAND's: --env puts it back.
  NSLAB_MARKS=()
  case ${NSLAB_LAB:-} in
    0[1-3]-* | "") ;;
    *) NSLAB_MARKS=(--env "NSLAB_GUARD=$NSLAB_GUARD_TOKEN") ;;
  esac
  declare -f lab_setup >/dev/null && lab_setup
  return 0
}

teardown() {
  declare -f lab_teardown >/dev/null && lab_teardown
  # A test that failed half-way may leave its background container running:
  # SIGKILL the runtime (its PID 1 dies with it: PR_SET_PDEATHSIG).
  if [ -n "${CT_PID:-}" ] && kill -0 "$CT_PID" 2>/dev/null; then
    kill -KILL "$CT_PID" 2>/dev/null || true
    wait "$CT_PID" 2>/dev/null || true
  fi
  return 0
}

# Skip (with the reason) when namespaces cannot be created here: a probe, not a guess.
nslab_requires_root() {
  if [ "$(id -u)" != 0 ]; then
    skip "needs root: labs 01-05 create namespaces, which needs CAP_SYS_ADMIN (lab 06 runs without root)"
  fi
  if ! unshare --uts true 2>/dev/null; then
    skip "this machine does not let root create a UTS namespace (unshare --uts true failed): are we in a restricted container?"
  fi
}

# ct ARGS...: runs the program under test, marked for the host guard
# (NSLAB_GUARD in its environment, and NSLAB_MARKS, set by setup()).
ct() {
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$NSLAB_PROGRAM" "${NSLAB_MARKS[@]}" "$@"
}

# explain WHAT SECTION: the message a failing check gives a learner.
explain() {
  {
    echo "expected: $1"
    echo "read:     docs/en/$2 (中文: docs/zh/$2)"
    [ -n "${status+x}" ] && echo "got:      exit status $status"
    [ -n "${output+x}" ] && printf 'output:\n%s\n' "$output"
    [ -n "${stderr:-}" ] && printf 'stderr:\n%s\n' "$stderr"
  } >&2
  return 1
}

# expect WHAT SECTION -- COMMAND...: runs COMMAND; if it fails, explains WHAT.
expect() {
  local what=$1 section=$2
  shift 2
  [ "$1" = "--" ] && shift
  "$@" || explain "$what" "$section"
}

# The namespace identity of PID's KIND, as /proc/PID/ns shows it: uts:[4026531838].
ns_of() {
  readlink "/proc/$1/ns/$2"
}

# expect_namespaces PID SECTION "NEW KINDS" "SHARED KINDS": compares PID's
# namespaces with the host's (this shell's): each new kind must differ, and each
# shared kind — the negative control — must be the very same namespace.
expect_namespaces() {
  local pid=$1 section=$2 kind
  for kind in $3; do
    expect "a new $kind namespace ($(ns_of $$ "$kind") on the host)" "$section" -- [ "$(ns_of "$pid" "$kind")" != "$(ns_of $$ "$kind")" ]
  done
  for kind in $4; do
    expect "the host's own $kind namespace, not a new one (negative control)" "$section" -- [ "$(ns_of "$pid" "$kind")" = "$(ns_of $$ "$kind")" ]
  done
}

# wait_for SECONDS COMMAND...: polls until COMMAND succeeds; fails on timeout.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.05
  done
}

# The first child of PID (the container's first process, for a runtime).
child_of() {
  local children
  children=$(cat /proc/"$1"/task/*/children 2>/dev/null)
  set -- $children
  [ -n "${1:-}" ] && echo "$1"
}

# start_ct ARGS...: starts a container in the background; sets CT_PID (the runtime)
# and CT_OUT (its output file). Finish with finish_ct.
start_ct() {
  CT_OUT=$BATS_TEST_TMPDIR/ct.out
  # Not through ct(): $! must be the runtime itself, not a subshell around it.
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$NSLAB_PROGRAM" "${NSLAB_MARKS[@]}" "$@" > "$CT_OUT" 2>&1 &
  CT_PID=$!
}

# finish_ct [SECONDS]: waits for the background container; sets status. If it has not
# ended in SECONDS (default 10), kills it and fails.
finish_ct() {
  local limit=${1:-10}
  if ! wait_for "$limit" nslab_not_running "$CT_PID"; then
    kill -KILL "$CT_PID" 2>/dev/null || true
    wait "$CT_PID" 2>/dev/null || true
    echo "the container did not end within ${limit}s" >&2
    return 1
  fi
  status=0
  wait "$CT_PID" || status=$?
  output=$(cat "$CT_OUT")
}

nslab_not_running() {
  # A zombie (state Z) has ended; only wait can tell its status.
  local state
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

# A busybox root filesystem for the tests (scripts/make-rootfs.sh), made once per
# build directory; prints its path. It also holds the chroot-escape exercise.
nslab_rootfs() {
  local rootfs=$NSLAB_BUILD_DIR/test-rootfs
  if [ ! -x "$rootfs/bin/busybox" ]; then
    rm -rf "$rootfs"
    "$NSLAB_SOURCE_DIR/scripts/make-rootfs.sh" "$rootfs" >/dev/null || return 1
  fi
  cp "$NSLAB_BUILD_DIR/bin/solutions/chroot-escape" "$rootfs/bin/chroot-escape"
  echo "$rootfs"
}
