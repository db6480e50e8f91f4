#!/usr/bin/env bats
# Lab 05 — the exercises' answers: lo brought up with hand-written netlink (1),
# two containers wired to one bridge (2), and a network namespace kept alive by
# a descriptor after its runtime was killed (3). Each runs in a throw-away
# network namespace (unshare --net), so that nothing it does can reach the
# host's network.
# answers: 1=lo_up.cpp 2=bridge.sh 3=keep_alive.sh

load ../../../common/bats/nslab
NSLAB_LAB=05-net
DOC=lab05-net.md

lab_setup() {
  LO_UP=$(exercise_answer 05-net-lo-up)
  TCP_PROBE=$NSLAB_BUILD_DIR/bin/tests/tcp-probe
  BRIDGE_SH=$(exercise_answer bridge.sh)
  KEEP_ALIVE_SH=$(exercise_answer keep_alive.sh)
}

# Runs "$@", then prints the names of the links left in the namespace it ran in,
# on one last line, and exits with "$@"'s status.
# shellcheck disable=SC2016  # expanded by sh -c
AND_THEN_LINKS='"$@"; status=$?; echo "links afterwards: $(ip -o link show | cut -d: -f2 | xargs)"; exit $status'

# The flags of a line of `ip -o link show`, as a list: LOOPBACK UP LOWER_UP.
link_flags() {
  sed -E 's/^[^<]*<([^>]*)>.*/\1/; s/,/ /g' <<< "$1"
}

@test "exercise 1: lo comes up with one hand-written RTM_NEWLINK request" {
  run unshare --net -- sh -c 'ip -o link show lo; "$1"; echo "exit $?"; ip -o link show lo' sh "$LO_UP"
  assert_success
  expect "in a fresh network namespace, lo starts DOWN (negative control)" "$DOC#lab05-ex1" -- \
    [ -z "$(link_flags "${lines[0]}" | grep -w UP)" ]
  expect "05-net-lo-up prints nothing and exits 0" "$DOC#lab05-ex1" -- [ "${lines[1]}" = "exit 0" ]
  expect "afterwards lo is UP" "$DOC#lab05-ex1" -- grep -qw UP <<< "$(link_flags "${lines[2]}")"
  expect "the host's lo is UP as it was" "$DOC#lab05-ex1" -- grep -qw UP <<< "$(link_flags "$(ip -o link show lo)")"
}

@test "exercise 1: 05-net-lo-up IFNAME sets another link up, and nothing else" {
  run unshare --net -- sh -c 'ip link add nslab-ex0 type veth peer name nslab-ex1 && "$1" nslab-ex0 &&
                              ip -o link show nslab-ex0; ip -o link show nslab-ex1; ip -o link show lo' sh "$LO_UP"
  assert_success
  expect "nslab-ex0 is UP" "$DOC#lab05-ex1" -- grep -qw UP <<< "$(link_flags "${lines[0]}")"
  expect "its peer and lo are left as they were, down (ifi_change names IFF_UP of one link only)" "$DOC#lab05-ex1" -- \
    [ -z "$(link_flags "${lines[1]}" | grep -w UP)$(link_flags "${lines[2]}" | grep -w UP)" ]
}

@test "exercise 1: 05-net-lo-up with a link that does not exist: one line, exit 1" {
  run --separate-stderr unshare --net -- "$LO_UP" nslab-nosuch0
  assert_equal "$status" 1
  assert_equal "$stderr" '05-net-lo-up: if_nametoindex("nslab-nosuch0"): No such device'
  assert_equal "$output" ""
}

@test "exercise 1: the kernel's refusal comes back in the netlink reply, as errno" {
  # Without CAP_NET_ADMIN, sendto() succeeds: the EPERM is in the NLMSG_ERROR answer.
  run --separate-stderr unshare --net -- setpriv --inh-caps=-net_admin --bounding-set=-net_admin -- "$LO_UP"
  assert_equal "$status" 1
  assert_equal "$stderr" "05-net-lo-up: RTM_NEWLINK lo IFF_UP: Operation not permitted"
}

