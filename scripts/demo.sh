#!/usr/bin/env bash
# A narrated classroom tour of the finished labs: each step runs the same
# question on the host and in a container, and shows the answers side by side.
#
#   sudo scripts/demo.sh            pauses between steps when run in a terminal
#   sudo scripts/demo.sh --no-pause runs on by itself: in a terminal, each step
#                                   stays on the screen as long as it takes to
#                                   read it (the whole tour: about five minutes)
#   sudo scripts/demo.sh --no-pause --quick   straight through, no time to read
#   sudo scripts/demo.sh 07         only the steps of the labs named (01 to 08)
#
# Not in a terminal (a pipe, a log, a test) it never waits. It builds first if
# needed, with one line saying how far the build has got (the compiler's own
# output goes to a log, shown only if the build fails), and runs as root: labs
# 01-05 need it to create their namespaces. Lab 06 needs no root, so the tour
# runs it as the user nobody (uid 65534). Lab 07 shows two terminals: a
# container running in one, joined from the other. In tmux, the window is split
# in two; with tmux installed and a terminal, a tmux session of the demo's own
# (on a server of its own) shows the two side by side for that step; otherwise
# one terminal takes both parts, each output labelled. Lab 08 limits
# containers with cgroups: an OOM kill seen from inside and from the host,
# --pids stopping a small fork bomb, --cpus 0.5 holding a busy loop to half a
# CPU. nslab-probe, a static program run as COMMAND, tells
# what a process sees (its namespaces, PIDs, capabilities, mounts, cgroup and
# limits); the steps of labs 03, 04, 06 and 08 show its view inside beside its
# view on the host. Everything it creates (an IPC queue, a temporary root
# filesystem, a directory to mount on, a veth pair and the servers on its two
# ends, nobody's files, lab 07's containers, their pid files and the tmux pane
# or session, lab 08's containers) is removed at the end, on Ctrl-C too: the
# host's links and addresses are left as they were, and no cgroup of the tour.
#
# NSLAB_BUILD_DIR: the build to take the programs from (default: build/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NSLAB_BUILD_DIR:-$top/build}
bin=$build/bin/solutions
pause=1 quick=0
steps=()
for arg in "$@"; do
  case $arg in
    --no-pause) pause=0 ;;
    --quick) quick=1 ;;
    0[1-8]) steps+=("$arg") ;;
    *) echo "usage: scripts/demo.sh [--no-pause [--quick]] [NN...]   (NN: a lab, 01 to 08)" >&2; exit 2 ;;
  esac
