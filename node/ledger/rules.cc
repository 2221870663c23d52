#include "node/ledger/rules.h"

#include <algorithm>

#include "crypto/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/hash.h"
#include "node/ledger/certification_rules.h"
#include "node/ledger/evidence_rules.h"
#include "node/ledger/rule_helpers.h"
#include "node/verify/authority.h"
#include "node/verify/pact.h"
#include "node/storage/keys.h"

namespace cdl::ledger {
namespace internal {

std::string Hex(std::string_view bytes) { return cdl::crypto::HexEncode(bytes); }

std::string RoleName(cdl::v1::Role role) {
  switch (role) {
    case cdl::v1::ROLE_REGULATOR: return "regulator";
    case cdl::v1::ROLE_ACCREDITOR: return "accreditor";
    case cdl::v1::ROLE_CERTIFIER: return "certifier";
    case cdl::v1::ROLE_PARK: return "park";
    case cdl::v1::ROLE_ENTERPRISE: return "enterprise";
    default: return "unspecified";
  }
}

void SaveMember(StateView& view, const cdl::v1::MemberState& m) {
  view.Put(kMembersColumn, m.registration().member_id(), m.SerializeAsString());
}

absl::StatusOr<std::optional<cdl::v1::RecordState>> LoadRecordState(const StateView& view, std::string_view id) {
  auto raw = view.Get(kStatesColumn, id);
  if (absl::IsNotFound(raw.status())) return std::optional<cdl::v1::RecordState>();
  if (!raw.ok()) return raw.status();
  cdl::v1::RecordState st;
  if (!st.ParseFromString(*raw)) return absl::DataLossError("corrupt record state");
  return std::optional<cdl::v1::RecordState>(std::move(st));
}

absl::StatusOr<std::optional<cdl::v1::MemberState>> FindMember(const StateView& view, std::string_view id) {
  auto m = LoadMember(view, id);
  if (absl::IsNotFound(m.status())) return std::optional<cdl::v1::MemberState>();
  if (!m.ok()) return m.status();
  return std::optional<cdl::v1::MemberState>(*std::move(m));
}

bool IsActiveAt(const cdl::v1::MemberState& m, int64_t time_ms) {
  if (m.status() != cdl::v1::ENTRY_ACTIVE) return false;
  const auto& r = m.registration();
  if (r.valid_from_ms() > time_ms) return false;
  if (r.valid_until_ms() != 0 && r.valid_until_ms() <= time_ms) return false;
  return true;
}

}  // namespace internal

namespace {

using cdl::v1::EntryStatus;
using cdl::v1::MemberState;
using cdl::v1::RecordBody;
using cdl::v1::RecordState;
using cdl::v1::RejectCode;
using cdl::v1::Role;

using internal::Accept;
using internal::FindMember;
using internal::Hex;
using internal::IsActiveAt;
using internal::LoadRecordState;
using internal::Reject;
using internal::RoleName;
using internal::SaveMember;
using internal::Verdict;

// Where a superseding disclosure/footprint points: it must exist, be of the
// same type and author, and not be superseded already.
absl::StatusOr<Verdict> CheckSupersedes(const StateView& view, std::string_view field,
                                        std::string_view target, std::string_view type,
                                        std::string_view author) {
  auto st = LoadRecordState(view, target);
  if (!st.ok()) return st.status();
  if (!st->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                  cdl::StrCat(field, ": no accepted record ", Hex(target)));
  }
  const RecordState& s = **st;
  if (s.record_type() != type || s.author() != author) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat(field, ": record ", Hex(target), " is not a ", type, " of ", author));
  }
  if (s.status() == cdl::v1::ENTRY_SUPERSEDED) {
    return Reject(cdl::v1::REJECT_SUPERSEDED,
                  cdl::StrCat(field, ": record ", Hex(target), " was already superseded by ",
                               Hex(s.superseded_by())));
  }
  return Accept();
}

// Also marks the certificates of `target`: they do not carry over to `by`.
absl::Status MarkSuperseded(StateView& view, std::string_view target, std::string_view by) {
  auto st = LoadRecordState(view, target);
  if (!st.ok()) return st.status();
  if (!st->has_value()) return absl::OkStatus();  // checked before
  RecordState s = **st;
  s.set_status(cdl::v1::ENTRY_SUPERSEDED);
  s.set_superseded_by(std::string(by));
  view.Put(kStatesColumn, target, s.SerializeAsString());
  return internal::MarkCertificatesOfSupersededSubject(view, target, by);
}

