#!/usr/bin/env bash
# Runs a command in a throw-away sandbox: new UTS, IPC, mount (private), PID and
# network namespaces, with its own /proc, and a cgroup subtree of its own.
# Whatever a buggy container program does to "the host" there — rename it,
# leave a mount, an IPC object, a link, a cgroup directory — happens to the
# sandbox and vanishes with it; the real host is untouched.
#
#   scripts/sandbox.sh COMMAND [ARG...]
#
# Used by scripts/mutants.sh (programs broken on purpose) and scripts/grade.sh
# (a learner's program, which may be broken by accident). Needs root.
#
# The cgroup subtree. Cgroups have no namespace that hides them the way the
# others do: a cgroup directory made in the sandbox is made on the host. So the
# sandbox makes a fresh directory S = /nslab-sandbox.<its PID> in every
# hierarchy a container's cgroup may go to (pure v2: the cgroup2 root; v1 and
# hybrid: the memory, pids and cpu hierarchies, and the cgroup2 one at unified/
# when there is one), and exports NSLAB_CGROUP_BASE=/nslab-sandbox.<PID>: lab
# 08's program then makes its nslab/ directory in S, not at the top. (When
# NSLAB_CGROUP_BASE is set already, S is made inside it.) On pure v2 the
# memory, pids and cpu controllers are enabled in the root's
# cgroup.subtree_control if they are not: as the program itself does as root.
# A program that leaks a cgroup leaks it in S, where the tests' host guard sees
# it; when the command has ended, S goes, whatever is in it: the processes still
# in it are killed (v2: cgroup.kill; v1: SIGKILL to each PID of cgroup.procs,
# until none is left), then its directories are removed, deepest first, with a
# short back-off while rmdir says EBUSY (the kernel frees a cgroup a moment
# after its last process).
#
# How it ends. The sandbox's exit status is COMMAND's; 128+N when the sandbox
# was ended by signal N; 125 when it could not be set up, or when COMMAND
# succeeded but something of S could not be removed (named on stderr).
# SIGTERM, SIGINT and SIGHUP are forwarded to every process of the sandbox's PID
# namespace (as Ctrl-C reaches every process of a terminal); what has not ended
# 5 seconds later is killed. SIGKILL of this script cannot be caught, so two
# things outlive it on purpose: the kernel kills the sandbox's first process
# with unshare (PR_SET_PDEATHSIG, set by setpriv --pdeathsig for unshare, and
# by unshare --kill-child for its child), and with it every process of the
# sandbox's PID namespace; and a cleaner, started first in a session of its own
# (so that a signal to this script's process group spares it too), waits for
# end-of-file on a pipe that only this script holds, then kills what is left
# and removes S. What no script can promise: if the cleaner is SIGKILLed as
# well, S stays (empty: its processes died with the sandbox), and must be
# removed by hand: rmdir /sys/fs/cgroup/*/nslab-sandbox.*/... deepest first.
# shellcheck disable=SC2317  # the cleaner's functions run in the cleaner, the rest from traps
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/sandbox.sh COMMAND [ARG...]" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "sandbox: needs root (unshare of UTS, IPC, mount, PID and network namespaces)" >&2
  exit 125
fi

# --- the cgroup subtree ----------------------------------------------------------

# cgroup_roots: the hierarchies S is made in, one mount point a line. The
# layout is told by the filesystem at /sys/fs/cgroup (statfs): cgroup2 there is
# pure v2; a tmpfs holds v1 hierarchies (and, hybrid, cgroup2 at unified/). A
# hierarchy mounted under two names (cpu and cpu,cpuacct) is listed once.
cgroup_roots() {
  local fs=/sys/fs/cgroup dir
  if [ "$(stat -f -c %T "$fs" 2>/dev/null)" = cgroup2fs ]; then
    echo "$fs"
    return 0
  fi
  for dir in "$fs/memory" "$fs/pids" "$fs/cpu" "$fs/unified"; do
    case $(stat -f -c %T "$dir" 2>/dev/null) in
      cgroupfs | cgroup2fs) echo "$(stat -L -c %d "$dir") $dir" ;;
    esac
  done | awk '!seen[$1]++ { print $2 }'
}

