#!/usr/bin/env bash
# Lab 01, exercise 1 "two containers, two names" — a solution.
#
#   two_names.sh PATH/TO/01-uts
#
# Starts two containers at once, `01-uts --hostname red -- sleep 30` and the
# same with blue, and prints one line for this shell and one for each
# container's process: its PID, its uts and ipc namespaces (as readlink shows
# /proc/PID/ns/KIND) and its hostname, as the UTS namespace it is in answers
# (nsenter -u). Then, on a last line, how many different namespaces of each
# kind the three hold:
#
#   this shell  PID 4001  uts:[4026531838]  ipc:[4026531839]  hostname myhost
#   red         PID 4003  uts:[4026532251]  ipc:[4026531839]  hostname red
#   blue        PID 4006  uts:[4026532252]  ipc:[4026531839]  hostname blue
#   different namespaces: uts 3, ipc 1
#
# Every clone(2) with CLONE_NEWUTS makes a namespace of its own, so the two
# containers never share one, even under the same name; lab 01 makes no other
# kind, so the ipc column (and every other kind) stays the host's. The
# containers are ended before the script exits, on every path. Needs root.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: two_names.sh PATH/TO/01-uts" >&2
  exit 2
fi
RUNTIME=$1
[ -x "$RUNTIME" ] || { echo "two_names.sh: $RUNTIME: not an executable file" >&2; exit 2; }

RUNTIMES=()  # the 01-uts processes this script started, not yet waited for
cleanup() {
  local pid
  # SIGTERM: the runtime forwards it to sleep, which is not PID 1 here and dies.
  for pid in "${RUNTIMES[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${RUNTIMES[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# container_of RUNTIME_PID: the container's process, the runtime's first child.
container_of() {
  local first
  read -r first _ < <(cat /proc/"$1"/task/*/children 2>/dev/null) || true
  echo "${first:-}"
}

# start NAME: starts a container named NAME; prints its process's PID once
# its hostname is NAME (sethostname has run: the container is ready).
start() {
  local name=$1 runtime pid="" tries
  "$RUNTIME" --hostname "$name" -- sleep 30 &
  runtime=$!
  RUNTIMES+=("$runtime")
  for ((tries = 0; tries < 100; tries++)); do
    pid=$(container_of "$runtime")
    if [ -n "$pid" ] && [ "$(nsenter -t "$pid" -u hostname 2>/dev/null)" = "$name" ]; then
      START_PID=$pid
      return 0
    fi
    kill -0 "$runtime" 2>/dev/null || break
    sleep 0.05
  done
  echo "two_names.sh: the container named $name did not start" >&2
  exit 1
}

# show LABEL PID: one line of the table.
show() {
  printf '%-10s  PID %-6s  %s  %s  hostname %s\n' "$1" "$2" "$(readlink "/proc/$2/ns/uts")" \
    "$(readlink "/proc/$2/ns/ipc")" "$(nsenter -t "$2" -u hostname)"
}

start red
red=$START_PID
start blue
blue=$START_PID
show "this shell" $$
show red "$red"
show blue "$blue"
count() {
  local kind=$1
  for pid in $$ "$red" "$blue"; do readlink "/proc/$pid/ns/$kind"; done | sort -u | wc -l
}
echo "different namespaces: uts $(count uts), ipc $(count ipc)"
