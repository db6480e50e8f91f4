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
# A TCP server and client for the network tests (common/tests/programs/tcp_probe.cpp):
# tcp-probe serve|connect ADDR PORT [MESSAGE].
NSLAB_TCP_PROBE=$NSLAB_BUILD_DIR/bin/tests/tcp-probe
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
  # Who runs the program: this shell (NSLAB_RUNNER empty), or, in a file that
  # sets NSLAB_ROOTLESS=1 (lab 06's rootless.bats), an unprivileged user.
  NSLAB_RUNNER=()
  nslab_user_ids
  if [ -n "${NSLAB_ROOTLESS:-}" ]; then
    nslab_rootless_setup
  else
    nslab_requires_root
  fi
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
  # A test that failed half-way may leave its background container running:
  # SIGKILL the runtime (its PID 1 dies with it: PR_SET_PDEATHSIG).
  if [ -n "${CT_PID:-}" ] && kill -0 "$CT_PID" 2>/dev/null; then
    kill -KILL "$CT_PID" 2>/dev/null || true
    wait "$CT_PID" 2>/dev/null || true
  fi
  declare -f lab_teardown >/dev/null && lab_teardown
  if [ -n "${USER_DIR:-}" ] && [ -d "$USER_DIR" ]; then
    rm -rf "$USER_DIR"
  fi
  return 0
}

# Skip (with the reason) when namespaces cannot be created here: a probe, not a
# guess. Every file calls it (from setup) but one that sets NSLAB_ROOTLESS=1;
# NSLAB_ROOT_WHY, set by a file, says why that file needs root.
nslab_requires_root() {
  if [ "$EUID" != 0 ]; then
    skip "needs root: ${NSLAB_ROOT_WHY:-labs 01-05 create namespaces, which needs CAP_SYS_ADMIN (lab 06 runs without root)}; scripts/doctor.sh says what this machine can run"
  fi
  if ! unshare --uts true 2>/dev/null; then
    skip "this machine does not let root create a UTS namespace (unshare --uts true failed): are we in a restricted container? scripts/doctor.sh says what to change"
  fi
}

# Whether the programs under test are built with the sanitizers (the asan
# preset: scripts/sanitize.sh): NSLAB_SANITIZE=1 or 0 says so, or else the
# build's own CMakeCache.txt.
nslab_sanitized() {
  case ${NSLAB_SANITIZE:-} in
    1 | ON | on) return 0 ;;
    0 | OFF | off) return 1 ;;
  esac
  grep -qx 'NSLAB_SANITIZE:BOOL=ON' "$NSLAB_BUILD_DIR/CMakeCache.txt" 2>/dev/null
}

# skip_if_sanitized WHY: skips (call it from setup or a test, never from
# setup_file) a check that cannot hold for programs built with the sanitizers,
# and says WHY.
skip_if_sanitized() {
  if nslab_sanitized; then
    skip "not under the sanitizers (asan preset): $1"
  fi
}

# --- as an unprivileged user (lab 06) -------------------------------------------
#
# The rootless tests run the program as an unprivileged user: as this shell's
# user when that is not root; as root, as NSLAB_ROOTLESS_UID (default 65534,
# nobody), dropped to with setpriv(1) — no capability, no supplementary group.

# Sets NSLAB_USER_UID and NSLAB_USER_GID: the ids of that user, as the host numbers them.
nslab_user_ids() {
  if [ "$EUID" = 0 ]; then
    NSLAB_USER_UID=${NSLAB_ROOTLESS_UID:-65534}
    NSLAB_USER_GID=${NSLAB_ROOTLESS_GID:-$(getent passwd "$NSLAB_USER_UID" | cut -d: -f4)}
    NSLAB_USER_GID=${NSLAB_USER_GID:-$NSLAB_USER_UID}
    NSLAB_AS_USER=("$(command -v setpriv || echo setpriv)" "--reuid=$NSLAB_USER_UID" "--regid=$NSLAB_USER_GID" --clear-groups --)
  else
    NSLAB_USER_UID=$(id -u)
    NSLAB_USER_GID=$(id -g)
    NSLAB_AS_USER=()
  fi
}

