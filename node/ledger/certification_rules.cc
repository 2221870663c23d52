#include "node/ledger/certification_rules.h"

#include <algorithm>
#include <vector>

#include "crypto/str_cat.h"
#include "node/ledger/state_tree.h"
#include "node/verify/authority.h"

namespace cdl::ledger::internal {
namespace {

using cdl::v1::EntryStatus;
using cdl::v1::MemberState;
using cdl::v1::RecordBody;
using cdl::v1::RecordState;
using cdl::verify::ParsedRecord;

constexpr std::string_view kCertificateType = "certificate";
constexpr std::string_view kAccreditationType = "accreditation";
constexpr std::string_view kAgreementType = "recognition_agreement";

// Lists of record ids in kIndexColumn (concatenated 32-byte ids, in
// acceptance order): the accreditations of a certifier, the certificates of a
// subject. Read and written through the StateView so records earlier in the
// same block are seen.
std::string AccreditationsKey(std::string_view certifier) { return cdl::StrCat("A:", certifier); }
std::string CertificatesKey(std::string_view subject) { return cdl::StrCat("C:", subject); }

absl::StatusOr<std::vector<std::string>> ReadIdList(const StateView& view, const std::string& key) {
  auto raw = view.Get(kIndexColumn, key);
  if (absl::IsNotFound(raw.status())) return std::vector<std::string>();
  if (!raw.ok()) return raw.status();
  if (raw->size() % 32 != 0) return absl::DataLossError("corrupt record id list");
  std::vector<std::string> out;
  for (size_t i = 0; i < raw->size(); i += 32) out.push_back(raw->substr(i, 32));
  return out;
}

absl::Status AppendId(StateView& view, const std::string& key, std::string_view id) {
  auto raw = view.Get(kIndexColumn, key);
  if (!raw.ok() && !absl::IsNotFound(raw.status())) return raw.status();
  view.Put(kIndexColumn, key, cdl::StrCat(raw.ok() ? *raw : std::string(), id));
  return absl::OkStatus();
}

// The body of an accepted record (stored exactly as signed).
absl::StatusOr<RecordBody> LoadBody(const StateView& view, std::string_view id) {
  auto raw = view.Get(kRecordsColumn, id);
  if (!raw.ok()) return raw.status();
  cdl::v1::SignedRecord signed_record;
  RecordBody body;
  if (!signed_record.ParseFromString(*raw) || !body.ParseFromString(signed_record.body())) {
    return absl::DataLossError(cdl::StrCat("corrupt record ", Hex(id)));
  }
  return body;
}

std::string StatusName(EntryStatus s) {
  switch (s) {
    case cdl::v1::ENTRY_ACTIVE: return "active";
    case cdl::v1::ENTRY_SUSPENDED: return "suspended";
    case cdl::v1::ENTRY_REVOKED: return "revoked";
    case cdl::v1::ENTRY_TERMINATED: return "terminated";
    case cdl::v1::ENTRY_SUPERSEDED: return "superseded";
    default: return "without status";
  }
}

std::string TypeName(std::string_view record_type) {
  return record_type == kAgreementType ? std::string("recognition agreement") : std::string(record_type);
}

bool IsAuthority(const MemberState& m) {
  return m.registration().role() == cdl::v1::ROLE_REGULATOR || m.registration().role() == cdl::v1::ROLE_ACCREDITOR;
}

bool IsRegulatorOf(const MemberState& m, std::string_view jurisdiction) {
  return m.registration().role() == cdl::v1::ROLE_REGULATOR && m.registration().jurisdiction() == jurisdiction;
}

Verdict EndsTooEarly(std::string_view field, int64_t until, const ExecContext& ctx) {
  return Reject(cdl::v1::REJECT_INVALID_FIELD,
                cdl::StrCat(field, ": ", cdl::verify::FormatUtc(until), " is not after the block time ",
                            cdl::verify::FormatUtc(ctx.block_time_ms)));
}

// REJECT_NOT_ACCREDITED (message from the shared predicate) unless `certifier`
// holds an accreditation for `standard` in `jurisdiction` at block time.
absl::StatusOr<Verdict> CheckCertifierAccredited(const StateView& view, std::string_view field,
                                                 std::string_view certifier, std::string_view standard,
                                                 std::string_view jurisdiction, const ExecContext& ctx) {
  auto ids = ReadIdList(view, AccreditationsKey(certifier));
  if (!ids.ok()) return ids.status();
  std::vector<cdl::v1::Accreditation> accreditations;
  std::vector<cdl::v1::StateEntry> statuses;
  for (const std::string& id : *ids) {
    auto body = LoadBody(view, id);
    if (!body.ok()) return body.status();
    auto st = LoadRecordState(view, id);
    if (!st.ok()) return st.status();
    if (!st->has_value()) return absl::DataLossError("indexed accreditation without state");
    accreditations.push_back(body->accreditation());
    statuses.push_back(RecordEntry(**st));
  }
  std::vector<cdl::verify::AccreditationRef> refs;
  for (size_t i = 0; i < accreditations.size(); ++i) refs.push_back({&accreditations[i], &statuses[i]});
  absl::Status s = cdl::verify::CheckAccredited(refs, certifier, standard, jurisdiction, ctx.block_time_ms);
  if (s.ok()) return Accept();
  if (!absl::IsFailedPrecondition(s)) return s;
  return Reject(cdl::v1::REJECT_NOT_ACCREDITED, cdl::StrCat(field, ": ", s.message()));
}

// The new status for a suspension / revocation / reinstatement of something
// whose status is `from`, or why not.
Verdict Transition(RecordBody::PayloadCase kind, EntryStatus from, std::string_view field, std::string_view what,
                   EntryStatus* to) {
  switch (kind) {
    case RecordBody::kSuspension:
      if (from == cdl::v1::ENTRY_ACTIVE) {
        *to = cdl::v1::ENTRY_SUSPENDED;
        return Accept();
      }
      return Reject(cdl::v1::REJECT_INVALID_STATE,
                    cdl::StrCat(field, ": ", what, " is ", StatusName(from), "; only an active one can be suspended"));
    case RecordBody::kRevocation:
      if (from == cdl::v1::ENTRY_ACTIVE || from == cdl::v1::ENTRY_SUSPENDED) {
        *to = cdl::v1::ENTRY_REVOKED;
        return Accept();
      }
      return Reject(cdl::v1::REJECT_INVALID_STATE,
                    cdl::StrCat(field, ": ", what, " is already ", StatusName(from)));
    case RecordBody::kReinstatement:
      if (from == cdl::v1::ENTRY_SUSPENDED) {
        *to = cdl::v1::ENTRY_ACTIVE;
        return Accept();
      }
      if (from == cdl::v1::ENTRY_REVOKED) {
        return Reject(cdl::v1::REJECT_INVALID_STATE,
                      cdl::StrCat(field, ": ", what, " is revoked, and revocation is final"));
      }
      return Reject(cdl::v1::REJECT_INVALID_STATE,
                    cdl::StrCat(field, ": ", what, " is ", StatusName(from), ", not suspended"));
    default:
      return Reject(cdl::v1::REJECT_INVALID_FIELD, "body.payload: not a status change");
  }
}

struct StatusRequest {
  const cdl::v1::Target* target = nullptr;
  std::string reason;
  std::string verb;  // "suspend", "revoke", "reinstate"
};

StatusRequest RequestOf(const RecordBody& body) {
  switch (body.payload_case()) {
    case RecordBody::kSuspension: return {&body.suspension().target(), body.suspension().reason(), "suspend"};
    case RecordBody::kRevocation: return {&body.revocation().target(), body.revocation().reason(), "revoke"};
    default: return {&body.reinstatement().target(), body.reinstatement().reason(), "reinstate"};
  }
}

cdl::v1::StatusChange ChangeWithReason(const ParsedRecord& rec, const ExecContext& ctx, std::string reason) {
  cdl::v1::StatusChange c = ChangeBy(rec, ctx);
  c.set_reason(std::move(reason));
  return c;
}

// A regulator's suspension is lifted by a regulator only.
absl::StatusOr<Verdict> CheckWhoLifts(const StateView& view, const ParsedRecord& rec, const MemberState& author,
                                      const cdl::v1::StatusChange& last, std::string_view what) {
  if (rec.body.payload_case() != RecordBody::kReinstatement) return Accept();
  if (author.registration().role() == cdl::v1::ROLE_REGULATOR || last.by().empty()) return Accept();
  auto by = FindMember(view, last.by());
  if (!by.ok()) return by.status();
  if (by->has_value() && (*by)->registration().role() == cdl::v1::ROLE_REGULATOR) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: ", what, " was suspended by regulator \"", last.by(),
                              "\"; only a regulator may reinstate it"));
  }
  return Accept();
}

