#!/usr/bin/env bats
# Lab 06 — containers without root. Every test runs the program as an
# unprivileged user: this shell's user, or, when the tests run as root,
# NSLAB_ROOTLESS_UID (default 65534, nobody), with no capability and no
# supplementary group (setpriv). Without root, scripts/grade.sh 06 runs this
# file only. USER_DIR is a directory of that user's own (see nslab.bash).

load ../../../common/bats/nslab
NSLAB_LAB=06-user
NSLAB_ROOTLESS=1
DOC=lab06-user.md

lab_setup() {
  AWAIT_GO="n=0; until [ -e '$USER_DIR/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  HOST_IPC_IDS=()
}

lab_teardown() {
  local object
  for object in "${HOST_IPC_IDS[@]}"; do ipcrm $object 2>/dev/null || true; done
}

# The map lines of a uid_map or gid_map, "IN OUT COUNT" each, unpadded.
map_of() {
  awk '{ print $1, $2, $3 }' "$1"
}

# start_waiting_ct ARGS...: a container that writes what COMMAND prints to
# USER_DIR/inside, then waits for USER_DIR/go. Sets CHILD.
start_waiting_ct() {
  local script=$1
  shift
  start_ct "$@" -- sh -c "{ $script; } > '$USER_DIR/inside.tmp'; mv '$USER_DIR/inside.tmp' '$USER_DIR/inside'; $AWAIT_GO"
  if ! wait_for 5 test -e "$USER_DIR/inside"; then
    # What the runtime said, if it has given up, may name the mistake.
    finish_ct 1 || true
    explain "COMMAND starts and writes what it sees to $USER_DIR/inside" "$DOC#lab06-rootless"
  fi
  CHILD=$(child_of "$CT_PID")
}

@test "done when: 06-user --hostname box prints 0 (id -u), box (hostname) and one line of /proc/self/uid_map" {
  run as_user id -u
  expect "outside, the user is uid $NSLAB_USER_UID, not root (negative control)" "$DOC#lab06-rootless" -- \
    [ "$output" = "$NSLAB_USER_UID" -a "$output" != 0 ]
  run --separate-stderr ct --hostname box -- sh -c 'id -u; hostname; cat /proc/self/uid_map'
  # What a failure is the sign of: gid_map refused while setgroups is still
  # allowed; namespaces refused to a user who has no user namespace of its own.
  # (The child going on before its maps were written, the runtime's own words
  # name: hint_from_output in nslab.bash.)
  hint=""
  if [ "$status" -ne 0 ] && grep -q 'write .*gid_map.*Operation not permitted' <<< "$stderr"; then
    hint=setgroups-allowed
  elif [ "$status" -ne 0 ] && grep -qE 'creating namespaces needs CAP_SYS_ADMIN|clone\(CLONE_NEW[^)]*\): Operation not permitted' <<< "$stderr" &&
       ! grep -q CLONE_NEWUSER <<< "$stderr"; then
    hint=shared-user
  fi
  expect "exit status 0, without root" "$DOC#lab06-rootless" --hint "$hint" -- [ "$status" -eq 0 ]
  expect "three lines" "$DOC#lab06-rootless" -- [ "${#lines[@]}" -eq 3 ]
  expect "root inside: id -u prints 0" "$DOC#lab06-root" -- [ "${lines[0]}" = 0 ]
  expect "the hostname is box" lab01-uts.md#lab01-sethostname -- [ "${lines[1]}" = box ]
  expect "one map line: 0 inside is $NSLAB_USER_UID outside, one id" "$DOC#lab06-maps" -- \
    grep -qxE " *0 +$NSLAB_USER_UID +1" <<< "${lines[2]}"
  expect "nothing on stderr" "$DOC" -- [ -z "$stderr" ]
  expect "the host keeps its hostname" lab01-uts.md#lab01-flag -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
}

@test "every namespace is new but cgroup; from the host, the container runs as the caller, with maps of one id" {
  start_waiting_ct 'cat /proc/self/setgroups'
  expect_namespaces "$CHILD" "$DOC#lab06-flag" "user uts ipc pid mnt net" "cgroup"
  expect "the host sees the container's root as uid $NSLAB_USER_UID" "$DOC#lab06-root" -- \
    grep -qE "^Uid:\s+$NSLAB_USER_UID\s+$NSLAB_USER_UID\s+$NSLAB_USER_UID\s+$NSLAB_USER_UID\$" "/proc/$CHILD/status"
  expect "/proc/$CHILD/uid_map: 0 $NSLAB_USER_UID 1" "$DOC#lab06-maps" -- [ "$(map_of "/proc/$CHILD/uid_map")" = "0 $NSLAB_USER_UID 1" ]
  expect "/proc/$CHILD/gid_map: 0 $NSLAB_USER_GID 1" "$DOC#lab06-maps" -- [ "$(map_of "/proc/$CHILD/gid_map")" = "0 $NSLAB_USER_GID 1" ]
  expect "setgroups is deny, from the host" "$DOC#lab06-setgroups" -- [ "$(cat "/proc/$CHILD/setgroups")" = deny ]
  expect "and from inside" "$DOC#lab06-setgroups" -- [ "$(cat "$USER_DIR/inside")" = deny ]
  touch "$USER_DIR/go"
  finish_ct
  assert_success
}

