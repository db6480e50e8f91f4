#!/usr/bin/env bash
# The mutant check: proves that each lab's tests catch the loss of its isolation.
#
# Each mutant is a copy of the solutions with one line of isolation removed. It is
# built, and its lab's Bats tests are run against it inside scripts/sandbox.sh (so a
# mutant that renames "the host" only renames the sandbox). A mutant must be
# *killed*: at least one test fails (the run stops at the first that does). The
# test that killed it then runs the same way on the unmutated solution, as a
# control: it must pass there, or the kill would prove nothing. And the failing
# test must give the hint the mutant names (common/bats/hints.txt): a mutant is
# a common mistake made on purpose. The mutants are built one after the other,
# then tested two at a time, each in a sandbox of its own.
#
#   scripts/mutants.sh [NAME...]       (default: all)
#
# Prints one line per mutant and ends with "mutants: N killed, N survived".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NSLAB_BUILD_DIR:-$top/build}

# name | lab | hint | file | perl substitution that removes the isolation
#
# hint: the ID (common/bats/hints.txt) of the hint the killing test must give
# for this mistake: a kill without it is a failure of the hint, reported.
mutants=(
  "no-CLONE_NEWUTS|01-uts|shared-uts|solutions/01-uts/uts.cpp|s/return CLONE_NEWUTS;/return 0;/"
  "sethostname-skipped|01-uts|hostname-not-set|solutions/01-uts/uts.cpp|s/check\(::sethostname\([^;]*;/(void)0;/"
  "no-CLONE_NEWIPC|02-ipc|shared-ipc|solutions/02-ipc/ipc.cpp|s/return CLONE_NEWIPC;/return 0;/"
  "no-CLONE_NEWPID|03-pid|shared-pid|solutions/03-pid/pid.cpp|s/return CLONE_NEWPID;/return 0;/"
  "init-does-not-reap|03-pid|orphans-not-reaped|solutions/03-pid/pid.cpp|s/::waitpid\(-1, &status, WNOHANG\)/::waitpid(command, &status, WNOHANG)/"
  "no-CLONE_NEWNS|04-mount|shared-mnt|solutions/04-mount/mount.cpp|s/return CLONE_NEWNS;/return 0;/"
  "propagation-left-shared|04-mount|mount-propagated|solutions/04-mount/mount.cpp|s/mount_checked\(nullptr, \"\/\", nullptr, MS_REC \| MS_PRIVATE[^;]*;//"
  "proc-not-remounted|04-mount|proc-of-the-host|solutions/04-mount/mount.cpp|s/mount_checked\(\"proc\", target, \"proc\"[^;]*;/(void)target;/"
  "no-CLONE_NEWNET|05-net|shared-net|solutions/05-net/net.cpp|s/return CLONE_NEWNET;/return 0;/"
  "lo-left-down|05-net|lo-down|solutions/05-net/net.cpp|s/set_link_up\(nl, \"lo\"\);//"
  "host-end-not-deleted|05-net|veth-left|solutions/05-net/net.cpp|s/const bool deleted = delete_link\(nl, host_end_index_, host_end_\);/const bool deleted = false \&\& delete_link(nl, host_end_index_, host_end_);/"
  "no-CLONE_NEWUSER|06-user|shared-user|solutions/06-user/user.cpp|s/return CLONE_NEWUSER;/return 0;/"
  "setgroups-not-denied|06-user|setgroups-allowed|solutions/06-user/user.cpp|s/write_proc_file\(child, \"setgroups\", \"deny\"\);//"
  "child-does-not-wait-for-maps|06-user|ran-before-maps|common/src/runtime.cpp|s/if \(channel\.receive\(\)\.kind != MessageKind::go\) return kExitRuntimeFailed;//"
  "no-fork-after-setns|07-setns|no-fork-after-setns|solutions/07-setns/setns.cpp|s/if \(target_ == 0\) return std::nullopt;  \/\/ a container of our own: COMMAND is the child/return std::nullopt;/"
  "namespaces-opened-while-joining|07-setns|opened-while-joining|solutions/07-setns/setns.cpp|s/::setns\(ns\.fd\.get\(\)/::setns(open_namespace(pid, ns.kind).get()/"
  "user-namespace-never-joined|07-setns|user-not-joined|solutions/07-setns/setns.cpp|s/if \(has_user\) join_one\(\*user, target\.pid, false, narrator\);/if (has_user) user->joined = true;/"
  "inherited-fds-kept|01-uts|fds-inherited|common/src/runtime.cpp|s/close_fds_except\(channel\.fd\(\)\);//"
  "SIGCHLD-not-reset|03-pid|sigchld-ignored|common/src/runtime.cpp|s/\(void\)::signal\(SIGCHLD, SIG_DFL\);//"
  "no-cgroup.procs-write|08-cgroup|not-in-cgroup|solutions/08-cgroup/hierarchy.cpp|s/write_file\(dir\.leaf\(\) \+ \"\/cgroup\.procs\", std::to_string\(pid\)\);//"
  "cgroup-namespace-before-joining|08-cgroup|cgroupns-too-early|solutions/08-cgroup/cgroup.cpp|s/int CgroupNamespace::clone_flags\(\) const \{ return 0; \}/int CgroupNamespace::clone_flags() const { return CLONE_NEWCGROUP; }/; s/return CLONE_NEWCGROUP;\n  \/\/ <<< lab 08/return 0;\n  \/\/ <<< lab 08/"
  "cgroup-never-removed|08-cgroup|cgroup-left|solutions/08-cgroup/cgroup.cpp|s/return cgroup_->remove\(ctx\.narrator\);/return {};/"
  "memory-limit-in-the-wrong-file|08-cgroup|memory-limit-not-applied|solutions/08-cgroup/hierarchy.cpp|s/\"memory\.limit_in_bytes\"/\"memory.soft_limit_in_bytes\"/; s/exists\(dir \+ \"\/memory\.memsw\.limit_in_bytes\"\)/false/"
  "cpu-quota-in-the-wrong-file|08-cgroup|cpu-limit-not-applied|solutions/08-cgroup/hierarchy.cpp|s/\"cpu\.cfs_quota_us\"/\"cpu.shares\"/"
)

