// Lab 03 — lab 02's container, plus a PID namespace.
//
//   03-pid -- sh -c 'echo $$'            prints 1
//   03-pid --init -- sleep 100           PID 1 is an init; Ctrl-C ends sleep at once

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "nslab/runtime.hpp"

//! [lab03-main]
int main(int argc, char* argv[]) {
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;  // new in lab 03
  const nslab::Lab lab{
      "03-pid", "Run COMMAND in new UTS, IPC and PID namespaces: COMMAND is PID 1.",
      "Examples:\n  03-pid -- sh -c 'echo $$'     # prints 1\n"
      "  03-pid --init -- sleep 100    # PID 1 is an init; Ctrl-C ends sleep"};
  return nslab::run_container(lab, {&uts, &ipc, &pid}, argc, argv);
}
//! [lab03-main]
