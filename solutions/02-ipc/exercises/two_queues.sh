#!/usr/bin/env bash
# Lab 02, exercise 1 "two containers, one key" — a solution.
#
#   two_queues.sh PATH/TO/02-ipc
#
# Container 1 makes a System V message queue (ipcmk -Q) and sleeps; while it
# runs, container 2 lists the queues it sees. Three lines: each container's
# ipc namespace and the number of queues it sees (container 1's counted from
# the host, with nsenter --ipc), then this shell's:
#
#   container 1: ipc:[4026532252], 1 queue(s)
#   container 2: ipc:[4026532254], 0 queue(s)
#   this shell:  ipc:[4026531839], 0 queue(s)
#
# Each clone(2) with CLONE_NEWIPC makes a namespace of its own: there is no
# one "container namespace" that containers share, and the same key in two
# of them names two different objects. Container 1 is ended before the script
# exits, on every path, and its queue goes with its namespace. Needs root.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: two_queues.sh PATH/TO/02-ipc" >&2
  exit 2
fi
RUNTIME=$1
[ -x "$RUNTIME" ] || { echo "two_queues.sh: $RUNTIME: not an executable file" >&2; exit 2; }

WORK=$(mktemp -d)
runtime=""
cleanup() {
  if [ -n "$runtime" ]; then
    kill -TERM "$runtime" 2>/dev/null || true
    wait "$runtime" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# queues: the number of message queues that `ipcs -q` (the command's) lists.
queues() {
  "$@" ipcs -q | grep -c '^0x' || true
}

# Container 1: the ready file says the queue exists (no mount namespace in
# lab 02: the container writes in the host's /tmp).
# shellcheck disable=SC2016  # expanded by the container's shell
"$RUNTIME" -- sh -c 'ipcmk -Q >/dev/null && : > "$1" && exec sleep 30' sh "$WORK/ready" &
runtime=$!
for ((tries = 0; tries < 100; tries++)); do
  [ -e "$WORK/ready" ] && break
  kill -0 "$runtime" 2>/dev/null || break
  sleep 0.05
done
[ -e "$WORK/ready" ] || { echo "two_queues.sh: container 1 did not make its queue" >&2; exit 1; }
first=""
read -r first _ < <(cat /proc/"$runtime"/task/*/children 2>/dev/null) || true
[ -n "$first" ] || { echo "two_queues.sh: container 1 has no process" >&2; exit 1; }
echo "container 1: $(readlink /proc/"$first"/ns/ipc), $(queues nsenter -t "$first" --ipc) queue(s)"

# Container 2, while container 1 runs.
# shellcheck disable=SC2016  # expanded by the container's shell
second=$("$RUNTIME" -- sh -c 'printf "%s, " "$(readlink /proc/self/ns/ipc)"; ipcs -q | grep -c "^0x" || true')
echo "container 2: $second queue(s)"
echo "this shell:  $(readlink /proc/$$/ns/ipc), $(queues) queue(s)"
