// Lab 02 — the IPC namespace.
//
// System V IPC objects (message queues, semaphore sets, shared memory segments)
// are named by numeric keys that any process can guess, and POSIX message queues
// by names in one flat space. Two containers that both use key 42 would meet by
// accident — or on purpose. A new IPC namespace starts empty, and its objects are
// destroyed with it when its last process ends (ipc_namespaces(7)).

#include "02-ipc/ipc.hpp"

#include <sched.h>

#include <fstream>
#include <string>

#include "nslab/error.hpp"  // nslab::Todo, for the starter

namespace nslab {
namespace {

// How many objects of one kind this IPC namespace holds: /proc/sysvipc/{msg,sem,shm}
// list them, one per line after a header (proc(5)).
int count_sysv_objects(const std::string& kind) {
  std::ifstream table("/proc/sysvipc/" + kind);
  std::string line;
  int lines = 0;
  while (std::getline(table, line)) ++lines;
  return lines > 0 ? lines - 1 : 0;
}

}  // namespace

//! [ipc-flag]
int IpcNamespace::clone_flags() const {
  // TODO(lab 02): implement the clone flag that gives the child a new IPC namespace.
  // Read docs/{en,zh}/lab02-ipc.md#lab02-flag, then replace the line below with your code.
  throw nslab::Todo("02", "the clone flag that gives the child a new IPC namespace", "docs/{en,zh}/lab02-ipc.md#lab02-flag");
}
//! [ipc-flag]

std::optional<Isolation> IpcNamespace::isolation() const {
  return Isolation{"ipc", "count this container's IPC objects", "docs/{en,zh}/lab02-ipc.md#lab02-flag"};
}

void IpcNamespace::setup_inside(Context& ctx) {
  if (!ctx.narrator.enabled()) return;
  ctx.narrator.say("this IPC namespace holds " + std::to_string(count_sysv_objects("msg")) +
                   " message queue(s), " + std::to_string(count_sysv_objects("sem")) +
                   " semaphore set(s), " + std::to_string(count_sysv_objects("shm")) +
                   " shared memory segment(s)");
}

}  // namespace nslab
