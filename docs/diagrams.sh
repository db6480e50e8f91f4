#!/usr/bin/env bash
# Draws the tutorials' namespace diagrams from real runs: for each lab, the
# lab's reference program starts a container, `nsinfo --dot` records the
# namespaces of the shell that started it and of the container's process, and
# dot(1) draws them, once per language.
#
#   docs/diagrams.sh OUTDIR [NN...]        (default: every lab that is built)
#
# Writes, for each lab NN:
#   OUTDIR/dot/labNN.nsinfo.dot          what nsinfo --dot printed (the run's facts)
#   OUTDIR/dot/LANG/labNN-namespaces.dot that graph with the words of LANG (en,
#                                        zh) and what nsinfo does not know: lab
#                                        05's veth, lab 08's cgroup tree, limits
#   OUTDIR/LANG/labNN-namespaces.svg     the picture the tutorial shows
#
# The docs build runs it (docs/CMakeLists.txt) and copies the pictures into
# each language's html/; the pages show them with <img>. Programs come from
# NSLAB_BUILD_DIR (default: build/): bin/solutions/NN-name and bin/nsinfo.
#
# What each lab shows. The runtime runs `sh -c '...; exec sleep 10'`, which
# writes what the container sees of its cgroups (lab 08) and becomes `sleep`;
# once the runtime's child is called sleep, the container is fully set up and
# nsinfo reads it from outside. Lab 03 on: the PID in the container's own
# namespace is the last number of NSpid. Lab 05 runs with --veth, lab 08 with
# --memory, --pids and --cpus; lab 07 starts a container, then joins it with
# --enter, so three processes are drawn. The containers are ended by SIGKILL to
# the processes this script found (sleep as PID 1 ignores SIGTERM), and their
# runtimes waited for.
#
# Where it runs. As root: inside scripts/sandbox.sh, so that the runs change
# nothing on the host (lab 05's veth is made in the sandbox's network
# namespace, lab 08's cgroups in the sandbox's subtree), with PIDs from 4000 as
# on a host. Not as root: labs 06 to 08 run as this user (they need no root;
# lab 08 gets its limits only in a delegated cgroup, and the picture says when
# there were none); labs 01 to 05 need root, so they run in a user namespace
# of their own (unshare --user --map-root-user, with new PID, mount and network
# namespaces), and their pictures say that the "host" there is that
# namespace's shell. A lab that cannot be drawn (no dot, not built, no way to
# run it) gets a picture that says why, in its language, and a line on
# stderr: the docs build never fails for a picture, and Doxygen never sees a
# missing file. Exit status 0, or 2 on a bad argument.
# shellcheck disable=SC2317  # the lab's extras are called through draw's arguments
# shellcheck disable=SC1111  # the Chinese texts quote with “ ”, as Chinese does
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: docs/diagrams.sh OUTDIR [NN...]" >&2; exit 2; }
[ $# -ge 1 ] || usage

languages=(en zh)
all_labs=(01-uts 02-ipc 03-pid 04-mount 05-net 06-user 07-setns 08-cgroup)

# lab_name NN: "03-pid", or "" for a number that is not a lab's.
lab_name() {
  local lab
  for lab in "${all_labs[@]}"; do
    [ "${lab%%-*}" != "$1" ] || { echo "$lab"; return 0; }
  done
}

# --- the words of each language --------------------------------------------------

# say LANG KEY [ARG]: the text KEY in LANG. GLOSSARY.md's terms in Chinese.
say() {
  local lang=$1 key=$2 arg=${3:-}
  case $lang.$key in
    en.title) echo "Lab $arg: the namespaces of the host's shell and of the container" ;;
    zh.title) echo "实验 $arg：宿主机的 shell 与容器的命名空间" ;;
    en.title07) echo "Lab 07: the namespaces of the host's shell, of the container and of a process that joined it" ;;
    zh.title07) echo "实验 07：宿主机的 shell、容器和加入容器的进程的命名空间" ;;
    en.host) echo "host: the shell that ran $arg" ;;
    zh.host) echo "宿主机：运行 $arg 的 shell" ;;
    en.container) echo "container: its COMMAND" ;;
    zh.container) echo "容器：其中的 COMMAND" ;;
    en.joined) echo "joined with --enter" ;;
    zh.joined) echo "用 --enter 加入的进程" ;;
    en.shared-all) echo "shared by all" ;;
    zh.shared-all) echo "全部共享" ;;
    en.shared-both) echo "shared by both" ;;
    zh.shared-both) echo "两者共享" ;;
    en.shared-joined) echo "shared by the container" ;;
    zh.shared-joined) echo "容器与加入的进程" ;;
    en.shared-joined2) echo "and the process that joined it" ;;
    zh.shared-joined2) echo "共享" ;;
    en.pid-host) echo "PID $arg on the host" ;;
    zh.pid-host) echo "宿主机上 PID $arg" ;;
    en.pid-inside) echo "PID $arg in the container" ;;
    zh.pid-inside) echo "容器内 PID $arg" ;;
    en.lab-new) echo "new in lab $arg" ;;
    zh.lab-new) echo "实验 $arg 新增" ;;
    en.legend-first) echo "a namespace of the host" ;;
    zh.legend-first) echo "宿主机的命名空间" ;;
    en.legend-new) echo "new: made for the container" ;;
    zh.legend-new) echo "新建：为容器创建" ;;
    en.rootless) echo "Drawn without root: the \"host\" is a shell in a user namespace of its own" ;;
    zh.rootless) echo "未以 root 绘制：这里的“宿主机”是一个自有 User 命名空间中的 shell" ;;
    en.rootless2) echo "(unshare --user --map-root-user), not the machine's" ;;
    zh.rootless2) echo "（unshare --user --map-root-user），而不是这台机器本身的" ;;
    en.veth) echo "veth pair" ;;
    zh.veth) echo "veth 设备对" ;;
    en.cgroups) echo "the cgroup tree, as the host sees it" ;;
    zh.cgroups) echo "宿主机看到的 cgroup 树" ;;
    en.ct-root) echo "seen inside as \"$arg\":" ;;
    zh.ct-root) echo "容器内看到的是“$arg”：" ;;
    en.runtime-pid) echo "$arg (the runtime's PID)" ;;
    zh.runtime-pid) echo "$arg（运行时的 PID）" ;;
    en.ns-root) echo "its cgroup namespace's root" ;;
    zh.ns-root) echo "它的 Cgroup 命名空间的根" ;;
    en.in) echo "in it" ;;
    zh.in) echo "所在" ;;
    en.no-limits) echo "no cgroup of its own: it needs root or a delegated cgroup" ;;
    zh.no-limits) echo "没有自己的 cgroup：需要 root 或委派的 cgroup" ;;
    en.placeholder) echo "The diagram of lab $arg is drawn by the docs build, from a run of the lab's program." ;;
    zh.placeholder) echo "实验 $arg 的示意图由文档构建根据该实验程序的一次运行绘制。" ;;
    en.because) echo "This build could not draw it: $arg" ;;
    zh.because) echo "这次构建未能绘制：$arg" ;;
    en.no-dot) echo "Graphviz (dot) is not installed." ;;
    zh.no-dot) echo "没有安装 Graphviz（dot）。" ;;
    en.not-built) echo "$arg is not built." ;;
    zh.not-built) echo "$arg 没有构建。" ;;
    en.no-userns) echo "it needs root, or unprivileged user namespaces (unshare --user --map-root-user failed)." ;;
    zh.no-userns) echo "需要 root，或允许非特权用户命名空间（unshare --user --map-root-user 失败）。" ;;
    en.failed) echo "$arg" ;;
    zh.failed) echo "$arg" ;;
    *) echo "diagrams: no text $key for $lang" >&2; return 1 ;;
  esac
}

