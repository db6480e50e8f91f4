#!/usr/bin/env bats
# Lab 06 — the exercises' answers: the maps written by hand from the parent
# (1), capabilities against the owner of a namespace (2), a range of ids and
# the owners of files (3), a container in a container (4), and root inside a
# rootless container against a file of the host's root (5, an escape that
# must fail). The unprivileged parts run as NSLAB_USER_UID (nobody) through
# setpriv, from /, as rootless.bats does; the tests themselves run as root,
# which the negative controls and exercise 3 need.
# answers: 1=maps_by_hand.cpp 2=caps.cpp 3=map_range.sh 4=nested.sh 5=write_root_file.cpp

load ../../../common/bats/nslab
NSLAB_LAB=06-user
DOC=lab06-user.md
NSLAB_ROOT_WHY="the exercises compare an unprivileged user with root, and exercise 3 maps a range of ids as root"

lab_setup() {
  requires_userns
  MAPS_BY_HAND=$(exercise_answer 06-user-maps-by-hand)
  CAPS=$(exercise_answer 06-user-caps)
  MAP_RANGE_SH=$(exercise_answer map_range.sh)
  NESTED_SH=$(exercise_answer nested.sh)
  WRITE_ROOT_FILE=$(exercise_answer 06-user-write-root-file)
  HOST_DIR=""
}

lab_teardown() {
  [ -z "$HOST_DIR" ] || rm -rf "$HOST_DIR"
}

# user COMMAND...: COMMAND as the unprivileged user, from /, marked for the
# host guard.
user() {
  (cd / && NSLAB_GUARD=$NSLAB_GUARD_TOKEN exec "${NSLAB_AS_USER[@]}" "$@")
}

# The full set of capabilities of this kernel, as CapEff shows it (16 hex digits).
full_capabilities() {
  printf '%016x\n' $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1))
}

# --- exercise 1: the maps by hand --------------------------------------------------

@test "exercise 1: as a user, gid_map is refused until setgroups is denied, each map is written once, and the child becomes uid 0" {
  run --separate-stderr user "$MAPS_BY_HAND"
  expect "06-user-maps-by-hand runs as uid $NSLAB_USER_UID: exit 0, nothing on stderr" "$DOC#lab06-ex1" -- \
    [ "$status" -eq 0 -a -z "$stderr" ]
  u=$NSLAB_USER_UID g=$NSLAB_USER_GID
  expect "unmapped, the child is the overflow uid, 65534, before the maps" "$DOC#lab06-ex1" -- \
    grep -qxE "child [0-9]+, in a new user namespace, before the maps: uid 65534" <<< "${lines[0]}"
  expect "its uid_map is empty at first" "$DOC#lab06-ex1" -- [ "${lines[1]}" = "uid_map before: empty" ]
  expect "gid_map, with setgroups still allow: EPERM for an unprivileged writer" "$DOC#lab06-setgroups" -- \
    [ "${lines[2]}" = "gid_map \"0 $g 1\", setgroups still allow: Operation not permitted" ]
  expect "in the right order, deny, gid_map, uid_map: each written" "$DOC#lab06-maps" -- \
    [ "$(printf '%s\n' "${lines[@]:3:3}")" = "$(printf '%s\n' 'setgroups "deny": written' "gid_map \"0 $g 1\": written" "uid_map \"0 $u 1\": written")" ]
  expect "a map is written once: the second uid_map is refused" "$DOC#lab06-maps" -- \
    [ "${lines[6]}" = "uid_map \"0 $u 1\", a second time: Operation not permitted" ]
  expect "once gid_map is there, setgroups cannot go back to allow" "$DOC#lab06-setgroups" -- \
    [ "${lines[7]}" = 'setgroups "allow", after gid_map: Operation not permitted' ]
  expect "the map as the parent wrote it" "$DOC#lab06-maps" -- [ "${lines[8]}" = "uid_map after: 0 $u 1" ]
  expect "and the child, without any setuid, is uid 0 now" "$DOC#lab06-root" -- [ "${lines[9]}" = "child, after the maps: uid 0" ]
}

