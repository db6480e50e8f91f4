#!/usr/bin/env bats
# Lab 06 — the user namespace, the tests that need root: maps of many ids,
# written directly as root or through newuidmap/newgidmap for another user,
# --veth in a user namespace, the restricted case and bad map values.
# Without root, rootless.bats covers what an unprivileged user can check.

load ../../../common/bats/nslab
NSLAB_LAB=06-user
DOC=lab06-user.md
NSLAB_ROOT_WHY="these lab 06 tests write maps of many ids, switch users and make veths (rootless.bats runs without root)"

lab_setup() {
  T=$BATS_TEST_TMPDIR
  AWAIT_GO="n=0; until [ -e '$T/go' ] || [ \$n -ge 200 ]; do sleep 0.05; n=\$((n + 1)); done"
  # A directory every id can reach and write, unlike Bats' own (root's, 0700).
  USER_DIR=$(mktemp -d /tmp/nslab-user.XXXXXX)
  chmod 1777 "$USER_DIR"
  remember_host_net
}

lab_teardown() {
  exec 8<&- 2>/dev/null || true
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true  # ours: started by this test
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}

# The map lines of a uid_map or gid_map, one "IN OUT COUNT" per line, unpadded.
map_of() {
  awk '{ print $1, $2, $3 }' "$1"
}

# with_subids SUBUID SUBGID COMMAND...: runs COMMAND (from /) while /etc/subuid
# and /etc/subgid hold the given lines — bind mounts in a private mount
# namespace: the host's files are never touched.
with_subids() {
  [ -e /etc/subuid ] && [ -e /etc/subgid ] || skip "needs /etc/subuid and /etc/subgid to bind-mount over (Debian: passwd)"
  printf '%s' "$1" > "$T/subuid"
  printf '%s' "$2" > "$T/subgid"
  chmod 644 "$T/subuid" "$T/subgid"
  shift 2
  unshare --mount --propagation private -- sh -c \
    'mount --bind "$1" /etc/subuid && mount --bind "$2" /etc/subgid || exit 90; shift 2; cd / && exec "$@"' \
    sh "$T/subuid" "$T/subgid" "$@"
}

# ct_as_user_without_path ARGS...: the program as the unprivileged user
# (NSLAB_AS_USER), with a PATH where no newuidmap or newgidmap is found.
ct_as_user_without_path() {
  (cd / && NSLAB_GUARD=$NSLAB_GUARD_TOKEN PATH=/nonexistent exec "${NSLAB_AS_USER[@]}" "$NSLAB_PROGRAM" "$@")
}

# --- the namespace, and who owns the others ----------------------------------

