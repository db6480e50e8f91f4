#!/usr/bin/env bash
# Puts every lab under load: a thousand containers back to back per lab, then
# many at once, and shows that every exit status is right, that the rate does
# not fall as the containers add up, and that nothing grows on the host.
#
#   scripts/load.sh [--count N] [--loops L] [--per-loop M] [--lab NN]... [--quick]
#                   [--max-drift PCT]
#
#   --count N       containers back to back in each row (default 1000)
#   --loops L       loops run at the same time in the concurrent run (default 20;
#                   0: no concurrent run; at most 250)
#   --per-loop M    containers in each of those loops, back to back (default 50)
#   --lab NN        only lab NN (01..08, or its name: 05-net); repeatable
#   --quick         a run of a few seconds for the test command: --count 20,
#                   --loops 4, --per-loop 5, and shorter waits for the kernel
#                   (3 s and 10 s, below); options given as well win
#   --max-drift PCT the most the last hundreds may be slower than the first, in %
#                   (default 25)
#
# The rows, one per lab and way of running it: 01-uts, 02-ipc, 03-pid,
# 04-mount; 05-net with --veth 10.200.77.1/24,10.200.77.2/24; 06-user and
# 07-setns as root, and rootless as uid 65534 (through setpriv: no capability,
# no group), when that user may create a user namespace here (else those rows
# are skipped, and say why); 07 --enter, joining one running lab 07 container
# (07-setns --init --pid-file FILE -- sleep infinity), as root and, into a
# rootless one, as uid 65534; 08-cgroup with --memory 64M --pids 64 --cpus 0.5.
# Container K of a row runs `sh -c 'exit S'` with S = K mod 125, and the
# runtime must exit S: every status from 0 to 124 is seen, 125 and up are
# nslab's own (SPEC.md). The concurrent run: L loops at once, each of M
# containers back to back, of the highest lab chosen, with every option of
# its row that touches the host (the default: 08-cgroup with the limits and a
# veth, each loop on a /24 of its own, 10.201.LOOP.0/24).
#
# The table: per row, the containers, the seconds, the rate (containers/s),
# the rate of the first hundreds and of the last hundreds (with six hundreds
# or more: the median of the first three, and of the last three, so that one
# hundred that met a burst of other work on the machine is not taken for a
# trend; with fewer, the first hundred and the last), the drift (the last
# hundreds' rate against the first's, in %: negative is slower), the exits
# that were wrong, and the load average (1 minute) at its start and its end,
# for how busy the machine was; the concurrent run in the same columns (its hundreds are
# hundreds of containers ended, from all loops); then each row's rate per
# hundred, and the host's growth. A drift below -PCT fails the run: a leak or
# a list that grows with every container shows as a slowdown. A row of fewer than 200 containers has no first and
# last hundred: its blocks are half of it, and its drift is shown but not
# judged (a few tenths of a second are at the mercy of whatever else runs).
#
# Where it runs. Inside scripts/sandbox.sh, by itself (it execs itself there
# unless it is in one already: NSLAB_CGROUP_BASE names a live
# /nslab-sandbox.N cgroup and this is not the first PID namespace), so that
# "the host" is a throw-away one: whatever a container leaves is left in the
# sandbox, seen by the checks below, and gone with it. Needs root (the
# sandbox).
#
# The host's growth, measured once after a warm-up (three containers of each
# row, and of the concurrent run's: the first veth, cgroup or user namespace
# makes the kernel allocate what it then keeps) and again when every row and
# the concurrent run have ended. Two kinds of figure, two kinds of tolerance:
#
#  - The sandbox's own, where nothing else on the machine runs: its processes
#    (its PID namespace), the file descriptors of this shell, the namespaces
#    of its live processes (distinct inodes of /proc/PID/ns/*), its network
#    links, addresses and routes, its mount table, its System V IPC objects,
#    and the cgroup directories of its subtree (NSLAB_CGROUP_BASE, in every
#    hierarchy). Tolerance: none; what appeared is named. The kernel frees a
#    network namespace, and the veth in it, after the last process has left
#    (in a workqueue, not in exit(2)), and a cgroup a moment after its last
#    process: the state is polled until it matches, 10 s at most (3 s with
#    --quick), and only what is still there then counts.
#
#  - The machine's, which every other process moves too (builds, others'
#    sandboxes, the page cache): file handles (/proc/sys/fs/file-nr), the
#    kernel's unreclaimable slab memory (SUnreclaim: namespaces, mounts,
#    cgroups and sockets live there, and no cache pressure gives it back),
#    MemAvailable, the objects of the slab caches of namespaces and mounts
#    (/proc/slabinfo: net_namespace, pid_namespace, user_namespace,
#    uts_namespace, mnt_cache, where the kernel keeps them apart), and the
#    cgroups of the memory, pids and cpu hierarchies (/proc/cgroups, which
#    counts a removed cgroup until the kernel has freed it: a "dying" one).
#    Each may grow by a floor, for the rest of the machine (more than it was
#    seen to swing by in a minute while others built here), plus a little per
#    container (N: every container of the run, 13 000 by default), so that
#    a leak in every container of one row shows:
#      file handles   600 + N/20 (one left open by every container of the
#                     run, or two by every container of one row)
#      SUnreclaim     8 MiB + 1 KiB x N (a network namespace alone takes tens
#                     of KiB)
#      MemAvailable   may fall by 1 GiB + 64 KiB x N: a compiler next door
#                     takes and gives back hundreds of MiB, and the page cache
#                     comes and goes; this catches only a leak of 64 KiB or
#                     more in every container (a dying memory cgroup with its
#                     per-CPU data, pages no one can reach)
#      slab objects,  200 + N/100 (slabinfo counts move a slab, dozens of
#      cgroups        objects, at a time; a namespace, mount or cgroup left by
#                     every container of one row is a thousand)
#    These are polled until within bounds, 30 s at most (10 s with --quick):
#    RCU and the network namespace workqueue free late, and a burst elsewhere
#    passes. Slab itself is shown, not judged: its reclaimable half
#    (dentries, inodes) follows every file that any process touches.
#
# Exit status: 0 when every exit was right, no judged drift is beyond the
# bound and nothing grew; 1 otherwise (the last line says what); 2 for a bad
# argument (one line); 125 when it cannot run here (not root, no build, no
# sandbox). The rate is the machine's: on a busy one (others building) measure
# again on a quiet one; the first lines say how loaded it was.
#
# NSLAB_BUILD_DIR: the build whose programs are run (default: build/).
# NSLAB_LOAD_PROGRAM: a program run instead of every row's (with the same
# arguments), for the tests' negative controls.
set -uo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
self=$top/scripts/load.sh

