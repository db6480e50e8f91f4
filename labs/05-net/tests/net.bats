#!/usr/bin/env bats
# Lab 05 — the network namespace: lo up inside, and with --veth a link to the
# host that is gone with the container. Seen from inside, and from the host.
#
# Each test that makes a veth uses a subnet of its own, 10.200.N.0/24, so that
# no two tests (and no leftover of an earlier run) can clash.

load ../../../common/bats/nslab
NSLAB_LAB=05-net
DOC=lab05-net.md

lab_setup() {
  T=$BATS_TEST_TMPDIR
  # For a container that waits for the test: it returns once $T/go exists (at
  # most 10 s later, so that a failed test cannot leave it waiting).
  AWAIT_GO="n=0; until [ -e '$T/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  remember_host_net
  LINKS_BEFORE=$(host_links)
}

lab_teardown() {
  exec 8<&- 2>/dev/null || true
  if [ -n "${SECOND_PID:-}" ] && kill -0 "$SECOND_PID" 2>/dev/null; then
    kill -KILL "$SECOND_PID" 2>/dev/null || true  # ours: the second container of a test
    wait "$SECOND_PID" 2>/dev/null || true
  fi
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true  # ours: started by this test
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}

# serve_on_host ADDR PORT MESSAGE: a TCP server on the host (SERVER_PID,
# SERVER_OUT), returned once it listens.
serve_on_host() {
  SERVER_OUT=$T/server.out
  (exec "$NSLAB_TCP_PROBE" serve "$@") > "$SERVER_OUT" 2>&1 3>&- &
  SERVER_PID=$!
  wait_for 5 grep -qx listening "$SERVER_OUT" || { cat "$SERVER_OUT" >&2; return 1; }
}

# finish_server: waits for the server; sets server_status and server_output.
finish_server() {
  server_status=0
  wait "$SERVER_PID" || server_status=$?
  server_output=$(cat "$SERVER_OUT")
}

# start_waiting_ct ARGS...: a container whose COMMAND writes what it sees to
# $T/inside, then waits for $T/go. Sets CHILD and HOST_END.
start_waiting_ct() {
  start_ct "$@" -- sh -c "{ ip -o link; echo '## addr'; ip -o addr; echo '## route'; ip route; } > '$T/inside.tmp'
                          mv '$T/inside.tmp' '$T/inside'; $AWAIT_GO"
  wait_for 5 test -e "$T/inside"
  CHILD=$(child_of "$CT_PID")
  HOST_END=$(host_end_of "$CHILD")
}


# --- lo, and the namespace itself ---------------------------------------------

@test "inside, the only link is lo, and it is up" {
  run unshare --net ip -o link
  expect "a new network namespace starts with lo down (negative control: the runtime must raise it)" "$DOC#lab05-lo" -- \
    grep -q '^1: lo: <LOOPBACK>' <<< "$output"
  run ct -- ip -o link
  assert_success
  expect "exactly one link inside" "$DOC#lab05-flag" --hint shared-net -- [ "${#lines[@]}" -eq 1 ]
  expect "that link is lo, UP" "$DOC#lab05-lo" --hint lo-down -- grep -qE '^1: lo: <[A-Z_,-]*\bUP\b' <<< "$output"
  expect "and it is running (LOWER_UP)" "$DOC#lab05-lo" --hint lo-down -- grep -q 'LOWER_UP' <<< "$output"
}

@test "inside, a server and a client talk over 127.0.0.1" {
  run ct -- sh -c "'$NSLAB_TCP_PROBE' serve 127.0.0.1 47001 from-server > '$T/server.out' &
                   n=0; until grep -qx listening '$T/server.out' 2>/dev/null || [ \$n -ge 100 ]; do sleep 0.05; n=\$((n + 1)); done
                   '$NSLAB_TCP_PROBE' connect 127.0.0.1 47001 from-client && wait \$! && cat '$T/server.out'"
  expect "the client got the server's line over lo, and the server the client's (lo is up)" "$DOC#lab05-lo" -- \
    [ "$(echo $output)" = "from-server listening from-client" ]
}

