#!/usr/bin/env bash
# Runs the rows of common/bats/bad-input.txt that name one lab against its
# program, and says which failed: common/bats/bad_input.bats runs it once per lab.
#
#   common/bats/bad-input.sh NN-name PROGRAM
#
# A row passes when PROGRAM, given the row's command line, exits 125, prints
# nothing on stdout and exactly one line on stderr, "NN-name: ...", which holds
# the row's EXPECT and no raw control byte, and when it created nothing. After
# each row the host is compared with how it was before it, read without a fork
# (hostname and domain name, the mount table, the network links, System V IPC,
# POSIX message queues, the row's working directory, the cgroup directory
# nslab/PID that lab 08's program PID would make); after the last row, the
# nslab/ directories of the whole cgroup tree as the host guard reads it
# (host_guard.bash), and the processes the rows started: each carries its row
# in its environment. A row that runs a container by mistake runs it with
# COMMAND /bin/sh reading /dev/null, which ends at once; one that hangs is
# named when the caller's time limit stops this script (SIGTERM).
#
# Prints "NN-name: N rows, M failed", then one line for each failed row, with
# its line in the table. Exit status: 0 when no row failed, 1 when one did, 2
# for a bad command line. Runs on the host; needs no root (a bad command line
# is refused before anything is created, with or without it). In its own bash
# process, not inside Bats: Bats' DEBUG trap, run before every command, makes a
# loop of a thousand rows take minutes.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TABLE=$here/bad-input.txt
# shellcheck source-path=SCRIPTDIR source=host_guard.bash
source "$here/host_guard.bash"