@test "a new user namespace, which owns every other new namespace of the container" {
  start_ct -- sh -c "touch '$T/ready'; $AWAIT_GO"
  wait_for 5 test -e "$T/ready"
  inside=$(child_of "$CT_PID")
  expect_namespaces "$inside" "$DOC#lab06-flag" "user uts ipc pid mnt net" "cgroup"
  user=$(ns_of "$inside" user)
  user=${user//[^0-9]/}
  run lsns -p "$inside" -n -o TYPE,NS,ONS
  for kind in uts ipc pid mnt net; do
    expect "the new $kind namespace is owned by the container's user namespace ($user), created in the same clone" "$DOC#lab06-flag" -- \
      grep -qE "^$kind +[0-9]+ +$user\$" <<< "$output"
  done
  host_user=$(ns_of $$ user)
  run lsns -p $$ -n -o TYPE,NS,ONS
  expect "the host's net namespace is owned by the host's user namespace (negative control)" "$DOC#lab06-flag" -- \
    grep -qE "^net +[0-9]+ +${host_user//[^0-9]/}\$" <<< "$output"
  touch "$T/go"
  finish_ct
  assert_success
}

@test "as root, the default maps are 0 0 1: root inside is root outside, seen from both sides" {
  start_ct -- sh -c "{ id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; } > '$T/inside.tmp'; mv '$T/inside.tmp' '$T/inside'; $AWAIT_GO"
  wait_for 5 test -e "$T/inside"
  inside=$(child_of "$CT_PID")
  expect "from the host, /proc/$inside/uid_map maps the caller's uid 0 to 0, one id" "$DOC#lab06-maps" -- [ "$(map_of "/proc/$inside/uid_map")" = "0 0 1" ]
  expect "and gid_map the caller's gid 0 to 0" "$DOC#lab06-maps" -- [ "$(map_of "/proc/$inside/gid_map")" = "0 0 1" ]
  expect "the host sees the container's process as uid 0" "$DOC#lab06-root" -- grep -qE '^Uid:\s+0\s+0\s+0\s+0$' "/proc/$inside/status"
  touch "$T/go"
  finish_ct
  assert_success
  expect "inside: uid 0, gid 0, and the same maps" "$DOC#lab06-maps" -- [ "$(awk '{ print $1, $2, $3 }' "$T/inside" | xargs)" = "0 0 0 0 1 0 0 1" ]
}

@test "setgroups is deny, written before gid_map, then uid_map" {
  start_ct -- sh -c "cat /proc/self/setgroups > '$T/inside.tmp'; mv '$T/inside.tmp' '$T/inside'; $AWAIT_GO"
  wait_for 5 test -e "$T/inside"
  inside=$(child_of "$CT_PID")
  expect "the host's own setgroups is allow (negative control)" "$DOC#lab06-setgroups" -- [ "$(cat /proc/self/setgroups)" = allow ]
  expect "from the host, /proc/$inside/setgroups is deny" "$DOC#lab06-setgroups" -- [ "$(cat "/proc/$inside/setgroups")" = deny ]
  expect "inside too" "$DOC#lab06-setgroups" -- [ "$(cat "$T/inside")" = deny ]
  touch "$T/go"
  finish_ct
  assert_success
  run --separate-stderr ct --verbose -- true
  assert_success
  expect "the flags by name, CLONE_NEWUSER among them" "$DOC#lab06-flag" -- \
    grep -q 'clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWUSER|SIGCHLD)' <<< "$stderr"
  expect "the user identity changes" "$DOC#lab06-flag" -- grep -qE 'user:\[[0-9]+\] \(host\) -> user:\[[0-9]+\] \(container\)  new' <<< "$stderr"
  setgroups=$(grep -n 'setgroups' <<< "$stderr" | head -1 | cut -d: -f1)
  gid_map=$(grep -n 'to /proc/[0-9]*/gid_map' <<< "$stderr" | head -1 | cut -d: -f1)
  expect "the narration tells of setgroups" "$DOC#lab06-setgroups" -- [ -n "$setgroups" ]
  expect "and of gid_map" "$DOC#lab06-setgroups" -- [ -n "$gid_map" ]
  expect "setgroups (line $setgroups) before gid_map (line $gid_map)" "$DOC#lab06-setgroups" -- [ "$setgroups" -lt "$gid_map" ]
}

# --- maps of many ids, as root ------------------------------------------------

@test "as root, --uid-map 0:100000:65536 is written directly: root inside is uid 100000 outside" {
  # newuidmap and newgidmap replaced by programs that fail: root needs neither.
  echo root-owned > "$USER_DIR/root-file"
  chmod 644 "$USER_DIR/root-file"
  run env D="$USER_DIR" unshare --mount --propagation private -- sh -c '
    mount --bind /bin/false /usr/bin/newuidmap && mount --bind /bin/false /usr/bin/newgidmap || exit 90
    exec env NSLAB_GUARD="$1" "$2" --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- sh -c "
      id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch \"\$D/made-inside\"
      echo changed 2>/dev/null >> \"\$D/root-file\" && echo root-file-written || echo root-file-refused
      v=\$(cat /proc/sys/vm/swappiness); echo \$v 2>/dev/null > /proc/sys/vm/swappiness && echo sysctl-written || echo sysctl-refused"' \
    sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM"
  assert_success
  expect "inside: uid 0 and gid 0" "$DOC#lab06-root" -- [ "$(echo ${lines[0]} ${lines[1]})" = "0 0" ]
  expect "the maps as given" "$DOC#lab06-maps" -- [ "$(echo ${lines[2]} ${lines[3]})" = "0 100000 65536 0 100000 65536" ]
  expect "a file made inside by root belongs to 100000:100000 on the host" "$DOC#lab06-root" -- \
    [ "$(stat -c %u:%g "$USER_DIR/made-inside")" = 100000:100000 ]
  expect "root inside cannot write a root-owned file of the host" "$DOC#lab06-root" -- [ "${lines[4]}" = root-file-refused ]
  expect "the file is unchanged" "$DOC#lab06-root" -- [ "$(cat "$USER_DIR/root-file")" = root-owned ]
  expect "nor a global sysctl (vm.swappiness)" "$DOC#lab06-root" -- [ "${lines[5]}" = sysctl-refused ]
  # The negative control: with the default map, root inside IS root outside.
  run ct -- sh -c "echo changed >> '$USER_DIR/root-file' && echo root-file-written"
  expect "mapped to the host's root, root inside writes the same file (negative control)" "$DOC#lab06-root" -- [ "$output" = root-file-written ]
}

@test "--uid-map and --gid-map are repeatable: the ranges in one map" {
  run ct --uid-map 0:100000:1000 --uid-map 1000:200000:10 --gid-map 0:100000:1 --gid-map 5:300005:2 -- \
    sh -c 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map'
  assert_success
  expect "uid_map holds both ranges, in order" "$DOC#lab06-maps" -- \
    [ "$(sed -n '1,/^--$/p' <<< "$output" | awk 'NF == 3 { print $1, $2, $3 }' | paste -sd,)" = "0 100000 1000,1000 200000 10" ]
  expect "gid_map too" "$DOC#lab06-maps" -- \
    [ "$(sed -n '/^--$/,$p' <<< "$output" | awk 'NF == 3 { print $1, $2, $3 }' | paste -sd,)" = "0 100000 1,5 300005 2" ]
}

@test "the child waits for its maps: twelve containers in a row are root inside, never nobody" {
  # Until the runtime writes the maps, the child is nobody (65534) and cannot
  # become root: a child that goes on before GO fails, or runs COMMAND unmapped.
  for round in $(seq 12); do
    status=0
    out=$(ct --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- sh -c 'id -u; id -g; wc -l < /proc/self/uid_map' 2>&1) || status=$?
    expect "round $round: exit status 0, uid 0, gid 0 and a map, once the runtime has written it" "$DOC#lab06-maps" -- \
      [ "$status.$(echo $out)" = "0.0 0 1" ]
  done
}

# --- another user's ids: newuidmap and newgidmap ----------------------------------

@test "as another user, --uid-map and --gid-map of many ids go through newuidmap and newgidmap" {
  run with_subids "$NSLAB_USER_UID:100000:65536"$'\n' "$NSLAB_USER_GID:100000:65536"$'\n' \
    "${NSLAB_AS_USER[@]}" env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- \
    sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups'
  expect "uid $NSLAB_USER_UID, with ranges in /etc/subuid and /etc/subgid, maps 65536 ids (90: the bind mounts failed)" "$DOC#lab06-maps" -- [ "$status" -eq 0 ]
  expect "root inside" "$DOC#lab06-maps" -- [ "$(echo ${lines[0]} ${lines[1]})" = "0 0" ]
  expect "the maps its ranges allow" "$DOC#lab06-maps" -- [ "$(echo ${lines[2]} ${lines[3]})" = "0 100000 65536 0 100000 65536" ]
  expect "setgroups is deny there too" "$DOC#lab06-setgroups" -- [ "${lines[4]}" = deny ]
}

@test "as another user, a range /etc/subuid does not give is refused: one line, exit 125" {
  run --separate-stderr with_subids "$NSLAB_USER_UID:100000:65536"$'\n' "$NSLAB_USER_GID:100000:65536"$'\n' \
    "${NSLAB_AS_USER[@]}" env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --uid-map 0:100000:65537 -- touch "$USER_DIR/ran"
  expect "exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
  expect "one line" "$DOC#lab06-maps" -- is_one_line "$stderr"
  expect "that names newuidmap and /etc/subuid" "$DOC#lab06-maps" -- grep -q '^06-user: .*newuidmap.*/etc/subuid' <<< "$stderr"
  expect "COMMAND never ran" "$DOC#lab06-maps" -- [ ! -e "$USER_DIR/ran" ]
  run --separate-stderr with_subids "" "" \
    "${NSLAB_AS_USER[@]}" env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --gid-map 0:100000:10 -- touch "$USER_DIR/ran"
  expect "with an empty /etc/subgid: exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
  expect "one line that names newgidmap and /etc/subgid" "$DOC#lab06-maps" -- \
    is_one_line_matching "$stderr" '^06-user: .*newgidmap.*/etc/subgid'
  expect "COMMAND never ran" "$DOC#lab06-maps" -- [ ! -e "$USER_DIR/ran" ]
}

@test "as another user without newuidmap, --uid-map says what to install" {
  run --separate-stderr ct_as_user_without_path --uid-map 0:100000:65536 -- /bin/touch "$USER_DIR/ran"
  expect "exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
  expect "one line" "$DOC#lab06-maps" -- is_one_line "$stderr"
  expect "that says newuidmap is missing, which package has it, and what it checks" "$DOC#lab06-maps" -- \
    grep -q '^06-user: --uid-map 0:100000:65536: .*newuidmap, which is not installed (Debian: apt install uidmap.*/etc/subuid' <<< "$stderr"
  run --separate-stderr ct_as_user_without_path --gid-map 0:100000:65536 -- /bin/touch "$USER_DIR/ran"
  expect "for --gid-map: exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
  expect "and newgidmap named" "$DOC#lab06-maps" -- \
    is_one_line_matching "$stderr" '^06-user: --gid-map 0:100000:65536: .*newgidmap, which is not installed'
  expect "COMMAND never ran" "$DOC#lab06-maps" -- [ ! -e "$USER_DIR/ran" ]
  run ct_as_user_without_path -- /bin/sh -c 'echo $(/usr/bin/id -u)'
  expect "the default maps need no helper: root inside (positive control)" "$DOC#lab06-rootless" -- [ "$output" = 0 ]
}

@test "as another user, a newgidmap that exits 0 without writing the map is caught: one line, 125" {
  fake=$USER_DIR/fakebin
  mkdir -p "$fake"
  printf '#!/bin/sh\nexit 0\n' > "$fake/newuidmap"
  printf '#!/bin/sh\nexit 0\n' > "$fake/newgidmap"
  chmod 755 "$fake" "$fake/newuidmap" "$fake/newgidmap"
  run --separate-stderr env PATH="$fake:/usr/bin:/bin" NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "${NSLAB_AS_USER[@]}" \
    "$NSLAB_PROGRAM" --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- touch "$USER_DIR/ran"
  expect "a helper that exits 0 without writing the map: exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
  expect "one line that says the map is still empty" "$DOC#lab06-maps" -- \
    is_one_line_matching "$stderr" '^06-user: .*newgidmap .* exited 0 but /proc/[0-9]+/gid_map is still empty'
  expect "COMMAND never ran" "$DOC#lab06-maps" -- [ ! -e "$USER_DIR/ran" ]
}

@test "as root, --uid-map alone shifts the groups too: no host group 0 inside" {
  run ct --uid-map 0:100000:65536 -- cat /proc/self/gid_map
  assert_success
  expect "the gid map follows the uid map" "$DOC#lab06-maps" -- [ "$(awk '{ print $1, $2, $3 }' <<< "$output")" = "0 100000 65536" ]
  run ct --uid-map 0:100000:65536 --gid-map 0:0:1 -- cat /proc/self/gid_map
  expect "unless --gid-map says otherwise" "$DOC#lab06-maps" -- [ "$(awk '{ print $1, $2, $3 }' <<< "$output")" = "0 0 1" ]
}

# --- --veth in a user namespace -----------------------------------------------

@test "as root, --veth in a user namespace: eth0 inside, a server on the host answers, the host end deleted at once" {
  start_ct --veth 10.200.20.1/24,10.200.20.2/24 -- sh -c "{ id -u; ip -o -4 addr show dev eth0; } > '$T/inside.tmp'; mv '$T/inside.tmp' '$T/inside'
    $AWAIT_GO; exec '$NSLAB_TCP_PROBE' connect 10.200.20.1 47020 from-container"
  wait_for 5 test -e "$T/inside"
  inside=$(child_of "$CT_PID")
  host_end=$(host_end_of "$inside")
  exec 8< "/proc/$inside/ns/net"
  expect "root inside" "$DOC#lab06-root" -- [ "$(head -1 "$T/inside")" = 0 ]
  expect "eth0 has 10.200.20.2/24 inside" "lab05-net.md#lab05-veth" -- grep -q 'inet 10.200.20.2/24' "$T/inside"
  expect "the host end $host_end exists, with 10.200.20.1/24" "lab05-net.md#lab05-veth" -- \
    sh -c "ip -o -4 addr show dev '$host_end' | grep -q 10.200.20.1/24"
  SERVER_OUT=$T/server.out
  (exec "$NSLAB_TCP_PROBE" serve 10.200.20.1 47020 from-host) > "$SERVER_OUT" 2>&1 3>&- &
  SERVER_PID=$!
  wait_for 5 grep -qx listening "$SERVER_OUT"
  touch "$T/go"
  finish_ct
  assert_success
  expect "the container got the host's line" "lab05-net.md#lab05-veth" -- [ "$output" = from-host ]
  wait "$SERVER_PID"
  expect "the host got the container's" "lab05-net.md#lab05-veth" -- [ "$(tail -1 "$SERVER_OUT")" = from-container ]
  expect "the host end is gone at once, although the test holds the namespace" "lab05-net.md#lab05-teardown" -- link_gone "$host_end"
  exec 8<&-
  expect_host_net_unchanged "lab05-net.md#lab05-teardown"
}

# --- errors ---------------------------------------------------------------------

@test "user.max_user_namespaces at 0: the error names the setting" {
  # In a throw-away user namespace, whose limits are its own to lower.
  run --separate-stderr unshare --user --map-root-user sh -c \
    'echo 0 > /proc/sys/user/max_user_namespaces && exec env NSLAB_GUARD="$1" "$2" -- touch "$3/ran"' \
    sh "$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" "$USER_DIR"
  expect "exit status 125" "$DOC#lab06-restricted" -- [ "$status" -eq 125 ]
  expect "one line" "$DOC#lab06-restricted" -- is_one_line "$stderr"
  expect "that names the clone call and user.max_user_namespaces" "$DOC#lab06-restricted" -- \
    grep -q '^06-user: clone(.*CLONE_NEWUSER.*).*user\.max_user_namespaces' <<< "$stderr"
  expect "COMMAND never ran" "$DOC#lab06-restricted" -- [ ! -e "$USER_DIR/ran" ]
}

@test "bad --uid-map and --gid-map values: one line, exit 125, nothing created" {
  for option in uid-map gid-map; do
    for value in abc 0:100000 0:100000:0 0:100000:1:1 0::1 :0:1 -1:0:1 0:-1:1 0:100000:x " 0:100000:1" \
      "0:100000:1 " 0:4294967295:1 4294967295:0:1 0:4294967290:10 0:18446744073709551616:1 "" 1:100000:10; do
      status=0
      stderr=$(ct "--$option" "$value" --veth 10.200.21.1/24,10.200.21.2/24 -- touch "$USER_DIR/ran" 2>&1 >/dev/null) || status=$?
      expect "--$option '$value' is refused with exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
      expect "one line on stderr for --$option '$value'" "$DOC#lab06-maps" -- is_one_line "$stderr"
      expect "the line starts '06-user: --$option' ('$value')" "$DOC#lab06-maps" -- begins_with "$stderr" "06-user: --$option"
    done
    for pair in "0:100000:10 5:200000:10" "0:100000:10 20:100005:10" "0:100000:10 0:200000:1"; do
      read -r first second <<< "$pair"
      status=0
      stderr=$(ct "--$option" "$first" "--$option" "$second" -- touch "$USER_DIR/ran" 2>&1 >/dev/null) || status=$?
      expect "overlapping ranges --$option $first --$option $second: exit status 125" "$DOC#lab06-maps" -- [ "$status" -eq 125 ]
      expect "one line that says they overlap" "$DOC#lab06-maps" -- \
        is_one_line_matching "$stderr" "^06-user: --$option .*overlap"
    done
  done
  expect "COMMAND never ran" "$DOC#lab06-maps" -- [ ! -e "$USER_DIR/ran" ]
  expect_host_net_unchanged "$DOC#lab06-maps"
  run --separate-stderr ct --uid-map 1:100000:10 -- true
  expect "a map without id 0 inside says why it needs one" "$DOC#lab06-maps" -- grep -q 'no range maps id 0 inside' <<< "$stderr"
  run --separate-stderr ct --uid-map
  assert_equal "$status" 125
  assert_equal "$stderr" "06-user: --uid-map needs a value (IN:OUT:COUNT)"
}

# --- what the earlier labs gave, inside a user namespace, as root ----------------

@test "labs 01-05 still work as root in a user namespace: hostname, IPC, PID 1, --init, /proc, lo, --rootfs" {
  run ct --hostname box -- sh -c 'hostname; echo $$; ipcmk -Q >/dev/null; ipcs -q | grep -c "^0x"; ls /proc | grep -c "^[0-9][0-9]*$"; ip -o link'
  assert_success
  assert_equal "${lines[0]}" box
  assert_equal "${lines[1]}" 1
  expect "a queue made inside is the only one there" lab02-ipc.md -- [ "${lines[2]}" = 1 ]
  expect "/proc lists only the container's few processes" lab04-mount.md#lab04-proc -- [ "${lines[3]}" -le 3 ]
  expect "lo alone, UP" lab05-net.md#lab05-lo -- grep -qE '^1: lo: <[A-Z_,]*\bUP\b' <<< "${lines[4]}"
  assert_equal "${#lines[@]}" 5
  expect "the host keeps its hostname" lab01-uts.md#lab01-flag -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
  run ct --init -- sh -c 'echo $$; ps -o comm= -p 1'
  assert_success
  assert_equal "$(echo $output)" "2 nslab-init"
  rootfs=$(nslab_rootfs)
  run ct --rootfs "$rootfs" -- sh -c 'cat /etc/issue; id -u; ls /sys/class/net'
  assert_success
  expect "in the root filesystem, root, with lo alone in /sys" lab04-mount.md#lab04-pivot -- \
    [ "$(echo ${lines[1]} ${lines[2]})" = "0 lo" ]
  assert_regex "${lines[0]}" '^nslab root filesystem'
}
