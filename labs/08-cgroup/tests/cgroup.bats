#!/usr/bin/env bats
# Lab 08 — a cgroup per container, and a cgroup namespace, as root. The limits
# as a user observes them: a memory hog killed under --memory and not under a
# larger one, forks refused past --pids, a busy loop held to its share under
# --cpus; seen from inside (/proc/self/cgroup, the read-only tree of --rootfs)
# and from the host (/proc/PID/cgroup, the limit files, memory.events or
# memory.oom_control, pids.events, cpu.stat). Then teardown on every path,
# the sweep after SIGKILL, --enter, and every refusal. Both layouts: v2 (one
# hierarchy) and v1 or hybrid (memory, pids and cpu hierarchies), chosen by
# `stat -fc %T /sys/fs/cgroup` (cgroup.bash). Without root, with a cgroup
# delegated by hand: rootless.bats.

load ../../../common/bats/nslab
load ../../07-setns/tests/join
load cgroup
NSLAB_LAB=08-cgroup
DOC=lab08-cgroup.md
NSLAB_ROOT_WHY="these lab 08 tests make cgroups under /sys/fs/cgroup, which root owns (rootless.bats runs without root, in a cgroup delegated to the user)"

lab_setup() {
  T=$BATS_TEST_TMPDIR
  PID_FILE=$T/target.pid
  TARGET="" JOIN_PID="" STRAY_PID="" MADE_DIRS=()
  cgroup_setup
  [ "$CG_LAYOUT" != none ] || skip "no cgroup file system at /sys/fs/cgroup: lab 08 needs cgroup v1 or v2 mounted there"
  # Where the containers' cgroups go: the root of each hierarchy, or the
  # subtree NSLAB_CGROUP_BASE names (the sandbox's, under grade.sh and mutants.sh).
  CG_BASE=${NSLAB_CGROUP_BASE:-}
  CG_BASE=${CG_BASE%/}
  remember_cgroups
  # For a container that waits for the test: it returns once $T/go exists (at
  # most 10 s later, so that a failed test cannot leave it waiting).
  AWAIT_GO="n=0; until [ -e '$T/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
}

lab_teardown() {
  local pid dir
  for pid in "${JOIN_PID:-}" "${STRAY_PID:-}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true  # ours: started by this test
      wait "$pid" 2>/dev/null || true
    fi
  done
  # What a failed test, or a program that failed its teardown, left: the
  # test has said so; the host must not keep it.
  remove_cgroups_left
  for dir in "${MADE_DIRS[@]}"; do
    remove_cgroup_tree "$dir" || true
  done
}

# --- helpers ------------------------------------------------------------------

# line_of TEXT STRING...: the number of the first line of TEXT that holds
# every STRING (fixed strings); fails when none does.
line_of() {
  local text=$1
  shift
  awk -v n=$# 'BEGIN { for (i = 1; i <= n; i++) want[i] = ARGV[i]; ARGC = 1 }
    { for (i = 1; i <= n; i++) if (index($0, want[i]) == 0) next; print NR; found = 1; exit }
    END { exit !found }' "$@" <<< "$text"
}

has_line() {
  line_of "$@" >/dev/null
}

# has_number_line TEXT STRING NUMBER: a line of TEXT holds STRING and NUMBER as
# a whole number ("wrote "8" to …/pids.max", not the 8 of a PID 4842).
has_number_line() {
  grep -F -- "$2" <<< "$1" | awk -v n="$3" '{ k = split($0, words, /[^0-9]+/); for (i = 1; i <= k; i++) if (words[i] == n) found = 1 } END { exit !found }'
}

# times_printed FILE: the second line of FILE is the second line of sh's `times`.
times_printed() {
  sed -n 2p "$1" | grep -qE '^[0-9]+m[0-9.]+s [0-9]+m[0-9.]+s$'
}