done
[ ${#steps[@]} -gt 0 ] || steps=(01 02 03 04 05 06 07 08)
tty_out=0
[ -t 1 ] && tty_out=1
[ -t 0 ] && [ "$tty_out" = 1 ] || pause=0
# --no-pause in a terminal: a beat to read each step instead of a key (see wait_key).
pace=0
[ "$pause" = 0 ] && [ "$quick" = 0 ] && [ "$tty_out" = 1 ] && pace=1

if [ "$(id -u)" != 0 ]; then
  echo "demo: labs 01-05 need root to create namespaces (lab 06 does not): sudo scripts/demo.sh" >&2
  exit 125
fi
# build_progress LOG: reads cmake --build's output, keeps it in LOG, and shows
# one line that says how far the build has got: Make's "[ 45%] Building ..."
# and Ninja's "[12/345] Building ..." give it. In a terminal the line is
# rewritten in place, with what is being built; elsewhere each tenth reached
# is added to it. The compiler's warnings and errors stay in LOG.
build_progress() {
  local log=$1 text percent tens=0 what
  while IFS= read -r text; do
    printf '%s\n' "$text" >> "$log"
    if [[ $text =~ ^\[\ *([0-9]+)%\]\ (.*)$ ]]; then
      percent=${BASH_REMATCH[1]} what=${BASH_REMATCH[2]}
    elif [[ $text =~ ^\[([0-9]+)/([0-9]+)\]\ (.*)$ ]]; then
      percent=$(( BASH_REMATCH[1] * 100 / BASH_REMATCH[2] )) what=${BASH_REMATCH[3]}
    else
      continue
    fi
    if [ "$tty_out" = 1 ]; then
      # "Building CXX object solutions/CMakeFiles/x.dir/04-mount/mount.cpp.o": mount.cpp
      what=${what##*[ /]} what=${what%.o}
      printf '\r\e[Kdemo: building nslab: %3d%%  %s' "$percent" "${what:0:40}"
    else
      while [ "$tens" -le 10 ] && [ "$percent" -ge $((tens * 10)) ]; do
        printf ' %d%%' $((tens * 10))
        tens=$((tens + 1))
      done
    fi
  done
  if [ "$tty_out" = 1 ]; then printf '\r\e[K'; else echo; fi
}

# build_failed WHAT LOG: the end of LOG, for WHAT failed, and where the rest is.
build_failed() {
  echo "demo: $1 failed; the end of what it printed:" >&2
  tail -n 15 "$2" | cut -c1-76 | sed 's/^/    /' >&2
  echo "demo: all of it is in $2" >&2
  exit 1
}

# build_first: the packages (scripts/setup.sh), configure, and the build, each
# announced in one line; what they print goes to a log, whose end is shown,
# with the log's name, only when one of them fails.
build_first() {
  local log started=$SECONDS
  log=$(mktemp /tmp/nslab-demo-build.XXXXXX)
  echo "demo: nslab is not built yet: building it first."
  echo "demo: the packages the labs need (scripts/setup.sh) ..."
  (cd "$top" && bash scripts/setup.sh) >> "$log" 2>&1 || build_failed "scripts/setup.sh" "$log"
  echo "demo: configuring (cmake --preset default) ..."
  (cd "$top" && cmake --preset default -B "$build") >> "$log" 2>&1 || build_failed "cmake --preset default" "$log"
  [ "$tty_out" = 1 ] || printf 'demo: building nslab:'
  (cd "$top" && cmake --build "$build" -j"$(nproc)" 2>&1) | build_progress "$log" || build_failed "cmake --build" "$log"
  echo "demo: built in $((SECONDS - started)) s."
  rm -f "$log"
}

if [ ! -x "$bin/08-cgroup" ] || [ ! -x "$build/bin/tests/forgetful-uts" ] || [ ! -x "$build/bin/tests/tcp-probe" ] ||
   [ ! -x "$build/bin/nslab-probe" ]; then
  build_first
fi

# So that the commands read as a student would type them (tcp-probe: lab 05,
# nslab-probe: what a process sees).
export PATH=$bin:$build/bin/tests:$build/bin:$PATH
work=$(mktemp -d /tmp/nslab-demo.XXXXXX)
chmod 755 "$work"  # lab 06 runs as nobody, who must reach a directory in here
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
queue="" net_runtime="" server="" host_end=""
lab07_runtime="" lab07_pane="" lab07_server="" lab07_hold=""
lab08_runtime=""
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
  # Lab 07, if interrupted: its containers (each runtime removes its pid file),
  # then the pane or the session that showed them.
  [ -n "$lab07_runtime" ] && stop_runtime "$lab07_runtime"
  [ -n "$lab07_pane" ] && tmux kill-pane -t "$lab07_pane" 2>/dev/null
  [ -n "$lab07_server" ] && lab07_tmux kill-server 2>/dev/null
  # Lab 08, if interrupted: its container; the runtime removes its cgroup.
  if [ -n "$lab08_runtime" ] && running "$lab08_runtime"; then
    kill -TERM "$lab08_runtime" 2>/dev/null; wait "$lab08_runtime" 2>/dev/null
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

# What was shown since the last pause, for the beat of --no-pause: the words
# said, and the commands shown (each with an output to look at).
said_words=0 shown_commands=0
title() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$reset"; }
# The colour goes on after fold, so that its escape codes do not count as width.
say() {
  local words
  read -ra words <<< "$*"
  said_words=$((said_words + ${#words[@]}))
  printf '%s\n' "$*" | fold -s -w "$width" | while IFS= read -r line; do printf '%s%s%s\n' "$cyan" "$line" "$reset"; done
}
# wait_key: Enter, when the demo pauses; with --no-pause in a terminal, a beat
# as long as reading what was shown takes: 5 words a second (a brisk reader's
# pace, which makes the whole tour about five minutes: one who talks over the
# demo pauses it instead), 0.8 s more per command and its output, 2 s at least.
wait_key() {
  local tenths
  if [ "$pause" = 1 ]; then
    read -r -p "${dim}(Enter for the next step)${reset}" _ || true
  elif [ "$pace" = 1 ]; then
    tenths=$(( said_words * 2 + shown_commands * 8 ))
    [ "$tenths" -ge 20 ] || tenths=20
    sleep "$((tenths / 10)).$((tenths % 10))"
  fi
  said_words=0 shown_commands=0
  return 0
}

# show_cmd PROMPT COMMAND: the command as typed, a long one wrapped under itself.
show_cmd() {
  local room=$(( ${#1} < 11 ? 11 : ${#1} + 1 ))
  shown_commands=$((shown_commands + 1))
  printf '%s\n' "$2" | fold -s -w "$((width - room))" |
    awk -v p="$1" -v d="$dim" -v r="$reset" -v w="$room" '{ printf "%s%-*s%s%s\n", d, w, (NR == 1 ? p : ""), $0, r }'
}

# indented FILE: FILE's lines under the command that printed them, folded to the screen.
indented() {
  fold -s -w "$((width - 4))" "$1" | sed 's/^/    /'
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

# --- the steps: one function per lab, run in order by the end of this file ---
intro() {
  title "nslab: a container is a process the kernel isolates"
  say "Each lab adds one namespace. We ask the same question on the host (left) and inside a container (right)."
  wait_key
}

lab01() {
  title "Lab 01 — UTS namespace: a hostname of its own"
  side_by_side "hostname" "01-uts --hostname box -- hostname"
  say "Same kernel, two answers. The host kept its name: $(hostname)."
  say "With --verbose the program tells each step — the clone flag by name, and the namespace identities:"
  "01-uts" --verbose --hostname box -- hostname 2>&1 | fold -s -w "$((width - 4))" | sed 's/^/    /'
  wait_key

  title "A forgotten flag: the safety net"
  say "A student who calls sethostname() but forgets CLONE_NEWUTS would rename this very machine. Before any module acts, the child checks that its namespaces are new, and stops otherwise:"
  # The forgetful lab runs in a throw-away UTS namespace all the same: a demo never bets the host.
  unshare --uts -- "$build/bin/tests/forgetful-uts" --hostname renamed -- hostname 2>&1 | fold -s -w "$((width - 4))" | sed 's/^/    /' || true
  say "Exit status 125, and the host is still called $(hostname)."
  wait_key
}

lab02() {
  title "Lab 02 — IPC namespace: message queues, semaphores, shared memory"
  queue=$(ipcmk -Q | awk '{ print $NF }')
  say "The host now has a System V message queue (id $queue)."
  side_by_side "ipcs -q | grep -A3 Message" "02-ipc -- ipcs -q"
  say "Inside, the queue does not exist: a new IPC namespace starts empty."
  ipcrm -q "$queue" && queue=""
  wait_key
}

lab03() {
  title "Lab 03 — PID namespace: COMMAND is PID 1"
  say "nslab-probe tells what a process sees; here, its PIDs. On the host, and as a container's COMMAND:"
  side_by_side "nslab-probe --only process" "03-pid -- nslab-probe --only process"
  say "Inside, the probe is PID 1, and its parent is PID 0: it has none in its namespace. NSpid lists its number in each PID namespace it is in, outermost first: the host knew it as PID $(awk '$1 == "NSpid" { print $2 }' "$work/right")."
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
}

lab04() {
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
  demo_rootfs
  say "--rootfs: pivot_root into that busybox root filesystem, and the host's tree detached. nslab-probe is in its /bin: a static program, it needs no shell and no library there. Each side lists its mounts (the host's first twelve):"
  side_by_side "nslab-probe --only mounts | head -n 13" "04-mount --rootfs $work/rootfs -- /bin/nslab-probe --only mounts"
  say "Inside: the root filesystem, a /dev of six devices, and a /proc, /sys and /tmp of its own; nothing of the host's. A shell in there, with a hostname of its own, and ps:"
  # shellcheck disable=SC2016  # expanded by the container's shell
  "04-mount" --rootfs "$work/rootfs" --hostname box -- /bin/sh -c 'echo "    hostname: $(hostname)"; ps -o pid,comm | sed "s/^/    /"'
  wait_key
}

# demo_rootfs: the tour's busybox root filesystem, $work/rootfs, made once, with
# nslab-probe in its /bin.
demo_rootfs() {
  [ -d "$work/rootfs" ] && return 0
  "$top/scripts/make-rootfs.sh" "$work/rootfs" | sed 's/^/    /'
  cp "$build/bin/nslab-probe" "$work/rootfs/bin/nslab-probe"
}

lab05() {
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
}

lab06() {
  title "Lab 06 — user namespace: root inside, nobody (65534) outside"
  say "06-user needs no root. From here on the commands run as the user nobody (uid 65534), who has no privilege at all, through $nobody:"
  side_by_side "$nobody sh -c 'id -u; hostname; cat /proc/self/uid_map'" \
    "$nobody 06-user --hostname box -- sh -c 'id -u; hostname; cat /proc/self/uid_map'"
  say "Inside, the same user is root, with a hostname of its own: the new user namespace owns the new UTS namespace. uid_map reads: id 0 inside is 65534 outside, one id (on the host, every id maps to itself)."
  say "Root inside has every capability, in its own user namespace; nobody on the host has none. The probe says so from both sides:"
  side_by_side "$nobody nslab-probe --only capabilities | head -n 3" "$nobody 06-user -- nslab-probe --only capabilities | head -n 3"
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
}

# --- lab 07: two terminals ---------------------------------------------------------
#
# The step's two terminals run one small script, written to $work/07 by
# lab07_scripts: "terminal.sh 1" starts the container, "terminal.sh 2" joins it.
# lab07_mode says how the two are shown:
#   split    the demo runs in a tmux pane, on a server of the demo's own user (a
#            pane split there runs as that user): the pane is split, the
#            container runs on the left (this pane), the join on the right;
#   session  tmux is installed and this is a terminal: a tmux session on a
#            server of the demo's own (its socket in $work/07) shows the two for
#            the step, then the demo's screen comes back;
#   one      otherwise (no tmux, or no terminal: a pipe, a test): the container
#            runs in the background, and what each terminal showed is printed
#            after, labelled "terminal 1" and "terminal 2".
# In the two tmux modes terminal 2 then waits: for Enter when the demo pauses,
# else 3 seconds; the demo ends the container and closes what it opened.

# The container loops until SIGTERM or SIGINT (Ctrl-C): a shell as PID 1 has no
# default action for them (lab 03), so it sets one.
# shellcheck disable=SC2016  # expanded by the container's shell, as typed
lab07_loop='trap "exit 0" INT TERM; while :; do echo "$(hostname): I am PID $$"; sleep 1; done'
lab07_run="07-setns --hostname box --pid-file box.pid -- sh -c '$lab07_loop'"
# shellcheck disable=SC2016  # expanded by the joined shell
lab07_ask='echo "$(hostname): I am PID $$"; ps -e -o pid,comm'
lab07_join="07-setns -v --enter \"\$(cat box.pid)\" -- sh -c '$lab07_ask'"

# lab07_mode: split, session or one, as above. (Its output is read through
# $(...), no terminal: whether the demo's own is one was asked at the start.)
lab07_mode() {
  if ! command -v tmux >/dev/null || [ "$tty_out" = 0 ]; then
    echo one
  elif [ -n "${TMUX:-}" ] && [ -n "${TMUX_PANE:-}" ] && [ -S "${TMUX%%,*}" ] &&
       [ "$(stat -c %u "${TMUX%%,*}")" = "$(id -u)" ] && tmux display -p -t "$TMUX_PANE" '' >/dev/null 2>&1; then
    echo split
  elif [ -t 0 ] && tput clear >/dev/null 2>&1; then  # a terminal that terminfo, and so tmux, knows
    echo session
  else
    echo one
  fi
}

# lab07_tmux ARG...: tmux, on the demo's own server (session mode).
lab07_tmux() {
  env -u TMUX -u TMUX_PANE tmux -S "$work/07/tmux.sock" -f /dev/null "$@"
}

# gone PID: the process has ended (a zombie has ended too; only its parent's
# wait(2) removes it).
gone() {
  [ ! -e "/proc/$1" ] || [ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = Z ]
}

# stop_runtime PID: ends a lab 07 runtime as Ctrl-C in its terminal would: a
# signal it forwards to the container's first process, whose trap exits; the
# runtime then removes its pid file. Signalled only while PID is that program:
# once it has gone, its PID may be another process's.
stop_runtime() {
  local pid=$1
  if [ "/proc/$pid/exe" -ef "$bin/07-setns" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true  # a job of ours (split and one modes); tmux's child in a session
  if ! await 5 gone "$pid"; then
    if [ "/proc/$pid/exe" -ef "$bin/07-setns" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  fi
  [ "$pid" != "$lab07_runtime" ] || lab07_runtime=""
}

# lab07_scripts DIR: the two terminals' script, terminal.sh, and what it needs.
lab07_scripts() {
  local dir=$1
  {
    printf 'export PATH=%q\n' "$PATH"
    printf 'run=%q\njoin=%q\ndemo=%q\n' "$lab07_run" "$lab07_join" "$$"
  } > "$dir/env.sh"
  cat > "$dir/terminal.sh" <<'EOF'
# One of the two terminals of lab 07's step (scripts/demo.sh writes it here):
#   terminal.sh 1        the container: its runtime's PID in runtime.pid
#   terminal.sh 2 HOLD   joins it, writes its exit status to "joined", then holds:
#                        "none" not at all, "key" until Enter, "beat" for 3 s;
#                        after "key" or "beat" it writes "closed", and keeps the
#                        pane open until the demo closes it (or has gone).
# Each prints its command as typed, and keeps a copy of its output (1.out, 2.out).
set -u
cd "$(dirname "$0")" || exit 1
. ./env.sh
# "ready": the panes are laid out, and width.N says this one's width as tmux
# has made it (the terminal itself may learn it a moment later).
tries=0
until [ -e ready ]; do
  tries=$((tries + 1)); [ "$tries" -le 100 ] || break
  sleep 0.1
done
cols=$(cat "width.$1" 2>/dev/null || true)
[ -n "$cols" ] || cols=$( (stty size < /dev/tty) 2>/dev/null | awk '{ print $2 }')
[ -n "$cols" ] && [ "$cols" -gt 0 ] || cols=80
prompt() { printf '%s\n' "terminal $1\$ $2" | fold -s -w "$cols"; }
if [ "$1" = 1 ]; then
  prompt 1 "$run"
  echo $$ > runtime.pid
  exec > >(exec tee 1.out) 2>&1
  eval "exec $run"  # the runtime takes this PID
fi
trap 'exit 130' INT TERM HUP
trap ': > closed' EXIT
tries=0
until [ -s box.pid ]; do  # as one would wait for terminal 1's container
  tries=$((tries + 1))
  [ "$tries" -le 100 ] || { echo "terminal 2: no box.pid after 10 s: terminal 1's container did not start"; exit 1; }
  sleep 0.1
done
prompt 2 "$join"
eval "$join" 2>&1 | tee 2.out | fold -s -w "$cols"
echo "${PIPESTATUS[0]}" > joined.part && mv joined.part joined
hold=${2:-none}
case $hold in
  key)
    while read -r -t 0.05 _; do :; done  # an Enter typed before the join (a double press) does not count
    printf '(Enter: end both terminals) '
    until [ -e closed ]; do read -r -t 0.2 _ && break; done
    ;;
  beat) sleep 3 ;;
esac
[ "$hold" = none ] && exit 0
: > closed
exec tail --pid="$demo" -f /dev/null
EOF
}

# lab07_wait_closed STILL-OPEN...: waits until terminal 2 is done holding, or
# STILL-OPEN (a command) fails: its pane or session has gone.
lab07_wait_closed() {
  until [ -e "$work/07/closed" ]; do
    "$@" >/dev/null 2>&1 || return 0
    sleep 0.1
  done
}

# Split mode: this pane is terminal 1 (the container runs here, in the
# background of the demo), a new pane on the right terminal 2.
lab07_split() {
  local dir=$work/07 now right
  now=$(tmux display -p -t "$TMUX_PANE" '#{pane_width}')
  right=$(( now - now / 3 ))
  printf '\e[H\e[2J'  # a clean terminal 1 (tmux keeps what was here in its history)
  lab07_pane=$(tmux split-window -h -l "$right" -t "$TMUX_PANE" -c "$dir" -P -F '#{pane_id}' \
                 "bash '$dir/terminal.sh' 2 $lab07_hold")
  tmux display -p -t "$TMUX_PANE" '#{pane_width}' > "$dir/width.1"
  tmux display -p -t "$lab07_pane" '#{pane_width}' > "$dir/width.2"
  : > "$dir/ready"
  bash "$dir/terminal.sh" 1 &
  lab07_runtime=$!
  lab07_wait_closed tmux display -p -t "$lab07_pane" ''
  stop_runtime "$lab07_runtime"
  tmux kill-pane -t "$lab07_pane" 2>/dev/null || true
  lab07_pane=""
}

# Session mode: the demo's own tmux server, one window of two panes, attached
# here while the step lasts; a watcher in the background ends it.
lab07_session() {
  local dir=$work/07 cols lines left right watcher terminal
  cols=$(tput cols) lines=$(tput lines)
  lab07_server=$dir/tmux.sock
  # Terminal 2 first, and terminal 1 split off to its left: each starts in a
  # pane of its final width.
  right=$(lab07_tmux new-session -d -s nslab-demo -x "$cols" -y "$lines" -c "$dir" -P -F '#{pane_id}' \
            "bash '$dir/terminal.sh' 2 $lab07_hold")
  lab07_tmux set -g status off \; set -g pane-border-status top \; set -g pane-border-format ' #{pane_title} ' >/dev/null
  left=$(lab07_tmux split-window -h -b -l "$(( cols / 3 ))" -t "$right" -c "$dir" -P -F '#{pane_id}' \
           "bash '$dir/terminal.sh' 1")
  lab07_tmux select-pane -t "$left" -T 'terminal 1' \; select-pane -t "$right" -T 'terminal 2' \; select-pane -t "$right"
  lab07_tmux display -p -t "$left" '#{pane_width}' > "$dir/width.1"
  lab07_tmux display -p -t "$right" '#{pane_width}' > "$dir/width.2"
  : > "$dir/ready"
  await 5 test -s "$dir/runtime.pid"
  lab07_runtime=$(cat "$dir/runtime.pid")
  {
    lab07_wait_closed lab07_tmux has-session -t nslab-demo
    stop_runtime "$lab07_runtime"
    lab07_tmux kill-server 2>/dev/null || true
  } &
  watcher=$!
  # In the background, so that a signal to the demo is handled at once (bash
  # runs a trap only once a command in the foreground has ended); the terminal
  # is its all the same, the demo waits without reading it. By name, not
  # /dev/tty, which tmux refuses, and open for writing too: the tmux server
  # draws on the client's standard input.
  terminal=$(tty)
  lab07_tmux attach -t nslab-demo 0<> "$terminal" 1>&0 2>/dev/null &
  wait "$!" || true
  # Detached (or never attached): the step ends all the same.
  : > "$dir/closed"
  wait "$watcher" || true
  lab07_runtime="" lab07_server=""
}

# One terminal: the container in the background, the join in the foreground.
lab07_one() {
  local dir=$work/07
  : > "$dir/ready"
  bash "$dir/terminal.sh" 1 >/dev/null 2>&1 &
  lab07_runtime=$!
  await 10 test -s "$dir/box.pid" || true
  sleep 1.5  # the container says who it is once or twice
  bash "$dir/terminal.sh" 2 none >/dev/null 2>&1 || true
  sleep 1
  stop_runtime "$lab07_runtime"
}

lab07() {
  local dir=$work/07 mode status n
  title "Lab 07 — setns: joining a running container"
  say "A container is the set of namespaces its processes are in, and each namespace has a file: /proc/PID/ns/uts, ns/pid, ... setns(2) takes such a file, open, and moves the caller into that namespace: nothing is created, nothing copied. docker exec, nsenter(1) and 07-setns --enter all work so."
  say "Two terminals, in the same directory. In terminal 1, a container named box says its hostname and PID every second, and --pid-file writes its first process's PID, as the host numbers it, to box.pid. Terminal 2 joins it with --enter, and asks the same:"
  mode=$(lab07_mode)
  # One terminal prints the commands with their outputs; tmux's panes are narrower.
  if [ "$mode" != one ]; then
    show_cmd 'terminal 1$' "$lab07_run"
    show_cmd 'terminal 2$' "$lab07_join"
  fi
  mkdir "$dir"
  lab07_scripts "$dir"
  lab07_hold=beat
  [ "$pause" = 1 ] && lab07_hold=key
  case $mode in
    split) say "This window splits in two: terminal 1 on the left, terminal 2 on the right.$([ "$pause" = 1 ] && echo ' Enter in terminal 2 ends both.')" ;;
    session) say "tmux shows the two side by side, terminal 1 on the left, terminal 2 on the right, then this screen comes back.$([ "$pause" = 1 ] && echo ' Enter in terminal 2 ends both.')" ;;
    one) say "No tmux (or no terminal) here: the two take turns in this one, terminal 1's container in the background." ;;
  esac
  wait_key
  "lab07_$mode"
  case $mode in
    session | one)
      [ "$mode" = one ] || say "What the two terminals showed:"
      lab07_transcript ;;
    split)
      say "Terminal 2, whose pane is closed now, showed:"
      lab07_transcript 2 ;;
  esac
  status=$(cat "$dir/joined" 2>/dev/null || echo "none: it did not run")
  [ "$status" = 0 ] || say "(terminal 2's 07-setns exited with status $status)"
  n=$(sed -n 's/^box: I am PID \([0-9][0-9]*\)$/\1/p' "$dir/2.out" 2>/dev/null | head -n 1)
  say "Terminal 2's shell was in box: the same hostname, and PID ${n:-?} of the container's PID namespace. Not 1: setns(CLONE_NEWPID) changes the PID namespace of the caller's children to come, not its own, so 07-setns forked COMMAND in. And ps there saw the container's processes and no other: the loop's shell (PID 1) and its sleep, the joined shell and ps."
  say "--verbose shows the order: every /proc/PID/ns file is opened first (inside the container's mount namespace the host's /proc/PID is out of reach), then one setns each, the user namespace last for root; and each identity after, the container's."
  say "The container has ended; 07-setns removed box.pid, and the host is still called $(hostname):"
  (cd "$dir" && shown 'host$' 'ls box.pid')
  wait_key
  lab07_rootless
}

# lab07_transcript [2]: what terminal 1 and terminal 2 showed (or only terminal
# 2), from the copies of their output.
lab07_transcript() {
  local dir=$work/07
  if [ "${1:-}" != 2 ]; then
    show_cmd 'terminal 1$' "$lab07_run"
    indented "$dir/1.out"
  fi
  show_cmd 'terminal 2$' "$lab07_join"
  indented "$dir/2.out"
}

# Without root: nobody joins a rootless container of its own.
lab07_rootless() {
  local dir=$work/07/nobody run join
  run="$nobody 07-setns --pid-file nobody.pid -- sh -c 'trap \"exit 0\" TERM; while :; do sleep 1; done'"
  join="$nobody 07-setns -v --enter \"\$(cat nobody.pid)\" -- id 2>&1 | grep -E 'setns\\(|uid='"
  say "Without root: the user nobody starts a rootless container (lab 06) in terminal 1, and joins it from terminal 2. For nobody the order turns round: outside the container's user namespace, every setns into the others fails with EPERM; once in it, nobody has every capability there, and the second pass succeeds:"
  mkdir "$dir"
  chown 65534:65534 "$dir"
  show_cmd 'terminal 1$' "$run &"
  bash -c "cd '$dir' && exec $run" >/dev/null 2>&1 &
  lab07_runtime=$!
  await 10 test -s "$dir/nobody.pid" || true
  show_cmd 'terminal 2$' "$join"
  { bash -c "cd '$dir' && $join" 2>&1 || true; } > "$work/07/rootless.out"
  indented "$work/07/rootless.out"
  stop_runtime "$lab07_runtime"
  say "No privilege on the host: each setns was checked against the container's user namespace, which nobody owns. nsenter(1) makes the same two passes: nsenter --target PID --all."
  wait_key
}

# --- lab 08: cgroups ----------------------------------------------------------------

# The layout, as 08-cgroup tells it (statfs): v2 (cgroup2 at /sys/fs/cgroup), or
# v1 hierarchies, one per controller (on a hybrid machine, cgroup2 at unified/ too).
lab08_layout() {
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo v2; else echo v1; fi
}

# lab08_cgroup_dir PID CONTROLLER: the directory of PID's cgroup for
# CONTROLLER, as the host's /proc/PID/cgroup names it.
lab08_cgroup_dir() {
  if [ "$(lab08_layout)" = v2 ]; then
    echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"
  else
    echo "/sys/fs/cgroup/$2$(awk -F: -v c="$2" '{ n = split($2, names, ","); for (i = 1; i <= n; i++) if (names[i] == c) print $3 }' "/proc/$1/cgroup")"
  fi
}

# lab08_busy OPTIONS: a busy loop of 2 s in a container, then the CPU time it
# used, as sh's times prints it (its children's); a copy in $work/08-cpu-OPTIONS.
lab08_busy() {
  local command="08-cgroup $1-- sh -c 'timeout 2 sh -c \"while :; do :; done\"; times' | tail -n 1"
  show_cmd 'container$' "$command"
  { bash -c "$command" 2>&1 || true; } > "$work/08-cpu-$1"
  indented "$work/08-cpu-$1"
}

# lab08_seconds FILE: the user and system time of a line of times ("0m0.990000s 0m0.010000s"), summed.
lab08_seconds() {
  awk '{ for (i = 1; i <= NF; i++) { split($i, ms, "m"); t += ms[1] * 60 + ms[2] } } END { printf "%.1f", t }' "$1"
}

lab08() {
  local layout hog events child dir gone
  layout=$(lab08_layout)
  title "Lab 08 — cgroups: how much a container may use"
  say "Namespaces decide what a container sees; a control group (cgroup) decides how much it may use. 08-cgroup makes a cgroup per container under /sys/fs/cgroup, writes the limits into it, and moves the container's first process in before COMMAND starts: COMMAND and all it forks are held."
  if [ "$layout" = v2 ]; then
    events=memory.events
    say "This machine has cgroup v2: one hierarchy at /sys/fs/cgroup, every controller in it; the container's cgroup is one directory."
  else
    events=memory.oom_control
    say "This machine has cgroup v1: one hierarchy per controller, /sys/fs/cgroup/memory, pids, cpu ...$([ -d /sys/fs/cgroup/unified ] && echo ' (and a cgroup2 one at unified/, without them)'); the container's cgroup is a directory in each."
  fi
  wait_key

  hog="head -c 300M /dev/zero | tail"  # tail keeps a line with no end: 300 MiB
  command -v python3 >/dev/null && hog="python3 -c 'bytearray(300 << 20)'"
  say "--memory 48M, and a program that wants 300 MiB. The host reads the container's cgroup while the container still runs (it waits a second after the hog):"
  show_cmd 'container$' "08-cgroup --memory 48M -- sh -c \"$hog; echo hog: exit status \\\$?; sleep 1\""
  08-cgroup --memory 48M -- sh -c "$hog; echo hog: exit status \$?; sleep 1" > "$work/08-memory" 2>&1 &
  lab08_runtime=$!
  await 5 grep -q . "/proc/$lab08_runtime/task/$lab08_runtime/children" || true
  child=$(awk '{ print $1 }' "/proc/$lab08_runtime/task/$lab08_runtime/children" 2>/dev/null)
  await 5 grep -q /nslab/ "/proc/${child:-none}/cgroup" || true
  dir=$(lab08_cgroup_dir "${child:-none}" memory 2>/dev/null)
  gone=${dir%/container}  # the container's cgroup: its limits, and the leaf of its processes below
  [ "$layout" = v2 ] || gone="/sys/fs/cgroup/*/${gone#/sys/fs/cgroup/memory/}"  # each hierarchy
  await 15 grep -q '^hog: exit status' "$work/08-memory" || true
  { grep -w oom_kill "$dir/$events" 2>&1 || true; } > "$work/08-host"
  wait "$lab08_runtime" || true
  lab08_runtime=""
  indented "$work/08-memory"
  show_cmd 'host$' "grep -w oom_kill $dir/$events"
  indented "$work/08-host"
  say "The kernel's OOM killer ended the hog inside the group: SIGKILL, 128+9 = 137. The host counted it in $events; 08-cgroup read the count on its way out, and said so. Nothing outside the group was touched."
  wait_key

  say "--pids 8: at most 8 tasks in the group. A small fork bomb, thirty sleeps at once:"
  shown 'container$' "08-cgroup --pids 8 -- sh -c 'for i in \$(seq 30); do sleep 1 & done; wait'"
  say "The ninth fork failed with EAGAIN (\"Cannot fork\"), and the shell gave up; the kernel counted each refusal in pids.events."
  wait_key

  say "--cpus 0.5: a quota of 50 ms of CPU time in every 100 ms. A busy loop runs for 2 s; then times prints the CPU time it used (user, then system), without the limit and with it:"
  lab08_busy ""
  lab08_busy "--cpus 0.5 "
  say "Without the limit the loop had $(lab08_seconds "$work/08-cpu-") s of CPU time in its 2 s (a whole CPU, unless the machine is busy); with --cpus 0.5, $(lab08_seconds "$work/08-cpu---cpus 0.5 ") s: once the quota of a period is used up, the kernel holds the group until the next (cpu.stat counts nr_throttled), so at most 1 s in 2."
  say "Each container's cgroup went when the container ended (and nslab/ with the last one); the first container's, for one:"
  shown 'host$' "ls -d $gone 2>/dev/null || echo gone"
  wait_key
  lab08_probe
}

# What the container sees, every lab's part in place: the probe inside beside
# the probe on the host.
lab08_probe() {
  local new shared
  title "What the container sees"
  demo_rootfs
  say "All the labs together: 08-cgroup with a root filesystem, a hostname and a limit, and nslab-probe as COMMAND; beside it, the probe on the host:"
  side_by_side "nslab-probe --only namespaces,process" \
    "08-cgroup --rootfs $work/rootfs --hostname box --memory 64M -- /bin/nslab-probe --only namespaces,process"
  # The kinds whose inode differs, and those that do not.
  new=$(awk '/^namespaces/ { on = 1; next } /^$/ { on = 0 } on && NF == 2 { if (NR == FNR) host[$1] = $2; else if ($1 in host && host[$1] != $2) printf "%s ", $1 }' "$work/left" "$work/right")
  shared=$(awk '/^namespaces/ { on = 1; next } /^$/ { on = 0 } on && NF == 2 { if (NR == FNR) host[$1] = $2; else if ($1 in host && host[$1] == $2) printf "%s ", $1 }' "$work/left" "$work/right")
  say "New namespaces: ${new:-none}; the host's own: ${shared:-none}. The hostname box, PID 1, and on the host another PID (NSpid)."
  side_by_side "nslab-probe --only cgroup" "08-cgroup --memory 64M --pids 20 -- nslab-probe --only cgroup"
  say "Its cgroup is / in every hierarchy: the cgroup namespace's root is the container's own cgroup, and the host's path to it is hidden. Its limits hold all the same, set where it cannot lift them, one level up; the probe finds them there:"
  shown 'container$' "08-cgroup --memory 64M --pids 20 -- nslab-probe --only limits"
  wait_key
}

the_end() {
  title "The end"
  say "Six namespaces, a way into them, and a cgroup with limits and a namespace of its own: one small runtime."
  say "The host kept its name ($(hostname)), its mounts, its IPC objects, its links and addresses; no process of the tour is left, no tmux pane or session of it, no cgroup of it, and no file: $work goes now."
}

intro
for step in "${steps[@]}"; do "lab$step"; done
the_end