# dq LINE...: the lines as one quoted DOT string, each line's backslashes and
# quotes escaped, joined by DOT's \n.
dq() {
  local line s out=""
  for line in "$@"; do
    s=${line//\\/\\\\}
    s=${s//\"/\\\"}
    out+=${out:+\\n}$s
  done
  printf '"%s"' "$out"
}

# xml TEXT: TEXT escaped for SVG.
xml() {
  local s=${1//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  printf '%s' "$s"
}

# placeholder OUTDIR NN NAME REASON-KEY [ARG]: the picture of a lab that could
# not be drawn, saying why, in each language.
placeholder() {
  local out=$1 number=$2 name=$3 key=$4 arg=${5:-} lang line1 line2
  for lang in "${languages[@]}"; do
    mkdir -p "$out/$lang"
    line1=$(say "$lang" placeholder "$number")
    line2=$(say "$lang" because "$(say "$lang" "$key" "$arg")")
    # One line of a picture 640 pixels wide: a long error is cut.
    [ ${#line2} -le 100 ] || line2="${line2:0:99}…"
    cat >"$out/$lang/lab$number-namespaces.svg" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="640" height="90" viewBox="0 0 640 90">
  <rect x="1" y="1" width="638" height="88" rx="8" fill="#ffffff" stroke="#444444" stroke-dasharray="6 4"/>
  <text x="20" y="38" font-family="Helvetica, Arial, sans-serif" font-size="14" fill="#222222">$(xml "$line1")</text>
  <text x="20" y="62" font-family="Helvetica, Arial, sans-serif" font-size="13" fill="#444444">$(xml "$line2")</text>
</svg>
SVG
  done
  echo "diagrams: lab $number ($name): a placeholder: $(say en "$key" "$arg")" >&2
}

# --- one run -----------------------------------------------------------------------

# descendant PID NAME: the first process below PID (children first, then
# theirs) whose command name is NAME; fails when there is none yet.
descendant() {
  local queue=("$1") pid children child
  while [ ${#queue[@]} -gt 0 ]; do
    pid=${queue[0]} queue=("${queue[@]:1}")
    children=$(cat /proc/"$pid"/task/*/children 2>/dev/null) || true
    for child in $children; do
      [ "$(cat "/proc/$child/comm" 2>/dev/null)" != "$2" ] || { echo "$child"; return 0; }
      queue+=("$child")
    done
  done
  return 1
}

# await RUNTIME: the container's sleep under RUNTIME, once it is there (5 s at
# most); fails, with what the runtime said, when the runtime ends first.
await() {
  local runtime=$1 err=$2 found _
  for _ in $(seq 500); do
    if found=$(descendant "$runtime" sleep); then
      echo "$found"
      return 0
    fi
    # Ended (a zombie until it is waited for): it will start nothing more.
    [ "$(awk '/^State:/ { print $2 }' "/proc/$runtime/status" 2>/dev/null)" != Z ] || break
    [ -e "/proc/$runtime" ] || break
    sleep 0.01
  done
  head -n 1 "$err" >&2 2>/dev/null || true
  return 1
}

# ended PID...: SIGKILL to each container process found, which ends its runtime.
ended() {
  local pid
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# cgroup_limits DIR: the limits set in cgroup DIR (relative to a hierarchy's
# root), one "file value" a line, from whichever hierarchies hold it.
cgroup_limits() {
  local rel=$1 root file value
  for root in /sys/fs/cgroup /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/cpu; do
    [ -d "$root$rel" ] || continue
    for file in memory.max memory.limit_in_bytes pids.max cpu.max cpu.cfs_quota_us cpu.cfs_period_us; do
      [ -r "$root$rel/$file" ] || continue
      value=$(head -n 1 "$root$rel/$file")
      case $file.$value in
        # Shown when set: the unlimited values say nothing about this lab.
        *.max | cpu.max.max\ * | cpu.cfs_quota_us.-1 | memory.limit_in_bytes.9223372036854*) continue ;;
        cpu.cfs_period_us.*) [ "$(head -n 1 "$root$rel/cpu.cfs_quota_us")" != -1 ] || continue ;;
      esac
      # Bytes as --memory takes them: 50331648 is 48M.
      case $file in
        memory.*)
          if [ $((value % (1 << 30))) = 0 ]; then value=$((value >> 30))G
          elif [ $((value % (1 << 20))) = 0 ]; then value=$((value >> 20))M
          elif [ $((value % (1 << 10))) = 0 ]; then value=$((value >> 10))K
          fi ;;
      esac
      echo "$file $value"
    done
  done
}

# cgroup_extras LANG CONTAINER SEEN RUNTIME: the DOT of lab 08's cgroup tree: the
# container's cgroup as the host sees it (/proc/PID/cgroup read from outside),
# the limits one level up, and what the container saw as its path (SEEN: its
# own /proc/self/cgroup); the cgroup named after RUNTIME's PID says so.
cgroup_extras() {
  local lang=$1 ct=$2 seen=$3 runtime=$4 line path="" inside="" names="" rel="" i want limits rest name
  # The hierarchy to draw: cgroup v2's, when /sys/fs/cgroup is one; else the
  # first of memory, pids and cpu, and every v1 hierarchy with the same path.
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    path=$(sed -n 's/^0:://p' "/proc/$ct/cgroup")
    inside=$(sed -n 's/^0:://p' "$seen")
    names=cgroup2
  else
    for want in memory pids cpu; do
      line=$(grep -E "^[0-9]+:([^:]*,)?$want(,[^:]*)?:" "/proc/$ct/cgroup" | head -n 1) || continue
      path=${line#*:*:}
      inside=$(grep -E "^[0-9]+:([^:]*,)?$want(,[^:]*)?:" "$seen" | head -n 1)
      inside=${inside#*:*:}
      break
    done
    names=$(awk -F: -v p="$path" '$3 == p && $2 != "" && $2 !~ /^name=/ { print $2 }' "/proc/$ct/cgroup" | sort | paste -sd, | sed 's/,/, /g')
  fi
  [ -n "$path" ] || return 0
  printf '  subgraph "cluster_cgroups" {\n    label=%s; style="rounded"; color="#444444";\n' "$(dq "$(say "$lang" cgroups)" "($names)")"
  printf '    node [shape=folder, style=filled, fillcolor="#ffffff"];\n'
  # The tree from its root down to the container's cgroup; what lies above
  # nslab/ (a sandbox's or a service's own cgroups) in one node.
  local parts=() upper=${path%%/nslab/*}
  if [ "$upper" != "$path" ]; then
    parts=("${upper:-/}")
    IFS=/ read -r -a rest <<< "nslab/${path#*/nslab/}"
    parts+=("${rest[@]}")
  else
    parts=("$path")
  fi
  for i in "${!parts[@]}"; do
    if [ "$i" -eq 0 ]; then rel=${parts[0]}; else rel=${rel%/}/${parts[$i]}; fi
    if [ "$i" -eq $((${#parts[@]} - 1)) ]; then
      limits=("$(say "$lang" ct-root "${inside:-?}")" "$(say "$lang" ns-root)")
      # No nslab/ above it: the runtime made no cgroup (no root, no delegation).
      [ "$upper" != "$path" ] || limits+=("$(say "$lang" no-limits)")
      printf '    "cg%d" [label=%s, penwidth=2, fillcolor="#fdd49e"];\n' "$i" "$(dq "${parts[$i]}" "${limits[@]}")"
    else
      mapfile -t limits < <(cgroup_limits "$rel")
      name=${parts[$i]}
      [ "$name" != "$runtime" ] || name=$(say "$lang" runtime-pid "$name")
      printf '    "cg%d" [label=%s];\n' "$i" "$(dq "$name" "${limits[@]}")"
    fi
  done
  # The tree as one column, its root on top: in one rank, and each link
  # written from child to parent, as dot then stacks them.
  printf '    { rank=same;'
  for i in "${!parts[@]}"; do printf ' "cg%d";' "$i"; done
  printf ' }\n'
  for i in "${!parts[@]}"; do
    [ "$i" -eq 0 ] || printf '    "cg%d" -> "cg%d";\n' "$i" $((i - 1))
  done
  printf '  }\n'
  local last=$((${#parts[@]} - 1)) cgns
  cgns=$(readlink "/proc/$ct/ns/cgroup")
  # From the tree to the process: the tree then stands in the column of the
  # container's namespaces, below them, and the picture stays narrow.
  printf '  "cg%d" -> "p2" [style=dashed, xlabel=%s];\n' "$last" "$(dq "$(say "$lang" in)")"
  printf '  %s -> "cg%d" [style=dashed, dir=forward, arrowsize=0.6, constraint=false];\n' "$(dq "$cgns")" "$last"
}

# veth_extras LANG CONTAINER: the DOT of lab 05's veth: the host's end (its
# name and address, in the host's network namespace) and eth0 in the
# container's, each next to its namespace, linked as the pair they are.
veth_extras() {
  local lang=$1 ct=$2 host_end host_addr ct_addr host_net ct_net
  host_end=$(ip -o link show type veth | awk -F': ' 'NR == 1 { sub(/@.*/, "", $2); print $2 }')
  [ -n "$host_end" ] || return 0
  host_addr=$(ip -o -4 address show dev "$host_end" | awk '{ print $4 }' | head -n 1)
  ct_addr=$(nsenter -t "$ct" -n ip -o -4 address show dev eth0 | awk '{ print $4 }' | head -n 1)
  host_net=$(readlink /proc/$$/ns/net)
  ct_net=$(readlink "/proc/$ct/ns/net")
  printf '  subgraph "cluster_p1" { "veth_host" [label=%s, shape=cds, fillcolor="#ffffff"]; }\n' \
    "$(dq "$host_end" "$host_addr")"
  printf '  subgraph "cluster_p2" { "veth_container" [label=%s, shape=cds, fillcolor="#fdd49e", penwidth=2]; }\n' \
    "$(dq eth0 "$ct_addr")"
  printf '  %s -> "veth_host";\n' "$(dq "$host_net")"
  # minlen=0: the container's end may stand in the host end's column, and the
  # ports (out at the bottom, in at the right) keep the cable clear of the
  # container's process: one short cable, not a loop around the graph.
  printf '  "veth_host":s -> "veth_container":e [style=bold, penwidth=2, minlen=0, xlabel=%s];\n' "$(dq "$(say "$lang" veth)")"
  printf '  %s -> "veth_container";\n' "$(dq "$ct_net")"
}

# process_labels LANG RAW: each process's node with its PID in words: the
# host's number and, in a PID namespace of its own (NSpid has more than one
# number: lab 03 on), the number it has there.
process_labels() {
  local lang=$1 raw=$2 pids pid i=0 nspid comm lines
  read -r -a pids <<< "$(sed -n '1s|^// nsinfo --dot \([0-9 ]*\):.*|\1|p' "$raw")"
  for pid in "${pids[@]}"; do
    i=$((i + 1))
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    read -r -a nspid <<< "$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)"
    if [ ${#nspid[@]} -gt 1 ]; then
      lines=("$(say "$lang" pid-host "$pid")" "$(say "$lang" pid-inside "${nspid[-1]}")")
    else
      lines=("PID $pid")
    fi
    printf '  "p%d" [label=%s];\n' "$i" "$(dq "$comm" "${lines[@]}")"
  done
}

# lab_kind_label LANG NN RAW: the namespace lab NN adds, when the run shows it
# new, marked as this lab's (darker, and said in words, for print).
lab_kind_label() {
  local lang=$1 number=$2 raw=$3 kind id
  case $number in
    01) kind=uts ;; 02) kind=ipc ;; 03) kind=pid ;; 04) kind=mnt ;;
    05) kind=net ;; 06) kind=user ;; 08) kind=cgroup ;; *) return 0 ;;
  esac
  while IFS= read -r id; do
    printf '  %s [label=%s, fillcolor="#f4a460"];\n' "$(dq "$id")" "$(dq "$id" "$(say "$lang" lab-new "$number")")"
  done < <(sed -n "s/^    \"\($kind:\[[0-9]*\]\)\" .*penwidth=2.*/\1/p" "$raw")
}

# draw OUTDIR NN NAME MODE RAW EXTRAS_FN ARGS...: the graph RAW (nsinfo --dot)
# in each language, with the words of this script and the lab's extras, as SVG.
draw() {
  local out=$1 number=$2 name=$3 mode=$4 raw=$5 lang title group key three lines
  shift 5
  for lang in "${languages[@]}"; do
    mkdir -p "$out/$lang" "$out/dot/$lang"
    if [ "$number" = 07 ]; then title=("$(say "$lang" title07)"); else title=("$(say "$lang" title "$number")"); fi
    [ "$mode" != userns ] || title+=("$(say "$lang" rootless)" "$(say "$lang" rootless2)")
    {
      # Everything but the closing brace, then this script's additions: later
      # attributes of a node or cluster replace nsinfo's words.
      sed '$d' "$raw"
      printf '  graph [label=%s];\n' "$(dq "${title[@]}")"
      printf '  subgraph "cluster_p1" { label=%s; }\n' "$(dq "$(say "$lang" host "$name")")"
      printf '  subgraph "cluster_p2" { label=%s; }\n' "$(dq "$(say "$lang" container)")"
      three=no
      if grep -q '^  subgraph "cluster_p3"' "$raw"; then
        three=yes
        printf '  subgraph "cluster_p3" { label=%s; }\n' "$(dq "$(say "$lang" joined)")"
      fi
      while IFS= read -r group; do
        case $group in
          cluster_shared_1_2) [ "$three" = no ] || continue; key=shared-both ;;
          cluster_shared_1_2_3) key=shared-all ;;
          cluster_shared_2_3) key=shared-joined ;;
          *) continue ;;
        esac
        lines=("$(say "$lang" "$key")")
        [ "$key" != shared-joined ] || lines+=("$(say "$lang" shared-joined2)")
        printf '  subgraph "%s" { label=%s; }\n' "$group" "$(dq "${lines[@]}")"
      done < <(sed -n 's/^  subgraph "\(cluster_shared_[0-9_]*\)".*/\1/p' "$raw")
      printf '  "legend_first" [label=%s];\n' "$(dq "$(say "$lang" legend-first)")"
      printf '  "legend_new" [label=%s];\n' "$(dq "$(say "$lang" legend-new)")"
      process_labels "$lang" "$raw"
      lab_kind_label "$lang" "$number" "$raw"
      [ $# -eq 0 ] || "$@" "$lang"
      echo "}"
    } >"$out/dot/$lang/lab$number-namespaces.dot"
    dot -Tsvg "$out/dot/$lang/lab$number-namespaces.dot" -o "$out/$lang/lab$number-namespaces.svg"
  done
}

# why WORK NAME: the first thing that went wrong, as a run's programs said it
# (they name themselves), or that NAME's container never became sleep.
why() {
  local line
  line=$(grep -m 1 . "$1/why" 2>/dev/null) || line="$2: its container did not start COMMAND within 5 seconds"
  echo "$line"
}

# run_lab OUTDIR NN NAME MODE: one lab's run, drawn.
run_lab() {
  local out=$1 number=$2 name=$3 mode=$4
  local bin=$build/bin/solutions/$name work=$out/.work/$number
  local options=() runtime ct joiner="" joined="" raw=$out/dot/lab$number.nsinfo.dot extras=()
  rm -rf "$work"
  mkdir -p "$work" "$out/dot"
  case $number in
    05) options=(--veth "10.200.1.1/24,10.200.1.2/24") ;;
    07) options=(--pid-file "$work/pid") ;;
    08) options=(--memory 48M --pids 8 --cpus 0.5) ;;
  esac
  # The container: writes what it sees of its cgroups, then becomes sleep (10 s
  # at most, should this script die before it ends it). Started so that it
  # holds no descriptor of this script's but 0, 1 and 2.
  start() {
    # shellcheck disable=SC2016  # expanded by the container's sh
    ("$bin" "$@" -- sh -c 'cat /proc/self/cgroup > "$0"; exec sleep 10' "$work/cgroup") \
      </dev/null >/dev/null 2>"$work/err" 3>&- &
    runtime=$!
  }
  start "${options[@]}"
  if ! ct=$(await "$runtime" "$work/err" 2>"$work/why") && [ "$number" = 08 ]; then
    # Without root and without a delegated cgroup the limits cannot be had:
    # the container is drawn without them (the tree says so).
    wait "$runtime" 2>/dev/null || true
    start
    ct=$(await "$runtime" "$work/err" 2>"$work/why") || true
  fi
  if [ -z "${ct:-}" ]; then
    # A runtime that is still there after 5 seconds is stuck: ended (it is
    # this script's child; its container dies with it, PR_SET_PDEATHSIG).
    kill -KILL "$runtime" 2>/dev/null || true
    wait "$runtime" 2>/dev/null || true
    placeholder "$out" "$number" "$name" failed "$(why "$work" "$name")"
    rm -rf "$work"
    return 0
  fi
  if [ "$number" = 07 ]; then
    ("$bin" --enter "$(cat "$work/pid")" -- sleep 10) </dev/null >/dev/null 2>"$work/err-enter" 3>&- &
    joiner=$!
    joined=$(await "$joiner" "$work/err-enter" 2>>"$work/why") || joined=""
  fi
  local status=0
  "$build/bin/nsinfo" --dot $$ "$ct" ${joined:+"$joined"} >"$raw" 2>>"$work/why" || status=$?
  case $number in
    05) extras=(veth_extras_for "$ct") ;;
    08) extras=(cgroup_extras_for "$ct" "$work/cgroup" "$runtime") ;;
  esac
  if [ "$status" = 0 ] && { [ "$number" != 07 ] || [ -n "$joined" ]; }; then
    draw "$out" "$number" "$name" "$mode" "$raw" "${extras[@]}" || status=$?
  else
    status=1
  fi
  ended ${joined:+"$joined"} "$ct"
  [ -n "$joined" ] || [ -z "$joiner" ] || kill -KILL "$joiner" 2>/dev/null || true
  wait "$runtime" 2>/dev/null || true
  [ -z "$joiner" ] || wait "$joiner" 2>/dev/null || true
  if [ "$status" != 0 ]; then
    placeholder "$out" "$number" "$name" failed "$(why "$work" "$name")"
  fi
  rm -rf "$work"
}
# The extras take the language last, as draw passes it.
veth_extras_for() { veth_extras "$2" "$1"; }
cgroup_extras_for() { cgroup_extras "$4" "$1" "$2" "$3"; }

