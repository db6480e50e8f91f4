// Lab 05 — the network namespace.
//
// A new network namespace has its own network stack: links, addresses, routes,
// ports, firewall rules, and its own /proc/net and /sys/class/net views
// (network_namespaces(7)). It starts with a single link, `lo`, and even that
// one is down. The child brings it up from inside. With --veth the runtime
// links the container to the host: a veth pair (veth(4)) is a cable with two
// ends; the parent creates it with one end on the host and the other already
// inside the child's namespace, as eth0. Both sides then give their end an
// address — each from its own namespace, over its own rtnetlink socket.

#include "05-net/net.hpp"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sched.h>

#include <array>
#include <charconv>
#include <cstring>
#include <vector>

#include "05-net/netlink.hpp"
#include "nslab/error.hpp"
#include "nslab/fd.hpp"
#include "nslab/namespaces.hpp"
#include "nslab/process.hpp"

namespace nslab {
namespace {

constexpr const char* kContainerEnd = "eth0";

std::string veth_usage() { return "expected HOST_CIDR,CONTAINER_CIDR, e.g. 10.200.1.1/24,10.200.1.2/24"; }

std::string address_text(std::uint32_t host_order) {
  const in_addr address{htonl(host_order)};
  std::array<char, INET_ADDRSTRLEN> text{};
  ::inet_ntop(AF_INET, &address, text.data(), text.size());
  return text.data();
}

unsigned link_index(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) throw_errno("if_nametoindex(" + quoted(name) + ")");
  return index;
}

//! [net-link-up]
// `ip link set NAME up`: RTM_NEWLINK on an existing link changes it. ifi_change
// says which flags to touch, ifi_flags what to set them to.
void set_link_up(Rtnetlink& nl, const std::string& name) {
  // TODO(lab 05): implement bring a link up with an RTM_NEWLINK request (ifinfomsg: IFF_UP).
  // Read docs/{en,zh}/lab05-net.md#lab05-lo, then replace the line below with your code.
  throw nslab::Todo("05", "bring a link up with an RTM_NEWLINK request (ifinfomsg: IFF_UP)", "docs/{en,zh}/lab05-net.md#lab05-lo");
}
//! [net-link-up]

//! [net-veth]
// `ip link add HOST type veth peer name eth0 netns PID`. The request describes
// the new link (its name, its kind, "veth") and, nested inside its
// IFLA_INFO_DATA, the peer: a whole second link description, with an
// ifinfomsg of its own, its own name, and the namespace to create it in
// (IFLA_NET_NS_PID: the one of process PID). The peer never exists on the host.
void create_veth(Rtnetlink& nl, const std::string& host_end, pid_t child) {
  // TODO(lab 05): implement create the veth pair, its peer eth0 straight in the child's network namespace.
  // Read docs/{en,zh}/lab05-net.md#lab05-veth, then replace the line below with your code.
  throw nslab::Todo("05", "create the veth pair, its peer eth0 straight in the child's network namespace", "docs/{en,zh}/lab05-net.md#lab05-veth");
}
//! [net-veth]

//! [net-address]
// `ip address add CIDR dev NAME`: RTM_NEWADDR, an ifaddrmsg (family, prefix,
// link) and the address itself. For IPv4, IFA_LOCAL is the address of this
// end; IFA_ADDRESS is the same on a broadcast link like a veth.
void add_address(Rtnetlink& nl, const std::string& name, const Ipv4Cidr& cidr) {
  Request request = nl.start(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* address = request.add_header<ifaddrmsg>();
  address->ifa_family = AF_INET;
  address->ifa_prefixlen = static_cast<unsigned char>(cidr.prefix);
  address->ifa_scope = RT_SCOPE_UNIVERSE;
  address->ifa_index = link_index(name);
  request.add_attribute(IFA_LOCAL, &cidr.address, sizeof(in_addr));
  request.add_attribute(IFA_ADDRESS, &cidr.address, sizeof(in_addr));
  nl.call(request, "RTM_NEWADDR " + cidr.text + " dev " + name + " (ip address add " + cidr.text + " dev " + name + ")");
}
//! [net-address]

//! [net-route]
// `ip route add default via GATEWAY dev eth0`: a route to 0.0.0.0/0 in the main
// table, through the host end's address.
void add_default_route(Rtnetlink& nl, const std::string& name, const Ipv4Cidr& gateway) {
  Request request = nl.start(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* route = request.add_header<rtmsg>();
  route->rtm_family = AF_INET;
  route->rtm_dst_len = 0;  // 0.0.0.0/0: the default route
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_BOOT;
  route->rtm_scope = RT_SCOPE_UNIVERSE;
  route->rtm_type = RTN_UNICAST;
  request.add_attribute(RTA_GATEWAY, &gateway.address, sizeof(in_addr));
  request.add_u32(RTA_OIF, link_index(name));
  nl.call(request, "RTM_NEWROUTE default via " + address_text(gateway.host_order()) + " dev " + name +
                       " (ip route add default via " + address_text(gateway.host_order()) + ")");
}
//! [net-route]

//! [net-delete]
// `ip link delete NAME`. Deleting one end of a veth deletes the pair. The
// kernel would delete it too when the container's network namespace goes —
// but later, from a work queue (PITFALLS 7), and not at all while anything
// still holds that namespace (an fd on /proc/PID/ns/net, a bind mount). So the
// runtime deletes it itself, by the index it had when we made it (by name if
// that could not be read): once our container is reaped, its PID — and so the
// name — may be another's. ENODEV: it is gone already.
bool delete_link(Rtnetlink& nl, unsigned index, const std::string& name) {
  Request request = nl.start(RTM_DELLINK);
  auto* link = request.add_header<ifinfomsg>();
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = static_cast<int>(index);
  if (index == 0) request.add_string(IFLA_IFNAME, name);
  try {
    nl.call(request, "RTM_DELLINK " + name + " (ip link delete " + name + ")");
  } catch (const Error& e) {
    if (e.errnum() == ENODEV) return false;
    throw;
  }
  return true;
}
//! [net-delete]

// An IPv4 address the host has, on which link.
struct HostAddress {
  std::uint32_t address;  // host byte order
  unsigned prefix;
  std::string link;
};

std::vector<HostAddress> dump_host_addresses();

// Every IPv4 address on the host's links: RTM_GETADDR as a dump,
// `ip -4 -o address show`.
std::vector<HostAddress> host_addresses() {
  // A dump that the kernel saw change under it ends with EINTR
  // (NLM_F_DUMP_INTR): it is then incomplete, and asked for again.
  for (int attempt = 1;; ++attempt) {
    try {
      return dump_host_addresses();
    } catch (const Error& e) {
      if (e.errnum() != EINTR || attempt == 5) throw;
    }
  }
}

std::vector<HostAddress> dump_host_addresses() {
  Rtnetlink nl;
  Request request = nl.start(RTM_GETADDR);
  auto* family = request.add_header<ifaddrmsg>();
  family->ifa_family = AF_INET;
  std::vector<HostAddress> found;
  nl.dump(request, "RTM_GETADDR (ip -4 address show)", [&found](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWADDR) return;
    const auto* address = family_header<ifaddrmsg>(message);
    if (address == nullptr || address->ifa_family != AF_INET) return;
    // The attributes after the ifaddrmsg; IFA_LOCAL is the address itself.
    in_addr local{};
    const bool whole = for_each_attribute(message, sizeof(ifaddrmsg),
                                          [&local](std::uint16_t type, const void* value, std::size_t length) {
                                            if (type == IFA_LOCAL && length == sizeof local) std::memcpy(&local, value, length);
                                          });
    if (!whole || local.s_addr == 0) return;
    std::array<char, IF_NAMESIZE> name{};
    found.push_back({ntohl(local.s_addr), address->ifa_prefixlen,
                     ::if_indextoname(address->ifa_index, name.data()) != nullptr ? name.data() : "?"});
  });
  return found;
}

// True when this process's user namespace owns its network namespace
// (ioctl_ns(2), NS_GET_USERNS): only then do its capabilities act on it.
bool owns_network_namespace() {
  const UniqueFd net(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!net) throw_errno("open /proc/self/ns/net");
  const UniqueFd owner(::ioctl(net.get(), NS_GET_USERNS));
  if (!owner) {
    if (errno == EPERM) return false;  // the owner is an ancestor we may not see: not ours
    throw_errno("ioctl(/proc/self/ns/net, NS_GET_USERNS)");
  }
  struct stat owner_info {};
  struct stat mine {};
  check(::fstat(owner.get(), &owner_info), "fstat the owner of /proc/self/ns/net");
  check(::stat("/proc/self/ns/user", &mine), "stat /proc/self/ns/user");
  return owner_info.st_dev == mine.st_dev && owner_info.st_ino == mine.st_ino;
}

}  // namespace

std::uint32_t Ipv4Cidr::mask() const { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }

std::uint32_t Ipv4Cidr::host_order() const { return ntohl(address.s_addr); }

Ipv4Cidr parse_ipv4_cidr(std::string_view text) {
  Ipv4Cidr cidr;
  cidr.text = std::string(text);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw UsageError("--veth: " + quoted(text, 40) + " has no prefix length: write it as ADDRESS/PREFIX, e.g. 10.200.1.1/24");
  }
  const std::string address(text.substr(0, slash));
  // inet_pton(3) reads up to a NUL: an address with one inside is not what it read.
  if (address.find('\0') != std::string::npos || ::inet_pton(AF_INET, address.c_str(), &cidr.address) != 1) {
    throw UsageError("--veth: " + quoted(address, 40) + " is not an IPv4 address (four numbers 0-255, e.g. 10.200.1.1)");
  }
  const std::string_view prefix = text.substr(slash + 1);
  const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), cidr.prefix);
  if (prefix.empty() || ec != std::errc() || end != prefix.data() + prefix.size() ||
      (prefix.size() > 1 && prefix.front() == '0')) {
    throw UsageError("--veth: " + quoted(text, 40) + ": the prefix length must be a number from 0 to 32");
  }
  if (cidr.prefix > 32) {
    throw UsageError("--veth: " + quoted(text, 40) + ": a prefix of " + std::to_string(cidr.prefix) +
                     " is over 32, the number of bits in an IPv4 address");
  }
  return cidr;
}

