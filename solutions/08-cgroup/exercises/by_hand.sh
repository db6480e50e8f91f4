#!/usr/bin/env bash
# Lab 08, exercise 1 "the same limits, by hand" — a solution.
#
#   by_hand.sh COMMAND [ARG...]
#
# Gives COMMAND the limits of `08-cgroup --memory 48M --pids 8 --cpus 0.5` with
# nothing but mkdir, echo, cat and rmdir under /sys/fs/cgroup: makes a group
# named by-hand, writes the limits into it, moves a shell in, which then execs
# COMMAND, prints what the kernel counted, and removes the group again, on
# every path (Ctrl-C too). Each step is printed on stderr as you would type it
# ("# " before a command, its output under it); COMMAND's output is its own.
# Exit status: COMMAND's (128+9 when the OOM killer ended it). Needs root.
#
# The layout is told by the filesystem at /sys/fs/cgroup, as 08-cgroup tells it:
#   v2            one directory, /sys/fs/cgroup/by-hand, for every controller;
#   v1 or hybrid  one directory per controller's hierarchy:
#                 /sys/fs/cgroup/memory/by-hand, .../pids/by-hand, .../cpu/by-hand.
# Not under nslab/: a run of 08-cgroup would take a directory there whose lock
# is free for one its runtime left behind, and sweep it.
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: by_hand.sh COMMAND [ARG...]" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "by_hand.sh: needs root: the groups at the top of /sys/fs/cgroup are root's" >&2
  exit 2
fi

# step COMMAND: prints COMMAND as typed, then runs it (a line of shell).
step() {
  printf '# %s\n' "$1" >&2
  eval "$1" >&2
}

made=()  # the directories this run made: cleanup removes these and no other
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local dir i
  set +e
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do
    dir=${made[i]}
    # A group that holds a process cannot be removed (EBUSY): end them first.
    # v2 kills the whole group at once, and stops its forks; v1 has no such
    # file: kill each PID, until the list stays empty.
    if [ -e "$dir/cgroup.kill" ]; then
      step "echo 1 > $dir/cgroup.kill"
    else
      step "for try in \$(seq 50); do grep -q . $dir/cgroup.procs || break; kill -9 \$(cat $dir/cgroup.procs); sleep 0.1; done"
    fi
    # The kernel frees a group a moment after its last process has gone: retry
    # while rmdir says EBUSY (5 s at most).
    step "for try in \$(seq 50); do rmdir $dir 2>/dev/null && break; sleep 0.1; done"
    [ ! -d "$dir" ] || echo "by_hand.sh: could not remove $dir (still in it: $(xargs < "$dir/cgroup.procs"))" >&2
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  # --- v2: one hierarchy, one directory -----------------------------------------
  G=/sys/fs/cgroup/by-hand
  # Controllers must be handed down by the parent (the root here) before its
  # children have their files; systemd has usually done so already.
  step "echo '+memory +pids +cpu' > /sys/fs/cgroup/cgroup.subtree_control"
  step "mkdir $G"; made+=("$G")
  step "echo 48M > $G/memory.max"                                  # --memory 48M
  [ ! -e "$G/memory.swap.max" ] || step "echo 0 > $G/memory.swap.max"  # and no swap to escape to
  step "echo 8 > $G/pids.max"                                       # --pids 8
  step "echo '50000 100000' > $G/cpu.max"                           # --cpus 0.5: 50 ms in every 100 ms
  # The shell goes into by-hand itself: a leaf, which enables nothing below it
  # (no internal processes).
  procs=("$G/cgroup.procs")
  counters=("grep -w oom_kill $G/memory.events" "cat $G/pids.events" "grep -w nr_throttled $G/cpu.stat")
else
  # --- v1 (and hybrid): one hierarchy per controller ----------------------------
  M=/sys/fs/cgroup/memory/by-hand P=/sys/fs/cgroup/pids/by-hand C=/sys/fs/cgroup/cpu/by-hand
  for dir in "$M" "$P" "$C"; do step "mkdir $dir"; made+=("$dir"); done
  step "echo 48M > $M/memory.limit_in_bytes"                        # --memory 48M
  # memory+swap, where swap is accounted: the same, so no swap to escape to.
  [ ! -e "$M/memory.memsw.limit_in_bytes" ] || step "echo 48M > $M/memory.memsw.limit_in_bytes"
  step "echo 8 > $P/pids.max"                                       # --pids 8
  step "echo 100000 > $C/cpu.cfs_period_us"                         # --cpus 0.5: 50 ms
  step "echo 50000 > $C/cpu.cfs_quota_us"                           #   in every 100 ms
  procs=("$M/cgroup.procs" "$P/cgroup.procs" "$C/cgroup.procs")
  counters=("grep -w oom_kill $M/memory.oom_control" "cat $P/pids.events" "grep -w nr_throttled $C/cpu.stat")
fi

# A shell writes its own PID ($$) into each cgroup.procs, then becomes COMMAND:
# COMMAND, and everything it forks, is born inside the limits.
printf '# sh -c '\''%s'\'' sh %s\n' "for f in ${procs[*]}; do echo \$\$ > \$f; done; exec \"\$@\"" "${*@Q}" >&2
# (In the background, so that a signal to this script is handled at once: bash
# runs a trap only once the command in the foreground has ended. Its standard
# input given explicitly, or bash would make it /dev/null.)
sh -c 'for f in '"${procs[*]}"'; do echo $$ > $f; done; exec "$@"' sh "$@" <&0 &
status=0
wait "$!" || status=$?

# What the kernel counted: OOM kills, refused forks, periods held back.
for counter in "${counters[@]}"; do step "$counter"; done
exit "$status"