absl::StatusOr<Verdict> ChangeRecordStatus(const ParsedRecord& rec, const MemberState& author,
                                           const ExecContext& ctx, StateView& view, AcceptedInfo& info,
                                           const StatusRequest& req) {
  const std::string field = cdl::StrCat(rec.type, ".target.record_id");
  const std::string& id = req.target->record_id();
  auto st = LoadRecordState(view, id);
  if (!st.ok()) return st.status();
  if (!st->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE, cdl::StrCat(field, ": no accepted record ", Hex(id)));
  }
  RecordState state = **st;
  if (!HasStateEntry(state.record_type())) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat(field, ": record ", Hex(id), " is a ", state.record_type(),
                              "; only certificates, accreditations and recognition agreements have a status to ",
                              req.verb));
  }
  auto body = LoadBody(view, id);
  if (!body.ok()) return body.status();
  const std::string& me = rec.body.author();
  std::string what = cdl::StrCat(TypeName(state.record_type()), " ", Hex(id));
  bool allowed = false;
  std::string who;
  if (state.record_type() == kCertificateType) {
    const auto& c = body->certificate();
    auto certifier = FindMember(view, state.author());
    if (!certifier.ok()) return certifier.status();
    allowed = me == state.author() || IsRegulatorOf(author, c.jurisdiction()) ||
              (certifier->has_value() && IsRegulatorOf(author, (*certifier)->registration().jurisdiction()));
    who = cdl::StrCat("its certifier \"", state.author(), "\" or a regulator of ", c.jurisdiction());
  } else if (state.record_type() == kAccreditationType) {
    const auto& a = body->accreditation();
    allowed = me == state.author();
    for (const auto& j : a.jurisdictions()) allowed = allowed || IsRegulatorOf(author, j);
    who = cdl::StrCat("its issuer \"", state.author(), "\" or a regulator of its jurisdiction");
  } else {
    const auto& a = body->recognition_agreement();
    allowed = me == a.party_a() || me == a.party_b();
    who = cdl::StrCat("party \"", a.party_a(), "\" or \"", a.party_b(), "\"");
  }
  if (!allowed) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: \"", me, "\" may not ", req.verb, " ", what, " (", who, " may)"));
  }
  EntryStatus to;
  if (Verdict v = Transition(rec.body.payload_case(), state.status(), field, what, &to); !v.ok()) return v;
  auto lift = CheckWhoLifts(view, rec, author, state.last_change(), what);
  if (!lift.ok() || !lift->ok()) return lift;
  state.set_status(to);
  state.set_reason(req.reason);
  *state.mutable_last_change() = ChangeWithReason(rec, ctx, req.reason);
  view.Put(kStatesColumn, id, state.SerializeAsString());
  info.subject_member = state.subject_member().empty() ? state.author() : state.subject_member();
  return Accept();
}

