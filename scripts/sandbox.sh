#!/usr/bin/env bash
# Runs a command in a throw-away sandbox: new UTS, IPC, mount (private), PID and
# network namespaces, with its own /proc. Whatever a buggy container program
# does to "the host" there — rename it, leave a mount, an IPC object, a link —
# happens to the sandbox and vanishes with it; the real host is untouched.
#
#   scripts/sandbox.sh COMMAND [ARG...]
#
# Used by scripts/mutants.sh (programs broken on purpose) and scripts/grade.sh
# (a learner's program, which may be broken by accident). Needs root.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/sandbox.sh COMMAND [ARG...]" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "sandbox: needs root (unshare of UTS, IPC, mount, PID and network namespaces)" >&2
  exit 125
fi
# --kill-child: if this script is killed, the sandbox's first process — and
# with it every process of the sandbox's PID namespace — dies too.
exec unshare --uts --ipc --net --mount --propagation private --pid --fork --kill-child --mount-proc \
  -- sh -c 'ip link set lo up 2>/dev/null; exec "$@"' sandbox "$@"
