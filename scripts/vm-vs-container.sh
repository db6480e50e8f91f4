#!/usr/bin/env bash
# Puts numbers on "containers are lighter and start faster than virtual
# machines", measured on this machine: the same command (busybox's echo hello)
# run N times in an nslab container and N times in a minimal qemu VM, and for
# each: the time to the command's first output and to its end, the memory it
# took at its peak, and the size on disk of what it needs. Prints a table
# (median, and the spread: min..max), and writes the runs, a summary, a gnuplot
# script and the plot it draws (SVG) to the output directory.
#
#   scripts/vm-vs-container.sh                    50 container runs, 5 VM runs
#   scripts/vm-vs-container.sh --runs N           N runs of each
#   scripts/vm-vs-container.sh --quick            20 container runs, 1 VM run
#   scripts/vm-vs-container.sh --container-only   no VM (no qemu needed then)
#   scripts/vm-vs-container.sh --out DIR          write there (default: BUILD/vm-vs-container)
#   scripts/vm-vs-container.sh --docs             what the docs build runs: the plot of the
#                                                 data in DIR, drawn again if older; with no
#                                                 data, a --quick measurement if this machine
#                                                 can make one at once; else one line saying
#                                                 why. Exit 0 unless an argument is bad.
#
# The container: build/bin/solutions/08-cgroup (every namespace, a cgroup of
# its own) with --rootfs on a busybox root filesystem made by
# scripts/make-rootfs.sh; without root, 06-user (rootless: a user namespace,
# no cgroup of its own). The VM: qemu-system-x86_64 with 128 MiB of RAM, a
# serial console and nothing else, Debian's kernel (the one scripts/vm-test.sh
# uses, from its cache NSLAB_VM_CACHE, default ~/.cache/nslab/vm, fetched with
# apt-get download if it is not there; NSLAB_VM_KERNEL=FILE names another) and
# an initramfs of the same static busybox, whose /init runs the command and
# powers off. KVM is used when /dev/kvm works (a guest that does not answer
# within NSLAB_VM_KVM_WAIT seconds, default 5, means it does not), else
# software emulation (TCG), which is much slower: the output and the plot say
# which. NSLAB_VM_ACCEL=kvm or tcg forces one.
#
# Memory, two ways. As root, each run gets a cgroup of its own (the memory
# controller's, v1 or v2; in NSLAB_CGROUP_BASE when that is set) and its peak is
# read (memory.peak, memory.max_usage_in_bytes): the runtime and the
# container's processes, or qemu with the guest's RAM as far as the guest
# touched it. And as anyone, the peak RSS (VmHWM) of those processes, summed,
# read once the command has printed: in a few more container runs whose shell
# waits for the harness to read it, and in each VM run.
#
# Exit status: 0 when everything asked for was measured; 2 for a bad argument;
# 77 when this machine lacks something (qemu, a kernel, busybox, python3, a
# build, a container it may start), said in one line with the package that
# provides it; 1 when a run failed. Nothing is left behind (processes,
# cgroups, mounts, temporary files), on Ctrl-C too; the output directory is
# written only once everything was measured. Needs python3 (the timing) and,
# for the plot, gnuplot (Debian: gnuplot-nox): without it the data is still
# written and one line says so.
#
# NSLAB_BUILD_DIR: the build to take the programs from (default: build/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NSLAB_BUILD_DIR:-$top/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
cache=${NSLAB_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nslab/vm}

usage="usage: scripts/vm-vs-container.sh [--runs N | --quick] [--container-only] [--out DIR] [--docs]"
bad_usage() { echo "vm-vs-container: $1; $usage" >&2; exit 2; }
die() { echo "vm-vs-container: $*" >&2; exit 1; }

container_runs=50 vm_runs=5 with_vm=yes out="" docs=no runs_given=no quick=no
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --runs)
      [ $# -ge 2 ] || bad_usage "--runs needs a number"
      case $2 in '' | *[!0-9]* | 0*) bad_usage "--runs takes a whole number from 1, not '$2'" ;; esac
      container_runs=$2 vm_runs=$2 runs_given=yes
      shift ;;
    --quick) quick=yes ;;
    --container-only) with_vm=no ;;
    --out)
      [ $# -ge 2 ] && [ -n "$2" ] || bad_usage "--out needs a directory"
      out=$2
      shift ;;
    --docs) docs=yes ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
  shift
done
[ "$quick" = no ] || [ "$runs_given" = no ] || bad_usage "--quick or --runs, not both"
if [ "$quick" = yes ] || { [ "$docs" = yes ] && [ "$runs_given" = no ]; }; then
  container_runs=20 vm_runs=1