# measure_busy [OPTIONS...]: runs BUSY in a container with OPTIONS and sets
# SHARE (the share of a CPU it got, from sh's `times`) and THROTTLED (the
# host's nr_throttled in cpu.stat of its cgroup). On a busy machine the
# container's cgroup would get a CPU only as often as its weight says: so,
# before the loop starts, every cgroup from the container's up to the top of
# the hierarchy gets the highest weight (cpu.shares on v1, cpu.weight on v2),
# given back afterwards. A weight shares out CPU time; a quota caps it.
measure_busy() {
  local weight_file=cpu.shares heaviest=262144 cgroup dirs=() weights=() i
  [ "$CG_LAYOUT" != v2 ] || { weight_file=cpu.weight heaviest=10000; }
  rm -f "$T/start" "$T/go"
  start_ct "$@" -- sh -c "n=0; until [ -e '$T/start' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done; $BUSY; $AWAIT_GO"
  cgroup=$(ct_cgroup)
  wait_for 5 test -d "$(cgroup_dir cpu "$cgroup")" || { cat "$CT_OUT" >&2; return 1; }
  while [ -n "$cgroup" ] && [ "$cgroup" != / ]; do
    if [ -w "$(cgroup_dir cpu "$cgroup")/$weight_file" ]; then
      dirs+=("$(cgroup_dir cpu "$cgroup")")
      weights+=("$(cat "$(cgroup_dir cpu "$cgroup")/$weight_file")")
      echo "$heaviest" > "$(cgroup_dir cpu "$cgroup")/$weight_file" || true
    fi
    cgroup=${cgroup%/*}
  done
  touch "$T/start"
  wait_for 10 times_printed "$CT_OUT" || { cat "$CT_OUT" >&2; return 1; }
  SHARE=$(cpu_share "$(cat "$CT_OUT")")
  THROTTLED=$(limit_count cpu "$(ct_cgroup)" cpu.stat nr_throttled)
  for i in "${!dirs[@]}"; do
    [ ! -e "${dirs[$i]}/$weight_file" ] || echo "${weights[$i]}" > "${dirs[$i]}/$weight_file" 2>/dev/null || true
  done
  touch "$T/go"
  finish_ct
  assert_success
}

# only_container_processes FILE: every PID in FILE (a cgroup.procs) is in CHILD's PID namespace.
only_container_processes() {
  local pid ns
  for pid in $(cat "$1"); do
    # A process that has ended since (a zombie has no namespaces left) is no longer anyone's.
    ns=$(ns_of "$pid" pid 2>/dev/null) || continue
    [ -z "$ns" ] || [ "$ns" = "$(ns_of "$CHILD" pid)" ] || return 1
  done
}

# no_memory_limit VALUE: VALUE is no limit: v2's max, or v1's page-rounded 2^63-1.
no_memory_limit() {
  [ "$1" = max ] || { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 4611686018427387904 ]; }
}

# start_stray_in CGROUP: a process of the test's own (STRAY_PID, a sleep that
# lab_teardown ends) put in CGROUP, which exists, in every hierarchy.
start_stray_in() {
  local hierarchy
  (exec sleep 300) 3>&- &
  STRAY_PID=$!
  for hierarchy in $CG_HIERARCHIES; do
    echo "$STRAY_PID" > "$(cgroup_dir "$hierarchy" "$1")/cgroup.procs"
  done
}

# start_waiting_ct ARGS...: start_waiting_ct_in (cgroup.bash) in the test's directory.
start_waiting_ct() {
  start_waiting_ct_in "$T" "$@"
}

# --- the issue's "done when" --------------------------------------------------

@test "done when: --memory 48M kills a 300 MiB hog (128+9), the runtime says the limit was reached, and no nslab directory remains" {
  run --separate-stderr ct --memory 48M -- "${HOG[@]}"
  hint=""
  [ "$status" -eq 137 ] || hint=$(limit_hint memory)
  expect "the hog is killed by the kernel's OOM killer: exit status 128+9" "$DOC#lab08-memory" --hint "$hint" -- [ "$status" -eq 137 ]
  expect "one line on stderr: 08-cgroup: --memory 48M was reached: the kernel killed 1 process ($(oom_events_file) oom_kill 1)" "$DOC#lab08-memory" -- \
    is_one_line_matching "$stderr" "^08-cgroup: --memory 48M $MEMORY_REACHED"
  expect_no_cgroup_left "$DOC#lab08-teardown"
  run --separate-stderr ct --memory 512M -- "${HOG[@]}"
  expect "under --memory 512M the same hog runs to its end: exit status 0 (negative control)" "$DOC#lab08-memory" -- [ "$status" -eq 0 ]
  expect "and nothing on stderr: no limit was reached" "$DOC#lab08-memory" -- [ -z "$stderr" ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "done when: --pids 8 refuses the forks of 30 background sleeps, the shell and the runtime say so, and no nslab directory remains" {
  run --separate-stderr ct --pids 8 -- sh -c 'for i in $(seq 30); do sleep 1 & done; wait'
  expect "the shell reports a fork refused (got: $(grep -E "$FORK_REFUSED" <<< "$stderr" | head -1))" "$DOC#lab08-pids" -- \
    grep -qE "$FORK_REFUSED" <<< "$stderr"
  reached=$(grep -E "^08-cgroup: --pids 8 $PIDS_REACHED" <<< "$stderr" || true)
  expect "the runtime's last line: 08-cgroup: --pids 8 was reached: N forks were refused (pids.events max N)" "$DOC#lab08-pids" -- \
    [ -n "$reached" -a "$(tail -1 <<< "$stderr")" = "$reached" ]
  [[ $reached =~ $PIDS_REACHED ]]
  expect "the count it gives is pids.events' max, at least 1 (got: $reached)" "$DOC#lab08-pids" -- \
    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[3]}" -a "${BASH_REMATCH[1]}" -ge 1 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
  run --separate-stderr ct --pids 64 -- sh -c 'for i in $(seq 30); do sleep 1 & done; wait'
  expect "under --pids 64 every fork succeeds: exit status 0 (negative control)" "$DOC#lab08-pids" -- [ "$status" -eq 0 ]
  expect "and nothing on stderr" "$DOC#lab08-pids" -- [ -z "$stderr" ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

# serial: it measures a share of a CPU, which tests running beside it would take
@test "done when: --cpus 0.5 holds a busy loop to about half a CPU, which has a whole one without the limit, and the host sees it throttled" {
  # The negative control first: it is also the probe that a busy loop can
  # have a whole CPU here at all (a limit can never be exceeded, busy or not).
  measure_busy
  whole=$SHARE
  awk -v w="$whole" 'BEGIN { exit !(w >= 0.75) }' ||
    skip "this machine is too busy to measure a share of a CPU: without --cpus, and with the highest weight, the busy loop got only $whole of one (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  expect "without --cpus, no period of the container's cgroup was throttled (nr_throttled $THROTTLED)" "$DOC#lab08-cpus" -- [ "$THROTTLED" -eq 0 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
  measure_busy --cpus 0.5
  hint=""
  between "$SHARE" 0.3 0.7 || hint=$(limit_hint cpu)
  expect "under --cpus 0.5: between 0.3 and 0.7 of a CPU (got: $SHARE of the 1.5 s; without the limit: $whole)" "$DOC#lab08-cpus" --hint "$hint" -- \
    between "$SHARE" 0.3 0.7
  expect "the host's cpu.stat of the container's cgroup counts throttled periods (nr_throttled $THROTTLED)" "$DOC#lab08-cpus" -- \
    [ "$THROTTLED" -gt 0 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

# --- the container's cgroup, from inside and from the host --------------------

@test "inside, /proc/self/cgroup shows / in every hierarchy: a new cgroup namespace rooted at the container's cgroup" {
  start_waiting_ct --memory 64M --pids 64 --cpus 1
  cgroup=$(ct_cgroup)
  for hierarchy in $CG_HIERARCHIES; do
    expect "inside, the $hierarchy hierarchy's line shows / (got: $(cgroup_in "$T/inside" "$hierarchy"))" "$DOC#lab08-ns" --hint cgroupns-too-early -- \
      [ "$(cgroup_in "$T/inside" "$hierarchy")" = / ]
  done
  expect "every line inside shows / (got: $(paste -sd' ' "$T/inside"))" "$DOC#lab08-ns" --hint cgroupns-too-early -- \
    [ -z "$(awk -F: '$3 != "/"' "$T/inside")" ]
  expect_in_cgroup "$CHILD" "$cgroup" "$DOC#lab08-move"
  expect_namespaces "$CHILD" "$DOC#lab08-ns" "cgroup user uts ipc pid mnt net" ""
  for hierarchy in $CG_HIERARCHIES; do
    expect "the host's own shell is not in $cgroup (negative control)" "$DOC#lab08-ns" -- \
      [ "$(cgroup_of $$ "$hierarchy")" != "$cgroup" ]
  done
  touch "$T/go"
  finish_ct
  assert_success
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "from the host, the container is in BASE/nslab/<runtime PID> while it runs, and the files hold its limits" {
  start_waiting_ct --memory 48M --pids 8 --cpus 0.5
  cgroup=$(ct_cgroup)
  expect_in_cgroup "$CHILD" "$cgroup" "$DOC#lab08-move"
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$(ct_leaf)")
    expect "$dir/cgroup.procs lists the container's first process, $CHILD" "$DOC#lab08-move" -- grep -qx "$CHILD" "$dir/cgroup.procs"
    expect "and only processes of the container's PID namespace, nothing of the host's (got: $(cat "$dir/cgroup.procs" | xargs))" "$DOC#lab08-move" -- \
      only_container_processes "$dir/cgroup.procs"
  done
  memory=$(memory_limit_file)
  expect "$memory: 50331648, 48 MiB (got: $(cgroup_value memory "$cgroup" "$memory"))" "$DOC#lab08-create" -- \
    [ "$(cgroup_value memory "$cgroup" "$memory")" = 50331648 ]
  if [ "$CG_LAYOUT" = v2 ]; then
    [ ! -e "$(cgroup_dir memory "$cgroup")/memory.swap.max" ] ||
      expect "memory.swap.max: 0, no swap to escape to" "$DOC#lab08-create" -- [ "$(cgroup_value memory "$cgroup" memory.swap.max)" = 0 ]
  else
    [ ! -e "$(cgroup_dir memory "$cgroup")/memory.memsw.limit_in_bytes" ] ||
      expect "memory.memsw.limit_in_bytes: the same 50331648, no swap to escape to" "$DOC#lab08-create" -- \
        [ "$(cgroup_value memory "$cgroup" memory.memsw.limit_in_bytes)" = 50331648 ]
  fi
  expect "pids.max: 8" "$DOC#lab08-create" -- [ "$(cgroup_value pids "$cgroup" pids.max)" = 8 ]
  expect "the CPU quota: 50000 µs per period of 100000 µs (got: $(cpu_quota_of "$cgroup"))" "$DOC#lab08-create" -- \
    [ "$(cpu_quota_of "$cgroup")" = "50000 100000" ]
  touch "$T/go"
  finish_ct
  assert_success
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "without a limit the container still has a cgroup of its own, with no limit in it" {
  start_waiting_ct
  cgroup=$(ct_cgroup)
  expect_in_cgroup "$CHILD" "$cgroup" "$DOC#lab08-create"
  memory=$(memory_limit_file)
  expect "$memory is the kernel's default, no limit (got: $(cgroup_value memory "$cgroup" "$memory"))" "$DOC#lab08-create" -- \
    no_memory_limit "$(cgroup_value memory "$cgroup" "$memory")"
  expect "pids.max is max" "$DOC#lab08-create" -- [ "$(cgroup_value pids "$cgroup" pids.max)" = max ]
  expect "no CPU quota (got: $(cpu_quota_of "$cgroup"))" "$DOC#lab08-create" -- \
    grep -qxE '(max|-1) 100000' <<< "$(cpu_quota_of "$cgroup")"
  touch "$T/go"
  finish_ct
  assert_success
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "the host sees the OOM kill in the container's cgroup while the container is alive" {
  start_ct --memory 48M -- sh -c "\"\$@\"; echo \"hog: \$?\"; $AWAIT_GO" sh "${HOG[@]}"
  expect "the hog ran and was killed: 128+9" "$DOC#lab08-memory" -- wait_for 10 grep -qx 'hog: 137' "$CT_OUT"
  cgroup=$(ct_cgroup)
  events=$(oom_events_file)
  kills=$(limit_count memory "$cgroup" "$events" oom_kill)
  expect "$(cgroup_dir memory "$cgroup")/$events: oom_kill 1 (got: $kills)" "$DOC#lab08-memory" -- [ "$kills" -eq 1 ]
  touch "$T/go"
  finish_ct
  expect "the container's shell went on and ended: exit status 0" "$DOC#lab08-memory" -- [ "$status" -eq 0 ]
  expect "the runtime still says the limit was reached" "$DOC#lab08-memory" -- \
    grep -qE "^08-cgroup: --memory 48M $MEMORY_REACHED" <<< "$output"
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "--rootfs: /sys/fs/cgroup inside is the container's own cgroup tree, read-only, with its limits" {
  rootfs=$(nslab_rootfs)
  memory=$(cgroup_dir memory "")/$(memory_limit_file)
  pids=$(cgroup_dir pids "")
  if [ "$CG_LAYOUT" = v2 ]; then cpu="$(cgroup_dir cpu "")/cpu.max"; else cpu="$(cgroup_dir cpu "")/cpu.cfs_quota_us"; fi
  run --separate-stderr ct --rootfs "$rootfs" --memory 48M --pids 8 --cpus 0.5 -- sh -c "
    awk '\$2 == \"/sys/fs/cgroup\" || index(\$2, \"/sys/fs/cgroup/\") == 1 { split(\$4, o, \",\"); print \$2, o[1] }' /proc/mounts
    echo '## limits'; cat '$memory' '$pids/pids.max' '$cpu'
    echo '## hierarchical'; grep '^hierarchical_memory_limit ' '${memory%/*}/memory.stat' 2>/dev/null
    echo '## writes'
    (echo max > '$pids/pids.max') 2>/dev/null && echo written || echo refused
    mkdir '$pids/escape' 2>/dev/null && echo made || echo refused
    echo \"pids.max \$(cat '$pids/pids.max')\"
    echo '## procs'; cat '$pids/cgroup.procs' | xargs
    echo '## entries'; find '$pids' -mindepth 1 -maxdepth 1 -type d | xargs"
  assert_success
  mounts=$(sed -n '1,/^## limits$/p' <<< "$output" | grep -v '^##')
  expect "something is mounted at /sys/fs/cgroup inside" "$DOC#lab08-rootfs" -- grep -q '^/sys/fs/cgroup ' <<< "$mounts"
  expect "every mount at or under /sys/fs/cgroup is read-only (got: $(echo $mounts))" "$DOC#lab08-rootfs" -- \
    [ -z "$(awk '$2 != "ro"' <<< "$mounts")" ]
  if [ "$CG_LAYOUT" != v2 ]; then
    for hierarchy in $CG_HIERARCHIES; do
      expect "a mount of the $hierarchy hierarchy at /sys/fs/cgroup/$hierarchy" "$DOC#lab08-rootfs" -- \
        grep -q "^/sys/fs/cgroup/$hierarchy ro\$" <<< "$mounts"
    done
  fi
  limits=$(sed -n '/^## limits$/,/^## hierarchical$/p' <<< "$output" | grep -v '^##' | xargs)
  hierarchical=$(sed -n '/^## hierarchical$/,/^## writes$/p' <<< "$output" | grep -v '^##' | xargs)
  if [ "$CG_LAYOUT" = v2 ]; then want="50331648 8 50000 100000"; else want="50331648 8 50000"; fi
  if [ "$limits" != "$want" ]; then
    # The limits one level above the tree's root (ct_leaf): its own files say
    # "no limit"; v1's memory.stat still shows the memory limit that holds it.
    expect "inside, the tree's root holds the limits ($want) or, kept above it, no limit of its own (got: $limits)" "$DOC#lab08-rootfs" -- \
      grep -qxE '(max|[0-9]{19}) max (max 100000|-1)' <<< "$limits"
    [ "$CG_LAYOUT" = v2 ] ||
      expect "and memory.stat's hierarchical_memory_limit is the container's, 50331648 (got: $hierarchical)" "$DOC#lab08-rootfs" -- \
        [ "$hierarchical" = "hierarchical_memory_limit 50331648" ]
  fi
  writes=$(sed -n '/^## writes$/,/^## procs$/p' <<< "$output" | grep -v '^##' | xargs)
  pids_max=$(cut -d' ' -f2 <<< "$limits")
  expect "root inside may not write pids.max, nor make a cgroup: read-only, pids.max still $pids_max (got: $writes)" "$DOC#lab08-rootfs" -- \
    [ "$writes" = "refused refused pids.max $pids_max" ]
  procs=$(sed -n '/^## procs$/,/^## entries$/p' <<< "$output" | grep -v '^##')
  expect "its cgroup.procs lists the container's processes only, in its own numbering (got: $procs)" "$DOC#lab08-rootfs" -- \
    [ -n "$procs" -a -z "$(tr ' ' '\n' <<< "$procs" | awk '$1 > 10')" ]
  entries=$(sed -n '/^## entries$/,$p' <<< "$output" | grep -v '^##' | xargs)
  expect "the root of that tree is the container's cgroup: no nslab/ in it, nothing of the host's (got: $entries)" "$DOC#lab08-rootfs" -- \
    [ -z "$entries" ]
  expect "on the host, /sys/fs/cgroup is writable (negative control)" "$DOC#lab08-rootfs" -- \
    [ "$(findmnt -n -o OPTIONS /sys/fs/cgroup | cut -d, -f1)" = rw ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "--verbose narrates the layout, each mkdir, each limit with its value, the move, then unshare(CLONE_NEWCGROUP), and the teardown" {
  start_waiting_ct -v --memory 48M --pids 8 --cpus 0.5
  host_ns=$(ns_of $$ cgroup) container_ns=$(ns_of "$CHILD" cgroup)
  touch "$T/go"
  finish_ct
  assert_success
  cgroup=$(ct_cgroup)
  expect "a line names the layout, $CG_LAYOUT" "$DOC#lab08-layout" -- grep -qw "$CG_LAYOUT" <<< "$output"
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$cgroup")
    expect "a line: mkdir $dir" "$DOC#lab08-create" -- has_line "$output" mkdir "$dir"
  done
  first_mkdir=$(line_of "$output" mkdir "$cgroup")
  expect "a line: $(memory_limit_file) written with 50331648" "$DOC#lab08-create" -- has_number_line "$output" "$(memory_limit_file)" 50331648
  expect "a line: pids.max written with 8" "$DOC#lab08-create" -- has_number_line "$output" pids.max 8
  if [ "$CG_LAYOUT" = v2 ]; then
    expect "a line: cpu.max written with 50000 100000" "$DOC#lab08-create" -- has_line "$output" cpu.max "50000 100000"
  else
    expect "a line: cpu.cfs_period_us written with 100000" "$DOC#lab08-create" -- has_number_line "$output" cpu.cfs_period_us 100000
    expect "a line: cpu.cfs_quota_us written with 50000" "$DOC#lab08-create" -- has_number_line "$output" cpu.cfs_quota_us 50000
  fi
  move=$(line_of "$output" "$CHILD" cgroup.procs)
  expect "a line: $CHILD, the child, written to $cgroup's cgroup.procs" "$DOC#lab08-move" -- [ -n "$move" ]
  unshare=$(line_of "$output" "unshare(CLONE_NEWCGROUP)")
  expect "a line: unshare(CLONE_NEWCGROUP)" "$DOC#lab08-ns" -- [ -n "$unshare" ]
  expect "the unshare(CLONE_NEWCGROUP) line names the new namespace, $container_ns" "$DOC#lab08-ns" -- \
    has_line "$output" "unshare(CLONE_NEWCGROUP)" "$container_ns"
  expect "and the one before it, the host's $host_ns (identities before and after, as for every namespace)" "$DOC#lab08-ns" -- \
    has_line "$output" "$host_ns"
  expect "mkdir (line $first_mkdir) before the move (line $move) before unshare(CLONE_NEWCGROUP) (line $unshare)" "$DOC#lab08-ns" -- \
    [ "$first_mkdir" -lt "$move" -a "$move" -lt "$unshare" ]
  expect "a teardown line: the removal (rmdir) of $cgroup, after the container ended" "$DOC#lab08-teardown" -- \
    grep -qE "(rmdir|[Rr]emoved).*$cgroup([^/0-9]|\$)" <<< "$(sed -n "$unshare,\$p" <<< "$output")"
  expect_no_cgroup_left "$DOC#lab08-teardown"
  run --separate-stderr ct --memory 48M --pids 8 --cpus 0.5 -- true
  assert_success
  expect "without --verbose, nothing on stderr (negative control)" "$DOC" -- [ -z "$stderr" ]
}

# --- teardown -------------------------------------------------------------------

@test "no nslab directory remains after a run that succeeds, fails, is not found, is killed, or leaves processes behind" {
  run ct --memory 64M -- true
  expect "true: exit status 0" "$DOC#lab08-teardown" -- [ "$status" -eq 0 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
  run ct --pids 8 -- sh -c 'exit 3'
  expect "exit 3: exit status 3" "$DOC#lab08-teardown" -- [ "$status" -eq 3 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
  run -127 ct --cpus 0.5 -- /no/such/command
  expect_no_cgroup_left "$DOC#lab08-teardown"
  run ct --init --memory 64M --pids 8 -- sh -c 'kill -KILL $$'
  expect "COMMAND killed: 128+9" "$DOC#lab08-teardown" -- [ "$status" -eq 137 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
  # The kernel frees a cgroup a moment after its last process: rmdir retries on EBUSY.
  for round in 1 2 3 4 5; do
    run ct --init --memory 64M --pids 16 -- sh -c 'sleep 30 & sleep 30 & exit 0'
    expect "round $round: background sleeps left in the cgroup: exit status 0" "$DOC#lab08-teardown" -- [ "$status" -eq 0 ]
    expect_no_cgroup_left "$DOC#lab08-teardown"
  done
  expect "no process of the runs is left" "$DOC#lab08-teardown" -- wait_for 3 nslab_no_guarded_processes
}

@test "SIGTERM and SIGINT to the runtime: forwarded to COMMAND, then the cgroup is removed" {
  for sig in TERM INT; do
    rm -f "$T/ready"
    start_ct --memory 64M --pids 16 -- sh -c "trap 'exit 42' $sig; sleep 30 & touch '$T/ready'; while :; do sleep 0.05; done"
    wait_for 5 test -e "$T/ready"
    expect "the container's cgroup exists while it runs" "$DOC#lab08-create" -- [ -d "$(cgroup_dir pids "$(ct_cgroup)")" ]
    kill -"$sig" "$CT_PID"
    finish_ct 5
    expect "SIG$sig reached COMMAND: its trap exits 42" "$DOC#lab08-teardown" -- [ "$status" -eq 42 ]
    expect_no_cgroup_left "$DOC#lab08-teardown"
  done
  expect "no process of the containers is left" "$DOC#lab08-teardown" -- wait_for 3 nslab_no_guarded_processes
}

@test "SIGKILL of the runtime: the container dies with it, and the next run sweeps the directory it left" {
  start_waiting_ct --memory 64M --pids 16
  killed=$CT_PID
  cgroup=$(ct_cgroup "$killed")
  kill -KILL "$CT_PID"
  wait "$CT_PID" 2>/dev/null || true
  expect "the container dies with its runtime (PR_SET_PDEATHSIG)" "$DOC#lab08-sweep" -- wait_for 3 nslab_no_guarded_processes
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$cgroup")
    expect "a killed runtime cannot remove its cgroup: $dir is left for the next run" "$DOC#lab08-sweep" -- [ -d "$dir" ]
    expect "with no process in it" "$DOC#lab08-sweep" -- wait_for 3 test -z "$(cat "$dir/cgroup.procs" 2>/dev/null)"
  done
  run --separate-stderr ct -v -- true
  assert_success
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$cgroup")
    expect "the next run swept $dir" "$DOC#lab08-sweep" -- [ ! -e "$dir" ]
  done
  expect "and said so with --verbose: a line names $cgroup" "$DOC#lab08-sweep" -- has_line "$stderr" "$cgroup"
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "a directory left under nslab/ with a process still in it: the next run kills the process and removes the directory" {
  true &
  dead=$!
  wait "$dead"
  cgroup=$CG_BASE/nslab/$dead
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$cgroup")
    mkdir -p "$dir"
    MADE_DIRS+=("$dir")
  done
  start_stray_in "$cgroup"
  expect_in_cgroup "$STRAY_PID" "$cgroup" "$DOC#lab08-sweep"
  run ct -- true
  assert_success
  expect "the stray process in the left directory was killed" "$DOC#lab08-sweep" -- wait_for 3 nslab_not_running "$STRAY_PID"
  for hierarchy in $CG_HIERARCHIES; do
    expect "$(cgroup_dir "$hierarchy" "$cgroup") was removed" "$DOC#lab08-sweep" -- [ ! -e "$(cgroup_dir "$hierarchy" "$cgroup")" ]
  done
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "teardown the careful way: a process the host put in the container's group, and a group the container made below its own, are ended and removed" {
  # What makes the two quick rmdirs fail (EBUSY, ENOTEMPTY): a process that
  # is not in the container's PID namespace, so its PID 1's end does not end
  # it; a group below the leaf. Both are found and taken away.
  start_waiting_ct --pids 16
  leaf=$(ct_leaf)
  start_stray_in "$leaf"
  for hierarchy in $CG_HIERARCHIES; do
    mkdir "$(cgroup_dir "$hierarchy" "$leaf")/inner"
  done
  expect_in_cgroup "$STRAY_PID" "$leaf" "$DOC#lab08-teardown"
  touch "$T/go"
  finish_ct
  assert_success
  expect "the host's process in the container's group was killed" "$DOC#lab08-teardown" -- wait_for 3 nslab_not_running "$STRAY_PID"
  for hierarchy in $CG_HIERARCHIES; do
    expect "$(cgroup_dir "$hierarchy" "$leaf")/inner was removed" "$DOC#lab08-teardown" -- [ ! -e "$(cgroup_dir "$hierarchy" "$leaf")/inner" ]
  done
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "a running container's directory is not swept by another run: its lock is held" {
  start_waiting_ct --pids 16
  run ct --pids 16 -- true
  assert_success
  expect "the running container's cgroup is still there" "$DOC#lab08-sweep" -- [ -d "$(cgroup_dir pids "$(ct_cgroup)")" ]
  expect_in_cgroup "$CHILD" "$(ct_cgroup)" "$DOC#lab08-sweep"
  touch "$T/go"
  finish_ct
  assert_success
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

# --- --enter ----------------------------------------------------------------------

@test "--enter: the joining process and its COMMAND are in the container's cgroup and cgroup namespace" {
  start_target --memory 64M --pids 16 -- sleep 100
  start_join "$TARGET" -- sh -c "cat /proc/self/cgroup; exec sleep 1234.8"
  expect "the joined COMMAND runs" "$DOC#lab08-enter" -- wait_for 5 only_process 'sleep 1234\.8'
  command=$(only_process 'sleep 1234\.8')
  joining=$(child_of "$JOIN_PID")
  cgroup=$(ct_cgroup)
  expect_in_cgroup "$TARGET" "$cgroup" "$DOC#lab08-move"
  expect_in_cgroup "$command" "$cgroup" "$DOC#lab08-enter"
  expect_in_cgroup "$joining" "$cgroup" "$DOC#lab08-enter"
  expect "from the host, the joined COMMAND's /proc/$command/cgroup is the target's (leaf and all)" "$DOC#lab08-enter" -- \
    [ "$(cat "/proc/$command/cgroup")" = "$(cat "/proc/$TARGET/cgroup")" ]
  expect "it is in the target's cgroup namespace" "$DOC#lab08-enter" -- [ "$(ns_of "$command" cgroup)" = "$(ns_of "$TARGET" cgroup)" ]
  expect "inside, every line of its /proc/self/cgroup shows / (got: $(paste -sd' ' "$JOIN_OUT"))" "$DOC#lab08-enter" -- \
    [ -n "$(cat "$JOIN_OUT")" -a -z "$(awk -F: '$3 != "/"' "$JOIN_OUT")" ]
  expect "$(cgroup_dir pids "$cgroup")/pids.current counts the target's sleep, the joining process and COMMAND: 3" "$DOC#lab08-enter" -- \
    [ "$(cgroup_value pids "$cgroup" pids.current)" -eq 3 ]
  kill -TERM "$JOIN_PID"
  finish_join
  expect "SIGTERM forwarded to the joined sleep ends it: 128+15" "$DOC#lab08-enter" -- [ "$status" -eq 143 ]
  stop_target
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "--enter: a joined COMMAND counts against --pids: its forks past the limit are refused" {
  start_target --pids 5 -- sleep 100
  cgroup=$(ct_cgroup)
  expect "before the join, the container holds one process (pids.current 1)" "$DOC#lab08-pids" -- \
    [ "$(cgroup_value pids "$cgroup" pids.current)" -eq 1 ]
  # The sleeps' output elsewhere: run would wait for them, which the end of the joined shell does not end.
  run --separate-stderr ct_enter "$TARGET" -- sh -c 'for i in 1 2 3 4 5 6; do sleep 5 > /dev/null 2>&1 & done; wait'
  expect "the joined shell reports a fork refused" "$DOC#lab08-enter" -- grep -qE "$FORK_REFUSED" <<< "$stderr"
  expect "pids.events counts it (max $(limit_count pids "$cgroup" pids.events max))" "$DOC#lab08-enter" -- \
    [ "$(limit_count pids "$cgroup" pids.events max)" -ge 1 ]
  stop_target
  expect "the target's runtime says --pids 5 was reached" "$DOC#lab08-pids" -- grep -qE "^08-cgroup: --pids 5 $PIDS_REACHED" <<< "$output"
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

# --- refusals: exit 125, one line, nothing created ------------------------------

@test "bad --memory, --pids and --cpus values: exit 125, one line that names the option, nothing created" {
  too_many=$(($(nproc) + 1))
  for option in "--memory 12Q" "--memory -3" "--memory zero" "--memory " "--memory 99999999999999999999G" \
    "--memory 0" "--memory 1023K" "--memory 4294967297G" "--memory 12MQ" \
    "--pids 0" "--pids -3" "--pids abc" "--pids " "--pids 4194305" "--pids 99999999999999999999" "--pids 1.5" \
    "--cpus 0" "--cpus abc" "--cpus -1" "--cpus " "--cpus 0.001" "--cpus $too_many" "--cpus 0.5x"; do
    name=${option%% *} value=${option#* }
    run --separate-stderr ct "$name" "$value" -- touch "$T/ran"
    expect "$name '$value': exit status 125" "$DOC#lab08-errors" -- [ "$status" -eq 125 ]
    expect "$name '$value': one line that names $name and the value" "$DOC#lab08-errors" -- \
      is_one_line_matching "$stderr" "^08-cgroup: $name"
    [ -z "$value" ] || expect "the line quotes '$value'" "$DOC#lab08-errors" -- grep -qF -- "$value" <<< "$stderr"
  done
  for name in --memory --pids --cpus; do
    run --separate-stderr "$NSLAB_PROGRAM" "$name"
    expect "$name without a value: exit status 125" "$DOC#lab08-errors" -- [ "$status" -eq 125 ]
    expect "$name without a value: one line that names it" "$DOC#lab08-errors" -- is_one_line_matching "$stderr" "^08-cgroup: $name"
  done
  expect "COMMAND never ran" "$DOC#lab08-errors" -- [ ! -e "$T/ran" ]
  expect "no cgroup was made" "$DOC#lab08-errors" -- no_cgroup_made
  expect "no process left" "$DOC#lab08-errors" -- nslab_no_guarded_processes
}

@test "each of --memory, --pids and --cpus may be given once: repeated, exit 125 and one line" {
  for option in "--memory 64M --memory 64M" "--pids 8 --pids 9" "--cpus 0.5 --cpus 1"; do
    name=${option%% *}
    run --separate-stderr ct $option -- touch "$T/ran"
    expect "$option: exit status 125" "$DOC#lab08-errors" -- [ "$status" -eq 125 ]
    expect "$option: one line that names $name" "$DOC#lab08-errors" -- is_one_line_matching "$stderr" "^08-cgroup: $name"
  done
  expect "COMMAND never ran" "$DOC#lab08-errors" -- [ ! -e "$T/ran" ]
  expect "no cgroup was made" "$DOC#lab08-errors" -- no_cgroup_made
}

@test "the edges of each range are accepted: --memory 1M and 65536k, --pids 1 and 4194304, --cpus 0.01 and every CPU" {
  run ct --memory 65536k --pids 1 --cpus 0.01 -- true
  expect "--memory 65536k --pids 1 --cpus 0.01 -- true: exit status 0" "$DOC#lab08-errors" -- [ "$status" -eq 0 ]
  run ct --memory 1g --pids 4194304 --cpus "$(nproc)" -- true
  expect "--memory 1g --pids 4194304 --cpus $(nproc) -- true: exit status 0" "$DOC#lab08-errors" -- [ "$status" -eq 0 ]
  run --separate-stderr ct --memory 1M -- true
  expect "--memory 1M is accepted as a value, whatever the kernel then does with so little: not 125 (got: $stderr)" "$DOC#lab08-errors" -- \
    [ "$status" -ne 125 ]
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "a hierarchy that is not mounted: --pids is refused with one line naming the pids controller, --memory still works" {
  # In a mount namespace of its own, with propagation private: the host keeps its mounts.
  if [ "$CG_LAYOUT" = v2 ]; then
    # Pure v2 has one hierarchy, which root may enable every controller in: a
    # missing one is simulated by a layout without it — a tmpfs at
    # /sys/fs/cgroup, cgroup2 at unified/, no v1 hierarchy (hybrid, nothing mounted).
    hide='mount -t tmpfs -o mode=755 nslab-test /sys/fs/cgroup && mkdir /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified'
  else
    [ "$(stat -fc %T /sys/fs/cgroup/pids)" = cgroupfs ] || skip "the pids hierarchy is not mounted here at all"
    hide='umount /sys/fs/cgroup/pids'
  fi
  run --separate-stderr unshare --mount --propagation private sh -c "$hide && exec env NSLAB_GUARD=\"\$1\" \"\$2\" --pids 8 -- touch \"\$3\"" \
    sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" "$T/ran"
  expect "exit status 125" "$DOC#lab08-errors" -- [ "$status" -eq 125 ]
  expect "one line: 08-cgroup: --pids needs the pids controller, which … has not got" "$DOC#lab08-errors" -- \
    is_one_line_matching "$stderr" '^08-cgroup: --pids needs the pids controller'
  expect "COMMAND never ran" "$DOC#lab08-errors" -- [ ! -e "$T/ran" ]
  expect "no cgroup was made, in any hierarchy" "$DOC#lab08-errors" -- no_cgroup_made
  if [ "$CG_LAYOUT" != v2 ]; then
    run --separate-stderr unshare --mount --propagation private sh -c "$hide && exec env NSLAB_GUARD=\"\$1\" \"\$2\" --memory 64M -- true" \
      sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM"
    expect "without the pids hierarchy, --memory 64M still runs (positive control)" "$DOC#lab08-layout" -- [ "$status" -eq 0 ]
  fi
  expect_no_cgroup_left "$DOC#lab08-teardown"
}

@test "NSLAB_CGROUP_BASE puts the container's cgroup under that cgroup, and one that does not exist is refused" {
  base=$CG_BASE/nslab-base-$$
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$base")
    mkdir "$dir"
    MADE_DIRS+=("$dir")
  done
  saved=${NSLAB_CGROUP_BASE-unset}
  export NSLAB_CGROUP_BASE=$base
  start_waiting_ct --pids 8
  if [ "$saved" = unset ]; then unset NSLAB_CGROUP_BASE; else NSLAB_CGROUP_BASE=$saved; fi
  expect_in_cgroup "$CHILD" "$base/nslab/$CT_PID" "$DOC#lab08-create"
  expect "pids.max there: 8" "$DOC#lab08-create" -- [ "$(cgroup_value pids "$base/nslab/$CT_PID" pids.max)" = 8 ]
  touch "$T/go"
  finish_ct
  assert_success
  for hierarchy in $CG_HIERARCHIES; do
    dir=$(cgroup_dir "$hierarchy" "$base")
    expect "$dir is left as it was: its nslab/ removed, itself kept" "$DOC#lab08-teardown" -- \
      [ -d "$dir" -a ! -e "$dir/nslab" ]
  done
  missing=$CG_BASE/nslab-no-such-base-$$
  run --separate-stderr env NSLAB_CGROUP_BASE="$missing" NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --pids 8 -- touch "$T/ran"
  expect "NSLAB_CGROUP_BASE=$missing: exit status 125" "$DOC#lab08-errors" -- [ "$status" -eq 125 ]
  expect "one line that names it" "$DOC#lab08-errors" -- is_one_line_matching "$stderr" "^08-cgroup: .*$missing"
  expect "COMMAND never ran" "$DOC#lab08-errors" -- [ ! -e "$T/ran" ]
  for hierarchy in $CG_HIERARCHIES; do
    expect "$(cgroup_dir "$hierarchy" "$missing") was not made" "$DOC#lab08-errors" -- [ ! -e "$(cgroup_dir "$hierarchy" "$missing")" ]
  done
}
