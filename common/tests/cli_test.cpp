// cli::Parser: the option parser every lab shares.

#include "nslab/cli.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "nslab/error.hpp"

namespace nslab {
namespace {

using Words = std::vector<std::string>;

// A parser like a lab's: a flag with a short name, one without, two value options.
class ParserTest : public ::testing::Test {
 protected:
  ParserTest() {
    parser.add_flag("verbose", 'v', "tell each step on stderr", verbose);
    parser.add_flag("init", 0, "run COMMAND under a small init", init);
    parser.add_value("hostname", "NAME", "set the hostname inside the container",
                     [this](std::string_view value) { hostnames.emplace_back(value); });
    parser.add_value("memory", "SIZE", "limit the container's memory", [](std::string_view value) {
      if (value != "64M") throw UsageError("--memory: \"" + std::string(value) + "\" is not a size");
    });
  }

  // The message of the UsageError that parsing args throws ("" when none).
  std::string usage_error(const Words& args) const {
    try {
      (void)parser.parse(args);
    } catch (const UsageError& e) {
      EXPECT_EQ(e.errnum(), 0) << "a usage error carries no errno";
      return e.what();
    }
    return "";
  }

  bool verbose = false;
  bool init = false;
  Words hostnames;
  cli::Parser parser{"01-uts", "Run COMMAND in a new UTS namespace."};
};

TEST_F(ParserTest, NoArgumentsRunsBinSh) {
  const cli::ParseResult result = parser.parse({});
  EXPECT_EQ(result.command, Words{"/bin/sh"});
  EXPECT_FALSE(result.help);
  EXPECT_FALSE(verbose);
  EXPECT_FALSE(init);
  EXPECT_TRUE(hostnames.empty());
}

TEST_F(ParserTest, LongFlagSetsItsTargetOnly) {
  const cli::ParseResult result = parser.parse({"--verbose"});
  EXPECT_TRUE(verbose);
  EXPECT_FALSE(init);
  EXPECT_EQ(result.command, Words{"/bin/sh"});
}

TEST_F(ParserTest, ShortFlagSetsItsTarget) {
  (void)parser.parse({"-v"});
  EXPECT_TRUE(verbose);
  EXPECT_FALSE(init);
}

TEST_F(ParserTest, FlagWithoutShortNameHasOnlyItsLongForm) {
  (void)parser.parse({"--init"});
  EXPECT_TRUE(init);
  EXPECT_EQ(usage_error({"-i"}), "unknown option -i (see --help)");
}

TEST_F(ParserTest, ValueAsTheNextWord) {
  const cli::ParseResult result = parser.parse({"--hostname", "box", "hostname"});
  EXPECT_EQ(hostnames, Words{"box"});
  EXPECT_EQ(result.command, Words{"hostname"});
}

TEST_F(ParserTest, ValueAfterAnEqualsSign) {
  const cli::ParseResult result = parser.parse({"--hostname=box"});
  EXPECT_EQ(hostnames, Words{"box"});
  EXPECT_EQ(result.command, Words{"/bin/sh"}) << "the value is not taken from the next word";
}

TEST_F(ParserTest, ValueAfterEqualsKeepsEverythingAfterTheFirstEquals) {
  (void)parser.parse({"--hostname=a=b", "--hostname="});
  EXPECT_EQ(hostnames, (Words{"a=b", ""})) << "an empty value reaches the handler, which may reject it";
}

TEST_F(ParserTest, ValueMayLookLikeAnOption) {
  (void)parser.parse({"--hostname", "-v"});
  EXPECT_EQ(hostnames, Words{"-v"});
  EXPECT_FALSE(verbose);
}

TEST_F(ParserTest, EachOccurrenceCallsTheHandler) {
  (void)parser.parse({"--hostname", "a", "--hostname=b"});
  EXPECT_EQ(hostnames, (Words{"a", "b"}));
}

TEST_F(ParserTest, MissingValueIsAUsageErrorNamingTheMetavar) {
  EXPECT_EQ(usage_error({"--hostname"}), "--hostname needs a value (NAME)");
  EXPECT_EQ(usage_error({"-v", "--memory"}), "--memory needs a value (SIZE)");
  EXPECT_TRUE(hostnames.empty());
}

TEST_F(ParserTest, UnknownOptionIsAUsageError) {
  EXPECT_EQ(usage_error({"--nope"}), "unknown option --nope (see --help)");
  EXPECT_EQ(usage_error({"--nope=1"}), "unknown option --nope (see --help)") << "named without its value";
  EXPECT_EQ(usage_error({"-x"}), "unknown option -x (see --help)");
  EXPECT_EQ(usage_error({"-vv"}), "unknown option -vv (see --help)") << "short flags do not cluster";
  EXPECT_EQ(usage_error({"--verb"}), "unknown option --verb (see --help)") << "no abbreviations";
}

TEST_F(ParserTest, ValueRejectedByItsHandlerIsTheHandlersUsageError) {
  EXPECT_EQ(usage_error({"--memory", "lots"}), "--memory: \"lots\" is not a size");
  EXPECT_EQ(usage_error({"--memory=lots"}), "--memory: \"lots\" is not a size");
  EXPECT_EQ(usage_error({"--memory", "64M"}), "") << "an accepted value parses";
}

TEST_F(ParserTest, FlagGivenAValueIsAUsageError) {
  EXPECT_EQ(usage_error({"--verbose=yes"}), "--verbose takes no value");
  EXPECT_FALSE(verbose);
}

TEST_F(ParserTest, HelpGivenAValueIsAUsageErrorNotAnUnknownOption) {
  EXPECT_EQ(usage_error({"--help=yes"}), "--help takes no value");
  EXPECT_EQ(usage_error({"--help="}), "--help takes no value");
  EXPECT_EQ(usage_error({"-h=1"}), "unknown option -h=1 (see --help)") << "as -v=1: short options take no '='";
}

TEST_F(ParserTest, HelpDoesNotHideABadOptionAfterIt) {
  EXPECT_EQ(usage_error({"--help", "--nope"}), "unknown option --nope (see --help)");
}

TEST_F(ParserTest, AnEqualsSignAfterTheDoubleDashIsShownWhole) {
  EXPECT_EQ(usage_error({"--=x"}), "unknown option --=x (see --help)") << "not a bare \"--\", which reads as the end of options";
  EXPECT_EQ(usage_error({"--="}), "unknown option --= (see --help)");
}

TEST_F(ParserTest, AnUnknownOptionIsShownInOneLineAndShortened) {
  EXPECT_EQ(usage_error({"--a\nb"}), "unknown option --a\\nb (see --help)");
  EXPECT_EQ(usage_error({"--x\x1b[31m\t\x01"}), "unknown option --x\\x1b[31m\\t\\x01 (see --help)");
  const std::string message = usage_error({"--" + std::string(131000, 'a')});
  EXPECT_NE(message.find("... (131002 bytes) (see --help)"), std::string::npos) << message;
  EXPECT_LT(message.size(), 100U);
}

TEST_F(ParserTest, DoubleDashEndsTheOptions) {
  const cli::ParseResult result = parser.parse({"-v", "--", "--init", "-h"});
  EXPECT_EQ(result.command, (Words{"--init", "-h"}));
  EXPECT_TRUE(verbose);
  EXPECT_FALSE(init);
  EXPECT_FALSE(result.help);
}

TEST_F(ParserTest, DoubleDashAloneStillRunsBinSh) {
  EXPECT_EQ(parser.parse({"--"}).command, Words{"/bin/sh"});
}

TEST_F(ParserTest, FirstNonOptionStartsCommandAndLaterOptionsAreItsOwn) {
  const cli::ParseResult result = parser.parse({"-v", "ls", "-l", "--init", "--hostname", "x", "--nope"});
  EXPECT_EQ(result.command, (Words{"ls", "-l", "--init", "--hostname", "x", "--nope"}));
  EXPECT_TRUE(verbose);
  EXPECT_FALSE(init);
  EXPECT_TRUE(hostnames.empty());
}

TEST_F(ParserTest, LoneDashIsACommandWord) {
  EXPECT_EQ(parser.parse({"-"}).command, Words{"-"});
}

TEST_F(ParserTest, HelpShortAndLong) {
  EXPECT_TRUE(parser.parse({"-h"}).help);
  EXPECT_TRUE(parser.parse({"--help"}).help);
  const cli::ParseResult after_command = parser.parse({"ls", "--help"});
  EXPECT_FALSE(after_command.help) << "--help after COMMAND is COMMAND's";
  EXPECT_EQ(after_command.command, (Words{"ls", "--help"}));
}

TEST_F(ParserTest, UsageListsEveryOptionInOrder) {
  parser.add_epilog("Examples:\n  01-uts --hostname box hostname");
  const std::string text = parser.usage();
  EXPECT_EQ(text.rfind("Usage: 01-uts [OPTIONS] [--] [COMMAND [ARG...]]\n", 0), 0U) << text;
  EXPECT_NE(text.find("Run COMMAND in a new UTS namespace."), std::string::npos);
  EXPECT_NE(text.find("COMMAND defaults to /bin/sh."), std::string::npos);
  // Each option: two spaces, its forms padded to 26 columns, then its help.
  const std::vector<std::string> lines = {
      "  -v, --verbose             tell each step on stderr\n",
      "      --init                run COMMAND under a small init\n",
      "      --hostname NAME       set the hostname inside the container\n",
      "      --memory SIZE         limit the container's memory\n",
      "  -h, --help                show this help and exit\n",
  };
  std::size_t previous = 0;
  for (const std::string& line : lines) {
    const std::size_t at = text.find(line);
    ASSERT_NE(at, std::string::npos) << "missing line \"" << line << "\" in:\n" << text;
    EXPECT_GT(at, previous) << "options are listed in the order they were added";
    previous = at;
  }
  const std::size_t epilog = text.find("\nExamples:\n  01-uts --hostname box hostname\n");
  EXPECT_NE(epilog, std::string::npos) << text;
  EXPECT_GT(epilog, previous) << "the epilog comes after the options";
}

TEST_F(ParserTest, UsageWrapsAnOptionTooLongForItsColumn) {
  parser.add_value("a-rather-long-option", "VALUE", "its help", [](std::string_view) {});
  const std::string text = parser.usage();
  EXPECT_NE(text.find("      --a-rather-long-option VALUE\n" + std::string(28, ' ') + "its help\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace nslab
