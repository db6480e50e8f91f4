/// @file net.hpp
/// @brief Lab 05: the network namespace — `lo` up inside and, with `--veth`, a
/// virtual Ethernet pair that links the container to the host.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "nslab/fd.hpp"
#include "nslab/module.hpp"

namespace nslab {

/// @brief An IPv4 address with its prefix length, as `ip` writes it: 10.200.1.1/24.
struct Ipv4Cidr {
  in_addr address{};      ///< in network byte order, as the kernel takes it
  unsigned prefix = 0;    ///< 0 to 32
  std::string text;       ///< as given, for messages

  /// @brief The subnet mask of the prefix, in host byte order (/24: 0xffffff00).
  [[nodiscard]] std::uint32_t mask() const;
  /// @brief The address in host byte order.
  [[nodiscard]] std::uint32_t host_order() const;
};

/// @brief What `--veth HOST_CIDR,CONTAINER_CIDR` asks for: the two ends' addresses.
struct VethPlan {
  Ipv4Cidr host;       ///< the host end's address
  Ipv4Cidr container;  ///< eth0's address inside; its default route goes via host
};

/// @brief Parses one IPv4 address with a prefix, `A.B.C.D/N`.
/// @throws UsageError: not an address, no prefix, a prefix over 32.
Ipv4Cidr parse_ipv4_cidr(std::string_view text);

/// @brief Parses and checks a `--veth` value: two addresses of one subnet, with
/// the same prefix (8 to 31, so that the link cannot swallow the host's routes),
/// distinct, neither the subnet's own address nor its broadcast address.
/// @throws UsageError naming what is wrong.
VethPlan parse_veth(std::string_view value);

/// @brief The host end's name for the container whose first process the host
/// numbers @p child: `nslab-4242`. PIDs are unique while the container runs, so
/// two containers never clash; it fits IFNAMSIZ (15 characters).
std::string host_end_name(pid_t child);

/// @brief Gives the container its own network namespace: its own links,
/// addresses, routes, ports and firewall — at first only a `lo`, which is
/// brought up. `--veth` links it to the host.
class NetNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "net"; }
  void add_options(cli::Parser& parser) override;
  void prepare(Context& ctx) override;
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void check_privilege(const Context& ctx) const override;
  void setup_outside(Context& ctx) override;
  void setup_inside(Context& ctx) override;
  std::string teardown(Context& ctx) noexcept override;

 private:
  std::optional<std::string> veth_arg_;  // --veth, as given
  std::optional<VethPlan> veth_;         // once prepare() checked it
  std::string host_end_;                 // the host end's name, once it exists
  unsigned host_end_index_ = 0;          // and its index, by which it is deleted
  UniqueFd netns_;                       // the container's network namespace, held until then
};

}  // namespace nslab
