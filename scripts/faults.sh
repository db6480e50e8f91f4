#!/usr/bin/env bash
# The host keeps nothing, under faults: every lab's program is interrupted at
# random moments of its start, its container's PID 1 is killed while it runs,
# and each step of its set-up is made to fail; after every trial nothing of it
# may be left, and its exit status must be the one SPEC.md gives.
#
#   scripts/faults.sh [--long] [--trials N] [--seed N] [--lab NN]... [--kind KIND]... [--verbose]
#
# The programs (NSLAB_BUILD_DIR, default build/: bin/solutions/NN-name) run as
#   01-uts --hostname       02-ipc                  03-pid --init
#   04-mount                04-mount --rootfs       05-net
#   05-net --veth           06-user --uid-map/--gid-map (0:100000:65536, as root)
#   06-user rootless (as uid 65534, with setpriv)
#   07-setns --enter (into a running 07-setns --init container)
#   08-cgroup limits (--memory --pids --cpus)
#   08-cgroup all (--rootfs --veth --hostname --init, the limits, --pid-file)
# with COMMAND /bin/echo ran, and each meets these faults (KIND):
#   clean    runs without a fault (the first warms the caches up): where
#            COMMAND's output comes is where the start ends, "start ms"
#   kill, term, int
#            SIGKILL, SIGTERM or SIGINT to the runtime at a random moment of the
#            window, 0 to 1.25 times the start ("window ms"): mostly during the
#            start, some while COMMAND runs and the runtime tears down
#   pid1     SIGKILL to the container's PID 1 once COMMAND (sleep) runs (with
#            --enter, to the PID 1 of the container joined)
#   inject   each step of the start fails, once: the child's (setup_inside:
#            sethostname, each mount, the /dev nodes, pivot_root, umount2, lo and
#            eth0, setresuid, setns, the fork, execve ...) and the runtime's
#            (clone, the channel, the veth, the ID maps, the cgroup's mkdir and
#            writes), and the veth's deletion at the teardown. The steps are the
#            calls a clean run makes, seen by build/bin/nslab-inject; each is then
#            made to fail by it, exactly that call in exactly that process (a
#            seccomp filter: see common/tools/inject.cpp, and why not strace)
# What counts as right (SPEC.md, "Exit status" and "What the host keeps"):
#   clean: exit 0, "ran" on stdout, nothing on stderr.
#   SIGTERM, SIGINT (N): 128+N (the start was ended, or COMMAND was killed by
#     the forwarded signal; a runtime killed by N before it holds its signals
#     is 128+N to its caller too, and then COMMAND must not have run); or 0
#     and "ran" (COMMAND ran first, or, as a PID 1, ignored it); stderr empty.
#   SIGKILL: killed by signal 9, or 0 and "ran" when it had ended already.
#   pid1: exit 137 (COMMAND was killed by signal 9), stderr empty.
#   inject: 125 (126 for COMMAND's execve), nothing on stdout, exactly one line
#     on stderr, "NN-name: ...", that names the call and the injected error
#     (ENOTRECOVERABLE: "State not recoverable"); at the teardown, COMMAND's
#     0, "ran", and one line "NN-name: left on the host: veth ...".
# And after each, nothing left: no process, mount, link, address or route, IPC
# object, hostname, cgroup directory or nslab file (/tmp/nslab*, the pid
# file). Allowed, as SPEC.md says: after SIGKILL of the runtime the container
# dies a moment later (PR_SET_PDEATHSIG: waited for, 2 s at most) and the
# kernel removes the veth after it (5 s at most); the empty cgroup and the
# stale pid file stay, for the next run to take away (one is then made, and
# must). Labs 01-02 may leave COMMAND's background processes: /bin/echo and
# sleep leave none, so none may be left there either.
#
# Counts: the default (CI-sized) gives each program 10 trials of each signal, 2
# of pid1, 3 clean runs, and fails each step of the start once, in the first
# program that makes it (about 600 trials, 10-30 s on 2 busy CPUs); --long 200
# of each signal, 20 of pid1, 10 clean runs, and every step in every program
# (about 8000 trials, 2-4 minutes); --trials N sets the signals' count (pid1:
# N/10, at least 2). --seed N draws the same moments again, as shares of each
# window (the seed is printed); --lab NN and --kind KIND (repeatable) choose;
# --verbose prints every trial.
#
# It runs inside scripts/sandbox.sh, which it starts itself (a throw-away host:
# whatever a trial leaves goes with it), on a /tmp of its own. Each bad outcome
# is printed as it happens (what was left, or the status against what was
# expected), what it left is removed, and at the end comes a table: per program
# and fault the trials, the bad ones, and why (proc: a process left; mount;
# link: a link, address or route; ipc/uts: an IPC object, the hostname;
# cgroup; file; status: the exit status or the output), and the seconds spent.
# Ctrl-C (SIGINT, SIGTERM, SIGHUP) ends the trial under way, removes what it
# left and shows the table so far. Exit status: 0 when no outcome was bad, 1
# otherwise; 2 for a bad argument (one line); 125 when it cannot run (not
# root, no build, no python3); 128+N when ended by signal N. Needs root,
# python3, setpriv; busybox for --rootfs (without it those are skipped, said).
#
# NSLAB_FAULTS_PROGRAM=PATH runs PATH in place of every program, with the same
# arguments: the negative controls of common/bats/faults.bats give it one that
# leaves things behind, and one that exits wrongly, which must be reported.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

bad_argument() {
  echo "faults: $1 (scripts/faults.sh --help)" >&2
  exit 2
}

long=0 trials="" seed="" labs=() kinds=() verbose=0
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --long) long=1 ;;
    --verbose | -v) verbose=1 ;;
    --trials | --seed | --lab | --kind)
      [ $# -ge 2 ] || bad_argument "$1 needs a value"
      case $1 in
        --trials)
          [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] || bad_argument "--trials: expected a number from 1 to 99999, got \"$2\""
          trials=$2 ;;
        --seed)
          [[ $2 =~ ^[0-9]{1,18}$ ]] || bad_argument "--seed: expected a number (up to 18 digits), got \"$2\""
          seed=$2 ;;
        --lab)
          [[ $2 =~ ^0[1-8]$ ]] || bad_argument "--lab: expected a lab number from 01 to 08, got \"$2\""
          labs+=("$2") ;;
        --kind)
          [[ $2 =~ ^(clean|kill|term|int|pid1|inject)$ ]] ||
            bad_argument "--kind: expected clean, kill, term, int, pid1 or inject, got \"$2\""
          kinds+=("$2") ;;
      esac
      shift ;;
    *) bad_argument "unknown argument \"$1\"" ;;
  esac
  shift
done

cannot() {
  echo "faults: $*" >&2
  exit 125
}

