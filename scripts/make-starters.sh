#!/usr/bin/env bash
# Makes the learners' starters, labs/NN-name/, from the reference solutions.
#
#   scripts/make-starters.sh           rewrite labs/*/ (all but labs/*/tests/)
#   scripts/make-starters.sh --force   the same, even over uncommitted work in labs/
#   scripts/make-starters.sh --check   exit 1 if labs/ differs from what it would write
#
# labs/ is where a learner works, so rewriting it refuses while labs/ (tests
# aside) holds anything git has not committed, or when git cannot tell.
#
# In solutions/, the core of each lab is marked:
#
#     // >>> lab 01: what the learner implements | where the tutorial explains it
#     ...reference code...
#     // <<< lab 01
#
# and the starter gets, in its place, a stub that fails safely: the program
# stops with exit status 125 and "TODO(lab 01): implement ... — see ..." before
# it changes anything on the host. Exercise solutions (exercises/) are left out.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# stub_file SRC DEST: copy SRC to DEST, replacing each marked region with a stub.
stub_file() {
  awk -v file="$1" '
    function fail(msg) { printf "make-starters: %s:%d: %s\n", file, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
    /^[ \t]*\/\/ >>> lab [0-9][0-9]: / {
      if (open) fail("a region opens inside another")
      match($0, /^[ \t]*/); indent = substr($0, 1, RLENGTH)
      text = $0; sub(/^[ \t]*\/\/ >>> lab /, "", text)
      lab = substr(text, 1, 2); text = substr(text, 5)
      split(text, parts, / \| /); what = parts[1]; see = parts[2]
      if (what == "" || see == "") fail("a region needs \"what | section\"")
      gsub(/"/, "\\\"", what)
      print indent "// TODO(lab " lab "): implement " what "."
      print indent "// Read " see ", then replace the line below with your code."
      print indent "throw nslab::Todo(\"" lab "\", \"" what "\", \"" see "\");"
      open = 1; next
    }
    /^[ \t]*\/\/ <<< lab [0-9][0-9][ \t]*$/ { if (!open) fail("a region closes that never opened"); open = 0; next }
    !open { print }
    END { if (!bad && open) { printf "make-starters: %s: a region is never closed\n", file > "/dev/stderr"; exit 1 } }
  ' "$1" > "$2"
}

# write_starters OUT: the whole labs/ tree (sources only) under OUT.
write_starters() {
  local out=$1 lab name src
  for lab in "$top"/solutions/[0-9][0-9]-*/; do
    name=$(basename "$lab")
    mkdir -p "$out/$name"
    while IFS= read -r src; do
      stub_file "$lab/$src" "$out/$name/$src"
    done < <(cd "$lab" && find . -maxdepth 1 -type f \( -name '*.cpp' -o -name '*.hpp' \) -printf '%P\n' | sort)
  done
}

# refuse_over_uncommitted_work: exits 1 unless labs/ (but labs/*/tests/) is as
# committed, with nothing untracked.
refuse_over_uncommitted_work() {
  local git_error changed count
  if ! git_error=$(git -C "$top" rev-parse --is-inside-work-tree 2>&1 >/dev/null); then
    git_error=$(head -n 1 <<< "$git_error"); git_error=${git_error#fatal: }
    echo "make-starters: cannot tell whether labs/ holds uncommitted work (git: ${git_error:-failed}): run scripts/make-starters.sh --force to overwrite labs/ all the same" >&2
    exit 1
  fi
  changed=$(git -C "$top" status --porcelain --untracked-files=all -- labs ':(exclude,glob)labs/*/tests/**' | cut -c4-)
  [ -z "$changed" ] && return 0
  count=$(wc -l <<< "$changed")
  changed=$(head -n 1 <<< "$changed")
  [ "$count" -gt 1 ] && changed="$changed and $((count - 1)) more"
  echo "make-starters: labs/ has work that is not committed ($changed), which this would overwrite: commit it, or run scripts/make-starters.sh --force" >&2
  exit 1
}

case "${1:-}" in
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    write_starters "$tmp"
    # Compare everything but the tests, which live only in labs/, and a learner's exercises/ answers.
    if diff -r -x tests -x exercises "$tmp" "$top/labs" >"$tmp.diff" 2>&1; then
      echo "starters: labs/ matches solutions/"
      rm -f "$tmp.diff"
    else
      echo "starters: labs/ has drifted from solutions/; run scripts/make-starters.sh and commit:" >&2
      cat "$tmp.diff" >&2
      rm -f "$tmp.diff"
      exit 1
    fi
    ;;
  "" | --force)
    [ "${1:-}" = --force ] || refuse_over_uncommitted_work
    write_starters "$top/labs"
    echo "starters written to labs/ (from solutions/)"
    ;;
  *)
    echo "Usage: scripts/make-starters.sh [--check | --force]" >&2
    exit 2
    ;;
esac