std::string PeriodPrefix(std::string_view p) { return std::string(p.substr(0, 4)); }

// --- payload rules -------------------------------------------------------

absl::StatusOr<Verdict> RegisterMember(const cdl::verify::ParsedRecord& rec, const MemberState& author,
                                       const ExecContext& ctx, StateView& view, AcceptedInfo& info) {
  const auto& reg = rec.body.member_registration();
  auto existing = FindMember(view, reg.member_id());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Reject(cdl::v1::REJECT_ALREADY_EXISTS,
                  cdl::StrCat("member_registration.member_id: \"", reg.member_id(), "\" is already registered"));
  }
  Role author_role = author.registration().role();
  const std::string& author_j = author.registration().jurisdiction();
  if (author_role == cdl::v1::ROLE_PARK) {
    if (reg.role() != cdl::v1::ROLE_ENTERPRISE || reg.park() != rec.body.author()) {
      return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                    "member_registration.role: a park may only admit enterprises into its own park");
    }
  } else if (author_role != cdl::v1::ROLE_REGULATOR) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: a ", RoleName(author_role),
                               " may not register members (regulators and parks may)"));
  }
  if (reg.jurisdiction() != author_j) {
    return Reject(cdl::v1::REJECT_JURISDICTION,
                  cdl::StrCat("member_registration.jurisdiction: \"", reg.jurisdiction(), "\" is outside the author's jurisdiction \"",
                               author_j, "\""));
  }
  if (reg.role() == cdl::v1::ROLE_ENTERPRISE) {
    auto park = FindMember(view, reg.park());
    if (!park.ok()) return park.status();
    if (!park->has_value() || (*park)->registration().role() != cdl::v1::ROLE_PARK) {
      return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                    cdl::StrCat("member_registration.park: \"", reg.park(), "\" is not a registered park"));
    }
    if (!IsActiveAt(**park, ctx.block_time_ms)) {
      return Reject(cdl::v1::REJECT_MEMBER_INACTIVE,
                    cdl::StrCat("member_registration.park: park \"", reg.park(), "\" is not active"));
    }
  }
  MemberState m;
  *m.mutable_registration() = reg;
  if (m.registration().valid_from_ms() == 0) m.mutable_registration()->set_valid_from_ms(ctx.block_time_ms);
  for (const auto& k : reg.keys()) {
    auto pub = cdl::verify::ParsePublicKeyInfo("key", k);
    if (!pub.ok()) return Reject(cdl::v1::REJECT_INVALID_FIELD, std::string(pub.status().message()));
    auto* ks = m.add_keys();
    *ks->mutable_key() = k;
    ks->set_key_id(pub->KeyId());
    ks->set_status(cdl::v1::ENTRY_ACTIVE);
    ks->set_added_ms(ctx.block_time_ms);
    *ks->mutable_last_change() = internal::ChangeBy(rec, ctx);
  }
  m.set_status(cdl::v1::ENTRY_ACTIVE);
  m.set_registration_record(rec.id);
  m.set_registered_by(rec.body.author());
  *m.mutable_last_change() = internal::ChangeBy(rec, ctx);
  SaveMember(view, m);
  info.subject_member = reg.member_id();
  info.park = reg.role() == cdl::v1::ROLE_ENTERPRISE ? reg.park() : "";
  return Accept();
}

