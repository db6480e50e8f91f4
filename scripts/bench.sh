#!/usr/bin/env bash
# Measures what a container's start costs, lab by lab: each lab's program
# (NN-name -- /bin/true) against unshare(1) creating the same namespaces,
# against bwrap (bubblewrap) where it can do the same work, and against the
# kernel's floor, a minimal program that only clones with the same flags,
# execs /bin/true and waits (scripts/bench-floor.c, built here). One paired
# session per row: the commands of the row take turns run by run, so that
# they share the machine's state, and the median of each one's runs is
# compared.
#
#   scripts/bench.sh [RUNS]              the table (default 300 runs per command)
#   scripts/bench.sh --runs N            the same
#   scripts/bench.sh --quick             the table with 30 runs per command
#   scripts/bench.sh --only 01,05v,08l   some rows only (01 02 03 04 05 05v 06 07 07e 08 08l)
#   scripts/bench.sh --plot-data         the data of the docs' plots instead of the table:
#                                        start time against the number of namespaces
#                                        (1..8 kinds, lab, unshare and floor), and the
#                                        veth's and the cgroup's set-up cost against how
#                                        many containers already run (--containers)
#   scripts/bench.sh --containers 0,50,100,200,300   the numbers of live containers
#   scripts/bench.sh --out DIR           where to write (default: BUILD/bench)
#   scripts/bench.sh --docs              what the docs build runs: draws the plots from
#                                        the data in DIR, measures nothing
#
# Targets, each printed with its row: every lab at most 1.00x unshare(1);
# lab 05 with --veth and lab 08 with limits at most 2 ms over lab 04, measured
# in the same session; every lab at most 1.50x the floor. bwrap's column is
# for comparison; it has no target (and stays empty, saying why, without
# bubblewrap installed).
#
# Where it runs. Everything is measured inside scripts/sandbox.sh (the script
# starts itself there): a throw-away host of its own UTS, IPC, mount, PID and
# network namespaces and cgroup subtree, so whatever a run leaves (a link, a
# cgroup, a process) goes with it. As root (labs 01-05 create namespaces, lab
# 08 makes cgroups, lab 07 joins a root container); rows 06 and 07 run as uid
# 65534 (the timer itself runs as that user, through setpriv), rootless.
# Lab 05's --veth uses 10.200.91.0/24 inside the sandbox's network namespace.
# For row 07e, one lab 07 container runs while it is measured; with
# --plot-data, up to the largest of --containers lab 08 containers run (each
# with a veth and three limits). All of them are ended when the script ends,
# on Ctrl-C too, and afterwards the script checks that no link, no cgroup of
# its own and no pid file of them is left.
#
# Output: the table on stdout, with the machine it ran on; the same written to
# DIR/table.txt, as Markdown to DIR/table.md (the README's table), and as data
# to DIR/rows.dat. --plot-data writes DIR/namespaces.dat and DIR/growth.dat,
# and draws DIR/bench-namespaces.svg and DIR/bench-growth.svg with gnuplot when
# there is one (DIR/*.gp: cd DIR && gnuplot FILE draws one again). DIR is
# written only once everything was measured.
#
# Exit status: 0 when every target was met (--plot-data, --docs: when done);
# 1 when a target was missed (the table says which); 2 for a bad argument;
# 3 when a measured command failed, or something was left behind; 77 when
# this machine lacks what it needs (root, python3, a C compiler),
# said in one line with the package that provides it.
#
# Times vary with the machine and with what else runs on it: measure on a
# quiet machine, and measure again before comparing.
#
# NSLAB_BUILD_DIR: the build whose programs are timed (default: build/);
# CC: the compiler of the floor (default: cc).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NSLAB_BUILD_DIR:-$top/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/bin/solutions

usage="usage: scripts/bench.sh [RUNS | --runs N | --quick] [--only ROWS] [--plot-data [--containers LIST]] [--out DIR] [--docs]"
bad_usage() { echo "bench: $1; $usage" >&2; exit 2; }
cannot() { echo "bench: cannot measure here: $*" >&2; exit 77; }
fail() { echo "bench: $*" >&2; exit 3; }

all_rows="01 02 03 04 05 05v 06 07 07e 08 08l"
arguments=("$@")  # for the same command again, in the sandbox
runs=300 runs_given=no quick=no only="" plot_data=no containers="0,50,100,200,300" out="" docs=no
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --runs)
      [ $# -ge 2 ] || bad_usage "--runs needs a number"
      runs=$2 runs_given=yes
      shift ;;
    --quick) quick=yes ;;
    --only)
      [ $# -ge 2 ] && [ -n "$2" ] || bad_usage "--only needs rows, e.g. --only 01,05v"
      only=$2
      shift ;;
    --plot-data) plot_data=yes ;;
    --containers)
      [ $# -ge 2 ] || bad_usage "--containers needs a list, e.g. 0,50,100"
      containers=$2
      shift ;;
    --out)
      [ $# -ge 2 ] && [ -n "$2" ] || bad_usage "--out needs a directory"
      out=$2
      shift ;;
    --docs) docs=yes ;;
    -*) bad_usage "unknown option '$1'" ;;
    *)
      [ "$runs_given" = no ] || bad_usage "RUNS given twice"
      runs=$1 runs_given=yes ;;
  esac
  shift
done
case $runs in '' | *[!0-9]* | 0*) bad_usage "RUNS must be a whole number from 1, not '$runs'" ;; esac
[ "${#runs}" -le 6 ] || bad_usage "RUNS must be at most 999999, not '$runs'"
[ "$quick" = no ] || [ "$runs_given" = no ] || bad_usage "--quick or RUNS, not both"
[ "$quick" = no ] || runs=30
case $containers in '' | *[!0-9,]* | ,* | *, | *,,*) bad_usage "--containers takes numbers separated by commas, not '$containers'" ;; esac
for count in ${containers//,/ }; do
  case $count in 0 | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | 1000) ;; *) bad_usage "--containers: each from 0 to 1000, not '$count'" ;; esac
