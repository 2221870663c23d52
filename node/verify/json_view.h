// JSON views of ledger objects, shared by the CLI (`cdl get --json`,
// `cdl passport verify --json`) and the node's HTTP gateway (/api/v1/...), so
// that both show the same shapes. Pure functions over their arguments.
#ifndef CDL_NODE_VERIFY_JSON_VIEW_H_
#define CDL_NODE_VERIFY_JSON_VIEW_H_

#include <string>

#include "google/protobuf/message.h"
#include "ledger.pb.h"
#include "nlohmann/json.hpp"
#include "node/verify/passport.h"
#include "node/verify/record.h"

namespace cdl::verify {

// `message` in the protobuf JSON mapping (proto field names), except that
// every bytes field is lowercase hex instead of base64, so ids match what the
// CLI prints and accepts elsewhere.
nlohmann::json ProtoToHexJson(const google::protobuf::Message& message);

// `message` in the protobuf JSON mapping (proto field names, base64 bytes):
// the form of the files `cdl` writes and reads back (proofs, checkpoints).
nlohmann::json ProtoToJson(const google::protobuf::Message& message);

// "ACCEPTED", "REJECTED", "ADMITTED".
std::string StatusName(cdl::v1::RecordStatus status);
// "INVALID_FIELD", "NONE", ...
std::string RejectCodeName(cdl::v1::RejectCode code);

// {"record_id": hex, "status": "ACCEPTED", "code": "NONE", "message": ...,
//  "height": n, "index": n, "ledger_index": n, "author": ..., "sequence": n}
nlohmann::json ReceiptJson(const cdl::v1::Receipt& receipt);

// A record with its receipt, as `cdl get --json` prints it:
// {"record_id": hex, "type": payload name, "body": ProtoToHexJson(body),
//  "signatures": [{"member", "key_id", "signature"}], "receipt": ReceiptJson,
//  "signed_record": base64 of `signed_record_bytes`}.
nlohmann::json RecordJson(const ParsedRecord& record, const cdl::v1::Receipt& receipt,
                          const std::string& signed_record_bytes);

// The verdict of VerifyPassport, as `cdl passport verify --json` prints it:
// {"verdict": "VALID"|"INVALID", "reasons": [...], "jurisdiction",
//  "checked_at", "checkpoint": {"height", "time"}, "subject": {...},
//  "certificates": [{...}]}.
nlohmann::json PassportVerdictJson(const PassportVerdict& verdict);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_JSON_VIEW_H_
