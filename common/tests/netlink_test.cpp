// Lab 05's netlink messages, byte by byte: a request laid out as the kernel
// reads it (lengths, padding, nests), and an answer believed only when it is
// whole and ours. No socket: Request and read_answer() work on memory.

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "05-net/netlink.hpp"
#include "nslab/error.hpp"

namespace nslab {
namespace {

const char* bytes(const Request& request) { return reinterpret_cast<const char*>(request.header()); }

std::uint16_t u16_at(const Request& request, std::size_t offset) {
  std::uint16_t value = 0;
  std::memcpy(&value, bytes(request) + offset, sizeof value);
  return value;
}

// ---- Request ----------------------------------------------------------------

TEST(NetlinkRequest, StartsWithAHeaderThatAsksForAnAck) {
  const Request request(RTM_NEWLINK, NLM_F_CREATE, 7);
  EXPECT_EQ(request.header()->nlmsg_len, 16U);
  EXPECT_EQ(request.header()->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(request.header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
  EXPECT_EQ(request.header()->nlmsg_seq, 7U);
  EXPECT_EQ(request.header()->nlmsg_pid, 0U);
}

TEST(NetlinkRequest, LinkUpIsThirtyTwoBytes) {
  Request request(RTM_NEWLINK, 0, 1);
  auto* link = request.add_header<ifinfomsg>();
  EXPECT_EQ(reinterpret_cast<const char*>(link) - bytes(request), 16) << "right after the nlmsghdr";
  EXPECT_EQ(link->ifi_index, 0) << "zeroed";
  link->ifi_index = 1;
  EXPECT_EQ(request.header()->nlmsg_len, 32U);
}

TEST(NetlinkRequest, PadsAStringWithItsZeroToFourBytes) {
  Request request(RTM_NEWLINK, 0, 1);
  request.add_header<ifinfomsg>();
  request.add_string(IFLA_IFNAME, "eth0");
  EXPECT_EQ(u16_at(request, 32), 4 + 5) << "nla_len: header and value with its zero, without the padding";
  EXPECT_EQ(u16_at(request, 34), IFLA_IFNAME);
  EXPECT_STREQ(bytes(request) + 36, "eth0");
  EXPECT_EQ(request.header()->nlmsg_len, 32U + 12U) << "the padding counts in the message";
  for (std::size_t i = 36 + 4; i < 44; ++i) EXPECT_EQ(bytes(request)[i], 0) << "padding byte " << i;
}

TEST(NetlinkRequest, AddsANumberInHostOrder) {
  Request request(RTM_NEWROUTE, 0, 1);
  request.add_header<rtmsg>();
  request.add_u32(RTA_OIF, 0x01020304U);
  std::uint32_t value = 0;
  std::memcpy(&value, bytes(request) + 16 + sizeof(rtmsg) + 4, sizeof value);
  EXPECT_EQ(value, 0x01020304U);
  EXPECT_EQ(u16_at(request, 16 + sizeof(rtmsg)), 8);
}

// The drawing of docs/en/lab05-net.md, "Creating the veth pair": 108 bytes.
TEST(NetlinkRequest, LaysOutTheVethRequestAsTheTutorialDrawsIt) {
  Request request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 1);
  request.add_header<ifinfomsg>();
  request.add_string(IFLA_IFNAME, "nslab-4242");
  nlattr* info = request.begin_nest(IFLA_LINKINFO);
  request.add_string(IFLA_INFO_KIND, "veth");
  nlattr* data = request.begin_nest(IFLA_INFO_DATA);
  nlattr* peer = request.begin_nest(VETH_INFO_PEER);
  auto* peer_link = request.add_header<ifinfomsg>();
  request.add_string(IFLA_IFNAME, "eth0");
  request.add_u32(IFLA_NET_NS_PID, 4242);
  request.end_nest(peer);
  request.end_nest(data);
  request.end_nest(info);
  EXPECT_EQ(request.header()->nlmsg_len, 108U);
  EXPECT_EQ(reinterpret_cast<const char*>(info) - bytes(request), 48);
  EXPECT_EQ(info->nla_len, 60);
  EXPECT_EQ(info->nla_type & NLA_TYPE_MASK, IFLA_LINKINFO);
  EXPECT_NE(info->nla_type & NLA_F_NESTED, 0) << "a nest says so";
  EXPECT_EQ(reinterpret_cast<const char*>(data) - bytes(request), 64);
  EXPECT_EQ(data->nla_len, 44);
  EXPECT_EQ(reinterpret_cast<const char*>(peer) - bytes(request), 68);
  EXPECT_EQ(peer->nla_len, 40);
  EXPECT_EQ(reinterpret_cast<const char*>(peer_link) - bytes(request), 72) << "the peer's ifinfomsg inside its nest";
}

TEST(NetlinkRequest, RefusesToOutgrowItsBuffer) {
  Request request(RTM_NEWLINK, 0, 1);
  const std::string big(Request::kCapacity, 'x');
  try {
    request.add_string(IFLA_IFNAME, big);
    FAIL() << "a string larger than the buffer was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EMSGSIZE);
  }
  EXPECT_EQ(request.header()->nlmsg_len, 16U) << "nothing written";
  const std::string fits(Request::kCapacity - 16 - 4 - 1, 'x');
  EXPECT_NO_THROW(request.add_string(IFLA_IFNAME, fits)) << "the last byte is usable";
  EXPECT_EQ(request.header()->nlmsg_len, Request::kCapacity);
  EXPECT_THROW(request.add_u32(IFLA_MTU, 1), Error);
}

// ---- read_answer --------------------------------------------------------------

constexpr std::uint32_t kSequence = 99;
constexpr std::uint32_t kPort = 4242;

// A datagram the way the kernel builds one: messages, each padded to 4 bytes.
class Datagram {
 public:
  nlmsghdr* add(std::uint16_t type, std::size_t payload, std::uint32_t sequence = kSequence,
                std::uint32_t port = kPort) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + NLMSG_SPACE(payload));
    auto* message = reinterpret_cast<nlmsghdr*>(bytes_.data() + at);
    message->nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(payload));
    message->nlmsg_type = type;
    message->nlmsg_seq = sequence;
    message->nlmsg_pid = port;
    return message;
  }
  void add_error(int error) {
    nlmsghdr* message = add(NLMSG_ERROR, sizeof(nlmsgerr));
    static_cast<nlmsgerr*>(NLMSG_DATA(message))->error = error;
  }
  Answer read(const std::function<void(const nlmsghdr*)>& on_message = {}) const {
    return read_answer(bytes_.data(), bytes_.size(), kSequence, kPort, on_message);
  }
  std::vector<char>& bytes() { return bytes_; }

