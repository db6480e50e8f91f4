// Lab 07 — lab 06's container, plus joining a running one.
//
//   07-setns --hostname box --pid-file /tmp/c -- sleep 100       in one terminal
//   07-setns --enter "$(cat /tmp/c)" -- sh -c 'hostname; ls /proc'   in another

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "05-net/net.hpp"
#include "06-user/user.hpp"
#include "07-setns/setns.hpp"
#include "nslab/runtime.hpp"

//! [lab07-main]
int main(int argc, char* argv[]) {
  nslab::UserNamespace user;
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  nslab::MountNamespace mnt;
  nslab::NetNamespace net;
  nslab::EnterContainer enter;  // new in lab 07: with --enter it runs alone, and creates nothing
  const nslab::Lab lab{
      "07-setns",
      "Run COMMAND in new user, UTS, IPC, PID, mount and network namespaces, or,\n"
      "with --enter PID, in the namespaces of the running container PID is in.",
      "Examples:\n  07-setns --hostname box --pid-file /tmp/c -- sleep 100\n"
      "  07-setns --enter \"$(cat /tmp/c)\" -- sh -c 'hostname; echo $$; ls /proc'\n"
      "  07-setns --enter \"$(cat /tmp/c)\"             # a shell in the container"};
  return nslab::run_container(lab, {&user, &uts, &ipc, &pid, &mnt, &net, &enter}, argc, argv);
}
//! [lab07-main]
