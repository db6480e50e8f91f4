#!/usr/bin/env bats
# nsinfo: the /proc/PID/ns view of one or more processes, differences marked.

load nslab
NSLAB_LAB=01-uts

lab_setup() {
  NSINFO=$NSLAB_BUILD_DIR/bin/nsinfo
  SCRATCH=""
}

lab_teardown() {
  [ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
}

@test "nsinfo lists every entry of /proc/self/ns with its inode" {
  run "$NSINFO"
  assert_success
  assert_equal "$(sed -n 1p <<< "$output" | awk '{ print $1 }')" NAMESPACE
  expect "one row per entry of /proc/PID/ns, as ls sorts them" README.md -- \
    [ "$(tail -n +2 <<< "$output" | awk '{ print $1 }' | xargs echo)" = "$(ls /proc/self/ns | xargs echo)" ]
  uts_inode=$(stat -L -c %i /proc/self/ns/uts)
  expect "the uts row shows the inode of /proc/self/ns/uts" README.md -- grep -qE "^uts +$uts_inode *$" <<< "$output"
}

@test "nsinfo marks the uts namespace of a lab 01 container, and only it" {
  start_ct -- sleep 1
  wait_for 5 child_of "$CT_PID"
  inside=$(child_of "$CT_PID")
  run "$NSINFO" $$ "$inside"
  assert_success
  expect "uts differs: marked with *" README.md -- grep -qE '^uts .* \*$' <<< "$output"
  expect "nothing else is marked" README.md -- [ "$(grep -c ' \*$' <<< "$output")" -eq 1 ]
  finish_ct
}

@test "nsinfo: a bad PID is refused in one line" {
  run --separate-stderr "$NSINFO" not-a-pid
  assert_equal "$status" 2
  assert_equal "$stderr" 'nsinfo: not a process ID: "not-a-pid" (see --help)'
  run --separate-stderr "$NSINFO" 999999999
  assert_equal "$status" 1
  expect "the error names the path and errno" README.md -- grep -q 'No such file or directory' <<< "$stderr"
}

@test "nsinfo as another user: one line for each process it cannot read, the rest still shown" {
  # A copy another user can run, wherever the build directory is.
  SCRATCH=$(mktemp -d /tmp/nslab-nsinfo.XXXXXX)
  chmod 755 "$SCRATCH"
  cp "$NSINFO" "$SCRATCH/nsinfo"
  run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$SCRATCH/nsinfo" 1 $$ self
  assert_equal "$status" 1
  expect "one line per process that cannot be read, naming its PID and errno, not one per namespace" README.md -- \
    [ "$(wc -l <<< "$stderr")" -eq 2 ]
  assert_regex "$(sed -n 1p <<< "$stderr")" "^nsinfo: PID 1: readlink /proc/1/ns/[a-z_]+: Permission denied \(another user's process: run nsinfo as root to read it\)$"
  assert_regex "$(sed -n 2p <<< "$stderr")" "^nsinfo: PID $$: readlink /proc/$$/ns/[a-z_]+: Permission denied "
  # What can be read is shown: the caller's own column, '?' for the others.
  uts_inode=$(stat -L -c %i /proc/self/ns/uts)
  expect "the uts row: ? for PID 1 and PID $$, the inode for nsinfo itself" README.md -- \
    grep -qE "^uts +\? +\? +$uts_inode *$" <<< "$output"
}

# --- nsinfo --dot: the graph the tutorials' diagrams are drawn from ---------------

# dot_nodes FILE CLUSTER: the namespace nodes ("uts:[4026531838]") declared in
# CLUSTER of nsinfo --dot's output FILE, sorted.
dot_nodes() {
  awk -v c="  subgraph \"$2\" {" '
    $0 == c { inside = 1; next }
    inside && /^  }/ { inside = 0 }
    inside && match($0, /^    "[a-z_]+:\[[0-9]+\]"/) { print substr($0, RSTART + 5, RLENGTH - 6) }
  ' "$1" | sort
}

# dot_new FILE: the namespaces FILE draws as new (filled and bold), sorted.
dot_new() {
  sed -n 's/^    "\([a-z_]*:\[[0-9]*\]\)" .*penwidth=2.*/\1/p' "$1" | sort
}