usage="usage: scripts/load.sh [--count N] [--loops L] [--per-loop M] [--lab NN]... [--quick] [--max-drift PCT]"
bad_usage() { echo "load: $1; $usage" >&2; exit 2; }

count="" loops="" per_loop="" max_drift="" quick=no labs=()
# number OPTION VALUE MIN MAX: VALUE is a whole number from MIN to MAX.
number() {
  case $2 in
    '' | *[!0-9]* | 0?*) bad_usage "$1 takes a whole number from $3 to $4, not '$2'" ;;
  esac
  if [ "${#2}" -gt 7 ] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
    bad_usage "$1 takes a whole number from $3 to $4, not '$2'"
  fi
}
args=("$@")
while [ $# -gt 0 ]; do
  option=$1 value="" given=no
  case $option in
    --*=*) value=${option#*=} option=${option%%=*} given=yes ;;
  esac
  case $option in
    --count | --loops | --per-loop | --lab | --max-drift)
      if [ "$given" = no ]; then
        [ $# -ge 2 ] || bad_usage "$option needs a value"
        value=$2
        shift
      fi ;;
    -h | --help | --quick)
      [ "$given" = no ] || bad_usage "$option takes no value" ;;
  esac
  case $option in
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --count) number --count "$value" 1 1000000; count=$value ;;
    --loops) number --loops "$value" 0 250; loops=$value ;;
    --per-loop) number --per-loop "$value" 1 1000000; per_loop=$value ;;
    --max-drift) number --max-drift "$value" 0 1000; max_drift=$value ;;
    --quick) quick=yes ;;
    --lab)
      case $value in
        0[1-8] | 0[1-8]-*) ;;
        *) bad_usage "--lab takes a lab's number, 01 to 08 (or its name: 05-net), not '$value'" ;;
      esac
      case $value in
        ??-*) [ -d "$top/solutions/$value" ] || bad_usage "--lab $value: no such lab (the labs: $(cd "$top/solutions" && echo 0[1-8]-*))" ;;
      esac
      labs+=("${value:0:2}") ;;
    *) bad_usage "unknown argument '$option'" ;;
  esac
  shift
