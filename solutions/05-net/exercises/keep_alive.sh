#!/usr/bin/env bash
# Lab 05, exercise 3 "keep a network namespace alive" — a solution.
#
#   keep_alive.sh PATH/TO/05-net
#
# Shows, in two runs, what holds a container's network namespace — and with it
# the veth pair — once nothing of the container runs any more:
#
#   1. A container with --veth runs sleep; this script opens a descriptor on
#      its /proc/PID/ns/net (fd 8), then SIGKILLs the runtime, which therefore
#      cannot tear down. The container dies with its runtime, but its network
#      namespace stays, held by fd 8: the host end stays on the host, up and
#      addressed, and the container's eth0 is still there, seen through fd 8.
#      Once fd 8 is closed, the kernel dismantles the namespace and the pair
#      goes, a moment later (PITFALLS 7: asynchronously).
#   2. The same, but the container ends by itself while fd 8 is held: the
#      runtime tears down, deletes the host end, and the pair with it; the
#      namespace, still held, keeps nothing but lo.
#
# Each step is printed as you would type it ("    $ " before a command), and
# what it saw, "    => ...". Then a report, one "WHAT: VALUE" a line, which
# the tests read:
#
#   container after the kill: gone                 (or: running)
#   host end after the kill: UP 10.200.73.1/24     (a second later; or: gone)
#   held namespace after the kill: lo 127.0.0.1/8, eth0 10.200.73.2/24
#   host end after the close: gone                 (within 10 s; or: STATE ADDRESS)
#   host end after a normal end: gone              (or: STATE ADDRESS)
#   held namespace after a normal end: lo 127.0.0.1/8
#
# A link is "gone" or its state and address as `ip -br -4 address` shows them;
# a namespace, its links with their addresses, in ip's order, without the
# "@ifN" of a veth's name.
#
# Exit status: 0 when it could look at everything (whatever it saw), 1 when a
# step failed, 2 for a wrong argument.
# It needs root (--veth needs CAP_NET_ADMIN) and removes what it made on every
# path. The subnets are 10.200.73.0/24 and 10.200.74.0/24, which the host must
# not use. To keep the host's own network out of it, run it in a throw-away
# network namespace:   sudo unshare --net keep_alive.sh build/bin/solutions/05-net

set -euo pipefail

