#!/usr/bin/env bash
# Times each lab's container start against a reference that does the same work
# with the system's tools, in one hyperfine run per pair, and prints the ratios.
# The reference is unshare(1) creating the same namespaces, except for the veth
# (unshare, then ip(8) and nsenter(1)); the notes under the table say what each
# pair compares. Target: each lab at most 1.1x its reference.
#
#   scripts/bench.sh [RUNS]        (default 300 runs per command; needs root)
#
# The veth pair runs at most 100 times (each run creates and deletes a link) on
# 10.200.91.0/24, which must be free on the host; the script checks afterwards
# that no link or address of it is left.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-300}
bin=$top/build/bin/solutions
case $runs in '' | *[!0-9]* | 0) echo "bench: RUNS must be a number above 0, not '$runs'" >&2; exit 2 ;; esac
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (labs 01-05 create namespaces, and lab 06 is run as uid 65534 through setpriv)" >&2; exit 125; }
[ -x "$bin/06-user" ] || (cd "$top" && cmake --preset default >/dev/null && cmake --build --preset default -j"$(nproc)" >/dev/null)

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
trap 'rm -f "$csv" "$err"' EXIT
worst=0
# measure LABEL RUNS LAB_COMMAND REFERENCE: one hyperfine run of the pair, one
# row of the table.
measure() {
  local label=$1 n=$2 ours=$3 reference=$4 a b ratio
  # Named, so that the CSV's first column holds no comma or newline.
  if ! hyperfine --shell=none --warmup $(( n < 30 ? n : 30 )) --runs "$n" --export-csv "$csv" --style none \
         -n nslab "$ours" -n reference "$reference" >/dev/null 2>"$err"; then
    echo "bench: $label: a command failed:" >&2
    cat "$err" >&2
    exit 1
  fi
  # CSV: command,mean,stddev,median,user,system,min,max (seconds)
  read -r a b < <(awk -F, 'NR == 2 { a = $2 } NR == 3 { b = $2 } END { print a, b }' "$csv")
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
  printf '%-16s %11.2f %15.2f %6sx\n' "$label" "$(awk -v a="$a" 'BEGIN { print a * 1000 }')" \
    "$(awk -v b="$b" 'BEGIN { print b * 1000 }')" "$ratio"
  worst=$(awk -v w="$worst" -v r="$ratio" 'BEGIN { print (r > w) ? r : w }')
}

printf '%-16s %11s %15s %7s\n' lab "nslab (ms)" "reference (ms)" ratio
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
    the reference is unshare --user --map-root-user plus the namespaces of [1].
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