absl::StatusOr<Verdict> RotateKeys(const cdl::verify::ParsedRecord& rec, const MemberState& author,
                                   const ExecContext& ctx, StateView& view, AcceptedInfo& info) {
  const auto& rot = rec.body.key_rotation();
  auto target = FindMember(view, rot.member_id());
  if (!target.ok()) return target.status();
  if (!target->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_MEMBER,
                  cdl::StrCat("key_rotation.member_id: \"", rot.member_id(), "\" is not registered"));
  }
  MemberState m = **target;
  bool self = rec.body.author() == rot.member_id();
  bool registrar = m.registered_by() == rec.body.author();
  bool regulator = author.registration().role() == cdl::v1::ROLE_REGULATOR &&
                   author.registration().jurisdiction() == m.registration().jurisdiction();
  if (!self && !registrar && !regulator) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  "body.author: only the member, its registrar or a regulator of its jurisdiction may rotate its keys");
  }
  for (const auto& k : rot.add_keys()) {
    auto pub = cdl::verify::ParsePublicKeyInfo("key_rotation.add_keys", k);
    if (!pub.ok()) return Reject(cdl::v1::REJECT_INVALID_FIELD, std::string(pub.status().message()));
    std::string id = pub->KeyId();
    if (std::any_of(m.keys().begin(), m.keys().end(), [&](const auto& ks) { return ks.key_id() == id; })) {
      return Reject(cdl::v1::REJECT_ALREADY_EXISTS,
                    cdl::StrCat("key_rotation.add_keys: key ", Hex(id), " is already registered"));
    }
    auto* ks = m.add_keys();
    *ks->mutable_key() = k;
    ks->set_key_id(id);
    ks->set_status(cdl::v1::ENTRY_ACTIVE);
    ks->set_added_ms(ctx.block_time_ms);
    *ks->mutable_last_change() = internal::ChangeBy(rec, ctx);
  }
  for (const auto& id : rot.revoke_key_ids()) {
    auto it = std::find_if(m.mutable_keys()->begin(), m.mutable_keys()->end(),
                           [&](const auto& ks) { return ks.key_id() == id; });
    if (it == m.mutable_keys()->end() || it->status() != cdl::v1::ENTRY_ACTIVE) {
      return Reject(cdl::v1::REJECT_UNKNOWN_KEY,
                    cdl::StrCat("key_rotation.revoke_key_ids: ", Hex(id), " is not an active key of ", rot.member_id()));
    }
    it->set_status(cdl::v1::ENTRY_REVOKED);
    it->set_revoked_ms(ctx.block_time_ms);
    *it->mutable_last_change() = internal::ChangeBy(rec, ctx);
  }
  if (std::none_of(m.keys().begin(), m.keys().end(),
                   [](const auto& ks) { return ks.status() == cdl::v1::ENTRY_ACTIVE; })) {
    return Reject(cdl::v1::REJECT_INVALID_STATE,
                  "key_rotation.revoke_key_ids: would leave the member without an active key");
  }
  SaveMember(view, m);
  info.subject_member = rot.member_id();
  return Accept();
}

absl::StatusOr<Verdict> Disclose(const cdl::verify::ParsedRecord& rec, const MemberState& author,
                                 const ExecContext& ctx, StateView& view, AcceptedInfo& info) {
  const auto& d = rec.body.disclosure();
  Role role = author.registration().role();
  if (role != cdl::v1::ROLE_ENTERPRISE && role != cdl::v1::ROLE_PARK) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: a ", RoleName(role), " may not submit disclosures (enterprises and parks may)"));
  }
  if (d.organisation() != rec.body.author()) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("disclosure.organisation: \"", d.organisation(), "\" — a member may only disclose for itself"));
  }
  if (!d.supersedes().empty()) {
    auto v = CheckSupersedes(view, "disclosure.supersedes", d.supersedes(), "disclosure", rec.body.author());
    if (!v.ok() || !v->ok()) return v;
    auto old = LoadRecordState(view, d.supersedes());
    if (!old.ok()) return old.status();
    if ((*old)->period() != d.period()) {
      return Reject(cdl::v1::REJECT_INVALID_FIELD,
                    cdl::StrCat("disclosure.supersedes: superseded disclosure is for period \"", (*old)->period(),
                                 "\", not \"", d.period(), "\""));
    }
    if (auto s = MarkSuperseded(view, d.supersedes(), rec.id); !s.ok()) return s;
  }
  info.subject_member = d.organisation();
  info.park = role == cdl::v1::ROLE_ENTERPRISE ? author.registration().park() : rec.body.author();
  info.period = d.period();
  (void)ctx;
  return Accept();
}

