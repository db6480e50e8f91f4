// Lab 04 — lab 03's container, plus a mount namespace and a root filesystem.
//
//   04-mount -- ps                              only the container's processes
//   04-mount --rootfs /tmp/rootfs -- /bin/sh    a shell in its own root filesystem

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "nslab/runtime.hpp"

//! [lab04-main]
int main(int argc, char* argv[]) {
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  nslab::MountNamespace mnt;  // new in lab 04
  const nslab::Lab lab{
      "04-mount",
      "Run COMMAND in new UTS, IPC, PID and mount namespaces, with its own /proc\n"
      "and, with --rootfs, its own root filesystem.",
     
      "Examples:\n  04-mount -- ps                          # only the container's processes\n"
      "  scripts/make-rootfs.sh /tmp/rootfs\n"
      "  04-mount --rootfs /tmp/rootfs -- /bin/sh -c 'ps; cat /proc/mounts'"};
  return nslab::run_container(lab, {&uts, &ipc, &pid, &mnt}, argc, argv);
}
//! [lab04-main]