VethPlan parse_veth(std::string_view value) {
  const auto comma = value.find(',');
  if (comma == std::string_view::npos || value.find(',', comma + 1) != std::string_view::npos) {
    throw UsageError("--veth " + quoted(value, 60) + ": " + veth_usage());
  }
  VethPlan plan{parse_ipv4_cidr(value.substr(0, comma)), parse_ipv4_cidr(value.substr(comma + 1))};
  const Ipv4Cidr& host = plan.host;
  const Ipv4Cidr& container = plan.container;
  if (host.prefix != container.prefix) {
    throw UsageError("--veth: the two ends must have the same prefix length, got /" + std::to_string(host.prefix) +
                     " and /" + std::to_string(container.prefix));
  }
  if (host.prefix < 8 || host.prefix > 31) {
    throw UsageError("--veth: /" + std::to_string(host.prefix) +
                     (host.prefix > 31 ? " leaves no room for two addresses in one subnet: use /8 to /31"
                                       : " would route too much of the address space to the container: use /8 to /31"));
  }
  for (const Ipv4Cidr* end : {&host, &container}) {
    const std::uint32_t first = end->host_order() >> 24;
    const char* why = first == 0     ? "0.0.0.0/8 means \"this network\", never a host's address"
                      : first == 127 ? "127.0.0.0/8 is loopback, lo's alone"
                      : first >= 224 ? "224.0.0.0 and above are multicast and reserved addresses, not a host's"
                                     : nullptr;
    if (why != nullptr) throw UsageError("--veth: " + end->text + ": " + why);
  }
  const std::uint32_t mask = host.mask();
  if ((host.host_order() & mask) != (container.host_order() & mask)) {
    throw UsageError("--veth: " + host.text + " and " + container.text +
                     " are in different subnets: the ends of one link share a subnet, e.g. 10.200.1.1/24,10.200.1.2/24");
  }
  if (host.host_order() == container.host_order()) {
    throw UsageError("--veth: both ends have the address " + address_text(host.host_order()) + ": give each its own");
  }
  if (host.prefix <= 30) {  // a /31 has no network or broadcast address (RFC 3021)
    for (const Ipv4Cidr* end : {&host, &container}) {
      const std::uint32_t address = end->host_order();
      if ((address & ~mask) == 0) {
        throw UsageError("--veth: " + address_text(address) + " is the address of the subnet " + end->text +
                         " itself, not of a host in it");
      }
      if ((address & ~mask) == ~mask) {
        throw UsageError("--veth: " + address_text(address) + " is the broadcast address of " + end->text);
      }
    }
  }
  return plan;
}