[ "$(id -u)" = 0 ] || cannot "needs root: the trials run in scripts/sandbox.sh, which creates namespaces (run it as root, or with sudo)"
build=${NSLAB_BUILD_DIR:-$top/build}
build=$(cd "$build" 2>/dev/null && pwd) || cannot "no build at ${NSLAB_BUILD_DIR:-$top/build}: build first (cmake --preset default && cmake --build --preset default)"
if [ -n "${NSLAB_FAULTS_PROGRAM:-}" ]; then
  if [ ! -f "$NSLAB_FAULTS_PROGRAM" ] || [ ! -x "$NSLAB_FAULTS_PROGRAM" ]; then
    cannot "NSLAB_FAULTS_PROGRAM=$NSLAB_FAULTS_PROGRAM: not an executable file"
  fi
  NSLAB_FAULTS_PROGRAM=$(realpath "$NSLAB_FAULTS_PROGRAM")
  export NSLAB_FAULTS_PROGRAM
fi
for tool in python3 setpriv unshare ip; do
  command -v "$tool" >/dev/null || cannot "$tool not found (scripts/setup.sh installs it)"
done
if [ ${#kinds[@]} -eq 0 ] || printf '%s\n' "${kinds[@]}" | grep -qx inject; then
  [ -x "$build/bin/nslab-inject" ] || cannot "no $build/bin/nslab-inject, which fails the steps: build it (cmake --build --preset default)"
fi

# --- outside: the sandbox ----------------------------------------------------------
#
# Inside it this script is the sandbox's first process (PID 1: sandbox.sh's
# shell execs its command), with the mark below. On the host PID 1 is init: the
# mark alone cannot fool it.
if ! { [ "${NSLAB_FAULTS_INSIDE:-}" = 1 ] && [ "$$" = 1 ]; }; then
  args=()
  [ "$long" = 0 ] || args+=(--long)
  [ "$verbose" = 0 ] || args+=(--verbose)
  [ -z "$trials" ] || args+=(--trials "$trials")
  [ -z "$seed" ] || args+=(--seed "$seed")
  for lab in "${labs[@]}"; do args+=(--lab "$lab"); done
  for kind in "${kinds[@]}"; do args+=(--kind "$kind"); done
  export NSLAB_BUILD_DIR=$build
  exec "$top/scripts/sandbox.sh" env NSLAB_FAULTS_INSIDE=1 bash "$top/scripts/faults.sh" "${args[@]}"
fi

# --- inside: a /tmp of our own -------------------------------------------------------
#
# The trials' /tmp is a fresh tmpfs: a file a program leaves there is seen (no
# other user's /tmp/nslab-* is), and goes with the sandbox. The host's /tmp
# stays reachable at /tmp/.host, for a build or a source tree under it.
cd /  # the caller's directory may be under /tmp, which is about to be hidden
exec {host_tmp}</tmp
mount -t tmpfs -o mode=1777,size=256m nslab-faults /tmp || cannot "could not mount a tmpfs on the sandbox's /tmp"
mkdir /tmp/.host
# Not --rbind: that would copy the tmpfs just mounted on the same directory.
mount --no-canonicalize --bind "/proc/self/fd/$host_tmp" /tmp/.host || cannot "could not bind the host's /tmp to /tmp/.host"
exec {host_tmp}<&-
# on_host_tmp PATH: where PATH, if under the host's /tmp, is now.
on_host_tmp() {
  case $1 in /tmp/*) echo "/tmp/.host/${1#/tmp/}" ;; *) echo "$1" ;; esac
}
top=$(on_host_tmp "$top")
build=$(on_host_tmp "$build")
export NSLAB_BUILD_DIR=$build
[ -z "${NSLAB_FAULTS_PROGRAM:-}" ] || NSLAB_FAULTS_PROGRAM=$(on_host_tmp "$NSLAB_FAULTS_PROGRAM")
work=$(mktemp -d /tmp/faults.XXXXXX)
chmod 755 "$work"

# chosen NN: true when lab NN runs (every lab does without --lab).
chosen() {
  [ ${#labs[@]} -eq 0 ] || printf '%s\n' "${labs[@]}" | grep -qx "$1"
}

# A root filesystem for --rootfs (labs 04 and 08).
rootfs="" rootfs_why=""
if chosen 04 || chosen 08; then
  if ! command -v busybox >/dev/null; then
    rootfs_why="no root filesystem: busybox not found (Debian: busybox-static)"
  elif bash "$top/scripts/make-rootfs.sh" "$work/rootfs" >/dev/null 2>"$work/rootfs.err"; then
    rootfs=$work/rootfs
  else
    rootfs_why="no root filesystem: $(head -n 1 "$work/rootfs.err")"
  fi
fi

# Rootless (lab 06): uid 65534 must reach the program and make a user namespace.
rootless_why=""
program_06=${NSLAB_FAULTS_PROGRAM:-$build/bin/solutions/06-user}
if ! chosen 06; then
  :
elif ! (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$program_06") 2>/dev/null; then
  rootless_why="uid 65534 cannot run $program_06 (put the build where it can)"
elif ! why=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups -- unshare --user --map-root-user true 2>&1); then
  rootless_why="uid 65534 cannot create a user namespace here (${why:-unshare -Ur failed}; scripts/doctor.sh says why)"
fi

export FAULTS_LONG=$long FAULTS_VERBOSE=$verbose FAULTS_TRIALS=$trials FAULTS_SEED=$seed
export FAULTS_LABS="${labs[*]}" FAULTS_KINDS="${kinds[*]}" FAULTS_BUILD=$build FAULTS_WORK=$work
export FAULTS_ROOTFS=$rootfs FAULTS_ROOTFS_WHY=$rootfs_why FAULTS_ROOTLESS_WHY=$rootless_why
export FAULTS_PROGRAM=${NSLAB_FAULTS_PROGRAM:-}
set +e
python3 - <<'PY'
# The trials, inside the sandbox: started by scripts/faults.sh, which says what
# they are and what counts as right.
import ctypes
import errno
import glob
import os
import random
import re
import select
import signal
import statistics
import sys
import time

env = os.environ
LONG = env["FAULTS_LONG"] == "1"
VERBOSE = env["FAULTS_VERBOSE"] == "1"
SEED = int(env["FAULTS_SEED"]) if env["FAULTS_SEED"] else random.SystemRandom().randrange(10**9)
SIGNAL_TRIALS = int(env["FAULTS_TRIALS"]) if env["FAULTS_TRIALS"] else (200 if LONG else 10)
PID1_TRIALS = max(2, SIGNAL_TRIALS // 10)
CLEAN_TRIALS = 10 if LONG else 3
LABS = env["FAULTS_LABS"].split()
KINDS = env["FAULTS_KINDS"].split() or ["clean", "kill", "term", "int", "pid1", "inject"]
BUILD = env["FAULTS_BUILD"]
WORK = env["FAULTS_WORK"]
ROOTFS = env["FAULTS_ROOTFS"]
OVERRIDE = env["FAULTS_PROGRAM"]
INJECT = os.path.join(BUILD, "bin", "nslab-inject")
BASE = env.get("NSLAB_CGROUP_BASE", "")  # the sandbox's subtree: the trials' cgroups go below it
ERRNO = errno.ENOTRECOVERABLE
ERRNO_TEXT = os.strerror(ERRNO)
ME = os.getpid()
SIGNALS = {"kill": signal.SIGKILL, "term": signal.SIGTERM, "int": signal.SIGINT}
KIND_TITLES = {"clean": "clean run", "kill": "SIGKILL", "term": "SIGTERM", "int": "SIGINT",
               "pid1": "SIGKILL PID 1", "inject": "failed step"}
WHATS = ["proc", "mount", "link", "ipc/uts", "cgroup", "file", "status"]
ECHO = ["/bin/echo", "ran"]
SLEEP = ["/bin/sleep", "1000"]
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

# The trials run in /, which every user may reach (uid 65534's too).
os.chdir("/")
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
# Orphans of a killed runtime come to us, to be seen and reaped.
libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

interrupted = []


def on_signal(number, _frame):
    interrupted.append(number)


for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(each, on_signal)


class Interrupted(Exception):
    pass


def check_interrupt():
    if interrupted:
        raise Interrupted()


def say(line):
    print(line, flush=True)


# --- the programs ------------------------------------------------------------------


class Config:
    def __init__(self, lab, feature, args, rootfs=False, veth=False, rootless=False, enter=False,
                 cgroup=False, pidfile=None):
        self.lab, self.feature, self.args = lab, feature, args
        self.rootfs, self.veth, self.rootless, self.enter = rootfs, veth, rootless, enter
        self.cgroup, self.pidfile = cgroup, pidfile
        self.name = lab + (" " + feature if feature else "")
        self.program = OVERRIDE or os.path.join(BUILD, "bin", "solutions", lab)
        self.skip = ""
        self.start_ms = self.run_ms = self.window_ms = None

    def argv(self, command, target=None):
        args = list(self.args)
        if self.enter:
            args = ["--enter", str(target.pid1)]
        return (AS_NOBODY if self.rootless else []) + [self.program] + args + ["--"] + command


VETH = "10.200.1.1/24,10.200.1.2/24"
CT_PIDFILE = os.path.join(WORK, "ct.pid")
CONFIGS = [
    Config("01-uts", "--hostname", ["--hostname", "box"]),
    Config("02-ipc", "", []),
    Config("03-pid", "--init", ["--init"]),
    Config("04-mount", "", []),
    Config("04-mount", "--rootfs", ["--rootfs", ROOTFS], rootfs=True),
    Config("05-net", "", []),
    Config("05-net", "--veth", ["--veth", VETH], veth=True),
    Config("06-user", "--uid-map/--gid-map",
           ["--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536"]),
    Config("06-user", "rootless", [], rootless=True),
    Config("07-setns", "--enter", [], enter=True),
    Config("08-cgroup", "limits", ["--memory", "64M", "--pids", "64", "--cpus", "0.5"], cgroup=True),
    Config("08-cgroup", "all",
           ["--rootfs", ROOTFS, "--veth", VETH, "--hostname", "box", "--init", "--memory", "64M",
            "--pids", "64", "--cpus", "0.5", "--pid-file", CT_PIDFILE],
           rootfs=True, veth=True, cgroup=True, pidfile=CT_PIDFILE),
]
for config in CONFIGS:
    if config.rootfs and not ROOTFS:
        config.skip = env["FAULTS_ROOTFS_WHY"]
    elif config.rootless and env["FAULTS_ROOTLESS_WHY"]:
        config.skip = env["FAULTS_ROOTLESS_WHY"]
    elif not os.access(config.program, os.X_OK):
        config.skip = "no program at " + config.program + " (is it built?)"

# --- processes ---------------------------------------------------------------------

exited = {}  # PID -> wait status, of the children reaped while waiting for another


def reap_orphans():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        exited[pid] = status


def wait_for(pid, timeout=None):
    """The wait status of our child PID; None if it has not ended within TIMEOUT."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        if pid in exited:
            return exited.pop(pid)
        try:
            got, status = os.waitpid(pid, os.WNOHANG if end is not None else 0)
        except ChildProcessError:
            return exited.pop(pid, None)
        except InterruptedError:
            continue
        if got == pid:
            return status
        if time.monotonic() >= end:
            return None
        time.sleep(0.002)


def has_ended(pid):
    """True when our child PID has ended (it is then left to be reaped)."""
    if pid in exited:
        return True
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


ALL_SIGNALS = [s for s in range(1, signal.NSIG) if s not in (signal.SIGKILL, signal.SIGSTOP)
               and s not in range(32, 35)]


def spawn(argv, stdout, stderr):
    """Starts ARGV with default signal dispositions and no signal blocked (ours
    must not leak into it), stdin /dev/null, a small environment."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, stdout, 1), (os.POSIX_SPAWN_DUP2, stderr, 2)]
    child_env = {"PATH": env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    for name, value in (("NSLAB_CGROUP_BASE", BASE), ("TERM", env.get("TERM", ""))):
        if value:
            child_env[name] = value
    pid = os.posix_spawnp(argv[0], argv, child_env, file_actions=actions, setsigmask=(),
                          setsigdef=ALL_SIGNALS)
    # An orphan reaped long ago may have had this PID (they wrap at pid_max).
    exited.pop(pid, None)
    return pid


def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2:].split()
    return {"comm": text[text.index("(") + 1:text.rindex(")")], "state": rest[0], "ppid": int(rest[1]),
            "start": rest[19]}


def processes():
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = proc_stat(int(name))
            if stat:
                found[int(name)] = stat
    return found


def descendants(root, table=None):
    table = table or processes()
    children = {}
    for pid, stat in table.items():
        children.setdefault(stat["ppid"], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


def wait_until(predicate, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        check_interrupt()
        time.sleep(0.001)
    return predicate()


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


# --- what the host has -------------------------------------------------------------


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cgroup_mounts():
    """Each cgroup hierarchy once (cpu and cpu,cpuacct are one), by mount point."""
    seen, mounts = set(), []
    for line in read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        dash = fields.index("-")
        if fields[dash + 1] in ("cgroup", "cgroup2") and fields[2] not in seen:
            seen.add(fields[2])
            mounts.append(fields[4])
    return mounts


CGROUP_MOUNTS = cgroup_mounts()


def cgroup_dirs():
    dirs = set()
    for mount in CGROUP_MOUNTS:
        top = mount + BASE
        for path, subdirs, _files in os.walk(top):
            if path != top:
                dirs.add(path)
    return dirs


def cgroup_processes(path):
    pids = []
    for where, _dirs, _files in os.walk(path):
        pids += read(os.path.join(where, "cgroup.procs")).split()
    return pids


def host_state():
    net = read("/proc/net/dev").splitlines()[2:]
    ipc = []
    for kind in ("msg", "sem", "shm"):
        for line in read("/proc/sysvipc/" + kind).splitlines()[1:]:
            ipc.append(kind + " " + " ".join(line.split()[:2]))
    return {
        "proc": {pid: stat for pid, stat in processes().items() if pid != ME},
        "mount": set(read("/proc/self/mountinfo").splitlines()),
        "link": {"link " + line.split(":")[0].strip() for line in net}
        | {"address " + line for line in read("/proc/net/if_inet6").splitlines()}
        | {"route " + line for line in read("/proc/net/route").splitlines()[1:]}
        | {"fib " + line.strip() for line in read("/proc/net/fib_trie").splitlines()},
        "ipc/uts": set(ipc) | {"hostname " + read("/proc/sys/kernel/hostname").strip(),
                               "domainname " + read("/proc/sys/kernel/domainname").strip()},
        "cgroup": cgroup_dirs(),
        "file": set(glob.glob("/tmp/nslab*")) | ({CT_PIDFILE} if os.path.exists(CT_PIDFILE) else set()),
    }


class Allowance:
    """What may stay after a trial, as SPEC.md allows it."""

    def __init__(self):
        self.swept = set()  # cgroup directories and pid files a later run must take away


def differences(before, after, allowance, kind, config):
    found = {what: [] for what in WHATS}
    for pid, stat in after["proc"].items():
        old = before["proc"].get(pid)
        if old and old["start"] == stat["start"]:
            continue
        parent = after["proc"].get(stat["ppid"], {}).get("comm", "this script" if stat["ppid"] == ME else "?")
        found["proc"].append(f"process {pid} ({stat['comm']}, state {stat['state']}, parent {stat['ppid']}"
                             f" {parent}): {cmdline(pid)}")
    for what in ("mount", "link", "ipc/uts"):
        appeared, gone = sorted(after[what] - before[what]), sorted(before[what] - after[what])
        if what == "link" and any(line.startswith("link ") for line in appeared + gone):
            # A link's addresses and routes come and go with it: the link says it.
            others = [line for line in appeared + gone if not line.startswith("link ")]
            appeared = [line for line in appeared if line.startswith("link ")]
            gone = [line for line in gone if line.startswith("link ")]
            if others:
                (appeared or gone)[-1] += f" (and {len(others)} line(s) of its addresses and routes)"
        found[what] += ["appeared: " + line for line in appeared] + ["went away: " + line for line in gone]
    for path in sorted(after["cgroup"] - before["cgroup"]):
        if kind == "kill" and config.cgroup and re.search(r"/nslab(/|$)", path) and not cgroup_processes(path):
            allowance.swept.add(path)
            continue
        if path in allowance.swept and not cgroup_processes(path):
            continue
        found["cgroup"].append(path + (" (processes: " + " ".join(cgroup_processes(path)) + ")"
                                       if cgroup_processes(path) else ""))
    for path in sorted(after["file"] - before["file"]):
        if path == config.pidfile and (kind == "kill" or path in allowance.swept):
            allowance.swept.add(path)
            continue
        found["file"].append(path)
    return {what: lines for what, lines in found.items() if lines}


def settle(before, allowance, kind, config, linger):
    """The differences left once the kernel has had a moment (LINGER s at most)."""
    end = time.monotonic() + linger
    while True:
        reap_orphans()
        found = differences(before, host_state(), allowance, kind, config)
        if not found or time.monotonic() >= end:
            return found
        time.sleep(0.005)


def run_quietly(argv):
    null = os.open("/dev/null", os.O_WRONLY)
    try:
        pid = spawn(argv, null, null)
    except OSError:
        return
    finally:
        os.close(null)
    wait_for(pid, 10)


def clean_up(found, before):
    """Removes what a trial left (it has been counted), so that the next starts clean."""
    for line in found.get("proc", []):
        pid = int(line.split()[1])
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if "proc" in found:
        time.sleep(0.05)
        reap_orphans()
    after = host_state()
    for line in sorted(after["mount"] - before["mount"], key=lambda l: -len(l.split()[4])):
        run_quietly(["umount", "-l", line.split()[4]])
    for line in after["link"] - before["link"]:
        if line.startswith("link "):
            run_quietly(["ip", "link", "delete", line.split()[1]])
    for path in sorted(after["cgroup"] - before["cgroup"], key=len, reverse=True):
        for pid in cgroup_processes(path):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        for _ in range(50):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)
    for path in after["file"] - before["file"]:
        run_quietly(["rm", "-rf", "--", path])
    for line in before["ipc/uts"]:
        if line.startswith("hostname "):
            with open("/proc/sys/kernel/hostname", "w") as f:
                f.write(line.split(" ", 1)[1])


# --- the table ---------------------------------------------------------------------

rows = {}    # (config name, kind) -> counts
order = []   # the keys of rows, in the order they came
clock = [time.monotonic()]  # when the last trial was recorded: a row's time is its trials'


def row(config, kind):
    key = (config.name, kind)
    if key not in rows:
        rows[key] = {"trials": 0, "bad": 0, "seconds": 0.0, **{what: 0 for what in WHATS}}
        order.append(key)
    return rows[key]


def record(config, kind, trial, found, note):
    counts = row(config, kind)
    counts["trials"] += 1
    now = time.monotonic()
    counts["seconds"] += now - clock[0]
    clock[0] = now
    if not found:
        if VERBOSE:
            say(f"faults: ok   {config.name}, {KIND_TITLES[kind]}, trial {trial}: {note}")
        return
    counts["bad"] += 1
    for what, lines in found.items():
        counts[what] += 1
        for line in lines:
            say(f"faults: BAD  {config.name}, {KIND_TITLES[kind]}, trial {trial} ({note}): {what}: {line}")


def print_table():
    say("")
    header = f"{'program':<32} {'fault':<14} {'trials':>6} {'bad':>4}" + "".join(
        f" {what:>7}" for what in WHATS) + f" {'s':>5} {'start ms':>8} {'window ms':>9}"
    say(header)
    say("-" * len(header))
    total = {"trials": 0, "bad": 0, "seconds": 0.0, **{what: 0 for what in WHATS}}
    timing = {c.name: c for c in CONFIGS}
    for key in order:
        counts = rows[key]
        config = timing[key[0]]
        times = ""
        if key[1] == "clean" and config.run_ms is not None:
            times = f" {config.start_ms:8.1f} {config.window_ms:9.1f}"
        say(f"{key[0]:<32} {KIND_TITLES[key[1]]:<14} {counts['trials']:>6} {counts['bad']:>4}" +
            "".join(f" {counts[what]:>7}" for what in WHATS) + f" {counts['seconds']:5.1f}" + times)
        for name in total:
            total[name] += counts[name]
    for config in CONFIGS:
        if config.skip and (not LABS or config.lab[:2] in LABS):
            say(f"{config.name:<32} skipped: {config.skip}")
    say("-" * len(header))
    say(f"{'total':<32} {'':<14} {total['trials']:>6} {total['bad']:>4}" +
        "".join(f" {total[what]:>7}" for what in WHATS) + f" {total['seconds']:5.1f}")
    return total


# --- one trial -----------------------------------------------------------------------


class Outcome:
    def __init__(self, status, out, err, ms):
        self.status, self.out, self.err, self.ms = status, out, err, ms

    def describe(self):
        if self.status is None:
            how = "still running"
        elif os.WIFSIGNALED(self.status):
            how = f"killed by signal {os.WTERMSIG(self.status)}"
        else:
            how = f"exit {os.WEXITSTATUS(self.status)}"
        return f"{how}, stdout {self.out[:60]!r}, stderr {self.err[:300]!r}"

    def exit_code(self):
        return os.WEXITSTATUS(self.status) if self.status is not None and os.WIFEXITED(self.status) else None


def outputs():
    out = os.open(os.path.join(WORK, "out"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(os.path.join(WORK, "err"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    return out, err


def collected(out, err):
    texts = []
    for fd in (out, err):
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(fd)
        texts.append(b"".join(chunks).decode(errors="replace"))
    return texts


def run(argv, signal_at=None, signal_number=None, timeout=30):
    """Runs ARGV to its end; with SIGNAL_AT (s), sends it SIGNAL_NUMBER then,
    unless it has ended. Returns the outcome and whether the signal was sent."""
    out, err = outputs()
    start = time.monotonic()
    pid = spawn(argv, out, err)
    sent = None
    if signal_at is not None:
        moment = start + signal_at
        while True:
            left = moment - time.monotonic()
            if left <= 0:
                break
            # The last fraction of a millisecond spinning: sleep(3) overshoots.
            if left > 0.0003:
                time.sleep(left - 0.0002)
        if not has_ended(pid):
            os.kill(pid, signal_number)
            sent = (time.monotonic() - start) * 1000
    status = wait_for(pid, timeout)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        status = wait_for(pid)
        texts = collected(out, err)
        return Outcome(None, texts[0], texts[1], (time.monotonic() - start) * 1000), sent
    ms = (time.monotonic() - start) * 1000
    texts = collected(out, err)
    return Outcome(status, texts[0], texts[1], ms), sent


def clean_status(outcome):
    if outcome.exit_code() == 0 and outcome.out == "ran\n" and outcome.err == "":
        return []
    return ["expected exit 0, \"ran\", nothing on stderr; got " + outcome.describe()]


def signal_status(outcome, number, sent):
    status = outcome.status
    if status is None:
        return ["it did not end within 30 s of the signal: " + outcome.describe()]
    if outcome.exit_code() == 0 and outcome.out == "ran\n" and outcome.err == "":
        return []  # COMMAND ran (before the signal, or as a PID 1 that ignores it)
    if sent is None:
        return ["it ended before the signal, so: expected exit 0 and \"ran\"; got " + outcome.describe()]
    if number == signal.SIGKILL:
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            return []
        return ["expected killed by SIGKILL (or exit 0 and \"ran\"); got " + outcome.describe()]
    if outcome.err != "":
        return [f"expected nothing on stderr after signal {number}; got " + outcome.describe()]
    if outcome.exit_code() == 128 + number:
        return []
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == number and outcome.out == "":
        return []  # before it held its signals: nothing had started yet
    return [f"expected exit {128 + number} (or 0 and \"ran\"); got " + outcome.describe()]


# --- the target of --enter -----------------------------------------------------------


class Target:
    """A lab 07 container, --init, running sleep: the container --enter joins."""

    def __init__(self):
        self.pidfile = os.path.join(WORK, "target.pid")
        self.status = None
        program = OVERRIDE or os.path.join(BUILD, "bin", "solutions", "07-setns")
        self.err = os.open(os.path.join(WORK, "target.err"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open("/dev/null", os.O_WRONLY)
        self.pid = spawn([program, "--init", "--pid-file", self.pidfile, "--"] + SLEEP, null, self.err)
        os.close(null)

        def started():
            text = read(self.pidfile).strip()
            if not text.isdigit():
                return None
            table = processes()
            if not any(table[p]["comm"] == "sleep" for p in descendants(self.pid, table) if p in table):
                return None
            return int(text)

        try:
            self.pid1 = wait_until(started, 10)
        except Interrupted:
            self.stop()
            raise
        if not self.pid1:
            self.stop()
            raise RuntimeError("the container to join did not start: " + self.said())

    def said(self):
        return read(os.path.join(WORK, "target.err"))[:300]

    def alive(self):
        return not has_ended(self.pid) and os.path.exists(f"/proc/{self.pid1}")

    def stop(self):
        """Ends it (SIGTERM, as Ctrl-C would); its wait status, or None."""
        if self.err is None:
            return self.status
        if has_ended(self.pid):
            self.status = wait_for(self.pid)
        else:
            os.kill(self.pid, signal.SIGTERM)
            self.status = wait_for(self.pid, 10)
            if self.status is None:
                os.kill(self.pid, signal.SIGKILL)
                wait_for(self.pid)
        os.close(self.err)
        self.err = None
        return self.status


# --- the steps that fail -------------------------------------------------------------

NETLINK = {16: "RTM_NEWLINK", 17: "RTM_DELLINK", 20: "RTM_NEWADDR", 22: "RTM_GETADDR", 24: "RTM_NEWROUTE"}


class Template:
    """Which watched calls are steps: SYSCALL at DEPTHS whose rendering matches
    SELECT; EXPECT (may use SELECT's groups, and the netlink type) is what the
    error line must name; STATUS the exit status."""

    def __init__(self, syscall, depths, select, expect, status=125, phase="start"):
        self.syscall, self.depths, self.select = syscall, depths, re.compile(select)
        self.expect, self.status, self.phase = expect, status, phase


TEMPLATES = [
    # The runtime, from outside: every lab.
    Template("socketpair", {0, 1}, r"^socketpair\(1,", r"socketpair"),
    Template("signalfd4", {0}, r"", r"signalfd"),
    Template("clone", {0}, r"^clone\(", r"clone\("),
    Template("sendto", {0}, r"^sendto\([^,]*, len=\d+\)$", r"send\(channel, GO\)"),
    Template("memfd_create", {0}, r"", r"memfd_create"),
    Template("execveat", {0}, r"", r"fexecve"),
    # Lab 06: the ID maps, written from outside.
    Template("openat", {0}, r'^openat\(AT_FDCWD, "/proc/\d+/(setgroups|uid_map|gid_map)", 0x80001\)',
             r"open /proc/\d+/{1}"),
    Template("write", {0}, r"^write\(\d+</proc/\d+/(setgroups|uid_map|gid_map)>", r"write /proc/\d+/{1}"),
    # Lab 05: rtnetlink, the runtime's (the veth) and the child's (lo, eth0).
    Template("socket", {0, 1}, r"^socket\(16,", r"socket\(AF_NETLINK", phase="any"),
    Template("bind", {0, 1}, r"", r"bind\(AF_NETLINK\)", phase="any"),
    Template("sendto", {0, 1}, r"nlmsg_type=(16|20|22|24), to=AF_NETLINK", r"{netlink}"),
    Template("sendto", {0}, r"nlmsg_type=17, to=AF_NETLINK", r"RTM_DELLINK", phase="teardown"),
    # Lab 08: the cgroup, made and filled from outside.
    Template("mkdir", {0}, r'^mkdir\("/sys/fs/cgroup/', r"mkdir /sys/fs/cgroup/"),
    Template("openat", {0}, r'^openat\(AT_FDCWD, "(/sys/fs/cgroup/[^"]*/nslab/\d+)", 0x90000\)',
             r"/sys/fs/cgroup/"),
    Template("mkdirat", {0}, r"", r"mkdir /sys/fs/cgroup/.*/container"),
    Template("openat", {0}, r'^openat\(AT_FDCWD, "/sys/fs/cgroup/[^"]*/([^/"]+)", 0x80001\)', r"open .*/{1}"),
    Template("write", {0}, r"^write\(\d+</sys/fs/cgroup/.*/([^/>]+)>", r"write .* to .*/{1}"),
    # The child, inside (setup_inside), and the processes it forks.
    Template("prctl", {1, 2}, r"^prctl\(1, 0x9\)", r"PR_SET_PDEATHSIG"),
    Template("prctl", {1}, r"^prctl\(4, 0x0\)", r"PR_SET_DUMPABLE"),
    Template("sendto", {1, 2}, r"^sendto\([^,]*, len=\d+\)$", r"send\(channel"),
    Template("unshare", {1}, r"", r"unshare\(CLONE_NEWCGROUP\)"),
    Template("setresgid", {1}, r"", r"setresgid\(0, 0, 0\)"),
    Template("setresuid", {1}, r"", r"setresuid\(0, 0, 0\)"),
    Template("setgroups", {1}, r"", r"setgroups\(0, NULL\)"),
    Template("sethostname", {1}, r"", r'sethostname\("box"\)'),
    Template("mount", {1}, r"", r"mount\("),
    Template("openat", {1}, r'^openat\(AT_FDCWD, "(/tmp/[^"]*rootfs|\.)"', r"open\("),
    Template("openat", {1}, r'^openat\(\d+<[^>]*/dev>, "(\w+)"', r"create .*/dev/{1}"),
    Template("openat", {1}, r'^openat\(AT_FDCWD, "/proc/\d+/(ns/\w+|root|cwd)"', r"open /proc/\d+/{1}"),
    Template("openat2", {1}, r"", r"openat2\("),
    Template("chdir", {1}, r"", r"chdir\("),
    Template("symlinkat", {1}, r'^symlinkat\("[^"]*", [^,]*, "(\w+)"\)', r"symlink .*/dev/{1}"),
    Template("pivot_root", {1}, r"", r"pivot_root\("),
    Template("umount2", {1}, r"", r"umount2\("),
    Template("mkdir", {1}, r'^mkdir\("(/sys/fs/cgroup/\w+)"', r"mkdir {1}"),
    Template("pidfd_open", {1}, r"", r"pidfd_open\("),
    Template("setns", {1}, r"", r"setns\(/proc/\d+/ns/"),
    Template("fchdir", {1}, r"", r"fchdir\("),
    Template("chroot", {1}, r"", r"chroot\("),
    Template("clone", {1}, r"^clone\(", r"fork"),
    Template("execve", {1, 2}, r'^execve\("/bin/echo"\)', r'exec "/bin/echo"', status=126),
]
WATCHED = sorted({t.syscall for t in TEMPLATES})