done
rows=$all_rows
if [ -n "$only" ]; then
  rows=""
  for row in ${only//,/ }; do
    case " $all_rows " in *" $row "*) rows="$rows $row" ;; *) bad_usage "--only: no row '$row' (rows: $all_rows)" ;; esac
  done
fi
[ "$plot_data" = no ] || [ -z "$only" ] || bad_usage "--plot-data measures the plots, not rows: no --only with it"
[ "$docs" = no ] || { [ "$plot_data" = no ] && [ -z "$only" ] && [ "$runs_given" = no ] && [ "$quick" = no ]; } ||
  bad_usage "--docs measures nothing: only --out goes with it"
out=${out:-$build/bench}
case $out in /*) ;; *) out=$PWD/$out ;; esac

# --- the plots (gnuplot) ----------------------------------------------------------------

# draw_plots DIR: DIR/bench-namespaces.svg and DIR/bench-growth.svg from the
# data there, with the gnuplot scripts written beside it. Says what it drew.
draw_plots() {
  local dir=$1 gp drawn=""
  command -v gnuplot >/dev/null || { echo "bench: no gnuplot, so no plot (Debian: gnuplot-nox, Fedora: gnuplot); the data is in $dir"; return 0; }
  for gp in namespaces growth; do
    [ -s "$dir/$gp.dat" ] && [ -s "$dir/$gp.gp" ] || continue
    if ! (cd "$dir" && gnuplot "$gp.gp"); then
      rm -f "$dir/bench-$gp.svg"  # half drawn: not to be taken for up to date
      echo "bench: gnuplot failed on $dir/$gp.gp" >&2
      return 1
    fi
    drawn="$drawn bench-$gp.svg"
  done
  echo "bench: drew${drawn:- nothing (no data)} in $dir"
}

# write_plot_scripts DIR: the gnuplot scripts, beside the data in DIR (each
# for the data there is), titled with when and where it was measured.
write_plot_scripts() {
  local dir=$1 data when host
  for data in "$dir/namespaces.dat" "$dir/growth.dat"; do
    [ -s "$data" ] || continue
    when=$(sed -n 's/^# machine: \([0-9-]*\)T.*/\1/p' "$data" | head -1)
    host=$(sed -n 's/^# machine: [^ ]* //p' "$data" | head -1 | sed 's/, load.*//; s/"//g')
    break
  done
  [ ! -s "$dir/namespaces.dat" ] || cat > "$dir/namespaces.gp" <<EOF
# scripts/bench.sh: draws bench-namespaces.svg from namespaces.dat; again with: gnuplot namespaces.gp
set terminal svg size 900,860 dynamic noenhanced font "sans,14" background rgb "white"
set output "bench-namespaces.svg"
set datafile missing "-"
set multiplot layout 2,1 title "start time against the number of namespace kinds, measured $when\n$host"
set xrange [0.5:8.5]
set yrange [0:*]
set xtics ("uts" 1, "+ipc" 2, "+pid" 3, "+mnt" 4, "+net" 5, "+user" 6, "+cgroup" 7, "+time" 8)
set key top left
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set ylabel "milliseconds"
set title "wall time: median, and the middle half of the runs"
plot "namespaces.dat" using 1:4:5:6 with yerrorlines lw 2 pt 7 lc rgb "#2e7d32" title "nslab lab (01..06, 08 with its cgroup)", \\
     "" using 1:7:8:9 with yerrorlines lw 2 pt 5 lc rgb "#1565c0" title "unshare(1)", \\
     "" using 1:10:11:12 with yerrorlines lw 2 pt 9 lc rgb "#e65100" title "the kernel's floor"
set title "processor time (user and system, with the container's): median"
set xlabel "namespace kinds, added one by one"
plot "namespaces.dat" using 1:13 with linespoints lw 2 pt 7 lc rgb "#2e7d32" title "nslab lab", \\
     "" using 1:14 with linespoints lw 2 pt 5 lc rgb "#1565c0" title "unshare(1)", \\
     "" using 1:15 with linespoints lw 2 pt 9 lc rgb "#e65100" title "the kernel's floor"
unset multiplot
EOF
  [ -s "$dir/growth.dat" ] || return 0
  cat > "$dir/growth.gp" <<EOF
# scripts/bench.sh: draws bench-growth.svg from growth.dat; again with: gnuplot growth.gp
set terminal svg size 900,760 dynamic noenhanced font "sans,14" background rgb "white"
set output "bench-growth.svg"
set datafile missing "-"
set multiplot layout 2,1 title "set-up cost against the containers already running, measured $when\n$host"
set key top left
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set xlabel "containers already running (each with a veth and a cgroup with limits)"
set ylabel "milliseconds (median)"
set yrange [0:*]
set title "start time"
plot "growth.dat" using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#90a4ae" title "05-net", \\
     "" using 1:5:6:7 with yerrorlines lw 2 pt 7 lc rgb "#1565c0" title "05-net --veth", \\
     "" using 1:8:9:10 with yerrorlines lw 2 pt 5 lc rgb "#a1887f" title "06-user (as root)", \\
     "" using 1:11:12:13 with yerrorlines lw 2 pt 5 lc rgb "#e65100" title "08-cgroup --memory --pids --cpus"
set title "set-up cost: the difference"
plot "growth.dat" using 1:14 with linespoints lw 2 pt 7 lc rgb "#1565c0" title "veth (05-net --veth minus 05-net)", \\
     "" using 1:15 with linespoints lw 2 pt 5 lc rgb "#e65100" title "cgroup and its namespace (08 with limits minus 06)"
unset multiplot
EOF
}

