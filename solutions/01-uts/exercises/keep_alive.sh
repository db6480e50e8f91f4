#!/usr/bin/env bash
# Lab 01, exercise 2 "keep a namespace alive" — a solution.
#
#   keep_alive.sh PATH/TO/01-uts
#
# Starts `01-uts --hostname box -- sleep 30`, opens the container's
# /proc/PID/ns/uts as descriptor 3 of this shell, ends the container, and then
# enters the namespace twice: by the path, which went with the process, and by
# the descriptor, which still holds the namespace. Three lines:
#
#   container: PID 4003, uts:[4026532251], hostname box
#   after it ended, by /proc/4003/ns/uts: gone
#   after it ended, by fd 3: uts:[4026532251], hostname box
#
# A namespace lives as long as something refers to it: a process, an open
# descriptor on one of its /proc/PID/ns files, or a bind mount of one
# (namespaces(7)). When this script closes fd 3 (at the end, on every path),
# the last reference is gone and the kernel frees the namespace. Needs root.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: keep_alive.sh PATH/TO/01-uts" >&2
  exit 2
fi
RUNTIME=$1
[ -x "$RUNTIME" ] || { echo "keep_alive.sh: $RUNTIME: not an executable file" >&2; exit 2; }

runtime=""
cleanup() {
  exec 3<&- 2>/dev/null || true  # the last reference: the namespace goes with it
  if [ -n "$runtime" ]; then
    kill -TERM "$runtime" 2>/dev/null || true
    wait "$runtime" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$RUNTIME" --hostname box -- sleep 30 &
runtime=$!
# The container's process (the runtime's first child), once it is named box.
pid=""
for ((tries = 0; tries < 100; tries++)); do
  read -r pid _ < <(cat /proc/"$runtime"/task/*/children 2>/dev/null) || true
  [ -n "$pid" ] && [ "$(nsenter -t "$pid" -u hostname 2>/dev/null)" = box ] && break
  pid=""
  kill -0 "$runtime" 2>/dev/null || break
  sleep 0.05
done
[ -n "$pid" ] || { echo "keep_alive.sh: the container did not start" >&2; exit 1; }
echo "container: PID $pid, $(readlink /proc/"$pid"/ns/uts), hostname $(nsenter -t "$pid" -u hostname)"

exec 3< "/proc/$pid/ns/uts"
# End the container: the runtime forwards SIGTERM to sleep, and both end.
kill -TERM "$runtime"
wait "$runtime" || true
runtime=""

if by_path=$(nsenter --uts="/proc/$pid/ns/uts" hostname 2>/dev/null); then
  echo "after it ended, by /proc/$pid/ns/uts: hostname $by_path"
else
  echo "after it ended, by /proc/$pid/ns/uts: gone"
fi
echo "after it ended, by fd 3: $(readlink /proc/self/fd/3), hostname $(nsenter --uts=/proc/self/fd/3 hostname)"
