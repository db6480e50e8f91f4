#include "nslab/cli.hpp"

#include <algorithm>
#include <sstream>

#include "nslab/error.hpp"

namespace nslab::cli {

Parser::Parser(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void Parser::add_flag(std::string long_name, char short_name, std::string help, bool& target) {
  options_.push_back({std::move(long_name), short_name, {}, std::move(help), &target, {}});
}

void Parser::add_value(std::string long_name, std::string metavar, std::string help,
                       ValueHandler handler) {
  options_.push_back({std::move(long_name), 0, std::move(metavar), std::move(help), nullptr,
                      std::move(handler)});
}

void Parser::add_epilog(std::string text) { epilog_.push_back(std::move(text)); }

const Parser::Option* Parser::find(std::string_view word) const {
  for (const Option& option : options_) {
    if (word.size() == 2 && word[0] == '-' && option.short_name != 0 && word[1] == option.short_name) {
      return &option;
    }
    if (word.substr(0, 2) == "--" && word.substr(2) == option.long_name) return &option;
  }
  return nullptr;
}

ParseResult Parser::parse(const std::vector<std::string>& args) const {
  ParseResult result;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word.size() < 2 || word[0] != '-') break;  // COMMAND starts here
    std::string_view name = word;
    std::string_view inline_value;
    bool has_inline_value = false;
    if (const auto eq = name.find('='); name.substr(0, 2) == "--" && eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline_value = true;
    }
    if (name == "-h" || name == "--help") {
      if (has_inline_value) throw UsageError("--help takes no value");
      result.help = true;
      continue;
    }
    const Option* option = find(name);
    // "--=x" names no option at all: shown whole, not as a bare "--".
    if (option == nullptr) {
      throw UsageError("unknown option " + printable(name == "--" ? std::string_view(word) : name, 40) +
                       " (see --help)");
    }
    result.given.push_back(option->long_name);
    if (option->flag != nullptr) {
      if (has_inline_value) throw UsageError(std::string(name) + " takes no value");
      *option->flag = true;
      continue;
    }
    std::string_view value = inline_value;
    if (!has_inline_value) {
      if (i + 1 >= args.size()) {
        throw UsageError(std::string(name) + " needs a value (" + option->metavar + ")");
      }
      value = args[++i];
    }
    option->handler(value);
  }
  result.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (result.command.empty()) result.command.emplace_back("/bin/sh");
  return result;
}

std::vector<std::string> Parser::option_names() const {
  std::vector<std::string> names;
  names.reserve(options_.size());
  for (const Option& option : options_) names.push_back(option.long_name);
  return names;
}

std::string Parser::usage() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [OPTIONS] [--] [COMMAND [ARG...]]\n\n"
      << summary_ << "\nCOMMAND defaults to /bin/sh.\n\nOptions:\n";
  auto line = [&out](const std::string& left, const std::string& help) {
    out << "  " << left;
    if (left.size() < 26) out << std::string(26 - left.size(), ' ');
    else out << "\n" << std::string(28, ' ');
    out << help << '\n';
  };
  for (const Option& option : options_) {
    std::string left = option.short_name != 0 ? std::string("-") + option.short_name + ", " : "    ";
    left += "--" + option.long_name;
    if (!option.metavar.empty()) left += " " + option.metavar;
    line(left, option.help);
  }
  line("-h, --help", "show this help and exit");
  for (const std::string& text : epilog_) out << '\n' << text << '\n';
  return out.str();
}

}  // namespace nslab::cli
