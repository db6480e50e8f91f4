/// @file ipc.hpp
/// @brief Lab 02: the IPC namespace — System V IPC objects and POSIX message queues of its own.
#pragma once

#include "nslab/module.hpp"

namespace nslab {

/// @brief Gives the container its own IPC namespace: it sees none of the host's
/// message queues, semaphores or shared memory, and its own vanish with it.
class IpcNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "ipc"; }
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void setup_inside(Context& ctx) override;
};

}  // namespace nslab
