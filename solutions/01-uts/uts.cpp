// Lab 01 — the UTS namespace.
//
// UTS ("UNIX Time-sharing System") holds two strings: the hostname and the NIS
// domain name, the `nodename` and `domainname` fields of uname(2). A process in a
// new UTS namespace starts with a copy of them; changing its copy changes
// nobody else's (uts_namespaces(7)). That is all a container needs to have a
// name of its own.

#include "01-uts/uts.hpp"

#include <limits.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "nslab/error.hpp"

namespace nslab {
namespace {

std::string current_hostname() {
  utsname names{};
  check(::uname(&names), "uname");
  return names.nodename;
}

}  // namespace

void check_hostname(std::string_view name) {
  if (name.empty()) throw UsageError("--hostname: the name is empty");
  // sethostname(2) fails with EINVAL beyond HOST_NAME_MAX; say so before cloning.
  // (First: printable() below shortens a long name, which is no control byte.)
  if (name.size() > HOST_NAME_MAX) {
    throw UsageError("--hostname: the name is " + std::to_string(name.size()) +
                     " bytes; the kernel allows at most " + std::to_string(HOST_NAME_MAX) +
                     " (HOST_NAME_MAX)");
  }
  // The kernel takes any bytes, but a newline or an escape sequence in a
  // hostname would be printed raw by every program that shows it.
  if (printable(name, HOST_NAME_MAX) != name) {
    throw UsageError("--hostname: the name holds a control byte or is not UTF-8: " + quoted(name));
  }
}

void UtsNamespace::add_options(cli::Parser& parser) {
  parser.add_value("hostname", "NAME", "set the hostname inside the container",
                   [this](std::string_view value) {
                     if (hostname_) throw UsageError("--hostname given twice: a container has one name");
                     check_hostname(value);
                     hostname_ = std::string(value);
                   });
}

//! [uts-flag]
int UtsNamespace::clone_flags() const {
  // >>> lab 01: the clone flag that gives the child a new UTS namespace | docs/{en,zh}/lab01-uts.md#lab01-flag
  // clone(2): CLONE_NEWUTS creates the child in a new UTS namespace, a copy of
  // the parent's hostname and domain name.
  return CLONE_NEWUTS;
  // <<< lab 01
}
//! [uts-flag]

// The safety net: before setup_inside() runs, the pipeline checks that this
// process really is in a new UTS namespace, so that a forgotten flag cannot
// rename the host.
std::optional<Isolation> UtsNamespace::isolation() const {
  return Isolation{"uts", "set the hostname", "docs/{en,zh}/lab01-uts.md#lab01-flag"};
}

//! [uts-sethostname]
void UtsNamespace::setup_inside(Context& ctx) {
  if (!hostname_) return;  // keep the copy of the host's name
  const std::string& name = *hostname_;
  const std::string before = current_hostname();
  // >>> lab 01: sethostname() inside the new UTS namespace | docs/{en,zh}/lab01-uts.md#lab01-sethostname
  // We are the child, already in the new UTS namespace: this changes our copy
  // of the hostname only. (Without CLONE_NEWUTS it would rename the host!)
  check(::sethostname(name.c_str(), name.size()), "sethostname(" + quoted(name) + ")");
  // <<< lab 01
  ctx.narrator.say("sethostname(" + quoted(name) + "): the hostname was " + quoted(before) + ", is now " +
                   quoted(current_hostname()) + " in this UTS namespace");
}
//! [uts-sethostname]

}  // namespace nslab
