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
  std::string program;  ///< "02-ipc"
  std::string summary;  ///< one line for --help
  std::string epilog;   ///< examples for --help
};

/// @brief Runs one container with @p modules, in the order given.
///
/// The stages, in order (Module explains each module's part): command line,
/// plan, prepare, privilege, start (clone, the child's READY), outside, inside
/// (after GO), run, supervise (signals forwarded until COMMAND ends), teardown.
/// A joining module (lab 07) runs the same stages alone. Never throws: every
/// failure becomes one line on stderr, `PROGRAM: what failed: why`, and exit
/// status 125 (126/127 when COMMAND cannot be run); a forwarded signal that
/// arrives before COMMAND runs stops the container, exit status 128+N.
/// @return the exit status for main() to return.
int run_container(const Lab& lab, std::initializer_list<Module*> modules, int argc,
                  char* argv[]) noexcept;

/// @brief The privilege check of the plan stage: what is missing to create the
/// namespaces in @p clone_flags and @p unshare_flags ("" when nothing is).
///
/// Creating any namespace needs CAP_SYS_ADMIN — except a user namespace, and
/// every other namespace created together with one, which it then owns
/// (user_namespaces(7)).
std::string namespace_privilege_problem(int clone_flags, int unshare_flags, bool has_cap_sys_admin);

}  // namespace nslab
