// Fuzzes the runtime's end of the parent/child channel (Channel::receive and
// try_receive in common/src/channel.cpp) with what a child could send that
// died half-way or was not nslab's: records of any size and content, in any
// number. The input is a list of records (the first 16 are sent), each a 2-byte little-endian header
// (bit 15: read it with try_receive; bits 0-11: its size) and that many bytes
// (fewer at the end of the input). Each record is sent, then read, while the
// child's end is still open; then the child's end is closed, which the
// runtime must see as end-of-file and as nothing else.
//
// The wire record, as channel.cpp defines it: int kind, int errnum, then
// char context[768] and char hint[256], each ended by a NUL within it.

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "nslab/channel.hpp"
#include "nslab/error.hpp"
#include "nslab/exit_status.hpp"

namespace {

constexpr std::size_t kContext = 768;
constexpr std::size_t kHint = 256;
constexpr std::size_t kRecord = 2 * sizeof(int) + kContext + kHint;

// The message a record is, by the protocol's rule, computed apart: nullopt
// when the runtime must refuse it as malformed.
std::optional<nslab::Message> expected_message(std::string_view record) {
  if (record.size() != kRecord) return std::nullopt;
  int kind = 0;
  int errnum = 0;
  std::memcpy(&kind, record.data(), sizeof kind);
  std::memcpy(&errnum, record.data() + sizeof kind, sizeof errnum);
  if (kind < static_cast<int>(nslab::MessageKind::ready) || kind > static_cast<int>(nslab::MessageKind::exec_failed)) {
    return std::nullopt;
  }
  const auto text = [&record](std::size_t offset, std::size_t size) {
    const std::string_view field = record.substr(offset, size - 1);  // the last byte is read as NUL
    return std::string(field.substr(0, field.find('\0')));
  };
  return nslab::Message{static_cast<nslab::MessageKind>(kind), errnum, text(2 * sizeof(int), kContext),
                        text(2 * sizeof(int) + kContext, kHint)};
}

// What the runtime does with a message of a child's failure: one line on stderr.
void expect_reported_on_one_line(const nslab::Message& m, std::string_view input) {
  using namespace nslab::fuzz;
  if (m.kind != nslab::MessageKind::failed && m.kind != nslab::MessageKind::exec_failed) return;
  const nslab::Error error(m.errnum, m.context, m.kind == nslab::MessageKind::failed ? m.hint : std::string());
  // As run_container's report() writes it: the message escaped and capped, then the page's pointer.
  const std::string line = nslab::printable(error.what(), 1000) + nslab::troubleshooting_pointer(m.errnum, m.context);
  if (!fits_one_line(line)) fail("a child's failure is reported on one line: " + nslab::quoted(line, 400), input);
  if (m.kind == nslab::MessageKind::exec_failed) {
    const int code = nslab::exit_code_for_exec_errno(m.errnum);
    expect(code == 126 || code == 127, "a failed execve is exit status 126 or 127", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view input = as_text(data, size);
  auto [parent, child] = nslab::Channel::create_pair();
  std::string_view rest = input;
  // A child sends a few records before it execs; sixteen is plenty, and keeps
  // an input of thousands of empty records from costing as many exceptions.
  for (int records = 0; rest.size() >= 2 && records < 16; ++records) {
    const unsigned header = static_cast<unsigned char>(rest[0]) | (static_cast<unsigned>(static_cast<unsigned char>(rest[1])) << 8U);
    rest.remove_prefix(2);
    const bool without_waiting = (header & 0x8000U) != 0;
    const std::string_view record = rest.substr(0, header & 0x0fffU);
    rest.remove_prefix(record.size());
    if (::send(child.fd(), record.data(), record.size(), MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(record.size())) {
      fail("send of a " + std::to_string(record.size()) + "-byte record: " + std::strerror(errno), input);
    }
    const auto expected = expected_message(record);
    std::optional<nslab::Message> got;
    try {
      got = without_waiting ? parent.try_receive() : std::optional<nslab::Message>(parent.receive());
    } catch (const nslab::Error& e) {
      expect_one_line(e, input);
      if (expected) fail(std::string("a well-formed record is taken, not refused: ") + e.what(), input);
      if (e.errnum() != EPROTO) fail(std::string("a malformed record is refused with EPROTO: ") + e.what(), input);
      if (std::string_view(e.what()).find(" of " + std::to_string(record.size()) + " bytes") == std::string_view::npos) {
        fail(std::string("the refusal says the record's size: ") + e.what(), input);
      }
      continue;
    } catch (const std::exception& e) {
      fail(std::string("refused with an exception that is not nslab::Error: ") + e.what(), input);
    }
    expect(got.has_value(), "a record queued is read, even by try_receive", input);
    expect(got->kind != nslab::MessageKind::end_of_file,
           "a record is never end-of-file while the child's end is open (it would forge exec success)", input);
    if (!expected) fail("a malformed record of " + std::to_string(record.size()) + " bytes is refused, not taken", input);
    expect(got->kind == expected->kind && got->errnum == expected->errnum && got->context == expected->context &&
               got->hint == expected->hint,
           "the message is the record's fields", input);
    expect(got->context.size() < kContext && got->hint.size() < kHint, "the texts fit their fields", input);
    expect_reported_on_one_line(*got, input);
  }
  expect(!parent.peer_gone(), "the child's end is still open", input);
  child.close();
  expect(parent.peer_gone(), "the child's end is closed", input);
  expect(!parent.try_receive().has_value(), "nothing is queued once the child's end is closed", input);
  expect(parent.receive().kind == nslab::MessageKind::end_of_file, "the child's end closed is end-of-file", input);
  return 0;
}
