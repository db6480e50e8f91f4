#!/usr/bin/env bash
# Times each lab's container start against a reference that does the same work
# with the system's tools, in one hyperfine run per pair, and prints for each
# its median time, the spread (standard deviation) and the ratio of the
# medians. The reference is unshare(1) creating the same namespaces, except for
# the veth (unshare, then ip(8) and nsenter(1)) and for lab 07's join
# (nsenter(1) into the same running container) and for lab 08's limits
# (unshare, with a cgroup made, limited, joined and removed by hand); the
# notes under the table say what each pair compares. Target: each lab at most
# 1.1x its reference.
#
#   scripts/bench.sh [RUNS]        (default 300 runs per command; needs root)
#
# The veth pair runs at most 100 times (each run creates and deletes a link) on
# 10.200.91.0/24, which must be free on the host; the script checks afterwards
# that no link or address of it is left. For lab 07's join, one lab 07
# container runs while that row is measured; it is ended when the script ends
# (on Ctrl-C too), and its pid file must be gone. Lab 08's rows make a cgroup
# per run (the program's, and the reference's); none may be left afterwards.
#
# NSLAB_BUILD_DIR: the build whose programs are timed (default: build/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-300}
build=${NSLAB_BUILD_DIR:-$top/build}
bin=$build/bin/solutions
case $runs in '' | *[!0-9]* | 0) echo "bench: RUNS must be a number above 0, not '$runs'" >&2; exit 2 ;; esac
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (labs 01-05 create namespaces, lab 07 joins a root container, lab 08 makes cgroups, and labs 06-07 are run as uid 65534 through setpriv)" >&2; exit 125; }
[ -x "$bin/08-cgroup" ] ||
  (cd "$top" && cmake --preset default -B "$build" >/dev/null && cmake --build "$build" -j"$(nproc)" >/dev/null)

net=10.200.91
if ip -o addr | grep -q " inet $net\."; then
  echo "bench: $net.0/24 is in use on this host (ip -o addr): the veth pair needs it free" >&2
  exit 1
fi

# Runs the rootless pair as nobody: the same setpriv before both commands, so
# that its cost cancels out.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
all="--uts --ipc --pid --fork --mount --mount-proc --net"

# The veth reference, one bash process per run: a container made by unshare
# that waits on a pipe (read), the veth created straight into its network
# namespace, both ends addressed and raised as 05-net does (lo up, a default
# route inside), then the container ended and the host end deleted. The pipe
# is the container's life line: however bash ends (even SIGKILL), the read
# sees end-of-file, the container exits, and its namespace takes the pair with
# it; on a normal end, Ctrl-C or SIGTERM, finish() also deletes the host end.
# ip and nsenter are run in batch mode (-b), one process per side, and do not
# hold the pipe. It goes to hyperfine in single quotes: it has none of its own.
# shellcheck disable=SC2016  # expanded by the bash that hyperfine runs
veth_reference='set -e
h=nslab-r$$
exec {w}> >(exec unshare '"$all"' sh -c "read _ || :")
p=$!
finish() { rc=$?; set +e; exec {w}>&-; wait "$p"; ip link del "$h" 2>/dev/null; exit "$rc"; }
trap finish EXIT
trap "exit 130" INT TERM
while [ "/proc/$p/ns/net" -ef /proc/self/ns/net ]; do :; done
printf "%s\n" "link add $h type veth peer name eth0 netns $p" "addr add '"$net"'.1/24 dev $h" "link set $h up" |
  ip -b - {w}>&-
printf "%s\n" "link set lo up" "addr add '"$net"'.2/24 dev eth0" "link set eth0 up" "route add default via '"$net"'.1" |
  nsenter -t "$p" -n ip -b - {w}>&-'
veth_runs=$(( runs < 100 ? runs : 100 ))