def regex_for(rendering):
    """A regular expression that matches RENDERING with other numbers in it (a
    PID, an inode, an address): special characters escaped, each number any."""
    escaped = re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", rendering)
    return "^" + re.sub(r"0x[0-9a-f]+|[0-9]+", lambda m: "0x[0-9a-f]+" if m.group().startswith("0x") else "[0-9]+",
                        escaped) + "$"


def step_name(rendering):
    """The call as the table's lines show it: what changes from run to run
    (PIDs, inodes, addresses, the work directory) named, not numbered."""
    name = re.sub(r"nlmsg_type=(\d+)", lambda m: NETLINK.get(int(m.group(1)), m.group(0)), rendering)
    for pattern, replacement in ((r"/tmp/faults\.\w+/", ""), (r"socket:\[\d+\]", "socket"),
                                 (r"/proc/\d+/", "/proc/PID/"), (r"nslab-sandbox\.\d+", "SANDBOX"),
                                 (r"/nslab/\d+", "/nslab/PID"), (r"0x7f[0-9a-f]{6,}", "ADDRESS")):
        name = re.sub(pattern, replacement, name)
    return name


class Step:
    def __init__(self, template, depth, rendering, nth, match, expect, teardown):
        self.template, self.depth, self.rendering, self.nth = template, depth, rendering, nth
        self.match, self.expect, self.teardown = match, expect, teardown
        # A step of the teardown fails after COMMAND ran: its status stays COMMAND's.
        self.status = 0 if teardown else template.status
        self.name = step_name(rendering)
        # The same step in another program: the same call but for its numbers.
        self.key = (template.syscall, depth, re.sub(r"\d+", "N", rendering), nth)