# --run MODE OUTDIR NN...: the runs themselves, in this process's namespaces.
if [ "$1" = --run ]; then
  mode=$2 out=$3
  shift 3
  build=${NSLAB_BUILD_DIR:-$top/build}
  for number in "$@"; do run_lab "$out" "$number" "$(lab_name "$number")" "$mode"; done
  rmdir "$out/.work" 2>/dev/null || true
  exit 0
fi

# --sandboxed OUTDIR NN...: root, inside scripts/sandbox.sh: PIDs from 4000, as
# on a host, for the shell whose namespaces are the host's in the pictures.
if [ "$1" = --sandboxed ]; then
  shift
  echo 3999 >/proc/sys/kernel/ns_last_pid 2>/dev/null || true
  bash "$0" --run root "$@" 3>&-
  exit 0
fi

# --- which labs, and how ------------------------------------------------------------

case $1 in -*) usage ;; esac
out=$1
shift
build=${NSLAB_BUILD_DIR:-$top/build}
# Both languages' directories, whatever happens next: the docs build copies them.
mkdir -p "${languages[@]/#/$out/}"
out=$(cd "$out" && pwd)
labs=()
for number in "${@:-}"; do
  [ -n "$number" ] || continue
  [ -n "$(lab_name "$number")" ] || { echo "diagrams: not a lab: \"$number\" (01 to 08)" >&2; exit 2; }
  labs+=("$number")