std::string host_end_name(pid_t child) { return "nslab-" + std::to_string(child); }

void NetNamespace::add_options(cli::Parser& parser) {
  parser.add_value("veth", "HOST_CIDR,CONTAINER_CIDR",
                   "link the container to the host with a veth pair: the host end gets HOST_CIDR, the "
                   "container's eth0 CONTAINER_CIDR and a default route via the host end (needs root)",
                   [this](std::string_view value) {
                     if (veth_arg_) throw UsageError("--veth: given twice: a container has one veth pair");
                     (void)parse_veth(value);  // a bad value fails here, before anything runs
                     veth_arg_ = std::string(value);
                   });
}

//! [net-flag]
int NetNamespace::clone_flags() const {
  // TODO(lab 05): implement the clone flag that gives the child a new network namespace.
  // Read docs/{en,zh}/lab05-net.md#lab05-flag, then replace the line below with your code.
  throw nslab::Todo("05", "the clone flag that gives the child a new network namespace", "docs/{en,zh}/lab05-net.md#lab05-flag");
}
//! [net-flag]

std::optional<Isolation> NetNamespace::isolation() const {
  return Isolation{"net", "configure links (bring lo up, address eth0)", "docs/{en,zh}/lab05-net.md#lab05-flag"};
}

// An address the host has already would be on two links at once, and the
// host's traffic to it would go into the container. A subnet that overlaps
// one the host has would make two routes for the same addresses: the longer
// prefix wins, or with equal ones the first, and the host could not reach the
// container, or part of the other link — ip(8) would take it without a word.
void NetNamespace::prepare(Context& ctx) {
  if (!veth_arg_) return;
  veth_ = parse_veth(*veth_arg_);
  const std::uint32_t mask = veth_->host.mask();
  const std::uint32_t subnet = veth_->host.host_order() & mask;
  for (const HostAddress& existing : host_addresses()) {
    for (const Ipv4Cidr* end : {&veth_->host, &veth_->container}) {
      if (existing.address == end->host_order()) {
        throw UsageError("--veth: " + address_text(existing.address) + " is already an address of the host's link " +
                         existing.link + ": choose a subnet the host does not use");
      }
    }
    const std::uint32_t wider = existing.prefix < veth_->host.prefix ? Ipv4Cidr{{}, existing.prefix, {}}.mask() : mask;
    if (existing.prefix > 0 && (existing.address & wider) == (subnet & wider)) {
      throw UsageError("--veth: " + address_text(subnet) + "/" + std::to_string(veth_->host.prefix) +
                       " overlaps " + address_text(existing.address) + "/" + std::to_string(existing.prefix) +
                       " on the host's link " + existing.link + ": choose a subnet the host does not use");
    }
  }
  ctx.narrator.say("--veth: host end " + veth_->host.text + ", container's eth0 " + veth_->container.text);
}

