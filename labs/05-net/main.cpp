// Lab 05 — lab 04's container, plus a network namespace.
//
//   05-net -- ip -o link                                   only lo, and it is UP
//   05-net --veth 10.200.1.1/24,10.200.1.2/24 -- ping -c1 10.200.1.1

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "05-net/net.hpp"
#include "nslab/runtime.hpp"

//! [lab05-main]
int main(int argc, char* argv[]) {
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  nslab::MountNamespace mnt;
  nslab::NetNamespace net;  // new in lab 05
  const nslab::Lab lab{
      "05-net",
      "Run COMMAND in new UTS, IPC, PID, mount and network namespaces: its own /proc,\n"
      "a network of its own with lo up and, with --veth, a link to the host.",
      "Examples:\n  05-net -- ip -o link                            # lo only, UP\n"
      "  05-net --veth 10.200.1.1/24,10.200.1.2/24 -- ping -c 1 10.200.1.1"};
  return nslab::run_container(lab, {&uts, &ipc, &pid, &mnt, &net}, argc, argv);
}
//! [lab05-main]