done
[ ${#labs[@]} -gt 0 ] || for lab in "${all_labs[@]}"; do labs+=("${lab%%-*}"); done

# What cannot be run is drawn as a placeholder now; the rest is run below.
runnable=()
for number in "${labs[@]}"; do
  name=$(lab_name "$number")
  rm -f "$out/dot/lab$number.nsinfo.dot" "$out"/{,dot/}*/"lab$number-namespaces".*
  if ! command -v dot >/dev/null; then
    placeholder "$out" "$number" "$name" no-dot
  elif [ ! -x "$build/bin/solutions/$name" ] || [ ! -x "$build/bin/nsinfo" ]; then
    placeholder "$out" "$number" "$name" not-built "$name"
  else
    runnable+=("$number")
  fi
done
[ ${#runnable[@]} -gt 0 ] || exit 0

export NSLAB_BUILD_DIR=$build
if [ "$(id -u)" = 0 ]; then
  status=0
  "$top/scripts/sandbox.sh" bash "$0" --sandboxed "$out" "${runnable[@]}" </dev/null 3>&- 2>"$out/.sandbox-err" || status=$?
  cat "$out/.sandbox-err" >&2
  if [ "$status" != 0 ]; then
    # (A machine whose root may not make namespaces: a restricted container.)
    for number in "${runnable[@]}"; do
      placeholder "$out" "$number" "$(lab_name "$number")" failed \
        "scripts/sandbox.sh: $(grep -m 1 . "$out/.sandbox-err" || echo "exit status $status")"
    done
  fi
  rm -f "$out/.sandbox-err"
else
  rootful=() rootless=()
  for number in "${runnable[@]}"; do
    case $number in 0[1-5]) rootful+=("$number") ;; *) rootless+=("$number") ;; esac
  done
  if [ ${#rootful[@]} -gt 0 ]; then
    # PIDs from 4000 here too, where the kernel lets the namespace's root set them.
    if ! unshare --user --map-root-user --pid --fork --kill-child --mount-proc --net --mount --uts --ipc \
      bash -c 'echo 3999 >/proc/sys/kernel/ns_last_pid 2>/dev/null; ip link set lo up 2>/dev/null; bash "$@"; exit $?' \
      sh "$0" --run userns "$out" "${rootful[@]}" </dev/null 3>&- 2>"$out/.userns-err"; then
      for number in "${rootful[@]}"; do placeholder "$out" "$number" "$(lab_name "$number")" no-userns; done
    fi
    cat "$out/.userns-err" >&2 2>/dev/null || true
    rm -f "$out/.userns-err"
  fi
  if [ ${#rootless[@]} -gt 0 ]; then
    bash "$0" --run user "$out" "${rootless[@]}" </dev/null 3>&- || echo "diagrams: the runs as $(id -un) failed (exit status $?)" >&2
  fi
fi
# A lab whose run drew nothing, whatever the reason, still has its picture.
for number in "${runnable[@]}"; do
  if [ ! -s "$out/en/lab$number-namespaces.svg" ] || [ ! -s "$out/zh/lab$number-namespaces.svg" ]; then
    placeholder "$out" "$number" "$(lab_name "$number")" failed "no picture was drawn"
  fi
done
exit 0
