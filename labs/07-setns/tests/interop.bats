#!/usr/bin/env bats
# Lab 07 — the system's own tools and nslab's agree on what a container is: a
# set of namespaces in /proc/PID/ns. 07-setns --enter joins containers made by
# unshare(1) and by lab 04; nsenter(1) --all joins one of lab 07 and sees what
# --enter sees; lsns(8) and nsinfo name the same namespaces.

load ../../../common/bats/nslab
load join
NSLAB_LAB=07-setns
DOC=lab07-setns.md
NSLAB_ROOT_WHY="these lab 07 tests make containers with unshare(1) and lab 04, and join them with nsenter(1)"

lab_setup() {
  T=$BATS_TEST_TMPDIR
  PID_FILE=$T/target.pid
  TARGET="" OTHER_PID="" JOIN_PID=""
  NSINFO=$NSLAB_BUILD_DIR/bin/nsinfo
}

lab_teardown() {
  end_started "${JOIN_PID:-}" "${OTHER_PID:-}"
}

# --- helpers (the shared ones: join.bash) -----------------------------------------

# start_other PROGRAM ARGS...: a container made by another program, in the
# background (OTHER_PID), marked for the host guard; its COMMAND ends by
# exec'ing sleep. Sets TARGET once sleep runs: the runtime's child.
start_other() {
  (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$@") > "$T/other.out" 2>&1 3>&- &
  OTHER_PID=$!
  wait_for 5 sh -c "c=\$(cat /proc/$OTHER_PID/task/*/children 2>/dev/null) && [ \"\$(cat /proc/\${c% }/comm)\" = sleep ]" ||
    { cat "$T/other.out" >&2; return 1; }
  TARGET=$(child_of "$OTHER_PID")
}

# What the joined COMMAND reports, the same whoever joined: hostname, whether its
# PID is above 1 and listed in /proc, its ids and map, its namespaces.
REPORT='hostname; [ $$ -gt 1 ] && echo pid-above-1; ls /proc | grep -qx $$ && echo pid-in-proc
        echo "ids $(id -u) $(id -g)"; echo "uid_map $(cat /proc/self/uid_map | xargs)"; '"$OWN_NAMESPACES"

# --- 07-setns joins what others made ------------------------------------------------

@test "07-setns --enter joins a container made by unshare(1): its hostname, its processes, its namespaces" {
  start_other unshare --uts --ipc --net --pid --fork --kill-child --mount-proc sh -c 'hostname ubox; exec sleep 1234.6'
  expect "unshare's child, the sleep, is PID 1 of the new PID namespace" "$DOC#lab07-interop" -- \
    grep -qE '^NSpid:\s+[0-9]+\s+1$' "/proc/$TARGET/status"
  run --separate-stderr ct_enter "$TARGET" -- sh -c "$REPORT"
  assert_success
  expect "unshare's hostname, ubox" "$DOC#lab07-interop" -- [ "${lines[0]}" = ubox ]
  expect "a PID above 1, listed in the container's /proc" "$DOC#lab07-fork" --hint "$(enter_hint "$TARGET")" -- [ "${lines[1]} ${lines[2]}" = "pid-above-1 pid-in-proc" ]
  expect "every entry of /proc/self/ns is the target's" "$DOC#lab07-interop" --hint "$(enter_hint "$TARGET")" -- \
    [ "$(printf '%s\n' "${lines[@]:5}")" = "$(namespaces_of "$TARGET")" ]
  run ct_enter "$TARGET" -- ls /proc
  expect "/proc lists only the container's few processes: sleep and ls" lab04-mount.md#lab04-proc -- \
    [ "$(grep -cE '^[0-9]+$' <<< "$output")" -le 2 ]
  expect "the host keeps its hostname" lab01-uts.md#lab01-flag -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
  run --separate-stderr ct_enter "$TARGET" -v -- true
  assert_success
  expect "five namespaces differ from ours: uts, ipc, net, pid, mnt" "$DOC#lab07-interop" -- \
    grep -qF -- "--enter $TARGET: 5 of its namespaces differ from ours" <<< "$stderr"
  expect "and the user namespace, the host's in both, is not joined (negative control)" "$DOC#lab07-order" -- \
    [ -z "$(grep "setns(/proc/$TARGET/ns/user" <<< "$stderr")" ]
  kill -KILL "$OTHER_PID"
  wait "$OTHER_PID" 2>/dev/null || true
  OTHER_PID=""
  expect "the container goes with unshare (--kill-child)" "$DOC#lab07-interop" -- wait_for 3 nslab_no_guarded_processes
}

@test "07-setns --enter joins a container made by lab 04: its hostname, its root filesystem, its processes" {
  rootfs=$(nslab_rootfs)
  start_other "$NSLAB_BUILD_DIR/bin/solutions/04-mount" --env "NSLAB_GUARD=$NSLAB_GUARD_TOKEN" --rootfs "$rootfs" --hostname m4 -- sleep 1234.7
  run --separate-stderr ct_enter "$TARGET" -- sh -c "cat /etc/issue; $REPORT"
  assert_success
  expect "the root filesystem's /etc/issue" "$DOC#lab07-root" -- grep -q '^nslab root filesystem' <<< "${lines[0]}"
  expect "lab 04's hostname, m4" "$DOC#lab07-interop" -- [ "${lines[1]}" = m4 ]
  expect "a PID above 1, listed in the container's /proc" "$DOC#lab07-fork" --hint "$(enter_hint "$TARGET")" -- [ "${lines[2]} ${lines[3]}" = "pid-above-1 pid-in-proc" ]
  expect "every entry of /proc/self/ns is the target's" "$DOC#lab07-interop" --hint "$(enter_hint "$TARGET")" -- \
    [ "$(printf '%s\n' "${lines[@]:6}")" = "$(namespaces_of "$TARGET")" ]
  expect_namespaces "$TARGET" lab04-mount.md "uts ipc pid mnt" "user net cgroup"
  kill -KILL "$TARGET"
  status=0
  wait "$OTHER_PID" || status=$?
  OTHER_PID=""
  assert_equal "$status" 137
}

# --- nsenter joins what 07-setns made ------------------------------------------------

@test "nsenter --target PID --all joins a lab 07 container and sees what --enter sees" {
  start_target --hostname box -- sleep 100
  run --separate-stderr env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" nsenter --target "$TARGET" --all sh -c "$REPORT"
  expect "nsenter --all joins it" "$DOC#lab07-interop" -- [ "$status" -eq 0 ]
  nsenter_saw=$output
  run --separate-stderr ct_enter "$TARGET" -- sh -c "$REPORT"
  assert_success
  expect "07-setns --enter sees the same: hostname, PID, processes, ids, uid_map and every namespace (nsenter: $nsenter_saw)" "$DOC#lab07-interop" --hint "$(enter_hint "$TARGET")" -- \
    [ "$output" = "$nsenter_saw" ]
  expect "that is box, a PID above 1 listed in /proc, root, the container's map" "$DOC#lab07-interop" -- \
    [ "$(printf '%s\n' "${lines[@]:0:5}" | paste -sd,)" = "box,pid-above-1,pid-in-proc,ids 0 0,uid_map $(xargs < "/proc/$TARGET/uid_map")" ]
  expect "and the target's namespaces" "$DOC#lab07-interop" --hint "$(enter_hint "$TARGET")" -- [ "$(printf '%s\n' "${lines[@]:5}")" = "$(namespaces_of "$TARGET")" ]
  stop_target
}

# --- lsns and nsinfo ------------------------------------------------------------------

@test "lsns and nsinfo agree on every namespace of a running container, and of a COMMAND joined to it" {
  start_target --hostname box -- sleep 100
  run lsns -n -o NS,TYPE -p "$TARGET"
  assert_success
  lsns_saw=$(awk '{ print $2, $1 }' <<< "$output" | sort)
  run "$NSINFO" "$TARGET"
  assert_success
  nsinfo_saw=$(tail -n +2 <<< "$output" | awk '$1 !~ /_for_children$/ { print $1, $2 }' | sort)
  expect "lsns and nsinfo list the same kinds with the same inodes (lsns: $(echo $lsns_saw))" "$DOC#lab07-interop" -- [ "$lsns_saw" = "$nsinfo_saw" ]
  expect "one per kind of /proc/$TARGET/ns (but the *_for_children links)" "$DOC#lab07-interop" -- \
    [ "$(awk '{ print $1 }' <<< "$lsns_saw" | xargs)" = "$(ls "/proc/$TARGET/ns" | grep -v _for_children | xargs)" ]
  for kind in $(awk '{ print $1 }' <<< "$lsns_saw"); do
    expect "the $kind inode is /proc/$TARGET/ns/$kind's" "$DOC#lab07-interop" -- \
      [ "$kind:[$(awk -v k="$kind" '$1 == k { print $2 }' <<< "$lsns_saw")]" = "$(ns_of "$TARGET" "$kind")" ]
  done
  run "$NSINFO" $$ "$TARGET"
  assert_success
  expect "nsinfo marks the kinds the container has of its own, pid_for_children among them" "$DOC#lab07-interop" -- \
    [ "$(awk '$NF == "*" { print $1 }' <<< "$output" | xargs)" = "ipc mnt net pid pid_for_children user uts" ]
  # A COMMAND joined to it: the same namespaces, by both tools.
  (exec env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" "$NSLAB_PROGRAM" --enter "$TARGET" -- sleep 1234.9) > "$T/join.out" 2>&1 3>&- &
  JOIN_PID=$!
  wait_for 5 pgrep --ns "$TARGET" --nslist pid -f '^sleep 1234\.9$'
  command=$(pgrep --ns "$TARGET" --nslist pid -f '^sleep 1234\.9$')
  run lsns -n -o NS,TYPE -p "$command"
  expect "lsns: the joined COMMAND is in the very namespaces of the target" "$DOC#lab07-interop" -- \
    [ "$(awk '{ print $2, $1 }' <<< "$output" | sort)" = "$lsns_saw" ]
  run "$NSINFO" "$TARGET" "$command"
  expect "nsinfo: no kind differs between the target and the joined COMMAND" "$DOC#lab07-interop" -- \
    [ "$status.$(grep -c ' \*$' <<< "$output")" = 0.0 ]
  kill -TERM "$JOIN_PID"
  status=0
  wait "$JOIN_PID" || status=$?
  JOIN_PID=""
  assert_equal "$status" 143
  stop_target
}
