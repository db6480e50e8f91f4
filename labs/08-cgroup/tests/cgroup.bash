# Helpers shared by lab 08's tests (cgroup.bats, rootless.bats): the cgroup
# layout of this machine, where a container's cgroup is and what its files
# hold, and a cgroup delegated by hand to an unprivileged user.
#
# A cgroup is named as /proc/PID/cgroup spells it ("/nslab/4242"); the
# directory that holds it depends on the layout:
#   v2      /sys/fs/cgroup/nslab/4242                 (one hierarchy)
#   hybrid  /sys/fs/cgroup/memory/nslab/4242, …/pids/…, …/cpu/…
#   v1      the same: one directory per controller's hierarchy
# On hybrid, the cgroup2 mount at unified/ holds no controller: lab 08 uses
# the v1 hierarchies there, as on v1.

# The layout of /sys/fs/cgroup: v2, hybrid or v1 (statfs, as the program detects it).
cgroup_layout() {
  case $(stat -fc %T /sys/fs/cgroup 2>/dev/null) in
    cgroup2fs) echo v2 ;;
    tmpfs)
      if [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then echo hybrid; else echo v1; fi
      ;;
    *) echo none ;;
  esac
}

# cgroup_setup: CG_LAYOUT, and CG_HIERARCHIES, the hierarchies lab 08 uses,
# one a word: "unified" on v2; on hybrid and v1, whichever of memory, pids and
# cpu are mounted at /sys/fs/cgroup/NAME. Read once, as the program reads them.
cgroup_setup() {
  local name
  CG_LAYOUT=$(cgroup_layout)
  CG_HIERARCHIES=""
  if [ "$CG_LAYOUT" = v2 ]; then
    CG_HIERARCHIES=unified
    return
  fi
  for name in memory pids cpu; do
    [ "$(stat -fc %T "/sys/fs/cgroup/$name" 2>/dev/null)" != cgroupfs ] || CG_HIERARCHIES+="${CG_HIERARCHIES:+ }$name"
  done
}

# cgroup_dir CONTROLLER CGROUP: the directory of CGROUP ("/nslab/4242") in the
# hierarchy that holds CONTROLLER (memory, pids, cpu; on v2, any of them).
cgroup_dir() {
  if [ "$CG_LAYOUT" = v2 ]; then
    echo "/sys/fs/cgroup${2%/}"
  else
    echo "/sys/fs/cgroup/$1${2%/}"
  fi
}

# cgroup_in FILE CONTROLLER: the cgroup that FILE (a copy of /proc/PID/cgroup)
# names for the hierarchy of CONTROLLER.
cgroup_in() {
  if [ "$CG_LAYOUT" = v2 ]; then
    sed -n 's/^0:://p' "$1"
  else
    awk -F: -v c="$2" '{ n = split($2, names, ","); for (i = 1; i <= n; i++) if (names[i] == c) print $3 }' "$1"
  fi
}

# cgroup_of PID CONTROLLER: PID's cgroup in the hierarchy of CONTROLLER, from
# /proc/PID/cgroup (relative to the reader's cgroup namespace: the host's).
cgroup_of() {
  cgroup_in "/proc/$1/cgroup" "$2"
}

# The limit files, as the design names them for each layout.
memory_limit_file() { if [ "$CG_LAYOUT" = v2 ]; then echo memory.max; else echo memory.limit_in_bytes; fi; }
# v2: memory.events; v1: memory.oom_control. Both hold a line "oom_kill N".
oom_events_file() { if [ "$CG_LAYOUT" = v2 ]; then echo memory.events; else echo memory.oom_control; fi; }

# cgroup_value CONTROLLER CGROUP FILE: what FILE of CGROUP holds.
cgroup_value() {
  cat "$(cgroup_dir "$1" "$2")/$3" 2>/dev/null
}

# cgroup_count CONTROLLER CGROUP FILE KEY: the number after KEY in a flat-keyed
# file (memory.events oom_kill, pids.events max, cpu.stat nr_throttled); 0 when absent.
cgroup_count() {
  local value
  value=$(awk -v key="$4" '$1 == key { print $2 }' "$(cgroup_dir "$1" "$2")/$3" 2>/dev/null)
  echo "${value:-0}"
}