# remove_cgroup_tree DIR: kills every process in DIR and below, then removes
# DIR's directories deepest first, again and again until none is left (a
# process may fork while it is killed; rmdir says EBUSY until the kernel has
# freed a cgroup), for 10 seconds at most. Fails, naming what is left, if some
# of it could not be removed.
remove_cgroup_tree() {
  local dir=$1 deadline=$((SECONDS + 10)) pause=0.02 procs pid
  while [ -d "$dir" ]; do
    if [ -e "$dir/cgroup.kill" ]; then
      # v2 (Linux 5.14 on): the kernel kills the whole subtree, forks included.
      echo 1 > "$dir/cgroup.kill" 2>/dev/null || true
    else
      # v1 (or an older v2): forks stopped first where pids.max can say so,
      # then each process of each cgroup.procs.
      [ ! -e "$dir/pids.max" ] || echo 0 > "$dir/pids.max" 2>/dev/null || true
      while IFS= read -r procs; do
        while IFS= read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done < "$procs"
      done < <(find "$dir" -name cgroup.procs 2>/dev/null)
    fi
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ -d "$dir" ] || return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "sandbox: could not remove the sandbox's cgroup $dir; left (directory: its processes):" >&2
      find "$dir" -depth -type d 2>/dev/null | while IFS= read -r left; do
        echo "  $left: $(paste -sd' ' "$left/cgroup.procs" 2>/dev/null)" >&2
      done
      return 1
    fi
    sleep "$pause"
    pause=$(awk -v p="$pause" 'BEGIN { print (p * 2 < 0.5) ? p * 2 : 0.5 }')
  done
}

# remove_sandbox_cgroups ROOT...: removes S in each ROOT; fails if any is left.
remove_sandbox_cgroups() {
  local root failed=0
  for root in "$@"; do
    remove_cgroup_tree "$root$sandbox_cgroup" || failed=1
  done
  return "$failed"
}

# start_time PID: when PID started (field 22 of /proc/PID/stat, after the
# command name, which may hold blanks): with the PID, names one process for good.
start_time() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a fields <<< "${stat##*) }"
  echo "${fields[19]}"
}

