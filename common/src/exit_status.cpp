#include "nslab/exit_status.hpp"

#include <sys/wait.h>

#include <cerrno>

#include "nslab/signals.hpp"

namespace nslab {

int exit_code_from_wait_status(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return kExitSignalBase + WTERMSIG(wait_status);
  return kExitRuntimeFailed;  // stopped or continued: not an end
}

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status)) return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return "was killed by " + signal_name(WTERMSIG(wait_status));
  return "stopped (wait status " + std::to_string(wait_status) + ")";
}

int exit_code_for_exec_errno(int errnum) noexcept {
  switch (errnum) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
      return kExitNotFound;
    default:
      return kExitCannotExecute;  // EACCES, ENOEXEC, EPERM, ETXTBSY, ...
  }
}

}  // namespace nslab
