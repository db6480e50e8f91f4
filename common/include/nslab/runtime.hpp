/// @file runtime.hpp
/// @brief The pipeline: one container, from the command line to COMMAND's exit status.
#pragma once

#include <initializer_list>
#include <string>

#include "nslab/module.hpp"

/// @brief What the labs share: errors, fds, processes, the parent/child channel,
/// namespace identities, options, signals, narration — and the module pipeline.
namespace nslab {

/// @brief What a lab says about itself.
struct Lab {
  std::string program;   ///< "02-ipc"
  std::string summary;   ///< one line for --help
  bool needs_root;       ///< labs 01-05: creating namespaces needs CAP_SYS_ADMIN
  std::string epilog;    ///< examples for --help
};

/// @brief Runs one container with @p modules, in the order given.
///
/// Parses the command line, checks privilege, runs every module's steps (see
/// Module) around one clone(2), waits for COMMAND while forwarding signals to
/// it, and cleans up. Never throws: every failure becomes one line on stderr,
/// `PROGRAM: what failed: why`, and exit status 125 (126/127 for COMMAND).
/// @return the exit status for main() to return.
int run_container(const Lab& lab, std::initializer_list<Module*> modules, int argc,
                  char* argv[]) noexcept;

}  // namespace nslab
