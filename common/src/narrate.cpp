#include "nslab/narrate.hpp"

#include <unistd.h>

#include <string>

#include "nslab/error.hpp"

namespace nslab {

void Narrator::say(std::string_view line) const {
  if (!verbose_) return;
  std::string text = "[" + program_ + " " + side_ + "] ";
  // A path or a name in the line may hold control bytes: never raw on a terminal.
  text.append(printable(line, 4000));
  text.push_back('\n');
  // One write(2) per line, so the parent's and the child's lines never mix.
  (void)::write(STDERR_FILENO, text.data(), text.size());
}

}  // namespace nslab
