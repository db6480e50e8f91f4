# The host guard: what a lab may never leave behind on the host, compared
# before and after every Bats file (setup_file / teardown_file in nslab.bash).
#
# Hostname and domain name, the mount table, network links, addresses and
# IPv4 routes, IP forwarding, System V IPC objects, the user and group files
# (lab 06 must never need to change them: the tests bind-mount copies in a
# namespace of their own), new cgroup directories — and processes: every
# container a test starts through `ct` carries NSLAB_GUARD=<token> in its
# environment, so any process still holding it afterwards is a leftover of
# this file's tests.

# Prints the host's state, one section per kind of thing a lab could leak.
nslab_host_state() {
  echo "## hostname"
  cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname
  echo "## mounts (/proc/self/mountinfo)"
  cat /proc/self/mountinfo
  echo "## network links"
  ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
  echo "## network addresses (ip -o addr: link, family, address)"
  ip -o addr show 2>/dev/null | awk '{ print $2, $3, $4 }' | sort
  echo "## IPv4 routes, every table"
  ip -4 route show table all 2>/dev/null | sort
  echo "## IP forwarding"
  cat /proc/sys/net/ipv4/ip_forward 2>/dev/null
  echo "## System V IPC"
  ipcs -q -m -s 2>/dev/null | grep '^0x' | sort
  echo "## users and groups (sha256)"
  local file
  for file in /etc/passwd /etc/group /etc/subuid /etc/subgid; do
    if [ -e "$file" ]; then sha256sum "$file"; else echo "no $file"; fi
  done
}

# The cgroup directories a lab could leave, one a line: (1) the top of every
# hierarchy (four levels: /sys/fs/cgroup/memory/a/b), apart from systemd's own
# units and process_api/ — other managers create and remove cgroups of their own
# there at any moment; and (2) at any depth up to 12, including under those
# (user.slice/user-1000.slice/user@1000.service/app.slice/x.scope/nslab/4242 is
# 8 levels down in a v1 hierarchy), every directory whose path has a component
# named nslab* (nslab/, nslab-sandbox.N, a test's nslab-delegated-N) and what is
# below it: where lab 08's program, the sandbox and the tests make theirs. Only
# a directory that appeared counts as a leak; one that went away is not ours.
# One find(1) for both: a cgroup file system lists a directory's entries
# without a stat(2) of each, so even a host with thousands of units is read in
# a few milliseconds.
#
# Inside a sandbox (scripts/sandbox.sh: NSLAB_CGROUP_BASE=/nslab-sandbox.N),
# the subtrees that nslab's scripts name nslab-* (other sandboxes, a
# measurement's nslab-vmvc.PID) are not listed but its own: sandboxes run side
# by side (the labs' tests under ctest do), and from inside one, whose /proc is
# its own, the others' processes cannot be seen to tell a live subtree from a
# leftover. What a test makes goes below the sandbox's own subtree
# (NSLAB_CGROUP_BASE), which is watched, as is a runtime's nslab/ anywhere.
nslab_cgroup_dirs() {
  local own=""
  [[ ${NSLAB_CGROUP_BASE:-} =~ /nslab-sandbox\.([0-9]+)$ ]] && own=${BASH_REMATCH[1]}
  # process_api/: a process manager on some machines makes one per command it starts.
  find /sys/fs/cgroup -maxdepth 12 -type d 2>/dev/null |
    awk -v own="$own" '
      own != "" && /\/nslab-[^\/]+(\/|$)/ && index($0 "/", "/nslab-sandbox." own "/") == 0 { next }
      /\/nslab[^\/]*(\/|$)/ { print; next }
      split($0, part, "/") <= 8 && !/\/(system|user|machine|init)\.(slice|scope)|\/process_api(\/|$)/' | sort
}

