#!/usr/bin/env bash
# Runs nslab's Bats tests on a pure cgroup v2 kernel, in a virtual machine: the
# layout most users have (cgroup2 alone at /sys/fs/cgroup), whatever the layout
# of the machine that runs this. The guest is Debian's kernel under qemu, a small
# initramfs, and this machine's own root shared read-only (9p) under a tmpfs
# overlay, so that the guest runs the host's bats against the host's build and
# writes nothing back. The tests run as root there; the rootless ones drop to
# uid 65534 themselves, as on the host.
#
#   scripts/vm-test.sh            the whole Bats suite, as CTest registers it
#   scripts/vm-test.sh 06 08      only those labs' test files
#   scripts/vm-test.sh --quick    a subset for scripts/test.sh: lab 08's cgroup v2 paths,
#                                 as root (memory, pids, the namespace, the read-only tree)
#                                 and rootless with a delegated cgroup; and scripts/doctor.sh's
#                                 verdict there (v2), as root and as uid 65534.
#                                 Not --cpus: under software emulation the guest's clock is
#                                 not a CPU's time.
#   scripts/vm-test.sh --faults [ARG...]
#                                 scripts/faults.sh ARG... in the guest instead of Bats:
#                                 the runtimes killed, interrupted and failed step by step
#                                 on cgroup v2 (cgroup.kill, the v2 sweep); its table is
#                                 printed, and its exit status is one test's
#
# Prints the guest's kernel and cgroup layout, each test's TAP line (under the
# name of its file), and ends with "N passed, N failed, N skipped". Exit status:
# 0 when every test ran and passed; 1 when one failed, or the VM did not finish
# in time (NSLAB_VM_TIMEOUT seconds: 900 for --quick, else 14400); 2 for a bad
# argument; 77 when this machine cannot run the VM at all (no qemu, no kernel
# package, no boot), with one line saying why. The whole console of the last
# run is kept in NSLAB_VM_CACHE/console.log.
#
# Tests the build in NSLAB_BUILD_DIR (default: build/ of this checkout); the
# guest does not build. Debian's current linux-image-*-amd64 is downloaded
# (apt-get download) and unpacked once into NSLAB_VM_CACHE (default:
# ~/.cache/nslab/vm, which a fresh clone reuses). KVM is tried first, for NSLAB_VM_KVM_WAIT seconds, then
# software emulation (TCG), much slower; NSLAB_VM_ACCEL=tcg or kvm forces one.
# Needs qemu-system-x86, busybox-static, cpio and kmod (scripts/setup.sh), not root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${NSLAB_BUILD_DIR:-$top/build}" 2>/dev/null && pwd || echo "${NSLAB_BUILD_DIR:-$top/build}")
# Outside the checkout: a fresh clone (CI's) reuses the kernel fetched before.
cache=${NSLAB_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nslab/vm}
marker=nslab-vm

usage="usage: scripts/vm-test.sh [--quick | NN... | --faults [FAULTS-ARG...]]   (NN: $(cd "$top/labs" && ls -d [0-9][0-9]-* | cut -c1-2 | xargs))"
die() { echo "vm-test: $*" >&2; exit 1; }
# cannot WHY: this machine cannot run the VM; said in one line, exit 77.
cannot() { echo "vm-test: cannot run a VM here: $*" >&2; exit 77; }

# --- which test files ------------------------------------------------------------

