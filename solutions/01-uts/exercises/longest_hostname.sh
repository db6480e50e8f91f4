#!/usr/bin/env bash
# Lab 01, exercise 4 "the limit" — a solution.
#
#   longest_hostname.sh PATH/TO/01-uts
#
# Tries --hostname with names of 1, 2, 3 ... bytes ("a", "aa", ...) until
# 01-uts refuses one, and prints three lines: the longest name it accepted,
# whether the first refused one was refused before or after clone(2), and the
# program's own error line for it:
#
#   longest accepted: 64 bytes
#   65 bytes: refused before clone
#   01-uts: --hostname: the name is 65 bytes; the kernel allows at most 64 (HOST_NAME_MAX)
#
# "Accepted" means the container ran and `hostname` inside printed the name.
# Before or after clone is told from the outside by --verbose: the runtime
# narrates its clone(...) call there, so a refusal with no clone line came
# before any namespace or process was made. Needs root. Stops at 255 bytes.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: longest_hostname.sh PATH/TO/01-uts" >&2
  exit 2
fi
RUNTIME=$1
[ -x "$RUNTIME" ] || { echo "longest_hostname.sh: $RUNTIME: not an executable file" >&2; exit 2; }

name=""
for ((length = 1; length <= 255; length++)); do
  name+=a
  if [ "$("$RUNTIME" --hostname "$name" -- hostname 2>/dev/null)" != "$name" ]; then
    echo "longest accepted: $((length - 1)) bytes"
    narration=$("$RUNTIME" --verbose --hostname "$name" -- hostname 2>&1 >/dev/null) || true
    if grep -q 'clone(' <<< "$narration"; then
      echo "$length bytes: refused after clone"
    else
      echo "$length bytes: refused before clone"
    fi
    # The program's own line: the last of the narration.
    tail -n 1 <<< "$narration"
    exit 0
  fi
done
echo "longest_hostname.sh: every name up to 255 bytes was accepted" >&2
exit 1