@test "a server on the host's 127.0.0.1 is out of the container's reach" {
  serve_on_host 127.0.0.1 47002 from-host
  run --separate-stderr ct -- "$NSLAB_TCP_PROBE" connect 127.0.0.1 47002 from-container
  expect "inside, 127.0.0.1 is the container's own lo: nothing listens there, the connection is refused" "$DOC#lab05-flag" -- \
    grep -q 'Connection refused' <<< "$stderr"
  run "$NSLAB_TCP_PROBE" connect 127.0.0.1 47002 from-the-host-itself
  expect "on the host, the same address and port answer (negative control)" "$DOC#lab05-flag" -- [ "$output" = from-host ]
  finish_server
}

@test "the net namespace differs from the host's, along with mnt, pid, ipc and uts" {
  start_ct -- sh -c "touch '$T/ready'; $AWAIT_GO"
  wait_for 5 test -e "$T/ready"
  inside=$(child_of "$CT_PID")
  expect_namespaces "$inside" "$DOC#lab05-flag" "net mnt pid ipc uts" "user cgroup"
  touch "$T/go"
  finish_ct
  assert_success
}

@test "a link and an address of the host are not seen inside" {
  # A stand-in host (a throw-away network namespace) with a link of its own.
  run env PROGRAM="$NSLAB_PROGRAM" GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c '
    ip link add nslab-dummy0 type veth peer name nslab-dummy1 && ip addr add 10.200.40.1/24 dev nslab-dummy0 &&
      ip link set nslab-dummy0 up || exit 90
    ip -o addr | grep -q "10.200.40.1/24" || exit 91
    exec env NSLAB_GUARD="$GUARD" "$PROGRAM" -- sh -c "ip -o link; ip -o addr"'
  expect "the stand-in host has its links and address (90/91: the test could not make them)" "$DOC" -- [ "$status" -eq 0 ]
  expect "inside, no trace of the host's links" "$DOC#lab05-flag" -- [ -z "$(grep nslab-dummy <<< "$output")" ]
  expect "inside, no trace of the host's address" "$DOC#lab05-flag" -- [ -z "$(grep 10.200.40.1 <<< "$output")" ]
  expect "only lo's addresses: 127.0.0.1 and ::1" "$DOC#lab05-lo" -- \
    [ "$(grep -oE 'inet6? [^ ]+' <<< "$output" | xargs)" = "inet 127.0.0.1/8 inet6 ::1/128" ]
}

# --- --veth -------------------------------------------------------------------

