// Lab 01 — a container with its own hostname.
//
//   01-uts --hostname box -- hostname     prints "box"; the host keeps its name.
//
// The pipeline in common/ does what every lab does the same way (options, clone,
// the parent/child channel, signals, exit status); this lab adds one module.

#include "01-uts/uts.hpp"
#include "nslab/runtime.hpp"

//! [lab01-main]
int main(int argc, char* argv[]) {
  nslab::UtsNamespace uts;
  const nslab::Lab lab{
      "01-uts", "Run COMMAND in a new UTS namespace: a hostname of its own.",
      "Example:\n  01-uts --hostname box -- hostname     # prints box; the host keeps its name"};
  return nslab::run_container(lab, {&uts}, argc, argv);
}
//! [lab01-main]