# decode_word RAW: RAW as the table writes it, decoded, in REPLY: '' is an
# empty word, {N*TEXT} is TEXT N times, and \n, \t, \e, \xHH and \\ are as
# printf's %b has them.
decode_word() {
  local raw=$1 out="" piece many size
  if [ "$raw" = "''" ]; then
    REPLY=""
    return
  fi
  # Most words are plain (no backslash, no brace): taken as they are.
  # shellcheck disable=SC1083 # the brace is in the glob's bracket expression
  if [[ $raw != *[\\{]* ]]; then
    REPLY=$raw
    return
  fi
  # The short pieces decoded, the repeated one built by doubling: bash's
  # ${x//pattern/...} and printf take long on 128 KiB.
  while [[ $raw =~ \{([0-9]+)\*([^{}]*)\} ]]; do
    printf -v piece '%b' "${raw%%"${BASH_REMATCH[0]}"*}"
    printf -v many '%b' "${BASH_REMATCH[2]}"
    size=$((BASH_REMATCH[1] * ${#many}))
    while [ "${#many}" -lt "$size" ]; do many+=$many; done
    out+=$piece${many:0:size}
    raw=${raw#*"${BASH_REMATCH[0]}"}
  done
  printf -v piece '%b' "$raw"
  REPLY=$out$piece
}

# decode_args RAW: the table's ARGS column as words, in the array ARGS; the
# words between "<N*" and ">" are given N times, # in them the count from 0.
decode_args() {
  local word member i count=0 in_group=0
  local -a words group=()
  read -ra words <<< "$1"
  ARGS=()
  for word in "${words[@]}"; do
    if [ "$in_group" = 0 ] && [[ $word =~ ^\<([0-9]+)\*$ ]]; then
      count=${BASH_REMATCH[1]} in_group=1 group=()
    elif [ "$in_group" = 1 ] && [ "$word" = ">" ]; then
      for ((i = 0; i < count; i++)); do
        for member in "${group[@]}"; do
          decode_word "${member//#/$i}"
          ARGS+=("$REPLY")
        done
      done
      in_group=0
    elif [ "$in_group" = 1 ]; then
      group+=("$word")
    else
      decode_word "$word"
      ARGS+=("$REPLY")
    fi
  done
  [ "$in_group" = 0 ]  # a "<N*" without its ">" is a mistake in the table
}

# row_is_for LABS NUMBER: LABS (01+, 04-06, 08) names lab NUMBER; 2 when LABS
# is none of those forms.
row_is_for() {
  local labs=$1 n=$((10#$2))
  case $labs in
    [0-9][0-9]+) [ "$n" -ge $((10#${labs%+})) ] ;;
    [0-9][0-9]-[0-9][0-9]) [ "$n" -ge $((10#${labs%-*})) ] && [ "$n" -le $((10#${labs#*-})) ] ;;
    [0-9][0-9]) [ "$n" -eq $((10#$labs)) ] ;;
    *) return 2 ;;
  esac
}

# Where lab 08's program makes nslab/, as globs, in CGROUP_PARENTS: in every
# cgroup above this process's own, in every hierarchy (it takes the highest one
# it may write in), and below NSLAB_CGROUP_BASE. It names its own cgroup
# nslab/PID, after itself: PID tells a row's from another run's.
cgroup_parents() {
  local line path prefix part
  local -A seen=([/]=1)
  while IFS= read -r line; do
    path=${line#*:*:} prefix=""
    for part in ${path//\// }; do
      prefix+=/$part
      seen[$prefix]=1
    done
  done < /proc/self/cgroup
  [ -z "${NSLAB_CGROUP_BASE:-}" ] || seen[$NSLAB_CGROUP_BASE]=1
  CGROUP_PARENTS=()
  for prefix in "${!seen[@]}"; do
    prefix=${prefix%/}
    CGROUP_PARENTS+=("/sys/fs/cgroup$prefix/nslab" "/sys/fs/cgroup/*$prefix/nslab")
  done
}

# What a row could leave on the host, in SNAPSHOT, read without a fork.
host_snapshot() {
  local file key id chunk
  local -a lines found
  SNAPSHOT=""
  for file in /proc/sys/kernel/hostname /proc/sys/kernel/domainname /proc/self/mountinfo; do
    mapfile -t lines < "$file"
    printf -v chunk '%s\n' "## $file" "${lines[@]}"
    SNAPSHOT+=$chunk
  done
  # System V IPC by key and id (attach counts and times change with use).
  for file in /proc/sysvipc/msg /proc/sysvipc/sem /proc/sysvipc/shm; do
    SNAPSHOT+="## $file"$'\n'
    while read -r key id _; do SNAPSHOT+="$key $id"$'\n'; done < "$file"
  done
  shopt -s nullglob dotglob
  found=(/sys/class/net/* /dev/mqueue/* "$ROW_DIR"/*)
  shopt -u nullglob dotglob
  printf -v chunk '%s\n' "## links, message queues, files in the row's directory" "${found[@]}"
  SNAPSHOT+=$chunk
}

# cgroup_of PID: the cgroup directories lab 08's program PID made and left, in
# FOUND (none: empty).
cgroup_of() {
  local path
  FOUND=()
  shopt -s nullglob
  # The patterns are globs, expanded here; one without a * is kept as it is.
  # shellcheck disable=SC2068
  for path in ${CGROUP_PARENTS[@]/%//$1}; do
    [ ! -e "$path" ] || FOUND+=("$path")
  done
  shopt -u nullglob
}

# The directories of the whole cgroup tree (host_guard.bash's view) that lab
# 08's program makes, nslab/ and below, anywhere: not the subtrees of
# scripts/sandbox.sh (nslab-sandbox.N, but this one's own) that other test runs
# make and remove beside this one at any moment, nor the host's own units.
nslab_dirs_of_lab08() {
  local own=""
  [[ ${NSLAB_CGROUP_BASE:-} =~ /nslab-sandbox\.([0-9]+)$ ]] && own=${BASH_REMATCH[1]}
  nslab_cgroup_dirs | awk -v own="$own" '
    /\/nslab-sandbox\.[0-9]+(\/|$)/ && (own == "" || index($0 "/", "/nslab-sandbox." own "/") == 0) { next }
    /\/nslab(\/|$)/'
}

# The processes that a row of this run started and that are still there: ROW PID, one a line.
row_processes() {
  local file row
  while IFS= read -r file; do
    row=$(tr '\0' '\n' < "$file" 2> /dev/null | sed -n "s/^NSLAB_BAD_INPUT_ROW=$RUN://p")
    file=${file#/proc/}
    echo "$row ${file%/environ}"
  done < <(grep -lzF "NSLAB_BAD_INPUT_ROW=$RUN:" /proc/[0-9]*/environ 2> /dev/null)
}

# raw_control TEXT: TEXT holds a control character as it is, which a terminal
# would act on: C0 (a newline, a tab, ESC ...), DEL, or C1 (U+0080 to U+009F,
# such as CSI, in UTF-8 \xc2\x80 to \xc2\x9f). Byte by byte, whatever the locale.
raw_control() {
  local LC_ALL=C
  [[ $1 == *[$'\x01'-$'\x1f'$'\x7f']* || $1 == *$'\xc2'[$'\x80'-$'\x9f']* ]]
}

# holds TEXT EXPECT: TEXT holds EXPECT, in which * stands for any text.
holds() {
  local rest=$1 fragment
  local -a fragments
  IFS=$'\x1f' read -ra fragments <<< "${2//\*/$'\x1f'}"
  for fragment in "${fragments[@]}"; do
    [[ $rest == *"$fragment"* ]] || return 1
    rest=${rest#*"$fragment"}
  done
}

# check_lab NN-name PROGRAM: runs every row of the table that names the lab.
check_lab() {
  local lab=$1 program=$2 number=${1%%-*}
  local line lineno=0 labs option kind raw expect rest rows=0 before err body shown status cgroups_before
  local -a failures=() what
  local -A ROW_OF_PID=()  # the PID each row's program had: its cgroup would be nslab/PID
  cgroup_parents
  host_snapshot
  before=$SNAPSHOT
  cgroups_before=$(nslab_dirs_of_lab08)
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    rest=$line
    labs=${rest%% | *} rest=${rest#* | }
    option=${rest%% | *} rest=${rest#* | }
    kind=${rest%% | *} rest=${rest#* | }
    raw=${rest%% | *} expect=${rest#* | }
    status=0
    row_is_for "$labs" "$number" || status=$?
    [ "$status" != 1 ] || continue  # a row for other labs
    if [ "$status" != 0 ]; then
      failures+=("bad-input.txt:$lineno: LABS is not 01+, 04-06 or 08: $line")
      continue
    fi
    if [ "$expect" = "$rest" ] || [ -z "$expect" ]; then
      failures+=("bad-input.txt:$lineno: not a row (LABS | OPTION | KIND | ARGS | EXPECT): $line")
      continue
    fi
    if ! decode_args "$raw"; then
      failures+=("bad-input.txt:$lineno: a \"<N*\" without its \">\": $raw")
      continue
    fi
    rows=$((rows + 1))
    status=0
    # In the background, so that a SIGTERM (the caller's time limit) is taken
    # at once, by stopped_at, even while a row runs.
    NSLAB_GUARD=${NSLAB_GUARD_TOKEN:-} NSLAB_BAD_INPUT_ROW=$RUN:$lineno "$program" "${ARGS[@]}" \
      < /dev/null > "$OUT" 2> "$ERR" &
    ROW_PID=$! ROW=$lineno
    wait "$ROW_PID" || status=$?
    ROW_OF_PID[$ROW_PID]=$lineno
    cgroup_of "$ROW_PID"
    ROW_PID=""
    err=""
    IFS= read -r -d '' err < "$ERR"
    body=${err%$'\n'}
    what=()
    [ "$status" = 125 ] || what+=("exit status $status, not 125")
    [ ! -s "$OUT" ] || what+=("stdout is not empty")
    if [ -z "$body" ] || [ "$err" = "$body" ] || [[ $body == *$'\n'* ]]; then
      what+=("stderr is not exactly one line")
    fi
    [[ $body == "$lab: "* ]] || what+=("the line does not start with \"$lab: \"")
    ! raw_control "$body" || what+=("a raw control character reached stderr")
    holds "$body" "$expect" || what+=("the line does not hold: $expect")
    [ ${#FOUND[@]} -eq 0 ] || what+=("it left its cgroup: ${FOUND[*]}")
    host_snapshot
    if [ "$SNAPSHOT" != "$before" ]; then
      what+=("it changed the host: $(diff <(echo "$before") <(echo "$SNAPSHOT") | grep '^[<>]' | head -n 5 | tr '\n' ' ')")
      rm -rf "${ROW_DIR:?}"/* "${ROW_DIR:?}"/.[!.]* 2> /dev/null
      host_snapshot
      before=$SNAPSHOT
    fi
    if [ ${#what[@]} -gt 0 ]; then
      printf -v shown '%q' "${err:0:400}"
      failures+=("bad-input.txt:$lineno [$option, $kind] $lab $raw: $(IFS=';'; echo "${what[*]}"); stderr: $shown")
    fi
  done < "$TABLE"

  # Once per lab: the whole cgroup tree, and the processes.
  # A directory of another run's (an nslab/PID of a PID that was none of the
  # rows', or nslab/ itself) is the host guard's to judge.
  local dir row pid
  while IFS= read -r dir; do
    [[ $dir =~ /nslab/([0-9]+)(/|$) ]] || continue
    row=${ROW_OF_PID[${BASH_REMATCH[1]}]:-}
    [ -z "$row" ] || failures+=("bad-input.txt:$row left the cgroup directory $dir")
  done < <(nslab_dirs_of_lab08 | comm -13 <(echo "$cgroups_before") -)
  while read -r row pid; do
    [ -n "$pid" ] || continue
    failures+=("bad-input.txt:$row left process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)")
    kill -KILL "$pid" 2> /dev/null  # ours: it carries this run's mark
  done < <(row_processes)
  [ "$rows" -gt 0 ] || failures+=("no row of bad-input.txt names $lab")

  echo "$lab: $rows rows, ${#failures[@]} failed"
  [ ${#failures[@]} -eq 0 ] || { printf '%s\n' "${failures[@]}"; return 1; }
}

if [ $# -ne 2 ] || [[ $1 != [0-9][0-9]-* ]] || [ ! -x "$2" ]; then
  echo "bad-input.sh: usage: bad-input.sh NN-name PROGRAM, PROGRAM the lab's executable program" >&2
  exit 2
fi
# This run's mark, in the environment of every program it starts.
RUN=bad-input-$$-$RANDOM
# Stopped by the caller's time limit (common/bats/bad_input.bats runs this
# under timeout(1)): the row that was running is named, and its program ended.
ROW_PID="" ROW=""
stopped_at() {
  [ -z "$ROW_PID" ] || kill -KILL "$ROW_PID" 2> /dev/null
  echo "stopped by SIGTERM (a time limit) while bad-input.txt:${ROW:-?} ran${ROW_PID:+ (its program, PID $ROW_PID, killed)}"
  exit 1
}
trap stopped_at TERM
work=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/nslab-bad-input.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
ROW_DIR=$work/cwd OUT=$work/stdout ERR=$work/stderr
mkdir "$ROW_DIR" || exit 2
program=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
# The rows run here: a pid file a row names by a relative path would be made in it.
cd "$ROW_DIR" || exit 2
check_lab "$1" "$program"