@test "--veth: the host end nslab-PID and eth0 inside, both up and addressed, and a default route inside" {
  forwarding=$(cat /proc/sys/net/ipv4/ip_forward)
  start_waiting_ct --veth 10.200.1.1/24,10.200.1.2/24
  # From the host, while the container runs.
  expect "a host end named nslab-$CHILD (the container's first process as the host numbers it)" "$DOC#lab05-veth" -- link_exists "$HOST_END"
  run ip -o -d link show dev "$HOST_END"
  expect "the host end is a veth" "$DOC#lab05-veth" -- grep -q ' veth ' <<< "$output"
  expect "the host end is UP" "$DOC#lab05-veth" -- grep -qE "^[0-9]+: $HOST_END@[^:]*: <[A-Z_,-]*\bUP\b" <<< "$output"
  expect "its peer is in another network namespace (link-netnsid)" "$DOC#lab05-veth" -- grep -q 'link-netnsid' <<< "$output"
  run ip -o -4 addr show dev "$HOST_END"
  expect "the host end has HOST_CIDR, 10.200.1.1/24" "$DOC#lab05-veth" -- grep -q 'inet 10.200.1.1/24' <<< "$output"
  expect "IP forwarding is as it was: --veth adds no routing or NAT on the host" "$DOC#lab05-veth" -- \
    [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$forwarding" ]
  expect "the host end is the host's only new link" "$DOC#lab05-veth" -- \
    [ "$(comm -13 <(echo "$LINKS_BEFORE") <(host_links) | xargs)" = "$HOST_END" ]
  run nsenter --net="/proc/$CHILD/ns/net" ip -o -4 addr show dev eth0
  expect "seen from the host, the container's namespace holds eth0 with 10.200.1.2/24" "$DOC#lab05-veth" -- grep -q 'inet 10.200.1.2/24' <<< "$output"
  # From inside.
  inside=$(cat "$T/inside")
  links=$(sed -n '1,/^## addr/p' <<< "$inside" | grep -v '^##' | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | xargs)
  expect "inside, two links: lo and eth0 (got: $links)" "$DOC#lab05-veth" -- [ "$links" = "lo eth0" ]
  expect "eth0 is UP inside" "$DOC#lab05-veth" -- grep -qE '^[0-9]+: eth0@[^:]*: <[A-Z_,-]*\bUP\b' <<< "$inside"
  expect "eth0 has CONTAINER_CIDR, 10.200.1.2/24" "$DOC#lab05-veth" -- grep -qE '^[0-9]+: eth0 +inet 10.200.1.2/24 ' <<< "$inside"
  expect "a default route via the host end's address" "$DOC#lab05-veth" -- grep -qE '^default via 10.200.1.1 dev eth0' <<< "$inside"
  touch "$T/go"
  finish_ct
  assert_success
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "over the veth, a TCP server on the host answers the container" {
  start_ct --veth 10.200.2.1/24,10.200.2.2/24 -- sh -c "$AWAIT_GO; exec '$NSLAB_TCP_PROBE' connect 10.200.2.1 47003 from-container"
  wait_for 5 child_of "$CT_PID"
  HOST_END=$(host_end_of "$(child_of "$CT_PID")")
  expect "the host end gets its address while the container waits" "$DOC#lab05-veth" -- \
    wait_for 5 sh -c "ip -o -4 addr show dev '$HOST_END' 2>/dev/null | grep -q 10.200.2.1/24"
  serve_on_host 10.200.2.1 47003 from-host
  touch "$T/go"
  finish_ct
  expect "the container reached the host at 10.200.2.1 and got its line" "$DOC#lab05-veth" -- [ "$output" = from-host ]
  assert_success
  finish_server
  expect "the host's server got the container's line" "$DOC#lab05-veth" -- [ "$server_output" = "$(printf 'listening\nfrom-container')" ]
  assert_equal "$server_status" 0
}

@test "over the veth, a TCP server in the container answers the host; once it ends, the address is gone" {
  run "$NSLAB_TCP_PROBE" connect 10.200.3.2 47004 early
  expect "before the container, the host cannot reach 10.200.3.2 (negative control)" "$DOC#lab05-veth" -- [ "$status" -ne 0 ]
  start_ct --veth 10.200.3.1/24,10.200.3.2/24 -- "$NSLAB_TCP_PROBE" serve 10.200.3.2 47004 from-container
  expect "the server in the container listens" "$DOC#lab05-veth" -- wait_for 5 grep -qx listening "$CT_OUT"
  run "$NSLAB_TCP_PROBE" connect 10.200.3.2 47004 from-host
  expect "the host reached the container at 10.200.3.2 and got its line" "$DOC#lab05-veth" -- [ "$output" = from-container ]
  finish_ct
  assert_success
  expect "the container's server got the host's line" "$DOC#lab05-veth" -- [ "$output" = "$(printf 'listening\nfrom-host')" ]
  expect_host_net_unchanged "$DOC#lab05-teardown"
  run "$NSLAB_TCP_PROBE" connect 10.200.3.2 47004 late
  expect "after the container, 10.200.3.2 is unreachable again" "$DOC#lab05-teardown" -- [ "$status" -ne 0 ]
}

@test "two containers started at once get host ends of their own" {
  start_ct --veth 10.200.4.1/24,10.200.4.2/24 -- sh -c "$AWAIT_GO"
  first=$CT_PID first_out=$CT_OUT
  CT_OUT=$T/second.out
  NSLAB_GUARD=$NSLAB_GUARD_TOKEN "$NSLAB_PROGRAM" "${NSLAB_MARKS[@]}" --veth 10.200.5.1/24,10.200.5.2/24 -- sh -c "$AWAIT_GO" > "$CT_OUT" 2>&1 &
  second=$! SECOND_PID=$!
  wait_for 5 child_of "$first"
  wait_for 5 child_of "$second"
  end1=$(host_end_of "$(child_of "$first")") end2=$(host_end_of "$(child_of "$second")")
  expect "two different names ($end1, $end2)" "$DOC#lab05-veth" -- [ "$end1" != "$end2" ]
  expect "the first host end has the first address" "$DOC#lab05-veth" -- \
    wait_for 5 sh -c "ip -o -4 addr show dev '$end1' 2>/dev/null | grep -q 10.200.4.1/24"
  expect "the second host end has the second address" "$DOC#lab05-veth" -- \
    wait_for 5 sh -c "ip -o -4 addr show dev '$end2' 2>/dev/null | grep -q 10.200.5.1/24"
  touch "$T/go"
  status2=0
  wait "$second" || status2=$?
  CT_PID=$first CT_OUT=$first_out
  finish_ct
  assert_success
  assert_equal "$status2" 0
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "an address that a running container's host end holds is refused to the next: 125, nothing created" {
  start_waiting_ct --veth 10.200.6.1/24,10.200.6.2/24
  during=$(host_net_state)
  run --separate-stderr ct --veth 10.200.6.1/24,10.200.6.3/24 -- touch "$T/ran"
  expect "exit status 125" "$DOC#lab05-errors" -- [ "$status" -eq 125 ]
  expect "one line that names the address and the host's link that has it" "$DOC#lab05-errors" -- \
    [ "$stderr" = "05-net: --veth: 10.200.6.1 is already an address of the host's link $HOST_END: choose a subnet the host does not use" ]
  expect "COMMAND never ran" "$DOC#lab05-errors" -- [ ! -e "$T/ran" ]
  expect "no link or address was added" "$DOC#lab05-errors" -- [ "$(host_net_state)" = "$during" ]
  touch "$T/go"
  finish_ct
  assert_success
}

@test "/sys inside a root filesystem is a fresh, read-only sysfs: lo, or eth0 and lo" {
  rootfs=$(nslab_rootfs)
  run ct --rootfs "$rootfs" -- ls /sys/class/net
  assert_success
  expect "/sys/class/net lists the container's lo only" "$DOC#lab05-lo" -- [ "$(echo $output)" = lo ]
  run ct --rootfs "$rootfs" --veth 10.200.7.1/24,10.200.7.2/24 -- sh -c 'ls /sys/class/net; grep " /sys " /proc/mounts; touch /sys/nslab-probe 2>/dev/null && echo writable || echo read-only'
  assert_success
  expect "with --veth, eth0 and lo" "$DOC#lab05-veth" -- [ "$(echo ${lines[0]} ${lines[1]})" = "eth0 lo" ]
  expect "a sysfs on /sys" "$DOC#lab05-lo" -- grep -qE '^sysfs /sys sysfs ro[, ]' <<< "${lines[2]}"
  expect "that refuses writes" "$DOC#lab05-lo" -- [ "${lines[3]}" = read-only ]
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

# --- teardown: the host end goes with the container, whatever ends it ----------

@test "the host end is deleted at once when COMMAND ends, even while its net namespace is held open" {
  # The kernel deletes a veth when its network namespace goes, but not while
  # anything holds that namespace (here: fd 8), and otherwise later, from a
  # work queue. A runtime that leaves it to the kernel leaves it here.
  start_waiting_ct --veth 10.200.8.1/24,10.200.8.2/24
  exec 8< "/proc/$CHILD/ns/net"
  expect "the host end exists while the container runs" "$DOC#lab05-veth" -- link_exists "$HOST_END"
  touch "$T/go"
  finish_ct
  assert_success
  expect "the held namespace is still alive: the test holds it (positive control)" "$DOC#lab05-teardown" -- \
    nsenter --net=/proc/self/fd/8 ip link show dev lo
  expect "the host end $HOST_END is gone the moment the runtime returns" "$DOC#lab05-teardown" --hint veth-left -- link_gone "$HOST_END"
  run nsenter --net=/proc/self/fd/8 ip -o link
  expect "and eth0 went with it: the pair is deleted together" "$DOC#lab05-teardown" -- [ -z "$(grep eth0 <<< "$output")" ]
  exec 8<&-
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "COMMAND not found after the veth exists: 127, and the host end is gone at once" {
  # The veth exists before COMMAND is looked for (setup_outside runs before GO,
  # exec after it). The container is gone too fast to hold its namespace, so
  # each round checks at once, without waiting for the kernel.
  for round in 1 2 3 4 5 6 7 8; do
    status=0
    stderr=$(ct --veth 10.200.9.1/24,10.200.9.2/24 -- /no/such/command 2>&1 >/dev/null) || status=$?
    expect "exit status 127 (round $round)" "$DOC#lab05-teardown" -- [ "$status" -eq 127 ]
    assert_equal "$stderr" '05-net: exec "/no/such/command": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)'
    expect_host_net_unchanged "$DOC#lab05-teardown"
  done
}

@test "SIGTERM to the runtime: forwarded to COMMAND, then the host end is deleted" {
  start_ct --veth 10.200.10.1/24,10.200.10.2/24 -- sh -c "trap 'exit 42' TERM; touch '$T/ready'; while :; do sleep 0.05; done"
  wait_for 5 test -e "$T/ready"
  CHILD=$(child_of "$CT_PID")
  exec 8< "/proc/$CHILD/ns/net"
  expect "the host end exists while the container runs" "$DOC#lab05-veth" -- link_exists "$(host_end_of "$CHILD")"
  kill -TERM "$CT_PID"
  finish_ct 3
  expect "COMMAND's TERM trap ran (exit 42)" "$DOC#lab05-teardown" -- [ "$status" -eq 42 ]
  expect "the host end is gone at once, although the test holds the namespace" "$DOC#lab05-teardown" --hint veth-left -- link_gone "$(host_end_of "$CHILD")"
  exec 8<&-
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "SIGINT to the runtime: forwarded to COMMAND, then the host end is deleted" {
  start_ct --veth 10.200.11.1/24,10.200.11.2/24 -- sh -c "trap 'exit 43' INT; touch '$T/ready'; while :; do sleep 0.05; done"
  wait_for 5 test -e "$T/ready"
  CHILD=$(child_of "$CT_PID")
  exec 8< "/proc/$CHILD/ns/net"
  kill -INT "$CT_PID"
  finish_ct 3
  expect "COMMAND's INT trap ran (exit 43)" "$DOC#lab05-teardown" -- [ "$status" -eq 43 ]
  expect "the host end is gone at once, although the test holds the namespace" "$DOC#lab05-teardown" --hint veth-left -- link_gone "$(host_end_of "$CHILD")"
  exec 8<&-
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "SIGKILL of the container's PID 1: the runtime deletes the host end" {
  start_waiting_ct --veth 10.200.12.1/24,10.200.12.2/24
  exec 8< "/proc/$CHILD/ns/net"
  kill -KILL "$CHILD"
  finish_ct 3
  expect "the runtime returns 128+9" "$DOC#lab05-teardown" -- [ "$status" -eq 137 ]
  expect "the host end is gone at once, although the test holds the namespace" "$DOC#lab05-teardown" --hint veth-left -- link_gone "$HOST_END"
  exec 8<&-
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "SIGKILL of the runtime: the kernel deletes the pair within 10 s" {
  start_waiting_ct --veth 10.200.13.1/24,10.200.13.2/24
  expect "the host end exists while the container runs" "$DOC#lab05-veth" -- link_exists "$HOST_END"
  kill -KILL "$CT_PID"
  wait "$CT_PID" 2>/dev/null || true
  expect "the container's processes die with the runtime" "$DOC#lab05-teardown" -- wait_for 3 nslab_no_guarded_processes
  expect "the kernel deletes $HOST_END when the container's namespace goes, asynchronously" "$DOC#lab05-teardown" -- \
    wait_for 10 link_gone "$HOST_END"
  expect_host_net_unchanged "$DOC#lab05-teardown"
}

@test "SIGTERM at any moment of the start leaves no veth behind" {
  # Before COMMAND runs, the runtime stops the container itself; after, the
  # init passes SIGTERM on to sleep. Either way the runtime's teardown deletes
  # whatever host end it had made by then.
  for round in $(seq 12); do
    (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --init --veth 10.200.14.1/24,10.200.14.2/24 -- sleep 30) 3>&- &
    runtime=$!
    sleep "0.00$((RANDOM % 10))"
    kill -TERM "$runtime"
    status=0
    wait "$runtime" || status=$?
    expect "exit status 128+15 (round $round)" "$DOC#lab05-teardown" -- [ "$status" -eq 143 ]
    expect_host_net_unchanged "$DOC#lab05-teardown"
  done
}

# --- errors: exit 125, one line, nothing created ------------------------------

@test "bad --veth values: one line, exit 125, nothing created" {
  for value in 10.200.15.1,10.200.15.2/24 10.200.15.1/24,10.200.15.2 10.200.15.1/,10.200.15.2/24 \
    10.200.15.1/33,10.200.15.2/33 10.200.15.1/24x,10.200.15.2/24 10.200.15/24,10.200.15.2/24 \
    10.200.15.256/24,10.200.15.2/24 box/24,10.200.15.2/24 ::1/64,::2/64 \
    10.200.15.1/24,10.200.16.2/24 10.200.15.1/24,10.200.15.1/24 10.200.15.0/24,10.200.15.2/24 \
    10.200.15.1/24,10.200.15.255/24 10.200.15.1/24 "10.200.15.1/24 10.200.15.2/24" \
    10.200.15.1/24,10.200.15.2/24,10.200.15.3/24 , "" 127.0.0.1/8,127.0.0.2/8 10.200.15.1/24,127.0.0.1/24; do
    status=0
    stderr=$(ct --veth "$value" -- touch "$T/ran" 2>&1 >/dev/null) || status=$?
    expect "--veth '$value' is refused with exit status 125" "$DOC#lab05-errors" -- [ "$status" -eq 125 ]
    expect "one line on stderr for '$value'" "$DOC#lab05-errors" -- is_one_line "$stderr"
    expect "the line starts '05-net: ' and names --veth ('$value')" "$DOC#lab05-errors" -- begins_with "$stderr" "05-net: --veth"
    expect "COMMAND never ran ('$value')" "$DOC#lab05-errors" -- [ ! -e "$T/ran" ]
  done
  expect_host_net_unchanged "$DOC#lab05-errors"
  run --separate-stderr ct --veth
  assert_equal "$status" 125
  assert_equal "$(wc -l <<< "$stderr")" 1
}

# in_host_with_address ARGS...: runs the program with ARGS in a throw-away
# network namespace whose "host" has the link nslab-d0 with 10.200.18.1/24.
in_host_with_address() {
  unshare --net sh -c 'ip link add nslab-d0 type veth peer name nslab-d1 && ip address add 10.200.18.1/24 dev nslab-d0 &&
    token=$1 program=$2 && shift 2 && exec env NSLAB_GUARD="$token" "$program" "$@"' sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" "$@"
}

@test "an address or subnet the host has, --veth twice, or a capability of a user namespace of our own: refused before clone" {
  run --separate-stderr in_host_with_address --veth 10.200.18.1/24,10.200.18.2/24 -- true
  expect "an address already on a host link names the link" "$DOC#lab05-errors" -- \
    [ "$stderr" = "05-net: --veth: 10.200.18.1 is already an address of the host's link nslab-d0: choose a subnet the host does not use" ]
  run --separate-stderr in_host_with_address --veth 10.200.18.129/25,10.200.18.130/25 -- true
  expect "a subnet inside one the host has is refused: the longer prefix would take part of it" "$DOC#lab05-errors" -- \
    [ "$stderr" = "05-net: --veth: 10.200.18.128/25 overlaps 10.200.18.1/24 on the host's link nslab-d0: choose a subnet the host does not use" ]
  run --separate-stderr in_host_with_address --veth 10.200.0.1/16,10.200.0.2/16 -- true
  expect "a subnet around one the host has is refused too" "$DOC#lab05-errors" -- [ "$status" -eq 125 ]
  begins_with "$stderr" "05-net: --veth: 10.200.0.0/16 overlaps 10.200.18.1/24"
  run --separate-stderr in_host_with_address --veth 10.200.19.1/24,10.200.19.2/24 -- true
  expect "a subnet beside it is fine (negative control)" "$DOC#lab05-veth" -- [ "$status" -eq 0 ]
  run --separate-stderr ct --veth 10.200.20.1/24,10.200.20.2/24 --veth 10.200.21.1/24,10.200.21.2/24 -- true
  expect "--veth twice is refused" "$DOC#lab05-errors" -- [ "$stderr" = "05-net: --veth: given twice: a container has one veth pair" ]
  # Under unshare -Ur, CapEff is full, but in a user namespace that does not own the host's network.
  run --separate-stderr unshare --user --map-root-user env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" \
    --veth 10.200.20.1/24,10.200.20.2/24 -- true
  expect "--veth from a user namespace of our own: the CAP_NET_ADMIN line" "$DOC#lab05-errors" -- \
    [ "$stderr" = "05-net: --veth needs CAP_NET_ADMIN on the host: run as root, or drop --veth (see docs/{en,zh}/troubleshooting.md#ts-veth-root)" ]
  expect_host_net_unchanged "$DOC#lab05-errors"
}

@test "--veth without CAP_NET_ADMIN: one line that says so, exit 125, nothing created" {
  command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
  run --separate-stderr setpriv --inh-caps=-net_admin --bounding-set=-net_admin -- \
    env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --veth 10.200.17.1/24,10.200.17.2/24 -- touch "$T/ran"
  expect "exit status 125" "$DOC#lab05-errors" -- [ "$status" -eq 125 ]
  assert_equal "$stderr" "05-net: --veth needs CAP_NET_ADMIN on the host: run as root, or drop --veth (see docs/{en,zh}/troubleshooting.md#ts-veth-root)"
  expect "COMMAND never ran" "$DOC#lab05-errors" -- [ ! -e "$T/ran" ]
  expect_host_net_unchanged "$DOC#lab05-errors"
}

# --- narration, and what the earlier labs gave -----------------------------------

@test "--verbose narrates the network steps; without it the program prints nothing of its own" {
  run --separate-stderr ct --verbose --veth 10.200.18.1/24,10.200.18.2/24 -- true
  assert_success
  expect "the flags by name, CLONE_NEWNET among them" "$DOC#lab05-flag" -- \
    grep -q 'clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD)' <<< "$stderr"
  expect "the net identity changes" "$DOC#lab05-flag" -- grep -qE 'net:\[[0-9]+\] \(host\) -> net:\[[0-9]+\] \(container\)  new' <<< "$stderr"
  expect "lo brought up" "$DOC#lab05-lo" -- grep -q 'lo IFF_UP' <<< "$stderr"
  expect "the veth made" "$DOC#lab05-veth" -- grep -q 'created veth nslab-' <<< "$stderr"
  expect "and deleted" "$DOC#lab05-teardown" -- grep -q 'deleted veth nslab-' <<< "$stderr"
  run --separate-stderr ct --veth 10.200.18.1/24,10.200.18.2/24 -- echo hello
  assert_success
  assert_output hello
  expect "nothing on stderr without --verbose" "$DOC" -- [ -z "$stderr" ]
}

@test "labs 01-04 still work: hostname, IPC, PID 1, --init and a fresh /proc" {
  run ct --hostname box -- sh -c 'hostname; echo $$; ipcs -q | grep -c "^0x" || true; ls /proc | grep -c "^[0-9][0-9]*$"'
  assert_success
  assert_equal "${lines[0]}" box
  assert_equal "${lines[1]}" 1
  assert_equal "${lines[2]}" 0
  expect "/proc lists only the container's few processes" lab04-mount.md#lab04-proc -- [ "${lines[3]}" -le 3 ]
  run ct --init -- sh -c 'echo $$; ps -o comm= -p 1'
  assert_success
  assert_equal "$(echo $output)" "2 nslab-init"
}
