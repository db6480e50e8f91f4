#!/usr/bin/env bash
# Lab 02, exercise 3 "where are the limits?" — a solution.
#
#   msgmni.sh PATH/TO/02-ipc
#
# Reads kernel.msgmni (the most System V message queues an IPC namespace may
# hold) on this side, then inside a container before and after the container
# writes 10 to it, and on this side again. Four lines:
#
#   this side: 32000
#   inside, at the start: 32000
#   inside, after writing 10: 10
#   this side, afterwards: 32000
#
# msgmni belongs to the IPC namespace (ipc_namespaces(7)): a new namespace
# starts with the kernel's default, not with a copy of its parent's value, and
# a change inside stays inside and dies with the namespace. The container's
# root may write it, having CAP_SYS_ADMIN over that namespace. Needs root.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: msgmni.sh PATH/TO/02-ipc" >&2
  exit 2
fi
RUNTIME=$1
[ -x "$RUNTIME" ] || { echo "msgmni.sh: $RUNTIME: not an executable file" >&2; exit 2; }
FILE=/proc/sys/kernel/msgmni

echo "this side: $(cat "$FILE")"
# shellcheck disable=SC2016  # expanded by the container's shell
inside=$("$RUNTIME" -- sh -c 'cat "$1"; echo 10 > "$1" && cat "$1"' sh "$FILE")
mapfile -t values <<< "$inside"
echo "inside, at the start: ${values[0]:-?}"
echo "inside, after writing 10: ${values[1]:-(the write failed)}"
echo "this side, afterwards: $(cat "$FILE")"
