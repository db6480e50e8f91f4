#!/usr/bin/env bats
# scripts/bench.sh without its long runs: bad arguments and a missing
# privilege refused in one line; one row measured for real (a few runs), its
# table, Markdown and data checked; the docs build's mode, from data written
# by hand; and after a normal end and a Ctrl-C, nothing left behind: no
# temporary file, no process, no cgroup or link of the bench's.

load nslab
NSLAB_LAB=08-cgroup
NSLAB_ROOT_WHY="the bench creates namespaces, makes cgroups and runs rows as uid 65534 through setpriv"

SCRIPT=$NSLAB_SOURCE_DIR/scripts/bench.sh

lab_teardown() {
  end_if_running "${BENCH_PID:-}"
}

lab_setup() {
  own_tmpdir
}

# bench ARG...: the script, its processes marked for the host guard.
bench() {
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$SCRIPT" "$@"
}

# nothing_left: no temporary file, no process of the bench's, no cgroup or
# link of its references.
nothing_left() {
  expect "no temporary file left in TMPDIR" "performance.md#performance-errors" -- [ -z "$(ls -A "$TMPDIR")" ]
  expect "no process of the bench's left" "performance.md#performance-errors" -- nslab_no_guarded_processes
  expect "no cgroup nslab-bench.* left" "performance.md#performance-errors" -- \
    [ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'nslab-bench.*' 2>/dev/null)" ]
  expect "no link nslab-PID or nslab-rPID left" "performance.md#performance-errors" -- \
    [ -z "$(ip -o link | grep -E 'nslab-r?[0-9]+' || true)" ]
}

@test "a bad argument: one line on stderr, exit 2, nothing written" {
  for args in "--bogus" "--runs" "--runs 0" "--runs three" "5 6" "--quick 5" "--only" "--only 09" \
    "--out" "--containers 1,,2" "--containers 2000" "--docs --quick" "--plot-data --only 01"; do
    # shellcheck disable=SC2086  # each word an argument
    run --separate-stderr "$SCRIPT" $args --out "$OUT"
    expect "exit status 2 for '$args'" "performance.md#performance-run" -- [ "$status" -eq 2 ]
    expect "one line, bench: ..., for '$args'" "performance.md#performance-run" -- \
      is_one_line_matching "$stderr" '^bench: .*usage: scripts/bench.sh'
    [ -z "$output" ]
  done
  # Negative control: --help is no error.
  run --separate-stderr "$SCRIPT" --help
  assert_success
  assert_output --partial "--plot-data"
  [ ! -e "$OUT" ]
  nothing_left
}

@test "without root: one line that says why, exit 77, nothing measured" {
  run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SCRIPT" --quick --out "$OUT"
  expect "exit status 77: root is needed" "performance.md#performance-errors" -- [ "$status" -eq 77 ]
  is_one_line_matching "$stderr" '^bench: cannot measure here: needs root '
  [ ! -e "$OUT" ]
  nothing_left
}

# serial: it times containers, which other tests beside it would slow
@test "one row, a few runs: the table with its ratios and targets, the Markdown, the data; nothing left" {
  start=$SECONDS
  run --separate-stderr bench --only 01,08l --runs 2 --out "$OUT"
  # 0: the targets met; 1: one missed. Both are a measurement.
  expect "exit status 0 or 1 (targets met or missed)" "performance.md#performance-run" -- [ "$status" -le 1 ]
  [ $((SECONDS - start)) -lt 50 ]
  assert_line --regexp '^machine: [0-9]{4}-[0-9]{2}-[0-9]{2}T'
  # Row 01: nslab, unshare and its ratio with a verdict, no bwrap, the floor and its ratio.
  assert_line --regexp '^01-uts +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+x +(pass|FAIL) +- +- +[0-9.]+ +[0-9.]+x +(pass|FAIL) +- +- +-$'
  # Row 08l: the same, and lab 04 with the difference and its verdict.
  assert_line --regexp '^08-cgroup limits +[0-9.]+ .* [0-9.]+ +[-+][0-9.]+ +(pass|FAIL)$'
  assert_line --regexp '^targets: (all met|missed: .*)$'
  # Under it, row 08l against the floor made in lab 08's shape, in the text and the Markdown.
  assert_line --regexp "^the floor with lab 08's shape "
  assert_line --regexp '^  08-cgroup limits +[0-9]+\.[0-9]{2} ms, the lab [0-9]+\.[0-9]{2}x of it$'
  grep -qE '^  08-cgroup limits +[0-9.]+ ms, the lab [0-9.]+x of it$' "$OUT/table.txt"
  grep -qE '^- 08-cgroup limits +[0-9.]+ ms, the lab [0-9.]+x of it$' "$OUT/table.md"
  if [ "$status" -eq 0 ]; then assert_line "targets: all met"; else assert_line --regexp '^targets: missed: '; fi
  assert_line --regexp '^host: no link, no address, no cgroup and no pid file of the runs is left'
  # The files: the same table, the Markdown, the data (label, medians, why bwrap has none).
  [ "$(sed -n '/^machine/,/^targets/p' "$OUT/table.txt")" = "$(sed -n '/^machine/,/^targets/p' <<< "$output")" ]
  grep -qE '^\| `01-uts` \| [0-9.]+ \| [0-9.]+ \| [0-9.]+x (pass|FAIL) \| - \(always makes a mount namespace' "$OUT/table.md"
  # ID|LABEL|lab sd unshare bwrap floor lab04|the processor times of lab unshare bwrap floor lab04|WHY
  grep -qE '^01\|01-uts(\|[0-9.]+){3}\|-\|[0-9.]+\|-(\|[0-9.]+){2}\|-\|[0-9.]+\|-\|always makes a mount namespace' "$OUT/rows.dat"
  grep -qE '^08l\|08-cgroup limits(\|[0-9.]+){3}\|-(\|[0-9.]+){4}\|-(\|[0-9.]+){2}\|makes no cgroup$' "$OUT/rows.dat"
  # The processor time's table, under the wall time's.
  assert_line --regexp '^processor time, ms '
  assert_line --regexp '^01-uts +[0-9.]+ +[0-9.]+ +[0-9.]+x +- +- +[0-9.]+ +[0-9.]+x$'
  nothing_left
}

