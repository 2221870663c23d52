// The /api/v1 JSON views (gateway.h lists them): read-only functions over a
// node's ledger, plus the passport verifier. Each returns the JSON body of a
// 200 answer, or a status whose code says which HTTP error it is
// (InvalidArgument for a bad id or parameter, NotFound for an unknown one).
// Query parameters reaching these functions have already been checked to be
// known and unrepeated by the router.
#ifndef CDL_NODE_HTTP_API_H_
#define CDL_NODE_HTTP_API_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "node/ledger/ledger.h"
#include "node/net/node.h"
#include "node/verify/genesis.h"

namespace cdl::http::api {

using Params = std::vector<std::pair<std::string, std::string>>;

// Most block headers one /api/v1/blocks?limit= answer lists.
inline constexpr uint64_t kMaxBlocksListed = 50;

// The value of query parameter `name`, if given.
std::optional<std::string> Param(const Params& params, std::string_view name);

nlohmann::json Status(cdl::net::Node& node);
absl::StatusOr<nlohmann::json> Record(const cdl::ledger::Ledger& ledger, std::string_view hex_id);
absl::StatusOr<nlohmann::json> Receipt(const cdl::ledger::Ledger& ledger, std::string_view hex_id);
absl::StatusOr<nlohmann::json> Block(const cdl::ledger::Ledger& ledger, std::string_view height);
// ?limit=N (default 10): the newest N headers, newest first.
absl::StatusOr<nlohmann::json> LatestBlocks(const cdl::ledger::Ledger& ledger, const Params& params);
// `which` is "latest" or a height.
absl::StatusOr<nlohmann::json> Checkpoint(const cdl::ledger::Ledger& ledger, std::string_view which);
absl::StatusOr<nlohmann::json> Proof(const cdl::ledger::Ledger& ledger, std::string_view hex_id);
// ?member=&type=&period=&park=&standard=&certificate_status=&as_of_ms=
// &page_size=&page_token= (ledger.h QueryFilter). certificate_status is one of
// active, suspended, revoked, expired; "active"/"expired" are judged at
// as_of_ms (Unix milliseconds), default `now_ms`.
absl::StatusOr<nlohmann::json> Query(const cdl::ledger::Ledger& ledger, const Params& params, int64_t now_ms);
// Verifies passport file bytes against `genesis` at ?at= (default `now_ms`)
// for ?jurisdiction= (default the passport's own). An INVALID passport is a
// verdict, not an error; only bad parameters or an empty body are errors.
absl::StatusOr<nlohmann::json> VerifyPassport(const cdl::verify::TrustedGenesis& genesis, const Params& params,
                                              std::string_view body, int64_t now_ms);

}  // namespace cdl::http::api

#endif  // CDL_NODE_HTTP_API_H_
