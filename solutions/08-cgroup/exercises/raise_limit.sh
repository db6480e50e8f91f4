#!/usr/bin/env bash
# Lab 08, exercise 3 "raise your own limit" — a solution.
#
#   raise_limit.sh PATH/TO/08-cgroup ROOTFS
#
# Run as root. Plays the container that tries to lift its own --memory 48M,
# three times:
#
#   1. without --rootfs: the host's /sys/fs/cgroup is in view. COMMAND finds
#      its own leaf (the one whose cgroup.procs lists PID 1: PIDs are shown as
#      the reader's PID namespace numbers them), raises the limit in the group
#      above it to 1G, and moves itself to the root of the hierarchy;
#   2. with --rootfs ROOTFS (a busybox root filesystem: scripts/make-rootfs.sh):
#      it writes the limit through the read-only /sys/fs/cgroup, then through
#      a cgroupfs it mounts itself, and runs a 300 MiB dd;
#   3. without --rootfs, but with --uid-map 0:100000:65536 --gid-map
#      0:100000:65536, a map that leaves out the host's root: as in 1.
#
# Then a report, one "WHAT: VALUE" a line ("done", or "refused (REASON)" with
# the errno's text as the shell's message ends; the runtime's own lines go to
# stderr):
#
#   without --rootfs, its own group: found
#   without --rootfs, raising the limit above its leaf to 1G: done, it reads 1073741824
#   without --rootfs, moving itself to the hierarchy's root: done, /proc/self/cgroup says /../../..
#   with --rootfs, writing the limit through /sys/fs/cgroup: refused (Read-only file system)
#   with --rootfs, writing its leaf's limit through a cgroupfs of its own: done
#   with --rootfs, a 300 MiB dd: exit status 137
#   with a map that leaves out the host's root, its own group: found
#   with a map that leaves out the host's root, raising the limit above its leaf to 1G: refused (Permission denied)
#   with a map that leaves out the host's root, moving itself to the hierarchy's root: refused (Permission denied)
#
# Both layouts: v1 or hybrid (the memory hierarchy; memory.memsw.limit_in_bytes
# is raised first where it exists, since memory.limit_in_bytes may not pass
# it) and v2 (memory.max). On v2 with nsdelegate, the kernel itself refuses
# some of these from inside a cgroup namespace; the report says what it saw.
#
# Exit status: 0 when the three containers ran (whatever they saw), 1 when
# one failed to start, 2 for a wrong argument or without root.

set -euo pipefail

if [ $# -ne 2 ]; then
  echo "Usage: raise_limit.sh PATH/TO/08-cgroup ROOTFS" >&2
  exit 2
fi
RUNTIME=$1
ROOTFS=$2
[ -x "$RUNTIME" ] || { echo "raise_limit.sh: $RUNTIME: not an executable file" >&2; exit 2; }
[ -x "$ROOTFS/bin/sh" ] || { echo "raise_limit.sh: $ROOTFS: not a root filesystem (no bin/sh in it)" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "raise_limit.sh: needs root: the containers are given a cgroup of root's, and the third a map of many ids" >&2
  exit 2
fi

# The layout, as 08-cgroup tells it: the filesystem at /sys/fs/cgroup.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  HIERARCHY=/sys/fs/cgroup LIMITS="memory.max" MOUNT="-t cgroup2" CONTROLLER=0::
else
  HIERARCHY=/sys/fs/cgroup/memory MOUNT="-t cgroup -o memory" CONTROLLER=:memory:
  # memory+swap first: memory.limit_in_bytes may not exceed it.
  LIMITS="memory.limit_in_bytes"
  [ ! -e "$HIERARCHY/memory.memsw.limit_in_bytes" ] || LIMITS="memory.memsw.limit_in_bytes memory.limit_in_bytes"
fi
LIMIT=${LIMITS##* }  # the one read back

# In the containers' sh (their scripts get $1... as arguments, and are not
# expanded here): try COMMAND... prints "done", or "refused (REASON)".
# shellcheck disable=SC2016
TRY='try() { if out=$("$@" 2>&1); then echo done; else echo "refused (${out##*: })"; fi; }
write() { echo "$2" > "$1"; }'

# Case 1 and 3: $1 the hierarchy, $2 the limit files (raised in order), $3
# the one read back, $4 how /proc/self/cgroup names the hierarchy, $5 the label.
# shellcheck disable=SC2016
FIND_AND_RAISE=$TRY'
f=$(find "$1" -path "*/nslab/*/container/cgroup.procs" -exec grep -lx 1 {} + 2>/dev/null | head -n 1)
if [ -z "$f" ]; then echo "$5, its own group: not found"; exit 0; fi
echo "$5, its own group: found"
d=${f%/container/cgroup.procs}
for file in $2; do result=$(try write "$d/$file" 1G); done
[ "$result" != done ] || result="done, it reads $(cat "$d/$3")"
echo "$5, raising the limit above its leaf to 1G: $result"
result=$(try write "$1/cgroup.procs" $$)
[ "$result" != done ] || result="done, /proc/self/cgroup says $(grep -F -- "$4" /proc/self/cgroup | cut -d: -f3)"
echo "$5, moving itself to the hierarchy'"'"'s root: $result"'

# Case 2, in the root filesystem: $1 the hierarchy there, $2 the limit files,
# $3 the mount's type and options.
# shellcheck disable=SC2016
THROUGH_MOUNTS=$TRY'
echo "with --rootfs, writing the limit through /sys/fs/cgroup: $(try write "$1/${2##* }" 1073741824)"
mkdir -p /tmp/m
if out=$(mount $3 none /tmp/m 2>&1); then
  for file in $2; do result=$(try write "/tmp/m/$file" 1073741824); done
else
  result="refused (mount: ${out##*: })"
fi
echo "with --rootfs, writing its leaf'"'"'s limit through a cgroupfs of its own: $result"
status=0
dd if=/dev/zero of=/dev/null bs=300M count=1 2>/dev/null || status=$?
echo "with --rootfs, a 300 MiB dd: exit status $status"'

# The containers' own stdout is the report; the runtime's lines (the limit
# reached) go to this script's stderr.
run_ct() {
  (cd / && "$RUNTIME" --memory 48M "$@") ||
    { echo "raise_limit.sh: the container ($*) failed: exit status $?" >&2; exit 1; }
}

run_ct -- sh -c "$FIND_AND_RAISE" sh "$HIERARCHY" "$LIMITS" "$LIMIT" "$CONTROLLER" "without --rootfs"
inside=/sys/fs/cgroup
[ "$HIERARCHY" = /sys/fs/cgroup ] || inside=/sys/fs/cgroup/memory
run_ct --rootfs "$ROOTFS" -- sh -c "$THROUGH_MOUNTS" sh "$inside" "$LIMITS" "$MOUNT"
run_ct --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- \
  sh -c "$FIND_AND_RAISE" sh "$HIERARCHY" "$LIMITS" "$LIMIT" "$CONTROLLER" "with a map that leaves out the host's root"
