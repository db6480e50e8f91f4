// Fuzzes the command line of lab 08, the lab with every option: the parser of
// common/src/cli.cpp with the options every module adds, as the runtime builds
// it (run_container's stage "command line"). The input is the words of argv
// after the program's name, each ended by a NUL byte.

#include <algorithm>
#include <initializer_list>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "01-uts/uts.hpp"
#include "02-ipc/ipc.hpp"
#include "03-pid/pid.hpp"
#include "04-mount/mount.hpp"
#include "05-net/net.hpp"
#include "06-user/user.hpp"
#include "07-setns/setns.hpp"
#include "08-cgroup/cgroup.hpp"
#include "fuzz_support.hpp"
#include "nslab/cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view input = as_text(data, size);
  std::vector<std::string> args;
  for (std::string_view rest = input; !rest.empty() && args.size() < 64;) {
    const auto nul = rest.find('\0');
    args.emplace_back(rest.substr(0, nul));  // argv's words end at a NUL: none holds one
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }

  // The modules of lab 08's main(), in its order, each adding its options.
  nslab::UserNamespace user;
  nslab::UtsNamespace uts;
  nslab::IpcNamespace ipc;
  nslab::PidNamespace pid;
  nslab::MountNamespace mnt;
  nslab::NetNamespace net;
  nslab::CgroupNamespace cgroup(mnt);
  nslab::EnterContainerWithCgroup enter;
  bool verbose = false;
  nslab::cli::Parser parser("08-cgroup", "Run COMMAND in new namespaces.");
  parser.add_flag("verbose", 'v', "tell each step on stderr (for a classroom)", verbose);
  for (nslab::Module* module : std::initializer_list<nslab::Module*>{&user, &uts, &ipc, &pid, &mnt, &net, &cgroup, &enter}) {
    module->add_options(parser);
  }
  const std::vector<std::string> names = parser.option_names();

  const auto parsed = value_or_refusal([&parser, &args] { return parser.parse(args); }, input);
  if (!parsed) return 0;
  // The split the parser documents, walked again apart: options first, each
  // with its value (in the next word, or after "=" for a long name); COMMAND
  // from "--" or the first word that is not an option; /bin/sh when none.
  bool help = false;
  std::size_t options_given = 0;
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& word = args[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word.size() < 2 || word[0] != '-') break;
    ++i;
    if (word == "-h" || word == "--help") {
      help = true;
      continue;
    }
    ++options_given;
    const bool inline_value = word.rfind("--", 0) == 0 && word.find('=') != std::string::npos;
    const bool flag = word == "-v" || word == "--verbose" || word == "--init";  // lab 08's flags; the rest take a value
    if (!flag && !inline_value) ++i;
  }
  std::vector<std::string> command(args.begin() + static_cast<std::ptrdiff_t>(std::min(i, args.size())), args.end());
  if (command.empty()) command.emplace_back("/bin/sh");
  expect(parsed->command == command, "COMMAND is the words after the options (and \"--\"), unchanged, or /bin/sh",
         input);
  expect(parsed->help == help, "--help is seen when given, and only then", input);
  expect(parsed->given.size() == options_given, "every option given is counted once", input);
  for (const std::string& given : parsed->given) {
    expect(std::find(names.begin(), names.end(), given) != names.end(), "every option given is one of lab 08's", input);
  }
  if (parsed->help) expect(fits_one_line(parser.usage().substr(0, parser.usage().find('\n'))), "--help starts with a usage line", input);
  return 0;
}