if [ "$docs" = yes ]; then
  # The docs build: never a measurement (it needs root, a quiet machine and a
  # minute); the plots of the last one, when there is one, drawn again if older.
  if [ ! -s "$out/namespaces.dat" ] && [ ! -s "$out/growth.dat" ]; then
    echo "bench: no plot in the docs: no data in $out; run sudo scripts/bench.sh --plot-data, then build the docs again"
    exit 0
  fi
  stale=no
  for gp in namespaces growth; do
    [ ! -s "$out/$gp.dat" ] || [ "$out/bench-$gp.svg" -nt "$out/$gp.dat" ] || stale=yes
  done
  if [ "$stale" = no ]; then
    echo "bench: the docs show the plots of $out"
    exit 0
  fi
  write_plot_scripts "$out"
  draw_plots "$out" || echo "bench: no plot in the docs: gnuplot failed (above)"
  exit 0
fi

# --- what the measurement needs -----------------------------------------------------------

[ "$(id -u)" = 0 ] || cannot "needs root (labs 01-05 create namespaces, lab 08 makes cgroups, lab 07 joins a root container, and rows 06-07 run as uid 65534 through setpriv)"
command -v python3 >/dev/null || cannot "no python3, which times the runs (Debian: python3, Fedora: python3)"
# The rootless rows' timer runs as uid 65534: a python3 that user may run
# (root's own, under its home, may not be).
nobody_python=""
for candidate in "$(command -v python3)" /usr/bin/python3 /usr/local/bin/python3; do
  if setpriv --reuid=65534 --regid=65534 --clear-groups -- "$candidate" -c '' 2>/dev/null; then
    nobody_python=$candidate
    break
  fi
done
[ -n "$nobody_python" ] || cannot "no python3 that uid 65534 may run, for the rootless rows (Debian: python3, Fedora: python3)"
# Without bwrap its column stays empty, and says why.
bwrap_missing=""
command -v bwrap >/dev/null || bwrap_missing="not installed (Debian, Fedora: bubblewrap)"
cc=${CC:-cc}
command -v "$cc" >/dev/null || cannot "no C compiler '$cc' for the floor (Debian: gcc, Fedora: gcc; or set CC)"

# The programs: built when missing, as the README says.
if [ ! -x "$bin/08-cgroup" ]; then
  echo "bench: building $build first" >&2
  (cd "$top" && cmake --preset default -B "$build" >/dev/null && cmake --build "$build" -j"$(nproc)" >/dev/null) ||
    fail "the build failed: cmake --preset default -B $build && cmake --build $build"
fi
for lab in 01-uts 02-ipc 03-pid 04-mount 05-net 06-user 07-setns 08-cgroup; do
  [ -x "$bin/$lab" ] || cannot "no $bin/$lab: build it first (cmake --preset default && cmake --build --preset default)"
done

# Into the sandbox: the same command again, there.
if [ -z "${NSLAB_BENCH_IN_SANDBOX:-}" ]; then
  NSLAB_BENCH_IN_SANDBOX=1 exec "$top/scripts/sandbox.sh" "$0" "${arguments[@]}"
fi

# --- work space, and the end of every run --------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-bench.XXXXXX")
chmod 755 "$work"  # the rootless rows: uid 65534 runs the floor from here
mkdir "$work/nobody"
chown 65534:65534 "$work/nobody"
target_runtime="" target_file="" live=()
net=10.200.91
# The cgroups of the references and of the floor: NAME.PID in each hierarchy
# lab 08 uses (pure v2: the one tree; v1 and hybrid: memory, pids, cpu), in the
# sandbox's subtree (NSLAB_CGROUP_BASE, which scripts/sandbox.sh exports).
cg_base=${NSLAB_CGROUP_BASE:-}
cg_roots=()
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  cg_roots=(/sys/fs/cgroup)
else
  for controller in memory pids cpu; do
    [ "$(stat -f -c %T "/sys/fs/cgroup/$controller" 2>/dev/null)" = cgroupfs ] && cg_roots+=("/sys/fs/cgroup/$controller")
  done
fi

