/// @file user.hpp
/// @brief Lab 06: the user namespace — ids of the container's own, root inside
/// that is nobody special outside, and so containers without root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/module.hpp"

namespace nslab {

/// @brief One line of an ID map (user_namespaces(7), "User and group ID
/// mappings"): COUNT ids from INSIDE on are the ids from OUTSIDE on, in the
/// user namespace of the process that writes the map.
struct IdRange {
  std::uint32_t inside = 0;   ///< the first id as the container sees it
  std::uint32_t outside = 0;  ///< the same id as the host (the parent namespace) sees it
  std::uint32_t count = 0;    ///< how many ids, one after the other
};

/// @brief Parses `IN:OUT:COUNT`, the value of `--uid-map` and `--gid-map`
/// (@p option names which, for the error).
/// @throws UsageError: not three numbers, COUNT 0, a range past the last id (4294967294).
IdRange parse_id_range(std::string_view text, std::string_view option);

/// @brief Checks a whole map as the kernel will when it is written: no two
/// ranges overlap, inside or outside; at most 340 lines; and, for nslab, id 0
/// is mapped inside (the container's root). @throws UsageError.
void check_id_map(const std::vector<IdRange>& map, std::string_view option);

/// @brief The map as /proc/PID/uid_map takes it, one "IN OUT COUNT" line per
/// range: the text of the single write(2) that sets it.
std::string id_map_text(const std::vector<IdRange>& map);

/// @brief Gives the container its own user namespace, the owner of every other
/// namespace it gets: uid and gid 0 inside, with every capability — over the
/// container's own namespaces only — and, outside, the caller's ids.
class UserNamespace : public Module {
 public:
  [[nodiscard]] std::string_view name() const override { return "user"; }
  void add_options(cli::Parser& parser) override;
  void prepare(Context& ctx) override;
  [[nodiscard]] int clone_flags() const override;
  [[nodiscard]] std::optional<Isolation> isolation() const override;
  void check_privilege(const Context& ctx) const override;
  void setup_outside(Context& ctx) override;
  void setup_inside(Context& ctx) override;

 private:
  std::vector<IdRange> uid_map_;  // --uid-map, in order; the default once prepared
  std::vector<IdRange> gid_map_;  // --gid-map, likewise
  bool uid_helper_ = false;       // written by newuidmap(1), not by us
  bool gid_helper_ = false;       // written by newgidmap(1)
};

}  // namespace nslab
