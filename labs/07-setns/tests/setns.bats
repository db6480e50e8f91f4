#!/usr/bin/env bats
# Lab 07 — joining a running container with --enter PID, as root. The target
# is a container of this lab itself, started with --pid-file; the joined
# COMMAND must see what the container sees (hostname, IPC objects, processes,
# root filesystem, network, user ids), seen from inside and from the host,
# get its exit status relayed and its signals forwarded, and leave nothing
# behind. Then --pid-file, and every refusal. The unprivileged owner of a
# rootless container: rootless.bats; unshare(1), nsenter(1), lsns(8): interop.bats.

load ../../../common/bats/nslab
load join
NSLAB_LAB=07-setns
DOC=lab07-setns.md
NSLAB_ROOT_WHY="these lab 07 tests start root containers and join them, with id maps and a veth (rootless.bats runs without root)"

# The kinds a container of lab 07 has a namespace of its own of; it shares the cgroup namespace with the host.
NEW_KINDS="user uts ipc pid mnt net"
# COMMAND's own namespaces from inside, one "ENTRY LINK" line per entry of /proc/self/ns.

lab_setup() {
  T=$BATS_TEST_TMPDIR
  PID_FILE=$T/target.pid
  TARGET="" JOIN_PID="" HOST_QUEUE=""
  # For a container that waits for the test: it returns once $T/go exists (at
  # most 10 s later, so that a failed test cannot leave it waiting).
  AWAIT_GO="n=0; until [ -e '$T/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  remember_host_net
}

lab_teardown() {
  exec 8<&- 2>/dev/null || true
  end_started "${JOIN_PID:-}" "${SERVER_PID:-}"
  [ -z "$HOST_QUEUE" ] || ipcrm -q "$HOST_QUEUE" 2>/dev/null || true
}

# --- helpers ------------------------------------------------------------------

has_two_threads() {
  [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -ge 2 ]
}

# The numeric entries of a listing of /proc, on one line.
pids_in() {
  grep -E '^[0-9]+$' <<< "$1" | xargs
}

# expect_only_target_left SECTION: no process of this test's runs is left but
# the target's runtime and first process (a refused join leaves nothing).
expect_only_target_left() {
  local left
  left=$(nslab_guarded_processes | grep -vxF -e "${CT_PID:-none}" -e "${TARGET:-none}" | xargs || true)
  [ -z "$left" ] || explain "no process left by a refused run but the target's ($CT_PID, $TARGET); left: $left" "$1"
}

# --- the issue's "done when" --------------------------------------------------

@test "done when: --enter the PID of --pid-file prints box, a PID above 1 and only the container's processes" {
  start_target --hostname box -- sleep 100
  run --separate-stderr ct_enter "$TARGET" -- sh -c 'hostname; echo $$; ls /proc'
  assert_success
  expect "the container's hostname, box" lab01-uts.md#lab01-sethostname -- [ "${lines[0]}" = box ]
  joined=${lines[1]}
  expect "a PID of the container's PID namespace, above 1 (PID 1 is the container's first process)" "$DOC#lab07-fork" -- \
    [ "$joined" -gt 1 ]
  listed=$(pids_in "$(printf '%s\n' "${lines[@]:2}")")
  expect "/proc lists the joined shell itself, $joined (got: $listed)" "$DOC#lab07-fork" -- grep -qw "$joined" <<< "$listed"
  expect "and the container's first process, 1" "$DOC#lab07-fork" -- grep -qw 1 <<< "$listed"
  expect "and nothing else but ls: the container's processes only (got: $listed)" lab04-mount.md#lab04-proc -- \
    [ "$(wc -w <<< "$listed")" -le 3 ]
  expect "nothing on stderr" "$DOC" -- [ -z "$stderr" ]
  run ct_enter "$TARGET" -- sh -c 'tr "\0" " " < /proc/1/cmdline'
  expect "the joined COMMAND's PID 1 is the container's sleep, not the host's init" "$DOC#lab07-fork" -- \
    [ "$output" = "sleep 100 " ]
  # The negative control: the same COMMAND, not joined.
  run sh -c 'hostname; echo $$; ls /proc'
  expect "on the host, the same COMMAND sees the host's hostname (negative control)" lab01-uts.md -- [ "${lines[0]}" = "$HOST_HOSTNAME" ]
  expect "and the host's processes, many more" lab04-mount.md#lab04-proc -- [ "$(pids_in "$output" | wc -w)" -gt 3 ]
  expect "the host keeps its hostname" lab01-uts.md#lab01-flag -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
  stop_target
}

# --- what the joined COMMAND sees ----------------------------------------------

@test "the joined COMMAND is in every namespace of the target, seen from inside and from the host" {
  start_target --hostname box -- sleep 100
  join_everywhere 1234.2
  command=$JOINED
  joining=$(child_of "$JOIN_PID")
  # The joining process, COMMAND's parent, is in the container but for its own PID.
  for kind in user uts ipc mnt net; do
    expect "the joining process ($joining) is in the target's $kind namespace" "$DOC#lab07-order" -- \
      [ "$(ns_of "$joining" "$kind")" = "$(ns_of "$TARGET" "$kind")" ]
  done
  expect "the joining process keeps the host's PID namespace: setns(CLONE_NEWPID) moves children only" "$DOC#lab07-fork" -- \
    [ "$(ns_of "$joining" pid)" = "$(ns_of $$ pid)" ]
  expect "but its children are born in the target's (pid_for_children)" "$DOC#lab07-fork" -- \
    [ "$(ns_of "$joining" pid_for_children)" = "$(ns_of "$TARGET" pid)" ]
  kill -TERM "$JOIN_PID"
  finish_join
  expect "SIGTERM forwarded to the joined sleep ends it: 128+15" "$DOC#lab07-fork" -- [ "$status" -eq 143 ]
  stop_target
}