absl::StatusOr<Verdict> ChangeMemberOrKeyStatus(const ParsedRecord& rec, const MemberState& author,
                                                const ExecContext& ctx, StateView& view, AcceptedInfo& info,
                                                const StatusRequest& req) {
  const cdl::v1::Target& t = *req.target;
  const bool key = !t.key_id().empty();
  const std::string field = cdl::StrCat(rec.type, ".target.", key ? "key_id" : "member");
  auto target = FindMember(view, t.member());
  if (!target.ok()) return target.status();
  if (!target->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_MEMBER,
                  cdl::StrCat(rec.type, ".target.member: \"", t.member(), "\" is not registered"));
  }
  MemberState m = **target;
  const std::string& jurisdiction = m.registration().jurisdiction();
  if (!IsRegulatorOf(author, jurisdiction)) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: only a regulator of ", jurisdiction, " may ", req.verb, " member \"",
                              t.member(), "\"", key ? " or its keys" : ""));
  }
  if (t.member() == rec.body.author()) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat(rec.type, ".target.member: a regulator may not ", req.verb,
                              " itself or its own keys (another regulator may; keys rotate with key_rotation)"));
  }
  cdl::v1::StatusChange change = ChangeWithReason(rec, ctx, req.reason);
  if (!key) {
    std::string what = cdl::StrCat("member \"", t.member(), "\"");
    EntryStatus to;
    if (Verdict v = Transition(rec.body.payload_case(), m.status(), field, what, &to); !v.ok()) return v;
    m.set_status(to);
    *m.mutable_last_change() = std::move(change);
  } else {
    auto it = std::find_if(m.mutable_keys()->begin(), m.mutable_keys()->end(),
                           [&](const auto& ks) { return ks.key_id() == t.key_id(); });
    if (it == m.mutable_keys()->end()) {
      return Reject(cdl::v1::REJECT_UNKNOWN_KEY,
                    cdl::StrCat(field, ": ", Hex(t.key_id()), " is not a key of \"", t.member(), "\""));
    }
    std::string what = cdl::StrCat("key ", Hex(t.key_id()), " of \"", t.member(), "\"");
    EntryStatus to;
    if (Verdict v = Transition(rec.body.payload_case(), it->status(), field, what, &to); !v.ok()) return v;
    it->set_status(to);
    if (to == cdl::v1::ENTRY_REVOKED) it->set_revoked_ms(ctx.block_time_ms);
    *it->mutable_last_change() = std::move(change);
  }
  SaveMember(view, m);
  info.subject_member = t.member();
  return Accept();
}

}  // namespace

