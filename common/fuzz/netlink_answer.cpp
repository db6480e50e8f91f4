// Fuzzes lab 05's reader of the kernel's netlink answers (read_answer,
// for_each_attribute) against what it promises: never a read outside the
// datagram, each message it hands on whole and ours, an errno from 0 to 4095,
// a reason only with an error, and that reason fit for the one line of an error.
//
// The input is the datagram itself. The request it answers is number 99 of
// port 4242 (libFuzzer finds such constants in the comparisons).

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "05-net/netlink.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::fuzz;
  const std::string_view input = as_text(data, size);
  // A buffer of exactly the datagram's size, aligned as the socket's is
  // (new[] aligns to 16): AddressSanitizer sees a read one byte past it.
  const std::unique_ptr<char[]> buffer(new char[size + (size == 0 ? 1 : 0)]);
  char* datagram = buffer.get();
  if (size > 0) std::memcpy(datagram, data, size);
  const char* end = datagram + size;
  const nslab::Answer answer = nslab::read_answer(datagram, size, 99, 4242, [&](const nlmsghdr* message) {
    const auto* at = reinterpret_cast<const char*>(message);
    if (at < datagram || end - at < static_cast<std::ptrdiff_t>(sizeof(nlmsghdr)) ||
        message->nlmsg_len < sizeof(nlmsghdr) || message->nlmsg_len > static_cast<std::size_t>(end - at)) {
      fail("a message handed on lies whole inside the datagram", input);
    }
    expect(message->nlmsg_seq == 99 && (message->nlmsg_pid == 4242 || message->nlmsg_pid == 0),
           "a message handed on answers our request", input);
    expect(message->nlmsg_type >= NLMSG_MIN_TYPE, "no control message is handed on", input);
    (void)nslab::for_each_attribute(message, 8, [&](std::uint16_t, const void* value, std::size_t length) {
      const auto* byte = static_cast<const char*>(value);
      expect(byte >= at + NLMSG_HDRLEN && length <= static_cast<std::size_t>(at + message->nlmsg_len - byte),
             "an attribute's value lies inside its message", input);
      volatile char last = length > 0 ? byte[length - 1] : 0;  // read it: AddressSanitizer checks
      (void)last;
    });
  });
  expect(answer.error >= 0 && answer.error <= 4095, "an errno from 0 to 4095", input);
  expect(answer.reason.empty() || answer.error != 0, "a reason only with an error", input);
  expect(fits_one_line(answer.reason), "the kernel's reason fits one line", input);
  return 0;
}