# stop_target: ends row 07e's container (SIGTERM to its runtime, which forwards
# it to the container's init) and waits for it; the runtime removes its pid file.
stop_target() {
  [ -n "$target_runtime" ] || return 0
  kill -TERM "$target_runtime" 2>/dev/null || true
  wait "$target_runtime" 2>/dev/null || true
  target_runtime=""
}
# stop_live: the same for the live containers of --plot-data, all signalled
# first, then waited for.
stop_live() {
  local pid
  [ "${#live[@]}" -gt 0 ] || return 0
  for pid in "${live[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${live[@]}"; do wait "$pid" 2>/dev/null || true; done
  live=()
}
# shellcheck disable=SC2317  # run by the EXIT trap
finish() {
  local status=$?
  set +e
  trap '' INT TERM
  stop_target
  stop_live
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the floor ----------------------------------------------------------------------------

floor=$work/bench-floor
floor_link=static
if ! "$cc" -O2 -static -o "$floor" "$top/scripts/bench-floor.c" 2>"$work/cc.err"; then
  floor_link=dynamic
  "$cc" -O2 -o "$floor" "$top/scripts/bench-floor.c" 2>"$work/cc.err" ||
    { cat "$work/cc.err" >&2; fail "$cc could not build scripts/bench-floor.c"; }
fi
chmod 755 "$floor"

# --- one session: the commands of a row, run by turns -------------------------------------

# The timer: each command started with posix_spawn(3), its end seen by
# wait4(2), which also gives the processor time of the command and of every
# process it waited for (the container's); the wall time from just before
# the spawn to just after the wait. The commands take turns run by run (in
# one order, then in the reverse), so that each sees the same machine, the
# same load and the same aftermath of the others: the kernel finishes some
# of a container's end after its command has exited (a network namespace is
# torn down later, by a work queue), and that work then falls on every
# command alike. The first WARMUP turns are not counted. Prints one line per
# command: NAME, the wall time's median, standard deviation, the runs, its
# first and third quartiles and its fastest run, then the processor time's
# median, all in ms. A command that fails ends it, with its last words.
# shellcheck disable=SC2016  # python's text
timer='
import os, shlex, statistics, sys, time
runs, warmup, errors = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names, commands = sys.argv[4::2], [shlex.split(c) for c in sys.argv[5::2]]
null = os.open("/dev/null", os.O_RDWR)
err = os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
wall = [[] for _ in names]
cpu = [[] for _ in names]
try:
    for turn in range(warmup + runs):
        order = range(len(names)) if turn % 2 == 0 else reversed(range(len(names)))
        for k in order:
            os.ftruncate(err, 0)
            os.lseek(err, 0, os.SEEK_SET)
            start = time.perf_counter_ns()
            pid = os.posix_spawnp(commands[k][0], commands[k], os.environ, file_actions=actions)
            _, status, usage = os.wait4(pid, 0)
            end = time.perf_counter_ns()
            if status != 0:
                sys.stderr.write("%s (%s) ended with wait status %d:\n" % (names[k], " ".join(commands[k]), status))
                with open(errors, errors="replace") as f:
                    sys.stderr.write(f.read()[-2000:])
                sys.exit(3)
            if turn >= warmup:
                wall[k].append((end - start) / 1e6)
                cpu[k].append((usage.ru_utime + usage.ru_stime) * 1e3)
except KeyboardInterrupt:
    sys.exit(130)
for k, name in enumerate(names):
    v = sorted(wall[k])
    q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    print("%s %.4f %.4f %d %.4f %.4f %.4f %.4f" % (name, statistics.median(v), sd, len(v), q(0.25), q(0.75), v[0],
                                                 statistics.median(cpu[k])))
'

# session ID RUNS AS NAME COMMAND [NAME COMMAND...]: RUNS runs of each COMMAND
# (without a shell: a COMMAND is split into words as a shell would), taking
# turns after a tenth as many warm-up turns (at least two), as AS (root, or
# nobody: the timer itself then runs as uid 65534, through setpriv). Writes
# $work/ID.stats (the timer's lines).
session() {
  local id=$1 n=$2 as=$3 warmup dir=$work
  shift 3
  local args=()
  while [ $# -gt 0 ]; do
    [ "$1" = bwrap ] && [ -n "$bwrap_missing" ] || args+=("$1" "$2")
    shift 2
  done
  warmup=$(( n / 10 > 2 ? n / 10 : 2 ))
  local runner=(python3)
  if [ "$as" = nobody ]; then
    runner=(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$nobody_python")
    dir=$work/nobody
  fi
  local status=0
  "${runner[@]}" -c "$timer" "$n" "$warmup" "$dir/$id.err" "${args[@]}" > "$work/$id.stats" 2> "$work/err" || status=$?
  if [ "$status" = 130 ]; then exit 130; fi
  if [ "$status" != 0 ]; then
    echo "bench: row $id: a command failed:" >&2
    sed 's/^/  | /' "$work/err" >&2
    exit 3
  fi
}

# stat_of ID NAME FIELD: from $work/ID.stats, NAME's median (FIELD 2), sd (3),
# first quartile (5), third quartile (6), fastest run (7) or processor time (8).
stat_of() { awk -v name="$2" -v f="$3" '$1 == name { print $f }' "$work/$1.stats"; }

# row_line ID LABEL [WHY]: one line of $work/rows.dat from the session ID,
# fields separated by "|": ID, LABEL, the lab's median and sd, the medians of
# unshare, bwrap, the floor and lab 04 ("-" where the row has none), the
# processor time's medians of the same five, and WHY bwrap has no number.
row_line() {
  local id=$1 label=$2 why=${3:-${bwrap_missing:--}} name field value line
  line="$id|$label|$(stat_of "$id" lab 2)|$(stat_of "$id" lab 3)"
  for field in 2 8; do
    for name in unshare bwrap floor lab04; do
      [ "$field" = 2 ] || [ "$name" != unshare ] || line="$line|$(stat_of "$id" lab 8)"
      value=$(stat_of "$id" "$name" "$field")
      line="$line|${value:--}"
    done
  done
  echo "$line|$why" >> "$work/rows.dat"
}

# --- the commands -------------------------------------------------------------------------

# The namespaces of each lab, for unshare(1) and the floor. unshare --fork
# everywhere: a runtime keeps a parent on the host that waits for the
# container (to forward signals and clean up), so unshare(1) does the same
# work only when it forks too. Labs 06 to 08 create a user namespace as root
# too (root inside is root outside: 0 mapped to 0).
u01="--fork --uts" f01=uts
u02="$u01 --ipc" f02=$f01,ipc
u03="$u02 --pid" f03=$f02,pid
u04="$u03 --mount --mount-proc" f04=$f03,mnt
u05="$u04 --net" f05=$f04,net
u06="--user --map-root-user $u05" f06=user,$f05
u08="$u06 --cgroup" f08=$f06,cgroup
# bwrap always makes a mount namespace with a root of its own (a tmpfs, then
# pivot_root), so it can do the work of lab 04 and later only: --bind / /
# puts the host's tree in it, --proc /proc mounts a fresh /proc, --as-pid-1
# makes COMMAND the namespace's PID 1 (as the labs do) instead of an init of
# bwrap's. It brings lo up in a new network namespace, as lab 05 does.
b04="bwrap --unshare-uts --unshare-ipc --unshare-pid --as-pid-1 --bind / / --proc /proc"
b05="$b04 --unshare-net"
b06="$b05 --unshare-user --uid 0 --gid 0"
b08="$b06 --unshare-cgroup"

# The veth by hand, one bash process per run: a container made by unshare
# that waits on a pipe (read), the veth created straight into its network
# namespace, both ends addressed and raised as 05-net does (lo up, a default
# route inside), then the container ended and the host end deleted. The pipe
# is the container's life line: however bash ends (even SIGKILL), the read
# sees end-of-file, the container exits, and its namespace takes the pair with
# it; on a normal end, Ctrl-C or SIGTERM, finish() also deletes the host end.
# ip and nsenter are run in batch mode (-b), one process per side, and do not
# hold the pipe. It goes to the timer in single quotes: it has none of its own.
# shellcheck disable=SC2016  # expanded by the bash that the timer runs
veth_reference='set -e
h=nslab-r$$
exec {w}> >(exec unshare '"$u05"' sh -c "read _ || :")
p=$!
finish() { rc=$?; set +e; exec {w}>&-; wait "$p"; ip link del "$h" 2>/dev/null; exit "$rc"; }
trap finish EXIT
trap "exit 130" INT TERM
while [ "/proc/$p/ns/net" -ef /proc/self/ns/net ]; do :; done
printf "%s\n" "link add $h type veth peer name eth0 netns $p" "addr add '"$net"'.1/24 dev $h" "link set $h up" |
  ip -b - {w}>&-
printf "%s\n" "link set lo up" "addr add '"$net"'.2/24 dev eth0" "link set eth0 up" "route add default via '"$net"'.1" |
  nsenter -t "$p" -n ip -b - {w}>&-'

# The limits, as lab 08 writes them for --memory 64M --pids 64 --cpus 0.5:
# for the floor (--cgroup DIR:FILE=VALUE...) and for the reference by hand.
limit_memory=67108864
floor_cgroups="" floor_limits="" cg_dirs="" cg_limits=""
for root in "${cg_roots[@]}"; do
  dir=$root$cg_base/nslab-bench
  floor_cgroups="$floor_cgroups --cgroup $dir"
  cg_dirs="$cg_dirs $dir"
  case $root in
    /sys/fs/cgroup)
      spec="memory.max=$limit_memory:pids.max=64:cpu.max=50000 100000"
      [ ! -e "$root$cg_base/memory.swap.max" ] || spec="$spec:memory.swap.max=0"
      ;;
    */memory)
      spec="memory.limit_in_bytes=$limit_memory"
      [ ! -e "$root$cg_base/memory.memsw.limit_in_bytes" ] || spec="$spec:memory.memsw.limit_in_bytes=$limit_memory"
      ;;
    */pids) spec="pids.max=64" ;;
    */cpu) spec="cpu.cfs_period_us=100000:cpu.cfs_quota_us=50000" ;;
  esac
  floor_limits="$floor_limits --cgroup $dir:$spec"
  # shellcheck disable=SC2016  # expanded by the reference's bash
  cg_limits="$cg_limits"'case $d in '"$dir"'.*) IFS=: read -ra w <<< "'"$spec"'"; for x in "${w[@]}"; do echo "${x#*=}" > "$d/${x%%=*}"; done ;; esac; '
