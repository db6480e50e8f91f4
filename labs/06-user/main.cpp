// Lab 06 — lab 05's container, plus a user namespace: it runs without root.
//
//   06-user -- id                                      uid=0(root) gid=0(root), as any user
//   06-user --hostname box -- sh -c 'id -u; hostname; cat /proc/self/uid_map'

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "05-net/net.hpp"
#include "06-user/user.hpp"
#include "nslab/runtime.hpp"

//! [lab06-main]
int main(int argc, char* argv[]) {
  nslab::UserNamespace user;  // new in lab 06, and first: it owns the others
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  nslab::MountNamespace mnt;
  nslab::NetNamespace net;
  const nslab::Lab lab{
      "06-user",
      "Run COMMAND in new user, UTS, IPC, PID, mount and network namespaces: root\n"
      "inside, the caller's own ids outside, so it needs no root.",
      "Examples:\n  06-user -- id                                   # root inside, as any user\n"
      "  06-user --hostname box -- sh -c 'id -u; hostname; cat /proc/self/uid_map'\n"
      "  06-user --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- id   # via newuidmap"};
  return nslab::run_container(lab, {&user, &uts, &ipc, &pid, &mnt, &net}, argc, argv);
}
//! [lab06-main]