want=("$@")
selected() {
  [ ${#want[@]} -eq 0 ] && return 0
  local w
  for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

if [ "$(id -u)" != 0 ]; then
  echo "mutants: needs root (the labs' tests create namespaces)" >&2
  exit 125
fi
[ -x "$build/bin/solutions/01-uts" ] || { echo "mutants: build first (cmake --preset default && cmake --build --preset default)" >&2; exit 125; }

work=$(mktemp -d /tmp/nslab-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Lab 06's rootless tests run the mutant as an unprivileged user.
chmod 755 "$work"
# A private copy of the sources, configured once; each mutant rebuilds one target.
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work" 2>/dev/null) || cp -r "$top/." "$work/"
mkdir -p "$work/src" && (cd "$work" && find . -mindepth 1 -maxdepth 1 ! -name src -exec mv -t src {} +)
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O0 -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >"$work/configure.log" 2>&1 || {
  echo "mutants: cmake configure failed:" >&2; cat "$work/configure.log" >&2; exit 1; }

# control LAB NAME: the test NAME of LAB on the unmutated solution, in the
# sandbox: it must pass there, or killing a mutant with it proves nothing.
control() {
  local pattern
  # The name as a POSIX extended regex: its metacharacters escaped, nothing else
  # (GNU's regex reads some escaped letters and quotes as operators: \' is the end).
  pattern="^$(perl -e '(my $n = $ARGV[0]) =~ s/([.\[\](){}*+?|^\$\\])/\\$1/g; print $n' -- "$2")\$"
  NSLAB_BIN=$build/bin/solutions/$1 NSLAB_SOURCE_DIR=$top NSLAB_BUILD_DIR=$build \
    "$top/scripts/sandbox.sh" bats --tap --filter "$pattern" "$top/labs/$1/tests" >"$work/control.log" 2>&1 &&
    grep -q '^ok ' "$work/control.log" && ! grep -q '^not ok' "$work/control.log"
}

# kill_with_tests LAB PROGRAM LOG: the same, but stops at the first failing test,
# which is all a mutant needs to be killed: fails (status 1) then. The sandbox
# goes with its first process, so nothing of the stopped run is left.
kill_with_tests() {
  # The lab's own tests first, its exercises' last: a mistake in the lab is
  # found, and hinted at, by the tests of the lab.
  local files=()
  mapfile -t files < <(ls "$top/labs/$1/tests/"*.bats | grep -v '/exercises\.bats$'; ls "$top/labs/$1/tests/exercises.bats" 2>/dev/null)
  : > "$3"
  # Not in a subshell: $! must be the sandbox itself.
  NSLAB_BIN=$2 NSLAB_SOURCE_DIR=$top NSLAB_BUILD_DIR=$build \
    "$top/scripts/sandbox.sh" bats --tap "${files[@]}" >"$3" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if grep -q '^not ok' "$3"; then
      # Its explanation (and hint) follows the "not ok" line: let it be
      # written, up to the next test's line or a second.
      local results _
      results=$(grep -cE '^(ok|not ok) ' "$3")
      for _ in $(seq 10); do
        [ "$(grep -cE '^(ok|not ok) ' "$3")" -gt "$results" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  wait "$pid"
}

# 1. Build every mutant, one after the other (each rebuilds one target).
killed=0 survived=0 broken=0
declare -A controlled=()  # LAB|TEST: the controls that passed
built=()                  # the indexes of the mutants built, in order
for i in "${!mutants[@]}"; do
  IFS='|' read -r name lab hint file subst <<< "${mutants[$i]}"
  selected "$name" || continue
  src=$work/src/$file
  cp "$src" "$work/original"
  perl -0pi -e "$subst" "$src"
  if cmp -s "$src" "$work/original"; then
    echo "mutant $name: BROKEN — its substitution no longer matches $file (update scripts/mutants.sh)"
    broken=$((broken + 1))
    continue
  fi
  if ! cmake --build "$work/build" --target "solutions_$lab" -j"$(nproc)" >"$work/build.log" 2>&1; then
    echo "mutant $name: BROKEN — it does not compile:"; tail -20 "$work/build.log"
    cp "$work/original" "$src"; broken=$((broken + 1)); continue
  fi
  cp "$work/build/bin/solutions/$lab" "$work/mutant-$i"
  cp "$work/original" "$src"
  built+=("$i")
done

# 2. Run their labs' tests, two mutants at a time (each in a sandbox of its
# own), but alone those whose killing test measures a share of a CPU.
alone=" cpu-quota-in-the-wrong-file "
run_mutant() {
  local i=$1 lab
  IFS='|' read -r _ lab _ <<< "${mutants[$i]}"
  if kill_with_tests "$lab" "$work/mutant-$i" "$work/last-$i.log"; then echo 0; else echo 1; fi > "$work/status-$i"
}
later=()
for i in "${built[@]}"; do
  IFS='|' read -r name _ <<< "${mutants[$i]}"
  if [[ $alone == *" $name "* ]]; then later+=("$i"); continue; fi
  while [ "$(jobs -pr | wc -l)" -ge 2 ]; do wait -n; done
  run_mutant "$i" &
done
wait
for i in "${later[@]}"; do run_mutant "$i"; done

# 3. What each run shows, in order; a kill is checked by its control.
for i in "${built[@]}"; do
  IFS='|' read -r name lab hint file subst <<< "${mutants[$i]}"
  last=$work/last-$i.log
  if [ "$(cat "$work/status-$i" 2>/dev/null)" = 0 ]; then
    echo "mutant $name ($lab): SURVIVED — no test of lab $lab notices it"
    survived=$((survived + 1))
  else
    first=$(grep -m1 '^not ok' "$last" | sed 's/^not ok [0-9]* //; s/ # .*$//')
    if [ -z "$first" ]; then
      echo "mutant $name ($lab): BROKEN — no test ran:"; sed 's/^/    /' "$last" | tail -20
      broken=$((broken + 1))
    elif [ -z "${controlled["$lab|$first"]:-}" ] && ! control "$lab" "$first"; then
      echo "mutant $name ($lab): control FAILED — \"$first\" fails on the unmutated solution in the sandbox too:"
      sed 's/^/    /' "$work/control.log" | grep -v '^    ok ' | head -30
      broken=$((broken + 1))
    elif ! grep -qF "[hint $hint]" "$last"; then
      controlled["$lab|$first"]=1
      echo "mutant $name ($lab): killed, but its hint FAILED to fire — \"$first\" did not say [hint $hint] (common/bats/hints.txt):"
      grep -E '^# (expected|hint|read):' "$last" | sed 's/^/    /' | head -10
      broken=$((broken + 1))
    else
      controlled["$lab|$first"]=1  # passed on the solution: once is enough
      echo "mutant $name ($lab): killed, by: $first; hint: $hint"
      killed=$((killed + 1))
    fi
  fi
done
echo "mutants: $killed killed, $survived survived${broken:+, $broken broken}"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
