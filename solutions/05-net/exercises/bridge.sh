#!/usr/bin/env bash
# Lab 05, exercise "two containers on one host bridge reach each other" — a solution.
#
#   bridge.sh PATH/TO/05-net PATH/TO/tcp-probe
#
# Two containers started with plain 05-net (no --veth) have nothing but lo.
# From the host, with ip(8) only, this script wires them to one bridge — a
# virtual switch — the way a container engine's default network does it:
#
#        container 1                                   container 2
#   eth0 10.200.50.2/24                           eth0 10.200.50.3/24
#          |  veth pair                     veth pair  |
#     nslab-br0-p1 ---- nslab-br0 10.200.50.1/24 ---- nslab-br0-p2      (the host)
#
# Then a TCP server in container 2 (tcp-probe serve) answers a client in
# container 1 (tcp-probe connect): the script ends with the line the server sent.
#
# It needs root (CAP_NET_ADMIN) and removes everything it made on every path.
# To leave the host's own network untouched even so, run it in a throw-away
# network namespace:   sudo unshare --net bridge.sh build/bin/solutions/05-net build/bin/tests/tcp-probe

set -euo pipefail

if [ $# -ne 2 ]; then
  echo "Usage: bridge.sh PATH/TO/05-net PATH/TO/tcp-probe" >&2
  exit 2
fi
RUNTIME=$1
TCP_PROBE=$2
for program in "$RUNTIME" "$TCP_PROBE"; do
  [ -x "$program" ] || { echo "bridge.sh: $program: not an executable file" >&2; exit 2; }
done
if [ "$(id -u)" != 0 ]; then
  echo "bridge.sh: needs root: creating links and moving them between namespaces needs CAP_NET_ADMIN" >&2
  exit 2
fi

BRIDGE=nslab-br0
BRIDGE_CIDR=10.200.50.1/24
SERVER_ADDR=10.200.50.3
PORT=7000

# step TEXT: says what comes next. run COMMAND...: shows COMMAND, then runs it.
step() { printf '\n==> %s\n' "$*"; }
run() {
  printf '    $ %s\n' "$*"
  "$@"
}

# What this run made, so that cleanup removes exactly that and nothing else
# (a bridge of the same name made by someone else is not ours to delete).
LINKS=()     # links made in this (the host's) network namespace
RUNTIMES=()  # the 05-net processes not yet waited for
WORK=$(mktemp -d)

cleanup() {
  local i pid
  # Newest first: the veth pairs, then the bridge. Deleting one end of a veth
  # pair deletes the pair, wherever the other end is.
  for ((i = ${#LINKS[@]} - 1; i >= 0; i--)); do ip link del "${LINKS[i]}" 2>/dev/null || true; done
  # A runtime still running here means something failed: SIGKILL it. Its
  # container's PID 1 dies with it (PR_SET_PDEATHSIG), and every process of the
  # container with PID 1. Without --veth the runtime has nothing to tear down.
  for pid in "${RUNTIMES[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# container_of RUNTIME_PID: the container's first process, the runtime's child.
container_of() {
  local first
  read -r first _ < <(cat /proc/"$1"/task/*/children 2>/dev/null) || true
  echo "${first:-}"
}

# wait_for_container RUNTIME_PID: waits (at most 5 s) for the runtime's child.
wait_for_container() {
  local pid
  for _ in $(seq 100); do
    pid=$(container_of "$1")
    [ -n "$pid" ] && { echo "$pid"; return 0; }
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  echo "bridge.sh: the container of runtime $1 did not start" >&2
  return 1
}

# finished RUNTIME_PID: waits for a runtime and forgets it; returns its status.
finished() {
  local status=0
  wait "$1" || status=$?
  local pid kept=()
  for pid in "${RUNTIMES[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  RUNTIMES=("${kept[@]}")
  return "$status"
}

# Each container's shell waits for "go" on a named pipe before it runs
# tcp-probe, so that nothing talks before the network is there. The script
# holds each pipe open read-write: writing "go" then never blocks, even if the
# container has died, and the container's open for reading does not wait.
mkfifo "$WORK/go1" "$WORK/go2" "$WORK/server.out"
exec 5<>"$WORK/go1" 6<>"$WORK/go2"

step "Two containers with their own network namespace and nothing in it but lo"
# The container's shell gets $1 the pipe to wait on, $2 tcp-probe, $3... its arguments.
# shellcheck disable=SC2016  # expanded by the container's shell, not this one
WAIT_THEN_PROBE='read -r go < "$1" && exec "$2" "$3" "$4" "$5" "$6"'
echo "    container 1 will run: tcp-probe connect $SERVER_ADDR $PORT 'hello from container 1'"
"$RUNTIME" -- sh -c "$WAIT_THEN_PROBE" sh "$WORK/go1" "$TCP_PROBE" connect "$SERVER_ADDR" "$PORT" "hello from container 1" \
  > "$WORK/client.out" 2>&1 &
RUNTIME1=$!
RUNTIMES+=("$RUNTIME1")
echo "    container 2 will run: tcp-probe serve $SERVER_ADDR $PORT 'hello from container 2'"
"$RUNTIME" -- sh -c "$WAIT_THEN_PROBE" sh "$WORK/go2" "$TCP_PROBE" serve "$SERVER_ADDR" "$PORT" "hello from container 2" \
  > "$WORK/server.out" 2>&1 &
RUNTIME2=$!
RUNTIMES+=("$RUNTIME2")
exec 4<"$WORK/server.out"  # the server's output, line by line, as it comes

step "Their PIDs as the host sees them (each runtime's child)"
PID1=$(wait_for_container "$RUNTIME1")
PID2=$(wait_for_container "$RUNTIME2")
echo "    container 1: PID $PID1, $(readlink /proc/"$PID1"/ns/net)"
echo "    container 2: PID $PID2, $(readlink /proc/"$PID2"/ns/net)"
echo "    the host:            $(readlink /proc/$$/ns/net)"
run nsenter --target "$PID1" --net ip -o link

step "A bridge on the host, with an address of its own"
run ip link add name "$BRIDGE" type bridge
LINKS+=("$BRIDGE")
run ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
run ip link set "$BRIDGE" up

# connect N PID ADDRESS: a veth pair for container N; the host end goes on the
# bridge, the other end into the container's network namespace, as eth0.
connect() {
  local n=$1 pid=$2 cidr=$3 port=$BRIDGE-p$1 peer=nslab-ct$1
  step "Container $n: a veth pair, $port on the bridge, $peer into PID $pid as eth0 $cidr"
  run ip link add "$port" type veth peer name "$peer"
  LINKS+=("$port")  # deleting one end deletes the pair, wherever the other end is
  run ip link set "$port" master "$BRIDGE"
  run ip link set "$port" up
  run ip link set "$peer" netns "$pid"  # gone from the host's list of links
  run nsenter --target "$pid" --net ip link set "$peer" name eth0
  run nsenter --target "$pid" --net ip addr add "$cidr" dev eth0
  run nsenter --target "$pid" --net ip link set eth0 up
}
connect 1 "$PID1" 10.200.50.2/24
connect 2 "$PID2" 10.200.50.3/24

step "What the host and the containers now see"
run ip -o link show master "$BRIDGE"
run nsenter --target "$PID1" --net ip -o -4 addr show
run nsenter --target "$PID2" --net ip -o -4 addr show

step "Container 2 serves on $SERVER_ADDR:$PORT"
echo go >&6
read -r -t 15 -u 4 line || line="(nothing)"
echo "    container 2: $line"
if [ "$line" != listening ]; then
  echo "bridge.sh: the server in container 2 did not start listening" >&2
  exit 1
fi

step "Container 1 connects to $SERVER_ADDR:$PORT, through its eth0, the bridge and container 2's eth0"
echo go >&5
client_status=0
finished "$RUNTIME1" || client_status=$?
read -r -t 15 -u 4 received || received="(nothing)"
echo "    container 2 received: $received"
reply=$(cat "$WORK/client.out")
if [ "$client_status" -ne 0 ]; then
  echo "bridge.sh: the client in container 1 failed (exit $client_status): $reply" >&2
  exit 1
fi
server_status=0
finished "$RUNTIME2" || server_status=$?
if [ "$server_status" -ne 0 ]; then
  echo "bridge.sh: the server in container 2 failed (exit $server_status)" >&2
  exit 1
fi

step "Cleaning up: the veth pairs and the bridge (the containers have ended)"
# A pair whose container has ended is removed by the kernel with the
# container's network namespace, but later, asynchronously (PITFALLS 7): it is
# deleted here, so that it is gone when the script ends.
for ((i = ${#LINKS[@]} - 1; i >= 0; i--)); do
  printf '    $ ip link del %s\n' "${LINKS[i]}"
  ip link del "${LINKS[i]}" 2>/dev/null || echo "      (already gone)"
done
LINKS=()

step "Container 1 received from container 2:"
echo "$reply"