# distinct_ns PID: PID's namespaces, each identity once, sorted.
distinct_ns() {
  local entry
  for entry in /proc/"$1"/ns/*; do readlink "$entry"; done | sort -u
}

# start_unshared ARGS...: `unshare ARGS sleep 30` in the background, its fd 3
# closed (Bats waits for it otherwise); sets BG_PID once sleep runs in the new
# namespaces (unshare execs it: one PID).
start_unshared() {
  (exec unshare "$@" sleep 30) 3>&- &
  BG_PID=$!
  wait_for 5 comm_is "$BG_PID" sleep
}

# comm_is PID NAME: PID's command name is NAME (for wait_for, which runs it again
# and again).
comm_is() {
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

@test "nsinfo --dot: two processes in the same namespaces share every node, and none is new" {
  SCRATCH=$(mktemp -d /tmp/nslab-nsinfo.XXXXXX)
  run --separate-stderr "$NSINFO" --dot $$ self
  assert_success
  printf '%s\n' "$output" > "$SCRATCH/same.dot"
  expect "one cluster, shared by both, holds every namespace of this shell, each identity once" README.md -- \
    [ "$(dot_nodes "$SCRATCH/same.dot" cluster_shared_1_2)" = "$(distinct_ns $$)" ]
  expect "no namespace is either process's alone" README.md -- \
    [ -z "$(dot_nodes "$SCRATCH/same.dot" cluster_p1)$(dot_nodes "$SCRATCH/same.dot" cluster_p2)" ]
  expect "no namespace is drawn as new" README.md -- [ -z "$(dot_new "$SCRATCH/same.dot")" ]
  expect "each process is labelled with its command name and PID" README.md -- \
    grep -qF "\"p1\" [label=\"$(cat /proc/$$/comm)\\nPID $$\\nNSpid $$\"" "$SCRATCH/same.dot"
  # The same processes, the same text: sorted, nothing from the moment.
  run --separate-stderr "$NSINFO" --dot $$ 1
  first=$output
  run --separate-stderr "$NSINFO" --dot $$ 1
  expect "the same processes give the same graph, byte for byte" README.md -- [ "$output" = "$first" ]
}

@test "nsinfo --dot: a process in a new UTS namespace: exactly its uts node is new, the rest shared" {
  SCRATCH=$(mktemp -d /tmp/nslab-nsinfo.XXXXXX)
  start_unshared --uts
  run --separate-stderr "$NSINFO" --dot $$ "$BG_PID"
  kill -KILL "$BG_PID"
  wait "$BG_PID" 2>/dev/null || true
  assert_success
  printf '%s\n' "$output" > "$SCRATCH/uts.dot"
  inside=$(grep -o '"uts:\[[0-9]*\]"' "$SCRATCH/uts.dot" | tr -d '"' | grep -vxF "$(ns_of $$ uts)" | head -n 1)
  expect "the new node is the container's uts namespace, and only it" README.md -- \
    [ "$(dot_new "$SCRATCH/uts.dot")" = "$inside" ]
  expect "it is in the second process's cluster" README.md -- [ "$(dot_nodes "$SCRATCH/uts.dot" cluster_p2)" = "$inside" ]
  expect "the host's uts namespace is the first's alone, and not drawn as new" README.md -- \
    [ "$(dot_nodes "$SCRATCH/uts.dot" cluster_p1)" = "$(ns_of $$ uts)" ]
  expect "every other namespace is shared (negative control: the same as this shell's)" README.md -- \
    [ "$(dot_nodes "$SCRATCH/uts.dot" cluster_shared_1_2)" = "$(distinct_ns $$ | grep -v '^uts:')" ]
}

@test "nsinfo --dot: a namespace a process is in only for its children is labelled so" {
  # unshare --pid without --fork: sh stays in this PID namespace; its children
  # are born in the new one (pid_for_children), the first as its PID 1.
  (exec unshare --pid sh -c 'sleep 30 & exec sleep 31') 3>&- &
  BG_PID=$!
  wait_for 5 eval 'comm_is "$BG_PID" sleep && CHILD=$(child_of "$BG_PID")'
  run --separate-stderr "$NSINFO" --dot $$ "$BG_PID"
  children=$(readlink "/proc/$BG_PID/ns/pid_for_children")
  # Its child first: the new namespace's PID 1, whose end ends the namespace.
  kill -KILL "$CHILD" "$BG_PID"
  wait "$BG_PID" 2>/dev/null || true
  assert_success
  expect "its node says through which entry, and whose" README.md -- \
    grep -qF "\"$children\" [label=\"$children\\npid_for_children of PID $BG_PID\"" <<< "$output"
  expect "the PID namespace it is in is the host's, shared, without a note (negative control)" README.md -- \
    grep -qF "\"$(ns_of $$ pid)\" [label=\"$(ns_of $$ pid)\"," <<< "$output"
}

@test "nsinfo --dot: a children's PID namespace with no process in it yet is left out, not an error" {
  start_unshared --pid
  run --separate-stderr "$NSINFO" --dot $$ "$BG_PID"
  readable=0
  readlink "/proc/$BG_PID/ns/pid_for_children" >/dev/null 2>&1 || readable=$?
  kill -KILL "$BG_PID"
  wait "$BG_PID" 2>/dev/null || true
  expect "the case under test: the kernel has no namespace to show yet (ENOENT)" README.md -- [ "$readable" != 0 ]
  assert_success
  expect "no error" README.md -- [ -z "$stderr" ]
  expect "its PID namespace is the host's, shared" README.md -- grep -qF "\"$(ns_of $$ pid)\" [label=" <<< "$output"
  expect "and nothing is new" README.md -- [ -z "$(grep 'penwidth=2' <<< "$output" | grep -v '^    "legend_new"')" ]
}

@test "nsinfo --dot: dot draws it, with a command name that holds a quote and a backslash" {
  command -v dot >/dev/null || skip "needs Graphviz's dot (Debian: graphviz)"
  SCRATCH=$(mktemp -d /tmp/nslab-nsinfo.XXXXXX)
  # The command name is the file's name: a copy of sleep called a"b\c.
  ln -s "$(command -v sleep)" "$SCRATCH/a\"b\\c"
  (exec unshare --uts "$SCRATCH/a\"b\\c" 30) 3>&- &
  BG_PID=$!
  wait_for 5 comm_is "$BG_PID" 'a"b\c'
  "$NSINFO" --dot $$ "$BG_PID" > "$SCRATCH/odd.dot"
  inside=$(ns_of "$BG_PID" uts)
  kill -KILL "$BG_PID"
  wait "$BG_PID" 2>/dev/null || true
  run --separate-stderr dot -Tsvg "$SCRATCH/odd.dot"
  assert_success
  expect "dot accepts the graph without a warning" README.md -- [ -z "$stderr" ]
  expect "an SVG drawing" README.md -- grep -q '<svg' <<< "$output"
  expect "the command name is shown as it is, quote and backslash included" README.md -- \
    grep -qF '>a&quot;b\c</text>' <<< "$output"
  expect "and the new uts node with its identity" README.md -- grep -qF ">$inside</text>" <<< "$output"
}

@test "nsinfo --dot: a PID that cannot be read: one line, exit 125 and no graph, and not a PID: exit 2 as without --dot" {
  run --separate-stderr "$NSINFO" --dot $$ 999999999
  assert_equal "$status" 125
  expect "nothing on standard output: half a graph would show sharing nobody saw" README.md -- [ -z "$output" ]
  expect "one line naming the PID, the path and errno" README.md -- \
    is_one_line_matching "$stderr" '^nsinfo: PID 999999999: readlink /proc/999999999/ns/[a-z_]+: No such file or directory \(no such process\)$'
  run --separate-stderr "$NSINFO" --dot not-a-pid
  assert_equal "$status" 2
  assert_equal "$stderr" 'nsinfo: not a process ID: "not-a-pid" (see --help)'
}

# --- the tutorials' diagrams (docs/diagrams.sh), against fresh runs ---------------

# fresh_new_kinds PROGRAM...: for each PROGRAM, one line "NAME KIND KIND...":
# the kinds of /proc/PID/ns in which a fresh container of it differs from the
# shell that started it, read with readlink, not nsinfo. The runs are made in
# scripts/sandbox.sh, as the docs build makes its own (the tools' tests run on
# the host itself).
fresh_new_kinds() {
  cat > "$SCRATCH/fresh.sh" <<'FRESH'
set -u
for program in "$@"; do
  (exec "$program" -- sleep 10) </dev/null >/dev/null 2>&1 &
  runtime=$! ct=""
  for _ in $(seq 500); do
    ct=$(cat "/proc/$runtime/task/$runtime/children" 2>/dev/null)
    ct=${ct%% *}
    [ -z "$ct" ] || [ "$(cat "/proc/$ct/comm" 2>/dev/null)" != sleep ] || break
    sleep 0.01
  done
  kinds=$(for entry in /proc/"$ct"/ns/*; do
    [ "$(readlink "$entry")" = "$(readlink "/proc/$$/ns/${entry##*/}")" ] || readlink "$entry" | cut -d: -f1
  done | sort -u | xargs echo)
  echo "${program##*/} $kinds"
  kill -KILL "$ct"
  wait "$runtime" || true