csv=$(mktemp)
err=$(mktemp)
target_dir="" target_runtime=""
# stop_target: ends lab 07's container to join (SIGTERM to its runtime, which
# forwards it to the container's init) and waits for it; the runtime removes
# its pid file.
stop_target() {
  [ -n "$target_runtime" ] || return 0
  kill -TERM "$target_runtime" 2>/dev/null || true
  wait "$target_runtime" 2>/dev/null || true
  target_runtime=""
}
finish() {
  stop_target
  rm -f "$csv" "$err"
  [ -z "$target_dir" ] || rm -rf "$target_dir"
}
trap finish EXIT
trap 'exit 130' INT TERM
worst=0
# measure LABEL RUNS LAB_COMMAND REFERENCE: one hyperfine run of the pair, one
# row of the table.
measure() {
  local label=$1 n=$2 ours=$3 reference=$4 row ratio
  # Named, so that the CSV's first column holds no comma or newline.
  if ! hyperfine --shell=none --warmup $(( n < 30 ? n : 30 )) --runs "$n" --export-csv "$csv" --style none \
         -n nslab "$ours" -n reference "$reference" >/dev/null 2>"$err"; then
    echo "bench: $label: a command failed:" >&2
    cat "$err" >&2
    exit 1
  fi
  # CSV: command,mean,stddev,median,user,system,min,max (seconds)
  row=$(awk -F, -v label="$label" '
    NR == 2 { a = $4; as = $3 } NR == 3 { b = $4; bs = $3 }
    END { printf "%-16s %7.2f %6.2f %9.2f %6.2f %7.2fx", label, a * 1000, as * 1000, b * 1000, bs * 1000, a / b }' "$csv")
  printf '%s\n' "$row"
  ratio=${row##* }
  ratio=${ratio%x}
  worst=$(awk -v w="$worst" -v r="$ratio" 'BEGIN { print (r > w) ? r : w }')
}

printf '%-16s %14s %16s\n' "" "nslab (ms)" "reference (ms)"
printf '%-16s %7s %6s %9s %6s %8s\n' lab median sd median sd ratio
# --fork everywhere: a runtime keeps a parent on the host that waits for the
# container (to forward signals and clean up), so unshare(1) does the same work
# only when it forks too. (Without --fork, labs 01-02 cost about 0.4 ms more
# than unshare, which then execs in place.)
measure 01-uts "$runs" "$bin/01-uts -- true" "unshare --fork --uts true"
measure 02-ipc "$runs" "$bin/02-ipc -- true" "unshare --fork --uts --ipc true"
measure 03-pid "$runs" "$bin/03-pid -- true" "unshare --uts --ipc --pid --fork true"
measure 04-mount "$runs" "$bin/04-mount -- true" "unshare --uts --ipc --pid --fork --mount --mount-proc true"
measure "05-net [1]" "$runs" "$bin/05-net -- true" "unshare $all true"
measure "05-net veth [2]" "$veth_runs" "$bin/05-net --veth $net.1/24,$net.2/24 -- true" "bash -c '$veth_reference'"
measure "06-user [3]" "$runs" "$nobody $bin/06-user -- true" "$nobody unshare --user --map-root-user $all true"
measure "07-setns [3]" "$runs" "$nobody $bin/07-setns -- /bin/true" \
  "$nobody unshare --user --map-root-user $all /bin/true"

# Lab 07's join: a container to join, as root, its init waiting for SIGTERM.
target_dir=$(mktemp -d)
"$bin/07-setns" --init --pid-file "$target_dir/target.pid" -- sleep infinity >/dev/null 2>&1 &
target_runtime=$!
for _ in $(seq 50); do
  [ -s "$target_dir/target.pid" ] && break
  sleep 0.1
done
if [ ! -s "$target_dir/target.pid" ]; then
  echo "bench: 07-setns --enter: the container to join did not start (no $target_dir/target.pid after 5 s)" >&2
  exit 1
fi
target=$(cat "$target_dir/target.pid")
measure "07 --enter [4]" "$runs" "$bin/07-setns --enter $target -- /bin/true" "nsenter --target $target --all /bin/true"
stop_target
if [ -e "$target_dir/target.pid" ]; then
  echo "bench: the container that 07 --enter joined left its pid file behind ($target_dir/target.pid)" >&2
  exit 1
fi

# Lab 08, as root: the namespaces of [1] plus the cgroup namespace, without a
# limit, then with three. The reference does by hand what 08-cgroup does: a
# cgroup made (v2: one directory; v1: one per hierarchy), the limits written,
# the container's first process (unshare's child, waiting on a pipe) moved in
# by writing its PID to cgroup.procs, then true; the cgroup removed (rmdir,
# retried while the kernel frees it).
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  cg_dirs=/sys/fs/cgroup/nslab-bench
  # shellcheck disable=SC2016  # expanded by the reference's bash
  cg_limits='echo 64M > $d/memory.max; echo 64 > $d/pids.max; echo 50000 100000 > $d/cpu.max'
else
  cg_dirs="/sys/fs/cgroup/memory/nslab-bench /sys/fs/cgroup/pids/nslab-bench /sys/fs/cgroup/cpu/nslab-bench"
  # shellcheck disable=SC2016  # expanded by the reference's bash
  cg_limits='case $d in */memory/*) echo 64M > $d/memory.limit_in_bytes ;; */pids/*) echo 64 > $d/pids.max ;; *) echo 50000 > $d/cpu.cfs_quota_us ;; esac'
fi
# The reference's bash script, one run: its cgroups named after its PID. It
# goes to hyperfine in single quotes: it has none of its own.
# shellcheck disable=SC2016  # expanded by the bash that hyperfine runs
cgroup_reference='set -e
dirs=""
for d in '"$cg_dirs"'; do d=$d.$$; mkdir $d; dirs="$dirs $d"; '"$cg_limits"'; done
finish() {
  rc=$?
  for d in $dirs; do n=0; until rmdir $d 2>/dev/null || [ $n -ge 1000 ]; do n=$((n + 1)); done; done
  exit $rc
}
trap finish EXIT
exec {w}> >(exec unshare '"$all"' --cgroup sh -c "read _ || :; exec true")
p=$!
c=""
until [ -n "$c" ]; do read -r c _ 2>/dev/null < /proc/$p/task/$p/children || :; done
for d in $dirs; do echo $c > $d/cgroup.procs; done
exec {w}>&-
wait $p'
measure "08-cgroup [5]" "$runs" "$bin/08-cgroup -- true" "unshare $all --cgroup true"
measure "08 limits [6]" "$runs" "$bin/08-cgroup --memory 64M --pids 64 --cpus 0.5 -- true" \
  "bash -c '$cgroup_reference'"
left=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'nslab-bench.*' 2>/dev/null || true)
if [ -n "$left" ]; then
  echo "bench: cgroups left after lab 08's rows: $left" >&2
  exit 1
fi

echo "worst ratio: ${worst}x (target: at most 1.10x)"
cat <<EOF
runs: $runs per command, $veth_runs for the veth pair. The reference is unshare(1)
with the same namespaces, except:
[1] unshare --net leaves lo down; 05-net also brings it up (one netlink
    request), so it does a little more than its reference.
[2] the same veth set-up done with the system's tools: unshare (container
    waiting on a pipe), ip link add ... netns PID, addresses, links up, lo up
    and the default route (ip -b on the host, nsenter -n ip -b inside), then
    the container ends and ip link del removes the host end.
