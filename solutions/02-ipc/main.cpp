// Lab 02 — lab 01's container, plus an IPC namespace.
//
//   02-ipc -- ipcs       lists none of the host's queues, semaphores or segments.

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "nslab/runtime.hpp"

//! [lab02-main]
int main(int argc, char* argv[]) {
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;  // new in lab 02
  const nslab::Lab lab{
      "02-ipc", "Run COMMAND in new UTS and IPC namespaces.",
      "Example:\n  ipcmk -Q; 02-ipc -- ipcs -q     # the host's queue is not there"};
  return nslab::run_container(lab, {&uts, &ipc}, argc, argv);
}
//! [lab02-main]