done
FRESH
  "$NSLAB_SOURCE_DIR/scripts/sandbox.sh" bash "$SCRATCH/fresh.sh" "$@" 3>&-
}

@test "docs/diagrams.sh: a picture per lab in each language, whose new namespaces are a fresh run's" {
  command -v dot >/dev/null || skip "needs Graphviz's dot (Debian: graphviz)"
  SCRATCH=$(mktemp -d /tmp/nslab-nsinfo.XXXXXX)
  run --separate-stderr bash "$NSLAB_SOURCE_DIR/docs/diagrams.sh" "$SCRATCH/out"
  assert_success
  expect "no lab fell back to a placeholder" README.md -- [ -z "$stderr" ]
  programs=()
  for program in "$NSLAB_BUILD_DIR"/bin/solutions/0[1-8]-*; do
    [[ ${program##*/} =~ ^0[1-8]-[a-z]+$ ]] && programs+=("$program")
  done
  fresh=$(fresh_new_kinds "${programs[@]}")
  drawn=0
  for program in "${programs[@]}"; do
    name=${program##*/}
    number=${name%%-*}
    for lang in en zh; do
      expect "lab $number: a drawing for $lang (the page shows it)" README.md -- \
        grep -q '<svg' "$SCRATCH/out/$lang/lab$number-namespaces.svg"
    done
    raw=$SCRATCH/out/dot/lab$number.nsinfo.dot
    expect "lab $number: the kinds drawn as new are those a fresh $name container has of its own" README.md -- \
      [ "$name $(dot_new "$raw" | cut -d: -f1 | sort -u | xargs echo)" = "$(grep "^$name " <<< "$fresh")" ]
    drawn=$((drawn + 1))
  done
  expect "every lab that is built was drawn" README.md -- [ "$drawn" -ge 4 ]
  # What each lab adds to the picture, from the same run.
  expect "lab 03 on: the container's process has its two PIDs, the last 1" README.md -- \
    grep -qE '"p2" \[label="sleep\\nPID [0-9]+ on the host\\nPID 1 in the container"\]' "$SCRATCH/out/dot/en/lab03-namespaces.dot"
  expect "lab 01: one PID (no PID namespace of its own: negative control)" README.md -- \
    grep -qE '"p2" \[label="sleep\\nPID [0-9]+"\]' "$SCRATCH/out/dot/en/lab01-namespaces.dot"
  if [ -x "$NSLAB_BUILD_DIR/bin/solutions/05-net" ]; then
    expect "lab 05: the veth's two ends, with the addresses given" README.md -- \
      grep -qE '"veth_host" \[label="[^"]+\\n10\.200\.1\.1/24"' "$SCRATCH/out/dot/en/lab05-namespaces.dot"
    expect "lab 05: eth0 in the container" README.md -- \
      grep -qF '"veth_container" [label="eth0\n10.200.1.2/24"' "$SCRATCH/out/dot/en/lab05-namespaces.dot"
  fi
  if [ -x "$NSLAB_BUILD_DIR/bin/solutions/08-cgroup" ]; then
    expect "lab 08: the cgroup tree with the limits given" README.md -- \
      grep -qF 'pids.max 8' "$SCRATCH/out/dot/en/lab08-namespaces.dot"
    expect "lab 08: what the container saw as its cgroup is /" README.md -- \
      grep -qF 'seen inside as \"/\":' "$SCRATCH/out/dot/en/lab08-namespaces.dot"
  fi
}