 private:
  std::vector<char> bytes_;
};

TEST(NetlinkAnswer, AnAckCompletesTheRequest) {
  Datagram answer;
  answer.add_error(0);
  const Answer read = answer.read();
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.error, 0);
}

TEST(NetlinkAnswer, AnErrorCarriesTheKernelsErrno) {
  Datagram answer;
  answer.add_error(-EEXIST);
  const Answer read = answer.read();
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.error, EEXIST);
  EXPECT_EQ(read.reason, "");
}

TEST(NetlinkAnswer, ReadsTheKernelsReasonFromAnExtendedAck) {
  Datagram answer;
  const char text[] = "Unknown device type";
  const std::size_t payload = sizeof(nlmsgerr) + NLA_HDRLEN + NLA_ALIGN(sizeof text);
  nlmsghdr* message = answer.add(NLMSG_ERROR, payload);
  message->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
  auto* error = static_cast<nlmsgerr*>(NLMSG_DATA(message));
  error->error = -EOPNOTSUPP;
  error->msg.nlmsg_len = 60;  // capped: only the header of our request is echoed
  auto* attribute = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(error) + sizeof(nlmsgerr));
  attribute->nla_type = NLMSGERR_ATTR_MSG;
  attribute->nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + sizeof text);
  std::memcpy(reinterpret_cast<char*>(attribute) + NLA_HDRLEN, text, sizeof text);
  const Answer read = answer.read();
  EXPECT_EQ(read.error, EOPNOTSUPP);
  EXPECT_EQ(read.reason, text);
  // The same text without its zero is not taken for the kernel's.
  attribute->nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + sizeof text - 1);
  std::memset(reinterpret_cast<char*>(attribute) + NLA_HDRLEN + sizeof text - 1, 'x', 1);
  EXPECT_EQ(answer.read().reason, "");
}

TEST(NetlinkAnswer, HandsADumpsMessagesOnUntilDone) {
  Datagram answer;
  answer.add(RTM_NEWADDR, sizeof(ifaddrmsg));
  answer.add(RTM_NEWADDR, sizeof(ifaddrmsg) + 8);
  int seen = 0;
  Answer read = answer.read([&seen](const nlmsghdr* message) {
    EXPECT_EQ(message->nlmsg_type, RTM_NEWADDR);
    ++seen;
  });
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(read.complete) << "no NLMSG_DONE yet: more datagrams follow";
  answer.add(NLMSG_DONE, sizeof(int));
  seen = 0;
  read = answer.read([&seen](const nlmsghdr*) { ++seen; });
  EXPECT_EQ(seen, 2);
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.error, 0);
}