@test "exercise 2: two containers on one host bridge reach each other" {
  [ -x "$TCP_PROBE" ] || { echo "no $TCP_PROBE: build the target tcp_probe" >&2; return 1; }
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c "$AND_THEN_LINKS" sh \
    "$BRIDGE_SH" "$NSLAB_PROGRAM" "$TCP_PROBE" 3>&-
  assert_success
  expect "the script says what it does: it makes the bridge" "$DOC#lab05-ex2" -- grep -qF '$ ip link add name nslab-br0 type bridge' <<< "$output"
  expect "and moves a veth end into each container" "$DOC#lab05-ex2" -- grep -qE '\$ ip link set nslab-ct2 netns [0-9]+$' <<< "$output"
  net1=$(sed -n 's/^ *container 1: PID [0-9]*, //p' <<< "$output")
  net2=$(sed -n 's/^ *container 2: PID [0-9]*, //p' <<< "$output")
  outer=$(sed -n 's/^ *the host: *//p' <<< "$output")
  expect "the script shows the containers' and its own network namespaces" "$DOC#lab05-ex2" -- \
    [ "$(printf '%s\n' "$net1" "$net2" "$outer" | grep -c '^net:\[[0-9]*\]$')" = 3 ]
  expect "each container has a network namespace of its own" "$DOC#lab05-ex2" -- \
    [ "$(printf '%s\n' "$net1" "$net2" "$outer" | sort -u | wc -l)" = 3 ]
  expect "the server in container 2 got the client's line" "$DOC#lab05-ex2" -- grep -qx '    container 2 received: hello from container 1' <<< "$output"
  expect "the script ends with the line the server sent" "$DOC#lab05-ex2" -- [ "${lines[-2]}" = "hello from container 2" ]
  expect "in the throw-away namespace, no link is left but lo" "$DOC#lab05-ex2" -- [ "${lines[-1]}" = "links afterwards: lo" ]
  expect "the containers have ended" "$DOC#lab05-ex2" -- wait_for 5 nslab_no_guarded_processes
  expect "the host has no nslab-br0 (the script ran in a namespace of its own)" "$DOC#lab05-ex2" -- [ -z "$(ip -o link show nslab-br0 2>/dev/null)" ]
}

@test "exercise 2: the bridge script removes what it made when a step fails" {
  # /bin/false as the server: container 2 ends at once, after the network is built.
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c "$AND_THEN_LINKS" sh \
    "$BRIDGE_SH" "$NSLAB_PROGRAM" /bin/false 3>&-
  assert_equal "$status" 1
  expect "the network was built before the failure (positive control)" "$DOC#lab05-ex2" -- grep -qF '$ ip link set nslab-br0-p2 up' <<< "$output"
  expect "the script says what failed" "$DOC#lab05-ex2" -- grep -qx 'bridge.sh: the server in container 2 did not start listening' <<< "$output"
  expect "no link is left but lo: the bridge and both veth pairs are gone" "$DOC#lab05-ex2" -- [ "${lines[-1]}" = "links afterwards: lo" ]
  expect "container 1, which was waiting, was ended too" "$DOC#lab05-ex2" -- wait_for 5 nslab_no_guarded_processes
  # A bridge of that name that was there before is not the script's to delete.
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c 'ip link add nslab-br0 type bridge && '"$AND_THEN_LINKS" sh \
    "$BRIDGE_SH" "$NSLAB_PROGRAM" "$TCP_PROBE" 3>&-
  assert_failure
  expect "an nslab-br0 made by someone else is left alone" "$DOC#lab05-ex2" -- [ "${lines[-1]}" = "links afterwards: lo nslab-br0" ]
  expect "and the containers started before the failure have ended" "$DOC#lab05-ex2" -- wait_for 5 nslab_no_guarded_processes
}

@test "exercise 2: bridge.sh with a wrong argument, or without root: one line, exit 2, nothing made" {
  run --separate-stderr "$BRIDGE_SH" "$NSLAB_PROGRAM"
  expect "one argument instead of two: the usage line, exit 2" "$DOC#lab05-ex2" -- \
    [ "$status.$stderr" = "2.Usage: bridge.sh PATH/TO/05-net PATH/TO/tcp-probe" ]
  run --separate-stderr "$BRIDGE_SH" "$NSLAB_PROGRAM" "$BATS_TEST_TMPDIR/no-such-probe"
  expect "a program that is not there: exit 2, one line that names it" "$DOC#lab05-ex2" -- \
    [ "$status.$stderr" = "2.bridge.sh: $BATS_TEST_TMPDIR/no-such-probe: not an executable file" ]
  run --separate-stderr as_user "$BRIDGE_SH" "$NSLAB_PROGRAM" "$TCP_PROBE"
  expect "as an unprivileged user: exit 2, one line that says root is needed" "$DOC#lab05-ex2" -- \
    failed_with 2 '^bridge\.sh: needs root: '
  expect "the host has no nslab-br0" "$DOC#lab05-ex2" -- link_gone nslab-br0
}

# --- exercise 3: keep a network namespace alive ----------------------------------

# reported WHAT: the value of keep_alive.sh's report line "WHAT: VALUE".
reported() {
  sed -n "s/^$1: //p" <<< "$output"
}