@test "inside, uid_map and gid_map hold one line each, and root is root in both" {
  run ct -- sh -c 'cat /proc/self/uid_map; cat /proc/self/gid_map; id -u; id -g; grep -E "^(Uid|Gid):" /proc/self/status'
  assert_success
  # id -u printed the overflow uid: COMMAND ran before its uid_map was written.
  hint=""
  ! grep -qx "$(cat /proc/sys/kernel/overflowuid)" <<< "$output" || hint=ran-before-maps
  expect "uid_map: 0 $NSLAB_USER_UID 1" "$DOC#lab06-maps" --hint "$hint" -- grep -qxE " *0 +$NSLAB_USER_UID +1" <<< "${lines[0]}"
  expect "gid_map: 0 $NSLAB_USER_GID 1" "$DOC#lab06-maps" --hint "$hint" -- grep -qxE " *0 +$NSLAB_USER_GID +1" <<< "${lines[1]}"
  expect "uid 0 and gid 0" "$DOC#lab06-root" --hint "$hint" -- [ "${lines[2]} ${lines[3]}" = "0 0" ]
  expect "real, effective, saved and file-system ids all 0" "$DOC#lab06-root" -- \
    [ "$(echo ${lines[4]} ${lines[5]})" = "Uid: 0 0 0 0 Gid: 0 0 0 0" ]
  # With no newuidmap or newgidmap in PATH: the caller's own id needs neither.
  PATH=/nonexistent run ct --uid-map "0:$NSLAB_USER_UID:1" --gid-map "0:$NSLAB_USER_GID:1" -- \
    /bin/sh -c '/usr/bin/id -u; /bin/cat /proc/self/uid_map'
  expect "--uid-map 0:$NSLAB_USER_UID:1 --gid-map 0:$NSLAB_USER_GID:1, the caller's own ids, are written without newuidmap" "$DOC#lab06-maps" -- \
    [ "$status.$(echo $output)" = "0.0 0 $NSLAB_USER_UID 1" ]
}

@test "the child waits for its maps: twelve rootless containers in a row are root inside" {
  # Until the runtime writes the maps the child is nobody inside and can
  # neither become root nor make its /dev: it must wait for GO.
  rootfs=$(user_rootfs)
  for round in $(seq 12); do
    status=0
    output=$(ct --rootfs "$rootfs" -- sh -c 'id -u; id -g; wc -l < /proc/self/uid_map' 2>&1) || status=$?
    expect "round $round: exit status 0, uid 0, gid 0 and a map" "$DOC#lab06-maps" -- [ "$status.$(echo $output)" = "0.0 0 1" ]
  done
}

@test "IPC: the host's queue is invisible inside, and one made inside stays there" {
  out=$(ipcmk -Q)
  HOST_IPC_IDS+=("-q ${out##* }")
  before=$(ipcs -q | awk '/^0x/ { print $1, $2 }' | sort)
  expect "the host lists its queue (negative control)" lab02-ipc.md -- [ -n "$before" ]
  start_waiting_ct 'ipcs -q | grep -c "^0x" || true; ipcmk -Q >/dev/null; ipcs -q | grep -c "^0x"'
  expect "inside, none of the host's queues" lab02-ipc.md#lab02-flag -- [ "$(sed -n 1p "$USER_DIR/inside")" = 0 ]
  expect "inside, the queue it made" lab02-ipc.md#lab02-flag -- [ "$(sed -n 2p "$USER_DIR/inside")" = 1 ]
  expect "the host's queues are exactly what they were, while the container runs" lab02-ipc.md#lab02-flag -- \
    [ "$(ipcs -q | awk '/^0x/ { print $1, $2 }' | sort)" = "$before" ]
  touch "$USER_DIR/go"
  finish_ct
  assert_success
}

@test "PID 1 inside, and --init" {
  run ct -- sh -c 'echo $$'
  assert_success
  expect "COMMAND is PID 1" lab03-pid.md#lab03-flag -- [ "$output" = 1 ]
  run ct --init -- sh -c 'echo $$ $PPID; ps -o comm= -p 1'
  assert_success
  expect "under --init, COMMAND is PID 2, the init PID 1" lab03-pid.md#lab03-init -- [ "$(echo $output)" = "2 1 nslab-init" ]
  run ct --init -- sh -c 'exit 3'
  expect "--init exits with COMMAND's status" lab03-pid.md#lab03-init -- [ "$status" -eq 3 ]
}