absl::StatusOr<Verdict> SubmitFootprint(const cdl::verify::ParsedRecord& rec, const MemberState& author,
                                        const ExecContext& ctx, StateView& view, AcceptedInfo& info) {
  const auto& p = rec.body.product_footprint();
  if (author.registration().role() != cdl::v1::ROLE_ENTERPRISE) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: a ", RoleName(author.registration().role()),
                               " may not submit product footprints (enterprises may)"));
  }
  auto parsed = cdl::verify::ParsePactFootprint(p.pact_json());
  if (!parsed.ok()) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("product_footprint.pact_json: ", parsed.status().message()));
  }
  const cdl::verify::PactFootprint& fp = *parsed;
  std::string pact_key = cdl::StrCat("f", fp.id);
  auto dup = view.Get(kIndexColumn, pact_key);
  if (dup.ok()) {
    return Reject(cdl::v1::REJECT_DUPLICATE,
                  cdl::StrCat("product_footprint.pact_json: $.id ", fp.id, " is already on the ledger as record ", Hex(*dup)));
  }
  if (!absl::IsNotFound(dup.status())) return dup.status();
  if (!p.supersedes().empty()) {
    auto v = CheckSupersedes(view, "product_footprint.supersedes", p.supersedes(), "product_footprint",
                             rec.body.author());
    if (!v.ok() || !v->ok()) return v;
    if (auto s = MarkSuperseded(view, p.supersedes(), rec.id); !s.ok()) return s;
  }
  view.Put(kIndexColumn, pact_key, rec.id);
  info.subject_member = rec.body.author();
  info.park = author.registration().park();
  info.period = PeriodPrefix(fp.reference_period_start);
  (void)ctx;
  return Accept();
}

absl::StatusOr<Verdict> RecordFinding(const cdl::verify::ParsedRecord& rec, const MemberState& author,
                                      const ExecContext& ctx, StateView& view, AcceptedInfo& info) {
  const auto& f = rec.body.audit_finding();
  if (author.registration().role() != cdl::v1::ROLE_REGULATOR) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: a ", RoleName(author.registration().role()),
                               " may not record audit findings (regulators may)"));
  }
  auto subject = LoadRecordState(view, f.subject());
  if (!subject.ok()) return subject.status();
  if (!subject->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                  cdl::StrCat("audit_finding.subject: no accepted record ", Hex(f.subject())));
  }
  for (int i = 0; i < f.related_size(); ++i) {
    auto r = LoadRecordState(view, f.related(i));
    if (!r.ok()) return r.status();
    if (!r->has_value()) {
      return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                    cdl::StrCat("audit_finding.related[", i, "]: no accepted record ", Hex(f.related(i))));
    }
  }
  info.subject_member = (*subject)->author();
  (void)ctx;
  return Accept();
}

absl::StatusOr<Verdict> ApplyPayload(const cdl::verify::ParsedRecord& rec, const MemberState& author,
                                     const ExecContext& ctx, StateView& view, AcceptedInfo& info) {
  switch (rec.body.payload_case()) {
    case RecordBody::kMemberRegistration: return RegisterMember(rec, author, ctx, view, info);
    case RecordBody::kKeyRotation: return RotateKeys(rec, author, ctx, view, info);
    case RecordBody::kDisclosure: return Disclose(rec, author, ctx, view, info);
    case RecordBody::kProductFootprint: return SubmitFootprint(rec, author, ctx, view, info);
    case RecordBody::kAuditFinding: return RecordFinding(rec, author, ctx, view, info);
    case RecordBody::kAccreditation: return internal::Accredit(rec, author, ctx, view, info);
    case RecordBody::kCertificate: return internal::Certify(rec, author, ctx, view, info);
    case RecordBody::kRecognitionAgreement: return internal::Recognise(rec, author, ctx, view, info);
    case RecordBody::kSuspension:
    case RecordBody::kRevocation:
    case RecordBody::kReinstatement: return internal::ChangeStatus(rec, author, ctx, view, info);
    case RecordBody::kTermination: return internal::Terminate(rec, author, ctx, view, info);
    case RecordBody::kRenewal: return internal::Renew(rec, author, ctx, view, info);
    default:
      return Reject(cdl::v1::REJECT_INVALID_FIELD,
                    cdl::StrCat("body.payload: \"", rec.type,
                                 "\" records are not enabled on this ledger version yet"));
  }
}

}  // namespace

absl::StatusOr<uint64_t> LastSequence(const StateView& view, std::string_view author) {
  auto member = FindMember(view, author);
  if (!member.ok()) return member.status();
  if (member->has_value()) return (*member)->last_sequence();
  auto raw = view.Get(kIndexColumn, internal::ValidatorSequenceKey(author));
  if (absl::IsNotFound(raw.status())) return uint64_t{0};
  if (!raw.ok()) return raw.status();
  return cdl::storage::DecodeU64BE(*raw);
}

absl::StatusOr<MemberState> LoadMember(const StateView& view, std::string_view member_id) {
  auto raw = view.Get(kMembersColumn, member_id);
  if (!raw.ok()) return raw.status();
  MemberState m;
  if (!m.ParseFromString(*raw)) return absl::DataLossError(cdl::StrCat("corrupt member state for ", member_id));
  return m;
}

