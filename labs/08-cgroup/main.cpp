// Lab 08 — lab 07's container, plus a cgroup: limits on memory, processes and
// CPU time, and a cgroup namespace.
//
//   08-cgroup --memory 48M -- python3 -c 'bytearray(300 << 20)'      killed: exit 137
//   08-cgroup --pids 8 -- sh -c 'for i in $(seq 30); do sleep 1 & done; wait'
//   08-cgroup --cpus 0.5 -- sh -c 'while :; do :; done'               half a CPU

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "05-net/net.hpp"
#include "06-user/user.hpp"
#include "07-setns/setns.hpp"
#include "08-cgroup/cgroup.hpp"
#include "nslab/runtime.hpp"

//! [lab08-main]
int main(int argc, char* argv[]) {
  nslab::UserNamespace user;
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  nslab::MountNamespace mnt;
  nslab::NetNamespace net;
  nslab::CgroupNamespace cgroup(mnt);       // new in lab 08: the cgroup, and its namespace after GO
  nslab::EnterContainerWithCgroup enter;    // lab 07's --enter, which joins the cgroup too
  const nslab::Lab lab{
      "08-cgroup",
      "Run COMMAND in new user, UTS, IPC, PID, mount, network and cgroup namespaces,\n"
      "in a cgroup of its own that --memory, --pids and --cpus limit; or, with\n"
      "--enter PID, join the running container PID is in, its cgroup too.",
      "Examples:\n  08-cgroup --memory 48M -- python3 -c 'bytearray(300 << 20)'   # killed: exit 137\n"
      "  08-cgroup --pids 8 -- sh -c 'for i in $(seq 30); do sleep 1 & done; wait'\n"
      "  08-cgroup --cpus 0.5 --pid-file /tmp/c -- sh -c 'while :; do :; done'\n"
      "  08-cgroup --enter \"$(cat /tmp/c)\" -- cat /proc/self/cgroup"};
  return nslab::run_container(lab, {&user, &uts, &ipc, &pid, &mnt, &net, &cgroup, &enter}, argc, argv);
}
//! [lab08-main]