# clean_when_closed ROOT...: the cleaner. Reads the sandbox's PID and start time
# from standard input, then waits for end-of-file there: this script has ended,
# however. A sandbox whose PID still names the same process (this script was
# SIGKILLed before setpriv set the death signal) is killed; then S goes.
clean_when_closed() {
  local pid="" started="" _
  trap '' INT TERM HUP
  read -r pid started || true
  while read -r _; do :; done
  if [ -n "$pid" ] && [ "$(start_time "$pid")" = "$started" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    # Until it has gone (or, its parent gone, been reaped by init): 5 s at most.
    for _ in $(seq 50); do
      [ "$(start_time "$pid")" = "$started" ] || break
      [ "$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" != Z ] || break
      sleep 0.1
    done
  fi
  remove_sandbox_cgroups "$@"
}

mapfile -t roots < <(cgroup_roots)
base=${NSLAB_CGROUP_BASE:-}
base=${base%/}
sandbox_cgroup=$base/nslab-sandbox.$$
for root in "${roots[@]}"; do
  if [ -n "$base" ] && [ ! -d "$root$base" ]; then
    echo "sandbox: NSLAB_CGROUP_BASE=$base is not a cgroup of $root: no such directory $root$base" >&2
    exit 125
  fi
done

# The cleaner first, before S exists: from the moment S does, something that
# outlives this script will remove it. Its standard output is not the
# command's: a reader of this script's output (a pipe) is not kept waiting.
exec {cleaner_pipe}> >(exec setsid -w bash -c "sandbox_cgroup=$(printf %q "$sandbox_cgroup")
$(declare -f remove_cgroup_tree remove_sandbox_cgroups start_time clean_when_closed)
clean_when_closed \"\$@\"" sandbox-cleaner "${roots[@]}" >/dev/null)
cleaner=$!

# finish STATUS: end of file for the cleaner, which removes S now; exits with
# STATUS, or 125 when STATUS is 0 but the cleaner could not remove all of S.
finish() {
  local status=$1 cleaned
  trap '' INT TERM HUP
  exec {cleaner_pipe}>&-
  wait "$cleaner"
  cleaned=$?
  [ "$cleaned" = 0 ] || [ "$status" != 0 ] || status=125
  exit "$status"
}

# Until the sandbox runs, a signal ends this script (and the cleaner removes S).
trap 'finish 130' INT
trap 'finish 143' TERM
trap 'finish 129' HUP
for root in "${roots[@]}"; do
  mkdir "$root$sandbox_cgroup" || { echo "sandbox: mkdir $root$sandbox_cgroup failed" >&2; finish 125; }
done
# Pure v2: the controllers lab 08 limits with, enabled below the root (a
# controller the kernel has not got, or refuses, is left to the program to
# name). This is a setting of the root, not a thing left behind: the program,
# run as root, enables them there itself.
if [ "${roots[*]}" = /sys/fs/cgroup ]; then
  for controller in memory pids cpu; do
    grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers || continue
    grep -qw "$controller" /sys/fs/cgroup/cgroup.subtree_control && continue
    echo "+$controller" > /sys/fs/cgroup/cgroup.subtree_control ||
      echo "sandbox: could not enable the $controller controller in /sys/fs/cgroup/cgroup.subtree_control" >&2
  done
fi
[ ${#roots[@]} -eq 0 ] || export NSLAB_CGROUP_BASE=$sandbox_cgroup

# --- the namespaces ----------------------------------------------------------------

set +e
# setpriv --pdeathsig: unshare dies with this script, even of SIGKILL; unshare's
# --kill-child: the sandbox's first process dies with unshare — and with it
# every process of the sandbox's PID namespace. Neither holds the cleaner's pipe.
# trap - INT QUIT: bash starts a background command with SIGINT and SIGQUIT
# ignored, and a script started so cannot trap them (POSIX), so the SIGINT
# forwarded below would be lost on COMMAND; it gets them as this script got
# them (ignored only when they were ignored here already).
{
  trap - INT QUIT
  exec setpriv --pdeathsig KILL -- \
    unshare --uts --ipc --net --mount --propagation private --pid --fork --kill-child --mount-proc \
    -- sh -c 'ip link set lo up 2>/dev/null; exec "$@"' sandbox "$@" {cleaner_pipe}>&-
} &
sandbox=$!
# (Should the cleaner have gone, the write fails rather than kill this script
# with SIGPIPE; SIGPIPE is not ignored here, for the command would inherit that.)
(trap '' PIPE; echo "$sandbox $(start_time "$sandbox")" >&"$cleaner_pipe") 2>/dev/null

# forward SIGNAL: to every process of the sandbox's PID namespace; then, after
# 5 seconds, SIGKILL to unshare for what has not ended. (unshare blocks SIGINT
# and SIGTERM; the sandbox's PID 1 takes a signal from outside only if it has
# a handler for it.) Killed only while bash has not reaped it (it reaps its
# children as they end, even in a trap): until then its PID is still its own.
running() { jobs -pr | grep -qx "$1"; }
signal="" signals=0
forward() {
  local first proc deadline=$((SECONDS + 5))
  signal=$1 signals=$((signals + 1))
  first=$(cat "/proc/$sandbox/task/$sandbox/children" 2>/dev/null)
  first=${first%% *}
  if [ -n "$first" ]; then
    # -ef: the same namespace (stat of ns/pid gives the namespace's inode).
    for proc in /proc/[0-9]*; do
      [ "$proc/ns/pid" -ef "/proc/$first/ns/pid" ] && kill -s "$signal" "${proc#/proc/}" 2>/dev/null
    done
  fi
  while [ "$SECONDS" -le "$deadline" ]; do
    running "$sandbox" || return 0
    sleep 0.1
  done
  kill -KILL "$sandbox" 2>/dev/null
}
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP

# A trapped signal interrupts wait; the sandbox is waited for again until it
# has ended (bash keeps the status of a child it has reaped).
while :; do
  before=$signals
  wait "$sandbox"
  status=$?
  [ "$signals" != "$before" ] || break
done
case $signal in
  INT) status=130 ;;
  TERM) status=143 ;;
  HUP) status=129 ;;
esac
finish "$status"
