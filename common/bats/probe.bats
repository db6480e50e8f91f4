#!/usr/bin/env bats
# nslab-probe: what a process sees, told from the inside (build/bin/nslab-probe
# as a container's COMMAND), compared with what the host sees. Each test runs
# one lab's reference program with the probe as COMMAND, and checks the
# probe's view against the host's: what the lab isolates differs, the rest is
# the host's own (the negative control).

load nslab
NSLAB_LAB=01-uts
NSLAB_ROOT_WHY="the probe is compared with the host inside the containers of labs 01-08, and labs 01-05 need root to make them"

lab_setup() {
  PROBE=$NSLAB_BUILD_DIR/bin/nslab-probe
  if [ ! -x "$PROBE" ]; then
    echo "no $PROBE: build first (cmake --build --preset default)" >&2
    return 1
  fi
  SCRATCH=""
  command -v python3 >/dev/null || skip "needs python3, to read the probe's JSON (scripts/setup.sh installs it)"
}

lab_teardown() {
  [ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
}

# use_lab NN-name: ct runs that lab's reference program from here on (with the
# host guard's mark put back with --env from lab 04 on, as setup() does).
use_lab() {
  NSLAB_LAB=$1
  NSLAB_PROGRAM=$NSLAB_BUILD_DIR/bin/solutions/$1
  [ -x "$NSLAB_PROGRAM" ] || skip "no $NSLAB_PROGRAM: lab $1 is not built"
  NSLAB_MARKS=()
  case $1 in
    0[1-3]-*) ;;
    *) NSLAB_MARKS=(--env "NSLAB_GUARD=$NSLAB_GUARD_TOKEN") ;;
  esac
}

# probe_json NAME COMMAND...: runs COMMAND (which runs the probe with --json);
# its output, which must be one JSON object, goes to $BATS_TEST_TMPDIR/NAME.json.
probe_json() {
  local name=$1
  shift
  run --separate-stderr "$@"
  assert_success
  printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/$name.json"
  python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$BATS_TEST_TMPDIR/$name.json" ||
    fail "the probe's output is not one JSON object: $output"
}

# from NAME EXPRESSION [ARG...]: a Python EXPRESSION over d, the probe's JSON
# saved as NAME (and sys.argv[3...], the ARGs); a string printed as it is,
# anything else as JSON.
from() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$BATS_TEST_TMPDIR/$1.json" "${@:2}"
}

# The kinds of namespace this kernel has, as /proc/self/ns lists them.
ns_kinds() {
  ls /proc/self/ns
}

# user_copies FILE...: copies of the FILEs another user can run (the build
# directory may be out of its reach), in SCRATCH, which lab_teardown removes.
user_copies() {
  SCRATCH=$(mktemp -d /tmp/nslab-probe.XXXXXX)
  chmod 755 "$SCRATCH"
  cp "$@" "$SCRATCH/"
}

# A busybox root filesystem with the probe in /bin.
probe_rootfs() {
  local rootfs
  rootfs=$(nslab_rootfs) || return 1
  cp "$PROBE" "$rootfs/bin/nslab-probe"
  echo "$rootfs"
}

@test "nslab-probe is linked statically: it needs no library inside a root filesystem" {
  grep -qx 'NSLAB_STATIC_LINK_WORKS:INTERNAL=1' "$NSLAB_BUILD_DIR/CMakeCache.txt" ||
    skip "static libc or libstdc++ is missing here: the probe is linked dynamically (configure said which packages)"
  run file -L "$PROBE"
  expect "file(1) calls the probe statically linked" README.md -- grep -qE 'statically linked|static-pie linked' <<< "$output"
  run ldd "$PROBE"
  expect "ldd finds no library to load" README.md -- [ "$status" -ne 0 ]
  # The negative control: the same checks tell a dynamic program.
  run ldd "$(command -v ls)"
  assert_success
  assert_output --partial libc.so
}

@test "on the host: the probe's namespaces are this shell's, every kind of /proc/PID/ns" {
  probe_json host "$PROBE" --json
  expect "one entry per kind of /proc/self/ns" README.md -- \
    [ "$(from host '" ".join(sorted(d["namespaces"]))')" = "$(ns_kinds | sort | xargs echo)" ]
  for kind in $(ns_kinds); do
    expect "$kind: the host's own, $(ns_of $$ "$kind")" README.md -- [ "$(from host "d['namespaces']['$kind']")" = "$(ns_of $$ "$kind")" ]
  done
  assert_equal "$(from host 'd["hostname"]')" "$HOST_HOSTNAME"
  assert_equal "$(from host 'd["proc"] + " " + d["sys"]')" "mounted mounted"
}

