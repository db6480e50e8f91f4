#!/usr/bin/env bats
# The troubleshooting page, docs/{en,zh}/troubleshooting.md, and the pointers
# the programs print to it: every anchor a program can print is an entry of
# both pages; every entry is reached from one of the page's two indexes (by
# errno, by symptom) and names a tutorial section; and a failing program's one
# line ends with the pointer, names scripts/doctor.sh where the machine's setup
# may be the cause, and gets no pointer where there is no entry.

load nslab

DOC=troubleshooting.md

# Not the labs' setup: reading the sources and the pages takes no root, and
# the runs below need none (they run in a user namespace of their own, or as
# a user who may create nothing).
setup() {
  PAGES=(docs/en/troubleshooting.md docs/zh/troubleshooting.md)
  UTS=$NSLAB_BUILD_DIR/bin/solutions/01-uts
  cd "$NSLAB_SOURCE_DIR"
}

# The anchors the programs can print: every "ts-..." string in the sources the
# lab programs are built from (the rules of common/src/error.cpp, and any
# pointer a lab names itself).
printed_anchors() {
  cat common/src/*.cpp common/include/nslab/*.hpp solutions/*/*.cpp solutions/*/*.hpp |
    grep -oE '"ts-[A-Za-z0-9_-]+"' | tr -d '"' | sort -u
}

# missing_from PAGE ANCHOR...: the anchors PAGE has no heading for, one per line.
missing_from() {
  local page=$1 anchor
  shift
  for anchor in "$@"; do
    grep -qE "^#+ .*\{#$anchor\}\$" "$page" || echo "$anchor"
  done
}

# entries PAGE: the anchors of PAGE's entries (its ### headings).
entries() {
  sed -nE 's/^### .*\{#(ts-[A-Za-z0-9_-]+)\}$/\1/p' "$1"
}

# indexed PAGE: the anchors the two indexes of PAGE refer to (\ref), from the
# index by errno up to the first entries.
indexed() {
  sed -n '/{#ts-by-errno}/,/{#ts-all}/p' "$1" | grep -oE '\\ref ts-[A-Za-z0-9_-]+' | sed 's/^\\ref //' | sort -u
}

# ends_with TEXT SUFFIX
ends_with() {
  [[ $1 == *"$2" ]]
}

# pointer_of TEXT: the anchor at the end of an error line, "" when none.
pointer_of() {
  sed -nE 's/.* \((run scripts\/doctor\.sh; )?see docs\/\{en,zh\}\/troubleshooting\.md#(ts-[A-Za-z0-9_-]+)\)$/\2/p' <<< "$1"
}

@test "every anchor a program can print is an entry of the troubleshooting page, in English and in Chinese" {
  local -a anchors
  mapfile -t anchors < <(printed_anchors)
  expect "the sources name the page's anchors (found ${#anchors[@]})" "$DOC#ts-pointer" -- [ "${#anchors[@]}" -ge 40 ]
  local page missing
  for page in "${PAGES[@]}"; do
    missing=$(missing_from "$page" "${anchors[@]}")
    expect "$page has an entry for each anchor (missing: ${missing:-none})" "$DOC#ts-pointer" -- [ -z "$missing" ]
  done
  # Negative control: an anchor no page has is found missing.
  expect "a made-up anchor is reported missing (negative control)" "$DOC#ts-pointer" -- \
    [ "$(missing_from "${PAGES[0]}" ts-no-such-entry)" = ts-no-such-entry ]
}

@test "every entry is reached from the index by errno or the index by symptom, and names a tutorial section" {
  local page entry unindexed unread count
  for page in "${PAGES[@]}"; do
    count=$(entries "$page" | wc -l)
    expect "$page has entries ($count)" "$DOC#ts-all" -- [ "$count" -ge 40 ]
    unindexed=$(comm -23 <(entries "$page" | sort -u) <(indexed "$page"))
    expect "$page: every entry is in an index (not: ${unindexed:-none})" "$DOC#ts-by-errno" -- [ -z "$unindexed" ]
    # Each entry, up to the next heading, refers to a section of a tutorial.
    unread=$(awk '/^#+ /{ if (e != "" && !r) print e; e = ""; r = 0
                          if (match($0, /\{#ts-[A-Za-z0-9_-]+\}$/) && /^### /) e = substr($0, RSTART + 2, RLENGTH - 3) }
                  /\\ref (lab0[1-8]|design|index)/ { r = 1 }
                  END { if (e != "" && !r) print e }' "$page")
    expect "$page: every entry names a tutorial section (not: ${unread:-none})" "$DOC#ts-all" -- [ -z "$unread" ]
  done
  # Negative control: an entry the indexes do not name is found.
  expect "an entry the indexes leave out is reported (negative control)" "$DOC#ts-by-errno" -- \
    [ -n "$(comm -23 <(printf '%s\n' ts-no-such-entry) <(indexed "${PAGES[0]}"))" ]
}

@test "a failing program's line ends with the pointer to its entry; one without an entry gets none" {
  [ -x "$UTS" ] || skip "no $UTS: build first"
  # As a user who may create no namespace: refused before anything exists.
  local -a nobody=()
  [ "$EUID" != 0 ] || nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  run -125 --separate-stderr "${nobody[@]}" "$UTS" -- true
  expect "one line" "$DOC#ts-pointer" -- is_one_line "$stderr"
  expect "it points to ts-need-root" "$DOC#ts-need-root" -- [ "$(pointer_of "$stderr")" = ts-need-root ]
  local page
  for page in "${PAGES[@]}"; do
    expect "$page has the entry the line points to" "$DOC#ts-need-root" -- grep -qF '{#ts-need-root}' "$page"
  done
  # Negative control: a bad option has no entry, and no pointer.
  run -125 --separate-stderr "${nobody[@]}" "$UTS" --no-such-option -- true
  expect "a usage error carries no pointer" "$DOC#ts-pointer" -- \
    [ "$stderr" = "01-uts: unknown option --no-such-option (see --help)" ]
}

@test "where the machine's setup may be the cause, the pointer names scripts/doctor.sh; where not, it does not" {
  [ -x "$UTS" ] || skip "no $UTS: build first"
  unshare --user --map-root-user true 2>/dev/null ||
    skip "cannot create a user namespace here (unshare --user --map-root-user); scripts/doctor.sh says what blocks it"
  # A namespace limit of 0, in a user namespace of the test's own: the host's limits stay as they are.
  run -125 --separate-stderr unshare --user --map-root-user \
    sh -c 'echo 0 > /proc/sys/user/max_uts_namespaces && exec "$0" -- true' "$UTS"
  expect "one line" "$DOC#ts-clone-ENOSPC" -- is_one_line "$stderr"
  expect "ENOSPC from clone points to its entry and to the doctor" "$DOC#ts-clone-ENOSPC" -- \
    ends_with "$stderr" " (run scripts/doctor.sh; see docs/{en,zh}/troubleshooting.md#ts-clone-ENOSPC)"
  # Negative control: COMMAND not found is no matter of the machine's.
  run -127 --separate-stderr unshare --user --map-root-user "$UTS" -- /no/such/command
  expect "exec ENOENT points to its entry, without the doctor" "$DOC#ts-exec-ENOENT" -- \
    [ "$stderr" = '01-uts: exec "/no/such/command": No such file or directory (see docs/{en,zh}/troubleshooting.md#ts-exec-ENOENT)' ]
}
