#!/usr/bin/env bash
# Lab 06, exercise 4 "a container in a container" — a solution.
#
#   nested.sh PATH/TO/06-user
#
# Run as an ordinary user. Starts a rootless container (the outer one) whose
# COMMAND starts another with the same runtime (the inner one), and reads the
# inner container's uid_map from three places: inside the inner container,
# from the outer container, and from the host; and the outer container's
# from the host. Then a report, one "WHAT: VALUE" a line, the map lines as
# "IN OUT COUNT" with single blanks:
#
#   inner map, read inside the inner container: 0 0 1
#   inner map, read from the outer container: 0 0 1
#   inner map, read from the host: 0 65534 1
#   outer map, read from the host: 0 65534 1
#   user namespaces: host user:[…], outer user:[…], inner user:[…]
#
# One map, three readings: the kernel shows a map's second field in the
# reader's own user namespace, or, for a reader inside the namespace itself,
# in its parent's (user_namespaces(7)).
#
# Without --rootfs the containers share the host's files: the runtime, this
# script and its directory are at hand inside. The three levels wait for each
# other on named pipes that the host end holds open for reading and writing,
# so that no open blocks and every wait ends within 10 s.
#
# Exit status: 0 when every reading was made, 1 when a level failed, 2 for a
# wrong argument. (--outer and --inner are the script's own levels, run inside.)

set -euo pipefail

# --- inside: the two levels -------------------------------------------------------

# The inner container: its own view, then "ready", then it waits for "go".
if [ "${1:-}" = --inner ] && [ $# -eq 2 ]; then
  W=$2
  { readlink /proc/self/ns/user; awk '{ print $1, $2, $3 }' /proc/self/uid_map; } > "$W/inner"
  echo ready > "$W/inner-ready"
  read -r -t 10 _ < "$W/go"
  exit 0
fi

# The outer container: starts the inner one, reads its map once it is ready,
# says so, and waits for it.
if [ "${1:-}" = --outer ] && [ $# -eq 4 ]; then
  RUNTIME=$2 SELF=$3 W=$4
  "$RUNTIME" -- "$SELF" --inner "$W" &
  inner_runtime=$!
  read -r -t 10 _ < "$W/inner-ready" || { echo "nested.sh: the inner container did not start" >&2; exit 1; }
  # This /proc is the outer container's: PIDs as its PID namespace numbers them.
  # (The children file has no newline at its end: read then says EOF.)
  read -r inner _ < <(cat /proc/"$inner_runtime"/task/*/children) || true
  [ -n "${inner:-}" ] || { echo "nested.sh: the inner runtime has no child" >&2; exit 1; }
  { readlink /proc/self/ns/user; awk '{ print $1, $2, $3 }' /proc/"$inner"/uid_map; } > "$W/outer"
  echo ready > "$W/outer-ready"
  wait "$inner_runtime"
  exit
fi

# --- the host ------------------------------------------------------------------

if [ $# -ne 1 ] || [[ $1 == --* ]]; then
  echo "Usage: nested.sh PATH/TO/06-user" >&2
  exit 2
fi
if ! RUNTIME=$(realpath -e -- "$1" 2>/dev/null) || [ ! -x "$RUNTIME" ]; then
  echo "nested.sh: $1: not an executable file" >&2
  exit 2
fi
SELF=$(realpath -- "$0")

W=$(mktemp -d)
OUTER=""
cleanup() {
  # SIGKILL to the outer runtime ends both containers: each PID 1 dies with
  # its runtime (PR_SET_PDEATHSIG), and the inner runtime is in the outer one.
  if [ -n "$OUTER" ]; then
    kill -KILL "$OUTER" 2>/dev/null || true
    wait "$OUTER" 2>/dev/null || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$W/inner-ready" "$W/outer-ready" "$W/go"
exec 4<>"$W/inner-ready" 5<>"$W/outer-ready" 6<>"$W/go"

# first_child PID: the first child of PID, as this /proc numbers it.
first_child() {
  local child
  read -r child _ < <(cat /proc/"$1"/task/*/children 2>/dev/null) || true
  [ -n "${child:-}" ] && echo "$child"
}

"$RUNTIME" -- "$SELF" --outer "$RUNTIME" "$SELF" "$W" &
OUTER=$!
read -r -t 10 -u 5 _ || { echo "nested.sh: the outer container did not read the inner map" >&2; exit 1; }

# From the host, one process a step: the outer runtime, its child (the outer
# container's first process, this script's --outer level), its child (the
# inner runtime), its child (the inner container).
if ! outer=$(first_child "$OUTER") || ! inner_runtime=$(first_child "$outer") || ! inner=$(first_child "$inner_runtime"); then
  echo "nested.sh: the inner container is not where it should be under runtime $OUTER" >&2
  exit 1
fi
inner_from_host=$(awk '{ print $1, $2, $3 }' /proc/"$inner"/uid_map)
outer_from_host=$(awk '{ print $1, $2, $3 }' /proc/"$outer"/uid_map)
host_ns=$(readlink /proc/self/ns/user)

echo go >&6
status=0
wait "$OUTER" || status=$?
OUTER=""
[ "$status" -eq 0 ] || { echo "nested.sh: the outer container failed (exit status $status)" >&2; exit 1; }

echo "inner map, read inside the inner container: $(sed -n 2p "$W/inner")"
echo "inner map, read from the outer container: $(sed -n 2p "$W/outer")"
echo "inner map, read from the host: $inner_from_host"
echo "outer map, read from the host: $outer_from_host"
echo "user namespaces: host $host_ns, outer $(sed -n 1p "$W/outer"), inner $(sed -n 1p "$W/inner")"