# The quota lines of --cpus FRACTION's cgroup, one string: v2 "QUOTA 100000"
# (cpu.max); v1 "QUOTA 100000" (cpu.cfs_quota_us, cpu.cfs_period_us).
cpu_quota_of() {
  if [ "$CG_LAYOUT" = v2 ]; then
    cgroup_value cpu "$1" cpu.max
  else
    echo "$(cgroup_value cpu "$1" cpu.cfs_quota_us) $(cgroup_value cpu "$1" cpu.cfs_period_us)"
  fi
}

# The cgroup of the container whose runtime is RUNTIME (default CT_PID):
# CG_BASE/nslab/RUNTIME.
ct_cgroup() {
  echo "$CG_BASE/nslab/${1:-$CT_PID}"
}

# The cgroup the container's processes are in: CGROUP itself, or its leaf
# CGROUP/container when the runtime keeps the limits one level above the
# processes (the cgroup namespace's root), where the container cannot lift them.
ct_leaf() {
  local cgroup=${1:-$(ct_cgroup)} hierarchy
  for hierarchy in $CG_HIERARCHIES; do
    if [ -d "$(cgroup_dir "$hierarchy" "$cgroup")/container" ]; then echo "$cgroup/container"; return; fi
  done
  echo "$cgroup"
}

# expect_in_cgroup PID CGROUP SECTION: from the host, PID is in CGROUP (or in
# its leaf container/, see ct_leaf) in every hierarchy lab 08 uses.
expect_in_cgroup() {
  local hierarchy
  for hierarchy in $CG_HIERARCHIES; do
    expect "from the host, process $1 is in $2 (/proc/$1/cgroup, $hierarchy hierarchy; got: $(cgroup_of "$1" "$hierarchy"))" "$3" --hint not-in-cgroup -- \
      in_cgroup_or_leaf "$(cgroup_of "$1" "$hierarchy")" "$2"
  done
}

in_cgroup_or_leaf() {
  [ "$1" = "$2" ] || [ "$1" = "$2/container" ]
}

# limit_count CONTROLLER CGROUP FILE KEY: cgroup_count of CGROUP or of its leaf,
# whichever counted more: v2 counts an event in the cgroup whose limit was
# hit and above it, v1 in the cgroup of the process it hit.
limit_count() {
  local here leaf
  here=$(cgroup_count "$@")
  leaf=$(cgroup_count "$1" "$(ct_leaf "$2")" "$3" "$4")
  [ "$leaf" -gt "$here" ] && echo "$leaf" || echo "$here"
}

# A live process that is not this file's: another run's container, whose
# directory under nslab/ is not ours to judge.
others_runtime() {
  [ -e "/proc/$1" ] && ! grep -qzxF "NSLAB_GUARD=$NSLAB_GUARD_TOKEN" "/proc/$1/environ" 2>/dev/null
}

# The nslab/ directory of every hierarchy lab 08 uses, and every directory in
# it, one a line.
nslab_cgroup_listing() {
  local hierarchy dirs=()
  for hierarchy in $CG_HIERARCHIES; do
    [ "$CG_LAYOUT" = v2 ] && dirs+=("/sys/fs/cgroup$CG_BASE/nslab") || dirs+=("/sys/fs/cgroup/$hierarchy$CG_BASE/nslab")
  done
  find "${dirs[@]}" -maxdepth 1 -type d 2>/dev/null | sort
  return 0
}

# remember_cgroups: what nslab_cgroup_listing shows now (CGROUPS_BEFORE), so
# that cgroups_left judges only what appeared since. Another run on the
# machine may leave a directory for its next run to sweep, or make nslab/.
remember_cgroups() {
  CGROUPS_BEFORE=$(nslab_cgroup_listing)
}

# The cgroup directories this test's runs left under CG_BASE/nslab, one a
# line: each that appeared since remember_cgroups but those of other runs
# still running, and nslab/ itself, when it appeared, unless one of those keeps it.
cgroups_left() {
  local dir kept=" " appeared=()
  mapfile -t appeared < <(comm -13 <(echo "${CGROUPS_BEFORE:-}") <(nslab_cgroup_listing))
  for dir in "${appeared[@]}"; do
    [ -n "$dir" ] && [ "${dir##*/}" != nslab ] || continue
    if others_runtime "${dir##*/}"; then kept+="${dir%/*} "; else echo "$dir"; fi
  done
  for dir in "${appeared[@]}"; do
    [ "${dir##*/}" = nslab ] && [[ $kept != *" $dir "* ]] && echo "$dir"
  done
  return 0
}