def watched_run(argv):
    """The calls a clean run of ARGV makes, as (depth, rendering), in order."""
    log = os.path.join(WORK, "watch.log")
    outcome, _ = run([INJECT, "--watch", ",".join(WATCHED), "--log", log, "--"] + argv)
    calls = []
    for line in read(log).splitlines():
        if line.startswith("call "):
            _, depth, _pid, rendering = line.split(" ", 3)
            calls.append((int(depth), rendering))
    return outcome, calls


def steps_of(calls):
    """The steps of one run: each watched call that a template selects, in the
    order they were made, with the Nth-ness that finds it again."""
    steps = []
    # The runtime's teardown comes once the container has ended: its calls
    # are the runtime's after the container's last one.
    container_until = max((i for i, (depth, _) in enumerate(calls) if depth > 0), default=len(calls))
    for i, (depth, rendering) in enumerate(calls):
        phase = "teardown" if depth == 0 and i > container_until else "start"
        for template in TEMPLATES:
            if not rendering.startswith(template.syscall + "(") or depth not in template.depths:
                continue
            if template.phase not in (phase, "any"):
                continue
            found = template.select.search(rendering)
            if not found:
                continue
            match = regex_for(rendering)
            # The Nth call at this depth that the same expression matches.
            nth = 1 + sum(1 for d, r in calls[:i] if d == depth and re.search(match, r))
            expect = template.expect
            for number, group in enumerate(found.groups(), 1):
                expect = expect.replace("{" + str(number) + "}", re.escape(group or ""))
            type_found = re.search(r"nlmsg_type=(\d+)", rendering)
            if type_found:
                expect = expect.replace("{netlink}", NETLINK.get(int(type_found.group(1)), "RTM_"))
            steps.append(Step(template, depth, rendering, nth, match, expect, phase == "teardown"))
            break
    return steps


