#!/usr/bin/env bash
# Installs what nslab needs on Debian or Ubuntu. Safe to run again: it installs
# only what is missing. Installing needs root (or sudo).
#
#   scripts/setup.sh            install what is missing
#   scripts/setup.sh --check    only say what is missing (exit 1 if anything is)
#
# Fedora: dnf install gcc-c++ cmake make glibc-static libstdc++-static gtest-devel \
#   bats busybox doxygen graphviz iproute procps-ng util-linux \
#   clang-tools-extra perl shadow-utils tmux strace python3 \
#   qemu-system-x86-core cpio kmod gnuplot clang compiler-rt bubblewrap   (as root)
# (Fedora packages neither bats-support nor bats-assert: clone them from the
# bats-core project into /usr/lib/bats/bats-support and /usr/lib/bats/bats-assert.)
set -euo pipefail

packages=(
  g++ cmake make                   # the build
  libgtest-dev googletest          # unit tests
  bats bats-support bats-assert    # the labs' tests
  busybox-static                   # scripts/make-rootfs.sh, and the initramfs of scripts/vm-test.sh
  iproute2 procps util-linux perl  # ip, ps, unshare/setpriv/findmnt, the mutant check
  uidmap                           # newuidmap/newgidmap: lab 06's ranges without root
  doxygen graphviz doxygen-awesome-css  # the tutorials
  tmux                             # scripts/demo.sh: lab 07's two terminals side by side
  strace python3                   # lab 07's tests (a join held back, two threads); python3 also writes grade.sh's results.json and results.xml
  clang-tidy                       # the tidy preset
  qemu-system-x86                  # scripts/vm-test.sh: the tests on a pure cgroup v2 kernel, in a VM
  cpio kmod                        # scripts/vm-test.sh: its initramfs (cpio), the kernel's modules (depmod, modprobe)
  gnuplot-nox                      # scripts/vm-vs-container.sh: the plot, in the built docs too
  clang libclang-rt-dev            # the fuzz preset: scripts/fuzz.sh (libFuzzer)
  bubblewrap                       # scripts/bench.sh: bwrap, beside unshare(1)
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: everything is installed"
  exit 0
fi
if [ "${1:-}" = --check ]; then
  echo "setup: missing: ${missing[*]}"
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "setup: no apt-get here; install the equivalents of: ${missing[*]} (Fedora: see the top of scripts/setup.sh)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || {
    echo "setup: installing ${missing[*]} needs root, and there is no sudo here: run scripts/setup.sh as root" >&2
    exit 1
  }
  sudo=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