@test "the joined COMMAND sees the container's IPC objects, and not the host's" {
  out=$(ipcmk -Q)
  HOST_QUEUE=${out##* }
  host_key=$(ipcs -q | awk -v id="$HOST_QUEUE" '$2 == id { print $1 }')
  start_target -- sh -c 'ipcmk -Q && exec sleep 100'
  container_queue=$(sed -n 's/^Message queue id: //p' "$CT_OUT")
  expect "the container made a queue (got: $(cat "$CT_OUT"))" lab02-ipc.md -- [ -n "$container_queue" ]
  run ct_enter "$TARGET" -- sh -c 'ipcs -q | awk "/^0x/ { print \$1, \$2 }"'
  assert_success
  expect "the joined COMMAND lists one queue, the container's (id $container_queue)" "$DOC#lab07-open" -- \
    [ "${#lines[@]}" -eq 1 -a "$(cut -d' ' -f2 <<< "${lines[0]}")" = "$container_queue" ]
  container_key=$(cut -d' ' -f1 <<< "${lines[0]}")
  expect "not the host's queue $HOST_QUEUE ($host_key)" lab02-ipc.md#lab02-flag -- [ "$container_key" != "$host_key" ]
  expect "the host does not list the container's queue (negative control)" lab02-ipc.md#lab02-flag -- \
    [ -z "$(ipcs -q | awk -v key="$container_key" '$1 == key')" ]
  stop_target
}

@test "the joined COMMAND has the container's root filesystem and working directory" {
  rootfs=$(nslab_rootfs)
  start_target --rootfs "$rootfs" -- sh -c 'mkdir -p /tmp/lab07-work && cd /tmp/lab07-work && echo made-inside > here && exec sleep 100'
  run ct_enter "$TARGET" -- sh -c "cat /etc/issue; pwd; cat here; ls / | xargs; [ -e '$NSLAB_PROGRAM' ] && echo host-tree || echo no-host-tree"
  assert_success
  expect "/etc/issue of the root filesystem" "$DOC#lab07-root" -- grep -q '^nslab root filesystem' <<< "${lines[0]}"
  expect "the target's working directory, /tmp/lab07-work (fchdir to /proc/PID/cwd)" "$DOC#lab07-root" -- [ "${lines[1]}" = /tmp/lab07-work ]
  expect "the file the container made there, in its own /tmp" "$DOC#lab07-root" -- [ "${lines[2]}" = made-inside ]
  expect "/ holds the root filesystem's directories only" "$DOC#lab07-root" -- [ "${lines[3]}" = "$(ls "$rootfs" | xargs)" ]
  expect "nothing of the host's tree: $NSLAB_PROGRAM is not there" "$DOC#lab07-root" -- [ "${lines[4]}" = no-host-tree ]
  expect "on the host, /etc/issue is the host's (negative control)" "$DOC" -- lacks "$(cat /etc/issue)" '^nslab root filesystem'
  expect "and the container's file is not in the host's /tmp" "$DOC" -- [ ! -e /tmp/lab07-work/here ]
  stop_target
  # Without --rootfs: the host's tree, but the target's working directory still.
  mkdir "$T/workdir"
  start_target -- sh -c "cd '$T/workdir' && exec sleep 100"
  run ct_enter "$TARGET" -- pwd
  assert_success
  expect "the target's working directory, $T/workdir, not the caller's ($PWD)" "$DOC#lab07-root" -- [ "$output" = "$T/workdir" ]
  stop_target
}

@test "the joined COMMAND of a --rootfs container gets a clean environment; without --rootfs, the caller's" {
  start_target --rootfs "$(nslab_rootfs)" -- sleep 100
  run env LAB07_SECRET=from-the-host "$NSLAB_PROGRAM" --enter "$TARGET" -- env
  assert_success
  expect "no variable of the caller's reaches it: LAB07_SECRET stays outside" "$DOC#lab07-run-rootfs" -- \
    lacks "$output" '^LAB07_SECRET='
  expect "PATH is the container's, the one lab 04 gives" lab04-mount.md#lab04-env -- \
    [ "$(grep '^PATH=' <<< "$output")" = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ]
  expect "HOME is /root" lab04-mount.md#lab04-env -- grep -qx 'HOME=/root' <<< "$output"
  stop_target
  start_target -- sleep 100
  run env LAB07_SECRET=from-the-host "$NSLAB_PROGRAM" --enter "$TARGET" -- env
  assert_success
  expect "a container without a root filesystem of its own keeps the caller's environment (negative control)" \
    "$DOC#lab07-run-rootfs" -- grep -qx 'LAB07_SECRET=from-the-host' <<< "$output"
  stop_target
}

@test "the joined COMMAND has the container's network: lo alone, and the host's 127.0.0.1 is out of reach" {
  start_target -- sleep 100
  run ct_enter "$TARGET" -- ip -o link
  assert_success
  expect "one link, lo, UP" lab05-net.md#lab05-lo -- [ "${#lines[@]}" -eq 1 ]
  expect "that link is lo, UP" lab05-net.md#lab05-lo -- grep -qE '^1: lo: <[A-Z_,]*\bUP\b' <<< "$output"
  SERVER_OUT=$T/server.out
  (exec "$NSLAB_TCP_PROBE" serve 127.0.0.1 47071 from-host) > "$SERVER_OUT" 2>&1 3>&- &
  SERVER_PID=$!
  wait_for 5 grep -qx listening "$SERVER_OUT"
  run --separate-stderr ct_enter "$TARGET" -- "$NSLAB_TCP_PROBE" connect 127.0.0.1 47071 from-joined
  expect "inside, 127.0.0.1 is the container's lo: the connection is refused" "$DOC#lab07-open" -- grep -q 'Connection refused' <<< "$stderr"
  run "$NSLAB_TCP_PROBE" connect 127.0.0.1 47071 from-the-host
  expect "on the host, the same address and port answer (negative control)" lab05-net.md#lab05-flag -- [ "$output" = from-host ]
  wait "$SERVER_PID"
  stop_target
}

@test "the joined COMMAND has the container's network: eth0 of a --veth container, which reaches the host end" {
  start_target --veth 10.200.83.1/24,10.200.83.2/24 -- sleep 100
  host_end=$(host_end_of "$TARGET")
  run ct_enter "$TARGET" -- sh -c 'ip -o link; echo "## addr"; ip -o -4 addr show dev eth0'
  assert_success
  links=$(sed -n '1,/^## addr/p' <<< "$output" | grep -v '^##' | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | xargs)
  expect "two links inside, lo and eth0 (got: $links)" "$DOC#lab07-open" -- [ "$links" = "lo eth0" ]
  expect "eth0 has the container's address, 10.200.83.2/24" lab05-net.md#lab05-veth -- grep -q 'inet 10.200.83.2/24' <<< "$output"
  expect "the host end $host_end has 10.200.83.1/24 (from the host)" lab05-net.md#lab05-veth -- \
    sh -c "ip -o -4 addr show dev '$host_end' | grep -q 10.200.83.1/24"
  expect "the host has no address 10.200.83.2 (negative control)" lab05-net.md#lab05-veth -- lacks "$(host_addrs)" ' 10\.200\.83\.2/'
  SERVER_OUT=$T/server.out
  (exec "$NSLAB_TCP_PROBE" serve 10.200.83.1 47072 from-host) > "$SERVER_OUT" 2>&1 3>&- &
  SERVER_PID=$!
  wait_for 5 grep -qx listening "$SERVER_OUT"
  run ct_enter "$TARGET" -- "$NSLAB_TCP_PROBE" connect 10.200.83.1 47072 from-joined
  expect "the joined COMMAND reached the host end over eth0 and got its line" "$DOC#lab07-open" -- [ "$output" = from-host ]
  wait "$SERVER_PID"
  expect "the host's server got the joined COMMAND's line" lab05-net.md#lab05-veth -- [ "$(tail -1 "$SERVER_OUT")" = from-joined ]
  stop_target
  expect_host_net_unchanged lab05-net.md#lab05-teardown
}

@test "the joined COMMAND has the container's user ids: root inside, the map's uid outside" {
  cd /  # uid 100000 outside: the caller's directory must not matter
  start_target --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- sleep 100
  start_join "$TARGET" -- sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; exec sleep 1234.3'
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 only_process 'sleep 1234\.3'
  command=$(only_process 'sleep 1234\.3')
  inside=$(awk 'NF == 3 { print $1, $2, $3; next } { print }' "$JOIN_OUT" | paste -sd,)
  expect "inside: uid 0, gid 0, and the target's maps (got: $inside)" "$DOC#lab07-order" -- \
    [ "$inside" = "0,0,$(awk '{ print $1, $2, $3 }' "/proc/$TARGET/uid_map"),$(awk '{ print $1, $2, $3 }' "/proc/$TARGET/gid_map")" ]
  expect "that is 0 100000 65536" lab06-user.md#lab06-maps -- grep -q '^0,0,0 100000 65536,0 100000 65536$' <<< "$inside"
  expect "from the host, the joined COMMAND runs as uid 100000" "$DOC#lab07-order" -- \
    grep -qE '^Uid:\s+100000\s+100000\s+100000\s+100000$' "/proc/$command/status"
  expect "and gid 100000" "$DOC#lab07-order" -- grep -qE '^Gid:\s+100000\s+100000\s+100000\s+100000$' "/proc/$command/status"
  joining=$(child_of "$JOIN_PID")
  expect "the joining process is uid 100000 too" "$DOC#lab07-order" -- grep -qE '^Uid:\s+100000\s' "/proc/$joining/status"
  expect "but not dumpable: the files of /proc/$joining belong to root, while COMMAND's belong to 100000" "$DOC#lab07-dumpable" -- \
    [ "$(stat -c %u "/proc/$joining/status").$(stat -c %u "/proc/$command/status")" = 0.100000 ]
  expect "the host's own uid_map maps every id (negative control)" lab06-user.md#lab06-maps -- \
    [ "$(awk '{ print $1, $2, $3 }' /proc/self/uid_map)" = "0 0 4294967295" ]
  kill -TERM "$JOIN_PID"
  finish_join
  assert_equal "$status" 143
  stop_target
}

# --- COMMAND's life: exit status, signals, file descriptors, death ------------

@test "COMMAND's exit status is relayed: its own, 128+N for a signal, 126 and 127" {
  start_target -- sleep 100
  run ct_enter "$TARGET" -- true
  expect "true: 0 (positive control)" "$DOC#lab07-fork" -- [ "$status" -eq 0 ]
  run ct_enter "$TARGET" -- sh -c 'exit 7'
  expect "exit 7: 7" "$DOC#lab07-fork" -- [ "$status" -eq 7 ]
  run ct_enter "$TARGET" -- sh -c 'kill -TERM $$'
  expect "killed by SIGTERM: 128+15" "$DOC#lab07-fork" -- [ "$status" -eq 143 ]
  run ct_enter "$TARGET" -- sh -c 'kill -KILL $$'
  expect "killed by SIGKILL: 128+9" "$DOC#lab07-fork" -- [ "$status" -eq 137 ]
  # COMMAND not found: 127 (run -127 checks it).
  run -127 --separate-stderr ct_enter "$TARGET" -- /no/such/command
  assert_equal "$stderr" '07-setns: exec "/no/such/command": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)'
  printf '#!/bin/sh\necho ran\n' > "$T/not-executable"
  chmod 644 "$T/not-executable"
  run --separate-stderr ct_enter "$TARGET" -- "$T/not-executable"
  expect "COMMAND found but not executable: 126" "$DOC#lab07-fork" -- [ "$status" -eq 126 ]
  expect "one line that says why" "$DOC#lab07-fork" -- is_one_line_matching "$stderr" '^07-setns: exec .*Permission denied'
  expect "the container keeps running" "$DOC" -- runs_sleep "$TARGET"
  stop_target
}

@test "signals to the joining runtime reach COMMAND: SIGUSR1, then SIGTERM" {
  start_target -- sleep 100
  start_join "$TARGET" -- sh -c "trap 'echo got-USR1' USR1; trap 'echo got-TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done"
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 grep -qx ready "$JOIN_OUT"
  kill -USR1 "$JOIN_PID"
  expect "SIGUSR1 reaches COMMAND, which goes on" "$DOC#lab07-fork" -- wait_for 5 grep -qx got-USR1 "$JOIN_OUT"
  kill -TERM "$JOIN_PID"
  finish_join 5
  expect "SIGTERM reaches COMMAND: its trap exits 42, the runtime's status" "$DOC#lab07-fork" -- [ "$status" -eq 42 ]
  expect "its output, in order" "$DOC#lab07-fork" -- [ "$(echo $output)" = "ready got-USR1 got-TERM" ]
  expect "the container keeps running" "$DOC" -- runs_sleep "$TARGET"
  stop_target
}

@test "COMMAND gets file descriptors 0, 1 and 2 only: no namespace fd, nothing the caller left open" {
  start_target -- sleep 100
  exec 8< /
  start_join "$TARGET" -- sleep 1234.6
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 only_process 'sleep 1234\.6'
  command=$(only_process 'sleep 1234\.6')
  expect "the joining runtime got the caller's fd 8 (negative control)" "$DOC" -- [ -e "/proc/$JOIN_PID/fd/8" ]
  expect "from the host, COMMAND has 0, 1 and 2, nothing else (got: $(ls "/proc/$command/fd" | xargs))" "$DOC#lab07-open" -- \
    [ "$(ls "/proc/$command/fd" | xargs)" = "0 1 2" ]
  exec 8<&-
  kill -TERM "$JOIN_PID"
  finish_join
  assert_equal "$status" 143
  stop_target
}

@test "SIGKILL of the joining runtime: the joined COMMAND dies with it, and the container keeps running" {
  start_target --hostname box -- sleep 100
  start_join "$TARGET" -- sleep 1234.5
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 only_process 'sleep 1234\.5'
  command=$(only_process 'sleep 1234\.5')
  joining=$(child_of "$JOIN_PID")
  expect "COMMAND is the joining process's child" "$DOC#lab07-fork" -- grep -qE "^PPid:\s+$joining\$" "/proc/$command/status"
  kill -KILL "$JOIN_PID"
  wait "$JOIN_PID" 2>/dev/null || true
  JOIN_PID=""
  expect "COMMAND dies with the joining process, which dies with the runtime (PR_SET_PDEATHSIG)" "$DOC#lab07-fork" -- \
    wait_for 3 no_process 'sleep 1234\.5'
  expect "the joining process ($joining) is gone" "$DOC#lab07-fork" -- wait_for 3 nslab_not_running "$joining"
  expect "the container keeps running" "$DOC" -- runs_sleep "$TARGET"
  expect "and its runtime" "$DOC" -- kill -0 "$CT_PID"
  run ct_enter "$TARGET" -- hostname
  expect "and can be joined again" "$DOC" -- [ "$status.$output" = 0.box ]
  expect_only_target_left "$DOC#lab07-fork"
  stop_target
}

@test "SIGKILL of the joining process: COMMAND dies with it, the runtime returns 128+9" {
  start_target -- sleep 100
  start_join "$TARGET" -- sleep 1234.4
  expect "the joined COMMAND runs" "$DOC#lab07-fork" -- wait_for 5 only_process 'sleep 1234\.4'
  joining=$(child_of "$JOIN_PID")
  kill -KILL "$joining"
  finish_join 5
  expect "the runtime returns 128+9" "$DOC#lab07-fork" -- [ "$status" -eq 137 ]
  expect "COMMAND is gone with the joining process" "$DOC#lab07-fork" -- wait_for 3 no_process 'sleep 1234\.4'
  expect "the container keeps running" "$DOC" -- runs_sleep "$TARGET"
  stop_target
}

# --- --verbose ------------------------------------------------------------------

@test "--verbose tells each namespace opened, each setns(2), and identities before and after equal to the target's" {
  start_target --hostname box -- sleep 100
  run --separate-stderr ct_enter "$TARGET" -v -- sh -c 'echo $$'
  assert_success
  declare -A flag=([user]=CLONE_NEWUSER [uts]=CLONE_NEWUTS [ipc]=CLONE_NEWIPC [pid]=CLONE_NEWPID [mnt]=CLONE_NEWNS [net]=CLONE_NEWNET)
  first_setns=$(grep -n 'setns(' <<< "$stderr" | head -1 | cut -d: -f1)
  for kind in $NEW_KINDS; do
    theirs=$(ns_of "$TARGET" "$kind") ours=$(ns_of $$ "$kind")
    opened=$(grep -nF "opened /proc/$TARGET/ns/$kind: $theirs, ours $ours" <<< "$stderr" | cut -d: -f1)
    expect "a line: opened /proc/$TARGET/ns/$kind: $theirs, ours $ours" "$DOC#lab07-open" -- [ -n "$opened" ]
    expect "/proc/$TARGET/ns/$kind opened (line $opened) before any setns (line $first_setns)" "$DOC#lab07-open" -- \
      [ "$opened" -lt "$first_setns" ]
    expect "a line: setns(/proc/$TARGET/ns/$kind, ${flag[$kind]})" "$DOC#lab07-order" -- \
      grep -qE "\] setns\(/proc/$TARGET/ns/$kind, ${flag[$kind]}\)\$" <<< "$stderr"
    entry=$kind
    [ "$kind" != pid ] || entry=pid_for_children
    expect "after joining: $entry: $ours -> $theirs (process $TARGET's)" "$DOC#lab07-open" -- \
      grep -qF "  $entry: $ours -> $theirs (process $TARGET's)" <<< "$stderr"
  done
  user=$(grep -n "setns(/proc/$TARGET/ns/user," <<< "$stderr" | cut -d: -f1)
  for kind in uts ipc pid mnt net; do
    line=$(grep -n "setns(/proc/$TARGET/ns/$kind," <<< "$stderr" | cut -d: -f1)
    expect "as root, the user namespace last (line $user), after $kind (line $line): root keeps its power until then" "$DOC#lab07-order" -- \
      [ "$line" -lt "$user" ]
  done
  expect "as root, no setns is refused" "$DOC#lab07-order" -- lacks "$stderr" EPERM
  expect "no namespace ends up other than the target's" "$DOC#lab07-open" -- lacks "$stderr" "NOT process"
  expect "the cgroup namespace, the host's in both, is not opened (negative control)" "$DOC#lab07-open" -- \
    lacks "$stderr" "opened /proc/$TARGET/ns/cgroup"
  expect "COMMAND's getpid() is the PID it prints, $output, in the container's numbering" "$DOC#lab07-fork" -- \
    grep -qE "getpid\(\) = $output\$" <<< "$stderr"
  run --separate-stderr ct_enter "$TARGET" -- echo hello
  assert_success
  assert_output hello
  expect "without --verbose, nothing on stderr" "$DOC" -- [ -z "$stderr" ]
  stop_target
}

# --- --pid-file -----------------------------------------------------------------

@test "--pid-file: the first process's host PID, written whole once COMMAND runs, removed when it ends" {
  mkdir "$T/run"
  start_ct --pid-file "$T/run/ct.pid" -- sh -c "touch '$T/running'; $AWAIT_GO"
  expect "the pid file appears once COMMAND runs" "$DOC#lab07-pidfile" -- wait_for 5 test -s "$T/run/ct.pid"
  wait_for 5 test -e "$T/running"
  first=$(child_of "$CT_PID")
  expect "it holds one line: $first, the container's first process as the host numbers it" "$DOC#lab07-pidfile" -- \
    [ "$(cat "$T/run/ct.pid")" = "$first" -a "$(wc -l < "$T/run/ct.pid")" -eq 1 ]
  expect "that process is in the container: its uts namespace is not the host's" "$DOC#lab07-pidfile" -- \
    [ "$(ns_of "$first" uts)" != "$(ns_of $$ uts)" ]
  expect "a regular file, and nothing else in its directory: the temporary file was renamed" "$DOC#lab07-pidfile" -- \
    [ -f "$T/run/ct.pid" -a ! -L "$T/run/ct.pid" -a "$(ls -A "$T/run")" = ct.pid ]
  touch "$T/go"
  finish_ct
  assert_success
  expect "gone once the container ends, and nothing else left in its directory" "$DOC#lab07-pidfile" -- [ -z "$(ls -A "$T/run")" ]
}

@test "--pid-file: a symlink at its path is replaced, its target untouched" {
  echo keep > "$T/victim"
  ln -s "$T/victim" "$T/ct.pid"
  ln -s "$T/nowhere" "$T/dangling.pid"
  start_ct --pid-file "$T/ct.pid" -- sh -c "touch '$T/running'; $AWAIT_GO"
  wait_for 5 test -e "$T/running"
  expect "the symlink was replaced by the pid file itself" "$DOC#lab07-pidfile" -- \
    wait_for 5 sh -c "[ -f '$T/ct.pid' ] && [ ! -L '$T/ct.pid' ]"
  assert_equal "$(cat "$T/ct.pid")" "$(child_of "$CT_PID")"
  expect "the symlink's target is untouched" "$DOC#lab07-pidfile" -- [ "$(cat "$T/victim")" = keep ]
  touch "$T/go"
  finish_ct
  assert_success
  expect "the pid file is gone" "$DOC#lab07-pidfile" -- [ ! -e "$T/ct.pid" -a ! -L "$T/ct.pid" ]
  expect "its former symlink's target is still there, untouched" "$DOC#lab07-pidfile" -- [ "$(cat "$T/victim")" = keep ]
  run ct --pid-file "$T/dangling.pid" -- true
  assert_success
  expect "a dangling symlink is not followed: $T/nowhere was never made" "$DOC#lab07-pidfile" -- [ ! -e "$T/nowhere" ]
}

@test "--pid-file: a file put in its place while the container runs is not removed" {
  start_ct --pid-file "$T/ct.pid" -- sh -c "touch '$T/running'; $AWAIT_GO"
  wait_for 5 test -s "$T/ct.pid"
  wait_for 5 test -e "$T/running"
  echo another-run > "$T/other.pid"
  mv "$T/other.pid" "$T/ct.pid"
  touch "$T/go"
  finish_ct
  assert_success
  expect "only the file the runtime wrote is removed: another's is left" "$DOC#lab07-pidfile" -- [ "$(cat "$T/ct.pid")" = another-run ]
}

@test "--pid-file: no file after a failed start, nor after COMMAND is not found" {
  run --separate-stderr ct --pid-file "$T/ct.pid" --rootfs "$T/no-such-rootfs" -- touch "$T/ran"
  expect "a bad --rootfs: exit status 125" lab04-mount.md -- [ "$status" -eq 125 ]
  expect "one line" lab04-mount.md -- is_one_line_matching "$stderr" '^07-setns: '
  expect "no pid file" "$DOC#lab07-pidfile" -- [ ! -e "$T/ct.pid" ]
  run -127 --separate-stderr ct --pid-file "$T/ct.pid" -- /no/such/command
  expect "no pid file left" "$DOC#lab07-pidfile" -- [ ! -e "$T/ct.pid" ]
  expect "nothing else in its directory either" "$DOC#lab07-pidfile" -- [ -z "$(ls -A "$T" | grep pid)" ]
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
}

@test "--pid-file refused before anything exists: a missing directory, a directory, an empty name" {
  for value in "$T/missing/ct.pid" "$T" ""; do
    run --separate-stderr ct --pid-file "$value" -- touch "$T/ran"
    expect "--pid-file '$value': exit status 125" "$DOC#lab07-pidfile" -- [ "$status" -eq 125 ]
    expect "one line that names --pid-file ('$value')" "$DOC#lab07-pidfile" -- is_one_line_matching "$stderr" '^07-setns: --pid-file'
  done
  run --separate-stderr ct --pid-file "$T/missing/ct.pid" -- true
  expect "a missing directory is named" "$DOC#lab07-pidfile" -- \
    [ "$stderr" = "07-setns: --pid-file \"$T/missing/ct.pid\": cannot create a file in \"$T/missing\": No such file or directory" ]
  run --separate-stderr ct --pid-file "$T" -- true
  assert_equal "$stderr" "07-setns: --pid-file \"$T\": is a directory"
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
  expect "nothing was made" "$DOC#lab07-pidfile" -- [ ! -e "$T/missing" ]
}

# --- refusals: exit 125, one line, nothing created ------------------------------

@test "bad --enter values: one line, exit 125, nothing created" {
  for value in abc 0 -1 +5 " 5" "5 " "" 4194305 99999999999999999999 0x10 1e3; do
    run --separate-stderr ct_enter "$value" -- touch "$T/ran"
    expect "--enter '$value' is refused with exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
    expect "one line for '$value'" "$DOC#lab07-errors" -- \
      [ "$stderr" = "07-setns: --enter \"$value\": expected a process ID, a number from 1 to 4194304" ]
  done
  run --separate-stderr "$NSLAB_PROGRAM" --enter
  assert_equal "$status" 125
  assert_equal "$stderr" "07-setns: --enter needs a value (PID)"
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
  expect "no process left" "$DOC" -- nslab_no_guarded_processes
}

@test "--enter of a process that does not exist, or of a zombie: one line, exit 125" {
  true &
  dead=$!
  wait "$dead"
  expect "process $dead has ended (the test's own)" "$DOC" -- [ ! -e "/proc/$dead" ]
  run --separate-stderr ct_enter "$dead" -- touch "$T/ran"
  expect "exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "07-setns: --enter $dead: there is no process $dead (see docs/{en,zh}/troubleshooting.md#ts-enter-ESRCH)"
  # A zombie inside a container: its first process, sleep, never reaps it.
  start_target -- sh -c 'true & exec sleep 100'
  expect "the container holds a zombie" "$DOC" -- \
    wait_for 5 sh -c "for c in \$(cat /proc/$TARGET/task/*/children); do grep -q '^State:.Z' /proc/\$c/status && exit 0; done; exit 1"
  zombie=$(child_of "$TARGET")
  run --separate-stderr ct_enter "$zombie" -- touch "$T/ran"
  expect "a zombie: exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "one line that says it has exited" "$DOC#lab07-errors" -- \
    [ "$stderr" = "07-setns: --enter $zombie: process $zombie has exited (a zombie its parent has not reaped): nothing left to join (see docs/{en,zh}/troubleshooting.md#ts-enter-ESRCH)" ]
  run ct_enter "$TARGET" -- true
  expect "the container's live first process is joined (positive control)" "$DOC" -- [ "$status" -eq 0 ]
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
  expect_only_target_left "$DOC#lab07-errors"
  stop_target
}

@test "--enter of its own PID, or of a process in every namespace it is in: nothing to join" {
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" sh -c 'exec "$1" --enter $$ -- touch "$2"' sh "$NSLAB_PROGRAM" "$T/ran"
  expect "its own PID: exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "one line that says so" "$DOC#lab07-errors" -- \
    is_one_line_matching "$stderr" '^07-setns: --enter [0-9]+: that is this process itself: nothing to join$'
  run --separate-stderr ct_enter $$ -- touch "$T/ran"
  expect "the test's shell, in the host's namespaces: exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "one line: nothing to join, and which PID to give" "$DOC#lab07-errors" -- \
    [ "$stderr" = "07-setns: --enter $$: process $$ is in every namespace this process is in: nothing to join (give the container's first process, the PID --pid-file writes)" ]
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
  expect "no process left" "$DOC" -- nslab_no_guarded_processes
}

@test "--enter with an option that creates something is refused, not ignored: one line, 125, the container unchanged" {
  start_target --hostname box -- sleep 100
  for option in "--hostname other" "--rootfs /" "--veth 10.200.84.1/24,10.200.84.2/24" "--uid-map 0:100000:1" \
    "--gid-map 0:100000:1" "--init" "--env NAME=value"; do
    name=${option%% *}
    run --separate-stderr ct_enter "$TARGET" $option -- touch "$T/ran"
    expect "--enter with $option: exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
    expect "one line that says $name cannot be used when joining" "$DOC#lab07-errors" -- \
      [ "$stderr" = "07-setns: $name cannot be used when joining a container: joining creates nothing" ]
    run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" $option --enter "$TARGET" -- touch "$T/ran"
    expect "$option before --enter: the same line" "$DOC#lab07-errors" -- \
      [ "$status.$stderr" = "125.07-setns: $name cannot be used when joining a container: joining creates nothing" ]
  done
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
  run nsenter --target "$TARGET" --uts hostname
  expect "the container's hostname is still box" "$DOC#lab07-errors" -- [ "$output" = box ]
  expect_host_net_unchanged "$DOC#lab07-errors"
  expect_only_target_left "$DOC#lab07-errors"
  stop_target
}

@test "--enter with --pid-file is refused: one line, 125, no pid file" {
  start_target -- sleep 100
  run --separate-stderr ct_enter "$TARGET" --pid-file "$T/joined.pid" -- touch "$T/ran"
  expect "exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "07-setns: --pid-file cannot be used with --enter: it names a container this program creates"
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --pid-file "$T/joined.pid" --enter "$TARGET" -- touch "$T/ran"
  expect "--pid-file first: the same" "$DOC#lab07-errors" -- \
    [ "$status.$stderr" = "125.07-setns: --pid-file cannot be used with --enter: it names a container this program creates" ]
  expect "no pid file" "$DOC#lab07-errors" -- [ ! -e "$T/joined.pid" ]
  expect "COMMAND never ran" "$DOC" -- [ ! -e "$T/ran" ]
  expect_only_target_left "$DOC#lab07-errors"
  stop_target
}

# --- without --enter, lab 07 is lab 06 --------------------------------------------

@test "without --enter, lab 07 is lab 06: every namespace new but cgroup, box, PID 1, root inside, lo" {
  run ct --hostname box -- sh -c 'hostname; echo $$; id -u; cat /proc/self/uid_map; ip -o link | wc -l'
  assert_success
  expect "box, PID 1, uid 0, the map 0 0 1 and one link" lab06-user.md -- \
    [ "$(echo ${lines[0]} ${lines[1]} ${lines[2]} ${lines[3]} ${lines[4]})" = "box 1 0 0 0 1 1" ]
  start_target --hostname box -- sleep 100
  expect_namespaces "$TARGET" lab06-user.md#lab06-flag "$NEW_KINDS" cgroup
  stop_target
}

# --- attacks --------------------------------------------------------------------

@test "a container cannot rewrite the joining program through #!/proc/self/exe (CVE-2019-5736)" {
  # The container's root is the host's root here (lab 06's default map for
  # root): it could write the program's file, if it could reach it.
  local rootfs=$T/rootfs lib before
  cp -a "$(nslab_rootfs)" "$rootfs"
  # Our program runs inside as the script's interpreter: its libraries must be there.
  for lib in $(ldd "$NSLAB_PROGRAM" 2>/dev/null | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs${lib%/*}"
    rm -f "$rootfs$lib"
    cp -L "$lib" "$rootfs$lib"
  done
  cp "$NSLAB_PROGRAM" "$T/victim"
  before=$(sha256sum < "$T/victim")
  printf '#!/proc/self/exe /bin/linger\n' > "$rootfs/probe"
  rm -f "$rootfs/bin/linger"
  printf '#!/bin/busybox sh\nsleep 2\n' > "$rootfs/bin/linger"
  chmod 755 "$rootfs/probe" "$rootfs/bin/linger"
  # The container waits for a process that runs the victim, keeps its exe,
  # then tries to write it until the join is over.
  start_ct --rootfs "$rootfs" --pid-file "$PID_FILE" -- /bin/busybox sh -c '
    end=$(( $(date +%s) + 8 ))
    while [ $(date +%s) -lt $end ]; do for p in /proc/[0-9]*; do
      case $(readlink $p/exe 2>/dev/null) in *victim*|*memfd*) exec 3<$p/exe; break 2;; esac; done; done
    [ -e /proc/self/fd/3 ] || { echo NOT-SEEN; exit 0; }
    echo "HELD $(readlink /proc/self/fd/3)"
    while [ $(date +%s) -lt $end ]; do echo PWNED 2>/dev/null >> /proc/self/fd/3 && { echo WROTE; exit 0; }; sleep 0.1; done
    echo HELD-BUT-NOT-WRITTEN'
  wait_for 5 test -s "$PID_FILE"
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$T/victim" --enter "$(cat "$PID_FILE")" -- /probe || true
  finish_ct 15
  expect "the container got hold of the program it ran (the attack took place)" "$DOC#lab07-dumpable" -- \
    grep -q '^HELD' <<< "$output"
  expect "what it held was the sealed copy in memory, not the host's file" "$DOC#lab07-dumpable" -- \
    grep -q '^HELD /memfd:' <<< "$output"
  expect "no write reached it" "$DOC#lab07-dumpable" -- lacks "$output" WROTE
  expect "the host's program is unchanged" "$DOC#lab07-dumpable" -- [ "$(sha256sum < "$T/victim")" = "$before" ]
}

@test "--enter of a PID reused between the check and the join: 125, one line, COMMAND never runs" {
  command -v strace >/dev/null || skip "needs strace (Debian: strace), to hold the joining process before pidfd_open"
  # In a PID namespace of its own, so that the reused PID is chosen by ns_last_pid.
  run --separate-stderr unshare --pid --fork --mount-proc bash -c '
    "$1" --hostname box --pid-file "$2/c" -- sleep 60 3>&- & rt=$!
    for i in $(seq 100); do [ -s "$2/c" ] && break; sleep 0.05; done; p=$(cat "$2/c")
    strace -f -qq -o /dev/null -e trace=pidfd_open -e inject=pidfd_open:delay_enter=1500000 \
      "$1" --enter "$p" -- sh -c "echo RAN" 3>&- & j=$!
    sleep 0.5; kill -KILL $rt; wait $rt 2>/dev/null; while kill -0 $p 2>/dev/null; do sleep 0.01; done
    echo $((p - 1)) > /proc/sys/kernel/ns_last_pid; sleep 30 3>&- & s=$!
    wait $j; rc=$?; kill $s; exit $rc' _ "$NSLAB_PROGRAM" "$T"
  expect "exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "COMMAND never ran" "$DOC#lab07-errors" -- lacks "$output" RAN
  expect "one line: it exited while being joined" "$DOC#lab07-errors" -- \
    is_one_line_matching "$stderr" '^07-setns: --enter [0-9]+: process [0-9]+ exited while being joined \(see docs/\{en,zh\}/troubleshooting\.md#ts-enter-ESRCH\)$'
}

@test "--pid-file leaves alone what is not a pid file: a file of other content, a FIFO; replaces a stale one" {
  printf 'notes\n' > "$T/notes"
  mkfifo "$T/fifo"
  local f
  for f in notes fifo; do
    run --separate-stderr ct --pid-file "$T/$f" -- touch "$T/ran"
    expect "--pid-file $f: exit status 125" "$DOC#lab07-pidfile" -- [ "$status" -eq 125 ]
    expect "one line: not a pid file" "$DOC#lab07-pidfile" -- is_one_line_matching "$stderr" "^07-setns: --pid-file .*: exists and is not a pid file"
    expect "and nothing ran" "$DOC#lab07-pidfile" -- [ ! -e "$T/ran" ]
  done
  expect "notes kept" "$DOC#lab07-pidfile" -- [ "$(cat "$T/notes")" = notes ]
  expect "FIFO kept" "$DOC#lab07-pidfile" -- [ -p "$T/fifo" ]
  echo 4242 > "$T/stale.pid"
  run ct --pid-file "$T/stale.pid" -- true
  expect "a pid file left by a killed run is replaced (negative control)" "$DOC#lab07-pidfile" -- [ "$status" -eq 0 ]
}

@test "--pid-file's temporary file cannot be planted: its name is not guessable" {
  start_ct --pid-file "$T/ct.pid" -- sh -c "touch '$T/running'; $AWAIT_GO"
  wait_for 5 test -e "$T/running"
  expect "no temporary file is left next to the pid file" "$DOC#lab07-pidfile" -- \
    [ -z "$(find "$T" -maxdepth 1 -name '.ct.pid.*')" ]
  touch "$T/go"
  finish_ct
  # Names a run with PID 1..40 would take, had the name been .NAME.PID.tmp.
  local n
  for n in $(seq 1 40); do ln -s /nonexistent "$T/.planted.pid.$n.tmp"; done
  run --separate-stderr unshare --pid --fork --mount-proc "$NSLAB_PROGRAM" --pid-file "$T/planted.pid" -- true
  expect "symlinks at predictable names do not stop it: exit 0" "$DOC#lab07-pidfile" -- [ "$status" -eq 0 ]
}

@test "--enter given twice: one line, exit 125" {
  start_target -- sleep 100
  run --separate-stderr ct_enter "$TARGET" --enter "$TARGET" -- true
  expect "--enter twice: 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "one line that says so" "$DOC#lab07-errors" -- is_one_line_matching "$stderr" '^07-setns: --enter given twice'
  stop_target
}

@test "--enter of a thread, not a process: one line, exit 125, that names the process" {
  command -v python3 >/dev/null || skip "needs python3, to start a process with a second thread"
  (exec python3 -c 'import threading, time; threading.Thread(target=time.sleep, args=(30,), daemon=True).start(); time.sleep(30)') 3>&- &
  SERVER_PID=$!
  wait_for 5 has_two_threads "$SERVER_PID"
  local tid
  tid=$(ls "/proc/$SERVER_PID/task" | grep -vx "$SERVER_PID" | head -1)
  run --separate-stderr "$NSLAB_PROGRAM" --enter "$tid" -- true
  expect "exit status 125" "$DOC#lab07-errors" -- [ "$status" -eq 125 ]
  expect "one line that names its process, $SERVER_PID" "$DOC#lab07-errors" -- \
    is_one_line_matching "$stderr" "^07-setns: --enter $tid: $tid is a thread of process $SERVER_PID: give the process$"
}