TEST(NetlinkAnswer, HandsOnNoReservedControlMessage) {
  Datagram answer;
  answer.add(NLMSG_MIN_TYPE - 1, 4);  // netlink's own range, not a dump's data
  answer.add(RTM_NEWADDR, sizeof(ifaddrmsg));
  std::vector<std::uint16_t> types;
  answer.read([&types](const nlmsghdr* message) { types.push_back(message->nlmsg_type); });
  EXPECT_EQ(types, (std::vector<std::uint16_t>{RTM_NEWADDR}));
}

TEST(NetlinkAnswer, AnInterruptedDumpSaysEintr) {
  Datagram answer;
  answer.add(NLMSG_DONE, sizeof(int))->nlmsg_flags = NLM_F_MULTI | NLM_F_DUMP_INTR;
  EXPECT_EQ(answer.read().error, EINTR) << "the kernel saw the data change: ask again";
}

TEST(NetlinkAnswer, RefusesAnAnswerThatIsNotOurs) {
  Datagram other_port;
  other_port.add(NLMSG_ERROR, sizeof(nlmsgerr), kSequence, kPort + 1);
  EXPECT_EQ(other_port.read().error, ESRCH);
  Datagram other_request;
  other_request.add(NLMSG_ERROR, sizeof(nlmsgerr), kSequence - 1);
  EXPECT_EQ(other_request.read().error, EPROTO) << "a stale answer, to an earlier request";
}

TEST(NetlinkAnswer, RefusesLengthsThatLie) {
  Datagram too_long;
  too_long.add_error(0);
  too_long.bytes().resize(too_long.bytes().size() - 4);  // cut, but nlmsg_len still says 36
  EXPECT_EQ(too_long.read().error, EBADMSG);
  Datagram too_short;
  too_short.add(NLMSG_ERROR, sizeof(nlmsgerr))->nlmsg_len = 8;
  EXPECT_EQ(too_short.read().error, EBADMSG);
  Datagram no_room_for_the_error;
  no_room_for_the_error.add(NLMSG_ERROR, 2);
  EXPECT_EQ(no_room_for_the_error.read().error, EBADMSG);
  Datagram bad_errno;
  bad_errno.add_error(-100000);
  EXPECT_EQ(bad_errno.read().error, EBADMSG) << "an errno is 1 to 4095";
  Datagram piece;
  piece.add(RTM_NEWADDR, sizeof(ifaddrmsg));
  piece.bytes().resize(piece.bytes().size() + 8);  // half a header after it
  EXPECT_EQ(piece.read().error, EBADMSG);
}

// ---- for_each_attribute ---------------------------------------------------------

TEST(NetlinkAttributes, WalksEachAttributeAfterTheFamilyHeader) {
  Request request(RTM_NEWADDR, 0, 1);
  request.add_header<ifaddrmsg>();
  const std::uint32_t address = 0x0100000a;
  request.add_attribute(IFA_LOCAL, &address, sizeof address);
  request.add_string(IFA_LABEL, "eth0");
  std::vector<std::uint16_t> types;
  std::uint32_t local = 0;
  const bool whole = for_each_attribute(request.header(), sizeof(ifaddrmsg),
                                        [&](std::uint16_t type, const void* value, std::size_t length) {
                                          types.push_back(type);
                                          if (type == IFA_LOCAL && length == sizeof local) std::memcpy(&local, value, length);
                                        });
  EXPECT_TRUE(whole);
  EXPECT_EQ(types, (std::vector<std::uint16_t>{IFA_LOCAL, IFA_LABEL}));
  EXPECT_EQ(local, address);
  ASSERT_NE(family_header<ifaddrmsg>(request.header()), nullptr);
}

TEST(NetlinkAttributes, StopsAtAnAttributeThatRunsPastTheMessage) {
  Request request(RTM_NEWADDR, 0, 1);
  request.add_header<ifaddrmsg>();
  request.add_u32(IFA_FLAGS, 1);
  request.add_u32(IFA_RT_PRIORITY, 2);
  auto* second = reinterpret_cast<nlattr*>(const_cast<char*>(bytes(request)) + 16 + sizeof(ifaddrmsg) + 8);
  second->nla_len = 200;
  int seen = 0;
  EXPECT_FALSE(for_each_attribute(request.header(), sizeof(ifaddrmsg),
                                  [&seen](std::uint16_t, const void*, std::size_t) { ++seen; }));
  EXPECT_EQ(seen, 1) << "the first, whole, is read; the second is not";
  second->nla_len = 2;
  EXPECT_FALSE(for_each_attribute(request.header(), sizeof(ifaddrmsg), [](std::uint16_t, const void*, std::size_t) {}));
  EXPECT_FALSE(for_each_attribute(request.header(), 4096, [](std::uint16_t, const void*, std::size_t) {}))
      << "a family header longer than the message";
  EXPECT_EQ(family_header<rtmsg>(Request(RTM_NEWROUTE, 0, 1).header()), nullptr) << "no room for the family header";
}

}  // namespace
}  // namespace nslab