cdl::v1::StatusChange ChangeBy(const ParsedRecord& rec, const ExecContext& ctx) {
  cdl::v1::StatusChange c;
  c.set_time_ms(ctx.block_time_ms);
  c.set_record(rec.id);
  c.set_by(rec.body.author());
  return c;
}

absl::StatusOr<Verdict> Accredit(const ParsedRecord& rec, const MemberState& author, const ExecContext& ctx,
                                 StateView& view, AcceptedInfo& info) {
  const auto& a = rec.body.accreditation();
  if (!IsAuthority(author)) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: a ", RoleName(author.registration().role()),
                              " may not accredit (accreditors and regulators may)"));
  }
  auto certifier = FindMember(view, a.certifier());
  if (!certifier.ok()) return certifier.status();
  if (!certifier->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_MEMBER,
                  cdl::StrCat("accreditation.certifier: \"", a.certifier(), "\" is not registered"));
  }
  if ((*certifier)->registration().role() != cdl::v1::ROLE_CERTIFIER) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("accreditation.certifier: \"", a.certifier(), "\" is a ",
                              RoleName((*certifier)->registration().role()), ", not a certifier"));
  }
  if (!IsActiveAt(**certifier, ctx.block_time_ms)) {
    return Reject(cdl::v1::REJECT_MEMBER_INACTIVE,
                  cdl::StrCat("accreditation.certifier: \"", a.certifier(), "\" is not active"));
  }
  const std::string& own = author.registration().jurisdiction();
  for (int i = 0; i < a.jurisdictions_size(); ++i) {
    if (a.jurisdictions(i) != own) {
      return Reject(cdl::v1::REJECT_JURISDICTION,
                    cdl::StrCat("accreditation.jurisdictions[", i, "]: \"", a.jurisdictions(i),
                                "\" is outside the author's jurisdiction \"", own, "\""));
    }
  }
  if (a.valid_until_ms() <= ctx.block_time_ms) {
    return EndsTooEarly("accreditation.valid_until_ms", a.valid_until_ms(), ctx);
  }
  if (auto s = AppendId(view, AccreditationsKey(a.certifier()), rec.id); !s.ok()) return s;
  info.state.set_valid_until_ms(a.valid_until_ms());
  *info.state.mutable_last_change() = ChangeBy(rec, ctx);
  info.subject_member = a.certifier();
  return Accept();
}

