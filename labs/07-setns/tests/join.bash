# Helpers shared by lab 07's tests (setns.bats, rootless.bats, interop.bats):
# a container of this lab to join, and the joins themselves.

# A shell command that prints its own namespaces, as namespaces_of prints a PID's.
OWN_NAMESPACES='for entry in /proc/self/ns/*; do echo "${entry##*/} $(readlink "$entry")"; done'

# True when PID runs sleep (COMMAND has reached its last step).
runs_sleep() {
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ]
}

# start_target OPTIONS... -- COMMAND...: a container of this lab to join, in the
# background, with --pid-file; COMMAND must end by exec'ing sleep. Returns once
# it runs sleep; sets TARGET, the container's first process as the host numbers
# it (what the pid file holds). As PID 1, sleep ignores SIGTERM: stop_target.
start_target() {
  start_ct --pid-file "$PID_FILE" "$@"
  wait_for 5 test -s "$PID_FILE" || { cat "$CT_OUT" >&2; return 1; }
  TARGET=$(cat "$PID_FILE")
  wait_for 5 runs_sleep "$TARGET" || { cat "$CT_OUT" >&2; return 1; }
}

# stop_target: SIGKILL to the target's first process; its runtime returns 128+9.
stop_target() {
  kill -KILL "$TARGET"
  finish_ct
  expect "the target's runtime returns 128+9 once its first process is killed" "$DOC" -- [ "$status" -eq 137 ]
}

# ct_enter PID ARGS...: the program with --enter PID ARGS. Not through ct():
# the --env that ct() adds for the host guard is refused when joining; COMMAND
# keeps the caller's environment, and with it the guard's mark.
ct_enter() {
  local pid=$1
  shift
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "${NSLAB_RUNNER[@]}" "$NSLAB_PROGRAM" --enter "$pid" "$@"
}

# start_join PID ARGS...: ct_enter in the background; sets JOIN_PID (the
# joining runtime) and JOIN_OUT (its output). Finish with finish_join.
start_join() {
  JOIN_OUT=$BATS_TEST_TMPDIR/join.out
  local pid=$1
  shift
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "${NSLAB_RUNNER[@]}" "$NSLAB_PROGRAM" --enter "$pid" "$@" > "$JOIN_OUT" 2>&1 3>&- &
  JOIN_PID=$!
}

# end_started PID...: SIGKILL each of these processes this test started (a
# runtime, a server) that still runs, and reap it; empty arguments are skipped.
end_started() {
  local pid
  for pid in "$@"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true  # ours: started by this test
      wait "$pid" 2>/dev/null || true
    fi
  done
}

# finish_join [SECONDS]: waits for the joining runtime; sets status and output.
finish_join() {
  if ! wait_for "${1:-10}" nslab_not_running "$JOIN_PID"; then
    kill -KILL "$JOIN_PID" 2>/dev/null || true
    wait "$JOIN_PID" 2>/dev/null || true
    echo "the joining runtime did not end within ${1:-10}s" >&2
    return 1
  fi
  status=0
  wait "$JOIN_PID" || status=$?
  output=$(cat "$JOIN_OUT")
  JOIN_PID=""
}

# The one process of the target's PID namespace whose command line is exactly
# PATTERN (pgrep -f, anchored): a joined COMMAND, found by a unique argument.
only_process() {
  local found
  found=$(pgrep --ns "$TARGET" --nslist pid -f "^$1\$") || return 1
  [ "$(wc -w <<< "$found")" -eq 1 ] && echo "$found"
}

no_process() {
  ! pgrep --ns "$TARGET" --nslist pid -f "^$1\$" >/dev/null
}

# enter_hint TARGET: the mistake that what a joined COMMAND reported ($output,
# REPORT's lines; $stderr) is the sign of, as the ID of its hint
# (common/bats/hints.txt): what the runtime's own words name (hint_from_output,
# e.g. a namespace file that could not be opened once another namespace was
# joined); a COMMAND with a PID above 1 that the
# container's /proc does not list (it is not in the PID namespace joined); a
# user namespace other than the target's.
enter_hint() {
  local user said
  user=$(grep -m1 '^user ' <<< "$output")
  said=$(hint_from_output)
  if [ -n "$said" ]; then
    echo "$said"
  elif grep -qx pid-above-1 <<< "$output" && ! grep -qx pid-in-proc <<< "$output"; then
    echo no-fork-after-setns
  elif [ -n "$user" ] && [ "$user" != "$(namespaces_of "$1" | grep -m1 '^user ')" ]; then
    echo user-not-joined
  fi
}

# The namespaces of PID as the host sees them: one "ENTRY LINK" line per entry of /proc/PID/ns.
namespaces_of() {
  local entry
  for entry in /proc/"$1"/ns/*; do echo "${entry##*/} $(readlink "$entry")"; done
}

# lacks TEXT REGEX: no line of TEXT matches REGEX (grep -E).
lacks() {
  ! grep -qE -- "$2" <<< "$1"
}

# join_everywhere MARK: joins TARGET with a COMMAND that prints its own
# namespaces, then runs `sleep MARK` (a number no other process sleeps), and
# expects it in every namespace of TARGET, seen from inside and from the host
# (new: the file's NEW_KINDS; the host's: cgroup). Sets JOINED, its PID.
join_everywhere() {
  local pattern="sleep ${1//./\\.}" target_namespaces
  start_join "$TARGET" -- sh -c "$OWN_NAMESPACES; exec sleep $1"
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 only_process "$pattern"
  JOINED=$(only_process "$pattern")
  target_namespaces=$(namespaces_of "$TARGET")
  expect "from inside, every entry of the joined COMMAND's /proc/self/ns is the target's" "$DOC#lab07-open" -- \
    [ "$(cat "$JOIN_OUT")" = "$target_namespaces" ]
  expect "from the host, every entry of /proc/$JOINED/ns is /proc/$TARGET/ns's" "$DOC#lab07-open" -- \
    [ "$(namespaces_of "$JOINED")" = "$target_namespaces" ]
  expect_namespaces "$JOINED" "$DOC#lab07-open" "$NEW_KINDS" cgroup
}
