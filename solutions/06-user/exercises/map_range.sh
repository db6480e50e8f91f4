#!/usr/bin/env bash
# Lab 06, exercise 3 "map a range" — a solution.
#
#   map_range.sh PATH/TO/06-user ROOTFS
#
# Run as root. Copies the root filesystem ROOTFS (scripts/make-rootfs.sh makes
# one) into a directory of its own, which it removes at the end, and runs
# containers in the copy with --uid-map 0:100000:65536 --gid-map 0:100000:65536:
# first with the copy as it is, the host's root's; then with the copy given to
# the range (chown -R 100000:100000), where root inside makes a file, and
# another that it gives to 1000. Then a report, one "WHAT: VALUE" a line, owners
# as UID:GID:
#
#   owners inside, a tree of the host's root: / 65534:65534, /etc/passwd 65534:65534
#   root inside creates /root/x there: refused (Permission denied)
#   owners inside, the tree given to the range: / 0:0, /etc/passwd 0:0
#   files made inside, seen inside: by root 0:0, by 1000 1000:1000
#   files made inside, seen from the host: by root 100000:100000, by 1000 101000:101000
#   chown 70000 inside: refused (Invalid argument)
#
# An id inside is the host's id minus 100000, for the 65536 ids of the map;
# an id the map does not cover reads as the overflow id, 65534, inside, and
# cannot be given to a file from there.
#
# Exit status: 0 when every step ran (whatever it saw), 1 when a container
# failed, 2 for a wrong argument or without root.
# shellcheck disable=SC2016  # the containers' scripts are expanded by their own sh

set -euo pipefail

if [ $# -ne 2 ]; then
  echo "Usage: map_range.sh PATH/TO/06-user ROOTFS" >&2
  exit 2
fi
RUNTIME=$1
ROOTFS=$2
[ -x "$RUNTIME" ] || { echo "map_range.sh: $RUNTIME: not an executable file" >&2; exit 2; }
[ -x "$ROOTFS/bin/sh" ] || { echo "map_range.sh: $ROOTFS: not a root filesystem (no bin/sh in it)" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "map_range.sh: needs root: only root may map a range of ids that is not its own without newuidmap" >&2
  exit 2
fi

MAP=(--uid-map 0:100000:65536 --gid-map 0:100000:65536)
# The copy: under a directory that the container's root, uid 100000 on the
# host, may pass through (mktemp's is 0700, root's only).
WORK=$(mktemp -d)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
cp -a "$ROOTFS" "$WORK/rootfs"

# inside SCRIPT: SCRIPT run by sh in a container in the copy, with the map.
inside() {
  "$RUNTIME" --rootfs "$WORK/rootfs" "${MAP[@]}" -- sh -c "$1" ||
    { echo "map_range.sh: a container failed (exit status $?)" >&2; exit 1; }
}

# In the container's sh: "made", or "refused (REASON)" with the errno's text.
TRY='try() { if out=$("$@" 2>&1); then echo made; else echo "refused (${out##*: })"; fi; }'

# 1. The tree as it is: the host's root's.
before=$(inside 'echo "/ $(stat -c %u:%g /), /etc/passwd $(stat -c %u:%g /etc/passwd)"')
create=$(inside "$TRY; try touch /root/x")

# 2. The tree given to the range: the container's root is its owner.
chown -R 100000:100000 "$WORK/rootfs"
after=$(inside 'echo "/ $(stat -c %u:%g /), /etc/passwd $(stat -c %u:%g /etc/passwd)"')
made=$(inside 'touch /root/by-root /root/by-1000 && chown 1000:1000 /root/by-1000 &&
               echo "by root $(stat -c %u:%g /root/by-root), by 1000 $(stat -c %u:%g /root/by-1000)"')
host="by root $(stat -c %u:%g "$WORK/rootfs/root/by-root"), by 1000 $(stat -c %u:%g "$WORK/rootfs/root/by-1000")"
chown70000=$(inside "$TRY; try chown 70000 /root/by-1000")
[ "$chown70000" != made ] || chown70000="done: $(stat -c %u "$WORK/rootfs/root/by-1000") on the host"

echo "owners inside, a tree of the host's root: $before"
echo "root inside creates /root/x there: $create"
echo "owners inside, the tree given to the range: $after"
echo "files made inside, seen inside: $made"
echo "files made inside, seen from the host: $host"
echo "chown 70000 inside: $chown70000"
