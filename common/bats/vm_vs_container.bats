#!/usr/bin/env bats
# scripts/vm-vs-container.sh without its slow half: the container part measured
# for real (a few runs), its data, summary and plot checked; the VM part only
# where it is refused (no qemu: one line, exit 77), so no VM boots here
# (scripts/vm-test.sh is where VMs run); the docs build's mode, from data
# written by hand; and, after a normal end, a refusal and a Ctrl-C, nothing
# left behind: no temporary file, no cgroup, no process.

load nslab
NSLAB_LAB=08-cgroup
NSLAB_ROOT_WHY="the measured container is lab 08's, which root runs with a cgroup of its own"

SCRIPT=$NSLAB_SOURCE_DIR/scripts/vm-vs-container.sh

lab_teardown() {
  end_if_running "${MEASURE_PID:-}"
}

lab_setup() {
  own_tmpdir
}

# without NAME...: a directory of links to every command on PATH except the
# ones named (globs), for a PATH that lacks them. In a bash of its own (Bats
# traces every command of a test, which makes a loop over thousands of files
# slow), with one ln(1): the directories from the last on PATH to the first,
# so that the first wins, as on PATH.
without() {
  local dir
  dir=$(mktemp -d "$BATS_TEST_TMPDIR/without.XXXXXX")
  # shellcheck disable=SC2016  # for that bash
  bash -c '
    dir=$1 files=()
    shift
    IFS=: read -ra dirs <<< "$PATH:/usr/sbin:/sbin"
    for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
      for file in "${dirs[i]}"/*; do
        keep=yes
        for pattern in "$@"; do
          [[ ${file##*/} == $pattern ]] && keep=no
        done
        [ "$keep" = no ] || [ ! -x "$file" ] || files+=("$file")
      done
    done
    ln -sf -t "$dir" "${files[@]}"' without "$dir" "$@"
  echo "$dir"
}

# measure ARG...: the script, its processes marked for the host guard.
measure() {
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$SCRIPT" "$@"
}

