#!/usr/bin/env bash
# Before a class: can this machine run each lab, and what to change if not.
#
#   scripts/doctor.sh           the findings, then one verdict per lab
#   scripts/doctor.sh --json    the same, as one JSON object
#
# It looks at what the labs and their tests need, and tries what can be tried:
# the kernel's version (the newest feature a lab uses), whether this user is
# root, whether this is a container, WSL or a CI runner; each namespace kind
# (made with unshare(1), as root or inside a user namespace, and gone again at
# once); user namespaces without root, tried as this user or, as root, as uid
# 65534 (nobody; NSLAB_ROOTLESS_UID names another, as for the rootless tests),
# and, when that fails, which setting blocks it and the sysctl that changes it;
# newuidmap/newgidmap and /etc/subuid for lab 06's id ranges; the cgroup layout
# (statfs of /sys/fs/cgroup, as lab 08 tells it), its controllers, and which
# cgroup this user may write (delegation); the build's tools and the tests'.
#
# Each finding is one line: "ok", "warn" (worth knowing, stops nothing) or
# "FAIL" (a lab, or part of it or of its tests, cannot run here), and under a
# problem "fix:" with what to do: the command, or the package (Debian and
# Fedora names). Long lines are wrapped to 80 columns; a continuation line
# starts with spaces. Then one line per lab ("lab 01: can run (as root)") and
# a last line. Exit status: 0 when every lab can run here in full (as this
# user; "as root" when a lab needs root and this is root); 1 otherwise; 2 for
# a bad argument. It changes nothing: each namespace it makes ends with the
# unshare(1) that made it; it makes no cgroup and writes no file.
#
# For tests only: NSLAB_DOCTOR_ROOT=DIR reads the files that describe this
# machine's settings and surroundings under DIR instead of / (/proc/sys/...,
# /proc/version, /proc/self/uid_map, /proc/self/ns/*, /proc/1/cgroup,
# /proc/1/environ, /etc/subuid, /etc/subgid, /.dockerenv, /run/.containerenv,
# /run/systemd/container; a file missing there counts as missing) and does not
# ask systemd-detect-virt. What it tries (unshare, the cgroup file system, the
# tools in PATH) is still this machine's.
#
# NSLAB_BUILD_DIR: the build to look for (default: build/ of this checkout).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NSLAB_BUILD_DIR:-$top/build}
fake=${NSLAB_DOCTOR_ROOT:-}
usage="usage: scripts/doctor.sh [--json]"

json=no
for arg in "$@"; do
  case $arg in
    -h | --help)
      cat <<EOF
$usage

Says whether this machine can run each nslab lab, and what to change if not:
the kernel, root or not, a container, WSL or CI; each namespace kind; user
namespaces without root (and the setting that blocks them); newuidmap and
/etc/subuid; the cgroup layout, its controllers and delegation; the build's
tools and the tests'. One line per finding (ok, warn or FAIL, and a fix under
each problem), then one line per lab.

  --json    the findings and verdicts as one JSON object

Exit status: 0 when every lab can run here in full, 1 otherwise, 2 for a bad
argument. It changes nothing on the machine. Run it as root to check the
machine for a class (labs 01-05 need root), and as a student's user to check
what that user can do without root.
EOF
      exit 0
      ;;
    --json) json=yes ;;
    *) echo "doctor: $arg: not an option ($usage)" >&2; exit 2 ;;
  esac
done

# --- findings and verdicts -------------------------------------------------------

# The labs, and what each one creates that needs root.
labs=(01 02 03 04 05 06 07 08)
declare -A lab_creates=([01]="a UTS namespace" [02]="an IPC namespace" [03]="a PID namespace"
  [04]="a mount namespace" [05]="a network namespace")
f_status=() f_topic=() f_text=() f_fix=()
declare -A blocked=() limited=()

# finding STATUS TOPIC TEXT [FIX]
finding() {
  f_status+=("$1") f_topic+=("$2") f_text+=("$3") f_fix+=("${4:-}")
}
heading() { finding "#" "" "$1"; }