fi
out=${out:-$build/vm-vs-container}
case $out in /*) ;; *) out=$PWD/$out ;; esac
accel=${NSLAB_VM_ACCEL:-auto}
case $accel in auto | kvm | tcg) ;; *) bad_usage "NSLAB_VM_ACCEL=$accel: say kvm or tcg (or leave it unset)" ;; esac

# cannot WHY: this machine lacks something; one line, exit 77. For the docs
# build, which goes on without the plot, exit 0.
cannot() {
  if [ "$docs" = yes ]; then
    echo "vm-vs-container: no plot in the docs: $*; run scripts/vm-vs-container.sh to draw it there"
    exit 0
  fi
  echo "vm-vs-container: cannot measure here: $*" >&2
  exit 77
}

# The docs build, with data whose plot is up to date: nothing to do.
if [ "$docs" = yes ] && [ -s "$out/runs.dat" ] && [ "$out/vm-vs-container.svg" -nt "$out/runs.dat" ]; then
  echo "vm-vs-container: the docs show the plot of $out/runs.dat"
  exit 0
fi

command -v python3 >/dev/null || cannot "no python3, which times the runs (Debian: python3, Fedora: python3)"
gnuplot=$(command -v gnuplot || true)

# --- cleanup: whatever happens, nothing stays -----------------------------------------

work="" unpack="" harness_pid="" cg_parent=""
cleanup() {
  local status=$?
  set +e
  # The harness ends the one process it started (the runtime or qemu) itself.
  if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
    kill -TERM "$harness_pid" 2>/dev/null
    wait "$harness_pid" 2>/dev/null
  fi
  if [ -n "$cg_parent" ] && [ -d "$cg_parent" ]; then
    # The kernel frees a cgroup a moment after its last process: a short back-off.
    for _ in $(seq 50); do
      find "$cg_parent" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$cg_parent" ] || break
      sleep 0.1
    done
    [ ! -d "$cg_parent" ] || { echo "vm-vs-container: could not remove the cgroup $cg_parent" >&2; status=1; }
  fi
  [ -z "$work" ] || rm -rf "$work"
  [ -z "$unpack" ] || rm -rf "$unpack"
  # The docs build goes on without the plot when a measurement failed.
  if [ "$docs" = yes ] && [ "$status" = 1 ]; then
    echo "vm-vs-container: no plot in the docs: the measurement failed (above); run scripts/vm-vs-container.sh to draw it there"
    status=0
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-vmvc.XXXXXX")
chmod 755 "$work"
mkdir "$work/out"

# --- the timing harness, and the report ----------------------------------------------

# The harness: KIND RUNS TIMEOUT MARKER CGROUP_PARENT PEAK_FILE HOME_PROCS BASE -- ARGV...
# runs ARGV RUNS times, and prints one line per run: KIND N, the milliseconds
# to the line MARKER on its stdout and to its end, the cgroup's peak and the
# summed peak RSS of ARGV's processes, read as MARKER arrives (KiB; "-" when
# not measured: the RSS only for KIND vm, and for container-rss, whose
# command waits for a line on stdin, sent once it is read). Each run has its own
# cgroup CGROUP_PARENT/run-N when CGROUP_PARENT is given: the harness moves
# itself there, starts ARGV, and moves back to HOME_PROCS at once, so that only
# ARGV and what it starts are in it; BASE, when given, becomes ARGV's
# NSLAB_CGROUP_BASE (lab 08 on cgroup v2 makes its cgroup there, below ours).
# Exit 3 when a run did not print MARKER within TIMEOUT seconds (a VM that
# did not boot), 1 when it failed otherwise. On SIGTERM it ends ARGV first.
# Python, for a clock and a wait4(2) that add no process of their own.
# shellcheck disable=SC2016  # python's text, not the shell's
harness='
import os, select, signal, subprocess, sys, tempfile, time

kind, runs, timeout, marker, parent, peak_file, home_procs, base = sys.argv[1:9]
argv = sys.argv[10:]
runs, timeout, marker = int(runs), float(timeout), marker.encode()
hold = kind == "container-rss"
child = None

class Stop(Exception):
    pass

def on_signal(number, frame):
    raise Stop(number)

for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    if signal.getsignal(number) != signal.SIG_IGN:
        signal.signal(number, on_signal)

def write(path, text):
    with open(path, "w") as f:
        f.write(text)

def end_child():
    # The runtime forwards SIGTERM to its container and cleans up; qemu has
    # nothing to clean.
    if child is None or child.returncode is not None:
        return
    try:
        child.send_signal(signal.SIGKILL if kind == "vm" else signal.SIGTERM)
        child.wait(2)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()

def peak_rss(root):
    """the sum of VmHWM (KiB) of ROOT and every process below it: the peak of
    each address space, which began at its exec (wait4 would also count the
    memory of the process that started it, this one)"""
    below = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            below.setdefault(ppid, []).append(int(name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += below.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(l.split()[1]) for l in f if l.startswith("VmHWM:")), 0)
        except OSError:
            pass
    return total

def one_run(n):
    global child
    cgroup = ""
    env = dict(os.environ)
    if parent:
        cgroup = f"{parent}/run-{n}"
        os.mkdir(cgroup)
        write(f"{cgroup}/cgroup.procs", str(os.getpid()))
        if base:
            env["NSLAB_CGROUP_BASE"] = f"{base}/run-{n}"
    errors = tempfile.TemporaryFile()
    stdin = subprocess.PIPE if hold else subprocess.DEVNULL
    start = time.monotonic_ns()
    try:
        child = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=errors, env=env)
    finally:
        if cgroup:
            write(home_procs, str(os.getpid()))
    fd = child.stdout.fileno()
    seen, text, first, rss = b"", b"", None, "-"
    deadline = start + int(timeout * 1e9)
    while True:
        left = (deadline - time.monotonic_ns()) / 1e9
        if left <= 0:
            end_child()
            if cgroup:
                remove(cgroup)
            return None, "no line \"%s\" within %gs" % (marker.decode(), timeout), text + errors_of(errors)
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        data = os.read(fd, 65536)
        now = time.monotonic_ns()
        if not data:
            break
        text += data
        if first is None:
            seen += data
            lines = seen.split(b"\n")
            seen = lines.pop()
            if any(line.rstrip(b"\r") == marker for line in lines):
                first = now
                # The command has run: what its processes (or qemu, whose
                # guest is about to power off) took, while they still exist.
                if kind != "container":
                    rss = str(peak_rss(child.pid))
                if hold:
                    child.stdin.close()
    _, status, _ = os.wait4(child.pid, 0)
    end = time.monotonic_ns()
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    peak = "-"
    if cgroup:
        with open(f"{cgroup}/{peak_file}") as f:
            peak = str(int(f.read()) // 1024)
        remove(cgroup)
    if child.returncode != 0 or first is None:
        why = "exit status %d" % child.returncode if child.returncode != 0 else "no line \"%s\"" % marker.decode()
        return None, why, text + errors_of(errors)
    return "%s %d %.3f %.3f %s %s" % (kind, n, (first - start) / 1e6, (end - start) / 1e6, peak, rss), "", b""

def errors_of(errors):
    errors.seek(0)
    return errors.read()

def remove(cgroup):
    # Lab 08 removes what it made below; the kernel frees a cgroup a moment
    # after its last process.
    for _ in range(100):
        try:
            for below, dirs, _ in os.walk(cgroup, topdown=False):
                for d in dirs:
                    os.rmdir(os.path.join(below, d))
            os.rmdir(cgroup)
            return
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"vm-vs-container: cannot remove the cgroup {cgroup}")

try:
    for n in range(1, runs + 1):
        line, why, text = one_run(n)
        if line is None:
            for t in text.decode(errors="replace").strip().splitlines()[-15:]:
                print("  | " + t, file=sys.stderr)
            command = " ".join(argv)
            print(f"vm-vs-container: {kind} run {n} failed: {why}: {command}", file=sys.stderr)
            sys.exit(3 if "within" in why else 1)
        print(line, flush=True)
        if kind == "vm":
            fields = line.split()
            print(f"  vm run {n}/{runs}: first output {float(fields[2]) / 1000:.2f} s, exit {float(fields[3]) / 1000:.2f} s", file=sys.stderr, flush=True)
except Stop as stop:
    end_child()
    sys.exit(128 + stop.args[0])
'

# The report: RUNS_FILE DIR: prints the table, and writes DIR/summary.dat (the
# medians) and DIR/plot.gp (which draws DIR/vm-vs-container.svg from it).
# shellcheck disable=SC2016  # python's text, not the shell's
report='
import math, os, statistics, sys

runs_file, outdir = sys.argv[1:3]
meta, rows = {}, {"container": [], "container-rss": [], "vm": []}
with open(runs_file) as f:
    for line in f:
        line = line.rstrip("\n")
        if line.startswith("# ") and ": " in line:
            key, value = line[2:].split(": ", 1)
            meta[key] = value
        elif line and not line.startswith("#"):
            kind, n, *values = line.split()
            rows[kind].append(tuple(None if v == "-" else float(v) for v in values))
if not rows["container"]:
    sys.exit("vm-vs-container: %s holds no container run" % runs_file)

FIRST, EXIT, PEAK, RSS = range(4)

def stats(kind, i):
    """median, min, max of column i, or None when a run lacks it; the
    RSS of the container comes from the runs that held the command"""
    source = rows["container-rss"] if (kind, i) == ("container", RSS) else rows[kind]
    values = [r[i] for r in source if r[i] is not None]
    if not values or len(values) != len(source):
        return None
    return statistics.median(values), min(values), max(values)

def ms(v):
    if v < 100:
        return "%.1f ms" % v
    if v < 1000:
        return "%.0f ms" % v
    return "%.2f s" % (v / 1000) if v < 10000 else "%.1f s" % (v / 1000)

def mib(kib):
    return "%.1f MiB" % (kib / 1024) if kib < 100 * 1024 else "%.0f MiB" % (kib / 1024)

def cell(s, unit):
    if s is None:
        return "-"
    median, low, high = s
    return unit(median) if low == high else "%s (%s..%s)" % (unit(median), unit(low).split()[0], unit(high))

def ratio(a, b):
    return "%.0fx" % (b[0] / a[0]) if a and b and a[0] > 0 else ""

have_vm = bool(rows["vm"])
have_peak = stats("container", PEAK) is not None
accel = meta.get("accel", "")
ram = meta.get("vm-ram-mib", "")
size_ct = int(meta["size-container-bytes"])
size_kernel = int(meta.get("size-vm-kernel-bytes", "0"))
size_vm = size_kernel + int(meta.get("size-vm-initramfs-bytes", "0"))

def line(name, i, unit):
    c, v = stats("container", i), stats("vm", i)
    return (name, cell(c, unit), cell(v, unit) if have_vm else "-", ratio(c, v))

table = [
    ("", "container", "VM (qemu, %s)" % accel.upper() if have_vm else "VM: not measured", "VM/container"),
    line("start, to first output", FIRST, ms),
    line("start, to exit", EXIT, ms),
]
if have_peak:
    table.append(line("memory, cgroup peak", PEAK, mib))
table += [
    line("memory, peak RSS", RSS, mib),
    ("RAM set aside", "none", "%s MiB (-m)" % ram if have_vm else "-", ""),
    ("size on disk", mib(size_ct / 1024), mib(size_vm / 1024) if have_vm else "-",
     "%.0fx" % (size_vm / size_ct) if have_vm else ""),
    ("runs", "%d (RSS: %d more)" % (len(rows["container"]), len(rows["container-rss"])),
     str(len(rows["vm"])) if have_vm else "-", ""),
]
widths = [max(len(r[i]) for r in table) for i in range(4)]
print("container: %s" % meta["container"])
if have_vm:
    print("VM:        %s" % meta["vm"])
print()
for r in table:
    print("  ".join(r[i].ljust(widths[i]) for i in range(4)).rstrip())
print()
print("Each: median (min..max). Peak RSS: the runtime and the processes of the")
print("container; qemu. Size on disk: the root filesystem; the kernel and initramfs.")
if have_vm and accel == "tcg":
    print("TCG: the VM ran under software emulation, much slower than with KVM (hardware")
    print("virtualization), which could not be used here: its times are an upper bound.")

# summary.dat: three blocks for gnuplot (index 0: time, ms; 1: memory, MiB;
# 2: size, MiB), one row per bar: its place from the top, colour (1
# container, 2 VM), median, min, max, the value as text.
bars = [[], [], []]
tics = [[], [], []]

def bar(block, y, colour, s, text, tic):
    bars[block].append("%g %d %.6g %.6g %.6g \"%s\"" % ((y, colour) + tuple(s) + (text,)))
    tics[block].append("\"%s\" %g" % (tic, y))

for y, kind, colour, i, tic in ((0, "container", 1, FIRST, "container, to first output"),
                                (1, "container", 1, EXIT, "container, to exit"),
                                (2.3, "vm", 2, FIRST, "VM, to first output"),
                                (3.3, "vm", 2, EXIT, "VM, to exit")):
    s = stats(kind, i)
    if s:
        bar(0, y, colour, s, ms(s[0]), tic)
for y, kind, colour, i, tic in ((0, "container", 1, PEAK, "container, cgroup peak"),
                                (1, "container", 1, RSS, "container, peak RSS"),
                                (2.3, "vm", 2, PEAK, "VM, cgroup peak"),
                                (3.3, "vm", 2, RSS, "VM, peak RSS")):
    s = stats(kind, i)
    if s:
        bar(1, y, colour, [v / 1024 for v in s], mib(s[0]), tic)
bar(2, 0, 1, [size_ct / 2**20] * 3, mib(size_ct / 1024), "container, root filesystem")
if have_vm:
    bar(2, 1, 2, [size_vm / 2**20] * 3, mib(size_vm / 1024), "VM, kernel + initramfs")
with open(os.path.join(outdir, "summary.dat"), "w") as f:
    f.write("# scripts/vm-vs-container.sh: the medians of %s\n" % os.path.basename(runs_file))
    f.write("# index 0: start time (ms); 1: memory at its peak (MiB); 2: size on disk (MiB)\n")
    f.write("# place colour(1 container, 2 VM) median min max \"text\"\n")
    f.write("\n\n\n".join("\n".join(b) for b in bars) + "\n")

def log_range(block, extra=()):
    """a log axis from below the smallest bar to room for the text after the largest"""
    values = [float(b.split()[k]) for b in bars[block] for k in (3, 4)] + list(extra)
    return 10 ** math.floor(math.log10(min(values)) - 0.3), 10 ** math.ceil(math.log10(max(values)) + 0.7)

title = "nslab container vs minimal qemu VM, measured %s" % meta["date"][:10]
if not have_vm:
    title += ": the VM not measured"
elif accel == "kvm":
    title += ": the VM under KVM"
else:
    title += "\\nthe VM under TCG: software emulation, much slower than KVM"
host = meta["host"].replace("\"", "")

# Horizontal bars, one panel a row, the first bar at the top; the height of
# each panel follows its number of bars.
rows_of = [max(float(b.split()[0]) for b in bars[k]) + 1 for k in range(3)]
head, foot, unit = 0.13, 0.02, (1 - 0.13 - 0.02) / (sum(rows_of) + 3 * 1.6)

def panel(block, name, low, high, xlabel, top, log=True):
    height = (rows_of[block] + 1.6) * unit
    text = "set origin 0,%g\nset size 1,%g\n" % (top - height, height)
    text += "set title \"%s\" offset 0,-0.4\n" % name
    text += "set logscale x\n" if log else "unset logscale x\n"
    text += "set xrange [%g:%g]\nset xlabel \"%s\" offset 0,0.5\n" % (low, high, xlabel)
    text += "set yrange [%g:-0.6]\nset ytics (%s)\n" % (rows_of[block] - 0.4, ", ".join(tics[block]))
    text += ("plot \"summary.dat\" index %d using 3:1:(%g):3:($1-0.38):($1+0.38):2 with boxxyerror lc variable notitle, \\\n"
             "     \"\" index %d using 4:1:($5-$4):(0) with vectors heads size screen 0.006,90 lc rgb \"#333333\" notitle, \\\n"
             "     \"\" index %d using ($5%s):1:6 with labels left font \"sans,13\" notitle\n"
             % (block, low, block, block, "*1.15" if log else "+%g" % (high * 0.015)))
    return text, top - height

gp = "# scripts/vm-vs-container.sh: draws vm-vs-container.svg from summary.dat, the\n"
gp += "# medians of runs.dat; again with: cd DIR && gnuplot plot.gp\n"
gp += "set terminal svg size 840,%d dynamic noenhanced font \"sans,14\" background rgb \"white\"\n" % (int(110 + 48 * (sum(rows_of) + 3 * 1.6)))
gp += "set output \"vm-vs-container.svg\"\n"
gp += "set linetype 1 lc rgb \"#2e7d32\"\nset linetype 2 lc rgb \"#e65100\"\n"
gp += "set style fill solid 0.85 border rgb \"#333333\"\nset border 3\nset tics nomirror\n"
gp += "set grid xtics lc rgb \"#dddddd\"\nset lmargin 27\nset rmargin 3\nset tmargin 1.6\nset bmargin 2.6\n"
gp += "set multiplot title \"%s\\n%s\" font \"sans,14\"\n" % (title, host)
text, top = panel(0, "start time (log scale)", *log_range(0), "milliseconds", 1 - head)
gp += text
if have_vm:
    gp += "set arrow 1 from %s,graph 0 to %s,graph 1 nohead dashtype 2 lw 1.5 lc rgb \"#333333\"\n" % (ram, ram)
    gp += "set label 1 \"RAM given to the guest: %s MiB\" at %s,graph 0.92 right offset -0.5,0 front font \"sans,12\"\n" % (ram, ram)
text, top = panel(1, "memory at its peak (log scale)", *log_range(1, [float(ram)] if have_vm else []), "MiB", top)
gp += text + "unset arrow 1\nunset label 1\n"
if have_vm:
    # The bar of the VM in two: the kernel, then the initramfs.
    kernel_mib = size_kernel / 2**20
    gp += "set arrow 2 from %g,0.62 to %g,1.38 nohead front lc rgb \"#333333\"\n" % (kernel_mib, kernel_mib)
    gp += "set label 2 \"kernel %.1f MiB\" at %g,1 center front font \"sans,12\" textcolor rgb \"white\"\n" % (kernel_mib, kernel_mib / 2)
text, top = panel(2, "size on disk", 0, max(size_ct, size_vm) / 2**20 * 1.3, "MiB", top, log=False)
gp += text + "unset multiplot\n"
with open(os.path.join(outdir, "plot.gp"), "w") as f:
    f.write(gp)
'

# plot DIR: draws DIR/vm-vs-container.svg with gnuplot, when there is one.
plot() {
  if [ -z "$gnuplot" ]; then
    echo "vm-vs-container: no gnuplot, so no plot (Debian: gnuplot-nox, Fedora: gnuplot); the data is in $out"
    return 0
  fi
  (cd "$1" && "$gnuplot" plot.gp) || { echo "vm-vs-container: gnuplot failed on $1/plot.gp" >&2; return 1; }
}

# --- the docs build, with data of an earlier run: drawn again ---------------------------

if [ "$docs" = yes ] && [ -s "$out/runs.dat" ]; then
  [ -n "$gnuplot" ] || cannot "no gnuplot to draw $out/runs.dat (Debian: gnuplot-nox, Fedora: gnuplot)"
  python3 -c "$report" "$out/runs.dat" "$work/out" >/dev/null
  plot "$work/out"
  mv -f "$work/out"/* "$out/"
  echo "vm-vs-container: the docs show the plot of $out/runs.dat (drawn again)"
  exit 0
fi

# --- what the measurement needs -------------------------------------------------------

# The program under test, by who runs it: as root every namespace and a cgroup
# (lab 08); otherwise the rootless lab 06, since a cgroup needs root or a
# delegated subtree.
if [ "$(id -u)" = 0 ]; then
  program=08-cgroup
else
  program=06-user
fi
runtime=$build/bin/solutions/$program
busybox=$(command -v busybox || true)
qemu="" kernel="" kernel_name=""
if [ "$with_vm" = yes ]; then
  qemu=$(command -v qemu-system-x86_64 || true)
  [ -n "$qemu" ] || cannot "no qemu-system-x86_64 (Debian: qemu-system-x86, Fedora: qemu-system-x86-core)"
  command -v cpio >/dev/null || cannot "no cpio for the VM's initramfs (Debian: cpio, Fedora: cpio)"
fi
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
  cannot "no static busybox, of which the root filesystem and the initramfs are made (Debian: busybox-static, Fedora: busybox)"
[ -x "$runtime" ] ||
  cannot "no $program in $build/bin/solutions: build first (cmake --preset default && cmake --build --preset default; NSLAB_BUILD_DIR names another build)"

# The kernel: NSLAB_VM_KERNEL; or Debian's in scripts/vm-test.sh's cache (the
# package linux-image-amd64 depends on now, else the newest there); or fetched
# into that cache, the kernel alone (vm-test.sh adds the modules it needs).
find_kernel() {
  if [ -n "${NSLAB_VM_KERNEL:-}" ]; then
    [ -r "$NSLAB_VM_KERNEL" ] || cannot "NSLAB_VM_KERNEL=$NSLAB_VM_KERNEL is not a readable file"
    kernel=$NSLAB_VM_KERNEL kernel_name=$(basename "$NSLAB_VM_KERNEL")
    return
  fi
  local package newest
  package=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -nE 's/^ *Depends: (linux-image-[0-9][0-9.]*-[0-9]+-amd64)$/\1/p' | head -1 || true)
  newest=$(ls -d "$cache"/linux-image-*-amd64 2>/dev/null | sort -V | tail -1 || true)
  for dir in ${package:+"$cache/$package"} ${newest:+"$newest"}; do
    if [ -r "$dir/boot/vmlinuz" ]; then
      kernel=$dir/boot/vmlinuz kernel_name=${dir##*/}
      return
    fi
  done
  # The docs build never downloads: it draws what can be had at once.
  [ "$docs" = no ] || cannot "no kernel for the VM in $cache (scripts/vm-vs-container.sh fetches one)"
  [ -n "$package" ] && command -v dpkg >/dev/null ||
    cannot "no kernel for the VM in $cache, and no apt to fetch Debian's (linux-image-amd64); set NSLAB_VM_KERNEL to a kernel image (Fedora: /lib/modules/\$(uname -r)/vmlinuz)"
  mkdir -p "$cache"
  unpack=$(mktemp -d "$cache/.unpack.XXXXXX")
  echo "vm-vs-container: downloading $package into $cache (once)"
  (cd "$unpack" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "$package" >/dev/null 2>"$unpack/apt.err") ||
    cannot "apt-get download $package failed: $(tail -n 1 "$unpack/apt.err") (Debian: linux-image-amd64)"
  dpkg -x "$unpack"/*.deb "$unpack/root"
  mkdir -p "$unpack/keep/boot"
  cp "$unpack/root/boot/vmlinuz-${package#linux-image-}" "$unpack/keep/boot/vmlinuz"
  [ -e "$cache/$package" ] || mv "$unpack/keep" "$cache/$package"
  rm -rf "$unpack"
  unpack=""
  kernel=$cache/$package/boot/vmlinuz kernel_name=$package
}
[ "$with_vm" = no ] || find_kernel

# run_harness OUTPUT ARGS...: the harness in the background, waited for, so
# that a signal to this script runs its traps at once (the cleanup ends it).
run_harness() {
  local output=$1 status=0
  shift
  python3 -c "$harness" "$@" >> "$output" &
  harness_pid=$!
  wait "$harness_pid" || status=$?
  harness_pid=""
  return "$status"
}

# --- memory: a cgroup per run, as root ------------------------------------------------

peak_file="" home_procs="" cg_base_for_lab=""
memory_note="peak RSS (VmHWM) of the processes; no cgroup: not root"
# The docs build makes no cgroup of its own: it may run beside tests that
# watch the host's cgroups.
[ "$docs" = no ] || memory_note="peak RSS (VmHWM) of the processes; no cgroup in the docs build"
if [ "$(id -u)" = 0 ] && [ "$docs" = no ]; then
  base=${NSLAB_CGROUP_BASE:-} mount=""
  if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
    # Pure v2: a parent of our own with the memory controller for its children,
    # one per run; lab 08 makes the container's cgroup below the run's.
    if grep -qw memory "/sys/fs/cgroup$base/cgroup.subtree_control" 2>/dev/null; then
      mount=/sys/fs/cgroup own=$(sed -n 's/^0:://p' /proc/self/cgroup)
      cg_parent=$mount$base/nslab-vmvc.$$
      mkdir "$cg_parent"
      echo +memory > "$cg_parent/cgroup.subtree_control"
      peak_file=memory.peak cg_base_for_lab=$base/nslab-vmvc.$$
      # memory.peak came with Linux 5.19.
      [ -e "$cg_parent/memory.peak" ] || { rmdir "$cg_parent"; cg_parent="" peak_file="" cg_base_for_lab=""; }
    fi
  elif [ -e "/sys/fs/cgroup/memory$base/memory.max_usage_in_bytes" ]; then
    # v1 (or hybrid): the memory hierarchy; lab 08 with no limit makes no cgroup.
    mount=/sys/fs/cgroup/memory own=$(sed -nE 's/^[0-9]+:([^:]*,)?memory(,[^:]*)?://p' /proc/self/cgroup)
    cg_parent=$mount$base/nslab-vmvc.$$
    mkdir "$cg_parent"
    peak_file=memory.max_usage_in_bytes
  fi
  if [ -n "$peak_file" ]; then
    home_procs=$mount$own/cgroup.procs
    memory_note="each run's cgroup ($peak_file); peak RSS (VmHWM) of the processes"
  else
    memory_note="peak RSS (VmHWM) of the processes; no memory cgroup to measure in"
  fi
fi

# --- the container -----------------------------------------------------------------------

echo "vm-vs-container: the container: $program --rootfs ROOTFS -- /bin/echo hello, $container_runs run(s)"
"$top/scripts/make-rootfs.sh" "$work/rootfs" >/dev/null
rootfs_bytes=$(du -sb "$work/rootfs" | cut -f1)
container_argv=("$runtime" --rootfs "$work/rootfs" -- /bin/echo hello)
# One run first, not counted: after it the page cache holds the programs, as
# it does for every run after.
status=0
run_harness /dev/null container 1 10 hello "$cg_parent" "$peak_file" "$home_procs" "$cg_base_for_lab" -- "${container_argv[@]}" || status=$?
if [ "$status" != 0 ]; then
  [ "$status" -lt 128 ] || exit "$status"
  [ "$(id -u)" = 0 ] || cannot "no rootless container here ($program failed, above): are unprivileged user namespaces allowed? (scripts/doctor.sh)"
  die "the container did not run (above)"
fi
status=0
run_harness "$work/container.runs" container "$container_runs" 10 hello "$cg_parent" "$peak_file" "$home_procs" "$cg_base_for_lab" -- "${container_argv[@]}" || status=$?
[ "$status" = 0 ] || { [ "$status" -lt 128 ] || exit "$status"; die "a container run failed (above)"; }
# The memory of its processes, read while they exist: a few runs more, in
# which the shell echoes, then waits for a line the harness sends once it has
# read their peak RSS.
rss_runs=$((container_runs < 5 ? container_runs : 5))
status=0
run_harness "$work/container.runs" container-rss "$rss_runs" 10 hello "" "" "" "" -- \
  "$runtime" --rootfs "$work/rootfs" -- /bin/sh -c 'echo hello; read -r line || :' || status=$?
[ "$status" = 0 ] || { [ "$status" -lt 128 ] || exit "$status"; die "a container run failed (above)"; }

# --- the VM ----------------------------------------------------------------------------------

ram_mib=128
if [ "$with_vm" = yes ]; then
  # The initramfs: the same static busybox, and an /init that runs the command
  # and powers the machine off (reboot(2) at once: there is nothing to unmount).
  mkdir -p "$work/initramfs/bin"
  cp "$busybox" "$work/initramfs/bin/busybox"
  printf '%s\n' '#!/bin/busybox sh' '/bin/busybox echo hello' '/bin/busybox poweroff -f' > "$work/initramfs/init"
  chmod 755 "$work/initramfs/init"
  (cd "$work/initramfs" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio"
  kernel_bytes=$(stat -Lc %s "$kernel")
  initramfs_bytes=$(stat -c %s "$work/initramfs.cpio")
  # A PC with a serial port and nothing else: no disk, no network, no display.
  # (Less than about 96 MiB, and this kernel does not boot.)
  vm_argv() {
    printf '%s\0' "$qemu" -accel "$1" -m "$ram_mib" -smp 1 -nodefaults -no-user-config -display none \
      -no-reboot -nic none -monitor none -chardev stdio,id=console,signal=off -serial chardev:console \
      -kernel "$kernel" -initrd "$work/initramfs.cpio" -append "console=ttyS0 quiet panic=-1"
  }
  # KVM when it works: /dev/kvm usable, and a first guest (not counted) that
  # prints within NSLAB_VM_KVM_WAIT seconds; on some machines (a VM itself) a
  # KVM guest hangs at boot, or qemu refuses the CPU.
  why_tcg=""
  if [ "$accel" != tcg ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    wait_kvm=${NSLAB_VM_KVM_WAIT:-5}
    [ "$accel" = auto ] || wait_kvm=60
    mapfile -d '' argv < <(vm_argv kvm)
    status=0
    run_harness /dev/null vm 1 "$wait_kvm" hello "" "" "" "" -- "${argv[@]}" 2>"$work/kvm.err" || status=$?
    [ "$status" -lt 128 ] || exit "$status"
    if [ "$status" = 0 ]; then
      accel=kvm
    elif [ "$accel" = kvm ]; then
      cat "$work/kvm.err" >&2
      die "NSLAB_VM_ACCEL=kvm, but no KVM guest answered (above)"
    else
      why_tcg="/dev/kvm is there, but a KVM guest did not answer within ${wait_kvm}s"
      accel=tcg
    fi
  elif [ "$accel" = kvm ]; then
    cannot "NSLAB_VM_ACCEL=kvm, but /dev/kvm is not usable by uid $(id -u)"
  elif [ "$accel" = tcg ]; then
    why_tcg="NSLAB_VM_ACCEL=tcg"
  else
    why_tcg="/dev/kvm $([ -e /dev/kvm ] && echo "is not usable by uid $(id -u)" || echo "is missing")"
    accel=tcg
  fi
  if [ "$accel" = tcg ]; then
    echo "vm-vs-container: no KVM: $why_tcg"
    echo "vm-vs-container: the VM runs under TCG, software emulation, much slower than KVM: its times are an upper bound"
  fi
  echo "vm-vs-container: the VM: qemu ($accel), $ram_mib MiB, $kernel_name and a busybox initramfs, $vm_runs run(s)"
  mapfile -d '' argv < <(vm_argv "$accel")
  status=0
  run_harness "$work/vm.runs" vm "$vm_runs" 300 hello "$cg_parent" "$peak_file" "$home_procs" "" -- "${argv[@]}" || status=$?
  [ "$status" = 0 ] || { [ "$status" -lt 128 ] || exit "$status"; die "a VM run failed (above)"; }
fi

# --- the data, the table, the plot -----------------------------------------------------

{
  echo "# scripts/vm-vs-container.sh: one line per run"
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# host: $(uname -sr), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr -s ' '), $(nproc) CPUs"
  echo "# container: $program --rootfs ROOTFS -- /bin/echo hello ($([ "$(id -u)" = 0 ] && echo "as root" || echo "rootless, uid $(id -u)"))"
  echo "# memory: $memory_note"
  echo "# size-container-bytes: $rootfs_bytes"
  if [ "$with_vm" = yes ]; then
    echo "# accel: $accel"
    [ -z "$why_tcg" ] || echo "# accel-why: $why_tcg"
    echo "# vm: qemu -accel $accel -m ${ram_mib}M, $kernel_name, a busybox initramfs"
    echo "# vm-ram-mib: $ram_mib"
    echo "# size-vm-kernel-bytes: $kernel_bytes"
    echo "# size-vm-initramfs-bytes: $initramfs_bytes"
  fi
  echo "# columns: kind run first_output_ms exit_ms cgroup_peak_kib peak_rss_kib   (kind container-rss: runs that held the command, for its RSS)"
  cat "$work/container.runs"
  [ "$with_vm" = no ] || cat "$work/vm.runs"
} > "$work/out/runs.dat"

echo
python3 -c "$report" "$work/out/runs.dat" "$work/out"
echo
plot "$work/out"
mkdir -p "$out"
mv -f "$work/out"/* "$out/"
echo "vm-vs-container: the runs, their summary, its gnuplot script and the plot are in $out"