@test "inside 01-uts: a UTS namespace of its own, every other kind the host's; the hostname box" {
  probe_json ct ct --hostname box -- "$PROBE" --json
  for kind in $(ns_kinds); do
    if [ "$kind" = uts ]; then
      expect "a new uts namespace, not the host's $(ns_of $$ uts)" lab01-uts.md -- [ "$(from ct 'd["namespaces"]["uts"]')" != "$(ns_of $$ uts)" ]
    else
      expect "the host's own $kind namespace (negative control)" lab01-uts.md -- [ "$(from ct "d['namespaces']['$kind']")" = "$(ns_of $$ "$kind")" ]
    fi
  done
  expect "the probe reads the hostname box inside" lab01-uts.md -- [ "$(from ct 'd["hostname"]')" = box ]
  assert_equal "$(cat /proc/sys/kernel/hostname)" "$HOST_HOSTNAME"
}

@test "inside 03-pid: PID 1, and NSpid the host's number of the same process, then 1" {
  use_lab 03-pid
  mkfifo "$BATS_TEST_TMPDIR/go"
  # The shell waits, so that the host can read its PID, then becomes the probe (exec: the same process).
  start_ct -- sh -c "read _ < '$BATS_TEST_TMPDIR/go'; exec '$PROBE' --json"
  wait_for 5 child_of "$CT_PID"
  host_pid=$(child_of "$CT_PID")
  echo go > "$BATS_TEST_TMPDIR/go"
  finish_ct
  assert_success
  printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/ct.json"
  expect "getpid() is 1 inside" lab03-pid.md -- [ "$(from ct 'd["pid"]')" = 1 ]
  expect "NSpid: $host_pid on the host (outermost first), then 1" lab03-pid.md -- [ "$(from ct 'd["nspid"]')" = "[$host_pid, 1]" ]
  # The negative control: on the host, one PID namespace, one number, its PID.
  probe_json host "$PROBE" --json
  assert_equal "$(from host 'len(d["nspid"]) == 1 and d["nspid"][0] == d["pid"]')" true
}

@test "inside 06-user as nobody, rootless: uid 0 is 65534 outside, every capability inside; nobody on the host has none" {
  use_lab 06-user
  requires_userns
  user_copies "$PROBE" "$NSLAB_PROGRAM"
  probe=$SCRATCH/nslab-probe
  NSLAB_PROGRAM=$SCRATCH/06-user
  NSLAB_RUNNER=("${NSLAB_AS_USER[@]}")
  cd /
  probe_json ct ct -- "$probe" --json
  expect "uid_map: 0 inside is $NSLAB_USER_UID outside, one id" lab06-user.md -- [ "$(from ct 'd["uid_map"]')" = "[[0, $NSLAB_USER_UID, 1]]" ]
  expect "gid_map: 0 inside is $NSLAB_USER_GID outside, one id" lab06-user.md -- [ "$(from ct 'd["gid_map"]')" = "[[0, $NSLAB_USER_GID, 1]]" ]
  expect "setgroups denied before gid_map was written" lab06-user.md -- [ "$(from ct 'd["setgroups"]')" = deny ]
  assert_equal "$(from ct 'd["uid"]["effective"]')" 0
  expect "every capability, in the new user namespace" lab06-user.md -- [ "$(from ct 'd["capabilities"]["effective"]["all"]')" = true ]
  expect "a new user namespace" lab06-user.md -- [ "$(from ct 'd["namespaces"]["user"]')" != "$(ns_of $$ user)" ]
  # The negative control: the same user on the host, no namespace of its own.
  probe_json host as_user "$probe" --json
  assert_equal "$(from host 'd["uid"]["effective"]')" "$NSLAB_USER_UID"
  expect "no capability for nobody on the host" lab06-user.md -- [ "$(from host 'd["capabilities"]["effective"]["names"]')" = "[]" ]
  assert_equal "$(from host 'd["uid_map"]')" "[[0, 0, 4294967295]]"
}

# serial: it runs lab 08 on the host, whose nslab/ cgroups the sandboxes beside it would see
@test "inside 08-cgroup --memory 64M --pids 20: its cgroup is / (a cgroup namespace), the limits read where the host put them" {
  use_lab 08-cgroup
  [ -d /sys/fs/cgroup ] || skip "no /sys/fs/cgroup here: lab 08 needs cgroups"
  probe_json ct ct --memory 64M --pids 20 -- "$PROBE" --json
  expect "every line of /proc/self/cgroup says /: the namespace's root is the container's cgroup" lab08-cgroup.md -- \
    [ "$(from ct 'sorted(set(e["path"] for e in d["cgroup"]))')" = '["/"]' ]
  expect "a new cgroup namespace" lab08-cgroup.md -- [ "$(from ct 'd["namespaces"]["cgroup"]')" != "$(ns_of $$ cgroup)" ]
  expect "memory: 64M, set above the container's own cgroup, so that it cannot lift it" lab08-cgroup.md -- \
    [ "$(from ct 'd["limits"]["memory"]["effective"] + " " + d["limits"]["memory"]["here"]')" = "67108864 max" ]
  expect "pids: 20, set above the container's own cgroup" lab08-cgroup.md -- \
    [ "$(from ct 'd["limits"]["pids"]["effective"] + " " + d["limits"]["pids"]["here"]')" = "20 max" ]
  # The negative control: the directory the probe read is the one the host
  # names nslab/PID/container, a name the cgroup namespace hides from it.
  assert_regex "$(from ct 'd["limits"]["memory"]["directory"]')" '/nslab/[0-9]+/container$'
  probe_json host "$PROBE" --json
  expect "the host's own cgroup has not the container's limits" lab08-cgroup.md -- \
    [ "$(from host 'd["limits"]["memory"]["effective"]')" != 67108864 ]
}

