#!/usr/bin/env bash
# Builds a small root filesystem for lab 04 and later, offline, from Debian's
# busybox-static: one static binary and a symlink per applet, plus the few files
# programs expect (/etc/passwd, /etc/group, /etc/hostname) and the mount points
# the runtime needs (proc/, dev/, tmp/).
#
#   scripts/make-rootfs.sh DIR        (DIR must not exist, or be empty)
#
# Needs /bin/busybox from busybox-static (scripts/setup.sh installs it;
# Fedora: busybox). Nothing is downloaded.
set -euo pipefail

die() { echo "make-rootfs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: scripts/make-rootfs.sh DIR"
dir=$1
busybox=${NSLAB_BUSYBOX:-$(command -v busybox || true)}
[ -n "$busybox" ] && [ -x "$busybox" ] || die "no busybox found: install busybox-static (Debian/Ubuntu) or busybox (Fedora)"
# A dynamically linked busybox would need the host's libraries inside the rootfs.
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked: install the static one (Debian/Ubuntu: busybox-static)"
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  die "$dir exists and is not empty"
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc root proc dev tmp sys var/tmp
chmod 1777 tmp var/tmp
chmod 0700 root
cp "$busybox" bin/busybox
# One link per applet, where busybox itself would install it (--list-full
# prints "bin/ls", "usr/bin/env", ...).
bin/busybox --list-full | while read -r applet; do
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
echo nslab > etc/hostname
echo "nslab root filesystem (busybox $(bin/busybox | head -1 | awk '{print $2}'))" > etc/issue
echo "made $dir: $(find . -type l | wc -l) busybox applets, $(du -sh . | cut -f1)"
