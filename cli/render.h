// Output of `cdl`: protobuf messages as JSON with bytes shown as hex, receipts
// as one line or one JSON object, and files read/written with limits.
#ifndef CDL_CLI_RENDER_H_
#define CDL_CLI_RENDER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "ledger.pb.h"
#include "node/verify/genesis.h"
#include "node/verify/json_view.h"
#include "nlohmann/json.hpp"

namespace cdl::cli {

// Shared with the node's HTTP gateway (node/verify/json_view.h):
// ProtoToHexJson, StatusName, RejectCodeName, ReceiptJson.
using cdl::verify::ProtoToHexJson;
using cdl::verify::ReceiptJson;
using cdl::verify::RejectCodeName;
using cdl::verify::StatusName;

// The protobuf JSON mapping of `message` (base64 bytes), pretty-printed: the
// format of files that `cdl` writes and reads back (proofs, checkpoints).
std::string ProtoToJsonFile(const google::protobuf::Message& message);
// Parses such a file strictly (unknown fields are an error).
absl::Status ProtoFromJsonFile(absl::string_view json,
                               google::protobuf::Message* message);

// One human line: "ACCEPTED record <hex> at height 5, leaf 3 [author #seq]".
std::string ReceiptLine(const cdl::v1::Receipt& receipt);
// Just the outcome: "ACCEPTED at height 5, leaf 3", "REJECTED at height 5:
// CODE: message", "ADMITTED (in the mempool, not yet committed)".
std::string ReceiptOutcome(const cdl::v1::Receipt& receipt);

// Reads a whole file of at most `max_bytes`. `what` names it in errors
// ("disclosure file"). Errors exit with code 1.
absl::StatusOr<std::string> ReadFileLimited(const std::string& path,
                                            size_t max_bytes,
                                            absl::string_view what);
// Writes `data` to `path` (replacing it through a temporary file).
absl::Status WriteFile(const std::string& path, absl::string_view data,
                       absl::string_view what);

// Loads the genesis a verifier trusts; usage error (exit 2) for an empty
// path, exit 1 naming the file when it cannot be read or is not a genesis.
absl::StatusOr<cdl::verify::TrustedGenesis> LoadGenesis(const std::string& path);

}  // namespace cdl::cli

#endif  // CDL_CLI_RENDER_H_