@test "exercise 3: a descriptor on the namespace keeps the pair after SIGKILL of the runtime; closed, the pair goes" {
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c "$AND_THEN_LINKS" sh \
    "$KEEP_ALIVE_SH" "$NSLAB_PROGRAM" 3>&-
  assert_success
  expect "SIGKILL of the runtime ends the container too (PR_SET_PDEATHSIG)" "$DOC#lab05-ex3" -- \
    [ "$(reported "container after the kill")" = gone ]
  expect "but its host end stays, up, with its address, while fd 8 holds the namespace" "$DOC#lab05-ex3" -- \
    [ "$(reported "host end after the kill")" = "UP 10.200.73.1/24" ]
  expect "through fd 8, the container's eth0 is still there, with its address" "$DOC#lab05-ex3" -- \
    [ "$(reported "held namespace after the kill")" = "lo 127.0.0.1/8, eth0 10.200.73.2/24" ]
  expect "once fd 8 is closed, the kernel removes the pair" "$DOC#lab05-ex3" -- \
    [ "$(reported "host end after the close")" = gone ]
  expect "in the throw-away namespace, no link is left but lo" "$DOC#lab05-ex3" -- [ "${lines[-1]}" = "links afterwards: lo" ]
  expect "nothing of the containers is left" "$DOC#lab05-ex3" -- wait_for 5 nslab_no_guarded_processes
}

@test "exercise 3: a container that ends by itself takes its pair along, even while a descriptor holds its namespace" {
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c "$AND_THEN_LINKS" sh \
    "$KEEP_ALIVE_SH" "$NSLAB_PROGRAM" 3>&-
  assert_success
  expect "its host end is gone as the runtime returns: the runtime deleted it" "$DOC#lab05-ex3" -- \
    [ "$(reported "host end after a normal end")" = gone ]
  expect "the held namespace is still there, with lo only: the pair went with the host end" "$DOC#lab05-ex3" -- \
    [ "$(reported "held namespace after a normal end")" = "lo 127.0.0.1/8" ]
  expect "no link is left but lo" "$DOC#lab05-ex3" -- [ "${lines[-1]}" = "links afterwards: lo" ]
}

@test "exercise 3: negative control: with nothing holding the namespace, the pair goes after SIGKILL of the runtime" {
  # The same kill as keep_alive.sh's first run, without the descriptor.
  # shellcheck disable=SC2016  # expanded by sh -c
  run env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" unshare --net -- sh -c '
    "$1" --veth 10.200.75.1/24,10.200.75.2/24 -- sleep 30 & r=$!
    for i in $(seq 50); do
      c=$(cat /proc/$r/task/*/children 2>/dev/null | cut -d" " -f1)
      [ -n "$c" ] && ip link show "nslab-$c" >/dev/null 2>&1 && { echo "made: nslab-$c"; break; }
      sleep 0.1
    done
    kill -KILL $r; wait $r 2>/dev/null
    for i in $(seq 50); do ip link show "nslab-$c" >/dev/null 2>&1 || { echo gone; exit 0; }; sleep 0.1; done
    echo "still there"' sh "$NSLAB_PROGRAM" 3>&-
  expect "the host end was made (positive control)" "$DOC#lab05-teardown" -- grep -qxE 'made: nslab-[0-9]+' <<< "${lines[0]}"
  expect "and is gone within 5 s: only a holder keeps it" "$DOC#lab05-ex3" -- [ "${lines[1]:-}" = gone ]
  expect "nothing of the container is left" "$DOC#lab05-ex3" -- wait_for 5 nslab_no_guarded_processes
}

@test "exercise 3: keep_alive.sh with a wrong argument, or without root: one line, exit 2" {
  run --separate-stderr "$KEEP_ALIVE_SH"
  expect "no argument: the usage line, exit 2" "$DOC#lab05-ex3" -- [ "$status.$stderr" = "2.Usage: keep_alive.sh PATH/TO/05-net" ]
  run --separate-stderr "$KEEP_ALIVE_SH" "$BATS_TEST_TMPDIR/no-such-runtime"
  expect "a program that is not there: exit 2, one line that names it" "$DOC#lab05-ex3" -- \
    [ "$status.$stderr" = "2.keep_alive.sh: $BATS_TEST_TMPDIR/no-such-runtime: not an executable file" ]
  run --separate-stderr as_user "$KEEP_ALIVE_SH" "$NSLAB_PROGRAM"
  expect "as an unprivileged user: exit 2, one line that says root is needed" "$DOC#lab05-ex3" -- \
    failed_with 2 '^keep_alive\.sh: needs root: '
}