absl::StatusOr<Verdict> Certify(const ParsedRecord& rec, const MemberState& author, const ExecContext& ctx,
                                StateView& view, AcceptedInfo& info) {
  const auto& c = rec.body.certificate();
  if (author.registration().role() != cdl::v1::ROLE_CERTIFIER) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: a ", RoleName(author.registration().role()),
                              " may not issue certificates (certifiers may)"));
  }
  auto subject = LoadRecordState(view, c.subject());
  if (!subject.ok()) return subject.status();
  if (!subject->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                  cdl::StrCat("certificate.subject: no accepted record ", Hex(c.subject())));
  }
  const RecordState& s = **subject;
  if (s.record_type() != "disclosure" && s.record_type() != "product_footprint") {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("certificate.subject: record ", Hex(c.subject()), " is a ", s.record_type(),
                              ", not a disclosure or product footprint"));
  }
  if (s.status() == cdl::v1::ENTRY_SUPERSEDED) {
    return Reject(cdl::v1::REJECT_SUPERSEDED,
                  cdl::StrCat("certificate.subject: record ", Hex(c.subject()), " was superseded by ",
                              Hex(s.superseded_by()), "; certify the current version"));
  }
  auto organisation = FindMember(view, s.author());
  if (!organisation.ok()) return organisation.status();
  if (!organisation->has_value()) return absl::DataLossError("subject's author is not a member");
  const std::string& subject_j = (*organisation)->registration().jurisdiction();
  if (c.jurisdiction() != subject_j) {
    return Reject(cdl::v1::REJECT_JURISDICTION,
                  cdl::StrCat("certificate.jurisdiction: \"", c.jurisdiction(), "\" is not the jurisdiction \"",
                              subject_j, "\" of the subject's organisation \"", s.author(), "\""));
  }
  if (c.valid_until_ms() <= ctx.block_time_ms) {
    return EndsTooEarly("certificate.valid_until_ms", c.valid_until_ms(), ctx);
  }
  auto accredited = CheckCertifierAccredited(view, "certificate.standard", rec.body.author(), c.standard(),
                                             c.jurisdiction(), ctx);
  if (!accredited.ok() || !accredited->ok()) return accredited;
  if (auto st = AppendId(view, CertificatesKey(c.subject()), rec.id); !st.ok()) return st;
  info.state.set_valid_until_ms(c.valid_until_ms());
  *info.state.mutable_last_change() = ChangeBy(rec, ctx);
  info.subject_member = s.author();
  info.park = s.park();
  info.period = s.period();
  return Accept();
}