def inject_status(config, step, outcome, log):
    problems = []
    if "injected " not in log:
        return [f"the call was never made, so nothing failed (the steps were read from a clean run): "
                f"{outcome.describe()}"]
    lines = outcome.err.splitlines()
    if outcome.exit_code() != step.status:
        problems.append(f"expected exit {step.status}")
    if len(lines) != 1 or not outcome.err.endswith("\n"):
        problems.append(f"expected exactly one line on stderr, got {len(lines)}")
    elif not lines[0].startswith(config.lab + ": " + ("left on the host: " if step.teardown else "")):
        problems.append(f"expected the line to start with \"{config.lab}: \"" +
                        (" and say what was left on the host" if step.teardown else ""))
    elif not re.search(step.expect, lines[0]):
        problems.append(f"expected the line to name the call (/{step.expect}/)")
    elif ERRNO_TEXT not in lines[0]:
        problems.append(f"expected the line to give the error, \"{ERRNO_TEXT}\"")
    expected_out = "ran\n" if step.teardown else ""
    if outcome.out != expected_out:
        problems.append(f"expected stdout {expected_out!r}")
    if problems:
        return ["; ".join(problems) + "; got " + outcome.describe()]
    return []


# --- the batches ---------------------------------------------------------------------

injected_keys = set()


