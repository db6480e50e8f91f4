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

# The cgroup directories, apart from systemd's own units. Other managers on the
# machine create and remove cgroups of their own at any moment, so only a
# directory that appeared counts as a leak; one that went away is not ours.
nslab_cgroup_dirs() {
  # process_api/: a process manager on some machines makes one per command it starts.
  find /sys/fs/cgroup -maxdepth 4 -type d 2>/dev/null | grep -vE '/(system|user|machine|init)\.(slice|scope)|/process_api(/|$)' | sort
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
  local appeared
  appeared=$(nslab_cgroup_dirs | comm -13 "$BATS_FILE_TMPDIR/cgroups.before" -)
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