done
if [ "${cg_roots[*]}" = /sys/fs/cgroup ]; then
  # Pure v2: the controllers enabled for the sandbox's subtree's children, as
  # lab 08 enables them itself (the sandbox's cgroup has no process).
  echo "+memory +pids +cpu" > "/sys/fs/cgroup$cg_base/cgroup.subtree_control" 2>/dev/null || true
  floor_limits=${floor_limits//cpu.max=50000 100000/cpu.max=50000\\ 100000}
fi
# The reference's bash script, one run: its cgroups named after its PID; the
# limits written, the container's first process (unshare's child, waiting on
# a pipe) moved in by writing its PID to cgroup.procs, then true; the cgroups
# removed (rmdir, retried while the kernel frees them). It goes to the timer
# in single quotes: it has none of its own.
# shellcheck disable=SC2016  # expanded by the bash that the timer runs
cgroup_reference='set -e
dirs=""
for d in '"$cg_dirs"'; do d=$d.$$; mkdir $d; dirs="$dirs $d"; '"$cg_limits"' done
finish() {
  rc=$?
  for d in $dirs; do n=0; until rmdir $d 2>/dev/null || [ $n -ge 1000 ]; do n=$((n + 1)); done; done
  exit $rc
}
trap finish EXIT
exec {w}> >(exec unshare '"$u06"' --cgroup sh -c "read _ || :; exec true")
p=$!
c=""
until [ -n "$c" ]; do read -r c _ 2>/dev/null < /proc/$p/task/$p/children || :; done
for d in $dirs; do echo $c > $d/cgroup.procs; done
exec {w}>&-
wait $p'

true_=/bin/true
limits="--memory 64M --pids 64 --cpus 0.5"
veth_runs=$(( runs < 100 ? runs : 100 ))  # each run creates and deletes a link

# --- the rows -----------------------------------------------------------------------------

no_mount_ns="always makes a mount namespace and a root of its own"
measure_row() {
  case $1 in
    01) session 01 "$runs" root lab "$bin/01-uts -- $true_" unshare "unshare $u01 $true_" floor "$floor $f01 -- $true_"
        row_line 01 01-uts "$no_mount_ns" ;;
    02) session 02 "$runs" root lab "$bin/02-ipc -- $true_" unshare "unshare $u02 $true_" floor "$floor $f02 -- $true_"
        row_line 02 02-ipc "$no_mount_ns" ;;
    03) session 03 "$runs" root lab "$bin/03-pid -- $true_" unshare "unshare $u03 $true_" floor "$floor $f03 -- $true_"
        row_line 03 03-pid "$no_mount_ns" ;;
    04) session 04 "$runs" root lab "$bin/04-mount -- $true_" unshare "unshare $u04 $true_" bwrap "$b04 $true_" \
          floor "$floor $f04 -- $true_"
        row_line 04 04-mount ;;
    05) session 05 "$runs" root lab "$bin/05-net -- $true_" unshare "unshare $u05 $true_" bwrap "$b05 $true_" \
          floor "$floor $f05 -- $true_"
        row_line 05 05-net ;;
    05v) session 05v "$veth_runs" root lab "$bin/05-net --veth $net.1/24,$net.2/24 -- $true_" \
           unshare "bash -c '$veth_reference'" lab04 "$bin/04-mount -- $true_"
         row_line 05v "05-net --veth" "makes no veth" ;;
    06) session 06 "$runs" nobody lab "$bin/06-user -- $true_" unshare "unshare $u06 $true_" bwrap "$b06 $true_" \
          floor "$floor $f06 -- $true_"
        row_line 06 06-user ;;
    07) session 07 "$runs" nobody lab "$bin/07-setns -- $true_" unshare "unshare $u06 $true_" bwrap "$b06 $true_" \
          floor "$floor $f06 -- $true_"
        row_line 07 07-setns ;;
    07e) start_target
         session 07e "$runs" root lab "$bin/07-setns --enter $target -- $true_" \
           unshare "nsenter --target $target --all $true_" floor "$floor --enter $target -- $true_"
         stop_target
         [ ! -e "$target_file" ] || fail "the container that 07 --enter joined left its pid file behind ($target_file)"
         row_line 07e "07-setns --enter" "cannot join a running container" ;;
    08) session 08 "$runs" root lab "$bin/08-cgroup -- $true_" unshare "unshare $u08 $true_" bwrap "$b08 $true_" \
          floor "$floor $f08$floor_cgroups -- $true_" nested "$floor $f08 --nested$floor_cgroups -- $true_"
        row_line 08 08-cgroup ;;
    08l) session 08l "$runs" root lab "$bin/08-cgroup $limits -- $true_" unshare "bash -c '$cgroup_reference'" \
           floor "$floor $f08$floor_limits -- $true_" lab04 "$bin/04-mount -- $true_" \
           nested "$floor $f08 --nested$floor_limits -- $true_"
         row_line 08l "08-cgroup limits" "makes no cgroup" ;;
  esac
}

