/// @file exit_status.hpp
/// @brief How a container's end becomes the runtime's exit status (as docker and podman do).
#pragma once

#include <string>

namespace nslab {

/// @brief nslab itself failed: bad option, missing privilege, a failed system call.
inline constexpr int kExitRuntimeFailed = 125;
/// @brief COMMAND was found but could not be executed (EACCES, ENOEXEC).
inline constexpr int kExitCannotExecute = 126;
/// @brief COMMAND was not found (ENOENT, ENOTDIR).
inline constexpr int kExitNotFound = 127;
/// @brief Added to a signal's number when COMMAND was killed by it (SIGTERM: 143).
inline constexpr int kExitSignalBase = 128;

/// @brief COMMAND's exit status from a waitpid(2) status: its own code, or 128+N
/// when signal N killed it.
int exit_code_from_wait_status(int wait_status) noexcept;

/// @brief The exit status for an execve(2) failure with @p errnum: 127 when
/// COMMAND does not exist, 126 when it exists but cannot be run.
int exit_code_for_exec_errno(int errnum) noexcept;

/// @brief How a process ended, from a waitpid(2) status, for a message:
/// "exited with status 3", "was killed by SIGSEGV".
std::string describe_wait_status(int wait_status);

}  // namespace nslab