class Batch:
    """Every trial of one program, with what the host had before them."""

    def __init__(self, config):
        self.config = config
        self.allowance = Allowance()
        self.target = Target() if config.enter else None
        self.before = host_state()

    def new_target(self):
        """The container --enter joins ended (its PID 1 was killed): another."""
        self.target = Target()
        self.before = host_state()

    def trial(self, kind, number, note, problems, linger=0.0, target_must_live=True):
        if interrupted:
            # Ctrl-C reached this trial's program too: its outcome is not
            # counted, and what it left goes.
            clean_up(settle(self.before, self.allowance, kind, self.config, linger), self.before)
            raise Interrupted()
        found = settle(self.before, self.allowance, kind, self.config, linger)
        if problems:
            found["status"] = problems
        target = self.target
        if target and target_must_live and not target.alive():
            found.setdefault("status", []).append("the container it joins ended: " + target.said())
        record(self.config, kind, number, found, note)
        if found:
            clean_up(found, self.before)
            if target and target_must_live and not target.alive():
                target.stop()
                self.target = Target()
            self.before = host_state()
        check_interrupt()

    def argv(self, command):
        return self.config.argv(command, self.target)

    def clean_runs(self):
        # The first run warms the caches up: it is checked, but not timed.
        config, starts, runs = self.config, [], []
        for number in range(1, CLEAN_TRIALS + 2):
            outcome, started = timed_clean_run(self.argv(ECHO))
            if number > 1 and started is not None:
                starts.append(started)
                runs.append(outcome.ms)
            when = f", COMMAND's output at {started:.1f} ms" if started is not None else ""
            self.trial("clean", number, f"{outcome.ms:.1f} ms" + when, clean_status(outcome))
        config.run_ms = statistics.median(runs) if runs else 50.0
        config.start_ms = statistics.median(starts) if starts else config.run_ms
        config.window_ms = 1.25 * config.start_ms

    def signals(self, kind):
        config = self.config
        rng = random.Random(f"{SEED}:{config.name}:{kind}")
        for number in range(1, SIGNAL_TRIALS + 1):
            # The seed draws the moment as a share of the window: the same
            # shares again with the same seed, whatever this machine's speed.
            share = rng.random()
            delay = share * config.window_ms / 1000
            outcome, sent = run(self.argv(ECHO), delay, SIGNALS[kind])
            moment = f"at {share:.3f} of the {config.window_ms:.1f} ms window"
            note = (f"signal {moment}, sent at {sent:.2f} ms" if sent is not None
                    else f"signal {moment}: it had ended before")
            # After SIGKILL the container dies a moment after the runtime
            # (PR_SET_PDEATHSIG), and the kernel deletes the veth after it. Else
            # the runtime has undone everything before it exits: it is looked at
            # once, at once.
            linger = (5.0 if config.veth else 2.0) if kind == "kill" else 0.0
            self.trial(kind, number, note, signal_status(outcome, SIGNALS[kind], sent), linger=linger)
        if kind == "kill" and self.allowance.swept:
            # What SPEC.md lets a SIGKILL leave (the empty cgroup, the stale pid
            # file), the next run must take away.
            outcome, _ = run(self.argv(ECHO))
            left = sorted(p for p in self.allowance.swept if os.path.exists(p))
            self.allowance.swept.clear()
            found = {}
            for path in left:
                found.setdefault("cgroup" if path.startswith("/sys/") else "file", []).append(
                    "left by a SIGKILLed run, and not taken away by the next: " + path)
            if clean_status(outcome):
                found["status"] = clean_status(outcome)
            record(config, kind, "sweep", found, "the clean run after them")
            if found:
                clean_up(found, self.before)
                self.before = host_state()

    def pid1(self):
        for number in range(1, PID1_TRIALS + 1):
            problems = kill_pid1(self.config, self.target)
            if self.target:
                # Its container is gone with its PID 1: another for the next trial.
                status = self.target.stop()
                if status is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 137:
                    problems.append(f"the joined container's runtime: expected exit 137, got {describe(status)}")
                if os.path.exists(self.target.pidfile):
                    problems.append("the joined container's pid file is still there: " + self.target.pidfile)
            self.trial("pid1", number, "PID 1 killed", problems, target_must_live=False)
            if self.target:
                self.new_target()

    def inject(self):
        config = self.config
        outcome, calls = watched_run(self.argv(ECHO))
        problems = clean_status(outcome)
        if problems or not calls:
            record(config, "inject", "watch", {"status": [
                "the watched clean run: " + "; ".join(problems) + f" ({len(calls)} calls seen)"]}, "watched run")
            return
        for number, step in enumerate(steps_of(calls), 1):
            if not LONG and step.key in injected_keys:
                continue
            injected_keys.add(step.key)
            log = os.path.join(WORK, "inject.log")
            argv = [INJECT, "--fail", step.template.syscall, "--depth", str(step.depth), "--nth", str(step.nth),
                    "--match", step.match, "--errno", str(ERRNO), "--log", log, "--"] + self.argv(ECHO)
            outcome, _ = run(argv)
            # A veth the teardown could not delete goes with the container's
            # network namespace, a moment later.
            linger = 5.0 if step.teardown and config.veth else 0.0
            self.trial("inject", number, step.name, inject_status(config, step, outcome, read(log)), linger=linger)

    def finish(self):
        if not self.target:
            return
        status = self.target.stop()
        if os.path.exists(self.target.pidfile):
            record(self.config, "clean", "end", {"file": [
                f"the pid file of the container --enter joined, after it ended: {self.target.pidfile}"]},
                "the joined container")
        if not interrupted and (status is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 143):
            record(self.config, "clean", "end", {"status": [
                f"the container --enter joined, ended by SIGTERM: expected exit 143, got {describe(status)}"]},
                "the joined container")


