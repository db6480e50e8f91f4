#!/usr/bin/env bash
# Runs one @test of a Bats file: run-one.sh [--sandbox] FILE "test name". CTest
# calls it so that every @test is its own CTest test (and its own host-guarded
# Bats run). --sandbox: inside scripts/sandbox.sh, a throw-away host of its own
# (a lab's tests: see nslab_add_bats in cmake/labs.cmake).
set -euo pipefail
sandbox=()
if [ "${1:-}" = --sandbox ]; then
  sandbox=("$(dirname "$0")/../../scripts/sandbox.sh")
  shift
fi
file=$1 name=$2
# bats --filter takes a regular expression: escape the name's special characters.
pattern=$(printf '%s' "$name" | sed 's/[][\.*^$(){}+?|/]/\\&/g')
exec "${sandbox[@]}" bats --filter "^${pattern}\$" "$file"