@test "a fresh /proc lists only the container's processes" {
  host_count=$(ls /proc | grep -c '^[0-9][0-9]*$')
  expect "the host's /proc lists many processes (negative control)" lab04-mount.md#lab04-proc -- [ "$host_count" -gt 3 ]
  run ct -- sh -c 'ls /proc | grep -c "^[0-9][0-9]*$"; findmnt -n -o FSTYPE /proc'
  assert_success
  expect "inside, /proc lists sh, ls and grep at most" lab04-mount.md#lab04-proc -- [ "${lines[0]}" -le 3 ]
  expect "a proc on /proc" lab04-mount.md#lab04-proc -- [ "${lines[1]}" = proc ]
}

@test "--rootfs owned by the user: its own /, /dev, /tmp, /proc and a read-only /sys" {
  rootfs=$(user_rootfs)
  run ct --rootfs "$rootfs" --hostname box -- sh -c 'cat /etc/issue; id -u; hostname; ls /sys/class/net
    for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo missing /dev/$d; done
    echo x > /dev/null && echo null-ok; echo hi > /tmp/f && cat /tmp/f
    ls /proc | grep -c "^[0-9][0-9]*$"; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1'
  assert_success
  expect "/etc/issue of the root filesystem" lab04-mount.md#lab04-pivot -- grep -q '^nslab root filesystem' <<< "${lines[0]}"
  expect "root, box, and only lo in /sys/class/net" "$DOC#lab06-rootless" -- [ "$(echo ${lines[1]} ${lines[2]} ${lines[3]})" = "0 box lo" ]
  expect "/dev's devices are there and /dev/null takes writes; /tmp is writable" "$DOC#lab06-rootless" -- \
    [ "$(echo ${lines[4]} ${lines[5]})" = "null-ok hi" ]
  expect "/proc lists only the container's processes" lab04-mount.md#lab04-proc -- [ "${lines[6]}" -le 3 ]
  expect "/sys is read-only" lab05-net.md#lab05-lo -- [ "${lines[7]}" = ro ]
  expect "nothing was left in the root filesystem's /tmp on the host" lab04-mount.md#lab04-pivot -- [ ! -e "$rootfs/tmp/f" ]
}

@test "lo is up, and a server and a client talk over 127.0.0.1" {
  run ct -- sh -c "ip -o link; '$NSLAB_TCP_PROBE' serve 127.0.0.1 47030 from-server > '$USER_DIR/server.out' &
                   n=0; until grep -qx listening '$USER_DIR/server.out' 2>/dev/null || [ \$n -ge 100 ]; do sleep 0.05; n=\$((n + 1)); done
                   '$NSLAB_TCP_PROBE' connect 127.0.0.1 47030 from-client && wait \$! && cat '$USER_DIR/server.out'"
  assert_success
  expect "one link, lo, UP" lab05-net.md#lab05-lo -- grep -qE '^1: lo: <[A-Z_,]*\bUP\b' <<< "${lines[0]}"
  expect "the client and the server exchanged their lines" lab05-net.md#lab05-lo -- \
    [ "$(echo ${lines[@]:1})" = "from-server listening from-client" ]
}

@test "root inside may change its own network, and only that: a veth pair made inside stays inside" {
  links_before=$(host_links)
  run ct -- sh -c 'awk "/^Cap(Eff|Bnd):/ { print \$2 }" /proc/self/status; ip link add nslab-in0 type veth peer name nslab-in1 && ip -o link | grep -c nslab-in'
  assert_success
  expect "root inside has every capability there is (CapEff = CapBnd = ${lines[1]})" "$DOC#lab06-root" -- \
    [ "${lines[0]}" = "${lines[1]}" -a "${lines[0]}" != 0000000000000000 ]
  run as_user grep ^CapEff: /proc/self/status
  expect "outside, the same user has none (negative control)" "$DOC#lab06-root" -- grep -qE '^CapEff:\s+0+$' <<< "$output"
  run ct -- sh -c 'ip link add nslab-in0 type veth peer name nslab-in1 && ip -o link | grep -c nslab-in'
  expect "inside, the container made its own pair of links" "$DOC#lab06-root" -- [ "$output" = 2 ]
  expect "the host's links are what they were" "$DOC#lab06-root" -- [ "$(host_links)" = "$links_before" ]
}