[3] rootless: both run as uid 65534 through setpriv (its cost is in both);
    the reference is unshare --user --map-root-user plus the namespaces of [1]
    (without --enter, lab 07 starts the very container of lab 06).
[4] as root, both join one running lab 07 container (07-setns --init --
    sleep infinity): its user, UTS, IPC, network, PID and mount namespaces,
    each that differs from ours; then fork /bin/true into its PID namespace
    and wait for it. 07-setns also takes the container's root and working
    directory (two more opens, fchdir, chroot); nsenter --all does not.
[5] as root, no limit: 08-cgroup still makes a cgroup per container (and
    removes it), which its reference, unshare with the namespaces of [1] and
    --cgroup, does not: the row shows what a cgroup costs.
[6] --memory 64M --pids 64 --cpus 0.5 against the same by hand in bash: a
    cgroup per run (v1: in the memory, pids and cpu hierarchies), the three
    limits written, the container (unshare, waiting on a pipe) moved in by
    its parent, then true, then rmdir. 08-cgroup also checks the controllers,
    locks its directory, reads the events afterwards and kills what is left.
EOF

# Nothing of the veth pair may be left: the kernel frees a pair whose
# namespace died a moment later, so allow it that moment.
left=""
for _ in $(seq 30); do
  left=$(ip -o link | grep -oE 'nslab-r[0-9]+' || true)$(ip -o addr | grep -oE " $net\.[0-9]+/24" || true)
  [ -z "$left" ] && break
  sleep 0.1
done
if [ -n "$left" ]; then
  echo "bench: left on the host after the veth pair: $left" >&2
  exit 1
fi
echo "host: no link or address of the veth pair is left (ip -o link, ip -o addr)"