files=()
quick=no
faults=no faults_args=()
case "${1:-}" in
  --faults)
    faults=yes
    shift
    faults_args=("$@")
    set --
    ;;
  -h | --help) echo "$usage"; exit 0 ;;
  --quick)
    [ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
    quick=yes
    # FILE|REGEX: the tests of FILE whose names match REGEX (bats --filter).
    # Each test costs tens of seconds under TCG: the core of each lab here.
    # A REGEX that no longer matches a test is a failure, not a quiet gap.
    subset=(
      "labs/08-cgroup/tests/cgroup.bats|^done when: --(memory|pids) |^inside, /proc/self/cgroup shows / |^--rootfs: /sys/fs/cgroup inside"
      "labs/08-cgroup/tests/rootless.bats|^with a delegated cgroup, (the container's cgroup is made under it|forks past --pids 8 are refused)"
      "common/bats/doctor.bats|^doctor as (root|uid 65534): "
    )
    for entry in "${subset[@]}"; do
      [ -f "$top/${entry%%|*}" ] && files+=("$top/$entry")
    done
    ;;
  "")
    # As cmake/labs.cmake registers them: every lab's, then the common ones.
    for file in "$top"/labs/[0-9][0-9]-*/tests/*.bats "$top"/common/bats/*.bats; do
      [ -f "$file" ] && files+=("$file")
    done
    ;;
  *)
    for number in "$@"; do
      lab=""
      [[ $number =~ ^[0-9][0-9]$ ]] && lab=$(cd "$top/labs" && ls -d "$number"-* 2>/dev/null | head -1 || true)
      [ -n "$lab" ] || { echo "$usage" >&2; exit 2; }
      for file in "$top/labs/$lab"/tests/*.bats; do
        [ -f "$file" ] && files+=("$file")
      done
    done
    ;;
esac
[ ${#files[@]} -gt 0 ] || [ "$faults" = yes ] || die "no test file to run"
[ -d "$build/bin/solutions" ] ||
  die "no build at $build/bin: build first (cmake --preset default && cmake --build --preset default; NSLAB_BUILD_DIR names another)"
timeout=${NSLAB_VM_TIMEOUT:-$({ [ "$quick" = yes ] || [ "$faults" = yes ]; } && echo 900 || echo 14400)}

# --- what the VM needs ------------------------------------------------------------

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || cannot "no qemu-system-x86_64 (Debian: qemu-system-x86, Fedora: qemu-system-x86-core; scripts/setup.sh installs it)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
  cannot "no static busybox for the initramfs (Debian: busybox-static, Fedora: busybox)"
for tool in cpio depmod modprobe; do
  PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null ||
    cannot "no $tool (Debian: $([ "$tool" = cpio ] && echo cpio || echo kmod), Fedora: the same)"
done
export PATH=$PATH:/usr/sbin:/sbin

# The modules the guest loads (their dependencies come along): 9p over virtio
# for the host's root, overlay to write on it, veth and bridge for lab 05's tests.
modules=(virtio_pci 9pnet_virtio 9p overlay veth bridge)

# The kernel: the package linux-image-amd64 depends on now (Debian's point
# releases rename it), or, offline, the newest already unpacked.
package=$(apt-cache depends linux-image-amd64 2>/dev/null |
  sed -nE 's/^ *Depends: (linux-image-[0-9][0-9.]*-[0-9]+-amd64)$/\1/p' | head -1 || true)
if [ -z "$package" ]; then
  package=$(ls -d "$cache"/linux-image-*-amd64 2>/dev/null | sort -V | tail -1 || true)
  package=${package##*/}
  [ -n "$package" ] ||
    cannot "apt-cache does not know linux-image-amd64 (run apt-get update) and no kernel is unpacked in $cache"