@test "inside 04-mount --rootfs, busybox, the probe as COMMAND: its own mounts, none of the host's, the clean environment, fds 0 1 2" {
  use_lab 04-mount
  rootfs=$(probe_rootfs)
  probe_json ct ct --rootfs "$rootfs" -- /bin/nslab-probe --json
  mounts=$(from ct '" ".join(sorted(m["mount_point"] for m in d["mounts"]))')
  expect "only /, /dev and its devices, /proc, /sys, /tmp: the container's own" lab04-mount.md -- \
    [ "$mounts" = "/ /dev /dev/full /dev/null /dev/random /dev/tty /dev/urandom /dev/zero /proc /sys /tmp" ]
  assert_equal "$(from ct '[m["fstype"] for m in d["mounts"] if m["mount_point"] in ("/proc", "/tmp")]')" '["tmpfs", "proc"]'
  # The negative control: the host's mounts, which the probe sees on the host.
  probe_json host "$PROBE" --json
  host_mounts=$(from host '" ".join(sorted(m["mount_point"] for m in d["mounts"]))')
  expect "the host has mounts the container has not" lab04-mount.md -- [ "$host_mounts" != "$mounts" ]
  for path in "$NSLAB_SOURCE_DIR" "$NSLAB_BUILD_DIR" "$BATS_TEST_TMPDIR"; do
    # (Not the fds': 0, 1 and 2 are what the caller handed, its files named as the host names them.)
    expect "no mount point or variable names the host's $path" lab04-mount.md -- \
      [ "$(from ct '[x for x in [m["mount_point"] for m in d["mounts"]] + list(d["environment"].values()) if x.startswith(sys.argv[3])]' "$path")" = "[]" ]
  done
  assert_equal "$(from ct '" ".join(sorted(d["environment"]))')" "HOME NSLAB_GUARD PATH TERM"
  assert_equal "$(from ct '[f["fd"] for f in d["fds"]]')" "[0, 1, 2]"
  expect "its root is PID 1's (the probe is PID 1 there)" lab04-mount.md -- [ "$(from ct 'd["root"]["same_as_pid1"]')" = true ]
}

@test "inside a root filesystem without /proc and /sys: 'not mounted' said, exit 0, what needs neither still told" {
  use_lab 04-mount
  rootfs=$(probe_rootfs)
  probe_json ct ct --rootfs "$rootfs" -- /bin/sh -c 'umount /proc && umount /sys && exec /bin/nslab-probe --json'
  assert_equal "$(from ct 'd["proc"] + ", " + d["sys"]')" "not mounted, not mounted"
  assert_equal "$(from ct 'd["unavailable"]["namespaces"]')" "not mounted: /proc"
  assert_equal "$(from ct '[d["namespaces"], d["mounts"], d["uid_map"], d["nspid"]]')" "[null, null, null, null]"
  # Without /proc: the PID, the ids and the capabilities from system calls,
  # the links from rtnetlink, the fds by number.
  assert_equal "$(from ct 'd["pid"]')" 1
  probe_json host "$PROBE" --json
  expect "the capabilities, from capget(2): root's, as on the host" README.md -- \
    [ "$(from ct 'd["capabilities"]["effective"]["mask"]')" = "$(from host 'd["capabilities"]["effective"]["mask"]')" ]
  expect "the links are read without /sys" README.md -- [ "$(from ct '"lo" in [l["name"] for l in d["links"]]')" = true ]
  assert_equal "$(from ct 'd["fds"]')" '[{"fd": 0, "target": null}, {"fd": 1, "target": null}, {"fd": 2, "target": null}]'
  # The same for a person, in 80 columns.
  run --separate-stderr ct --rootfs "$rootfs" -- /bin/sh -c 'umount /proc && umount /sys && exec /bin/nslab-probe'
  assert_success
  assert_line '  not mounted: /proc'
  assert_line --regexp '^  uid_map +not mounted: /proc$'
  run awk 'length > 80' <<< "$output"
  assert_output ""
}