done
if [ "$quick" = yes ]; then
  count=${count:-20} loops=${loops:-4} per_loop=${per_loop:-5}
fi
sandbox_wait=10 machine_wait=30
[ "$quick" = no ] || sandbox_wait=3 machine_wait=10
count=${count:-1000} loops=${loops:-20} per_loop=${per_loop:-50} max_drift=${max_drift:-25}
[ ${#labs[@]} -gt 0 ] || labs=(01 02 03 04 05 06 07 08)
mapfile -t labs < <(printf '%s\n' "${labs[@]}" | sort -u)

# cannot WHY: this machine cannot run the load; one line, exit 125.
cannot() { echo "load: cannot run here: $*" >&2; exit 125; }
[ "$(id -u)" = 0 ] ||
  cannot "needs root (it runs in scripts/sandbox.sh, which creates namespaces, and labs 01-05 and 08 need root); run it as root (sudo)"

build=${NSLAB_BUILD_DIR:-$top/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/bin/solutions
program_of() {  # program_of NN: the program that row runs
  if [ -n "${NSLAB_LOAD_PROGRAM:-}" ]; then
    echo "$NSLAB_LOAD_PROGRAM"
  else
    echo "$bin/$(cd "$top/solutions" && echo "$1"-*)"
  fi
}
for lab in "${labs[@]}"; do
  program=$(program_of "$lab")
  [ -x "$program" ] ||
    cannot "no program at $program: build first (cmake --preset default && cmake --build --preset default), or set NSLAB_BUILD_DIR"
done

# --- into the sandbox -------------------------------------------------------------

# in_sandbox: this is scripts/sandbox.sh's throw-away host: NSLAB_CGROUP_BASE
# names a nslab-sandbox.N cgroup that exists, and the PID namespace is not the
# first one (whose inode the kernel fixes: PROC_PID_INIT_INO).
in_sandbox() {
  local root
  [[ ${NSLAB_CGROUP_BASE:-} =~ /nslab-sandbox\.[0-9]+$ ]] || return 1
  [ "$(readlink /proc/self/ns/pid)" != "pid:[4026531836]" ] || return 1
  for root in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/memory /sys/fs/cgroup/pids; do
    [ ! -d "$root$NSLAB_CGROUP_BASE" ] || return 0
  done
  return 1
}
if ! in_sandbox; then
  [ -x "$top/scripts/sandbox.sh" ] || cannot "no $top/scripts/sandbox.sh to run in"
  exec "$top/scripts/sandbox.sh" bash "$self" "${args[@]}"
fi

# --- the rows -------------------------------------------------------------------------

work=$(mktemp -d /tmp/nslab-load.XXXXXX) || cannot "mktemp -d /tmp/nslab-load.XXXXXX failed"
chmod 755 "$work"
targets=()
# shellcheck disable=SC2317  # run by the EXIT trap
finish() {
  local pid
  for pid in "${targets[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

user_uid=65534
user_gid=$(getent passwd "$user_uid" | cut -d: -f4)
user_gid=${user_gid:-$user_uid}
as_user=(setpriv "--reuid=$user_uid" "--regid=$user_gid" --clear-groups --)
rootless_why=""
if ! command -v setpriv >/dev/null; then
  rootless_why="no setpriv(1) (util-linux) to drop to uid $user_uid"
elif ! why=$(cd / && "${as_user[@]}" unshare --user --map-root-user true 2>&1); then
  rootless_why="uid $user_uid cannot create a user namespace here (unshare -Ur true: ${why:-failed}); scripts/doctor.sh says what blocks it"
fi

veth=(--veth "10.200.77.1/24,10.200.77.2/24")
limits=(--memory 64M --pids 64 --cpus 0.5)
# A row: NAME|LAB|WHO (root, user)|KIND (create, enter)|OPTIONS
rows=()
for lab in "${labs[@]}"; do
  case $lab in
    01) rows+=("01-uts|01|root|create|") ;;
    02) rows+=("02-ipc|02|root|create|") ;;
    03) rows+=("03-pid|03|root|create|") ;;
    04) rows+=("04-mount|04|root|create|") ;;
    05) rows+=("05-net --veth|05|root|create|${veth[*]}") ;;
    06) rows+=("06-user|06|root|create|" "06-user rootless|06|user|create|") ;;
    07) rows+=("07-setns|07|root|create|" "07-setns rootless|07|user|create|"
               "07 --enter|07|root|enter|" "07 --enter rootless|07|user|enter|") ;;
    08) rows+=("08-cgroup limits|08|root|create|${limits[*]}") ;;
  esac
