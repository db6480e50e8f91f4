#!/usr/bin/env bash
# A narrated classroom tour of the finished labs: each step runs the same
# question on the host and in a container, and shows the answers side by side.
#
#   sudo scripts/demo.sh            pauses between steps when run in a terminal
#   sudo scripts/demo.sh --no-pause
#
# It builds first if needed, and runs as root: labs 01-05 need it to create their
# namespaces. Lab 06 needs no root, so the tour runs it as the user nobody (uid
# 65534). Everything it creates (an IPC queue, a temporary root filesystem, a
# directory to mount on, a veth pair and the servers on its two ends, nobody's
# files) is removed at the end, on Ctrl-C too: the host's links and addresses are
# left as they were.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/bin/solutions
pause=1
[ "${1:-}" = --no-pause ] && pause=0
[ -t 0 ] && [ -t 1 ] || pause=0

if [ "$(id -u)" != 0 ]; then
  echo "demo: labs 01-05 need root to create namespaces (lab 06 does not): sudo scripts/demo.sh" >&2
  exit 125
fi
if [ ! -x "$bin/06-user" ] || [ ! -x "$top/build/bin/tests/forgetful-uts" ] || [ ! -x "$top/build/bin/tests/tcp-probe" ]; then
  echo "demo: building nslab first ..."
  (cd "$top" && bash scripts/setup.sh >/dev/null && cmake --preset default >/dev/null &&
     cmake --build --preset default -j"$(nproc)" >/dev/null)
fi

