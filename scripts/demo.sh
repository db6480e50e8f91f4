#!/usr/bin/env bash
# A narrated classroom tour of the finished labs: each step runs the same
# question on the host and in a container, and shows the answers side by side.
#
#   sudo scripts/demo.sh            pauses between steps when run in a terminal
#   sudo scripts/demo.sh --no-pause
#
# It builds first if needed. Everything it creates (an IPC queue, a temporary
# root filesystem, a directory to mount on) is removed at the end, on Ctrl-C too.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/bin/solutions
pause=1
[ "${1:-}" = --no-pause ] && pause=0
[ -t 0 ] && [ -t 1 ] || pause=0

if [ "$(id -u)" != 0 ]; then
  echo "demo: labs 01-04 create namespaces, which needs root: sudo scripts/demo.sh" >&2
  exit 125
fi
if [ ! -x "$bin/04-mount" ] || [ ! -x "$top/build/bin/tests/forgetful-uts" ]; then
  echo "demo: building nslab first ..."
  (cd "$top" && bash scripts/setup.sh >/dev/null && cmake --preset default >/dev/null &&
     cmake --build --preset default -j"$(nproc)" >/dev/null)
fi

export PATH=$bin:$PATH  # so that the commands read as a student would type them
work=$(mktemp -d /tmp/nslab-demo.XXXXXX)
queue=""
cleanup() {
  [ -n "$queue" ] && ipcrm -q "$queue" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' cyan=$'\e[36m' reset=$'\e[0m'; else bold="" dim="" cyan="" reset=""; fi
width=$(( $(tput cols 2>/dev/null || echo 100) ))
[ "$width" -ge 80 ] || width=80
half=$(( width / 2 - 2 ))

title() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$reset"; }
say() { printf '%s%s%s\n' "$cyan" "$*" "$reset" | fold -s -w "$width"; }
wait_key() { [ "$pause" = 1 ] && { read -r -p "${dim}(Enter for the next step)${reset}" _ || true; }; return 0; }

# side_by_side "HOST COMMAND" "CONTAINER COMMAND": runs both, prints two columns.
# The commands come first, whole; then their outputs side by side, each column
# cut to half the screen.
side_by_side() {
  local host_cmd=$1 ct_cmd=$2
  printf '%shost$      %s%s\n%scontainer$ %s%s\n' "$dim" "$host_cmd" "$reset" "$dim" "$ct_cmd" "$reset" | fold -s -w "$width"
  { echo "-- host"; bash -c "$host_cmd" 2>&1 || true; } > "$work/left"
  { echo "-- container"; bash -c "$ct_cmd" 2>&1 || true; } > "$work/right"
  paste -d$'\x1f' <(cut -c1-"$half" "$work/left") <(cut -c1-"$half" "$work/right") |
    awk -F$'\x1f' -v w="$half" '{ printf "%-*s | %s\n", w, $1, $2 }'
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

title "The end"
say "Four namespaces, one small runtime. Next: the network (lab 05), users (06), joining (07), cgroups (08)."
say "The host kept its name ($(hostname)), its mounts, its IPC objects; no process of the tour is left."