done

# container_loop COUNT OUT COMMAND...: runs COUNT containers back to back,
# container K as COMMAND -- sh -c 'exit S' (S = K mod 125), and writes to OUT
# when it started, when each container ended, and each wrong exit ("bad K GOT
# EXPECTED the first line of its stderr"). No process of the loop's own
# between two containers: the times are the containers'.
container_loop() {
  local count=$1 out=$2 k s got start ends=() bad=() line
  shift 2
  start=$EPOCHREALTIME
  for ((k = 0; k < count; k++)); do
    s=$((k % 125))
    "$@" -- sh -c "exit $s" < /dev/null > /dev/null 2> "$out.err"
    got=$?
    ends[k]=$EPOCHREALTIME
    if [ "$got" != "$s" ]; then
      line=""
      IFS= read -r line < "$out.err"
      bad+=("bad $k $got $s ${line:0:200}")
    fi
  done
  {
    echo "start $start"
    printf 'end %s\n' "${ends[@]}"
    [ ${#bad[@]} -eq 0 ] || printf '%s\n' "${bad[@]}"
  } > "$out"
}

# start_target WHO DIR: a lab 07 container to join, its init waiting for
# SIGTERM; sets target (its PID, from its pid file) and target_runtime.
target="" target_runtime=""
start_target() {
  local who=$1 dir=$2 runner=() _
  [ "$who" = root ] || runner=("${as_user[@]}")
  (cd / && exec "${runner[@]}" "$(program_of 07)" --init --pid-file "$dir/target.pid" -- sleep infinity) \
    < /dev/null > "$dir/target.out" 2>&1 &
  target_runtime=$!
  targets+=("$target_runtime")
  for _ in $(seq 100); do
    [ -s "$dir/target.pid" ] && break
    sleep 0.05
  done
  [ -s "$dir/target.pid" ] || return 1
  read -r target < "$dir/target.pid"
}

# stop_target DIR: SIGTERM to the runtime (forwarded to the container's
# init), waited for; its pid file must be gone.
stop_target() {
  local dir=$1
  kill -TERM "$target_runtime" 2>/dev/null
  wait "$target_runtime" 2>/dev/null
  targets=()
  if [ -e "$dir/target.pid" ]; then
    echo "load: the joined container's runtime left its pid file behind ($dir/target.pid)" >&2
    return 1
  fi
}

# run_row ROW COUNT OUT: runs one row's COUNT containers, as its user, and
# writes container_loop's report to OUT. Fails (saying why) when the row
# cannot run at all.
run_row() {
  local name lab who kind options dir cmd=() runner=() status=0
  IFS='|' read -r name lab who kind options <<< "$1"
  dir=$(mktemp -d "$work/row.XXXXXX")
  chmod 755 "$dir"
  [ "$who" = root ] || { runner=("${as_user[@]}"); chown "$user_uid:$user_gid" "$dir"; }
  cmd=("$(program_of "$lab")")
  # shellcheck disable=SC2206  # the options are words, split on purpose
  [ -z "$options" ] || cmd+=($options)
  if [ "$kind" = enter ]; then
    if ! start_target "$who" "$dir"; then
      echo "load: $name: the container to join did not start (no pid file after 5 s): $(head -n 1 "$dir/target.out")" >&2
      stop_target "$dir"
      rm -rf "$dir"
      return 1
    fi
    cmd+=(--enter "$target")
  fi
  # The loop runs as the row's user, in a bash of its own, so that the times
  # hold no setpriv.
  (cd / && "${runner[@]}" bash -c "$(declare -f container_loop)"'
    container_loop "$@"' container_loop "$2" "$dir/report" "${cmd[@]}")
  if [ ! -s "$dir/report" ]; then
    echo "load: $name: the loop ended without a report" >&2
    status=1
  fi
  if [ "$kind" = enter ]; then stop_target "$dir" || status=1; fi
  [ "$status" != 0 ] || cp "$dir/report" "$3"
  rm -rf "$dir"
  return "$status"
}

# summarize NAME REPORT...: the table's row for the reports (one, or the
# concurrent run's loops, whose end times are merged; LOAD: the load average
# at its start and end), then "per NAME|BLOCK RATE..." and "drift
# NAME|DRIFT|JUDGED" lines. Blocks: hundreds (of containers in the order they
# ended), or halves of a row of fewer than 200; a block's rate is its
# containers over the time from the end of the one before it (or the start)
# to the end of its last. The first and the last rate: of the first block and
# the last, or with six blocks or more the median of the first three and of
# the last three. Drift is judged only with two full hundreds.
summarize() {
  local name=$1 load=$2
  shift 2
  awk -v name="$name" -v load="$load" '
    $1 == "start" { if (start == "" || $2 < start) start = $2 }
    $1 == "end" { ends[++n] = $2 }
    $1 == "bad" { bad++ }
    END {
      heap_sort(ends, n)
      block = (n >= 200) ? 100 : int(n / 2)
      if (block < 1) block = 1
      total = ends[n] - start
      rate = (total > 0) ? n / total : 0
      blocks = int(n / block)
      if (blocks >= 6) {
        first = median3(rate_of(0, block), rate_of(block, block), rate_of(2 * block, block))
        last = median3(rate_of(n - 3 * block, block), rate_of(n - 2 * block, block), rate_of(n - block, block))
      } else {
        first = rate_of(0, block); last = rate_of(n - block, block)
      }
      drift = (first > 0) ? (last / first - 1) * 100 : 0
      judged = (n >= 200) ? "judged" : "shown"
      printf "row %-22s %10d %8.2f %8.1f %9.1f %9.1f %8.1f %9d  %s\n", name, n, total, rate, first, last, drift, bad, load
      line = "per " name "|" block
      for (b = 0; b + block <= n; b += block) line = line sprintf(" %.0f", rate_of(b, block))
      print line
      printf "drift %s|%.1f|%s\n", name, drift, judged
    }
    # from_time(FROM): when the block after container FROM (in order of
    # their end) began: the end of container FROM, or the start.
    function from_time(from) { return (from == 0) ? start : ends[from] }
    # rate_of(FROM, COUNT): containers FROM+1..FROM+COUNT per second.
    function rate_of(from, count,   t0) {
      t0 = from_time(from)
      return (ends[from + count] > t0) ? count / (ends[from + count] - t0) : 0
    }
    function median3(a, b, c) {
      if ((a >= b && a <= c) || (a <= b && a >= c)) return a
      if ((b >= a && b <= c) || (b <= a && b >= c)) return b
      return c
    }
    function heap_sort(a, size,   i, t) {
      for (i = int(size / 2); i >= 1; i--) sift(a, i, size)
      for (i = size; i > 1; i--) { t = a[1]; a[1] = a[i]; a[i] = t; sift(a, 1, i - 1) }
    }
    function sift(a, i, size,   c, t) {
      while (2 * i <= size) {
        c = 2 * i
        if (c < size && a[c + 1] > a[c]) c++
        if (a[i] >= a[c]) return
        t = a[i]; a[i] = a[c]; a[c] = t; i = c
      }
    }' "$@"
}

# --- the host's state -------------------------------------------------------------------

# cgroup_roots: the hierarchies where a container's cgroup may go (as the
# sandbox makes its subtree in them).
cgroup_roots() {
  local dir
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    echo /sys/fs/cgroup
    return
  fi
  for dir in /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/cpu /sys/fs/cgroup/unified; do
    case $(stat -f -c %T "$dir" 2>/dev/null) in cgroupfs | cgroup2fs) echo "$dir" ;; esac
  done
}
mapfile -t cg_roots < <(cgroup_roots)

# sandbox_state DIR: the sandbox's own state, one file per kind, in DIR.
# Processes and this shell's fds are counted here, in this shell, with no
# process of its own running meanwhile.
sandbox_state() {
  local dir=$1 procs fds
  mkdir -p "$dir"
  procs=(/proc/[0-9]*)
  fds=(/proc/$$/fd/*)
  printf '%s\n' "${procs[@]#/proc/}" > "$dir/processes"
  printf '%s\n' "${fds[@]#/proc/$$/fd/}" > "$dir/fds of this shell"
  # The namespaces of the processes alive now (the find(1) itself is in ours).
  find /proc/[0-9]*/ns -type l -printf '%l\n' 2>/dev/null | sort -u > "$dir/namespaces"
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort > "$dir/links"
  ip -o addr show | awk '{ print $2, $3, $4 }' | sort > "$dir/addresses"
  ip route show table all | sort > "$dir/routes"
  # Mount point, file system type and source (after the " - " that ends the
  # optional fields).
  awk '{ for (i = 7; $i != "-"; i++) ; print $5, $(i + 1), $(i + 2) }' /proc/self/mountinfo | sort > "$dir/mounts"
  ipcs -q -m -s 2>/dev/null | grep '^0x' | sort > "$dir/IPC objects"
  local root
  for root in "${cg_roots[@]}"; do
    find "$root$NSLAB_CGROUP_BASE" -type d 2>/dev/null
  done | sort > "$dir/cgroup directories"
}
sandbox_kinds=(processes "fds of this shell" namespaces links addresses routes mounts "IPC objects" "cgroup directories")

# machine_state: the machine's figures, "NAME VALUE" a line.
slab_caches=(net_namespace pid_namespace user_namespace uts_namespace mnt_cache)
machine_state() {
  awk '{ print "file-handles", $1 }' /proc/sys/fs/file-nr
  awk '$1 == "MemAvailable:" || $1 == "SUnreclaim:" || $1 == "Slab:" { sub(":", "", $1); print $1, $2 }' /proc/meminfo
  awk -v caches="${slab_caches[*]}" '
    BEGIN { n = split(caches, c, " "); for (i = 1; i <= n; i++) want[c[i]] = 1 }
    $1 in want { print "slab:" $1, $2 }' /proc/slabinfo 2>/dev/null
  awk '!/^#/ && ($1 == "memory" || $1 == "pids" || $1 == "cpu") { print "cgroups:" $1, $3 }' /proc/cgroups
}

# tolerance NAME N: how much NAME may grow (MemAvailable: fall) after N containers.
tolerance() {
  case $1 in
    file-handles) echo $((600 + $2 / 20)) ;;
    SUnreclaim) echo $((8192 + $2)) ;;
    MemAvailable) echo $((1048576 + 64 * $2)) ;;
    slab:* | cgroups:*) echo $((200 + $2 / 100)) ;;
    *) echo "" ;;  # shown, not judged
  esac
}

