#include "node/verify/state_entry.h"

#include <cstdint>
#include <optional>

#include "crypto/hash.h"
#include "crypto/sparse_merkle.h"
#include "crypto/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "node/verify/big_endian.h"

namespace cdl::verify {
namespace {

constexpr uint8_t kEntryFormat = 1;

using internal::U32BE;
using internal::U64BE;

// u32be length || bytes.
std::string LengthPrefixed(std::string_view bytes) {
  return cdl::StrCat(U32BE(static_cast<uint32_t>(bytes.size())), bytes);
}

std::string StateKey(std::string_view kind, std::string_view id) {
  return cdl::crypto::DomainHash(kStateKeyDomain, cdl::StrCat(kind, std::string_view("\0", 1), id));
}

bool HasUnknownFields(const google::protobuf::Message& msg) {
  return !msg.GetReflection()->GetUnknownFields(msg).empty();
}

absl::Status CheckHashField(std::string_view field, const std::string& value) {
  if (value.empty() || value.size() == cdl::crypto::kHashSize) return absl::OkStatus();
  return absl::InvalidArgumentError(cdl::StrCat(field, ": must be empty or 32 bytes"));
}

}  // namespace

std::string RecordStateKey(std::string_view record_id) { return StateKey("record", record_id); }

std::string MemberStateKey(std::string_view member_id) { return StateKey("member", member_id); }

std::string KeyStateKey(std::string_view member_id, std::string_view key_id) {
  return StateKey("key", cdl::StrCat(member_id, std::string_view("\0", 1), key_id));
}

absl::StatusOr<std::string> TargetStateKey(const cdl::v1::Target& target) {
  bool record = !target.record_id().empty();
  bool member = !target.member().empty();
  bool key = !target.key_id().empty();
  if (record && target.record_id().size() != cdl::crypto::kHashSize) {
    return absl::InvalidArgumentError("target.record_id: must be a 32-byte record id");
  }
  if (key && target.key_id().size() != cdl::crypto::kHashSize) {
    return absl::InvalidArgumentError("target.key_id: must be a 32-byte key id");
  }
  if (record && !member && !key) return RecordStateKey(target.record_id());
  if (!record && member && !key) return MemberStateKey(target.member());
  if (!record && member && key) return KeyStateKey(target.member(), target.key_id());
  return absl::InvalidArgumentError("target: name exactly one of record_id, member, or member + key_id");
}

std::string EncodeStateEntry(const cdl::v1::StateEntry& entry) {
  return cdl::StrCat(static_cast<char>(kEntryFormat), U32BE(static_cast<uint32_t>(entry.status())),
                     U64BE(static_cast<uint64_t>(entry.valid_until_ms())),
                     U64BE(static_cast<uint64_t>(entry.changed_ms())), LengthPrefixed(entry.changed_by()),
                     LengthPrefixed(entry.reason_hash()), LengthPrefixed(entry.subject_superseded_by()));
}

std::string StateEntryHash(const cdl::v1::StateEntry& entry) {
  return cdl::crypto::DomainHash(kStateEntryDomain, EncodeStateEntry(entry));
}

std::string ReasonHash(std::string_view reason) {
  return reason.empty() ? std::string() : cdl::crypto::Sha256(reason);
}

absl::Status ValidateStateEntry(const cdl::v1::StateEntry& entry) {
  if (HasUnknownFields(entry)) return absl::InvalidArgumentError("state entry: unknown field");
  if (entry.status() == cdl::v1::ENTRY_STATUS_UNSPECIFIED || !cdl::v1::EntryStatus_IsValid(entry.status())) {
    return absl::InvalidArgumentError(cdl::StrCat("state entry.status: ", static_cast<int>(entry.status()),
                                                  " is not a known status"));
  }
  if (auto s = CheckHashField("state entry.changed_by", entry.changed_by()); !s.ok()) return s;
  if (auto s = CheckHashField("state entry.reason_hash", entry.reason_hash()); !s.ok()) return s;
  return CheckHashField("state entry.subject_superseded_by", entry.subject_superseded_by());
}

absl::Status VerifyStateProof(std::string_view state_root, std::string_view expected_key,
                              const cdl::v1::StateProof& proof) {
  if (HasUnknownFields(proof) || HasUnknownFields(proof.proof())) {
    return absl::InvalidArgumentError("state proof: unknown field");
  }
  if (state_root.size() != cdl::crypto::kHashSize) {
    return absl::InvalidArgumentError("state proof: the header has no 32-byte state_root");
  }
  if (proof.key() != expected_key) {
    return absl::InvalidArgumentError("state proof: is for another key than the one derived for this entry");
  }
  if (proof.proof().siblings_size() > cdl::crypto::kSmtDepth) {
    return absl::InvalidArgumentError("state proof: more than 256 siblings");
  }
  std::optional<std::string> value_hash;
  if (proof.has_entry()) {
    if (auto s = ValidateStateEntry(proof.entry()); !s.ok()) return s;
    value_hash = StateEntryHash(proof.entry());
  }
  cdl::crypto::SmtProof smt;
  smt.bitmap = proof.proof().bitmap();
  smt.siblings.assign(proof.proof().siblings().begin(), proof.proof().siblings().end());
  return cdl::crypto::SmtVerify(state_root, expected_key, value_hash, smt);
}

}  // namespace cdl::verify