@test "--docs: the plots drawn from the data there, nothing measured; with none, one line" {
  command -v gnuplot >/dev/null || skip "needs gnuplot for the plots (Debian: gnuplot-nox, Fedora: gnuplot)"
  mkdir -p "$OUT"
  # Data as a reader's --plot-data leaves it (written by hand here), with no
  # build around: the docs build must draw it, not measure.
  cat > "$OUT/namespaces.dat" <<'DATA'
# scripts/bench.sh --plot-data: start time against the number of namespace kinds
# machine: 2026-01-02T03:04Z Linux 6.1.0, a test CPU x2, load 0.00 0.00 0.00
1 uts 01-uts 1.5 1.4 1.6 1.8 1.7 1.9 1.0 0.9 1.1 1.2 1.4 0.8
2 ipc 02-ipc 1.6 1.5 1.7 1.9 1.8 2.0 1.1 1.0 1.2 1.3 1.5 0.9
8 time - - - - 3.0 2.9 3.1 2.0 1.9 2.1 - 2.5 1.5
DATA
  cat > "$OUT/growth.dat" <<'DATA'
# scripts/bench.sh --plot-data: set-up costs against the number of containers already running
# machine: 2026-01-02T03:04Z Linux 6.1.0, a test CPU x2, load 0.00 0.00 0.00
0 3.0 2.9 3.1 20.0 19 21 4.0 3.9 4.1 9.0 8.9 9.1 17.0 5.0
50 3.1 3.0 3.2 22.0 21 23 4.1 4.0 4.2 9.5 9.4 9.6 18.9 5.4
DATA
  NSLAB_BUILD_DIR=$BATS_TEST_TMPDIR/no-build run bench --docs --out "$OUT"
  assert_success
  assert_output "bench: drew bench-namespaces.svg bench-growth.svg in $OUT"
  for svg in bench-namespaces bench-growth; do
    python3 -c 'import sys, xml.etree.ElementTree as x; r = x.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith("svg") else 1)' "$OUT/$svg.svg"
    grep -q 'measured 2026-01-02' "$OUT/$svg.svg"
  done
  grep -q "the kernel's floor" "$OUT/bench-namespaces.svg"
  grep -q 'processor time' "$OUT/bench-namespaces.svg"
  grep -q 'veth (05-net --veth minus 05-net)' "$OUT/bench-growth.svg"
  # Up to date now: a second docs build leaves them alone.
  run bench --docs --out "$OUT"
  assert_output "bench: the docs show the plots of $OUT"

  # No data: the docs go on without the plots, and say how to make them.
  rm -rf "$OUT"
  run --separate-stderr bench --docs --out "$OUT"
  assert_success
  is_one_line_matching "$output" '^bench: no plot in the docs: no data in .*; run sudo scripts/bench.sh --plot-data, then build the docs again$'
  [ ! -e "$OUT" ]
  nothing_left
}

@test "Ctrl-C while lab 07's container is joined: exit 130, no output written, nothing left behind" {
  # Started with SIGINT at its default (a background job of a script ignores
  # it, and so would the script's trap): as from a terminal.
  (with_sigint SIG_DFL \
    env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$SCRIPT" --only 07e --runs 100000 --out "$OUT" > "$BATS_TEST_TMPDIR/log" 2>&1) 3>&- &
  BENCH_PID=$!
  # Under way: the container it joins is running (the negative control of
  # the checks below, which see it go).
  wait_for 25 pgrep -f -- '07-setns --init --pid-file .*/nslab-bench\..*/target.pid -- sleep infinity'
  kill -INT "$BENCH_PID"
  status=0
  wait_exit "$BENCH_PID" 20 || status=$?
  [ "$status" != 124 ] || { echo "still running 20 s after SIGINT; its output:" >&2; cat "$BATS_TEST_TMPDIR/log" >&2; false; }
  [ "$status" -eq 130 ] || { cat "$BATS_TEST_TMPDIR/log" >&2; false; }
  [ ! -e "$OUT" ]
  expect "the joined container is gone" "performance.md#performance-how" -- \
    [ -z "$(pgrep -f -- '07-setns --init --pid-file .*/nslab-bench\.' || true)" ]
  nothing_left
}