void ApplyFounder(const cdl::v1::MemberRegistration& founder, int64_t genesis_time_ms, StateView& view) {
  MemberState m;
  *m.mutable_registration() = founder;
  for (const auto& k : founder.keys()) {
    auto pub = cdl::verify::ParsePublicKeyInfo("founder", k);
    if (!pub.ok()) continue;  // TrustedGenesis validated every key already
    auto* ks = m.add_keys();
    *ks->mutable_key() = k;
    ks->set_key_id(pub->KeyId());
    ks->set_status(cdl::v1::ENTRY_ACTIVE);
    ks->set_added_ms(genesis_time_ms);
    ks->mutable_last_change()->set_time_ms(genesis_time_ms);
  }
  m.set_status(cdl::v1::ENTRY_ACTIVE);
  m.set_registered_by("genesis");
  m.mutable_last_change()->set_time_ms(genesis_time_ms);
  SaveMember(view, m);
}

namespace {

// CheckSignerKey's checks on `state`, the loaded state of `member`.
KeyCheck CheckMemberKey(const MemberState& state, std::string_view member, std::string_view key_id,
                        int64_t time_ms) {
  KeyCheck out;
  if (!IsActiveAt(state, time_ms)) {
    out.code = cdl::v1::REJECT_MEMBER_INACTIVE;
    out.message = cdl::StrCat("member \"", member, "\" is ",
                              state.status() == cdl::v1::ENTRY_SUSPENDED ? "suspended"
                              : state.status() == cdl::v1::ENTRY_REVOKED ? "revoked"
                                                                         : "not active");
    return out;
  }
  for (const auto& ks : state.keys()) {
    if (ks.key_id() != key_id) continue;
    if (ks.status() != cdl::v1::ENTRY_ACTIVE) {
      out.code = cdl::v1::REJECT_KEY_REVOKED;
      out.message = cdl::StrCat("key ", Hex(key_id), " of \"", member, "\" is ",
                                ks.status() == cdl::v1::ENTRY_SUSPENDED ? "suspended" : "revoked");
      return out;
    }
    out.key = ks.key();
    return out;
  }
  out.code = cdl::v1::REJECT_UNKNOWN_KEY;
  out.message = cdl::StrCat("key ", Hex(key_id), " is not a registered key of \"", member, "\"");
  return out;
}

}  // namespace

absl::StatusOr<KeyCheck> CheckSignerKey(const StateView& view, std::string_view member,
                                        std::string_view key_id, int64_t time_ms) {
  auto m = FindMember(view, member);
  if (!m.ok()) return m.status();
  if (!m->has_value()) {
    KeyCheck out;
    out.code = cdl::v1::REJECT_UNKNOWN_MEMBER;
    out.message = cdl::StrCat("member \"", member, "\" is not registered");
    return out;
  }
  return CheckMemberKey(**m, member, key_id, time_ms);
}

absl::StatusOr<KeyCheck> CheckSignerKey(const StateView& view, std::string_view member,
                                        std::string_view key_id, int64_t time_ms, std::string_view known_id,
                                        const MemberState& known) {
  if (member == known_id) return CheckMemberKey(known, member, key_id, time_ms);
  return CheckSignerKey(view, member, key_id, time_ms);
}

