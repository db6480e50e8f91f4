#!/usr/bin/env bats
# The learners' starters (build/bin/labs/NN-name, built from labs/) fail safely:
# exit 125 with "TODO(lab NN): implement ... — see ...", and the host untouched
# (the host guard around this file checks that).

load nslab

starter_fails_safely() {
  local lab=$1 number=${1%%-*}
  shift
  NSLAB_PROGRAM=$NSLAB_BUILD_DIR/bin/labs/$lab
  run --separate-stderr ct "$@"
  assert_equal "$status" 125
  assert_equal "$output" ""
  expect "one line: $lab: TODO(lab $number): implement ... — see docs/{en,zh}/..." "../../labs/$lab" -- \
    grep -qxE "$lab: TODO\(lab $number\): implement .+ — see docs/\{en,zh\}/lab$number-[a-z]+\.md#lab$number-[a-z]+" <<< "$stderr"
  assert_equal "$(hostname)" "$HOST_HOSTNAME"
}

@test "starter 01-uts stops at its first TODO" {
  starter_fails_safely 01-uts --hostname box -- hostname
}

@test "starter 02-ipc stops at its first TODO" {
  starter_fails_safely 02-ipc --hostname box -- ipcs
}

@test "starter 03-pid stops at its first TODO" {
  starter_fails_safely 03-pid --init -- sh -c 'echo $$'
}

@test "starter 04-mount stops at its first TODO" {
  starter_fails_safely 04-mount -- ps
}

@test "starter 05-net stops at its first TODO, with --veth creating no link" {
  before=$(ip -o link | awk -F': ' '{ print $2 }')
  starter_fails_safely 05-net --veth 10.200.250.1/24,10.200.250.2/24 -- ip -o link
  assert_equal "$(ip -o link | awk -F': ' '{ print $2 }')" "$before"
}

@test "starter 06-user stops at its first TODO, as root and as an unprivileged user" {
  starter_fails_safely 06-user --hostname box -- id -u
  run --separate-stderr setpriv --reuid="${NSLAB_ROOTLESS_UID:-65534}" --regid="${NSLAB_ROOTLESS_UID:-65534}" \
    --clear-groups "$NSLAB_BUILD_DIR/bin/labs/06-user" --hostname box -- id -u
  assert_equal "$status" 125
  assert_equal "$output" ""
  grep -qxE "06-user: TODO\(lab 06\): implement .+ — see docs/\{en,zh\}/lab06-user\.md#lab06-[a-z]+" <<< "$stderr"
}
