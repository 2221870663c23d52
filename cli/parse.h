// Parsing of user input for `cdl`: roles, founder specs, record ids, times and
// the disclosure JSON files of `cdl disclose`. Pure functions; errors are
// InvalidArgument with a message that names the offending value and says what
// would be accepted.
#ifndef CDL_CLI_PARSE_H_
#define CDL_CLI_PARSE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"
#include "records.pb.h"

namespace cdl::cli {

// "regulator", "accreditor", "certifier", "park", "enterprise" (any case, and
// the proto names such as "ROLE_PARK").
absl::StatusOr<cdl::v1::Role> ParseRole(absl::string_view text);
// The short lowercase name ("park"), or "unspecified".
std::string RoleName(cdl::v1::Role role);

// `cdl keygen --algorithm`: "ecdsa-p256", "ed25519", "sm2" and the full names
// of crypto::AlgorithmName ("ecdsa-p256-sha256", "sm2-sm3").
absl::StatusOr<cdl::crypto::Algorithm> ParseKeyAlgorithm(
    absl::string_view text);

// A founder of `cdl genesis init --founder ID:ROLE:JURISDICTION[:NAME]`. The
// name may itself contain ':'.
struct FounderSpec {
  std::string id;
  cdl::v1::Role role = cdl::v1::ROLE_UNSPECIFIED;
  std::string jurisdiction;
  std::string name;
};
absl::StatusOr<FounderSpec> ParseFounderSpec(absl::string_view text);

// A record id as 64 hex digits -> 32 raw bytes.
absl::StatusOr<std::string> ParseRecordId(absl::string_view hex);

// An RFC 3339 time ("2027-12-31T23:59:59Z", "2027-12-31T23:59:59+08:00") or a
// plain date ("2027-12-31", midnight UTC) -> Unix milliseconds.
absl::StatusOr<int64_t> ParseTimeMs(absl::string_view text);
// Unix milliseconds -> "2026-03-01T12:00:00.123Z".
std::string FormatTimeMs(int64_t ms);

// `cdl certify --assurance`: "limited" or "reasonable" (any case, and the
// proto names such as "ASSURANCE_LIMITED").
absl::StatusOr<cdl::v1::AssuranceLevel> ParseAssurance(absl::string_view text);

// `cdl recognise create --direction`: "mutual", "a-recognises-b" or
// "b-recognises-a" (any case; '_' for '-', the spelling "recognizes" and the
// proto names such as "DIRECTION_MUTUAL" are accepted too).
absl::StatusOr<cdl::v1::Direction> ParseDirection(absl::string_view text);
// The CLI name ("a-recognises-b"), or "unspecified".
std::string DirectionName(cdl::v1::Direction direction);

// A jurisdiction code as the ledger accepts it: 2 to 8 upper-case letters or
// '-' ("CN", "EU"). Returned unchanged.
absl::StatusOr<std::string> ParseJurisdiction(absl::string_view text);

// A SHA-256 digest or key id as 64 hex digits -> 32 raw bytes. `what` names
// the value in the error ("--statement-hash").
absl::StatusOr<std::string> ParseSha256Hex(absl::string_view hex,
                                           absl::string_view what);

// The JSON object of `cdl disclose --file`: the Disclosure fields of
// records.proto by their snake_case names. Decimal fields are strings (or
// integers); evidence_hashes is an array of hex strings and supersedes a hex
// record id. "organisation" defaults to `default_organisation`. Unknown keys,
// wrong types and malformed hex are errors naming every offending key.
absl::StatusOr<cdl::v1::Disclosure> ParseDisclosureJson(
    absl::string_view json, absl::string_view default_organisation);

// The snake_case payload names of RecordBody ("disclosure",
// "product_footprint", ...), for `cdl query --type`.
bool IsRecordType(absl::string_view name);
std::string RecordTypeList();

// The --type and --period filters shared by `cdl query` and `cdl watch`:
// a usage error (exit 2) naming the flag and what to write, OK when empty.
absl::Status CheckRecordFilters(const std::string& type, const std::string& period);

}  // namespace cdl::cli

#endif  // CDL_CLI_PARSE_H_