# start_target: row 07e's container to join, as root, its init waiting for SIGTERM.
start_target() {
  target_file=$work/target.pid
  "$bin/07-setns" --init --pid-file "$target_file" -- sleep infinity </dev/null >/dev/null 2>"$work/target.err" &
  target_runtime=$!
  for _ in $(seq 50); do
    [ -s "$target_file" ] && break
    sleep 0.1
  done
  [ -s "$target_file" ] || fail "07-setns --enter: the container to join did not start (no pid file after 5 s): $(head -c 300 "$work/target.err")"
  target=$(cat "$target_file")
}

# --- the checks afterwards: nothing of ours left --------------------------------------------

check_nothing_left() {
  local left="" _
  # The kernel frees a pair whose namespace died a moment later: that moment is allowed.
  for _ in $(seq 30); do
    # nslab-r*: the by-hand reference's; nslab-PID: the lab's host ends.
    left=$(ip -o link | grep -oE 'nslab-r?[0-9]+' || true)$(ip -o addr | grep -oE " 10\.(200\.91|21[0-9])\.[0-9]+\.[0-9]+/24" || true)
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "left after the runs: $left (ip -o link, ip -o addr)"
  left=$(for root in "${cg_roots[@]}"; do find "$root$cg_base" -mindepth 1 -maxdepth 2 -type d \( -name 'nslab-bench.*' -o -name nslab \) 2>/dev/null; done)
  [ -z "$left" ] || fail "cgroups left after the runs: $left"
}

machine() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
  echo "$(date -u +%Y-%m-%dT%H:%MZ) $(uname -sr), ${cpu:-unknown CPU} x$(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- the table ------------------------------------------------------------------------------

# shellcheck disable=SC2016  # python's text
report='
import sys
rows_file, out_dir, runs, veth_runs, floor_link, host = sys.argv[1:7]
rows = []
with open(rows_file) as f:
    for line in f:
        ident, label, *nums, why = line.rstrip("\n").split("|")
        values = [None if v == "-" else float(v) for v in nums]
        rows.append((ident, label, values[:6], values[6:], why))

def ms(v):
    return "-" if v is None else "%.2f" % v

table, md, missed = [], [], []
for ident, label, (lab, sd, unshare, bwrap, floor, lab04), cpu, why in rows:
    ratio_u = lab / unshare if unshare else None
    ok_u = ratio_u is not None and ratio_u <= 1.0
    ratio_b = lab / bwrap if bwrap else None
    ratio_f = lab / floor if floor else None
    ok_f = ratio_f is not None and ratio_f <= 1.5
    over = lab - lab04 if lab04 is not None else None
    ok_o = over is not None and over <= 2.0
    verdict = lambda present, ok: "-" if not present else ("pass" if ok else "FAIL")
    cells = [label, ms(lab), "%.2f" % sd, ms(unshare),
             "%.2fx" % ratio_u if ratio_u else "-", verdict(ratio_u is not None, ok_u),
             ms(bwrap), "%.2fx" % ratio_b if ratio_b else "-",
             ms(floor), "%.2fx" % ratio_f if ratio_f else "-", verdict(ratio_f is not None, ok_f),
             ms(lab04), "%+.2f" % over if over is not None else "-", verdict(over is not None, ok_o)]
    table.append(cells)
    if ratio_u is not None and not ok_u: missed.append("%s: %.2fx unshare(1)" % (label, ratio_u))
    if ratio_f is not None and not ok_f: missed.append("%s: %.2fx the floor" % (label, ratio_f))
    if over is not None and not ok_o: missed.append("%s: %+.2f ms over lab 04" % (label, over))
    md.append("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        label, ms(lab), ms(unshare),
        "%.2fx %s" % (ratio_u, verdict(True, ok_u)) if ratio_u else "-",
        ms(bwrap) if bwrap else "- (%s)" % why if why != "-" else "-",
        ms(floor),
        "%.2fx %s" % (ratio_f, verdict(True, ok_f)) if ratio_f else "-",
        ("%+.2f ms %s" % (over, verdict(True, ok_o))) if over is not None else "-",
        " / ".join(ms(v) for v in (cpu[0], cpu[1], cpu[3]))))

