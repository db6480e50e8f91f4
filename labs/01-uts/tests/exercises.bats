#!/usr/bin/env bats
# Lab 01 — the exercises' answers, each run with the lab's program: two
# containers with two names (two_names.sh), a namespace kept alive by an open
# descriptor after its last process (keep_alive.sh), and the longest hostname
# the program accepts, refused before clone (longest_hostname.sh).
# answers: 1=two_names.sh 2=keep_alive.sh 4=longest_hostname.sh

load ../../../common/bats/nslab
NSLAB_LAB=01-uts
DOC=lab01-uts.md

# field LINE KEY: the word after KEY in LINE ("PID 4003" → 4003), or the
# first namespace identity of kind KEY ("uts" → uts:[4026532251]).
field() {
  case $2 in
    uts | ipc) grep -oE "$2:\[[0-9]+\]" <<< "$1" | head -n 1 ;;
    *) awk -v key="$2" '{ for (i = 1; i < NF; i++) if ($i == key) { sub(/,$/, "", $(i + 1)); print $(i + 1); exit } }' <<< "$1" ;;
  esac
}

# The PIDs of the processes in namespace ID ("uts:[4026532251]") of KIND.
processes_in() {
  local link
  for link in /proc/[0-9]*/ns/"$1"; do
    [ "$(readlink "$link" 2>/dev/null)" = "$2" ] && echo "${link#/proc/}" | cut -d/ -f1
  done
  return 0
}

# not_the_hosts ID KIND: ID names a namespace of KIND, not this shell's.
not_the_hosts() {
  [ -n "$1" ] && [ "$1" != "$(ns_of $$ "$2")" ]
}

# a_name LENGTH: a hostname of LENGTH bytes.
a_name() {
  printf 'a%.0s' $(seq "$1")
}

@test "exercise 1: two containers named red and blue, two UTS namespaces of their own" {
  answer two_names.sh "$NSLAB_PROGRAM"
  expect "two_names.sh runs to the end" "$DOC#lab01-ex1" -- [ "$status" -eq 0 ]
  expect "four lines: this shell, red, blue and the count" "$DOC#lab01-ex1" -- [ "${#lines[@]}" -eq 4 ]
  shell=${lines[0]} red=${lines[1]} blue=${lines[2]}
  expect "the first line is this shell's own uts namespace" "$DOC#lab01-ex1" -- [ "$(field "$shell" uts)" = "$(ns_of $$ uts)" ]
  expect "this shell has the host's name" "$DOC#lab01-ex1" -- [ "$(field "$shell" hostname)" = "$HOST_HOSTNAME" ]
  expect "the red container is named red" "$DOC#lab01-ex1" -- [ "$(field "$red" hostname)" = red ]
  expect "the blue container is named blue" "$DOC#lab01-ex1" -- [ "$(field "$blue" hostname)" = blue ]
  uts_count=$(for line in "$shell" "$red" "$blue"; do field "$line" uts; done | grep -c . | tr -d ' ')
  expect "each line shows a uts namespace" "$DOC#lab01-ex1" -- [ "$uts_count" -eq 3 ]
  expect "three different uts namespaces: one per container, and the host's" "$DOC#lab01-flag" -- \
    [ "$(for line in "$shell" "$red" "$blue"; do field "$line" uts; done | sort -u | wc -l)" -eq 3 ]
  expect "one ipc namespace, the host's, for all three: lab 01 makes no other kind (negative control)" "$DOC#lab01-flag" -- \
    [ "$(for line in "$shell" "$red" "$blue"; do field "$line" ipc; done | sort -u)" = "$(ns_of $$ ipc)" ]
  expect "the last line counts them" "$DOC#lab01-ex1" -- [ "${lines[3]}" = "different namespaces: uts 3, ipc 1" ]
  expect "both containers have ended" "$DOC#lab01-ex1" -- wait_for 5 nslab_no_guarded_processes
  expect "the host keeps its name" "$DOC#lab01-flag" -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
}

@test "exercise 1: two_names.sh with no program, or one that cannot run: one line, exit 2" {
  answer two_names.sh
  expect "no argument: exit 2 and one line" "$DOC#lab01-ex1" -- usage_error
  answer two_names.sh /no/such/01-uts
  expect "a program that does not exist: exit 2 and one line" "$DOC#lab01-ex1" -- usage_error
}