# expect_no_cgroup_left SECTION: no cgroup directory of this test's runs is
# left, right now: the runtime removes it before it exits.
expect_no_cgroup_left() {
  local left
  left=$(cgroups_left)
  # nslab/ is shared: another run on the machine may have made it, or one of
  # its own, an instant ago, and its runtime have ended since, or be about to
  # remove it. What is still there a second later is this test's.
  if [ -n "$left" ]; then
    wait_for 1 no_cgroups_left 2>/dev/null || true
    left=$(cgroups_left)
  fi
  [ -z "$left" ] || explain "no nslab cgroup directory left once the runtime has exited; left: $(echo $left)" "$1" cgroup-left
}

no_cgroups_left() {
  [ -z "$(cgroups_left)" ]
}

# no_cgroup_made: nothing appeared under nslab/ that stays (for a refused run,
# which must make nothing at all; another run's come and go).
no_cgroup_made() {
  no_cgroups_left || wait_for 1 no_cgroups_left 2>/dev/null
}

# The processes in the cgroup directory DIR and every cgroup below it.
processes_under() {
  find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null
}

# remove_cgroup_tree DIR: ends every process in DIR's subtree (cgroup.kill on
# v2; SIGKILL to each on v1, until none is left), then removes the
# directories, deepest first, trying again while the kernel answers EBUSY.
# Only for directories this file's tests made, or that their runs left.
remove_cgroup_tree() {
  local dir=$1 pid sub tries
  [ -d "$dir" ] || return 0
  [ ! -e "$dir/cgroup.kill" ] || echo 1 > "$dir/cgroup.kill" 2>/dev/null || true
  for tries in $(seq 50); do
    pid=$(processes_under "$dir")
    [ -n "$pid" ] || break
    kill -KILL $pid 2>/dev/null || true  # ours: every process in a cgroup of this test's
    sleep 0.05
  done
  for tries in $(seq 50); do
    while read -r sub; do rmdir "$sub" 2>/dev/null || true; done < <(find "$dir" -depth -type d)
    [ -d "$dir" ] || return 0
    sleep 0.05
  done
  echo "could not remove $dir: $(find "$dir" -type d | xargs)" >&2
  return 1
}

# remove_cgroups_left: removes what cgroups_left lists (the safety net of a
# test's teardown: a program that fails its own teardown must not leave the
# host changed; the test itself has said so already).
remove_cgroups_left() {
  local dir
  for dir in $(cgroups_left); do
    [[ $dir == */nslab ]] && continue
    remove_cgroup_tree "$dir" || true
  done
  for dir in $(cgroups_left); do
    rmdir "$dir" 2>/dev/null || true
  done
  return 0
}

# --- a memory hog and a busy loop ---------------------------------------------

# HOG: a command that touches 300 MiB. python3's bytearray as the issue
# writes it (the system's own python3 where there is one: a version manager's
# shim in PATH costs a second a run, and may be out of an unprivileged user's
# reach); without python3, GNU or busybox tail keeping a line with no end.
HOG_PYTHON=""
for HOG_PYTHON in /usr/bin/python3 /usr/local/bin/python3 ""; do
  [ ! -x "$HOG_PYTHON" ] || break
done
[ -n "$HOG_PYTHON" ] || HOG_PYTHON=$(command -v python3 2>/dev/null || true)
if [ -n "$HOG_PYTHON" ]; then
  HOG=("$HOG_PYTHON" -c 'bytearray(300 << 20)')
else
  HOG=(sh -c 'head -c 300M /dev/zero | tail > /dev/null')
fi

# BUSY: a shell loop that burns CPU for 1.5 s of wall time under timeout(1),
# then sh's `times` (its second line: the user and system time of the
# children sh waited for, timeout and the loop it waited for). Not in a
# pipeline: there `times` would run in a subshell, with no children.
BUSY='timeout 1.5 sh -c "while :; do :; done"; times'

# cpu_share TIMES: the share of one CPU that the children's time in the output
# of `times` (lines "0m0.740000s 0m0.010000s") is, over BUSY's 1.5 s.
cpu_share() {
  awk 'NR == 2 { for (i = 1; i <= NF; i++) { split($i, ms, "m"); t += ms[1] * 60 + ms[2] } printf "%.2f\n", t / 1.5 }' <<< "$1"
}

# between VALUE LOW HIGH: LOW <= VALUE <= HIGH (decimals).
between() {
  awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}

