// A learner's half-done lab, on purpose: the reference modules, but one of
// them asks clone(2) for no namespace (its clone_flags() returns 0), as when a
// student writes sethostname() or the mounts and forgets the flag. The safety
// net (Isolation in module.hpp) must stop it before the host changes; the Bats
// tests in common/bats/safety_net.bats run it and look at the host.
//
// Built twice: FORGET_UTS (lab 01 without CLONE_NEWUTS) and FORGET_MNT (lab 04
// without CLONE_NEWNS).

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "nslab/runtime.hpp"

namespace {

template <typename Reference>
class Forgetful : public Reference {
 public:
  [[nodiscard]] int clone_flags() const override { return 0; }
};

}  // namespace

int main(int argc, char* argv[]) {
#if defined(FORGET_UTS)
  Forgetful<nslab::UtsNamespace> uts;
  const nslab::Lab lab{"01-uts", "lab 01 with CLONE_NEWUTS forgotten", ""};
  return nslab::run_container(lab, {&uts}, argc, argv);
#elif defined(FORGET_MNT)
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  Forgetful<nslab::MountNamespace> mnt;
  const nslab::Lab lab{"04-mount", "lab 04 with CLONE_NEWNS forgotten", ""};
  return nslab::run_container(lab, {&uts, &ipc, &pid, &mnt}, argc, argv);
#else
#error "define FORGET_UTS or FORGET_MNT"
#endif
}