# add_reason ARRAY LABS REASON: LABS (numbers, or "all") cannot do REASON's part.
add_reason() {
  local -n into=$1
  local lab list=$2
  [ "$list" != all ] || list=${labs[*]}
  for lab in $list; do
    case "; ${into["$lab"]:-}; " in *"; $3; "*) continue ;; esac
    into["$lab"]=${into["$lab"]:+${into["$lab"]}; }$3
  done
}
# block LABS REASON: those labs cannot run here. limit LABS REASON: they run,
# but a part of them (a feature, an exercise, some of their tests) cannot.
block() { add_reason blocked "$1" "$2"; }
limit() { add_reason limited "$1" "$2"; }
# labs_from NN: NN and every later lab (lab NN has every feature of those before).
labs_from() {
  local lab out=()
  for lab in "${labs[@]}"; do [ $((10#$lab)) -lt $((10#$1)) ] || out+=("$lab"); done
  echo "${out[*]}"
}

# read_into NAME FILE: FILE's text, without its last newline, in the variable
# NAME ("" and false when FILE cannot be read). read(1) rather than cat(1): no
# process for each of the files the doctor reads.
read_into() {
  local -n text_of=$1
  text_of=""
  [ -r "$2" ] || return 1
  IFS= read -r -d '' text_of < "$2" || true
  text_of=${text_of%$'\n'}
}
# The files that describe the machine, under NSLAB_DOCTOR_ROOT for the tests.
readv() { read_into "$1" "$fake$2"; }
has_file() { [ -e "$fake$1" ]; }
# The last line of a command's output and errors, for a finding.
last_words() { tail -n 1 <<< "$1" | sed 's/^unshare: //'; }

fix_sysctl() {
  echo "sysctl -w $1 (as root; to keep it: echo $1 >> /etc/sysctl.d/50-nslab.conf)"
}
# fix_package DEBIAN FEDORA: how to install a package on either.
fix_package() {
  echo "Debian/Ubuntu: apt-get install $1; Fedora: dnf install $2 (as root)"
}

# --- the machine ---------------------------------------------------------------------

heading "the machine"
readv release /proc/sys/kernel/osrelease || release=$(uname -r)
kernel=0
[[ $release =~ ^([0-9]+)\.([0-9]+) ]] && kernel=$((BASH_REMATCH[1] * 1000 + BASH_REMATCH[2]))
# The kernel features the labs use, by the version that brought them (as the
# sources say: solutions/, common/src/), and what lacking one costs.
# A later lab has every feature of the ones before it.
#   VERSION|LABS|block, limit or warn|what needs it|the feature
kernel_needs=(
  "3.19|06 07 08|block|lab 06's id maps without root|/proc/PID/setgroups"
  "4.6|08|block|lab 08's cgroup namespace|CLONE_NEWCGROUP"
  "5.1|07 08|block|lab 07's --enter|F_SEAL_FUTURE_WRITE, for a sealed copy of itself"
  "5.8|07|limit|lab 07's pidfd exercise|setns(2) with a pidfd"
  "5.14|-|warn|lab 08's one-write kill|cgroup.kill; without it, it kills the processes one by one"
)
kernel_ok=yes
for need in "${kernel_needs[@]}"; do
  IFS='|' read -r version which how what feature <<< "$need"
  [ "$kernel" -lt $((${version%.*} * 1000 + ${version#*.})) ] || continue
  kernel_ok=no
  text="kernel $release: older than $version, which $what needs ($feature)"
  fix="a kernel of 5.14 or later (Debian 12, Ubuntu 22.04, Fedora 35 and later have one)"
  case $how in
    block) finding FAIL kernel "$text" "$fix"; block "$which" "Linux $version or later" ;;
    limit) finding FAIL kernel "$text" "$fix"; limit "$which" "$what needs Linux $version" ;;
    *) finding warn kernel "$text" "none needed; $fix" ;;
  esac
done
[ "$kernel_ok" = no ] ||
  finding ok kernel "kernel $release: new enough for every lab (the newest feature they use is from 5.14)"

# Root, and root of which user namespace: uid 0 in a user namespace of its own
# (a rootless container) has no privilege over the machine.
uid=$EUID
user=$(id -un 2>/dev/null || echo "uid $uid")
readv uid_map /proc/self/uid_map || true
read -r map_inside map_outside map_count _ <<< "${uid_map:-0 0 4294967295}"
initial_userns=yes
[ "$map_inside $map_outside $map_count" = "0 0 4294967295" ] && [ "$(grep -c . <<< "${uid_map:-x}")" = 1 ] ||
  initial_userns=no
# Who tries what an unprivileged user does: this user, or, as the machine's
# root, the user the rootless tests run as (common/bats/nslab.bash).
if [ "$uid" = 0 ] && [ "$initial_userns" = yes ]; then
  probe_uid=${NSLAB_ROOTLESS_UID:-65534}
  probe_name=$(getent passwd "$probe_uid" | cut -d: -f1 || true)
  probe_gid=${NSLAB_ROOTLESS_GID:-$(getent passwd "$probe_uid" | cut -d: -f4 || true)}
  probe_gid=${probe_gid:-$probe_uid}
  who="uid $probe_uid${probe_name:+ ($probe_name)}"
  as_user=(setpriv "--reuid=$probe_uid" "--regid=$probe_gid" --clear-groups --)
else
  probe_uid=$uid probe_name=$user
  who="uid $uid ($user)"
  as_user=()
fi
# The same, for a verdict: "nobody, uid 65534".
verdict_who="${probe_name:+$probe_name, }uid $probe_uid"
if [ "$uid" = 0 ] && [ "$initial_userns" = yes ]; then
  finding ok root "root (uid 0): labs 01-05 may create namespaces; the rootless parts are tried as $who"
elif [ "$uid" = 0 ]; then
  finding warn root "uid 0 in a user namespace (uid_map \"$map_inside $map_outside $map_count\"): root here, not on the machine" \
    "for a class, run this on the machine itself, as root; what works here is tried below"
else
  finding FAIL root "$who is not root: labs 01-05 create namespaces, which needs root" \
    "run them as root (sudo scripts/grade.sh 01); labs 06-08 run without root"
  for lab in 01 02 03 04 05; do
    block "$lab" "needs root: it creates ${lab_creates[$lab]} (CAP_SYS_ADMIN)"
  done
fi

# A container: what it lets us do is tried below; say which, so that a
# failure there reads as the container's rule, not the kernel's.
container="" evidence=()
if has_file /.dockerenv; then container=docker evidence+=(/.dockerenv); fi
if has_file /run/.containerenv; then container=${container:-podman} evidence+=(/run/.containerenv); fi
if readv value /run/systemd/container && [ -n "$value" ]; then
  container=${container:-$value} evidence+=("/run/systemd/container: $value")
fi
# PID 1's environment (root may read it): container=NAME, as systemd-nspawn,
# LXC and podman set it.
value=""
[ ! -r "$fake/proc/1/environ" ] ||
  value=$({ tr '\0' '\n' < "$fake/proc/1/environ"; } 2>/dev/null | sed -n 's/^container=//p' | head -n 1 || true)
if [ -n "$value" ]; then container=${container:-$value} evidence+=("PID 1's container=$value"); fi
# PID 1's cgroup, where an engine names its containers' (without a cgroup namespace).
readv value /proc/1/cgroup || true
if [[ $value =~ /(docker|kubepods|libpod|lxc|containerd|actions_job)[^/$'\n']* ]]; then
  container=${container:-${BASH_REMATCH[1]}} evidence+=("PID 1's cgroup ${BASH_REMATCH[0]}")
fi
if [ -z "$fake" ] && [ -z "$container" ] && command -v systemd-detect-virt >/dev/null; then
  value=$(systemd-detect-virt --container 2>/dev/null || true)
  case $value in none | "" | wsl) ;; *) container=${container:-$value} evidence+=("systemd-detect-virt: $value") ;; esac
fi
if [ -n "$container" ]; then
  finding warn container "inside a container ($container; ${evidence[*]}): what it allows is tried below" \
    "none while the tries below pass; if one fails: run the container with --privileged (docker, podman), or use a VM"
else
  finding ok container "not inside a container"
fi

readv version /proc/version || true
if grep -qi microsoft <<< "$version"; then
  if grep -qiE 'wsl2|microsoft-standard' <<< "$version $release"; then
    finding warn wsl "WSL2 ($release): its kernel mounts cgroups as hybrid unless told otherwise" \
      "in %UserProfile%\\.wslconfig: [wsl2] kernelCommandLine = cgroup_no_v1=all, then wsl --shutdown"
  else
    finding FAIL wsl "WSL1 ($release): no Linux kernel, so no namespaces and no cgroups" \
      "wsl --set-version DISTRIBUTION 2 (in Windows), or a Linux machine or VM"
    block all "WSL1 has no Linux kernel"
  fi
fi

ci=""
if [ -n "${GITHUB_ACTIONS:-}" ]; then ci="GitHub Actions (GITHUB_ACTIONS=$GITHUB_ACTIONS)"
elif [ -n "${GITLAB_CI:-}" ]; then ci="GitLab CI (GITLAB_CI=$GITLAB_CI)"
elif [ -n "${CI:-}" ]; then ci="CI=$CI"
fi
[ -z "$ci" ] || finding ok ci "a CI runner: $ci; the tests run there as root (sudo)"

# Namespaces other than PID 1's: what is tried is this shell's (inside
# unshare or a sandbox), which may differ from what the machine allows.
if [ -z "$fake" ]; then
  differ=()
  for kind in cgroup ipc mnt net pid user uts; do
    # -ef: the same device and inode, which for nsfs is the namespace.
    [ -e "/proc/1/ns/$kind" ] || continue
    [ "/proc/1/ns/$kind" -ef "/proc/self/ns/$kind" ] || differ+=("$kind")
  done
  [ ${#differ[@]} -eq 0 ] || finding warn pid1 "not in PID 1's ${differ[*]} namespaces: this shell's are tried, not the machine's" \
    "for a class, run this from an ordinary shell of the machine"
fi

# --- namespaces ---------------------------------------------------------------------

# User namespaces without root, tried first: the other kinds are tried inside
# one when this is not root. The try is what lab 06 does: a user namespace
# with this user mapped to root, and in it a mount namespace and a change of
# propagation — where AppArmor lets the namespace be made but keeps its
# capabilities (PITFALLS 11), the mount is refused.
userns_ok=no userns_error=""
# By their paths: the user may not reach every directory of root's PATH.
probe=("$(command -v true)")
! command -v mount >/dev/null || probe=("$(command -v mount)" --make-rprivate /)
if ! command -v unshare >/dev/null; then
  userns_error="no unshare (util-linux) to try it with"
elif [ ${#as_user[@]} -gt 0 ] && ! command -v setpriv >/dev/null; then
  userns_error="no setpriv (util-linux) to try it as $who"
elif output=$(cd / && "${as_user[@]}" "$(command -v unshare)" --user --map-root-user --mount "${probe[@]}" 2>&1); then
  userns_ok=yes
else
  userns_error=$(last_words "${output:-failed}")
fi

heading "namespaces"
#   KIND|FIRST LAB|unshare's options|the kernel option that builds it
kinds=("uts|01|--uts|UTS_NS" "ipc|02|--ipc|IPC_NS" "pid|03|--pid --fork|PID_NS" "mnt|04|--mount|(none)"
  "net|05|--net|NET_NS" "user|06|--user|USER_NS" "cgroup|08|--cgroup|CGROUPS" "time|-|--time|TIME_NS")
for entry in "${kinds[@]}"; do
  IFS='|' read -r kind first options config <<< "$entry"
  used="lab $first"
  [ "$first" != - ] || used="no lab makes one; lab 07 joins it"
  if ! has_file "/proc/self/ns/$kind"; then
    if [ "$first" = - ]; then
      finding warn "ns-$kind" "$kind namespace: not in this kernel (5.6 brought it): lab 07 skips it" "none needed"
    else
      finding FAIL "ns-$kind" "$kind namespace: not in this kernel (no /proc/self/ns/$kind; $used)" \
        "a kernel built with CONFIG_$config=y, as every distribution's is"
      block "$(labs_from "$first")" "no $kind namespaces in this kernel"
    fi
    continue
  fi
  if ! command -v unshare >/dev/null; then
    finding ok "ns-$kind" "$kind namespace: in this kernel ($used; without unshare, not tried)"
  elif [ "$uid" = 0 ]; then
    # shellcheck disable=SC2086  # options are words
    if output=$(cd / && unshare $options true 2>&1); then
      finding ok "ns-$kind" "$kind namespace: made one as root, gone again ($used)"
    elif [ "$first" = - ]; then
      finding warn "ns-$kind" "$kind namespace: root cannot make one ($(last_words "$output")): lab 07 only joins it" "none needed"
    else
      fix="see dmesg: a security module may refuse it"
      readv value /proc/sys/user/max_user_namespaces || true
      if [ "$kind" = user ] && [ "$value" = 0 ]; then
        fix=$(fix_sysctl user.max_user_namespaces=10000)
      elif [ -n "$container" ]; then
        fix="give the container the privilege: docker run --privileged (or --cap-add SYS_ADMIN --security-opt seccomp=unconfined)"
      fi
      finding FAIL "ns-$kind" "$kind namespace: root cannot make one ($(last_words "$output"); $used)" "$fix"
      block "$(labs_from "$first")" "root cannot make a $kind namespace here"
    fi
  elif [ "$kind" = user ]; then
    finding ok "ns-$kind" "$kind namespace: in this kernel ($used; without root: see below)"
  elif [ "$userns_ok" = yes ]; then
    # shellcheck disable=SC2086
    if output=$(cd / && unshare --user --map-root-user $options true 2>&1); then
      finding ok "ns-$kind" "$kind namespace: made one inside a user namespace ($used)"
    else
      finding warn "ns-$kind" "$kind namespace: in this kernel, but not made in a user namespace ($(last_words "$output"))" \
        "try it as root: sudo scripts/doctor.sh"
    fi
  else
    finding ok "ns-$kind" "$kind namespace: in this kernel ($used; making one needs root)"
  fi
done

# veth pairs, for lab 05's --veth: loaded already, a module the kernel loads
# when lab 05 first asks, or else tried in a network namespace of its own
# (the pair goes with it) — only then, so that no module is loaded by this.
if [ "$uid" = 0 ] && [ "$initial_userns" = yes ] && command -v ip >/dev/null && command -v unshare >/dev/null; then
  modules=/lib/modules/$(uname -r)
  if [ -d /sys/module/veth ]; then
    finding ok veth "veth: in this kernel, loaded (lab 05's --veth)"
  elif compgen -G "$modules/kernel/drivers/net/veth.ko*" >/dev/null; then
    finding ok veth "veth: a module of this kernel, loaded when lab 05 first needs it"
  elif (cd / && unshare --net ip link add nslab-doctor0 type veth peer name nslab-doctor1) 2>/dev/null; then
    finding ok veth "veth: made a pair in a network namespace of its own, gone again (lab 05)"
  else
    finding FAIL veth "no veth in this kernel: lab 05's --veth cannot link a container to the host" \
      "a kernel with CONFIG_VETH (Ubuntu: apt-get install linux-modules-extra-$(uname -r))"
    limit "05 06 07 08" "--veth needs veth in the kernel"
  fi
fi

# --- user namespaces without root (lab 06, and the rootless parts of 07 and 08) --

heading "user namespaces without root"
settings=()
for name in user.max_user_namespaces kernel.unprivileged_userns_clone kernel.apparmor_restrict_unprivileged_userns; do
  readv value "/proc/sys/${name//.//}" || continue
  settings+=("$name=$value")
done
shown_settings=${settings[*]:-none of the switches is here}
if [ "$userns_ok" = yes ]; then
  finding ok userns "$who made a user namespace and was root in it ($shown_settings)"
else
  # Which setting blocks it: each one that does gets its own line and fix.
  causes=()
  readv value /proc/sys/user/max_user_namespaces || true
  [ "$value" != 0 ] ||
    causes+=("user.max_user_namespaces is 0: no user namespace may be made|$(fix_sysctl user.max_user_namespaces=10000)")
  readv value /proc/sys/kernel/unprivileged_userns_clone || true
  [ "$value" != 0 ] ||
    causes+=("kernel.unprivileged_userns_clone is 0 (Debian's switch): only root may make one|$(fix_sysctl kernel.unprivileged_userns_clone=1)")
  readv value /proc/sys/kernel/apparmor_restrict_unprivileged_userns || true
  [ "$value" != 1 ] ||
    causes+=("kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu's AppArmor): no capability in it|$(fix_sysctl kernel.apparmor_restrict_unprivileged_userns=0)")
  fix=""
  if [ ${#causes[@]} -eq 0 ]; then
    fix="no setting here explains it: see dmesg, and user_namespaces(7)"
    [ -z "$container" ] || fix="the container forbids it (seccomp, capabilities): docker run --security-opt seccomp=unconfined, or --privileged"
    [[ $userns_error != no\ * ]] || fix=$(fix_package util-linux util-linux)
  fi
  finding FAIL userns "$who cannot make a user namespace ($userns_error; $shown_settings)" "$fix"
  for cause in "${causes[@]}"; do
    finding FAIL userns-setting "${cause%%|*}" "${cause#*|}"
  done
  if [ "$uid" = 0 ]; then
    limit "06 07 08" "rootless, $who may not make a user namespace"
  else
    block "06 07 08" "$who may not make a user namespace"
  fi
fi

# newuidmap and newgidmap write a map of many ids for a user (lab 06's
# --uid-map 0:100000:65536): set-user-ID root (Debian) or with file
# capabilities (Fedora).
helpers_ok=yes
for helper in newuidmap newgidmap; do
  path=$(command -v "$helper" || true)
  if [ -z "$path" ]; then
    helpers_ok=no
    finding FAIL uidmap "no $helper: lab 06's id ranges and its tests need it" "$(fix_package uidmap shadow-utils)"
    limit 06 "its id ranges need $helper"
  elif [ ! -u "$path" ] && ! { command -v getcap >/dev/null && getcap "$path" 2>/dev/null | grep -q 'cap_set[ug]id'; }; then
    helpers_ok=no
    finding FAIL uidmap "$path is neither set-user-ID root nor given cap_set${helper:3:1}id: it cannot write maps" \
      "chmod u+s $path (as root), or reinstall it: $(fix_package uidmap shadow-utils)"
    limit 06 "its id ranges need a working $helper"
  fi
done
[ "$helpers_ok" = no ] || finding ok uidmap "newuidmap, newgidmap: installed, privileged (lab 06's id ranges)"

# /etc/subuid and /etc/subgid: the ranges a user may map. The tests bind-mount
# their own over them, so both must exist; a learner needs a range of their own
# to try lab 06's ranges (root maps any ids without them).
if ! has_file /etc/subuid || ! has_file /etc/subgid; then
  finding FAIL subuid "no /etc/subuid or /etc/subgid: lab 06's tests mount theirs over them" \
    "touch /etc/subuid /etc/subgid (as root; Debian: passwd, Fedora: shadow-utils make them)"
  limit 06 "its tests need /etc/subuid and /etc/subgid"
else
  # Whose ranges matter: this user's; as root, the user who ran sudo, if any
  # (root writes any map itself, and the tests bring their own ranges).
  learner="" learner_uid=""
  if [ "$uid" != 0 ]; then
    learner=$user learner_uid=$uid
  elif [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    learner=$SUDO_USER learner_uid=$(id -u "$SUDO_USER" 2>/dev/null || true)
  fi
  ranges=() counts=()
  for file in /etc/subuid /etc/subgid; do
    # "NAME-or-UID:FIRST:COUNT", one range a line; the first of the learner's.
    range=none lines=0
    [ -r "$fake$file" ] && while IFS=: read -r owner start count; do
      lines=$((lines + 1))
      if [ -n "$learner" ] && [[ ($owner == "$learner" || $owner == "$learner_uid") && $start =~ ^[0-9]+$ &&
        $count =~ ^[1-9][0-9]*$ ]]; then
        range="$start-$((start + count - 1))"
        break
      fi
    done < "$fake$file"
    ranges+=("$range") counts+=("$lines")
  done
  if [ -z "$learner" ]; then
    finding ok subuid "/etc/subuid, /etc/subgid: present (${counts[0]} uid ranges, ${counts[1]} gid ranges); root maps any ids itself"
  elif [ "${ranges[0]}" != none ] && [ "${ranges[1]}" != none ]; then
    finding ok subuid "/etc/subuid, /etc/subgid: $learner has ${ranges[0]} and ${ranges[1]} (lab 06's ranges)"
  else
    finding warn subuid "/etc/subuid, /etc/subgid: no range for $learner (uids ${ranges[0]}, gids ${ranges[1]}): only one id of theirs maps" \
      "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $learner (as root)"
  fi
fi

# --- cgroups (lab 08) -------------------------------------------------------------

heading "cgroups"
mount=/sys/fs/cgroup
# statfs's f_type of each place lab 08 looks (detect_layout in
# solutions/08-cgroup/hierarchy.cpp), in one stat(1): cgroup2 0x63677270,
# cgroup v1 0x27e0eb, tmpfs 0x1021994.
declare -A fs_type=()
while read -r path type; do
  fs_type[$path]=$type
done < <(stat -fc '%n %t' "$mount" "$mount/unified" "$mount/memory" "$mount/pids" "$mount/cpu" 2>/dev/null || true)
case ${fs_type[$mount]:-} in
  63677270) layout=v2 ;;
  1021994) if [ "${fs_type[$mount/unified]:-}" = 63677270 ]; then layout=hybrid; else layout=v1; fi ;;
  *) layout=none ;;
esac
# The mount table, read once: "ID PARENT DEV ROOT POINT OPTIONS ... - TYPE SOURCE SUPER".
mapfile -t mountinfo < /proc/self/mountinfo
# mount_of POINT: m_root and m_options of the last mount on POINT (the one
# seen there).
mount_of() {
  local line root point options
  m_root="" m_options=""
  for line in "${mountinfo[@]}"; do
    read -r _ _ _ root point options _ <<< "${line%% - *}"
    [ "$point" != "$1" ] || m_root=$root m_options=$options
  done
}
# This process's cgroup in each hierarchy, from /proc/self/cgroup
# ("ID:CONTROLLERS:PATH"; v2's line is "0::PATH"): own[unified], own[memory]...
declare -A own=()
while IFS=: read -r id controllers path; do
  if [ "$id" = 0 ] && [ -z "$controllers" ]; then own[unified]=$path; fi
  IFS=, read -ra names <<< "$controllers"
  for name in "${names[@]}"; do own[$name]=$path; done
done < /proc/self/cgroup

needed=(memory pids cpu)
declare -A option_of=([memory]=--memory [pids]=--pids [cpu]=--cpus)
declare -A config_of=([memory]=MEMCG [pids]=CGROUP_PIDS [cpu]=CFS_BANDWIDTH)
# The hierarchies lab 08 uses: KEY (of own[]) and mount point.
hierarchies=() keys=()
missing=()
case $layout in
  v2)
    finding ok cgroup-layout "cgroup layout: v2 (cgroup2 alone at $mount)"
    hierarchies=("$mount") keys=(unified)
    read -r -a available < "$mount/cgroup.controllers" || true
    for controller in "${needed[@]}"; do
      [[ " ${available[*]} " == *" $controller "* ]] || missing+=("$controller")
    done
    ;;
  hybrid | v1)
    if [ "$layout" = hybrid ]; then
      finding ok cgroup-layout "cgroup layout: hybrid (v1 hierarchies, cgroup2 at $mount/unified): lab 08 uses v1's"
    else
      finding ok cgroup-layout "cgroup layout: v1 (one hierarchy per controller)"
    fi
    for controller in "${needed[@]}"; do
      if [ "${fs_type[$mount/$controller]:-}" = 27e0eb ]; then
        hierarchies+=("$mount/$controller") keys+=("$controller")
      else
        missing+=("$controller")
      fi
    done
    ;;
  *)
    finding FAIL cgroup-layout "cgroup layout: none (no cgroup file system at $mount)" \
      "mount -t cgroup2 cgroup2 $mount (as root; systemd mounts it at boot)"
    block 08 "no cgroup file system at $mount"
    ;;
esac

# The controllers lab 08's limits need, in the hierarchy it uses.
if [ "$layout" != none ] && [ ${#missing[@]} -eq 0 ]; then
  finding ok cgroup-controllers "cgroup controllers: memory, pids, cpu (--memory, --pids, --cpus)"
fi
for controller in "${missing[@]}"; do
  fix="mount -t cgroup -o $controller cgroup $mount/$controller (as root), or boot with cgroup v2"
  if [ "$layout" = v2 ]; then
    fix="a kernel with CONFIG_${config_of[$controller]}=y, as every distribution's is"
    for line in "${mountinfo[@]}"; do
      read -r type _ super <<< "${line#* - }"
      if [ "$type" = cgroup ] && [[ ,$super, == *",$controller,"* ]]; then
        fix="a v1 hierarchy holds it: boot with cgroup_no_v1=all (or systemd.unified_cgroup_hierarchy=1)"
      fi
    done
  fi
  finding FAIL cgroup-controllers "no $controller controller here: lab 08's ${option_of[$controller]} cannot work" "$fix"
  limit 08 "${option_of[$controller]} needs the $controller controller"
done

dir_of() { if [ "$2" = / ]; then echo "$1"; else echo "$1$2"; fi; }
parent_of() { local up=${1%/*}; echo "${up:-/}"; }
cg_writable() { [ -w "$1" ] && [ -w "$1/cgroup.procs" ]; }
# base_in MOUNT OWN: where lab 08 would put its nslab/ (find_base): the cgroup
# NSLAB_CGROUP_BASE names, or the highest one from OWN up that we may write.
base_in() {
  local base
  if [ -n "${NSLAB_CGROUP_BASE:-}" ]; then
    cg_writable "$(dir_of "$1" "$NSLAB_CGROUP_BASE")" && echo "$NSLAB_CGROUP_BASE"
    return 0
  fi
  cg_writable "$(dir_of "$1" "$2")" || return 0
  base=$2
  while [ "$base" != / ] && cg_writable "$(dir_of "$1" "$(parent_of "$base")")"; do base=$(parent_of "$base"); done
  echo "$base"
}

if [ ${#hierarchies[@]} -gt 0 ]; then
  readonly_mounts=() foreign=() undelegated=() undelegated_keys=() bases=()
  for i in "${!hierarchies[@]}"; do
    hierarchy=${hierarchies[$i]}
    mount_of "$hierarchy"
    # A tree mounted from another cgroup namespace's root: lab 08's paths
    # (this namespace's) are not the mount's.
    [ "${m_root:-/}" = / ] || foreign+=("$hierarchy (root $m_root)")
    if [[ ,$m_options, == *,ro,* ]]; then
      readonly_mounts+=("$hierarchy")
      continue
    fi
    base=$(base_in "$hierarchy" "${own[${keys[$i]}]:-/}")
    if [ -z "$base" ]; then
      undelegated+=("$hierarchy") undelegated_keys+=("${keys[$i]}")
    else
      bases+=("$base")
    fi
  done
  # /sys/fs/cgroup, or /sys/fs/cgroup/{memory,pids,cpu}
  shown=$mount
  [ "$layout" = v2 ] || shown+="/{$(IFS=,; echo "${keys[*]}")}"
  if [ ${#foreign[@]} -gt 0 ]; then
    finding FAIL cgroup-namespace "mounted from another cgroup namespace: ${foreign[*]}" \
      "mount this namespace's own tree there (in a mount namespace of its own), or run on the host"
    block 08 "its cgroup tree is another cgroup namespace's"
  fi
  if [ ${#readonly_mounts[@]} -gt 0 ]; then
    finding FAIL cgroup-write "mounted read-only: ${readonly_mounts[*]}" \
      "in a container: docker run --privileged (or mount /sys/fs/cgroup read-write)"
    block 08 "$mount is read-only"
  fi
  if [ "$uid" = 0 ] && [ ${#undelegated[@]} -eq 0 ] && [ ${#readonly_mounts[@]} -eq 0 ]; then
    finding ok cgroup-delegation "cgroups: root may make lab 08's, under ${bases[0]}${NSLAB_CGROUP_BASE:+ (NSLAB_CGROUP_BASE)} in $shown"
  elif [ ${#undelegated[@]} -gt 0 ]; then
    # The user's own cgroup, and who owns it: what delegation changes.
    first=${undelegated[0]}
    mine=${own[${undelegated_keys[0]}]:-/}
    dir=$(dir_of "$first" "$mine")
    details="owner $(stat -c %U "$dir" 2>/dev/null || echo unknown)"
    if [ "$layout" = v2 ]; then
      read_into value "$dir/cgroup.controllers" || true
      details+="; controllers: ${value:-none}"
      read_into value "$dir/cgroup.subtree_control" || true
      details+="; subtree_control: ${value:-none}"
      fix="systemd-run --user --scope -p Delegate=yes build/bin/solutions/08-cgroup --memory 48M -- sh (a delegated scope), or run it as root"
    else
      fix="run lab 08 as root: on cgroup v1 nothing is delegated to a user (systemd delegates on v2 only)"
    fi
    [ -z "${NSLAB_CGROUP_BASE:-}" ] || details+="; NSLAB_CGROUP_BASE=$NSLAB_CGROUP_BASE"
    finding FAIL cgroup-delegation "no cgroup delegated to $who in $shown: its own is $mine ($details)" "$fix"
    limit 08 "limits need root or delegation"
  elif [ "$uid" != 0 ]; then
    base=${bases[0]}
    dir=$(dir_of "${hierarchies[0]}" "$base")
    details="owner $(stat -c %U "$dir" 2>/dev/null || echo unknown)"
    if [ "$layout" = v2 ]; then
      read_into value "$dir/cgroup.controllers" || true
      details+="; controllers: ${value:-none}"
      for controller in "${needed[@]}"; do
        [[ " $value " != *" $controller "* ]] || continue
        finding FAIL cgroup-delegation "the cgroup delegated to $who ($base) lacks $controller: ${option_of[$controller]} cannot work" \
          "mkdir -p /etc/systemd/system/user@.service.d; printf '[Service]\\nDelegate=memory pids cpu\\n' > /etc/systemd/system/user@.service.d/delegate.conf; systemctl daemon-reload (as root)"
        limit 08 "${option_of[$controller]} needs $controller delegated"
      done
    fi
    finding ok cgroup-delegation "cgroup delegated to $who: $base ($details)"
  fi
fi

# --- the build and the tests' tools --------------------------------------------------

heading "the build and the tools"
# The compiler CMake would take. One run of its preprocessor says whether it
# knows C++20, its version, and whether it finds the header of GoogleTest (__has_include looks for a header without reading it).
cxx=""
for candidate in "${CXX:-}" c++ g++ clang++; do
  [ -n "$candidate" ] && command -v "$candidate" >/dev/null && { cxx=$candidate; break; }
done
build_tools=()
cxx_says=""
if [ -n "$cxx" ]; then
  cxx_says=$("$cxx" -std=c++20 -E -P -x c++ - 2>/dev/null <<'CXX' || true
nslab_cxx20
#if __has_include(<gtest/gtest.h>)
nslab_header gtest
#endif
#if defined(__clang__)
nslab_version __clang_major__ __clang_minor__ __clang_patchlevel__
#elif defined(__GNUC__)
nslab_version __GNUC__ __GNUC_MINOR__ __GNUC_PATCHLEVEL__
#endif
CXX
  )
fi
if [ -z "$cxx" ]; then
  finding FAIL build "no C++ compiler: every lab is built from C++20 sources" "$(fix_package "g++" "gcc-c++")"
  block all "no C++ compiler"
elif ! grep -qx nslab_cxx20 <<< "$cxx_says"; then
  finding FAIL build "$cxx does not know C++20 (-std=c++20)" "g++ 10 or later: $(fix_package "g++" "gcc-c++")"
  block all "no C++20 compiler"
else
  read -r _ major minor patch < <(grep '^nslab_version ' <<< "$cxx_says" || echo "- ?")
  build_tools+=("$cxx ${major}${minor:+.$minor}${patch:+.$patch}")
fi
cmake_version=$(cmake --version 2>/dev/null | sed -n 's/^cmake version \([0-9][0-9.]*\).*/\1/p' || true)
if [ -z "$cmake_version" ]; then
  finding FAIL build "no cmake: the build is CMake's" "$(fix_package cmake cmake)"
  block all "no cmake"
elif [ "$(printf '%s\n' 3.25 "$cmake_version" | sort -V | head -n 1)" != 3.25 ]; then
  finding FAIL build "cmake $cmake_version: the build needs 3.25 or later" "a newer CMake: pip install cmake, or the distribution's backports"
  block all "CMake 3.25 or later"
else
  build_tools+=("cmake $cmake_version")
fi
if command -v make >/dev/null; then
  build_tools+=(make)
else
  finding FAIL build "no make: the default preset builds with it" "$(fix_package make make)"
  block all "no make"
fi
if [ ${#build_tools[@]} -eq 3 ]; then
  listed=$(IFS=,; echo "${build_tools[*]}")
  finding ok build "the build: ${listed//,/, }"
fi

# has_header NAME: the compiler found that header (above).
has_header() { grep -qx "nslab_header $1" <<< "$cxx_says"; }
# found_library NAME: the compiler's linker finds lib NAME (a path comes back).
found_library() { [ -n "$cxx" ] && [[ $("$cxx" -print-file-name="$1" 2>/dev/null) == /* ]]; }
if found_library libc.a && found_library libstdc++.a; then
  finding ok static "static libc and libstdc++: the programs and chroot-escape are static"
elif [ -n "$cxx_says" ]; then
  finding FAIL static "no static libc or libstdc++: a dynamic build, and lab 04's chroot-escape cannot run in a rootfs" \
    "Debian/Ubuntu: apt-get install libc6-dev libstdc++-dev (g++ brings them); Fedora: dnf install glibc-static libstdc++-static"
  limit 04 "its chroot-escape exercise needs a static build"
fi
if has_header gtest; then
  finding ok gtest "GoogleTest: the unit tests of common/"
elif [ -n "$cxx_says" ]; then
  finding warn gtest "no GoogleTest: the unit tests of common/ are not built" "$(fix_package libgtest-dev gtest-devel)"
fi

# Bats 1.5 or later and its two libraries, where cmake/FindBats.cmake looks.
bats_version=$(bats --version 2>/dev/null | sed -n 's/^Bats \([0-9][0-9.]*\).*/\1/p' || true)
library_dir() {
  local dir
  for dir in ${2:+"$2"} /usr/lib/bats /usr/share/bats /usr/lib /usr/local/lib /usr/local/lib/bats; do
    [ "$dir" = "${2:-}" ] && [ -f "$dir/load.bash" ] && { echo "$dir"; return; }
    [ -f "$dir/$1/load.bash" ] && { echo "$dir/$1"; return; }
  done
}
bats_missing=()
if [ -z "$bats_version" ]; then
  bats_missing+=(bats)
elif [ "$(printf '%s\n' 1.5 "$bats_version" | sort -V | head -n 1)" != 1.5 ]; then
  finding FAIL bats "bats $bats_version: the tests need 1.5 or later" "a newer Bats: from bats-core, or the distribution's backports"
  limit all "its tests need Bats 1.5 or later"
fi
[ -n "$(library_dir bats-support "${BATS_SUPPORT_DIR:-}")" ] || bats_missing+=(bats-support)
[ -n "$(library_dir bats-assert "${BATS_ASSERT_DIR:-}")" ] || bats_missing+=(bats-assert)
if [ ${#bats_missing[@]} -eq 0 ]; then
  [ -z "$bats_version" ] || finding ok bats "the labs' tests: bats $bats_version, bats-support, bats-assert"
else
  finding FAIL bats "no ${bats_missing[*]}: no lab's tests can run" \
    "Debian/Ubuntu: apt-get install ${bats_missing[*]}; Fedora: dnf install bats, and clone bats-support and bats-assert from bats-core into /usr/lib/bats/"
  limit all "its tests need ${bats_missing[*]}"
fi

# The programs the labs' tests run, and which labs' tests do (labs/*/tests).
#   COMMAND|DEBIAN|FEDORA|LABS
test_tools=(
  "unshare|util-linux|util-linux|all" "setpriv|util-linux|util-linux|01 03 05 06 07 08"
  "nsenter|util-linux|util-linux|05 07" "lsns|util-linux|util-linux|06 07"
  "findmnt|util-linux|util-linux|04 06 08" "ipcs|util-linux|util-linux|02 04 05 06 07"
  "hostname|hostname|hostname|01" "ps|procps|procps-ng|03 05 06" "pgrep|procps|procps-ng|07"
  "perl|perl|perl|03" "ip|iproute2|iproute|04 05 06 07" "strace|strace|strace|07"
  "python3|python3|python3|07 08"
)
present=()
for entry in "${test_tools[@]}"; do
  IFS='|' read -r tool debian fedora which <<< "$entry"
  if command -v "$tool" >/dev/null; then
    present+=("$tool")
    continue
  fi
  shown_labs=$which
  [ "$which" != all ] || shown_labs="every lab"
  finding FAIL tools "no $tool: the tests of $shown_labs run it" "$(fix_package "$debian" "$fedora")"
  limit "$which" "its tests need $tool"
done
# A static busybox: the root filesystem of the tests from lab 04 on.
busybox=$(command -v busybox || true)
if [ -z "$busybox" ]; then
  finding FAIL tools "no busybox: the tests' root filesystem (labs 04-08) is made of it" "$(fix_package busybox-static busybox)"
  limit "04 05 06 07 08" "its tests need a static busybox"
elif command -v ldd >/dev/null && ldd "$busybox" >/dev/null 2>&1; then
  finding FAIL tools "$busybox is dynamic: the tests' root filesystem (labs 04-08) needs the static one" "$(fix_package busybox-static busybox)"
  limit "04 05 06 07 08" "its tests need a static busybox"
else
  present+=("busybox (static)")
fi
[ ${#present[@]} -eq 0 ] || finding ok tools "what the tests run: ${present[*]}"

# The teacher's tools: nothing a lab needs.
#   COMMAND|DEBIAN|FEDORA|what for
teacher_tools=(
  "tmux|tmux|tmux|scripts/demo.sh shows lab 07's two terminals side by side"
  "doxygen|doxygen|doxygen|the tutorials (cmake --build build --target docs)"
  "dot|graphviz|graphviz|the tutorials' diagrams"
  "clang-tidy|clang-tidy|clang-tools-extra|the tidy preset"
  "qemu-system-x86_64|qemu-system-x86|qemu-system-x86-core|scripts/vm-test.sh"
  "cpio|cpio|cpio|scripts/vm-test.sh's initramfs"
  "depmod|kmod|kmod|scripts/vm-test.sh's kernel modules"
)
present=()
for entry in "${teacher_tools[@]}"; do
  IFS='|' read -r tool debian fedora what <<< "$entry"
  # depmod lives in sbin, which a user's PATH may not name.
  if PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null; then
    present+=("$tool")
  else
    finding warn teacher "no $tool: $what" "$(fix_package "$debian" "$fedora")"
  fi
done
if [ -f /usr/share/doxygen-awesome-css/doxygen-awesome.css ] || [ -f /usr/local/share/doxygen-awesome-css/doxygen-awesome.css ]; then
  present+=(doxygen-awesome-css)
else
  finding warn teacher "no doxygen-awesome-css: the tutorials use Doxygen's own style" \
    "Debian/Ubuntu: apt-get install doxygen-awesome-css; Fedora: not packaged"
fi
[ ${#present[@]} -eq 0 ] || finding ok teacher "for the teacher: ${present[*]}"

# The build itself: not a problem of the machine, but the next step.
built=() unbuilt=()
for dir in "$top"/solutions/[0-9][0-9]-*/; do
  name=${dir%/}
  name=${name##*/}
  if [ -x "$build/bin/solutions/$name" ]; then built+=("${name:0:2}"); else unbuilt+=("$name"); fi
done
if [ ${#unbuilt[@]} -eq 0 ]; then
  finding ok built "built: $build/bin/solutions has labs ${built[*]}"
else
  finding warn built "not built yet in $build: ${unbuilt[*]}" \
    "cmake --preset default && cmake --build --preset default (NSLAB_BUILD_DIR names another build)"
fi

# --- verdicts ---------------------------------------------------------------------

v_lab=() v_runs=() v_text=()
status=0
for lab in "${labs[@]}"; do
  if [ "$uid" = 0 ]; then
    how="as root"
    [ $((10#$lab)) -lt 6 ] || [ "$userns_ok" != yes ] || [ ${#as_user[@]} -eq 0 ] || how+=", and rootless as $verdict_who"
  else
    how="as $verdict_who"
    [ "$lab" != 07 ] || how+=": joins this user's rootless containers"
  fi
  if [ -n "${blocked[$lab]:-}" ]; then
    runs=no text="cannot run: ${blocked[$lab]}"
    status=1
  elif [ -n "${limited[$lab]:-}" ]; then
    runs=partly text="can run; ${limited[$lab]}"
    status=1
  else
    runs=yes text="can run ($how)"
  fi
  v_lab+=("$lab") v_runs+=("$runs") v_text+=("$text")
done
cannot=() partly=()
for i in "${!v_lab[@]}"; do
  case ${v_runs[$i]} in no) cannot+=("${v_lab[$i]}") ;; partly) partly+=("${v_lab[$i]}") ;; esac
done
if [ "$status" = 0 ]; then
  summary="every lab can run here, as $([ "$uid" = 0 ] && echo root || echo "$verdict_who")"
else
  summary="not every lab can run here as $([ "$uid" = 0 ] && echo root || echo "$verdict_who"):"
  [ ${#cannot[@]} -eq 0 ] || summary+=" ${cannot[*]} cannot"
  [ ${#cannot[@]} -eq 0 ] || [ ${#partly[@]} -eq 0 ] || summary+=","
  [ ${#partly[@]} -eq 0 ] || summary+=" ${partly[*]} only in part"
  summary+="; the FAIL lines say what to change"
fi

# --- output -------------------------------------------------------------------------

# wrap FIRST NEXT TEXT: TEXT after FIRST, in lines of 80 columns, each further
# line starting with NEXT. A word longer than a line stays whole.
wrap() {
  local line=$1 next=$2 word words fresh=yes
  read -ra words <<< "$3"
  for word in "${words[@]}"; do
    if [ "$fresh" = yes ]; then
      line+=$word fresh=no
    elif [ $((${#line} + 1 + ${#word})) -le 80 ]; then
      line+=" $word"
    else
      printf '%s\n' "$line"
      line=$next$word
    fi
  done
  printf '%s\n' "$line"
}

json_string() {
  local text=$1
  text=${text//\\/\\\\}
  text=${text//\"/\\\"}
  text=${text//$'\t'/ }
  text=${text//$'\n'/ }
  printf '"%s"' "${text//[$'\001'-$'\037']/}"
}

if [ "$json" = yes ]; then
  printf '{"uid": %d, "root": %s, "kernel": %s, "cgroup_layout": %s, "container": %s,\n' \
    "$uid" "$([ "$uid" = 0 ] && echo true || echo false)" "$(json_string "$release")" "$(json_string "$layout")" \
    "$(json_string "$container")"
  printf ' "findings": ['
  separator=""
  for i in "${!f_status[@]}"; do
    [ "${f_status[$i]}" != "#" ] || continue
    printf '%s\n  {"status": %s, "topic": %s, "text": %s, "fix": %s}' "$separator" "$(json_string "${f_status[$i]}")" \
      "$(json_string "${f_topic[$i]}")" "$(json_string "${f_text[$i]}")" "$(json_string "${f_fix[$i]}")"
    separator=,
  done
  printf '],\n "labs": ['
  separator=""
  for i in "${!v_lab[@]}"; do
    printf '%s\n  {"lab": %s, "runs": %s, "text": %s}' "$separator" "$(json_string "${v_lab[$i]}")" \
      "$(json_string "${v_runs[$i]}")" "$(json_string "${v_text[$i]}")"
    separator=,
  done
  printf '],\n "summary": %s, "status": %d}\n' "$(json_string "$summary")" "$status"
  exit "$status"
fi

echo "nslab doctor: can this machine run the labs? (scripts/doctor.sh --help)"
for i in "${!f_status[@]}"; do
  if [ "${f_status[$i]}" = "#" ]; then
    printf '\n%s\n' "${f_text[$i]}"
    continue
  fi
  wrap "$(printf '%-4s ' "${f_status[$i]}")" "     " "${f_text[$i]}"
  [ -z "${f_fix[$i]}" ] || wrap "     fix: " "          " "${f_fix[$i]}"
done
printf '\n%s\n' "the labs"
for i in "${!v_lab[@]}"; do
  wrap "lab ${v_lab[$i]}: " "        " "${v_text[$i]}"
done
echo
wrap "doctor: " "        " "$summary"
exit "$status"