# --- a cgroup delegated by hand (rootless.bats) ---------------------------------
#
# As runc's rootless tests do without systemd: root makes DELEGATED in each
# hierarchy the lab uses and gives the user the directory and the files a
# delegate may write (cgroup.procs; tasks on v1; cgroup.subtree_control and
# cgroup.threads on v2). The program then runs as the user from a process that
# root moved into DELEGATED (v1) or into its leaf DELEGATED/runner (v2, where
# DELEGATED itself must hold no process). The user's runtime finds its BASE,
# DELEGATED, by itself. Teardown removes it all, ending what is in it.

# delegate_cgroup [CONTROLLERS]: delegates a cgroup to NSLAB_USER_UID with
# CONTROLLERS (default "memory pids cpu"; v1: the hierarchies it is made in,
# v2: what DELEGATED/cgroup.subtree_control enables). Sets DELEGATED (its
# name, as /proc/PID/cgroup spells it), DELEGATED_DIRS, CG_BASE, and
# NSLAB_RUNNER (ct and start_ct run the program as the user from inside it).
delegate_cgroup() {
  local controllers=${1:-memory pids cpu} name dir parent procs=() enable ancestors=() ancestor
  # Under NSLAB_CGROUP_BASE when it is set (the sandbox's subtree, under
  # grade.sh and mutants.sh): what the user's runs leak stays in there.
  DELEGATED=${NSLAB_CGROUP_BASE%/}/nslab-delegated-$$-${BATS_TEST_NUMBER:-0}
  DELEGATED_DIRS=() ROOT_ENABLED=()
  if [ "$CG_LAYOUT" = v2 ]; then
    dir=/sys/fs/cgroup$DELEGATED
    # Every ancestor's subtree_control must offer the controllers to the one
    # below it, from the root down to DELEGATED's parent.
    parent=${DELEGATED%/*}
    while :; do
      ancestors=("/sys/fs/cgroup$parent" "${ancestors[@]}")
      [ -n "$parent" ] || break
      parent=${parent%/*}
    done
    for ancestor in "${ancestors[@]}"; do
      for name in $controllers; do
        grep -qw "$name" "$ancestor/cgroup.subtree_control" && continue
        echo "+$name" > "$ancestor/cgroup.subtree_control" || return 1
        ROOT_ENABLED=("$ancestor $name" "${ROOT_ENABLED[@]}")
      done
    done
    mkdir "$dir" || return 1
    DELEGATED_DIRS+=("$dir")
    enable=""
    for name in $controllers; do enable+=" +$name"; done
    echo "$enable" > "$dir/cgroup.subtree_control" || return 1
    mkdir "$dir/runner" || return 1
    chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$dir" "$dir/cgroup.procs" "$dir/cgroup.threads" \
      "$dir/runner" "$dir/runner/cgroup.procs" "$dir/runner/cgroup.threads" "$dir/runner/cgroup.subtree_control"
    # With fewer controllers than lab 08 uses, DELEGATED/cgroup.subtree_control
    # stays root's: the user could otherwise enable the missing one itself.
    [ "$controllers" != "memory pids cpu" ] || chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$dir/cgroup.subtree_control"
    procs+=("$dir/runner/cgroup.procs")
  else
    for name in $controllers; do
      [ "$(stat -fc %T "/sys/fs/cgroup/$name" 2>/dev/null)" = cgroupfs ] || continue
      dir=/sys/fs/cgroup/$name$DELEGATED
      mkdir "$dir" || return 1
      DELEGATED_DIRS+=("$dir")
      chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$dir" "$dir/cgroup.procs" "$dir/tasks"
      procs+=("$dir/cgroup.procs")
    done
  fi
  CG_BASE=$DELEGATED
  # As root: move this very process into the delegated cgroup, then become the
  # user and exec the program (the same PID throughout: start_ct's CT_PID).
  # Without NSLAB_CGROUP_BASE: the user's runtime finds DELEGATED by itself.
  # shellcheck disable=SC2016
  NSLAB_RUNNER=(sh -c 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"' \
    in-delegated-cgroup "${procs[@]}" -- env -u NSLAB_CGROUP_BASE "${NSLAB_AS_USER[@]}")
}

# undelegate_cgroup: removes every DELEGATED_DIRS directory, ending what is in
# it, and takes back from the ancestors' subtree_control what delegate_cgroup enabled.
undelegate_cgroup() {
  local dir entry failed=0
  for dir in "${DELEGATED_DIRS[@]}"; do
    remove_cgroup_tree "$dir" || failed=1
  done
  DELEGATED_DIRS=()
  for entry in "${ROOT_ENABLED[@]}"; do
    echo "-${entry##* }" > "${entry% *}/cgroup.subtree_control" 2>/dev/null || true
  done
  ROOT_ENABLED=()
  return "$failed"
}

# The user may write the cgroup PID is in, or one of its ancestors, in some
# hierarchy the lab uses: it has a delegated cgroup (systemd's, or another).
user_has_delegation() {
  local hierarchy cgroup dir
  for hierarchy in $CG_HIERARCHIES; do
    cgroup=$(cgroup_of "$1" "$hierarchy")
    while :; do
      dir=$(cgroup_dir "$hierarchy" "$cgroup")
      (cd / && as_user test -w "$dir" -a -w "$dir/cgroup.procs") && return 0
      [ -n "$cgroup" ] && [ "$cgroup" != / ] || break
      cgroup=${cgroup%/*}
    done
  done
  return 1
}

# --- a container that waits ----------------------------------------------------------

# The runtime's line once a limit was reached.
MEMORY_REACHED='was reached: the kernel killed [0-9]+ process(es)? \((memory\.events|memory\.oom_control) oom_kill [0-9]+\)$'
PIDS_REACHED='was reached: ([0-9]+) forks? (was|were) refused \(pids\.events max ([0-9]+)\)$'
# What a shell prints when fork(2) fails: dash "Cannot fork", bash "fork: …", busybox "can't fork".
FORK_REFUSED='[Cc]annot fork|can.t fork|fork: |Resource temporarily unavailable'

# limit_hint memory|cpu: the mistake that a limit which did not bind is the
# sign of, as the ID of its hint (common/bats/hints.txt): the container's
# process outside its cgroup (not-in-cgroup), or the cgroup without the limit
# in the file the kernel enforces (memory|cpu-limit-not-applied). It looks,
# from the host, at a container of its own started with --memory 48M or
# --cpus 0.5; it prints nothing when both look right.
limit_hint() {
  local dir saved_pid=${CT_PID:-} saved_out=${CT_OUT:-} saved_child=${CHILD:-} hint="" hierarchy want got
  dir=$(mktemp -d "$BATS_TEST_TMPDIR/hint.XXXXXX")
  chmod 755 "$dir"
  if [ "$1" = memory ]; then
    start_ct --memory 48M -- sh -c "touch '$dir/ready'; n=0; until [ -e '$dir/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  else
    start_ct --cpus 0.5 -- sh -c "touch '$dir/ready'; n=0; until [ -e '$dir/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  fi
  if wait_for 5 test -e "$dir/ready" && CHILD=$(child_of "$CT_PID"); then
    for hierarchy in $CG_HIERARCHIES; do
      in_cgroup_or_leaf "$(cgroup_of "$CHILD" "$hierarchy")" "$(ct_cgroup)" || hint=not-in-cgroup
    done
    if [ -z "$hint" ] && [ "$1" = memory ]; then
      want=$((48 << 20)) got=$(cgroup_value memory "$(ct_cgroup)" "$(memory_limit_file)")
      [ "$got" = "$want" ] || hint=memory-limit-not-applied
    elif [ -z "$hint" ]; then
      [ "$(cpu_quota_of "$(ct_cgroup)")" = "50000 100000" ] || hint=cpu-limit-not-applied
    fi
  fi
  touch "$dir/go"
  finish_ct >/dev/null 2>&1 || true
  CT_PID=$saved_pid CT_OUT=$saved_out CHILD=$saved_child
  echo "$hint"
}

# start_waiting_ct DIR ARGS...: a container that copies its /proc/self/cgroup to
# DIR/inside, then waits for DIR/go (AWAIT_GO, the file's own loop). Sets CHILD,
# its first process.
start_waiting_ct_in() {
  local dir=$1
  shift
  start_ct "$@" -- sh -c "cat /proc/self/cgroup > '$dir/inside.tmp'; mv '$dir/inside.tmp' '$dir/inside'; $AWAIT_GO"
  wait_for 5 test -e "$dir/inside" || { cat "$CT_OUT" >&2; return 1; }
  CHILD=$(child_of "$CT_PID")
}
