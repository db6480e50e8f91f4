#!/usr/bin/env bash
# Lab 03, exercise 1 "give PID 1 a handler" — a solution.
#
#   pid1_sigterm.sh PATH/TO/03-pid
#
# Runs two COMMANDs under 03-pid (without --init), side by side: `sleep 30`,
# and a shell that traps SIGTERM (it prints a line and exits 5) and loops on
# `sleep 1`. Each gets one SIGTERM through its runtime once it has started;
# if it is still running 1.5 seconds later, a second one. One line per
# COMMAND: its exit status, the number of SIGTERMs it took, and how long after
# the first one it ended, in tenths of a second:
#
#   sleep: exit status 137 after 2 SIGTERM(s), 1.6 s
#   trap: exit status 5 after 1 SIGTERM(s), 0.7 s
#
# As PID 1 of its namespace, a process gets from its own namespace only the
# signals it has a handler for (pid_namespaces(7)): sleep has none and never
# sees the first SIGTERM; the runtime turns the second into SIGKILL (128+9).
# The shell's trap is a handler: one SIGTERM is enough, and its status is the
# trap's. The shell runs the trap only once its foreground command, the
# current `sleep 1`, has ended: up to a second. Needs root.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: pid1_sigterm.sh PATH/TO/03-pid" >&2
  exit 2
fi
RUNTIME_PROGRAM=$1
[ -x "$RUNTIME_PROGRAM" ] || { echo "pid1_sigterm.sh: $RUNTIME_PROGRAM: not an executable file" >&2; exit 2; }

WORK=$(mktemp -d)
declare -A RUNTIME ENDED SIGNALS  # by command's name: its runtime's PID, when it ended, SIGTERMs sent
cleanup() {
  local pid
  for pid in "${RUNTIME[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true  # its container dies with it (PR_SET_PDEATHSIG)
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# running PID: PID has not ended (a zombie, state Z, has: only wait is left).
running() {
  local state
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

# start NAME SCRIPT: runs `sh -c SCRIPT READY-FILE` under the runtime; the
# script creates READY-FILE once it is set up (lab 03 has no mount namespace:
# it writes in the host's /tmp), so that no SIGTERM comes before its trap.
start() {
  "$RUNTIME_PROGRAM" -- sh -c "$2" sh "$WORK/$1.ready" > "$WORK/$1.out" &
  RUNTIME[$1]=$!
}

# The two run side by side: the test of one does not wait for the other.
# shellcheck disable=SC2016  # expanded by the container's shell
start sleep ': > "$1"; exec sleep 30'
# shellcheck disable=SC2016
start trap 'trap "echo PID 1 got SIGTERM; exit 5" TERM; : > "$1"; while :; do sleep 1; done'
for name in sleep trap; do
  for ((tries = 0; tries < 100; tries++)); do
    [ -e "$WORK/$name.ready" ] && break
    running "${RUNTIME[$name]}" || break
    sleep 0.05
  done
  [ -e "$WORK/$name.ready" ] || { echo "pid1_sigterm.sh: $name did not start" >&2; exit 1; }
done

first=$(now_ms)
for name in sleep trap; do
  kill -TERM "${RUNTIME[$name]}"
  SIGNALS[$name]=1
done
# Until both have ended: a second SIGTERM to what still runs 1.5 s after the first.
ended=0
while [ "$ended" -lt 2 ]; do
  for name in sleep trap; do
    [ -z "${ENDED[$name]:-}" ] || continue
    if ! running "${RUNTIME[$name]}"; then
      ENDED[$name]=$(now_ms)
      ended=$((ended + 1))
    elif [ "${SIGNALS[$name]}" = 1 ] && [ $(($(now_ms) - first)) -ge 1500 ]; then
      kill -TERM "${RUNTIME[$name]}"
      SIGNALS[$name]=2
    elif [ $(($(now_ms) - first)) -ge 10000 ]; then
      echo "pid1_sigterm.sh: $name did not end after ${SIGNALS[$name]} SIGTERM(s)" >&2
      exit 1
    fi
  done
  sleep 0.05
done

for name in sleep trap; do
  status=0
  wait "${RUNTIME[$name]}" || status=$?
  unset "RUNTIME[$name]"
  tenths=$(((ENDED[$name] - first) / 100))
  echo "$name: exit status $status after ${SIGNALS[$name]} SIGTERM(s), $((tenths / 10)).$((tenths % 10)) s"
done