@test "exercise 2: an open descriptor keeps the UTS namespace alive after its last process" {
  expect "the host is not named box (negative control)" "$DOC#lab01-ex2" -- [ "$HOST_HOSTNAME" != box ]
  answer keep_alive.sh "$NSLAB_PROGRAM"
  expect "keep_alive.sh runs to the end" "$DOC#lab01-ex2" -- [ "$status" -eq 0 ]
  expect "three lines" "$DOC#lab01-ex2" -- [ "${#lines[@]}" -eq 3 ]
  pid=$(field "${lines[0]}" PID)
  uts=$(field "${lines[0]}" uts)
  expect "the container is named box" "$DOC#lab01-ex2" -- [ "$(field "${lines[0]}" hostname)" = box ]
  expect "in a uts namespace of its own" "$DOC#lab01-flag" -- not_the_hosts "$uts" uts
  expect "its process has gone: /proc/$pid is no more" "$DOC#lab01-ex2" -- [ ! -e "/proc/$pid/ns/uts" ]
  expect "so the path to its namespace has gone with it" "$DOC#lab01-ex2" -- \
    [ "${lines[1]}" = "after it ended, by /proc/$pid/ns/uts: gone" ]
  expect "but the descriptor still leads to the same namespace, named box" "$DOC#lab01-ex2" -- \
    [ "${lines[2]}" = "after it ended, by fd 3: $uts, hostname box" ]
  expect "no process was left in that namespace to keep it" "$DOC#lab01-ex2" -- [ -z "$(processes_in uts "$uts")" ]
  expect "the container has ended" "$DOC#lab01-ex2" -- wait_for 5 nslab_no_guarded_processes
  expect "the host keeps its name" "$DOC#lab01-flag" -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
}

@test "exercise 2: keep_alive.sh with no program, or one that cannot run: one line, exit 2" {
  answer keep_alive.sh
  expect "no argument: exit 2 and one line" "$DOC#lab01-ex2" -- usage_error
  answer keep_alive.sh /no/such/01-uts
  expect "a program that does not exist: exit 2 and one line" "$DOC#lab01-ex2" -- usage_error
}

@test "exercise 4: the longest hostname accepted is HOST_NAME_MAX bytes, and a longer one is refused before clone" {
  max=$(getconf HOST_NAME_MAX)
  # What the script must find, seen here first: the narration of a run that
  # clones has a clone line (negative control), that of a refused name none.
  run --separate-stderr ct --verbose --hostname "$(a_name "$max")" -- true
  expect "a name of $max bytes: the narration shows clone (negative control)" "$DOC#lab01-ex4" -- grep -q 'clone(' <<< "$stderr"
  run --separate-stderr ct --verbose --hostname "$(a_name $((max + 1)))" -- true
  expect "a name of $((max + 1)) bytes: exit 125" "$DOC#lab01-ex4" -- [ "$status" -eq 125 ]
  expect "and no clone in the narration" "$DOC#lab01-ex4" -- [ -z "$(grep 'clone(' <<< "$stderr")" ]
  refused=${stderr##*$'\n'}
  answer longest_hostname.sh "$NSLAB_PROGRAM"
  expect "longest_hostname.sh runs to the end" "$DOC#lab01-ex4" -- [ "$status" -eq 0 ]
  expect "the longest name accepted is HOST_NAME_MAX, $max bytes" "$DOC#lab01-ex4" -- [ "${lines[0]}" = "longest accepted: $max bytes" ]
  expect "one more byte is refused before clone" "$DOC#lab01-ex4" -- [ "${lines[1]}" = "$((max + 1)) bytes: refused before clone" ]
  expect "the script's last line is the program's own error line" "$DOC#lab01-ex4" -- [ "${lines[2]}" = "$refused" ]
  expect "the host keeps its name" "$DOC#lab01-flag" -- [ "$(hostname)" = "$HOST_HOSTNAME" ]
}

@test "exercise 4: longest_hostname.sh with no program, or one that cannot run: one line, exit 2" {
  answer longest_hostname.sh
  expect "no argument: exit 2 and one line" "$DOC#lab01-ex4" -- usage_error
  answer longest_hostname.sh /no/such/01-uts
  expect "a program that does not exist: exit 2 and one line" "$DOC#lab01-ex4" -- usage_error
}
