#!/usr/bin/env bats
# The hints a failing test gives (common/bats/hints.txt): every hint is well
# formed, points to a section the tutorials have, is given by some test and
# fired by a mutant; every hint a test or the mutant check names exists; and a
# failing check prints its hint the way a learner sees it.

load nslab
NSLAB_LAB=01-uts

lab_setup() {
  HINTS=$NSLAB_SOURCE_DIR/common/bats/hints.txt
}

# The IDs of hints.txt, one per line.
hint_ids() {
  grep -vE '^(#|$)' "$HINTS" | cut -d'|' -f1 | tr -d ' '
}

# The IDs the tests name: literally after --hint, or assigned to a variable
# named hint (hint=ID), or passed to explain after "$1" (its section); and every
# shared-KIND, which expect_namespaces and hint_from_output (nslab.bash) give
# for any kind of namespace.
ids_in_tests() {
  {
    cat "$NSLAB_SOURCE_DIR"/labs/*/tests/*.bats "$NSLAB_SOURCE_DIR"/labs/*/tests/*.bash "$NSLAB_SOURCE_DIR"/common/bats/nslab.bash |
      grep -oE -- '(--hint "?|hint=)[a-z][a-z0-9-]*|"\$1" [a-z][a-z0-9]*-[a-z0-9-]+$' | sed -E 's/^(--hint "?|hint=|"\$1" )//' | grep -v '^shared-$'
    # The helpers that print an ID (enter_hint, hint_from_output): "echo ID" alone on a line.
    cat "$NSLAB_SOURCE_DIR"/labs/*/tests/*.bash "$NSLAB_SOURCE_DIR"/common/bats/nslab.bash |
      sed -nE 's/^ +echo ([a-z][a-z0-9]*-[a-z0-9-]+)$/\1/p'
    hint_ids | grep '^shared-'
  } | sort -u
}

@test "every line of hints.txt has an ID, a section of the tutorials, and the mistake in English and Chinese" {
  local line id section text zh bad=""
  while IFS= read -r line; do
    IFS='|' read -r id section text zh <<< "$line"
    id=${id// /} section=${section// /}
    [[ $id =~ ^[a-z][a-z0-9-]*$ ]] || bad+=" [$id: bad ID]"
    [ -n "${text// /}" ] || bad+=" [$id: no text]"
    [ -n "${zh// /}" ] || bad+=" [$id: no Chinese text]"
    [[ $text != *CLONE_* && $text != *"::"* ]] || bad+=" [$id: names code]"
    local page=${section%%#*} anchor=${section#*#}
    for lang in en zh; do
      grep -q "{#$anchor}" "$NSLAB_SOURCE_DIR/docs/$lang/$page" 2>/dev/null || bad+=" [$id: no {#$anchor} in docs/$lang/$page]"
    done
  done < <(grep -vE '^(#|$)' "$HINTS")
  expect "no malformed hint:$bad" README.md -- [ -z "$bad" ]
  expect "IDs are unique" README.md -- [ -z "$(hint_ids | sort | uniq -d)" ]
}

@test "every hint is given by a test and fired by a mutant, and every hint a test or a mutant names exists" {
  local known used mutants
  known=$(hint_ids | sort -u)
  used=$(ids_in_tests)
  mutants=$(sed -nE 's/^  "[^|]+\|[^|]+\|([^|]+)\|.*/\1/p' "$NSLAB_SOURCE_DIR/scripts/mutants.sh" | sort -u)
  expect "the tests name only known hints (unknown: $(comm -13 <(echo "$known") <(echo "$used") | xargs))" README.md -- \
    [ -z "$(comm -13 <(echo "$known") <(echo "$used"))" ]
  expect "every hint is given by some test (never: $(comm -23 <(echo "$known") <(echo "$used") | xargs))" README.md -- \
    [ -z "$(comm -23 <(echo "$known") <(echo "$used"))" ]
  expect "the mutants name only known hints (unknown: $(comm -13 <(echo "$known") <(echo "$mutants") | xargs))" README.md -- \
    [ -z "$(comm -13 <(echo "$known") <(echo "$mutants"))" ]
  expect "every hint is fired by a mutant (none for: $(comm -23 <(echo "$known") <(echo "$mutants") | xargs))" README.md -- \
    [ -z "$(comm -23 <(echo "$known") <(echo "$mutants"))" ]
}

@test "a failing check with a hint prints what was expected, the mistake in both languages, and where to read" {
  run --separate-stderr expect "the host keeps its hostname" lab01-uts.md#lab01-flag --hint shared-uts -- false
  assert_failure
  assert_equal "${stderr_lines[0]}" "expected: the host keeps its hostname"
  expect "the hint, with its ID" README.md -- begins_with "${stderr_lines[1]}" "hint:     the container is still in the host's UTS namespace"
  expect "the ID at the end" README.md -- grep -qF "[hint shared-uts]" <<< "${stderr_lines[1]}"
  expect "the Chinese text" README.md -- begins_with "${stderr_lines[2]}" "提示:     容器仍在主机的 UTS 命名空间里"
  assert_equal "${stderr_lines[3]}" "read:     docs/en/lab01-uts.md#lab01-flag (中文: docs/zh/lab01-uts.md#lab01-flag)"
  run --separate-stderr expect "it passes" lab01-uts.md --hint shared-uts -- true
  assert_success
  expect "a check that passes prints nothing (negative control)" README.md -- [ -z "$stderr" ]
  run --separate-stderr expect "no hint given" lab01-uts.md#lab01-flag --hint "" -- false
  expect "an empty hint: the check's own section, no hint line" README.md -- \
    [ "${stderr_lines[1]}" = "read:     docs/en/lab01-uts.md#lab01-flag (中文: docs/zh/lab01-uts.md#lab01-flag)" ]
}