absl::StatusOr<Verdict> Recognise(const ParsedRecord& rec, const MemberState& author, const ExecContext& ctx,
                                  StateView& view, AcceptedInfo& info) {
  const auto& a = rec.body.recognition_agreement();
  const auto& sigs = rec.signed_record.signatures();
  if (a.party_a() != rec.body.author()) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("recognition_agreement.party_a: \"", a.party_a(), "\" must be the author \"",
                              rec.body.author(), "\""));
  }
  if (sigs.size() < 2) {
    return Reject(cdl::v1::REJECT_MISSING_SIGNATURE,
                  cdl::StrCat("signed_record.signatures: party_b \"", a.party_b(),
                              "\" has not signed; an agreement needs the signatures of both parties"));
  }
  if (sigs.size() > 2) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  "signed_record.signatures: an agreement carries exactly two signatures, party_a's and party_b's");
  }
  if (sigs[1].member() != a.party_b()) {
    return Reject(cdl::v1::REJECT_MISSING_SIGNATURE,
                  cdl::StrCat("signed_record.signatures[1]: is by \"", sigs[1].member(), "\", not by party_b \"",
                              a.party_b(), "\""));
  }
  auto check_party = [&](const MemberState& m, std::string_view field, std::string_view jurisdiction) -> Verdict {
    if (!IsAuthority(m)) {
      return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                    cdl::StrCat(field, ": \"", m.registration().member_id(), "\" is a ",
                                RoleName(m.registration().role()), "; parties are accreditors or regulators"));
    }
    if (m.registration().jurisdiction() != jurisdiction) {
      return Reject(cdl::v1::REJECT_JURISDICTION,
                    cdl::StrCat(field, ": \"", m.registration().member_id(), "\" is of jurisdiction \"",
                                m.registration().jurisdiction(), "\", not \"", jurisdiction, "\""));
    }
    return Accept();
  };
  if (Verdict v = check_party(author, "recognition_agreement.party_a", a.jurisdiction_a()); !v.ok()) return v;
  auto party_b = FindMember(view, a.party_b());
  if (!party_b.ok()) return party_b.status();
  if (!party_b->has_value()) {  // its signature was checked, so this is a store inconsistency
    return absl::DataLossError("party_b signed but is not a member");
  }
  if (Verdict v = check_party(**party_b, "recognition_agreement.party_b", a.jurisdiction_b()); !v.ok()) return v;
  if (a.valid_until_ms() <= ctx.block_time_ms) {
    return EndsTooEarly("recognition_agreement.valid_until_ms", a.valid_until_ms(), ctx);
  }
  info.state.set_valid_until_ms(a.valid_until_ms());
  *info.state.mutable_last_change() = ChangeBy(rec, ctx);
  info.subject_member = a.party_b();
  return Accept();
}

absl::StatusOr<Verdict> ChangeStatus(const ParsedRecord& rec, const MemberState& author, const ExecContext& ctx,
                                     StateView& view, AcceptedInfo& info) {
  StatusRequest req = RequestOf(rec.body);
  if (!req.target->record_id().empty()) return ChangeRecordStatus(rec, author, ctx, view, info, req);
  return ChangeMemberOrKeyStatus(rec, author, ctx, view, info, req);
}

absl::StatusOr<Verdict> Terminate(const ParsedRecord& rec, const MemberState& author, const ExecContext& ctx,
                                  StateView& view, AcceptedInfo& info) {
  const auto& t = rec.body.termination();
  auto st = LoadRecordState(view, t.agreement());
  if (!st.ok()) return st.status();
  if (!st->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                  cdl::StrCat("termination.agreement: no accepted record ", Hex(t.agreement())));
  }
  RecordState state = **st;
  if (state.record_type() != kAgreementType) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("termination.agreement: record ", Hex(t.agreement()), " is a ", state.record_type(),
                              ", not a recognition agreement"));
  }
  auto body = LoadBody(view, t.agreement());
  if (!body.ok()) return body.status();
  const auto& a = body->recognition_agreement();
  if (rec.body.author() != a.party_a() && rec.body.author() != a.party_b()) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: \"", rec.body.author(), "\" is not a party of the agreement (\"",
                              a.party_a(), "\" and \"", a.party_b(), "\" are)"));
  }
  if (state.status() != cdl::v1::ENTRY_ACTIVE && state.status() != cdl::v1::ENTRY_SUSPENDED) {
    return Reject(cdl::v1::REJECT_INVALID_STATE,
                  cdl::StrCat("termination.agreement: the agreement is already ", StatusName(state.status())));
  }
  state.set_status(cdl::v1::ENTRY_TERMINATED);
  state.set_reason(t.reason());
  *state.mutable_last_change() = ChangeWithReason(rec, ctx, t.reason());
  view.Put(kStatesColumn, t.agreement(), state.SerializeAsString());
  info.subject_member = a.party_a() == rec.body.author() ? a.party_b() : a.party_a();
  (void)author;
  return Accept();
}