head1 = ["", "nslab", "", "unshare(1)", "", "", "bwrap", "", "floor", "", "", "lab 04", "", ""]
head2 = ["row", "median", "sd", "median", "ratio", "<=1.00x", "median", "ratio", "median", "ratio", "<=1.50x", "median", "over", "<=2ms"]
widths = [max(len(r[i]) for r in [head1, head2] + table) for i in range(len(head2))]
def line(cells):
    return ("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells))).rstrip()
text = ["machine: " + host, "times in ms, medians of %s runs per command (%s with --veth)" % (runs, veth_runs), "",
        line(head1), line(head2)] + [line(r) for r in table] + [""]
# The processor time of the same runs: steadier on a busy machine than the
# wall time, and no target of its own.
cpu_table = [["row", "nslab", "unshare", "ratio", "bwrap", "ratio", "floor", "ratio"]]
for ident, label, _, (lab, unshare, bwrap, floor, lab04), why in rows:
    ratio = lambda other: "%.2fx" % (lab / other) if other else "-"
    cpu_table.append([label, ms(lab), ms(unshare), ratio(unshare), ms(bwrap), ratio(bwrap), ms(floor), ratio(floor)])
cpu_widths = [max(len(r[i]) for r in cpu_table) for i in range(len(cpu_table[0]))]
text += ["processor time, ms (user and system, of the command and every process it waited for)"]
text += [("  ".join(c.ljust(cpu_widths[0]) if i == 0 else c.rjust(cpu_widths[i]) for i, c in enumerate(r))).rstrip()
         for r in cpu_table]
text += ["", "targets: " + ("all met" if not missed else "missed: " + "; ".join(missed))]
with open(out_dir + "/table.txt", "w") as f:
    f.write("\n".join(text) + "\n")
with open(out_dir + "/table.md", "w") as f:
    f.write("Measured %s; medians of %s runs per command (%s with `--veth`), wall time in ms unless said.\n\n" % (host, runs, veth_runs))
    f.write("| lab | nslab | `unshare(1)` | ratio (target ≤ 1.00x) | `bwrap` | floor (%s) | ratio (target ≤ 1.50x) | over lab 04 (target ≤ 2 ms) | processor time: nslab / unshare / floor |\n" % floor_link)
    f.write("| --- | ---: | ---: | --- | ---: | ---: | --- | --- | --- |\n")
    f.write("\n".join(md) + "\n")
print("\n".join(text))
sys.exit(1 if missed else 0)
'

# shape_note: for rows 08 and 08l, the floor again with lab 08's shape (three
# directories per hierarchy, where the floor of the table makes one), and
# lab 08 against it: how much of lab 08's ratio is that shape's kernel work.
# No target of its own.
shape_note() {
  local id label lab nested said=""
  for id in 08 08l; do
    [ -s "$work/$id.stats" ] || continue
    label=$(awk -F'|' -v id="$id" '$1 == id { print $2 }' "$work/rows.dat")
    lab=$(stat_of "$id" lab 2) nested=$(stat_of "$id" nested 2)
    [ -n "$said" ] || printf '\n%s\n' "the floor with lab 08's shape (nslab/, nslab/PID with the limits, the leaf; in each hierarchy):"
    said=1
    awk -v l="$label" -v a="$lab" -v b="$nested" 'BEGIN { printf "  %-17s %5.2f ms, the lab %.2fx of it\n", l, b, a / b }'
  done
}

notes() {
  cat <<EOF
Each row is one session: its commands take turns, run by run, after a few
warm-up turns; wall times are medians. Every lab runs /bin/true. unshare(1) creates the same namespaces as the lab (with --fork, so
that a parent waits, as the runtime does); the floor ($floor_link, built from
scripts/bench-floor.c) is one clone(2) with the same flags, execve and waitpid,
nothing else: no /proc mounted, no lo up, no propagation changed, no checks.
  04, 05     bwrap: --bind / / (a tmpfs root, the host's tree bound into it,
             pivot_root), --proc /proc, --as-pid-1; more mount work than the lab.
  01-03      bwrap: -, it $no_mount_ns.
  05 --veth  the reference does by hand what 05-net does: unshare (a container
             waiting on a pipe), ip link add ... netns PID, the addresses, both
             ends up, lo up and the default route inside (ip -b, nsenter -n ip -b),
             then ip link del. bwrap and the floor make no veth. lab 04: measured
             in the same session.
  06, 07     rootless: the timer runs as uid 65534. unshare --user --map-root-user,
             bwrap --unshare-user --uid 0 --gid 0; the floor's child writes its
             own maps (setgroups deny, gid_map, uid_map), as unshare does. Lab 07
             without --enter starts the very container of lab 06.
  07 --enter as root, all join one running lab 07 container (07-setns --init --
             sleep infinity): each of its namespaces that differs, then a fork into
             its PID namespace. 07-setns also takes its root and working
             directory; nsenter --all and the floor do not. bwrap cannot join.
  08         as root: the namespaces of 05, a user namespace (0 mapped to 0) and
             a cgroup namespace. 08-cgroup makes three directories per container
             in each of its ${#cg_roots[@]} hierarchies here (nslab/, nslab/PID, the leaf) and
             removes them; the floor makes one (mkdir, the child moves itself in,
             rmdir), and for the lines under the table lab 08's three (--nested);
             unshare(1) and bwrap make none.
  08 limits  --memory 64M --pids 64 --cpus 0.5; the reference does it by hand in
             bash (mkdir, the limits, unshare's child moved in, rmdir), the floor
             in C; bwrap makes no cgroup. lab 04: measured in the same session.
EOF
}

# --- the plots' data ------------------------------------------------------------------------

# namespaces: 1..8 kinds, added one by one in the labs' order, and time last
# (no lab makes a time namespace); each with the lab that has exactly those
# (lab 08's point also makes a cgroup), unshare(1) and the floor.
plot_namespaces() {
  local n=$(( runs < 100 ? runs : 100 )) k labs kinds unshares floors
  labs=(01-uts 02-ipc 03-pid 04-mount 05-net 06-user 08-cgroup -)
  kinds=(uts ipc pid mnt net user cgroup time)
  unshares=("$u01" "$u02" "$u03" "$u04" "$u05" "$u06" "$u08" "$u08 --time")
  floors=("$f01" "$f02" "$f03" "$f04" "$f05" "$f06" "$f08" "$f08,time")
  {
    echo "# scripts/bench.sh --plot-data: start time against the number of namespace kinds"
    echo "# machine: $(machine)"
    echo "# runs: $n per command; times in ms: the median, the first and the third quartile"
    echo "# kinds added lab lab lab_q1 lab_q3 unshare unshare_q1 unshare_q3 floor floor_q1 floor_q3 lab_cpu unshare_cpu floor_cpu"
  } > "$work/namespaces.dat"
  for k in 0 1 2 3 4 5 6 7; do
    local cmds=(unshare "unshare ${unshares[k]} $true_" floor "$floor ${floors[k]} -- $true_")
    [ "${labs[k]}" = - ] || cmds=(lab "$bin/${labs[k]} -- $true_" "${cmds[@]}")
    echo "bench: namespaces: $((k + 1)) kind(s), +${kinds[k]}" >&2
    session "ns$k" "$n" root "${cmds[@]}"
    echo "$((k + 1)) ${kinds[k]} ${labs[k]} $(quartiles "ns$k" lab) $(quartiles "ns$k" unshare) $(quartiles "ns$k" floor)" \
      "$(processor_time "ns$k" lab) $(processor_time "ns$k" unshare) $(processor_time "ns$k" floor)" >> "$work/namespaces.dat"
  done
}

# quartiles ID NAME: NAME's median, first and third quartile in session ID,
# or "- - -" when the session has no NAME.
quartiles() {
  awk -v name="$2" '$1 == name { print $2, $5, $6; found = 1 } END { if (!found) print "- - -" }' "$work/$1.stats"
}

# processor_time ID NAME: NAME's median processor time in session ID, or "-".
processor_time() {
  awk -v name="$2" '$1 == name { print $8; found = 1 } END { if (!found) print "-" }' "$work/$1.stats"
}

# grow_to COUNT: lab 08 containers with a veth and the three limits, each
# waiting (sleep infinity under --init, which ends on SIGTERM), until COUNT run.
grow_to() {
  local count=$1 i pidfile a b
  for ((i = ${#live[@]}; i < count; i++)); do
    pidfile=$work/live.$i.pid
    a=$(( 210 + i / 250 )) b=$(( i % 250 ))
    # shellcheck disable=SC2086  # $limits: three options and their values
    "$bin/08-cgroup" --init --veth "10.$a.$b.1/24,10.$a.$b.2/24" $limits --pid-file "$pidfile" -- sleep infinity \
      </dev/null >/dev/null 2>>"$work/live.err" &
    live+=($!)
    local waited=0
    until [ -s "$pidfile" ]; do
      kill -0 "${live[-1]}" 2>/dev/null || fail "live container $i did not start: $(tail -c 300 "$work/live.err")"
      sleep 0.01
      waited=$((waited + 1))
      [ "$waited" -lt 500 ] || fail "live container $i did not start within 5 s"
    done
  done
}

plot_growth() {
  local n=$(( runs < 50 ? runs : 50 )) count
  {
    echo "# scripts/bench.sh --plot-data: set-up costs against the number of containers already running"
    echo "# machine: $(machine)"
    echo "# runs: $n per command; times in ms: the median, the first and the third quartile;"
    echo "# each live container: 08-cgroup --init --veth ... $limits -- sleep infinity"
    echo "# live 05 q1 q3 05veth q1 q3 06 q1 q3 08limits q1 q3 veth_cost cgroup_cost"
  } > "$work/growth.dat"
  for count in ${containers//,/ }; do
    echo "bench: growth: $count live container(s)" >&2
    grow_to "$count"
    session "g$count" "$n" root lab05 "$bin/05-net -- $true_" lab05v "$bin/05-net --veth $net.1/24,$net.2/24 -- $true_" \
      lab06 "$bin/06-user -- $true_" lab08l "$bin/08-cgroup $limits -- $true_"
    echo "$count $(quartiles "g$count" lab05) $(quartiles "g$count" lab05v) $(quartiles "g$count" lab06)" \
      "$(quartiles "g$count" lab08l)" \
      "$(awk '{ m[$1] = $2 } END { printf "%.4f %.4f", m["lab05v"] - m["lab05"], m["lab08l"] - m["lab06"] }' "$work/g$count.stats")" \
      >> "$work/growth.dat"
  done
  stop_live
}

# --- the run ----------------------------------------------------------------------------------

if [ "$plot_data" = yes ]; then
  echo "bench: the plots' data, $(machine)" >&2
  plot_namespaces
  plot_growth
  check_nothing_left
  mkdir -p "$out"
  cp "$work/namespaces.dat" "$work/growth.dat" "$out/"
  write_plot_scripts "$out"
  draw_plots "$out"
  exit 0
fi

: > "$work/rows.dat"
host=$(machine)
load_before=$(cat /proc/loadavg)
for row in $rows; do
  echo "bench: row $row" >&2
  measure_row "$row"
done
check_nothing_left
set +e
python3 -c "$report" "$work/rows.dat" "$work" "$runs" "$veth_runs" "$floor_link" "$host"
status=$?
set -e
[ "$status" -le 1 ] || fail "the report failed"
shape_note > "$work/shape.txt"
tee -a "$work/table.txt" < "$work/shape.txt"
sed 's/^  /- /' "$work/shape.txt" >> "$work/table.md"  # a Markdown list
# A busy machine: said, since it changes what the wall times mean. The load
# average when the runs began (the bench's own runs raise it later): above
# one runnable task per processor, the others wait for a processor.
busy=$(awk -v n="$(nproc)" '{ if ($1 > n) printf "%s", $1 }' <<< "$load_before")
if [ -n "$busy" ]; then
  printf '%s\n' "" "busy: the load average was $busy on $(nproc) processors: other work delayed every start," \
    "and the wall times measure the machine as much as the programs; the processor times" \
    "are steadier. Measure again on a quiet machine." | tee -a "$work/table.txt"
fi
echo
notes | tee -a "$work/table.txt"
mkdir -p "$out"
cp "$work/rows.dat" "$work/table.txt" "$work/table.md" "$out/"
echo "host: no link, no address, no cgroup and no pid file of the runs is left; the table is in $out/table.txt"
exit "$status"
