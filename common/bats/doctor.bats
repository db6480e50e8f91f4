#!/usr/bin/env bats
# scripts/doctor.sh, the check before a class: on this machine as root and as
# uid 65534, what it reports is what the tests find out for themselves (the
# kernel, the cgroup layout, root or not, user namespaces); and each problem
# it knows, made real where a namespace of the test's own can make it (a user
# namespace whose user.max_user_namespaces is 0, a mount namespace with cgroup2
# or a tmpfs at /sys/fs/cgroup, a PATH without some tools, a delegated
# cgroup), or else shown to it through NSLAB_DOCTOR_ROOT (a copy of the files
# that describe the machine, then changed: a Debian or Ubuntu switch, an old
# kernel, a container, WSL), makes it say FAIL with the fix that belongs to it.
# Each has its negative control: the same run without the problem. The host
# guard (nslab.bash) checks that the doctor left nothing behind.

load nslab
load "$NSLAB_SOURCE_DIR/labs/08-cgroup/tests/cgroup"
NSLAB_ROOT_WHY="these tests run scripts/doctor.sh as root and as uid 65534, in namespaces of their own"

lab_setup() {
  DOCTOR=(env NSLAB_BUILD_DIR="$NSLAB_BUILD_DIR" bash "$NSLAB_SOURCE_DIR/scripts/doctor.sh")
  AS_NOBODY=(setpriv "--reuid=$NSLAB_USER_UID" "--regid=$NSLAB_USER_GID" --clear-groups)
  DELEGATED_DIRS=() ROOT_ENABLED=()
  cgroup_setup
  # World-readable, unlike $BATS_TEST_TMPDIR: uid 65534 reads what is made here.
  SCRATCH=$(mktemp -d /tmp/nslab-doctor.XXXXXX)
  chmod 755 "$SCRATCH"
}