void NetNamespace::check_privilege(const Context& ctx) const {
  (void)ctx;
  // Creating a link in the host's namespace needs CAP_NET_ADMIN there — in the
  // host's user namespace, which no user namespace of our own can give.
  // (A capability counts in the user namespace that owns the host's network
  // namespace; under `unshare -Ur` CapEff is full, but in a namespace of our own.)
  if (veth_ && (!has_effective_capability(CAP_NET_ADMIN) || !owns_network_namespace())) {
    throw Error(0, "--veth needs CAP_NET_ADMIN on the host: run as root, or drop --veth");
  }
  if (!veth_) return;
  // setup_outside() holds the child's namespace through /proc/CHILD/ns/net.
  if (const std::string problem = foreign_proc_problem(); !problem.empty()) throw Error(0, "--veth: " + problem);
}

//! [net-outside]
// The parent, on the host's side, while the child waits: create the pair with
// eth0 already inside the child's namespace, then address and raise its own end.
void NetNamespace::setup_outside(Context& ctx) {
  if (!veth_) return;
  Rtnetlink nl;  // opened by the parent: in the host's network namespace
  const std::string name = host_end_name(ctx.child);
  try {
    create_veth(nl, name, ctx.child);
  } catch (const Error& e) {
    if (e.errnum() == EEXIST) {  // not ours: it must stay
      throw Error(EEXIST, "a link named " + name + " exists on the host already", "is a container of this PID still running?");
    }
    throw;
  }
  host_end_ = name;  // from here on, teardown() deletes it, whatever fails next
  host_end_index_ = ::if_nametoindex(name.c_str());  // 0 if that failed: teardown() goes by name
  // Held until teardown(): while the container's network namespace lives, so
  // does the pair, and the runtime — not the kernel, later — deletes it.
  netns_ = UniqueFd(::open(("/proc/" + std::to_string(ctx.child) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  add_address(nl, name, veth_->host);
  // prepare() looked before clone; a container started at the same moment may
  // have taken the address since (the kernel allows one address on two links).
  for (const HostAddress& existing : host_addresses()) {
    if (existing.address == veth_->host.host_order() && existing.link != name) {
      throw Error(0, "--veth: " + address_text(existing.address) + " was just taken by the host's link " + existing.link +
                         " (another container starting at the same moment?): choose a subnet of your own");
    }
  }
  set_link_up(nl, name);
  ctx.narrator.say("created veth " + name + " <-> " + kContainerEnd + " (in the container), " + name + " " +
                   veth_->host.text + " up");
}
//! [net-outside]

//! [net-inside]
// The child, inside its new network namespace: lo first — a new namespace's lo
// is down, and without it even 127.0.0.1 is unreachable — then eth0.
void NetNamespace::setup_inside(Context& ctx) {
  Rtnetlink nl;  // opened by the child: in the container's network namespace
  set_link_up(nl, "lo");
  ctx.narrator.say("RTM_NEWLINK lo IFF_UP (ip link set lo up)");
  if (!veth_) return;
  add_address(nl, kContainerEnd, veth_->container);
  set_link_up(nl, kContainerEnd);
  add_default_route(nl, kContainerEnd, veth_->host);
  ctx.narrator.say(std::string(kContainerEnd) + " " + veth_->container.text + " up, default route via " +
                   address_text(veth_->host.host_order()));
}
//! [net-inside]

//! [net-teardown]
std::string NetNamespace::teardown(Context& ctx) noexcept {
  if (host_end_.empty()) return {};
  try {
    Rtnetlink nl;
    const bool deleted = delete_link(nl, host_end_index_, host_end_);
    netns_.reset();
    ctx.narrator.say(deleted ? "deleted veth " + host_end_ + " (and with it the container's eth0)"
                             : "veth " + host_end_ + " is gone already");
    host_end_.clear();
    host_end_index_ = 0;
    return {};
  } catch (const std::exception& e) {
    return "veth " + host_end_ + " (" + e.what() + "); the kernel deletes it when the container's network namespace goes";
  }
}
//! [net-teardown]

}  // namespace nslab
