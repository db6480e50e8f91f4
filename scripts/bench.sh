#!/usr/bin/env bash
# Times each lab's container start against unshare(1) creating the same
# namespaces, in one hyperfine run per pair, and prints the ratios.
# Target: each lab at most 1.1x unshare.
#
#   scripts/bench.sh [RUNS]        (default 300 runs per command; needs root)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-300}
bin=$top/build/bin/solutions
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (labs 01-05 create namespaces)" >&2; exit 125; }
[ -x "$bin/01-uts" ] || (cd "$top" && cmake --preset default >/dev/null && cmake --build --preset default -j"$(nproc)" >/dev/null)

# lab | the same namespaces with unshare(1). --fork everywhere: a runtime keeps a
# parent on the host that waits for the container (to forward signals and clean
# up), so unshare(1) does the same work only when it forks too. (Without --fork,
# labs 01-02 cost about 0.4 ms more than unshare, which then execs in place.)
pairs=(
  "01-uts|unshare --fork --uts true"
  "02-ipc|unshare --fork --uts --ipc true"
  "03-pid|unshare --uts --ipc --pid --fork true"
  "04-mount|unshare --uts --ipc --pid --fork --mount --mount-proc true"
)
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
printf '%-9s %12s %12s %7s\n' lab "nslab (ms)" "unshare (ms)" ratio
worst=0
for pair in "${pairs[@]}"; do
  IFS='|' read -r lab reference <<< "$pair"
  hyperfine --shell=none --warmup 30 --runs "$runs" --export-csv "$csv" --style none \
    "$bin/$lab -- true" "$reference" >/dev/null 2>&1
  # CSV: command,mean,stddev,median,user,system,min,max (seconds)
  read -r ours theirs < <(awk -F, 'NR == 2 { a = $2 } NR == 3 { b = $2 } END { print a, b }' "$csv")
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
  printf '%-9s %12.2f %12.2f %6sx\n' "$lab" "$(awk -v a="$ours" 'BEGIN { print a * 1000 }')" \
    "$(awk -v b="$theirs" 'BEGIN { print b * 1000 }')" "$ratio"
  worst=$(awk -v w="$worst" -v r="$ratio" 'BEGIN { print (r > w) ? r : w }')
done
echo "worst ratio: ${worst}x (target: at most 1.10x)"