absl::StatusOr<ExecOutcome> ExecuteRecord(const cdl::verify::ParsedRecord& rec, const ExecContext& ctx,
                                          StateView& view) {
  ExecOutcome out;
  cdl::v1::Receipt& receipt = out.receipt;
  receipt.set_record_id(rec.id);
  receipt.set_author(rec.body.author());
  receipt.set_sequence(rec.body.sequence());
  receipt.set_height(ctx.height);
  receipt.set_index(ctx.index);
  auto reject = [&](RejectCode code, std::string message) {
    receipt.set_status(cdl::v1::RECORD_REJECTED);
    receipt.set_code(code);
    receipt.set_message(std::move(message));
    return out;
  };

  if (auto s = cdl::verify::CheckStateless(rec, ctx.chain_id); !s.ok()) {
    return reject(rec.body.chain_id() != ctx.chain_id ? cdl::v1::REJECT_WRONG_CHAIN : cdl::v1::REJECT_INVALID_FIELD,
                  std::string(s.message()));
  }
  // Validators are not members: their evidence has its own author rules.
  if (rec.body.payload_case() == RecordBody::kEvidence) {
    return internal::ExecuteEvidence(rec, ctx, view, std::move(out));
  }
  auto author_or = FindMember(view, rec.body.author());
  if (!author_or.ok()) return author_or.status();
  if (!author_or->has_value()) {
    return reject(cdl::v1::REJECT_UNKNOWN_MEMBER,
                  cdl::StrCat("body.author: \"", rec.body.author(), "\" is not a registered member"));
  }
  MemberState author = *std::move(*author_or);
  // Signatures first: a record that its signers did not (validly) sign is not
  // theirs, so it must not consume the author's sequence either.
  for (int i = 0; i < rec.signed_record.signatures_size(); ++i) {
    const auto& sig = rec.signed_record.signatures(i);
    // The author's state is loaded already (nothing has changed the view since).
    auto check = CheckSignerKey(view, sig.member(), sig.key_id(), ctx.block_time_ms, rec.body.author(), author);
    if (!check.ok()) return check.status();
    if (check->code != cdl::v1::REJECT_NONE) {
      return reject(check->code, cdl::StrCat("signed_record.signatures[", i, "]: ", check->message));
    }
    if (!rec.signatures_verified) {
      // Records that came from a proposal rather than our own admission.
      auto key = cdl::verify::ParsePublicKeyInfo("key", *check->key);
      if (!key.ok() || !cdl::verify::VerifyRecordSignature(*key, rec.id, sig.signature()).ok()) {
        return reject(cdl::v1::REJECT_BAD_SIGNATURE,
                      cdl::StrCat("signed_record.signatures[", i, "]: signature does not verify with key ",
                                  Hex(sig.key_id()), " of \"", sig.member(), "\""));
      }
    }
  }
  uint64_t expected = author.last_sequence() + 1;
  if (rec.body.sequence() != expected) {
    // A wrong sequence consumes nothing: it is a replay or out of order.
    return reject(cdl::v1::REJECT_BAD_SEQUENCE,
                  cdl::StrCat("body.sequence: ", rec.body.sequence(), " is not the next sequence of \"",
                               rec.body.author(), "\" (expected ", expected, ")"));
  }

  // From here on the sequence is consumed whatever the verdict.
  size_t mark = view.Mark();
  auto consume = [&]() {
    auto fresh = LoadMember(view, rec.body.author());
    MemberState m = fresh.ok() ? *fresh : author;
    m.set_last_sequence(rec.body.sequence());
    SaveMember(view, m);
  };

  Verdict verdict;
  if (verdict.ok() && rec.body.payload_case() != RecordBody::kRecognitionAgreement &&
      rec.signed_record.signatures_size() != 1) {
    verdict = Reject(cdl::v1::REJECT_INVALID_FIELD,
                     cdl::StrCat("signed_record.signatures: a ", rec.type, " carries only its author's signature"));
  }
  if (verdict.ok() && rec.body.created_ms() > ctx.block_time_ms + kMaxCreatedAheadMs) {
    verdict = Reject(cdl::v1::REJECT_INVALID_FIELD,
                     cdl::StrCat("body.created_ms: ", cdl::verify::FormatUtc(rec.body.created_ms()),
                                 " is more than ", kMaxCreatedAheadMs / 60000, " minutes after the block time ",
                                 cdl::verify::FormatUtc(ctx.block_time_ms), " — check the signer's clock"));
  }
  AcceptedInfo info;
  if (verdict.ok()) {
    auto v = ApplyPayload(rec, author, ctx, view, info);
    if (!v.ok()) return v.status();
    verdict = *v;
  }
  if (!verdict.ok()) {
    view.RollbackTo(mark);
    consume();
    return reject(verdict.code, verdict.message);
  }
  consume();
  receipt.set_status(cdl::v1::RECORD_ACCEPTED);
  info.state.set_record_type(rec.type);
  info.state.set_author(rec.body.author());
  info.state.set_status(cdl::v1::ENTRY_ACTIVE);
  info.state.set_height(ctx.height);
  if (info.park.empty()) info.park = author.registration().role() == cdl::v1::ROLE_PARK ? rec.body.author()
                                                                                        : author.registration().park();
  view.Put(kStatesColumn, rec.id, info.state.SerializeAsString());
  out.accepted = std::move(info);
  return out;
}

}  // namespace cdl::ledger