if [ $# -ne 1 ]; then
  echo "Usage: keep_alive.sh PATH/TO/05-net" >&2
  exit 2
fi
RUNTIME=$1
[ -x "$RUNTIME" ] || { echo "keep_alive.sh: $RUNTIME: not an executable file" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "keep_alive.sh: needs root: --veth creates a link on the host, which needs CAP_NET_ADMIN" >&2
  exit 2
fi

step() { printf '\n==> %s\n' "$*"; }
REPORT=()
# saw WHAT VALUE: an observation, printed now and kept for the report.
saw() {
  printf '    => %s: %s\n' "$1" "$2"
  REPORT+=("$1: $2")
}
show() { printf '    $ %s\n' "$*"; }

WORK=$(mktemp -d)
RUNTIME_PID=""  # the runtime not yet waited for
HOST_END=""     # the host end of the pair this run made, while it may exist

cleanup() {
  exec 8<&- 2>/dev/null || true
  if [ -n "$RUNTIME_PID" ]; then
    kill -KILL "$RUNTIME_PID" 2>/dev/null || true
    wait "$RUNTIME_PID" 2>/dev/null || true
  fi
  # Ours: the script made it, through the runtime, and nothing else may have
  # its name while the namespace it links to is held (closed just above).
  [ -z "$HOST_END" ] || ip link del "$HOST_END" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# poll SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails
# after SECONDS.
poll() {
  local tries=$(($1 * 10))
  shift
  for ((; tries > 0; tries--)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
link_gone() { ! link_exists "$1"; }
process_gone() {
  local state
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

# start_container CIDRS COMMAND...: a container with --veth CIDRS whose
# COMMAND first says "ready" on the pipe $WORK/ready (its network is there by
# then: the runtime sets it up before COMMAND runs). Sets RUNTIME_PID and C,
# the container's first process as the host numbers it, and HOST_END.
start_container() {
  local cidrs=$1 line
  shift
  rm -f "$WORK/ready"
  mkfifo "$WORK/ready"
  exec 5<>"$WORK/ready"  # read-write: opening it never blocks, whoever is gone
  # shellcheck disable=SC2016  # expanded by the container's shell
  "$RUNTIME" --veth "$cidrs" -- sh -c 'echo ready > "$1"; shift; exec "$@"' sh "$WORK/ready" "$@" &
  RUNTIME_PID=$!
  read -r -t 10 -u 5 line || line=""
  exec 5<&-
  [ "$line" = ready ] || { echo "keep_alive.sh: the container with --veth $cidrs did not start" >&2; exit 1; }
  read -r C _ < <(cat /proc/"$RUNTIME_PID"/task/*/children 2>/dev/null) || true
  [ -n "${C:-}" ] || { echo "keep_alive.sh: the runtime $RUNTIME_PID has no child" >&2; exit 1; }
  HOST_END=nslab-$C
}

# link_seen LINK: "gone", or LINK's state and address ("UP 10.200.73.1/24").
link_seen() {
  local seen
  seen=$(ip -br -4 address show dev "$1" 2>/dev/null | awk '{ print $2, $3 }') || true
  echo "${seen:-gone}"
}

# held_namespace: the links of the namespace fd 8 holds, with their addresses,
# "lo 127.0.0.1/8, eth0 10.200.73.2/24" (nsenter inherits fd 8 and enters
# through it).
held_namespace() {
  nsenter --net=/proc/self/fd/8 ip -br -4 address | awk '{ sub(/@.*/, "", $1); printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $3 } END { print "" }'
}

# started CIDRS: what the host sees of the container just started.
started() {
  printf '    runtime %s, container %s, %s, host end %s: %s\n' "$RUNTIME_PID" "$C" \
    "$(readlink /proc/"$C"/ns/net)" "$HOST_END" "$(link_seen "$HOST_END")"
}

# --- 1. the runtime SIGKILLed ---------------------------------------------------

step "A container with --veth 10.200.73.1/24,10.200.73.2/24 that runs sleep 30"
start_container 10.200.73.1/24,10.200.73.2/24 sleep 30
started
show "exec 8</proc/$C/ns/net"
exec 8<"/proc/$C/ns/net"

step "SIGKILL to the runtime: it cannot tear down"
show "kill -KILL $RUNTIME_PID"
kill -KILL "$RUNTIME_PID"
{ wait "$RUNTIME_PID"; } 2>/dev/null || true  # (bash reports a killed job on its own stderr)
RUNTIME_PID=""
# Its child dies with it (PR_SET_PDEATHSIG), and the rest of the container
# with the child, its PID 1.
if poll 5 process_gone "$C"; then saw "container after the kill" gone; else saw "container after the kill" running; fi
# A second later, and gone at no look in between: held, not merely slow.
poll 1 link_gone "$HOST_END" || true
saw "host end after the kill" "$(link_seen "$HOST_END")"
show "nsenter --net=/proc/self/fd/8 ip -br -4 address"
saw "held namespace after the kill" "$(held_namespace)"

step "fd 8 closed: nothing holds the namespace any more"
show "exec 8<&-"
exec 8<&-
poll 10 link_gone "$HOST_END" || true
saw "host end after the close" "$(link_seen "$HOST_END")"
# Still there 10 s later would be a kernel's oddity: not left for the host.
ip link del "$HOST_END" 2>/dev/null || true

# --- 2. the container ends by itself --------------------------------------------

step "Again with 10.200.74.1/24,10.200.74.2/24, but the container ends by itself while fd 8 is held"
rm -f "$WORK/end"
mkfifo "$WORK/end"
exec 6<>"$WORK/end"
# shellcheck disable=SC2016  # expanded by the container's shell
start_container 10.200.74.1/24,10.200.74.2/24 sh -c 'read -r end < "$1"' sh "$WORK/end"
started
show "exec 8</proc/$C/ns/net"
exec 8<"/proc/$C/ns/net"
echo end >&6  # COMMAND reads it and exits: the runtime tears down
status=0
wait "$RUNTIME_PID" || status=$?
RUNTIME_PID=""
exec 6<&-
printf '    the runtime returned, exit status %s\n' "$status"
[ "$status" -eq 0 ] || { echo "keep_alive.sh: the second container failed (exit status $status)" >&2; exit 1; }
saw "host end after a normal end" "$(link_seen "$HOST_END")"
show "nsenter --net=/proc/self/fd/8 ip -br -4 address"
saw "held namespace after a normal end" "$(held_namespace)"
show "exec 8<&-"
exec 8<&-

step "What was seen"
printf '%s\n' "${REPORT[@]}"