fi
kernel_dir=$cache/$package
version=${package#linux-image-}
if [ ! -s "$kernel_dir/modules.list" ]; then
  mkdir -p "$cache"
  unpack=$(mktemp -d "$cache/.unpack.XXXXXX")
  trap 'rm -rf "$unpack"' EXIT
  echo "vm-test: downloading $package into $cache (once)"
  (cd "$unpack" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "$package" >/dev/null 2>"$unpack/apt.err") ||
    cannot "apt-get download $package failed: $(tail -n 1 "$unpack/apt.err")"
  dpkg -x "$unpack"/*.deb "$unpack/root"
  depmod -b "$unpack/root" "$version"
  # Only the kernel and the modules above, in the order modprobe would load them.
  mkdir -p "$unpack/keep/boot"
  cp "$unpack/root/boot/vmlinuz-$version" "$unpack/keep/boot/vmlinuz"
  for module in "${modules[@]}"; do
    modprobe -d "$unpack/root" -S "$version" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' > "$unpack/order"
  : > "$unpack/keep/modules.list"
  while IFS= read -r path; do
    relative=${path#"$unpack/root/"}
    mkdir -p "$unpack/keep/$(dirname "$relative")"
    cp "$path" "$unpack/keep/$relative"
    echo "$relative" >> "$unpack/keep/modules.list"
  done < "$unpack/order"
  cp "$unpack/root/lib/modules/$version"/modules.{order,builtin,builtin.modinfo} "$unpack/keep/lib/modules/$version/" 2>/dev/null || true
  depmod -b "$unpack/keep" "$version"
  rm -rf "$kernel_dir"
  mv "$unpack/keep" "$kernel_dir"
  rm -rf "$unpack"
  trap - EXIT
fi

# --- the initramfs: busybox, the modules, /init, and the guest's script ----------

work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-vm.XXXXXX")
qemu_pid="" tail_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill -KILL "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ -n "$tail_pid" ] && kill -0 "$tail_pid" 2>/dev/null; then kill "$tail_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work/initramfs"/{bin,dev,proc,sys,modules,newroot,host,rw}
cp "$busybox" "$work/initramfs/bin/busybox"
while IFS= read -r relative; do
  cp "$kernel_dir/$relative" "$work/initramfs/modules/"
  basename "$relative" >> "$work/initramfs/modules/list"
done < "$kernel_dir/modules.list"

bats_support=$(sed -n 's/^BATS_SUPPORT_DIR:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
bats_assert=$(sed -n 's/^BATS_ASSERT_DIR:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
{
  printf 'source_dir=%q\n' "$top"
  printf 'build_dir=%q\n' "$build"
  printf 'bats_support=%q\n' "${bats_support:-/usr/lib/bats/bats-support}"
  printf 'bats_assert=%q\n' "${bats_assert:-/usr/lib/bats/bats-assert}"
  printf 'ci=%q\n' "${CI:-}"
  printf 'files=(%s)\n' "$([ ${#files[@]} -eq 0 ] || printf '%q ' "${files[@]}")"
  printf 'faults=%q\n' "$faults"
  printf 'faults_args=(%s)\n' "$([ ${#faults_args[@]} -eq 0 ] || printf '%q ' "${faults_args[@]}")"
} > "$work/initramfs/job"

# /init, PID 1 of the initramfs: the host's root, read-only over 9p, under a
# tmpfs overlay becomes the root; switch_root (not chroot: a process in a
# chroot may not create a user namespace) hands over to the guest's script.
cat > "$work/initramfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() {
  echo "nslab-vm: cannot: $*"
  echo o > /proc/sysrq-trigger
  sleep 10
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "nslab-vm: booted"
dmesg -n 1
while read -r module; do
  insmod "/modules/$module" || fail "insmod $module"
done < /modules/list
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /host || fail "mount the host's root (9p)"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "mount a tmpfs"
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "mount an overlay on the host's root"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || fail "mount /run"
mkdir /newroot/run/nslab-vm
cp /guest /job /newroot/run/nslab-vm/
for dir in proc sys dev; do mount --move /$dir /newroot/$dir || fail "move /$dir"; done
exec switch_root /newroot /bin/bash /run/nslab-vm/guest
fail "switch_root"
INIT

# The guest's script, PID 1 in the host's root: the rest of what a Linux
# system with pure cgroup v2 has mounted (as systemd mounts it), then every
# file's Bats run. Each line it prints goes out on the console prefixed
# "nslab-vm| " (control lines: "nslab-vm: "), which the host reads.
cat > "$work/initramfs/guest" <<'GUEST'
set -u
source /run/nslab-vm/job
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/null
control() { echo "nslab-vm: $*"; }
finish() { sync; echo o > /proc/sysrq-trigger; sleep 30; }
trap finish EXIT
{
  mkdir -p /dev/pts /dev/shm /dev/mqueue
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
  ln -sf pts/ptmx /dev/ptmx
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
  mount -t mqueue mqueue /dev/mqueue
  ln -sf /proc/self/fd /dev/fd
  ln -sf /proc/self/fd/0 /dev/stdin
  ln -sf /proc/self/fd/1 /dev/stdout
  ln -sf /proc/self/fd/2 /dev/stderr
  mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /run/lock 2>/dev/null || true
  hostname nslab-vm
  ip link set lo up
  # Debian's own switch for unprivileged user namespaces, on by default; said so.
  [ ! -e /proc/sys/kernel/unprivileged_userns_clone ] || echo 1 > /proc/sys/kernel/unprivileged_userns_clone
} 2>&1 | sed -u 's/^/nslab-vm| setup: /'
control "kernel $(uname -r)"
control "cgroup $(stat -fc %T /sys/fs/cgroup): $(cat /sys/fs/cgroup/cgroup.controllers)"
control "subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
cd "$build_dir" || { control "cannot: cd $build_dir"; exit 1; }
if [ "$faults" = yes ]; then
  # One "test": scripts/faults.sh, its output as TAP comments.
  control "file scripts/faults.sh"
  start=$SECONDS
  env -i PATH="$PATH" HOME=/root LANG=C.UTF-8 TERM=dumb NSLAB_BUILD_DIR="$build_dir" \
    bash "$source_dir/scripts/faults.sh" "${faults_args[@]}" > /tmp/nslab-vm-faults.out 2>&1
  status=$?
  sed -u 's/^/nslab-vm| # /' /tmp/nslab-vm-faults.out
  if [ "$status" = 0 ]; then
    echo "nslab-vm| ok 1 scripts/faults.sh ${faults_args[*]}"
  else
    echo "nslab-vm| not ok 1 scripts/faults.sh ${faults_args[*]}: exit $status"
  fi
  control "status $status $((SECONDS - start))"
fi
for entry in "${files[@]}"; do
  file=${entry%%|*} filter=()
  [ "$file" = "$entry" ] || filter=(--filter "${entry#*|}")
  control "file ${file#"$source_dir"/}"
  start=$SECONDS
  env -i PATH="$PATH" HOME=/root LANG=C.UTF-8 TERM=dumb ${ci:+CI="$ci"} \
    NSLAB_BUILD_DIR="$build_dir" NSLAB_SOURCE_DIR="$source_dir" \
    BATS_SUPPORT_DIR="$bats_support" BATS_ASSERT_DIR="$bats_assert" \
    bats --tap "${filter[@]}" "$file" 2>&1 | sed -u 's/^/nslab-vm| /'
  control "status ${PIPESTATUS[0]} $((SECONDS - start))"
done
control done
GUEST

chmod 755 "$work/initramfs/init"
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio"

# --- boot, and read the console ---------------------------------------------------

passed=0 failed=0 skipped=0
finished=no booted=no
# boot ACCEL WAIT: runs the VM; gives up (status 3) if it has not booted in
# WAIT seconds, and stops it after $timeout seconds in all.
boot() {
  local accel=$1 wait=$2 console=$work/console.$1 start=$SECONDS line partial="" file="" in_file=0 file_tests=0 file_failed=0
  local -a machine=(-accel tcg -cpu max -smp 2)
  [ "$accel" = kvm ] && machine=(-accel kvm -smp 2)
  : > "$console"
  # Settings that only save time in a throw-away VM: pages not zeroed twice, no
  # CPU vulnerability mitigations. (The clock stays the kernel's choice: under
  # TCG the TSC drifts from the timers, and the CPU-share tests would see it.)
  local speed="init_on_alloc=0 mitigations=off"
  "$qemu" "${machine[@]}" -m 2048 -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$console" -monitor none -nic none \
    -kernel "$kernel_dir/boot/vmlinuz" -initrd "$work/initramfs.cpio" \
    -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 $speed" </dev/null >"$work/qemu.$accel.log" 2>&1 &
  qemu_pid=$!
  exec {console_fd}< <(tail -n +1 -F --pid="$qemu_pid" "$console" 2>/dev/null)
  tail_pid=$!
  while :; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      echo "vm-test: the VM did not finish within ${timeout}s (NSLAB_VM_TIMEOUT): stopped"
      kill -KILL "$qemu_pid" 2>/dev/null || true
      break
    fi
    # read -t keeps what it got of a line when it times out: kept in partial.
    if ! IFS= read -r -t 1 -u "$console_fd" line; then
      partial+=$line
      # No line for a second: the console ended (qemu is gone), or it is quiet.
      kill -0 "$qemu_pid" 2>/dev/null || break
      if [ "$booted" = no ] && [ $((SECONDS - start)) -ge "$wait" ]; then
        kill -KILL "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=""
        exec {console_fd}<&-
        return 3
      fi
      continue
    fi
    line=$partial$line partial=""
    line=${line%$'\r'}
    case $line in
      "$marker: booted")
        booted=yes
        echo "vm: booted in $((SECONDS - start))s ($accel)" ;;
      "$marker: file "*)
        file=${line#"$marker: file "} in_file=1 file_tests=0 file_failed=0
        echo "# $file" ;;
      "$marker: status "*)
        read -r _ _ file_status seconds <<< "$line"
        # A Bats run that failed with no failing test (a setup_file, a
        # teardown_file, the host guard): one failure for the file.
        if [ "$file_status" != 0 ] && [ "$file_failed" = 0 ]; then
          failed=$((failed + 1))
          echo "not ok - $file: bats exited $file_status"
        elif [ "$file_tests" = 0 ]; then
          failed=$((failed + 1))
          echo "not ok - $file: no test ran"
        fi
        echo "# $file: ${seconds}s"
        in_file=0 ;;
      "$marker: done")
        finished=yes ;;
      "$marker: cannot: "*)
        echo "vm: ${line#"$marker: "}" ;;
      "$marker: "*)
        echo "vm: ${line#"$marker: "}" ;;
      "$marker| "*)
        line=${line#"$marker| "}
        echo "$line"
        if [ "$in_file" = 1 ]; then
          case $line in
            "ok "*" # skip"*) skipped=$((skipped + 1)) file_tests=$((file_tests + 1)) ;;
            "ok "*) passed=$((passed + 1)) file_tests=$((file_tests + 1)) ;;
            "not ok "*) failed=$((failed + 1)) file_tests=$((file_tests + 1)) file_failed=1 ;;
          esac
        fi ;;
    esac
  done
  exec {console_fd}<&-
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=""
  cp "$console" "$cache/console.log"
  return 0
}

# KVM first where /dev/kvm is usable, briefly: on some machines (a VM itself)
# a KVM guest hangs at boot. Then software emulation.
accel=${NSLAB_VM_ACCEL:-auto}
case $accel in auto | kvm | tcg) ;; *) die "NSLAB_VM_ACCEL=$accel: say kvm or tcg (or leave it unset)" ;; esac
status=3
if [ "$accel" != tcg ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  wait=${NSLAB_VM_KVM_WAIT:-10}
  [ "$accel" = auto ] || wait=120
  status=0
  boot kvm "$wait" || status=$?
  [ "$status" != 3 ] || [ "$accel" = kvm ] || echo "vm: no boot under KVM within ${wait}s: software emulation (TCG) instead"
fi
if [ "$status" = 3 ] && [ "$accel" != kvm ]; then
  status=0
  boot tcg 120 || status=$?
fi
if [ "$booted" = no ]; then
  tail -n 20 "$work"/console.* "$work"/qemu.*.log 2>/dev/null | sed 's/^/  /' >&2
  cannot "the VM did not boot (console above)"
fi
if [ "$finished" = no ]; then
  failed=$((failed + 1))
  echo "vm-test: the VM stopped before the tests finished"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