# as_user COMMAND...: runs COMMAND as that unprivileged user.
as_user() {
  "${NSLAB_AS_USER[@]}" "$@"
}

# Skip (with the reason) when that user cannot create a user namespace and map
# itself to root there: a probe of the very thing the rootless tests need.
requires_userns() {
  local why
  if ! why=$(cd / && as_user unshare --user --map-root-user true 2>&1); then
    local settings="" file name
    for file in /proc/sys/user/max_user_namespaces /proc/sys/kernel/unprivileged_userns_clone \
      /proc/sys/kernel/apparmor_restrict_unprivileged_userns; do
      [ -r "$file" ] || continue
      name=${file#/proc/sys/}
      settings+=" ${name//\//.}=$(cat "$file")"
    done
    skip "uid $NSLAB_USER_UID cannot create a user namespace here (unshare -Ur true: ${why:-failed}); settings:${settings:- none readable}; scripts/doctor.sh says what blocks it and what to change"
  fi
}

# The setup of a rootless file: the program runs as the user (ct, start_ct), in
# USER_DIR, a directory of the user's own that it can reach (Bats' own are root's).
nslab_rootless_setup() {
  if [ "$EUID" = 0 ] && [ "$NSLAB_USER_UID" = 0 ]; then
    echo "NSLAB_ROOTLESS_UID=0 is root itself: the rootless tests need an unprivileged user" >&2
    return 1
  fi
  requires_userns
  if ! (cd / && as_user test -x "$NSLAB_PROGRAM"); then
    echo "uid $NSLAB_USER_UID cannot run $NSLAB_PROGRAM: put the build where that user can reach it, or set NSLAB_ROOTLESS_UID" >&2
    return 1
  fi
  NSLAB_RUNNER=("${NSLAB_AS_USER[@]}")
  USER_DIR=$(mktemp -d /tmp/nslab-rootless.XXXXXX)
  chmod 755 "$USER_DIR"
  [ "$EUID" != 0 ] || chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$USER_DIR"
  # The user may not be able to reach the test's working directory.
  cd /
}

# user_rootfs: a copy of the test root filesystem in USER_DIR, owned by the
# user; prints its path.
user_rootfs() {
  local rootfs
  rootfs=$(nslab_rootfs) || return 1
  cp -a "$rootfs" "$USER_DIR/rootfs"
  # -h: the applets are symlinks to /bin/busybox, which must stay the host's.
  [ "$EUID" != 0 ] || chown -R -h "$NSLAB_USER_UID:$NSLAB_USER_GID" "$USER_DIR/rootfs"
  echo "$USER_DIR/rootfs"
}

# exercise_answer NAME: the answer to an exercise. A program (NAME with no
# .sh): next to the program under test — build/bin/labs/NAME when the learner
# has written labs/NN-name/exercises/ (cmake/labs.cmake builds it there) —
# or else the reference build/bin/solutions/NAME. A script (NAME.sh): the
# learner's labs/NN-name/exercises/NAME.sh when the program under test is the
# learner's and the script exists, or else solutions/NN-name/exercises/NAME.sh.
# scripts/grade.sh grades an exercise only when the learner's answer exists.
exercise_answer() {
  local dir answer
  dir=$(dirname "$NSLAB_PROGRAM")
  if [[ $1 == *.sh ]]; then
    answer=$NSLAB_SOURCE_DIR/labs/$NSLAB_LAB/exercises/$1
    if [ "$(basename "$dir")" = labs ] && [ -f "$answer" ]; then
      echo "$answer"
    else
      echo "$NSLAB_SOURCE_DIR/solutions/$NSLAB_LAB/exercises/$1"
    fi
  elif [ -x "$dir/$1" ]; then
    echo "$dir/$1"
  else
    echo "$NSLAB_BUILD_DIR/bin/solutions/$1"
  fi
}

# --- the exercises' tests (labs/NN-name/tests/exercises.bats) ---------------------

# answer SCRIPT ARGS...: runs the answer SCRIPT (the learner's or the
# reference: exercise_answer), its containers marked for the host guard;
# sets status, output, lines, stderr.
answer() {
  local script
  script=$(exercise_answer "$1")
  shift
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" bash "$script" "$@" 3>&-
}

# usage_error: the last run exited 2 (usage), with one line on stderr.
usage_error() {
  [ "$status" -eq 2 ] && is_one_line "$stderr"
}

# failed_with STATUS REGEX: the last run exited STATUS, with one line on stderr matching REGEX.
failed_with() {
  [ "$status" -eq "$1" ] && is_one_line_matching "$stderr" "$2"
}

# reported WHAT: the value of an answer script's report line "WHAT: VALUE"
# (the format each exercise's task gives), from the last run's output.
reported() {
  local line
  while IFS= read -r line; do
    [[ $line != "$1: "* ]] || { echo "${line#"$1: "}"; return 0; }
  done <<< "$output"
  return 0
}

# ct ARGS...: runs the program under test, marked for the host guard
# (NSLAB_GUARD in its environment, and NSLAB_MARKS, set by setup()); in a
# rootless file, as the unprivileged user.
ct() {
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "${NSLAB_RUNNER[@]}" "$NSLAB_PROGRAM" "${NSLAB_MARKS[@]}" "$@"
}

# explain WHAT SECTION [HINT]: the message a failing check gives a learner:
# what was expected, what went wrong when the check names a HINT (an ID of
# common/bats/hints.txt: a common mistake that this failure is the sign of, said
# as what is wrong, never as the code that fixes it), and where to read.
explain() {
  local entry="" id="" hint_section="" text="" zh="" given=${3:-}
  # Without one, the runtime's own refusal may name the mistake (the safety net).
  [ -n "$given" ] || given=$(hint_from_output)
  if [ -n "$given" ]; then
    entry=$(grep -m1 "^$given |" "$NSLAB_SOURCE_DIR/common/bats/hints.txt" || true)
    [ -n "$entry" ] || entry="$given | $2 | (no such hint in common/bats/hints.txt) | "
    IFS='|' read -r id hint_section text zh <<< "$entry"
    id=${id// /} hint_section=${hint_section// /}
    text=${text# } text=${text% } zh=${zh# }
  fi
  {
    echo "expected: $1"
    if [ -n "$id" ]; then
      echo "hint:     $text [hint $id]"
      [ -n "$zh" ] && echo "提示:     $zh"
      echo "read:     docs/en/$hint_section (中文: docs/zh/$hint_section)"
    else
      echo "read:     docs/en/$2 (中文: docs/zh/$2)"
    fi
    [ -n "${status+x}" ] && echo "got:      exit status $status"
    [ -n "${output+x}" ] && printf 'output:\n%s\n' "$output"
    [ -n "${stderr:-}" ] && printf 'stderr:\n%s\n' "$stderr"
  } >&2
  return 1
}

# hint_from_output: the hint that the program's own words in $output or
# $stderr are the sign of: the safety net's refusal "this process is still in
# the host's KIND namespace" (common/src/runtime.cpp) means shared-KIND; an
# --enter that cannot open /proc/PID/ns/KIND of a live target has joined a
# namespace (its mount namespace: another /proc) before opening them all.
hint_from_output() {
  local said kind
  said=$(printf '%s\n%s\n' "${output:-}" "${stderr:-}")
  kind=$(sed -nE "s/.*this process is still in the host's ([a-z]+) namespace.*/\1/p" <<< "$said" | head -n 1)
  if [ -n "$kind" ] && grep -q "^shared-$kind |" "$NSLAB_SOURCE_DIR/common/bats/hints.txt"; then
    echo "shared-$kind"
  elif grep -qE 'open /proc/[0-9]+/ns/[a-z_]+: No such file or directory' <<< "$said"; then
    echo opened-while-joining
  elif grep -qE 'open /proc/[0-9]+/(uid_map|gid_map|setgroups): Permission denied|is not mapped in this user namespace' <<< "$said"; then
    echo ran-before-maps
  fi
  return 0
}

# bats-assert's assert_success, which also gives the hint that a failure's
# output is the sign of (hint_from_output), as explain does.
eval "$(declare -f assert_success | sed '1s/^assert_success/nslab_bats_assert_success/')"
assert_success() {
  nslab_bats_assert_success "$@" && return 0
  local id
  id=$(hint_from_output)
  [ -z "$id" ] || explain "COMMAND ran (exit status 0)" "" "$id" 2>&1 | grep -E '^(hint|提示|read):' >&2
  return 1
}

# expect WHAT SECTION [--hint ID] -- COMMAND...: runs COMMAND; if it fails,
# explains WHAT (and the mistake ID is the sign of, when given).
expect() {
  local what=$1 section=$2 hint=""
  shift 2
  if [ "${1:-}" = "--hint" ]; then
    hint=$2
    shift 2
  fi
  [ "$1" = "--" ] && shift
  "$@" || explain "$what" "$section" "$hint"
}

# is_one_line TEXT: TEXT is one line, not empty (an error message, as nslab prints them).
is_one_line() {
  [ -n "$1" ] && [[ $1 != *$'\n'* ]]
}

# is_one_line_matching TEXT REGEX: one line, which matches REGEX (grep -E).
is_one_line_matching() {
  is_one_line "$1" && grep -qE -- "$2" <<< "$1"
}

# begins_with TEXT PREFIX
begins_with() {
  [[ $1 == "$2"* ]]
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
  local hint
  expect "process $pid still running, so that its namespaces can be read" "$section" -- [ -e "/proc/$pid/ns" ]
  for kind in $3; do
    # The hint for a namespace left shared, when common/bats/hints.txt has one.
    hint=()
    ! grep -q "^shared-$kind |" "$NSLAB_SOURCE_DIR/common/bats/hints.txt" || hint=(--hint "shared-$kind")
    expect "a new $kind namespace ($(ns_of $$ "$kind") on the host)" "$section" "${hint[@]}" -- [ "$(ns_of "$pid" "$kind")" != "$(ns_of $$ "$kind")" ]
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

# running PID: PID exists and has not ended (a zombie, ended but not yet
# waited for, has).
running() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state%% *}" != Z ]
}

# with_sigint DISPOSITION COMMAND [ARG...]: runs COMMAND with SIGINT and
# SIGQUIT at DISPOSITION (SIG_DFL, as from a terminal, or SIG_IGN). A
# background job of a script has both ignored, and a script started so cannot
# trap them, so a test of Ctrl-C starts its script through this. It execs
# (so that $! of "(with_sigint ...) &" is the script's PID): call it in a
# subshell, or under run.
with_sigint() {
  exec python3 -c 'import os, signal, sys
for number in (signal.SIGINT, signal.SIGQUIT): signal.signal(number, getattr(signal, sys.argv[1]))
os.execvp(sys.argv[2], sys.argv[2:])' "$@"
}

# wait_exit PID SECONDS: waits for the background job PID to end, for
# SECONDS at most; returns its exit status, or 124 when it still runs (then
# it is not waited for), so that a hang fails the test with its output
# instead of reaching CTest's time limit, which would kill it and the
# script's own cleanup with it.
wait_exit() {
  local deadline=$((SECONDS + $2)) status=0
  while running "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 124
    sleep 0.05
  done
  wait "$1" || status=$?
  return "$status"
}

# end_if_running PID: a script that a failed test left running in the
# background, ended as Ctrl-C would end it (SIGINT), and waited for; if it
# does not end within 15 s, SIGTERM, then after 5 s more SIGKILL, each said.
end_if_running() {
  [ -n "${1:-}" ] && running "$1" || return 0
  kill -INT "$1" 2>/dev/null || true
  wait_exit "$1" 15 && return 0
  [ $? = 124 ] || return 0
  echo "# $1 still ran 15 s after SIGINT: SIGTERM" >&3
  kill -TERM "$1" 2>/dev/null || true
  wait_exit "$1" 5 && return 0
  [ $? = 124 ] || return 0
  echo "# $1 still ran 5 s after SIGTERM: SIGKILL" >&3
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# own_tmpdir: TMPDIR (exported) and OUT, directories of this test's own, so
# that a script's temporary files, and "none is left", can be seen.
own_tmpdir() {
  export TMPDIR=$BATS_TEST_TMPDIR/tmp
  mkdir -p "$TMPDIR"
  OUT=$BATS_TEST_TMPDIR/out
}

# start_ct ARGS...: starts a container in the background; sets CT_PID (the runtime)
# and CT_OUT (its output file). Finish with finish_ct.
start_ct() {
  CT_OUT=$BATS_TEST_TMPDIR/ct.out
  # Not through ct(): $! must be the runtime itself, not a subshell around it.
  # As the user, setpriv execs the runtime: the same PID.
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "${NSLAB_RUNNER[@]}" "$NSLAB_PROGRAM" "${NSLAB_MARKS[@]}" "$@" > "$CT_OUT" 2>&1 &
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
#
# Tests run side by side (ctest -j): one makes it, or brings its programs up to
# date, while the others wait (flock), and a program is replaced by a rename,
# never rewritten in place, where another test may be running it.
nslab_rootfs() {
  local rootfs=$NSLAB_BUILD_DIR/test-rootfs
  (
    flock 9
    if [ ! -x "$rootfs/bin/busybox" ]; then
      rm -rf "$rootfs"
      "$NSLAB_SOURCE_DIR/scripts/make-rootfs.sh" "$rootfs" >/dev/null || exit 1
    fi
    # The chroot escape of lab 04's tests, and the probe: static, so they run there.
    for program in solutions/chroot-escape nslab-probe; do
      src=$NSLAB_BUILD_DIR/bin/$program dst=$rootfs/bin/${program##*/}
      [ -x "$src" ] || continue
      cmp -s "$src" "$dst" || { cp "$src" "$dst.new.$$" && mv -f "$dst.new.$$" "$dst"; } || exit 1
    done
  ) 9> "$NSLAB_BUILD_DIR/test-rootfs.lock" || return 1
  echo "$rootfs"
}

# --- the network (labs 05 and later) --------------------------------------------

# The host's link names, one a line, sorted (ip -o link: "4: nslab-42@if2: ...").
host_links() {
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}

# The host's addresses, one a line: link, family, address/prefix.
host_addrs() {
  ip -o addr show | awk '{ print $2, $3, $4 }' | sort
}

# Both, to compare before and after a run that must create nothing.
host_net_state() {
  echo "## links"
  host_links
  echo "## addresses"
  host_addrs
}

# remember_host_net: records the host's links and addresses (NET_BEFORE), for
# expect_host_net_unchanged.
remember_host_net() {
  NET_BEFORE=$(host_net_state)
}

# expect_host_net_unchanged SECTION: the host's links and addresses are what
# remember_host_net saw, right now — no waiting for the kernel.
expect_host_net_unchanged() {
  local now
  now=$(host_net_state)
  [ "$now" = "$NET_BEFORE" ] && return 0
  local changed hint=""
  changed=$(diff <(echo "$NET_BEFORE") <(echo "$now") | grep '^[<>]')
  # A link of nslab's the host has now and had not before: a host end left behind.
  ! grep -q '^> nslab-' <<< "$changed" || hint=veth-left
  explain "the host's links and addresses as before, at once; what changed (< before, > now): $(xargs <<< "$changed")" "$1" "$hint"
}

# The host end of the veth of the container whose first process the host numbers PID.
host_end_of() {
  echo "nslab-$1"
}

link_exists() {
  ip link show dev "$1" >/dev/null 2>&1
}

link_gone() {
  ! link_exists "$1"
}