@test "exercise 1: negative control: as root, the same gid_map is written with setgroups still allow, and the deny after it is refused" {
  run --separate-stderr "$MAPS_BY_HAND"
  assert_success
  expect "root holds CAP_SETGID in the parent namespace: gid_map is written before setgroups is denied" "$DOC#lab06-setgroups" -- \
    [ "${lines[2]}" = 'gid_map "0 0 1", setgroups still allow: written' ]
  expect "and setgroups can no longer be denied once gid_map is there" "$DOC#lab06-setgroups" -- \
    [ "${lines[3]}" = 'setgroups "deny": Operation not permitted' ]
  expect "a map is written once, for root too" "$DOC#lab06-maps" -- \
    [ "${lines[4]} | ${lines[6]}" = 'gid_map "0 0 1": Operation not permitted | uid_map "0 0 1", a second time: Operation not permitted' ]
  expect "the child is uid 0 after the maps" "$DOC#lab06-root" -- [ "${lines[9]}" = "child, after the maps: uid 0" ]
}

@test "exercise 1: 06-user-maps-by-hand with an argument, or where no user namespace may be made: one line, exit 125" {
  run --separate-stderr "$MAPS_BY_HAND" extra
  expect "an argument: the usage line, exit 125" "$DOC#lab06-ex1" -- [ "$status.$stderr" = "125.Usage: 06-user-maps-by-hand" ]
  run --separate-stderr user unshare --user --map-root-user sh -c \
    'echo 0 > /proc/sys/user/max_user_namespaces && exec "$1"' sh "$MAPS_BY_HAND"
  expect "user.max_user_namespaces at 0: exit 125, one line that names the call and the setting" "$DOC#lab06-restricted" -- \
    failed_with 125 '^06-user-maps-by-hand: unshare\(CLONE_NEWUSER\): .*user\.max_user_namespaces'
  expect "no map was written: nothing on stdout" "$DOC#lab06-ex1" -- [ -z "$output" ]
}

# --- exercise 2: capabilities inside and outside --------------------------------