absl::StatusOr<Verdict> Renew(const ParsedRecord& rec, const MemberState& author, const ExecContext& ctx,
                              StateView& view, AcceptedInfo& info) {
  const auto& r = rec.body.renewal();
  auto st = LoadRecordState(view, r.target());
  if (!st.ok()) return st.status();
  if (!st->has_value()) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE, cdl::StrCat("renewal.target: no accepted record ", Hex(r.target())));
  }
  RecordState state = **st;
  bool certificate = state.record_type() == kCertificateType;
  if (!certificate && state.record_type() != kAccreditationType) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("renewal.target: record ", Hex(r.target()), " is a ", state.record_type(),
                              "; only accreditations and certificates are renewed"));
  }
  std::string what = cdl::StrCat(state.record_type(), " ", Hex(r.target()));
  if (rec.body.author() != state.author()) {
    return Reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: only the ", certificate ? "certifier" : "issuer", " \"", state.author(),
                              "\" may renew ", what));
  }
  if (state.status() != cdl::v1::ENTRY_ACTIVE) {
    return Reject(cdl::v1::REJECT_INVALID_STATE,
                  cdl::StrCat("renewal.target: ", what, " is ", StatusName(state.status()), "; only an active one is renewed"));
  }
  if (r.valid_until_ms() <= state.valid_until_ms()) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("renewal.valid_until_ms: ", cdl::verify::FormatUtc(r.valid_until_ms()),
                              " does not extend the current end ", cdl::verify::FormatUtc(state.valid_until_ms())));
  }
  if (r.valid_until_ms() <= ctx.block_time_ms) return EndsTooEarly("renewal.valid_until_ms", r.valid_until_ms(), ctx);
  if (certificate) {
    if (!state.subject_superseded_by().empty()) {
      return Reject(cdl::v1::REJECT_SUPERSEDED,
                    cdl::StrCat("renewal.target: the subject of ", what, " was superseded by ",
                                Hex(state.subject_superseded_by()), "; certify the current version instead"));
    }
    auto body = LoadBody(view, r.target());
    if (!body.ok()) return body.status();
    const auto& c = body->certificate();
    auto accredited = CheckCertifierAccredited(view, "renewal.target", rec.body.author(), c.standard(),
                                               c.jurisdiction(), ctx);
    if (!accredited.ok() || !accredited->ok()) return accredited;
  }
  state.set_valid_until_ms(r.valid_until_ms());
  *state.mutable_last_change() = ChangeBy(rec, ctx);
  view.Put(kStatesColumn, r.target(), state.SerializeAsString());
  info.subject_member = state.subject_member().empty() ? state.author() : state.subject_member();
  (void)author;
  return Accept();
}

absl::Status MarkCertificatesOfSupersededSubject(StateView& view, std::string_view subject, std::string_view by) {
  auto ids = ReadIdList(view, CertificatesKey(subject));
  if (!ids.ok()) return ids.status();
  for (const std::string& id : *ids) {
    auto st = LoadRecordState(view, id);
    if (!st.ok()) return st.status();
    if (!st->has_value()) return absl::DataLossError("indexed certificate without state");
    RecordState state = **st;
    state.set_subject_superseded_by(std::string(by));
    view.Put(kStatesColumn, id, state.SerializeAsString());
  }
  return absl::OkStatus();
}

}  // namespace cdl::ledger::internal
