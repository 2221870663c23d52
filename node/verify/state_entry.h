// The authenticated state map: which key each status entry lives under, the
// value hash of an entry, and verification of a state proof against a block
// header's state_root. Defined once here so the ledger that builds the map and
// an offline verifier (passport) that checks a proof compute the same bytes.
//
// Keys are derived from what they describe, never taken from a proof:
//   record (certificate, accreditation, recognition agreement):
//       DomainHash("cdl/state-key/v1", "record" || 0x00 || record_id)
//   member: DomainHash("cdl/state-key/v1", "member" || 0x00 || member_id)
//   key:    DomainHash("cdl/state-key/v1", "key" || 0x00 || member_id || 0x00 || key_id)
// (DomainHash(d, x) = SHA-256(d || 0x00 || x); member ids never hold 0x00.)
//
// The value of a key is StateEntryHash(entry) =
//   DomainHash("cdl/state-entry/v1", EncodeStateEntry(entry)), where
// EncodeStateEntry is this hand-built encoding (not protobuf bytes, which are
// not canonical):
//   u8     format version (1)
//   u32be  status (EntryStatus number)
//   u64be  valid_until_ms (two's complement)
//   u64be  changed_ms     (two's complement)
//   u32be  length || changed_by
//   u32be  length || reason_hash
//   u32be  length || subject_superseded_by
//
// What an entry means, by kind:
//   certificate:   status ACTIVE / SUSPENDED / REVOKED; valid_until_ms is the
//                  effective end after renewals; subject_superseded_by is set
//                  once the certified disclosure/footprint is superseded (the
//                  certificate then no longer counts for anything).
//   accreditation: ACTIVE / SUSPENDED / REVOKED; valid_until_ms as above.
//   agreement:     ACTIVE / SUSPENDED / REVOKED / TERMINATED; valid_until_ms
//                  is the agreement's.
//   member:        ACTIVE / SUSPENDED / REVOKED; valid_until_ms is the
//                  registration's (0 = no end).
//   key:           ACTIVE / SUSPENDED / REVOKED; valid_until_ms 0.
// changed_ms / changed_by name the block time and record of the last change
// (the record's own acceptance first); reason_hash is SHA-256 of that
// change's reason text (empty if it had none).
#ifndef CDL_NODE_VERIFY_STATE_ENTRY_H_
#define CDL_NODE_VERIFY_STATE_ENTRY_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "records.pb.h"
#include "state.pb.h"

namespace cdl::verify {

inline constexpr std::string_view kStateKeyDomain = "cdl/state-key/v1";
inline constexpr std::string_view kStateEntryDomain = "cdl/state-entry/v1";

// The 32-byte state keys.
std::string RecordStateKey(std::string_view record_id);
std::string MemberStateKey(std::string_view member_id);
std::string KeyStateKey(std::string_view member_id, std::string_view key_id);
// The key a Target (suspension/revocation/reinstatement target) names:
// record_id, member, or member + key_id. InvalidArgument unless exactly one,
// or when a record id or key id is not 32 bytes.
absl::StatusOr<std::string> TargetStateKey(const cdl::v1::Target& target);

// The canonical encoding above and its domain-separated hash (the leaf value).
std::string EncodeStateEntry(const cdl::v1::StateEntry& entry);
std::string StateEntryHash(const cdl::v1::StateEntry& entry);

// SHA-256 of a reason text, or "" for no reason.
std::string ReasonHash(std::string_view reason);

// Well-formedness of an entry from untrusted input: a known, specified status;
// record ids and hashes empty or 32 bytes; no unknown fields.
absl::Status ValidateStateEntry(const cdl::v1::StateEntry& entry);

// Verifies `proof` against `state_root` (from a verified block header): that
// proof.key() is `expected_key` (which the caller derived itself), that the
// entry, if set, is well-formed, and that the sparse Merkle proof leads from
// the entry (or from no entry: absence) to `state_root`. InvalidArgument
// saying why otherwise. Safe on any input.
absl::Status VerifyStateProof(std::string_view state_root, std::string_view expected_key,
                              const cdl::v1::StateProof& proof);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_STATE_ENTRY_H_