lab_teardown() {
  [ ${#DELEGATED_DIRS[@]} -eq 0 ] || undelegate_cgroup
  rm -rf "$SCRATCH"
}

# doctor [COMMAND...]: runs the doctor (after COMMAND, a prefix: env,
# unshare, setpriv) and reads its findings (findings).
doctor() {
  run --separate-stderr "$@" "${DOCTOR[@]}"
  findings
}

# findings: $output with each wrapped line joined to the one it continues
# (a continuation starts with a space, a fix with "     fix: "), in
# FINDINGS; and every line of $output fits in 80 columns.
findings() {
  local long
  long=$(awk 'length($0) > 80' <<< "$output")
  [ -z "$long" ] || fail "lines longer than 80 columns: $long"
  FINDINGS=$(awk '/^ / && !/^     fix: / { sub(/^ +/, ""); line = line " " $0; next }
    { if (started) print line; line = $0; started = 1 } END { if (started) print line }' <<< "$output")
}

# has_line REGEX: a line of FINDINGS matches REGEX (grep -E); lacks_line: none.
has_line() {
  grep -qE -- "$1" <<< "$FINDINGS" || fail "no line matching /$1/ in the doctor's output:"$'\n'"$output"
}
lacks_line() {
  ! grep -qE -- "$1" <<< "$FINDINGS" || fail "a line matching /$1/ in the doctor's output:"$'\n'"$output"
}
# fix_of REGEX: the fix under the first finding matching REGEX.
fix_of() {
  awk -v re="$1" 'found { if (sub(/^     fix: /, "")) print; exit } $0 ~ re { found = 1 }' <<< "$FINDINGS"
}
# expect_fix REGEX TEXT: the finding matching REGEX has a fix containing TEXT.
expect_fix() {
  has_line "$1"
  [[ $(fix_of "$1") == *"$2"* ]] || fail "the fix under /$1/ is \"$(fix_of "$1")\", not one with \"$2\":"$'\n'"$output"
}

# fake_root: a copy in FAKE of the files the doctor reads to learn this
# machine's settings and surroundings (NSLAB_DOCTOR_ROOT), for a test to change.
fake_root() {
  local file
  FAKE=$SCRATCH/root
  for file in /proc/sys/kernel/osrelease /proc/sys/user/max_user_namespaces \
    /proc/sys/kernel/unprivileged_userns_clone /proc/sys/kernel/apparmor_restrict_unprivileged_userns \
    /proc/version /proc/self/uid_map /proc/1/cgroup /etc/subuid /etc/subgid; do
    [ -r "$file" ] || continue
    mkdir -p "$FAKE${file%/*}"
    cat "$file" > "$FAKE$file"
  done
  mkdir -p "$FAKE/proc/self/ns"
  for file in /proc/self/ns/*; do touch "$FAKE$file"; done
  chmod -R a+rX "$FAKE"
}

# path_without TOOL...: a directory of links to every program of this PATH
# but the TOOLs, to be the whole PATH: a machine without those packages.
path_without() {
  local dir=$SCRATCH/path entry tool
  rm -rf "$dir"
  mkdir -m 755 "$dir"
  IFS=: read -ra entries <<< "$PATH"
  for entry in "${entries[@]}"; do
    # The first of a name wins, as in PATH; the later ones fail (exists).
    [ ! -d "$entry" ] || ln -s "$entry"/* "$dir/" 2>/dev/null || true
  done
  for tool in "$@"; do rm -f "$dir/$tool"; done
  echo "$dir"
}

# in_userns_without_userns COMMAND...: runs COMMAND as root of a user
# namespace of its own in which no further user namespace may be made: its
# user.max_user_namespaces, which belongs to it, is 0.
in_userns_without_userns() {
  # shellcheck disable=SC2016
  unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"' sh "$@"
}

# lab_line NN: the verdict line of lab NN; last_line: the doctor's last word.
lab_line() {
  grep -E "^lab $1: " <<< "$FINDINGS"
}
last_line() {
  tail -n 1 <<< "$FINDINGS"
}

# --- this machine, as it is -------------------------------------------------------

@test "doctor as root: exit 0 here, every lab can run as root, and the kernel, the cgroup layout and root as the test finds them" {
  doctor
  assert_equal "$stderr" ""
  assert_equal "$status" 0
  has_line "^ok   kernel $(uname -r): "
  has_line '^ok   root \(uid 0\): '
  has_line '^ok   veth: '
  # The layout as the test tells it (statfs, cgroup.bash), not as the doctor does.
  case $CG_LAYOUT in
    v2) has_line '^ok   cgroup layout: v2 \(cgroup2 alone at /sys/fs/cgroup\)$' ;;
    hybrid) has_line '^ok   cgroup layout: hybrid ' ;;
    v1) has_line '^ok   cgroup layout: v1 ' ;;
    *) fail "no cgroup file system here: the doctor should have failed" ;;
  esac
  lacks_line '^FAIL '
  for lab in 01 02 03 04 05 06 07 08; do
    [[ $(lab_line "$lab") == "lab $lab: can run (as root"* ]] || fail "lab $lab: $(lab_line "$lab")"$'\n'"$output"
  done
  assert_equal "$(last_line)" "doctor: every lab can run here, as root"
}

@test "doctor as uid 65534: not root, so labs 01-05 cannot run and say what they need; 06 and 07 rootless as the test finds; exit 1" {
  doctor "${AS_NOBODY[@]}"
  assert_equal "$stderr" ""
  assert_equal "$status" 1
  has_line "^FAIL uid $NSLAB_USER_UID .*is not root: labs 01-05 create namespaces"
  expect_fix '^FAIL uid .* is not root' "sudo scripts/grade.sh 01"
  lacks_line '^ok   root'
  assert_equal "$(lab_line 01)" "lab 01: cannot run: needs root: it creates a UTS namespace (CAP_SYS_ADMIN)"
  assert_equal "$(lab_line 02)" "lab 02: cannot run: needs root: it creates an IPC namespace (CAP_SYS_ADMIN)"
  assert_equal "$(lab_line 03)" "lab 03: cannot run: needs root: it creates a PID namespace (CAP_SYS_ADMIN)"
  assert_equal "$(lab_line 04)" "lab 04: cannot run: needs root: it creates a mount namespace (CAP_SYS_ADMIN)"
  assert_equal "$(lab_line 05)" "lab 05: cannot run: needs root: it creates a network namespace (CAP_SYS_ADMIN)"
  # Whether this user may make a user namespace: the test's own try.
  if (cd / && "${AS_NOBODY[@]}" unshare --user --map-root-user true) 2>/dev/null; then
    has_line "^ok   uid $NSLAB_USER_UID .*made a user namespace"
    [[ $(lab_line 06) == "lab 06: can run (as "*"uid $NSLAB_USER_UID)" ]] || fail "$(lab_line 06)"
    [[ $(lab_line 07) == "lab 07: can run (as "*"uid $NSLAB_USER_UID: joins this user's rootless containers)" ]] || fail "$(lab_line 07)"
  else
    has_line "^FAIL uid $NSLAB_USER_UID .*cannot make a user namespace"
    [[ $(lab_line 06) == "lab 06: cannot run: "* ]] || fail "$(lab_line 06)"
  fi
  # Nothing is delegated to uid 65534 here (its cgroup and NSLAB_CGROUP_BASE are root's).
  ! user_has_delegation $$ || skip "uid $NSLAB_USER_UID has a cgroup delegated here"
  has_line "^FAIL no cgroup delegated to uid $NSLAB_USER_UID"
  assert_equal "$(lab_line 08)" "lab 08: can run; limits need root or delegation"
  assert_regex "$(last_line)" "^doctor: not every lab can run here as .*uid $NSLAB_USER_UID: 01 02 03 04 05 cannot.*; the FAIL lines say what to change$"
}

@test "doctor with a cgroup delegated to uid 65534 (by hand, as lab 08's tests do): the user's limits can run there" {
  [ "$CG_LAYOUT" != none ] || skip "no cgroup file system at /sys/fs/cgroup"
  delegate_cgroup
  # NSLAB_RUNNER moves the doctor into the cgroup, then runs it as the user.
  doctor "${NSLAB_RUNNER[@]}"
  has_line "^ok   cgroup delegated to uid $NSLAB_USER_UID.*: $DELEGATED \(owner "
  lacks_line '^FAIL (no cgroup delegated|the cgroup delegated)'
  [[ $(lab_line 08) == "lab 08: can run (as "*"uid $NSLAB_USER_UID)" ]] || fail "$(lab_line 08)"$'\n'"$output"
  # The negative control: the same user, in a cgroup of root's.
  doctor env -u NSLAB_CGROUP_BASE "${AS_NOBODY[@]}"
  has_line "^FAIL no cgroup delegated to uid $NSLAB_USER_UID"
}

# serial: it times the doctor, which other tests beside it would slow
@test "doctor is fast: under 2 seconds, as root and as uid 65534" {
  local start took
  for who in root nobody; do
    start=$(date +%s%N)
    if [ "$who" = root ]; then doctor; else doctor "${AS_NOBODY[@]}"; fi
    took=$((($(date +%s%N) - start) / 1000000))
    [ "$took" -lt 2000 ] || fail "as $who, the doctor took ${took} ms"
  done
}

@test "doctor --help, --json, and a bad argument (one line, exit 2)" {
  run --separate-stderr "${DOCTOR[@]}" --help
  assert_success
  assert_line --index 0 "usage: scripts/doctor.sh [--json]"
  run --separate-stderr "${DOCTOR[@]}" --bogus
  assert_equal "$status" 2
  assert_equal "$output" ""
  assert_equal "$stderr" "doctor: --bogus: not an option (usage: scripts/doctor.sh [--json])"
  # The JSON says what the text says: the same verdicts and exit status.
  doctor "${AS_NOBODY[@]}"
  local text_status=$status text_labs
  text_labs=$(grep -E '^lab [0-9]+: ' <<< "$FINDINGS" | sed -E 's/^lab ([0-9]+): /\1 /')
  run --separate-stderr "${AS_NOBODY[@]}" "${DOCTOR[@]}" --json
  assert_equal "$status" "$text_status"
  assert_equal "$(jq -r '.labs[] | "\(.lab) \(.text)"' <<< "$output")" "$text_labs"
  assert_equal "$(jq -r '.status' <<< "$output")" "$text_status"
  assert_equal "$(jq -r '.root' <<< "$output")" false
  assert_equal "$(jq -r '[.findings[] | select(.status == "FAIL")] | length > 0' <<< "$output")" true
  assert_equal "$(jq -r '.findings[] | select(.topic == "root") | .status' <<< "$output")" FAIL
}

# --- user namespaces: the setting that blocks them, and its sysctl ----------------

@test "doctor where user.max_user_namespaces is 0 (for real, in a user namespace of its own): FAIL naming it, with its sysctl" {
  doctor in_userns_without_userns
  assert_equal "$status" 1
  has_line '^FAIL .*cannot make a user namespace \(unshare failed: No space left on device; .*user\.max_user_namespaces=0'
  expect_fix '^FAIL user\.max_user_namespaces is 0' "sysctl -w user.max_user_namespaces=10000"
  # It stops root too: the try of the user kind says so, with the same fix.
  expect_fix '^FAIL user namespace: root cannot make one' "sysctl -w user.max_user_namespaces=10000"
  for lab in 06 07 08; do
    [[ $(lab_line "$lab") == "lab $lab: cannot run: "* ]] || fail "$(lab_line "$lab")"$'\n'"$output"
  done
  # The negative control: the same user namespace, the limit left as it is.
  doctor unshare --user --map-root-user
  lacks_line 'max_user_namespaces is 0'
  has_line '^ok   .*made a user namespace and was root in it'
}

@test "doctor where Debian's kernel.unprivileged_userns_clone is 0 and no user namespace can be made: FAIL naming it, with its sysctl" {
  fake_root
  # The try fails for real (as above); the files say which switch is why.
  echo 10000 > "$FAKE/proc/sys/user/max_user_namespaces"
  echo 0 > "$FAKE/proc/sys/kernel/unprivileged_userns_clone"
  doctor in_userns_without_userns env NSLAB_DOCTOR_ROOT="$FAKE"
  assert_equal "$status" 1
  expect_fix "^FAIL kernel\.unprivileged_userns_clone is 0 \(Debian's switch\)" "sysctl -w kernel.unprivileged_userns_clone=1"
  lacks_line 'max_user_namespaces is 0'
  # The negative control: the switch at 1, the same failure: no switch is blamed.
  echo 1 > "$FAKE/proc/sys/kernel/unprivileged_userns_clone"
  doctor in_userns_without_userns env NSLAB_DOCTOR_ROOT="$FAKE"
  lacks_line 'unprivileged_userns_clone is'
  expect_fix '^FAIL .*cannot make a user namespace' "no setting here explains it"
}

@test "doctor where Ubuntu's kernel.apparmor_restrict_unprivileged_userns is 1 and no user namespace can be made: FAIL naming it, with its sysctl" {
  fake_root
  echo 10000 > "$FAKE/proc/sys/user/max_user_namespaces"
  echo 1 > "$FAKE/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
  doctor in_userns_without_userns env NSLAB_DOCTOR_ROOT="$FAKE"
  assert_equal "$status" 1
  expect_fix "^FAIL kernel\.apparmor_restrict_unprivileged_userns is 1 \(Ubuntu's AppArmor\)" \
    "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
  echo 0 > "$FAKE/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
  doctor in_userns_without_userns env NSLAB_DOCTOR_ROOT="$FAKE"
  lacks_line 'apparmor_restrict_unprivileged_userns is'
}

@test "doctor where a switch reads as closed but uid 65534 can make a user namespace: the try wins, nothing is blamed" {
  (cd / && "${AS_NOBODY[@]}" unshare --user --map-root-user true) 2>/dev/null ||
    skip "uid $NSLAB_USER_UID cannot make a user namespace here: see scripts/doctor.sh"
  fake_root
  echo 0 > "$FAKE/proc/sys/kernel/unprivileged_userns_clone"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  has_line "^ok   uid $NSLAB_USER_UID .*made a user namespace .*kernel\.unprivileged_userns_clone=0"
  lacks_line '^FAIL .*user namespace'
}

# --- cgroups: each layout, made in a mount namespace of the test's own -----------

@test "doctor on cgroup v2 (cgroup2 mounted at /sys/fs/cgroup in a mount namespace): says v2, and FAIL for each controller it lacks" {
  # shellcheck disable=SC2016
  doctor unshare --mount sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && cat /sys/fs/cgroup/cgroup.controllers > "$0" && exec "$@"' \
    "$BATS_TEST_TMPDIR/controllers"
  has_line '^ok   cgroup layout: v2 \(cgroup2 alone at /sys/fs/cgroup\)$'
  # What that cgroup2 offers, as the test read it: on a hybrid machine the v1
  # hierarchies hold the controllers, and the fix says how to free them.
  local missing=0
  for controller in memory pids cpu; do
    if grep -qw "$controller" "$BATS_TEST_TMPDIR/controllers"; then
      lacks_line "^FAIL no $controller controller"
    else
      missing=1
      has_line "^FAIL no $controller controller here: lab 08's --"
      [ "$CG_LAYOUT" != hybrid ] || expect_fix "^FAIL no $controller controller" "cgroup_no_v1=all"
    fi
  done
  if [ "$missing" = 1 ]; then
    [[ $(lab_line 08) == "lab 08: can run; --"* ]] || fail "$(lab_line 08)"
  else
    has_line '^ok   cgroup controllers: memory, pids, cpu'
  fi
}

@test "doctor on a tmpfs at /sys/fs/cgroup (v1 with no hierarchy), and on no cgroup file system: FAIL with the mount that fixes it" {
  # shellcheck disable=SC2016
  doctor unshare --mount sh -c 'mount -t tmpfs tmpfs /sys/fs/cgroup && exec "$@"' sh
  assert_equal "$status" 1
  has_line '^ok   cgroup layout: v1 '
  expect_fix '^FAIL no memory controller here' "mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory"
  expect_fix '^FAIL no pids controller here' "mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids"
  # shellcheck disable=SC2016
  doctor unshare --mount sh -c 'mount -t ramfs ramfs /sys/fs/cgroup && exec "$@"' sh
  assert_equal "$status" 1
  expect_fix '^FAIL cgroup layout: none' "mount -t cgroup2 cgroup2 /sys/fs/cgroup"
  assert_equal "$(lab_line 08)" "lab 08: cannot run: no cgroup file system at /sys/fs/cgroup"
  [[ $(lab_line 07) == "lab 07: can run (as root"* ]] || fail "$(lab_line 07)"
}

@test "doctor on the hybrid layout without its cgroup2 (unified/ unmounted in a mount namespace): says v1, and lab 08 runs" {
  [ "$CG_LAYOUT" = hybrid ] || skip "the layout here is $CG_LAYOUT, not hybrid: there is no unified/ to take away"
  # shellcheck disable=SC2016
  doctor unshare --mount sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh
  has_line '^ok   cgroup layout: v1 \(one hierarchy per controller\)$'
  lacks_line '^FAIL .*controller'
  [[ $(lab_line 08) == "lab 08: can run (as root"* ]] || fail "$(lab_line 08)"
}

# --- the tools: a PATH without them -----------------------------------------------

@test "doctor without strace, python3, newuidmap, busybox and bats in PATH: FAIL for each, with the Debian and Fedora packages" {
  local path
  path=$(path_without strace python3 newuidmap bats busybox)
  doctor env PATH="$path"
  assert_equal "$status" 1
  expect_fix '^FAIL no strace: the tests of 07 run it' "Debian/Ubuntu: apt-get install strace; Fedora: dnf install strace"
  expect_fix '^FAIL no python3: the tests of 07 08 run it' "apt-get install python3; Fedora: dnf install python3"
  expect_fix '^FAIL no newuidmap: ' "Debian/Ubuntu: apt-get install uidmap; Fedora: dnf install shadow-utils"
  expect_fix '^FAIL no busybox: ' "Debian/Ubuntu: apt-get install busybox-static; Fedora: dnf install busybox"
  expect_fix '^FAIL no bats: ' "apt-get install bats"
  lacks_line '^FAIL no newgidmap'
  [[ $(lab_line 07) == "lab 07: can run; "*"its tests need strace"* ]] || fail "$(lab_line 07)"
  [[ $(lab_line 06) == "lab 06: can run; "*"its id ranges need newuidmap"* ]] || fail "$(lab_line 06)"
  # The negative control: this PATH, the same links, nothing taken away.
  path=$(path_without)
  doctor env PATH="$path"
  lacks_line '^FAIL '
  assert_equal "$status" 0
}

@test "doctor without a C++ compiler or cmake: no lab can run; without the teacher's tools: warn only, exit 0" {
  local path
  path=$(path_without c++ g++ clang++ cmake)
  doctor env -u CXX PATH="$path"
  assert_equal "$status" 1
  expect_fix '^FAIL no C\+\+ compiler' "Debian/Ubuntu: apt-get install g++; Fedora: dnf install gcc-c++"
  expect_fix '^FAIL no cmake' "apt-get install cmake"
  for lab in 01 02 03 04 05 06 07 08; do
    [[ $(lab_line "$lab") == "lab $lab: cannot run: no C++ compiler; no cmake"* ]] || fail "$(lab_line "$lab")"
  done
  path=$(path_without tmux doxygen)
  doctor env PATH="$path"
  assert_equal "$status" 0
  expect_fix '^warn no tmux: scripts/demo.sh' "apt-get install tmux"
  expect_fix '^warn no doxygen: ' "dnf install doxygen"
  lacks_line '^FAIL '
}

# --- what NSLAB_DOCTOR_ROOT shows it: the machine's surroundings -------------------

@test "doctor inside a container (/.dockerenv, /run/.containerenv): warn, and the verdicts stay the tries'" {
  fake_root
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  local plain=$status
  has_line '^ok   not inside a container$'
  touch "$FAKE/.dockerenv"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  has_line '^warn inside a container \(docker; /\.dockerenv\)'
  assert_equal "$status" "$plain"
  rm "$FAKE/.dockerenv"
  mkdir -p "$FAKE/run"
  touch "$FAKE/run/.containerenv"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  has_line '^warn inside a container \(podman; /run/\.containerenv\)'
}

@test "doctor on WSL2 (warn, and how to get cgroup v2) and WSL1 (FAIL: no lab can run), from /proc/version" {
  fake_root
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  local plain=$status
  lacks_line 'WSL'
  echo "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 11.2.0) #1 SMP" > "$FAKE/proc/version"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  expect_fix '^warn WSL2 ' "kernelCommandLine = cgroup_no_v1=all"
  assert_equal "$status" "$plain"
  echo "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #1237-Microsoft" > "$FAKE/proc/version"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  assert_equal "$status" 1
  expect_fix '^FAIL WSL1 ' "wsl --set-version"
  assert_equal "$(lab_line 01)" "lab 01: cannot run: WSL1 has no Linux kernel"
}

@test "doctor on a CI runner (CI, GITHUB_ACTIONS, GITLAB_CI): says which; not without them" {
  doctor env -u CI -u GITHUB_ACTIONS -u GITLAB_CI
  lacks_line 'CI runner'
  doctor env -u CI -u GITLAB_CI GITHUB_ACTIONS=true
  has_line '^ok   a CI runner: GitHub Actions \(GITHUB_ACTIONS=true\)'
  doctor env -u GITHUB_ACTIONS -u CI GITLAB_CI=true
  has_line '^ok   a CI runner: GitLab CI \(GITLAB_CI=true\)'
  doctor env -u GITHUB_ACTIONS -u GITLAB_CI CI=1
  has_line '^ok   a CI runner: CI=1'
}

@test "doctor on an old kernel (its release under NSLAB_DOCTOR_ROOT): the labs that need a newer one, and which version" {
  fake_root
  echo 5.4.0-150-generic > "$FAKE/proc/sys/kernel/osrelease"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  assert_equal "$status" 1
  expect_fix "^FAIL kernel 5\.4\.0-150-generic: older than 5\.8, which lab 07's pidfd exercise" "a kernel of 5.14 or later"
  has_line '^warn kernel 5\.4\.0-150-generic: older than 5\.14, .*\(cgroup\.kill;'
  assert_equal "$(lab_line 07)" "lab 07: can run; lab 07's pidfd exercise needs Linux 5.8"
  [[ $(lab_line 08) == "lab 08: can run (as root"* ]] || fail "$(lab_line 08)"
  echo 4.4.0 > "$FAKE/proc/sys/kernel/osrelease"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  assert_equal "$(lab_line 08)" "lab 08: cannot run: Linux 4.6 or later; Linux 5.1 or later"
  assert_equal "$(lab_line 07)" "lab 07: cannot run: Linux 5.1 or later"
  [[ $(lab_line 06) == "lab 06: can run (as root"* ]] || fail "$(lab_line 06)"
}

@test "doctor where the kernel lacks a namespace kind (/proc/self/ns under NSLAB_DOCTOR_ROOT): that lab and the later ones cannot run" {
  fake_root
  rm "$FAKE/proc/self/ns/cgroup"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  assert_equal "$status" 1
  expect_fix '^FAIL cgroup namespace: not in this kernel' "CONFIG_CGROUPS=y"
  assert_equal "$(lab_line 08)" "lab 08: cannot run: no cgroup namespaces in this kernel"
  [[ $(lab_line 07) == "lab 07: can run (as root"* ]] || fail "$(lab_line 07)"
  # The time namespace: no lab makes one, so its absence stops nothing.
  touch "$FAKE/proc/self/ns/cgroup"
  rm "$FAKE/proc/self/ns/time"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  has_line '^warn time namespace: not in this kernel'
  lacks_line '^FAIL '
}

@test "doctor and /etc/subuid: FAIL without the files; a user with a range, and one without (warn, with the usermod line)" {
  fake_root
  rm "$FAKE/etc/subuid"
  doctor env NSLAB_DOCTOR_ROOT="$FAKE"
  expect_fix '^FAIL no /etc/subuid or /etc/subgid' "touch /etc/subuid /etc/subgid"
  [[ $(lab_line 06) == "lab 06: can run; its tests need /etc/subuid and /etc/subgid"* ]] || fail "$(lab_line 06)"
  echo "nobody:100000:65536" > "$FAKE/etc/subuid"
  echo "$NSLAB_USER_UID:200000:65536" > "$FAKE/etc/subgid"
  doctor "${AS_NOBODY[@]}" env NSLAB_DOCTOR_ROOT="$FAKE"
  has_line '^ok   /etc/subuid, /etc/subgid: nobody has 100000-165535 and 200000-265535 '
  : > "$FAKE/etc/subgid"
  doctor "${AS_NOBODY[@]}" env NSLAB_DOCTOR_ROOT="$FAKE"
  expect_fix '^warn /etc/subuid, /etc/subgid: no range for nobody \(uids 100000-165535, gids none\)' \
    "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 nobody"
}