# stray_cgroups: the script's cgroups (nslab-vmvc.PID), where it makes them
# (in NSLAB_CGROUP_BASE, which the sandbox gives each run, or at the top),
# whose script is not running: another run of it may be using its own.
stray_cgroups() {
  local dir pid
  while IFS= read -r dir; do
    pid=${dir##*.}
    { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q 'vm-vs-container\.sh' || echo "$dir"
  done < <(find "/sys/fs/cgroup${NSLAB_CGROUP_BASE:-}" "/sys/fs/cgroup/memory${NSLAB_CGROUP_BASE:-}" \
    -mindepth 1 -maxdepth 1 -type d -name 'nslab-vmvc.*' 2>/dev/null)
}

# nothing_left: no temporary file, no cgroup of the script's, no process of it.
nothing_left() {
  expect "no temporary file left in TMPDIR" "vm-vs-container.md#vm-vs-container-errors" -- \
    [ -z "$(ls -A "$TMPDIR")" ]
  expect "no cgroup nslab-vmvc.* left" "vm-vs-container.md#vm-vs-container-errors" -- \
    [ -z "$(stray_cgroups)" ]
  expect "no process of the script's left" "vm-vs-container.md#vm-vs-container-errors" -- \
    nslab_no_guarded_processes
}

# measuring: a container of the script's is running, from its root
# filesystem in TMPDIR.
measuring() {
  compgen -G "$TMPDIR/*/rootfs" >/dev/null && pgrep -f -- "bin/solutions/08-cgroup --rootfs $TMPDIR/" >/dev/null
}

# data_rows KIND: the rows of $OUT/runs.dat of KIND.
data_rows() {
  grep -E "^$1 " "$OUT/runs.dat" || true
}

@test "a bad argument: one line on stderr, exit 2, nothing written" {
  for args in "--bogus" "--runs" "--runs 0" "--runs three" "--quick --runs 3" "--out" "--docs --out"; do
    # shellcheck disable=SC2086  # each word an argument
    run --separate-stderr "$SCRIPT" $args
    expect "exit status 2 for '$args'" "vm-vs-container.md#vm-vs-container-errors" -- [ "$status" -eq 2 ]
    expect "one line, vm-vs-container: ..., for '$args'" "vm-vs-container.md#vm-vs-container-errors" -- \
      is_one_line_matching "$stderr" '^vm-vs-container: .*usage: scripts/vm-vs-container.sh'
    [ -z "$output" ]
  done
  # Negative control: --help is no error.
  run --separate-stderr "$SCRIPT" --help
  assert_success
  assert_output --partial "--container-only"
  nothing_left
}

@test "no qemu: one line that names the package, exit 77, no measurement and nothing left" {
  bin=$(without 'qemu-system-*')
  PATH=$bin run --separate-stderr measure --runs 3 --out "$OUT"
  expect "exit status 77: this machine cannot run the VM" "vm-vs-container.md#vm-vs-container-errors" -- [ "$status" -eq 77 ]
  expect "one line naming qemu-system-x86" "vm-vs-container.md#vm-vs-container-errors" -- \
    is_one_line_matching "$stderr" '^vm-vs-container: cannot measure here: no qemu-system-x86_64 \(Debian: qemu-system-x86, '
  [ -z "$output" ]
  [ ! -e "$OUT" ]
  nothing_left
}

# serial: it times containers, which other tests beside it would slow
@test "--container-only: a few runs, well-formed data, the medians, an SVG; fast; nothing left" {
  command -v gnuplot >/dev/null || skip "needs gnuplot for the plot (Debian: gnuplot-nox, Fedora: gnuplot)"
  # Without qemu too: --container-only needs none.
  bin=$(without 'qemu-system-*')
  start=$SECONDS
  PATH=$bin run measure --container-only --runs 3 --out "$OUT"
  assert_success
  [ $((SECONDS - start)) -lt 45 ]
  assert_line --regexp '^start, to first output +[0-9.]+ ms'
  assert_line --regexp '^memory, peak RSS +[0-9.]+ MiB'
  assert_line --regexp '^size on disk +[0-9.]+ MiB'

  # runs.dat: a header that describes the run, then one line per run.
  grep -qxE '# date: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' "$OUT/runs.dat"
  grep -qE '^# container: 08-cgroup --rootfs ROOTFS -- /bin/echo hello \(as root\)$' "$OUT/runs.dat"
  grep -qE '^# size-container-bytes: [0-9]{6,}$' "$OUT/runs.dat"
  [ -z "$(grep -E '^(vm |# accel:)' "$OUT/runs.dat")" ]
  [ "$(data_rows container | wc -l)" -eq 3 ]
  [ "$(data_rows container-rss | wc -l)" -eq 3 ]
  # Each row: KIND N FIRST EXIT PEAK RSS, times in ms with the first output
  # before the end, a peak where there is a memory cgroup, an RSS where the
  # command was held.
  peaks=no
  grep -qE '^# memory: each run.s cgroup' "$OUT/runs.dat" && peaks=yes
  run awk -v peaks="$peaks" '
    /^#/ { next }
    NF != 6 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+\.[0-9]+$/ || $4 !~ /^[0-9]+\.[0-9]+$/ || $3 + 0 <= 0 || $3 + 0 > $4 + 0 { print "bad row: " $0; bad = 1 }
    $1 == "container" && ($6 != "-" || (peaks == "yes" ? $5 !~ /^[0-9]+$/ || $5 + 0 < 64 : $5 != "-")) { print "bad container row: " $0; bad = 1 }
    $1 == "container-rss" && ($5 != "-" || $6 !~ /^[0-9]+$/ || $6 + 0 < 64) { print "bad RSS row: " $0; bad = 1 }
    $1 != "container" && $1 != "container-rss" { print "unknown kind: " $0; bad = 1 }
    END { exit bad }' "$OUT/runs.dat"
  assert_success

  # summary.dat: the median of the three first-output times, and the plot says it.
  median=$(data_rows container | awk '{ print $3 }' | sort -g | sed -n 2p)
  row=$(grep -m1 '^0 1 ' "$OUT/summary.dat")  # the first bar of the first block
  [ "$(awk '{ print $3 }' <<< "$row")" = "$(awk -v m="$median" 'BEGIN { printf "%.6g", m }')" ]
  # 2 times, the memory (RSS, and the cgroup peak where measured), 1 size.
  [ "$(grep -c '^[0-9]' "$OUT/summary.dat")" -eq "$([ "$peaks" = yes ] && echo 5 || echo 4)" ]

  # The SVG: XML, drawn by gnuplot from plot.gp, with the bars' labels and values.
  python3 -c 'import sys, xml.etree.ElementTree as x; r = x.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith("svg") else 1)' "$OUT/vm-vs-container.svg"
  grep -q 'container, to first output' "$OUT/vm-vs-container.svg"
  grep -qF "$(awk -F'"' '{ print $2 }' <<< "$row")" "$OUT/vm-vs-container.svg"
  grep -q 'the VM not measured' "$OUT/vm-vs-container.svg"
  [ -s "$OUT/plot.gp" ]
  nothing_left
}

@test "without gnuplot the data is still written, and one line says why there is no plot" {
  bin=$(without 'qemu-system-*' 'gnuplot*')
  PATH=$bin run measure --container-only --runs 2 --out "$OUT"
  assert_success
  assert_line "vm-vs-container: no gnuplot, so no plot (Debian: gnuplot-nox, Fedora: gnuplot); the data is in $OUT"
  [ "$(data_rows container | wc -l)" -eq 2 ]
  [ -s "$OUT/plot.gp" ]
  [ ! -e "$OUT/vm-vs-container.svg" ]
  nothing_left
}

@test "--docs: the plot drawn again from the data there, nothing measured; with none, and no VM, one line" {
  command -v gnuplot >/dev/null || skip "needs gnuplot for the plot (Debian: gnuplot-nox, Fedora: gnuplot)"
  mkdir -p "$OUT"
  # Data as a reader's run leaves it (written by hand here), with no build
  # and no qemu around: the docs build must draw it, not measure.
  cat > "$OUT/runs.dat" <<'DATA'
# scripts/vm-vs-container.sh: one line per run
# date: 2026-01-02T03:04:05Z
# host: Linux 6.1.0, a test CPU, 2 CPUs
# container: 08-cgroup --rootfs ROOTFS -- /bin/echo hello (as root)
# memory: each run's cgroup (memory.peak); peak RSS (VmHWM) of the processes
# size-container-bytes: 2000000
# accel: tcg
# vm: qemu -accel tcg -m 128M, linux-image-test, a busybox initramfs
# vm-ram-mib: 128
# size-vm-kernel-bytes: 8000000
# size-vm-initramfs-bytes: 2000000
container 1 4.000 5.000 1000 -
container 2 2.000 3.000 1100 -
container 3 100.000 101.000 900 -
container-rss 1 5.000 6.000 - 4000
vm 1 9000.000 9100.000 170000 200000
vm 2 11000.000 11100.000 180000 210000
DATA
  touch -d '2026-01-02 03:04:05' "$OUT/runs.dat"
  NSLAB_BUILD_DIR=$BATS_TEST_TMPDIR/no-build PATH=$(without 'qemu-system-*') run measure --docs --out "$OUT"
  assert_success
  assert_output "vm-vs-container: the docs show the plot of $OUT/runs.dat (drawn again)"
  # The medians and spreads of those rows: container 4 (2..100), VM 10000 (9000..11000).
  grep -qxF '0 1 4 2 100 "4.0 ms"' "$OUT/summary.dat"
  grep -qxF '2.3 2 10000 9000 11000 "10.0 s"' "$OUT/summary.dat"
  grep -q 'the VM under TCG: software emulation, much slower than KVM' "$OUT/vm-vs-container.svg"
  # Up to date now: a second docs build leaves it alone.
  run measure --docs --out "$OUT"
  assert_output "vm-vs-container: the docs show the plot of $OUT/runs.dat"

  # No data and no qemu: the docs go on without the plot, and say how to draw it.
  rm -rf "$OUT"
  PATH=$(without 'qemu-system-*') run --separate-stderr measure --docs --out "$OUT"
  assert_success
  is_one_line_matching "$output" '^vm-vs-container: no plot in the docs: no qemu-system-x86_64 .*run scripts/vm-vs-container.sh to draw it there$'
  [ ! -e "$OUT" ]
  nothing_left
}

@test "Ctrl-C in the middle of the runs: exit 130, no output written, nothing left behind" {
  # Started with SIGINT at its default (a background job of a script ignores
  # it, and so would the script's trap): as from a terminal.
  (with_sigint SIG_DFL \
    env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$SCRIPT" --container-only --runs 100000 --out "$OUT" > "$BATS_TEST_TMPDIR/log" 2>&1) 3>&- &
  pid=$! MEASURE_PID=$!
  # Under way: its root filesystem made, a container running in it (the
  # negative control of the checks below, which see them go).
  wait_for 25 measuring
  # Where there is a memory controller to measure in, the run's cgroup is
  # there too (and must go): what the check after the end would see.
  if [ -e "/sys/fs/cgroup/memory${NSLAB_CGROUP_BASE:-}/memory.max_usage_in_bytes" ] ||
    grep -qw memory "/sys/fs/cgroup${NSLAB_CGROUP_BASE:-}/cgroup.subtree_control" 2>/dev/null; then
    [ -n "$(find "/sys/fs/cgroup${NSLAB_CGROUP_BASE:-}" "/sys/fs/cgroup/memory${NSLAB_CGROUP_BASE:-}" \
      -mindepth 1 -maxdepth 1 -type d -name "nslab-vmvc.$pid" 2>/dev/null)" ]
  fi
  kill -INT "$pid"
  status=0
  wait_exit "$pid" 20 || status=$?
  [ "$status" != 124 ] || { echo "still running 20 s after SIGINT; its output:" >&2; cat "$BATS_TEST_TMPDIR/log" >&2; false; }
  [ "$status" -eq 130 ] || { cat "$BATS_TEST_TMPDIR/log" >&2; false; }
  [ ! -e "$OUT" ]
  nothing_left
}