# The directories among those that appeared that another run is using: the
# nslab/PID of a runtime still running that is not one of this file's (it
# lacks this file's mark), the nslab-sandbox.PID of a scripts/sandbox.sh still
# running (another suite's, or a mutant check's), the nslab-vmvc.PID of a
# scripts/vm-vs-container.sh still measuring, and what is below them.
# Another user of the machine may run a container while the tests run; a
# runtime of this file's that still runs is a leftover process, and is
# reported as one.
nslab_cgroup_dirs_in_use() {
  local dir pid used=() all=()
  mapfile -t all
  for dir in "${all[@]}"; do
    if [[ $dir =~ /nslab-sandbox\.([0-9]+)(/|$) ]]; then
      # Another scripts/sandbox.sh, still running: its subtree goes with it.
      pid=${BASH_REMATCH[1]}
      if { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q 'sandbox\.sh'; then
        used+=("$dir")
      elif grep -laF sandbox-cleaner /proc/[0-9]*/cmdline 2>/dev/null |
           xargs -r grep -qaE "/nslab-sandbox\.$pid([^0-9]|\$)" 2>/dev/null; then
        # Its script was killed (SIGKILL), and its cleaner is removing it.
        used+=("$dir")
      fi
      continue
    fi
    if [[ $dir =~ /nslab-vmvc\.([0-9]+)(/|$) ]]; then
      # A scripts/vm-vs-container.sh still measuring: its cgroups go with it.
      pid=${BASH_REMATCH[1]}
      { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q 'vm-vs-container\.sh' && used+=("$dir")
      continue
    fi
    [[ $dir =~ /nslab/([0-9]+)(/|$) ]] || continue
    pid=${BASH_REMATCH[1]}
    [ -e "/proc/$pid" ] || continue
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == [0-9][0-9]-* ]] || continue
    grep -qzxF "NSLAB_GUARD=$NSLAB_GUARD_TOKEN" "/proc/$pid/environ" 2>/dev/null && continue
    used+=("$dir")
  done
  [ ${#used[@]} -gt 0 ] || return 0
  printf '%s\n' "${used[@]}"
  # nslab/ itself, while another run's container is in it.
  for dir in "${all[@]}"; do
    [[ $dir == */nslab ]] && printf '%s\n' "${used[@]}" | grep -qF "$dir/" && echo "$dir"
  done
  return 0
}

# Prints the PIDs of the processes started by this file's containers.
nslab_guarded_processes() {
  grep -lzxF "NSLAB_GUARD=$NSLAB_GUARD_TOKEN" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

# True when no process of this file's containers is left (for wait_for).
nslab_no_guarded_processes() {
  [ -z "$(nslab_guarded_processes)" ]
}

nslab_guard_begin() {
  export NSLAB_GUARD_TOKEN="nslab-$$-$RANDOM$RANDOM"
  nslab_host_state > "$BATS_FILE_TMPDIR/host.before"
  nslab_cgroup_dirs > "$BATS_FILE_TMPDIR/cgroups.before"
}

nslab_guard_end() {
  local failed=0 strays pid
  # A container's processes end when it does; allow the kernel a moment.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    strays=$(nslab_guarded_processes)
    [ -z "$strays" ] && break
    sleep 0.1
  done
  if [ -n "$strays" ]; then
    echo "host guard: processes left behind by a container:" >&2
    for pid in $strays; do
      echo "  $pid $(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" >&2
      kill -KILL "$pid" 2>/dev/null || true  # ours: they carry this file's token
    done
    failed=1
  fi
  local appeared tries
  # A sandbox beside this file's tests (a lab's, under ctest -j) removes its
  # subtree a moment after its command ends, hierarchy by hierarchy, when its
  # script may be gone already: allow what is going that moment (2 s at most).
  for tries in $(seq 20); do
    appeared=$(nslab_cgroup_dirs | comm -13 "$BATS_FILE_TMPDIR/cgroups.before" -)
    if [ -n "$appeared" ]; then
      appeared=$(comm -23 <(echo "$appeared") <(nslab_cgroup_dirs_in_use <<< "$appeared" | sort))
    fi
    [ -n "$appeared" ] && [ "$tries" -lt 20 ] || break
    sleep 0.1
  done
  if [ -n "$appeared" ]; then
    echo "host guard: cgroup directories left behind:" >&2
    sed 's/^/  /' <<< "$appeared" >&2
    failed=1
  fi
  nslab_host_state > "$BATS_FILE_TMPDIR/host.after"
  if ! diff -u "$BATS_FILE_TMPDIR/host.before" "$BATS_FILE_TMPDIR/host.after" > "$BATS_FILE_TMPDIR/host.diff"; then
    echo "host guard: the host changed (- before, + after); nothing a container does may outlive it:" >&2
    cat "$BATS_FILE_TMPDIR/host.diff" >&2
    failed=1
  fi
  return "$failed"
}