# So that the commands read as a student would type them (tcp-probe: lab 05).
export PATH=$bin:$top/build/bin/tests:$PATH
work=$(mktemp -d /tmp/nslab-demo.XXXXXX)
chmod 755 "$work"  # lab 06 runs as nobody, who must reach a directory in here
queue="" net_runtime="" server="" host_end=""
running() { jobs -pr | grep -qx "$1"; }  # PID: a background job of ours, still running
cleanup() {
  set +e
  [ -n "$queue" ] && ipcrm -q "$queue" 2>/dev/null
  # Lab 05, if interrupted: the host's server, then the container. Its PID 1, a
  # shell, acts on SIGTERM only once its command is done (tcp-probe may wait
  # 10 s); to a second SIGTERM the runtime answers with SIGKILL, and either way
  # it deletes the host end of the veth itself. Each is signalled only while it
  # runs: once reaped, its PID may be another process's.
  if [ -n "$server" ] && running "$server"; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi
  if [ -n "$net_runtime" ] && running "$net_runtime"; then
    kill -TERM "$net_runtime" 2>/dev/null; sleep 0.5
    running "$net_runtime" && kill -TERM "$net_runtime" 2>/dev/null
    wait "$net_runtime" 2>/dev/null
  fi
  # Should the host end outlive its runtime all the same, it goes too.
  if [ -n "$host_end" ] && ip link show "$host_end" >/dev/null 2>&1; then
    sleep 1; ip link del "$host_end" 2>/dev/null
  fi
  rm -rf "$work"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' cyan=$'\e[36m' reset=$'\e[0m'; else bold="" dim="" cyan="" reset=""; fi
width=$(( $(tput cols 2>/dev/null || echo 100) ))
[ "$width" -ge 80 ] || width=80
half=$(( width / 2 - 2 ))

title() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$reset"; }
# The colour goes on after fold, so that its escape codes do not count as width.
say() { printf '%s\n' "$*" | fold -s -w "$width" | while IFS= read -r line; do printf '%s%s%s\n' "$cyan" "$line" "$reset"; done; }
wait_key() { [ "$pause" = 1 ] && { read -r -p "${dim}(Enter for the next step)${reset}" _ || true; }; return 0; }

# show_cmd PROMPT COMMAND: the command as typed, a long one wrapped under itself.
show_cmd() {
  printf '%s\n' "$2" | fold -s -w "$((width - 11))" |
    awk -v p="$1" -v d="$dim" -v r="$reset" '{ printf "%s%-11s%s%s\n", d, (NR == 1 ? p : ""), $0, r }'
}

# columns LEFT RIGHT: two files side by side, under "-- host" and "-- container",
# each cut to half the screen.
columns() {
  paste -d$'\x1f' <({ echo "-- host"; cat "$1"; } | cut -c1-"$half") <({ echo "-- container"; cat "$2"; } | cut -c1-"$half") |
    awk -F$'\x1f' -v w="$half" '{ printf "%-*s | %s\n", w, $1, $2 }'
}

# side_by_side "HOST COMMAND" "CONTAINER COMMAND": runs both, prints two columns.
# The commands come first, whole; then their outputs side by side.
side_by_side() {
  local host_cmd=$1 ct_cmd=$2
  show_cmd 'host$' "$host_cmd"
  show_cmd 'container$' "$ct_cmd"
  { bash -c "$host_cmd" 2>&1 || true; } > "$work/left"
  { bash -c "$ct_cmd" 2>&1 || true; } > "$work/right"
  columns "$work/left" "$work/right"
}

# shown PROMPT COMMAND: the command as typed, then what it prints, indented.
shown() {
  show_cmd "$1" "$2"
  { bash -c "$2" 2>&1 || true; } | cut -c1-"$((width - 4))" | sed 's/^/    /'
}

# await SECONDS COMMAND...: polls COMMAND until it succeeds, for at most SECONDS.
await() {
  local tries=$(( $1 * 10 )); shift
  until "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || { echo "demo: gave up waiting for: $*" >&2; return 1; }
    sleep 0.1
  done
}

title "nslab: a container is a process the kernel isolates"
say "Each lab adds one namespace. We ask the same question on the host (left) and inside a container (right)."
wait_key

title "Lab 01 — UTS namespace: a hostname of its own"
side_by_side "hostname" "01-uts --hostname box -- hostname"
say "Same kernel, two answers. The host kept its name: $(hostname)."
say "With --verbose the program tells each step — the clone flag by name, and the namespace identities:"
"01-uts" --verbose --hostname box -- hostname 2>&1 | fold -s -w "$((width - 4))" | sed 's/^/    /'
wait_key

title "A forgotten flag: the safety net"
say "A student who calls sethostname() but forgets CLONE_NEWUTS would rename this very machine. Before any module acts, the child checks that its namespaces are new, and stops otherwise:"
# The forgetful lab runs in a throw-away UTS namespace all the same: a demo never bets the host.
unshare --uts -- "$top/build/bin/tests/forgetful-uts" --hostname renamed -- hostname 2>&1 | fold -s -w "$((width - 4))" | sed 's/^/    /' || true
say "Exit status 125, and the host is still called $(hostname)."
wait_key

title "Lab 02 — IPC namespace: message queues, semaphores, shared memory"
queue=$(ipcmk -Q | awk '{ print $NF }')
say "The host now has a System V message queue (id $queue)."
side_by_side "ipcs -q | grep -A3 Message" "02-ipc -- ipcs -q"
say "Inside, the queue does not exist: a new IPC namespace starts empty."
ipcrm -q "$queue" && queue=""
wait_key

title "Lab 03 — PID namespace: COMMAND is PID 1"
"03-pid" -- sh -c 'echo "inside:  my PID is $$"; sleep 1' &
runtime=$!
sleep 0.3
pid1=$(awk '{ print $1 }' /proc/$runtime/task/$runtime/children)
echo "host:    the same process is PID $pid1 — /proc/$pid1/status says: $(grep NSpid /proc/$pid1/status | tr -s '\t' ' ')"
wait $runtime
say "PID 1 has duties: it reaps orphans, and it ignores signals it has no handler for."
say "So 'sleep' as PID 1 shrugs off SIGTERM; with --init a tiny init is PID 1 and passes SIGTERM on:"
"03-pid" -- sleep 30 & runtime=$!
sleep 0.3; kill -TERM $runtime; sleep 0.5
if kill -0 $runtime 2>/dev/null; then echo "    without --init: still running after SIGTERM"; fi
kill -TERM $runtime; status=0; wait $runtime || status=$?
echo "    ... a second SIGTERM makes the runtime send SIGKILL: exit status $status"
"03-pid" --init -- sleep 30 & runtime=$!
sleep 0.3; kill -TERM $runtime; status=0; wait $runtime || status=$?
echo "    with --init: one SIGTERM ends sleep at once: exit status $status (128+15)"
say "But ps inside still shows the host's processes: /proc is still the host's. Lab 04 fixes that."
wait_key

title "Lab 04 — mount namespace: private mounts, its own /proc, its own root"
side_by_side "ps -e | wc -l" "04-mount -- sh -c 'ps -e | wc -l'"
mkdir "$work/mnt"
say "The container mounts a tmpfs on $work/mnt and looks; the host looks at the same moment:"
"04-mount" -- sh -c "mount -t tmpfs demo $work/mnt && echo '    container: mounted:' \$(findmnt -n -o SOURCE,FSTYPE $work/mnt) && sleep 1" &
runtime=$!
sleep 0.5
echo "    host:      $(findmnt -n "$work/mnt" >/dev/null && echo 'mounted (a leak!)' || echo 'nothing mounted there')"
wait $runtime
say "Mounts were made private (MS_REC|MS_PRIVATE) before any mount, so none ever reaches the host."
"$top/scripts/make-rootfs.sh" "$work/rootfs" | sed 's/^/    /'
say "pivot_root into that busybox root filesystem; the host's tree is detached:"
"04-mount" --rootfs "$work/rootfs" --hostname box -- /bin/sh -c 'echo "    hostname: $(hostname)"; ps -o pid,comm | sed "s/^/    /"; echo "    mounts:"; cut -d" " -f2,3 /proc/mounts | sed "s/^/      /"'
wait_key

title "Lab 05 — network namespace: links, addresses and routes of its own"
side_by_side "ip -o link" "05-net -- ip -o link"
say "Inside there is one link, lo, and it is UP: a new network namespace starts with lo down, and 05-net brings it up before COMMAND runs. No trace of the host's links."
wait_key
say "--veth links the two with a veth pair, a virtual cable: one end stays on the host as nslab-PID with 10.200.90.1, the other is eth0 inside with 10.200.90.2, and a default route via the host end. One container runs the container's side of what follows from a small script, inside.sh, which waits for the host's turns:"
show_cmd 'host$' "05-net --veth 10.200.90.1/24,10.200.90.2/24 -- sh inside.sh &"
net=$work/net
mkdir "$net"
cat > "$net/inside.sh" <<'EOF'
# The container's side: each turn writes its output to a file in $1.
trap 'exit 143' TERM INT  # a handler, for a shell as PID 1 ignores SIGTERM otherwise
cd "$1"
busybox ping -c 1 10.200.90.1 > ping 2>&1
: > ping.done
n=0; until [ -e go ]; do [ $n -lt 100 ] || exit 1; sleep 0.1; n=$((n + 1)); done
tcp-probe connect 10.200.90.1 9001 'hello from the container' > connect 2>&1
: > connect.done
exec tcp-probe serve 10.200.90.2 9002 'hello from the container' > serve 2>&1
EOF
05-net --veth 10.200.90.1/24,10.200.90.2/24 -- sh "$net/inside.sh" "$net" > "$net/runtime.out" 2>&1 &
net_runtime=$!
await 5 grep -q . "/proc/$net_runtime/task/$net_runtime/children" || { cat "$net/runtime.out"; exit 1; }
host_end=nslab-$(awk '{ print $1 }' "/proc/$net_runtime/task/$net_runtime/children")
await 15 test -e "$net/ping.done" || { cat "$net/runtime.out"; exit 1; }
show_cmd 'container$' "busybox ping -c 1 10.200.90.1"
cut -c1-"$((width - 4))" "$net/ping" | sed 's/^/    /'
shown 'host$' "ip -o link show $host_end"
say "${host_end#nslab-} is the PID of the container's first process, as the host numbers it."
say "A server on the host answers the container:"
show_cmd 'host$' "tcp-probe serve 10.200.90.1 9001 'hello from the host'"
show_cmd 'container$' "tcp-probe connect 10.200.90.1 9001 'hello from the container'"
tcp-probe serve 10.200.90.1 9001 'hello from the host' > "$net/host-serve" 2>&1 &
server=$!
await 5 grep -qx listening "$net/host-serve"
: > "$net/go"
wait "$server" || true
server=""
await 15 test -e "$net/connect.done"
columns "$net/host-serve" "$net/connect"
say "And a server in the container answers the host:"
show_cmd 'container$' "tcp-probe serve 10.200.90.2 9002 'hello from the container'"
show_cmd 'host$' "tcp-probe connect 10.200.90.2 9002 'hello from the host'"
await 5 grep -qx listening "$net/serve"
tcp-probe connect 10.200.90.2 9002 'hello from the host' > "$net/host-connect" 2>&1 || true
wait "$net_runtime" || true
net_runtime=""
columns "$net/host-connect" "$net/serve"
say "The container has ended, and 05-net deleted the host end (which takes eth0 with it):"
shown 'host$' "ip -o link show $host_end"
host_end=""
say "No NAT, no forwarding: the container reaches the host, and only the host."
wait_key

title "Lab 06 — user namespace: root inside, nobody (65534) outside"
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
say "06-user needs no root. From here on the commands run as the user nobody (uid 65534), who has no privilege at all, through $nobody:"
side_by_side "$nobody sh -c 'id -u; hostname; cat /proc/self/uid_map'" \
  "$nobody 06-user --hostname box -- sh -c 'id -u; hostname; cat /proc/self/uid_map'"
say "Inside, the same user is root, with a hostname of its own: the new user namespace owns the new UTS namespace. uid_map reads: id 0 inside is 65534 outside, one id (on the host, every id maps to itself)."
wait_key
mkdir "$work/home"
chown 65534:65534 "$work/home"
say "Root inside creates a file in $work/home, a directory of the user nobody; each side lists it:"
(
  cd "$work/home"
  shown 'container$' "$nobody 06-user -- sh -c 'touch note; ls -l note'"
  shown 'host$' "ls -l note"
)
say "Inside, the owner is root; on the host, the same file belongs to the user nobody: what root inside creates, the caller owns outside."
say "And root inside is root only over what its namespace owns. The host's /etc/hostname belongs to the host's root, and opening it for appending (which would write nothing) fails:"
shown 'container$' "$nobody 06-user -- sh -c 'id -u; true >> /etc/hostname'"
shown 'host$' "ls -l /etc/hostname"
wait_key

title "The end"
say "Six namespaces, one small runtime. Next: joining (lab 07), cgroups (08)."
say "The host kept its name ($(hostname)), its mounts, its IPC objects, its links and addresses; no process of the tour is left, and no file: $work goes now."