@test "--veth is refused without root: one line, exit 125, nothing created" {
  before=$(host_net_state)
  run --separate-stderr ct --veth 10.200.30.1/24,10.200.30.2/24 -- touch "$USER_DIR/ran"
  expect "exit status 125" "$DOC#lab06-rootless" -- [ "$status" -eq 125 ]
  expect "the line says what --veth needs" "$DOC#lab06-rootless" -- \
    [ "$stderr" = "06-user: --veth needs CAP_NET_ADMIN on the host: run as root, or drop --veth (see docs/{en,zh}/troubleshooting.md#ts-veth-root)" ]
  expect "COMMAND never ran" "$DOC#lab06-rootless" -- [ ! -e "$USER_DIR/ran" ]
  expect "the host's links and addresses are as they were" "$DOC#lab06-rootless" -- [ "$(host_net_state)" = "$before" ]
}

@test "a file made inside by root belongs to the caller outside" {
  run ct -- sh -c "touch '$USER_DIR/made-inside' && stat -c %u:%g '$USER_DIR/made-inside'"
  assert_success
  expect "inside, it belongs to root, 0:0" "$DOC#lab06-root" -- [ "$output" = 0:0 ]
  expect "on the host, to $NSLAB_USER_UID:$NSLAB_USER_GID" "$DOC#lab06-root" -- \
    [ "$(stat -c %u:%g "$USER_DIR/made-inside")" = "$NSLAB_USER_UID:$NSLAB_USER_GID" ]
}

@test "the host's root-owned files stay unwritable to root inside: /etc/passwd" {
  expect "/etc/passwd belongs to root on the host (negative control)" "$DOC#lab06-root" -- [ "$(stat -c %u /etc/passwd)" = 0 ]
  # Opened for appending, nothing written: harmless even if it were allowed.
  run ct -- sh -c 'id -u; (exec 3>> /etc/passwd) 2>/dev/null && echo opened || echo refused'
  assert_success
  expect "root inside (uid 0) is refused /etc/passwd for writing" "$DOC#lab06-root" -- [ "$(echo $output)" = "0 refused" ]
}

@test "a global sysctl stays unwritable; one of the container's own network namespace does not" {
  # vm.swappiness is the host's, global: the same value is written back,
  # harmless even if it were allowed. net.ipv4.ip_forward is per network
  # namespace, and the container's belongs to its user namespace's root.
  host_forwarding=$(cat /proc/sys/net/ipv4/ip_forward)
  run ct -- sh -c 'v=$(cat /proc/sys/vm/swappiness); (echo "$v" > /proc/sys/vm/swappiness) 2>/dev/null && echo swappiness-written || echo swappiness-refused
                   f=$(cat /proc/sys/net/ipv4/ip_forward); echo $((1 - f)) > /proc/sys/net/ipv4/ip_forward && echo "$f -> $(cat /proc/sys/net/ipv4/ip_forward)"'
  assert_success
  expect "vm.swappiness belongs to the host: refused" "$DOC#lab06-root" -- [ "${lines[0]}" = swappiness-refused ]
  expect "the container's own net.ipv4.ip_forward is written (positive control)" "$DOC#lab06-root" -- \
    grep -qxE '(0 -> 1|1 -> 0)' <<< "${lines[1]}"
  expect "the host's net.ipv4.ip_forward is unchanged" "$DOC#lab06-root" -- [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_forwarding" ]
}

@test "user.max_user_namespaces at 0: the error names the setting" {
  run --separate-stderr as_user unshare --user --map-root-user sh -c \
    'echo 0 > /proc/sys/user/max_user_namespaces && exec env NSLAB_GUARD="$1" "$2" -- touch "$3/ran"' \
    sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" "$USER_DIR"
  expect "exit status 125" "$DOC#lab06-restricted" -- [ "$status" -eq 125 ]
  expect "one line that names the clone call and user.max_user_namespaces" "$DOC#lab06-restricted" -- \
    is_one_line_matching "$stderr" '^06-user: clone\(.*CLONE_NEWUSER.*\).*user\.max_user_namespaces'
  expect "COMMAND never ran" "$DOC#lab06-restricted" -- [ ! -e "$USER_DIR/ran" ]
}

@test "SIGTERM and SIGKILL of a rootless runtime leave no process behind" {
  start_ct -- sh -c "trap 'exit 42' TERM; touch '$USER_DIR/ready'; while :; do sleep 0.05; done"
  wait_for 5 test -e "$USER_DIR/ready"
  kill -TERM "$CT_PID"
  finish_ct 3
  expect "SIGTERM is forwarded to COMMAND (its trap exits 42)" lab03-pid.md -- [ "$status" -eq 42 ]
  rm -f "$USER_DIR/ready"
  start_ct --init -- sh -c "sleep 30 & touch '$USER_DIR/ready'; wait"
  wait_for 5 test -e "$USER_DIR/ready"
  kill -KILL "$CT_PID"
  wait "$CT_PID" 2>/dev/null || true
  expect "the container dies with its killed runtime" lab03-pid.md -- wait_for 3 nslab_no_guarded_processes
}