@test "exercise 2: root of a rootless container has every capability over its own UTS namespace; root of a bare user namespace, the same set, and is refused" {
  full=$(full_capabilities)
  run --separate-stderr user "$NSLAB_PROGRAM" -- "$CAPS"
  expect "in a rootless container, sethostname is allowed: exit 0" "$DOC#lab06-ex2" -- [ "$status.$stderr" = "0." ]
  expect "every capability: CapEff $full" "$DOC#lab06-caps" -- [ "${lines[0]}" = "CapEff: $full" ]
  own_user=${lines[1]#user namespace: }
  own_uts=${lines[2]#UTS namespace: }
  own_uts=${own_uts%%,*}
  expect "a UTS namespace of its own, not the host's $(ns_of $$ uts)" "$DOC#lab06-flag" -- \
    [ "$own_uts" != "$(ns_of $$ uts)" -a "$own_user" != "$(ns_of $$ user)" ]
  expect "owned by the container's own user namespace, $own_user" "$DOC#lab06-caps" -- \
    [ "${lines[2]}" = "UTS namespace: $own_uts, owned by $own_user, ours" ]
  expect "sethostname: done" "$DOC#lab06-caps" -- grep -qE '^sethostname\(".*"\): done$' <<< "${lines[3]}"

  run --separate-stderr user unshare --user --map-root-user "$CAPS"
  expect "unshare --user --map-root-user: sethostname refused, exit 1" "$DOC#lab06-ex2" -- [ "$status.$stderr" = "1." ]
  expect "with the very same capabilities, CapEff $full" "$DOC#lab06-caps" -- [ "${lines[0]}" = "CapEff: $full" ]
  expect "the host's UTS namespace, $(ns_of $$ uts), owned by a user namespace above its own" "$DOC#lab06-caps" -- \
    [ "${lines[2]}" = "UTS namespace: $(ns_of $$ uts), owned by a user namespace above ours (NS_GET_USERNS: Operation not permitted)" ]
  expect "sethostname: EPERM" "$DOC#lab06-caps" -- grep -qE '^sethostname\(".*"\): Operation not permitted$' <<< "${lines[3]}"
  expect "the host keeps its hostname" "$DOC#lab06-caps" -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
}

@test "exercise 2: negative control: the user on the host, in the owner's own namespace, has no capability and is refused" {
  run --separate-stderr user "$CAPS"
  expect "exit 1: refused" "$DOC#lab06-ex2" -- [ "$status.$stderr" = "1." ]
  expect "no capability: CapEff 0000000000000000" "$DOC#lab06-caps" -- [ "${lines[0]}" = "CapEff: 0000000000000000" ]
  expect "the host's user namespace owns the host's UTS namespace: ours" "$DOC#lab06-caps" -- \
    [ "${lines[1]} | ${lines[2]}" = "user namespace: $(ns_of $$ user) | UTS namespace: $(ns_of $$ uts), owned by $(ns_of $$ user), ours" ]
  expect "sethostname: EPERM" "$DOC#lab06-caps" -- grep -qE '^sethostname\(".*"\): Operation not permitted$' <<< "${lines[3]}"
  run --separate-stderr "$CAPS" extra
  expect "an argument: the usage line, exit 125" "$DOC#lab06-ex2" -- [ "$status.$stderr" = "125.Usage: 06-user-caps" ]
}

# --- exercise 3: a range --------------------------------------------------------

@test "exercise 3: with a range, a tree of the host's root is 65534's inside and closed to root; given to the range, its files are the range's on the host" {
  run --separate-stderr "$MAP_RANGE_SH" "$NSLAB_PROGRAM" "$(nslab_rootfs)"
  expect "map_range.sh: exit 0, nothing on stderr" "$DOC#lab06-ex3" -- [ "$status.$stderr" = "0." ]
  expect "the host's root is not in the map: its files show the overflow id inside" "$DOC#lab06-owners" -- \
    [ "$(reported "owners inside, a tree of the host's root")" = "/ 65534:65534, /etc/passwd 65534:65534" ]
  expect "and the container's root, 100000 on the host, may not write there" "$DOC#lab06-owners" -- \
    [ "$(reported "root inside creates /root/x there")" = "refused (Permission denied)" ]
  expect "given to 100000, the tree is root's inside" "$DOC#lab06-owners" -- \
    [ "$(reported "owners inside, the tree given to the range")" = "/ 0:0, /etc/passwd 0:0" ]
  expect "files made inside: root's and 1000's, seen inside" "$DOC#lab06-owners" -- \
    [ "$(reported "files made inside, seen inside")" = "by root 0:0, by 1000 1000:1000" ]
  expect "and 100000's and 101000's, seen from the host" "$DOC#lab06-owners" -- \
    [ "$(reported "files made inside, seen from the host")" = "by root 100000:100000, by 1000 101000:101000" ]
  expect "an id past the map's 65536 cannot be given: EINVAL" "$DOC#lab06-maps" -- \
    [ "$(reported "chown 70000 inside")" = "refused (Invalid argument)" ]
}

@test "exercise 3: negative control: with root's default map, 0 0 1, root inside writes the host root's tree" {
  rootfs=$BATS_TEST_TMPDIR/rootfs
  cp -a "$(nslab_rootfs)" "$rootfs"
  run --separate-stderr ct --rootfs "$rootfs" -- sh -c 'stat -c %u:%g /etc/passwd; touch /root/x && echo made'
  expect "the host's root is root inside: its files are 0:0, and /root/x is made" "$DOC#lab06-ex3" -- \
    [ "$status.$(echo $output)" = "0.0:0 made" ]
  expect "the file is root's on the host" "$DOC#lab06-ex3" -- [ "$(stat -c %u:%g "$rootfs/root/x")" = 0:0 ]
}

@test "exercise 3: map_range.sh with a wrong argument, or without root: one line, exit 2" {
  run --separate-stderr "$MAP_RANGE_SH" "$NSLAB_PROGRAM"
  expect "one argument: the usage line, exit 2" "$DOC#lab06-ex3" -- [ "$status.$stderr" = "2.Usage: map_range.sh PATH/TO/06-user ROOTFS" ]
  run --separate-stderr "$MAP_RANGE_SH" "$NSLAB_PROGRAM" "$BATS_TEST_TMPDIR"
  expect "a directory with no bin/sh: exit 2, one line" "$DOC#lab06-ex3" -- \
    [ "$status.$stderr" = "2.map_range.sh: $BATS_TEST_TMPDIR: not a root filesystem (no bin/sh in it)" ]
  run --separate-stderr user "$MAP_RANGE_SH" "$NSLAB_PROGRAM" "$(nslab_rootfs)"
  expect "as a user: exit 2, one line that says root is needed" "$DOC#lab06-ex3" -- \
    failed_with 2 '^map_range\.sh: needs root: '
}

# --- exercise 4: a container in a container ------------------------------------

@test "exercise 4: one map, three readings: 0 0 1 inside and from the outer container, 0 UID 1 from the host" {
  run --separate-stderr user "$NESTED_SH" "$NSLAB_PROGRAM"
  expect "nested.sh as uid $NSLAB_USER_UID: exit 0, nothing on stderr" "$DOC#lab06-ex4" -- [ "$status.$stderr" = "0." ]
  expect "inside the inner container: 0 0 1, its root is the outer container's root" "$DOC#lab06-ex4" -- \
    [ "$(reported "inner map, read inside the inner container")" = "0 0 1" ]
  expect "from the outer container, the same: the outer namespace is the map's parent" "$DOC#lab06-ex4" -- \
    [ "$(reported "inner map, read from the outer container")" = "0 0 1" ]
  expect "from the host, the same line reads 0 $NSLAB_USER_UID 1" "$DOC#lab06-ex4" -- \
    [ "$(reported "inner map, read from the host")" = "0 $NSLAB_USER_UID 1" ]
  expect "as the outer container's own map does" "$DOC#lab06-maps" -- \
    [ "$(reported "outer map, read from the host")" = "0 $NSLAB_USER_UID 1" ]
  read -r _ host _ outer _ inner <<< "$(reported "user namespaces" | tr -d ,)"
  expect "three user namespaces: the host's ($(ns_of $$ user)), the outer's, the inner's" "$DOC#lab06-ex4" -- \
    [ "$host" = "$(ns_of $$ user)" -a -n "$outer" -a -n "$inner" -a "$outer" != "$host" -a "$inner" != "$outer" -a "$inner" != "$host" ]
  expect "nothing of the containers is left" "$DOC#lab06-ex4" -- wait_for 5 nslab_no_guarded_processes
}

@test "exercise 4: nested.sh with a wrong argument: one line, exit 2" {
  run --separate-stderr "$NESTED_SH"
  expect "no argument: the usage line, exit 2" "$DOC#lab06-ex4" -- [ "$status.$stderr" = "2.Usage: nested.sh PATH/TO/06-user" ]
  run --separate-stderr "$NESTED_SH" "$BATS_TEST_TMPDIR/no-such-runtime"
  expect "a program that is not there: exit 2, one line" "$DOC#lab06-ex4" -- \
    [ "$status.$stderr" = "2.nested.sh: $BATS_TEST_TMPDIR/no-such-runtime: not an executable file" ]
}

# --- exercise 5: root inside, a file of the host's root ------------------------

# host_root_file: a file of the host's root, mode 0644, in a directory of
# root's that every user may enter (Bats' own may not be). Sets HOST_FILE.
host_root_file() {
  HOST_DIR=$(mktemp -d /tmp/nslab-hostfile.XXXXXX)
  chmod 755 "$HOST_DIR"
  HOST_FILE=$HOST_DIR/root-file
  echo "the host's root wrote this" > "$HOST_FILE"
  chmod 644 "$HOST_FILE"
}

# The file's owner, mode, size, time of change and content, to compare before and after.
file_state() {
  stat -c '%u:%g %a %s %Z' "$1" && sha256sum < "$1"
}

@test "exercise 5: root inside a rootless container, with every capability, cannot write a file of the host's root" {
  host_root_file
  before=$(file_state "$HOST_FILE")
  run --separate-stderr user "$NSLAB_PROGRAM" -- "$WRITE_ROOT_FILE" "$HOST_FILE"
  expect "the write is refused: exit 1, nothing on stderr" "$DOC#lab06-ex5" -- [ "$status.$stderr" = "1." ]
  expect "although the program is uid 0, uid $NSLAB_USER_UID outside" "$DOC#lab06-root" -- \
    [ "${lines[0]}" = "uid 0, which is uid $NSLAB_USER_UID outside (uid_map: 0 $NSLAB_USER_UID 1)" ]
  expect "with every capability, CAP_DAC_OVERRIDE among them" "$DOC#lab06-caps" -- [ "${lines[1]}" = "CapEff: $(full_capabilities)" ]
  expect "inside, the host's root is unmapped: the file shows the overflow id, 65534" "$DOC#lab06-owners" -- \
    [ "${lines[2]}" = "$HOST_FILE: owner 65534, group 65534, mode 0644, as this namespace sees it" ]
  expect "open for writing: EACCES" "$DOC#lab06-ex5" -- [ "${lines[3]}" = "open($HOST_FILE, O_WRONLY|O_APPEND): Permission denied" ]
  expect "the file is as it was: owner, mode, size, ctime, content" "$DOC#lab06-ex5" -- [ "$(file_state "$HOST_FILE")" = "$before" ]
}

@test "exercise 5: negative control: the host's root writes it, and so does root of a container whose map covers 0" {
  host_root_file
  run --separate-stderr "$WRITE_ROOT_FILE" "$HOST_FILE"
  expect "run by the host's root, the same program writes the file: exit 0" "$DOC#lab06-ex5" -- [ "$status.$stderr" = "0." ]
  expect "it sees the owner as it is, 0" "$DOC#lab06-owners" -- [ "${lines[2]}" = "$HOST_FILE: owner 0, group 0, mode 0644, as this namespace sees it" ]
  expect "and its line is in the file" "$DOC#lab06-ex5" -- [ "$(tail -n 1 "$HOST_FILE")" = "written by uid 0 (uid 0 outside)" ]
  run --separate-stderr ct -- "$WRITE_ROOT_FILE" "$HOST_FILE"
  expect "06-user run by root maps 0 to 0: root inside is the file's owner, and writes it" "$DOC#lab06-ex5" -- \
    [ "$status.${lines[0]}" = "0.uid 0, which is uid 0 outside (uid_map: 0 0 1)" ]
  expect "a second line in the file" "$DOC#lab06-ex5" -- [ "$(grep -c '^written by uid 0 (uid 0 outside)$' "$HOST_FILE")" = 2 ]
}

@test "exercise 5: negative control: a file of the user's own, 0644, is written by root of the user's rootless container" {
  host_root_file
  chown "$NSLAB_USER_UID:$NSLAB_USER_GID" "$HOST_FILE"
  run --separate-stderr user "$NSLAB_PROGRAM" -- "$WRITE_ROOT_FILE" "$HOST_FILE"
  expect "the same program, the same container: the file's owner is mapped, to 0, and it is written" "$DOC#lab06-ex5" -- \
    [ "$status.$stderr" = "0." ]
  expect "inside, the file is root's" "$DOC#lab06-owners" -- [ "${lines[2]}" = "$HOST_FILE: owner 0, group 0, mode 0644, as this namespace sees it" ]
  expect "its line is in the file, written by uid 0 inside, $NSLAB_USER_UID outside" "$DOC#lab06-ex5" -- \
    [ "$(tail -n 1 "$HOST_FILE")" = "written by uid 0 (uid $NSLAB_USER_UID outside)" ]
}

@test "exercise 5: 06-user-write-root-file without a FILE, or with a missing one: one line, exit 125" {
  run --separate-stderr "$WRITE_ROOT_FILE"
  expect "no FILE: the usage line, exit 125" "$DOC#lab06-ex5" -- [ "$status.$stderr" = "125.Usage: 06-user-write-root-file FILE" ]
  run --separate-stderr "$WRITE_ROOT_FILE" "$BATS_TEST_TMPDIR/missing"
  expect "a missing FILE: exit 125, one line, nothing on stdout" "$DOC#lab06-ex5" -- \
    [ "$status.$output.$stderr" = "125..06-user-write-root-file: stat $BATS_TEST_TMPDIR/missing: No such file or directory" ]
}