@test "inside 05-net: lo alone, and up; a network namespace made without the lab has lo down" {
  use_lab 05-net
  probe_json ct ct -- "$PROBE" --json
  expect "one link, lo" lab05-net.md -- [ "$(from ct '[l["name"] for l in d["links"]]')" = '["lo"]' ]
  expect "lo is up, with 127.0.0.1/8" lab05-net.md -- \
    [ "$(from ct 'd["links"][0]["state"] + " " + str("127.0.0.1/8" in d["links"][0]["addresses"])')" = "up True" ]
  expect "a new network namespace" lab05-net.md -- [ "$(from ct 'd["namespaces"]["net"]')" != "$(ns_of $$ net)" ]
  # The negative control: a new network namespace alone starts with lo down.
  probe_json bare unshare --net "$PROBE" --json
  assert_equal "$(from bare '[(l["name"], l["state"]) for l in d["links"]]')" '[["lo", "down"]]'
}

@test "fds: inside a container only 0, 1 and 2; the probe's own directory descriptor is never listed" {
  # The negative control: on the host, the probe reports an fd the caller left open.
  probe_json host bash -c "exec 7</; exec '$PROBE' --json"
  expect "fd 7, on /, reported on the host" README.md -- [ "$(from host '[f["target"] for f in d["fds"] if f["fd"] == 7]')" = '["/"]' ]
  expect "no fd on /proc/self/fd itself (the probe's own)" README.md -- \
    [ "$(from host '[f for f in d["fds"] if "/fd" in f["target"] and f["target"].startswith("/proc/")]')" = "[]" ]
  probe_json ct env NSLAB_GUARD="$NSLAB_GUARD_TOKEN" bash -c "exec 7</; exec '$NSLAB_PROGRAM' -- '$PROBE' --json"
  expect "COMMAND receives fds 0, 1 and 2 only: the runtime closed the caller's fd 7" lab01-uts.md -- \
    [ "$(from ct '[f["fd"] for f in d["fds"]]')" = "[0, 1, 2]" ]
}

@test "--json: one object that python3 parses, with the documented keys; --only keeps the sections named" {
  probe_json all "$PROBE" --json
  assert_equal "$(from all '" ".join(d)')" \
    "probe version proc sys unavailable namespaces hostname domainname pid ppid nspid uid gid groups uid_map gid_map setgroups capabilities cgroup limits mounts links fds environment root"
  assert_equal "$(from all '" ".join(d["limits"])')" "memory pids cpu"
  assert_equal "$(from all '" ".join(d["limits"]["memory"])')" "visible version directory found_by here effective effective_in why"
  assert_equal "$(from all '" ".join(d["root"])')" "device inode pid1_root same_as_pid1 mount"
  probe_json some "$PROBE" --json --only ids,links
  assert_equal "$(from some '" ".join(d)')" "probe version proc sys unavailable uid gid groups uid_map gid_map setgroups links"
  # Strings escaped: a quote, a backslash, a tab, a newline, a control byte, and
  # a byte that is not UTF-8 (written as the character of the same number).
  probe_json odd env -i ODD=$'a"b\\c\td\ne\001\377\xc3\xa9' "$PROBE" --json --only environment
  assert_equal "$(from odd 'd["environment"]["ODD"] == "a\"b\\c\td\ne\x01\u00ff\u00e9"')" true
}

@test "a bad option: one line, exit 125, nothing else; --help: the usage, exit 0" {
  run --separate-stderr "$PROBE" --x
  assert_equal "$status" 125
  assert_equal "$stderr" "nslab-probe: unknown option --x (see --help)"
  assert_equal "$output" ""
  run --separate-stderr "$PROBE" --only bogus
  assert_equal "$status" 125
  assert_equal "$stderr" 'nslab-probe: unknown section for --only: "bogus" (see --help)'
  run --separate-stderr "$PROBE" --help
  assert_success
  assert_equal "${lines[0]}" "Usage: nslab-probe [--json] [--only SECTION[,SECTION...]]"
  assert_equal "$stderr" ""
}

@test "the human output: a heading per section, 80 columns at most, a long value cut with ..." {
  long=$(printf 'x%.0s' {1..200})
  run --separate-stderr env NSLAB_LONG="$long" "$PROBE"
  assert_success
  for heading in namespaces process ids capabilities cgroup limits mounts "network links" "file descriptors" environment root; do
    assert_line --regexp "^$heading( |$)"
  done
  expect "the long variable cut to 80 columns, ending in ..." README.md -- \
    grep -qxE '  NSLAB_LONG=x{64}\.\.\.' <<< "$output"
  run awk 'length > 80' <<< "$output"
  assert_output ""
}