# machine_within BEFORE AFTER N: every judged figure within its tolerance.
machine_within() {
  local name before after limit
  while read -r name before; do
    after=$(awk -v n="$name" '$1 == n { print $2 }' "$2")
    limit=$(tolerance "$name" "$3")
    if [ -z "$limit" ] || [ -z "$after" ]; then continue; fi
    if [ "$name" = MemAvailable ]; then
      [ $((before - after)) -le "$limit" ] || return 1
    else
      [ $((after - before)) -le "$limit" ] || return 1
    fi
  done < "$1"
}

# --- the run --------------------------------------------------------------------------

load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "load: $(uname -r), cgroups: $(stat -f -c %T /sys/fs/cgroup) at /sys/fs/cgroup, $(nproc) CPUs, load average $load_before at the start"
plan="then $loops loops of $per_loop at once"
[ "$loops" != 0 ] || plan="no concurrent run (--loops 0)"
echo "load: $count containers a row, $plan; in scripts/sandbox.sh (NSLAB_CGROUP_BASE=$NSLAB_CGROUP_BASE)"

failures=()
# Rows that cannot run here: said, and left out.
runnable=()
for row in "${rows[@]}"; do
  IFS='|' read -r name _ who _ <<< "$row"
  if [ "$who" = user ] && [ -n "$rootless_why" ]; then
    echo "load: skipped: $name: $rootless_why"
    continue
  fi
  runnable+=("$row")
