#!/usr/bin/env bash
# Runs one @test of a Bats file: run-one.sh FILE "test name". CTest calls it so
# that every @test is its own CTest test (and its own host-guarded Bats run).
set -euo pipefail
file=$1 name=$2
# bats --filter takes a regular expression: escape the name's special characters.
pattern=$(printf '%s' "$name" | sed 's/[][\.*^$(){}+?|/]/\\&/g')
exec bats --filter "^${pattern}\$" "$file"