def describe(status):
    if status is None:
        return "no end"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


def batch(config):
    try:
        one = Batch(config)
    except RuntimeError as e:
        record(config, "clean", "start", {"status": [str(e)]}, "the container to join")
        return
    try:
        if "clean" in KINDS or any(kind in KINDS for kind in SIGNALS):
            one.clean_runs()
        for kind in ("kill", "term", "int"):
            if kind in KINDS:
                one.signals(kind)
        if "pid1" in KINDS:
            one.pid1()
        if "inject" in KINDS:
            one.inject()
    finally:
        one.finish()


def timed_clean_run(argv):
    """A clean run, with the moment COMMAND's output came (ms), for the window.
    Its output is read until it ends (not until end-of-file, which a process it
    left behind, holding the pipe, would put off)."""
    read_end, write_end = os.pipe()
    err = os.open(os.path.join(WORK, "err"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    start = time.monotonic()
    pid = spawn(argv, write_end, err)
    os.close(write_end)
    pidfd = os.pidfd_open(pid)
    out, started, ended = b"", None, False
    while True:
        ready, _, _ = select.select([read_end, pidfd], [], [], 30)
        if not ready:
            break
        if read_end in ready:
            chunk = os.read(read_end, 4096)
            if chunk and started is None:
                started = (time.monotonic() - start) * 1000
            out += chunk
            if not chunk:
                break
        elif ended:
            break  # it has ended, and nothing more is there to read
        else:
            ended = True  # once more: what it wrote last may be there
            os.set_blocking(read_end, False)
            try:
                chunk = os.read(read_end, 65536)
                if chunk and started is None:
                    started = (time.monotonic() - start) * 1000
                out += chunk
            except BlockingIOError:
                pass
            break
    os.close(read_end)
    os.close(pidfd)
    status = wait_for(pid, 30)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        wait_for(pid)
    ms = (time.monotonic() - start) * 1000
    os.lseek(err, 0, os.SEEK_SET)
    err_text = os.read(err, 65536).decode(errors="replace")
    os.close(err)
    return Outcome(status, out.decode(errors="replace"), err_text, ms), started


def kill_pid1(config, target):
    """SIGKILL to the container's PID 1 once COMMAND (sleep) runs: the runtime
    must then exit 137, and say nothing."""
    out, err = outputs()
    pid = spawn(config.argv(SLEEP, target), out, err)

    def sleeping():
        table = processes()
        return any(table[p]["comm"] == "sleep" for p in descendants(pid, table) if p in table)

    problems = []
    try:
        running = wait_until(sleeping, 10)
    except Interrupted:
        os.kill(pid, signal.SIGKILL)
        wait_for(pid)
        raise
    if not running:
        problems.append("COMMAND (sleep) was not running after 10 s")
        os.kill(pid, signal.SIGKILL)
    else:
        if config.enter:
            victim = target.pid1
        else:
            children = read(f"/proc/{pid}/task/{pid}/children").split()
            victim = int(children[0]) if children else pid
        os.kill(victim, signal.SIGKILL)
    status = wait_for(pid, 30)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        status = wait_for(pid)
        problems.append("it did not end within 30 s of its PID 1")
    texts = collected(out, err)
    outcome = Outcome(status, texts[0], texts[1], 0)
    if not problems and (outcome.exit_code() != 137 or outcome.err != ""):
        problems.append("expected exit 137 and nothing on stderr; got " + outcome.describe())
    return problems


def main():
    started = time.monotonic()
    selected = [c for c in CONFIGS if not LABS or c.lab[:2] in LABS]
    counts = (f"{SIGNAL_TRIALS} of each signal, {PID1_TRIALS} of pid1, {CLEAN_TRIALS} clean runs, "
              + ("every step in every program" if LONG else "each step once"))
    say(f"faults: seed {SEED}, {'--long' if LONG else 'default'}: {counts}; {os.cpu_count()} CPUs; "
        f"programs in {os.path.dirname(selected[0].program) if selected else BUILD}")
    status = 0
    try:
        for config in selected:
            if config.skip:
                continue
            batch(config)
    except Interrupted:
        status = 128 + interrupted[0]
    total = print_table()
    seconds = time.monotonic() - started
    if status:
        say(f"faults: interrupted by signal {interrupted[0]} after {seconds:.1f} s: the table shows what ran")
        return status
    labs = " ".join(f"--lab {lab}" for lab in sorted({name[:2] for (name, _), counts in rows.items()
                                                      if counts["bad"]}))
    if total["bad"]:
        say(f"faults: {total['bad']} bad outcome(s) in {total['trials']} trials, {seconds:.1f} s; to run them "
            f"again: scripts/faults.sh --seed {SEED}{' --long' if LONG else ''} {labs}")
        return 1
    say(f"faults: no bad outcome in {total['trials']} trials, {seconds:.1f} s")
    return 0


sys.exit(main())
PY
status=$?
rm -rf "$work"
exit "$status"