done

# The warm-up: three containers of each row, not counted.
for row in "${runnable[@]}"; do
  run_row "$row" 3 "$work/warm" || failures+=("${row%%|*}: the warm-up could not run (above)")
done
# The concurrent run's container (the highest lab chosen, as root), with the
# options of its row that touch the host, and from lab 05 on a veth on a /24
# of each loop's own (concurrent_command LOOP sets conc_cmd).
top_lab=${labs[${#labs[@]} - 1]}
conc_name="$(cd "$top/solutions" && echo "$top_lab"-*)"
[ "$top_lab" != 08 ] || conc_name+=" limits"
[ "$top_lab" -lt 05 ] || conc_name+=" --veth"
conc_title="$conc_name, $loops loops of $per_loop at once"
conc_name="$loops loops x $per_loop"
concurrent_command() {
  conc_cmd=("$(program_of "$top_lab")")
  [ "$top_lab" != 08 ] || conc_cmd+=("${limits[@]}")
  [ "$top_lab" -lt 05 ] || conc_cmd+=(--veth "10.201.$1.1/24,10.201.$1.2/24")
}
if [ "$loops" != 0 ]; then
  concurrent_command 0
  container_loop 3 "$work/warm" "${conc_cmd[@]}"
fi
sandbox_state "$work/before"
machine_state > "$work/machine.before"
started=$SECONDS

printf '\n%-22s %10s %8s %8s %9s %9s %8s %9s  %s\n' lab containers seconds "rate/s" "first/s" "last/s" "drift %" "bad exits" "load average"
total=0 names=() summaries=() results=()
for row in "${runnable[@]}"; do
  name=${row%%|*}
  report=$work/report.${#names[@]}
  read -r load_start _ < /proc/loadavg
  if run_row "$row" "$count" "$report"; then
    read -r load_end _ < /proc/loadavg
    summarize "$name" "$load_start -> $load_end" "$report" > "$report.summary"
    sed -n 's/^row //p' "$report.summary"
    names+=("$name") summaries+=("$report.summary") results+=("$report")
    total=$((total + count))
  else
    failures+=("$name: could not run (above)")
  fi
done

# The concurrent run: its loops started together, each a bash of its own.
if [ "$loops" != 0 ]; then
  conc_dir=$work/concurrent
  mkdir -p "$conc_dir"
  pids=()
  read -r load_start _ < /proc/loadavg
  for ((loop = 0; loop < loops; loop++)); do
    concurrent_command "$loop"
    container_loop "$per_loop" "$conc_dir/loop.$loop" "${conc_cmd[@]}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  read -r load_end _ < /proc/loadavg
  missing=0
  for ((loop = 0; loop < loops; loop++)); do [ -s "$conc_dir/loop.$loop" ] || missing=$((missing + 1)); done
  if [ "$missing" != 0 ]; then
    failures+=("concurrent run: $missing loop(s) ended without a report")
  else
    echo
    echo "concurrent: $conc_title"
    cat "$conc_dir"/loop.[0-9]* > "$conc_dir/all"
    summarize "$conc_name" "$load_start -> $load_end" "$conc_dir/all" > "$conc_dir/summary"
    sed -n 's/^row //p' "$conc_dir/summary"
    names+=("$conc_name") summaries+=("$conc_dir/summary") results+=("$conc_dir/all")
    total=$((total + loops * per_loop))
  fi
fi
seconds_run=$((SECONDS - started))

# Rates per block, drift, and the wrong exits.
echo
echo "rate per block (containers/s; a block is a hundred, or half a row of fewer than 200):"
for i in "${!names[@]}"; do
  name=${names[i]}
  per=$(sed -n 's/^per //p' "${summaries[i]}")
  block=${per#*|} block=${block%% *}
  printf '  %-36s %s\n' "$name ($block):" "${per#*|"$block" }"
  IFS='|' read -r _ drift judged < <(sed -n 's/^drift //p' "${summaries[i]}")
  if [ "$judged" = judged ] && awk -v d="$drift" -v m="$max_drift" 'BEGIN { exit !(d < -m) }'; then
    failures+=("$name: the last hundreds ran ${drift#-}% slower than the first (at most $max_drift%)")
  fi
  wrong=$(grep -c '^bad ' "${results[i]}")
  if [ "$wrong" != 0 ]; then
    failures+=("$name: $wrong wrong exit status(es)")
    awk -v name="$name" '$1 == "bad" && shown++ < 3 {
      head = sprintf("load: %s: container %d exited %d, not %d", name, $2, $3, $4)
      $1 = $2 = $3 = $4 = ""; sub(/^ +/, "")
      print head ($0 != "" ? ": " $0 : "") }' "${results[i]}" >&2
  fi
done

# --- the host afterwards --------------------------------------------------------------------

# The sandbox's own: polled until equal (the kernel frees a network
# namespace, its veth and a cgroup late), sandbox_wait seconds at most.
deadline=$((SECONDS + sandbox_wait))
while :; do
  rm -rf "$work/after"
  sandbox_state "$work/after"
  same=yes
  for kind in "${sandbox_kinds[@]}"; do
    cmp -s "$work/before/$kind" "$work/after/$kind" || same=no
  done
  if [ "$same" = yes ] || [ "$SECONDS" -ge "$deadline" ]; then break; fi
  sleep 0.2
done
# The machine's: polled until within bounds, machine_wait seconds at most.
deadline=$((SECONDS + machine_wait))
while :; do
  machine_state > "$work/machine.after"
  machine_within "$work/machine.before" "$work/machine.after" "$total" && break
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 0.5
done

echo
echo "the host afterwards (the sandbox's own: exact; waited for the kernel, $sandbox_wait s at most):"
for kind in "${sandbox_kinds[@]}"; do
  b=$(wc -l < "$work/before/$kind") a=$(wc -l < "$work/after/$kind")
  appeared=$(comm -13 "$work/before/$kind" "$work/after/$kind")
  gone=$(comm -23 "$work/before/$kind" "$work/after/$kind")
  verdict=ok
  if [ -n "$appeared" ]; then
    verdict="GREW: $(head -n 3 <<< "$appeared" | paste -sd, | sed 's/,/, /g')"
    [ "$(wc -l <<< "$appeared")" -le 3 ] || verdict+=", ..."
    failures+=("$kind grew by $(wc -l <<< "$appeared")")
  elif [ -n "$gone" ]; then
    verdict="ok (fewer: $(head -n 3 <<< "$gone" | paste -sd, | sed 's/,/, /g'))"
  fi
  printf '  %-22s %7d -> %-7d %s\n' "$kind" "$b" "$a" "$verdict"
done
echo "the machine's (every process on it moves these; tolerance for N = $total containers; waited $machine_wait s at most):"
while read -r name before; do
  after=$(awk -v n="$name" '$1 == n { print $2 }' "$work/machine.after")
  limit=$(tolerance "$name" "$total")
  unit=""
  case $name in MemAvailable | SUnreclaim | Slab) unit=" KiB" ;; esac
  if [ -z "$limit" ]; then
    verdict="shown, not judged"
  elif [ "$name" = MemAvailable ]; then
    verdict="may fall by $limit$unit"
    if [ $((before - after)) -le "$limit" ]; then
      verdict+=": ok"
    else
      verdict+=": FELL by $((before - after))$unit"
      failures+=("MemAvailable fell by $((before - after)) KiB")
    fi
  else
    verdict="may grow by $limit$unit"
    if [ $((after - before)) -le "$limit" ]; then
      verdict+=": ok"
    else
      verdict+=": GREW by $((after - before))$unit"
      failures+=("$name grew by $((after - before))$unit")
    fi
  fi
  printf '  %-22s %10s -> %-10s %+8d  %s\n' "$name" "$before" "$after" $((after - before)) "$verdict"
done < "$work/machine.before"

echo
echo "load: $total containers in ${seconds_run} s; load average $load_before at the start, $(cut -d' ' -f1 /proc/loadavg) at the end ($(nproc) CPUs)"
if [ ${#failures[@]} -gt 0 ]; then
  echo "load: FAILED: $(printf '%s; ' "${failures[@]}" | sed 's/; $//')"
  exit 1
fi
echo "load: ok: every exit status right, no judged drift beyond -$max_drift%, nothing grew"
exit 0
