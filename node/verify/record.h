// Stateless handling of signed records: parsing with limits, record ids,
// signing, signature verification and per-field checks that need no ledger
// state. Used by the node at admission, by the ledger at execution, by the CLI
// to build records and by the offline passport verifier.
#ifndef CDL_NODE_VERIFY_RECORD_H_
#define CDL_NODE_VERIFY_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/keys.h"
#include "records.pb.h"

namespace cdl::verify {

// Limits on untrusted input. A SignedRecord larger than kMaxRecordBytes is
// refused before it is parsed.
inline constexpr size_t kMaxRecordBytes = 256 * 1024;
inline constexpr size_t kMaxSignatures = 8;
inline constexpr size_t kMaxStringField = 4096;
inline constexpr size_t kMaxRepeated = 256;

inline constexpr std::string_view kRecordDomain = "cdl/record/v1";
inline constexpr std::string_view kSignatureDomain = "cdl/sig/v1";

// record_id = SHA-256("cdl/record/v1" || 0x00 || body): 32 raw bytes.
std::string RecordId(std::string_view body);

// A SignedRecord together with its decoded body and id.
struct ParsedRecord {
  cdl::v1::SignedRecord signed_record;
  cdl::v1::RecordBody body;
  std::string id;    // 32 raw bytes
  std::string type;  // payload name, e.g. "disclosure"
  // Set by whoever verified every signature against the registered key its
  // key_id names (admission does). Execution verifies the others itself.
  bool signatures_verified = false;
};

// Decodes a serialized SignedRecord and its body. Fails (InvalidArgument, the
// message names the field) on oversize input, malformed protobuf, unknown
// fields anywhere, a missing payload, more than kMaxSignatures signatures.
absl::StatusOr<ParsedRecord> ParseSignedRecord(std::string_view bytes);

// The payload name of a body ("member_registration", "disclosure", ...), or
// "" when none is set.
std::string PayloadName(const cdl::v1::RecordBody& body);

// Checks everything about a record that needs no ledger state: chain id, author
// and key id present and matching the first signature, sequence >= 1, string
// and list limits, member ids, decimals, dates and enums of the payload.
// InvalidArgument with "field: problem" on failure.
absl::Status CheckStateless(const ParsedRecord& record, std::string_view chain_id);

// Bytes a signer signs for a record: domain-separated record id.
absl::StatusOr<std::string> SignRecordId(const cdl::crypto::PrivateKey& key,
                                         std::string_view record_id);
absl::Status VerifyRecordSignature(const cdl::crypto::PublicKey& key,
                                   std::string_view record_id,
                                   std::string_view signature);

// Serializes `body`, signs it with `key` as member `author` and returns the
// SignedRecord. The body's key_id must already name `key`.
absl::StatusOr<cdl::v1::SignedRecord> SignBody(const cdl::v1::RecordBody& body,
                                               const cdl::crypto::PrivateKey& key);

// Adds a co-signature (e.g. the second party of a recognition agreement).
absl::Status CoSign(cdl::v1::SignedRecord& record, std::string_view member,
                    const cdl::crypto::PrivateKey& key);

// Checks that `id` is a member id: [a-z0-9][a-z0-9._-]{1,63}.
absl::Status ValidateMemberId(std::string_view field, std::string_view id);
// "2026", "2026-Q1".."2026-Q4" or "2026-01".."2026-12".
absl::Status ValidatePeriod(std::string_view field, std::string_view period);
// The registration form of a key: its algorithm name and SubjectPublicKeyInfo
// DER. The inverse of ParsePublicKeyInfo.
cdl::v1::PublicKeyInfo PublicKeyInfoOf(const cdl::crypto::PublicKey& key);
// A registered public key: parses the DER and checks the named algorithm matches.
absl::StatusOr<cdl::crypto::PublicKey> ParsePublicKeyInfo(
    std::string_view field, const cdl::v1::PublicKeyInfo& info);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_RECORD_H_
