#include "node/ledger/evidence_rules.h"

#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "node/ledger/rule_helpers.h"
#include "node/storage/keys.h"
#include "node/verify/authority.h"

namespace cdl::ledger::internal {
namespace {

std::string_view KindName(ConsensusStatement::Kind kind) {
  return kind == ConsensusStatement::Kind::kProposal ? "proposal" : "vote";
}

// Opens one message of the evidence and checks it is the accused's.
absl::StatusOr<Verdict> OpenMessage(const ExecContext& ctx, std::string_view field, std::string_view bytes,
                                    uint32_t accused, std::string_view accused_id, ConsensusStatement* out) {
  auto opened = ctx.evidence_verifier->Open(bytes);
  if (!opened.ok()) {
    if (absl::IsUnauthenticated(opened.status())) {
      return Reject(cdl::v1::REJECT_BAD_SIGNATURE, cdl::StrCat(field, ": ", opened.status().message()));
    }
    if (absl::IsInvalidArgument(opened.status())) {
      return Reject(cdl::v1::REJECT_INVALID_FIELD, cdl::StrCat(field, ": ", opened.status().message()));
    }
    return opened.status();
  }
  if (opened->signer != accused) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat(field, ": signed by validator \"",
                              ctx.genesis->proto().validators(static_cast<int>(opened->signer)).id(),
                              "\", not by the accused \"", accused_id, "\""));
  }
  *out = *std::move(opened);
  return Accept();
}

absl::StatusOr<Verdict> CheckEquivocation(const cdl::verify::ParsedRecord& rec, const ExecContext& ctx,
                                          StateView& view, AcceptedInfo& info) {
  const cdl::v1::Evidence& e = rec.body.evidence();
  int accused = ctx.genesis->ValidatorIndex(e.validator());
  if (accused < 0) {
    return Reject(cdl::v1::REJECT_UNKNOWN_REFERENCE,
                  cdl::StrCat("evidence.validator: \"", e.validator(), "\" is not a genesis validator"));
  }
  ConsensusStatement a, b;
  auto va = OpenMessage(ctx, "evidence.message_a", e.message_a(), static_cast<uint32_t>(accused), e.validator(), &a);
  if (!va.ok() || !va->ok()) return va;
  auto vb = OpenMessage(ctx, "evidence.message_b", e.message_b(), static_cast<uint32_t>(accused), e.validator(), &b);
  if (!vb.ok() || !vb->ok()) return vb;
  if (a.kind != b.kind) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("evidence.message_b: a ", KindName(b.kind), " does not conflict with message_a, a ",
                              KindName(a.kind)));
  }
  if (a.round != b.round) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  cdl::StrCat("evidence.message_b: round ", b.round, " is not message_a's round ", a.round));
  }
  if (a.signed_content == b.signed_content) {
    return Reject(cdl::v1::REJECT_INVALID_FIELD,
                  "evidence.message_b: signs the same content as message_a (a re-signed retransmit is not "
                  "equivocation)");
  }
  std::string key = EquivocationKey(e.validator(), a.kind, a.round);
  auto dup = view.Get(kIndexColumn, key);
  if (dup.ok()) {
    return Reject(cdl::v1::REJECT_DUPLICATE,
                  cdl::StrCat("evidence: the ", KindName(a.kind), " equivocation of validator \"", e.validator(),
                              "\" in round ", a.round, " is already on the ledger as record ", Hex(*dup)));
  }
  if (!absl::IsNotFound(dup.status())) return dup.status();
  view.Put(kIndexColumn, key, rec.id);
  info.subject_member = e.validator();
  return Accept();
}

}  // namespace

std::string ValidatorSequenceKey(std::string_view validator_id) { return cdl::StrCat("V", validator_id); }

std::string EquivocationKey(std::string_view validator_id, ConsensusStatement::Kind kind, uint64_t round) {
  std::string key = cdl::StrCat("E", validator_id);
  key.push_back('\0');
  key.push_back(kind == ConsensusStatement::Kind::kProposal ? 'p' : 'v');
  cdl::storage::AppendU64BE(&key, round);
  return key;
}

absl::StatusOr<ExecOutcome> ExecuteEvidence(const cdl::verify::ParsedRecord& rec, const ExecContext& ctx,
                                            StateView& view, ExecOutcome out) {
  cdl::v1::Receipt& receipt = out.receipt;
  auto reject = [&](cdl::v1::RejectCode code, std::string message) {
    receipt.set_status(cdl::v1::RECORD_REJECTED);
    receipt.set_code(code);
    receipt.set_message(std::move(message));
    return out;
  };
  if (ctx.genesis == nullptr || ctx.evidence_verifier == nullptr) {
    return reject(cdl::v1::REJECT_INVALID_FIELD,
                  "body.payload: this ledger has no consensus evidence verifier; evidence records cannot be checked");
  }
  const std::string& author = rec.body.author();
  int index = ctx.genesis->ValidatorIndex(author);
  if (index < 0) {
    return reject(cdl::v1::REJECT_ROLE_NOT_ALLOWED,
                  cdl::StrCat("body.author: \"", author,
                              "\" is not a genesis validator (evidence records are authored by validators)"));
  }
  // Signatures before the sequence: what the validator did not sign consumes nothing.
  if (rec.signed_record.signatures_size() != 1) {
    return reject(cdl::v1::REJECT_INVALID_FIELD,
                  "signed_record.signatures: an evidence record carries only its author's signature");
  }
  const cdl::crypto::PublicKey& key = ctx.genesis->validator_key(index);
  const auto& sig = rec.signed_record.signatures(0);
  if (sig.key_id() != key.KeyId()) {
    return reject(cdl::v1::REJECT_UNKNOWN_KEY,
                  cdl::StrCat("signed_record.signatures[0].key_id: ", Hex(sig.key_id()),
                              " is not the genesis key of validator \"", author, "\""));
  }
  // Always verified here: evidence is rare, and the key comes from the
  // genesis rather than from what admission looked up.
  if (!cdl::verify::VerifyRecordSignature(key, rec.id, sig.signature()).ok()) {
    return reject(cdl::v1::REJECT_BAD_SIGNATURE,
                  cdl::StrCat("signed_record.signatures[0]: signature does not verify with the genesis key of "
                              "validator \"", author, "\""));
  }
  auto last = LastSequence(view, author);
  if (!last.ok()) return last.status();
  if (rec.body.sequence() != *last + 1) {
    return reject(cdl::v1::REJECT_BAD_SEQUENCE,
                  cdl::StrCat("body.sequence: ", rec.body.sequence(), " is not the next sequence of \"", author,
                              "\" (expected ", *last + 1, ")"));
  }

  // From here on the sequence is consumed whatever the verdict.
  size_t mark = view.Mark();
  auto consume = [&]() -> absl::Status {
    auto member = FindMember(view, author);
    if (!member.ok()) return member.status();
    if (member->has_value()) {
      cdl::v1::MemberState m = **member;
      m.set_last_sequence(rec.body.sequence());
      SaveMember(view, m);
    } else {
      view.Put(kIndexColumn, ValidatorSequenceKey(author), cdl::storage::EncodeU64BE(rec.body.sequence()));
    }
    return absl::OkStatus();
  };
  Verdict verdict;
  if (rec.body.created_ms() > ctx.block_time_ms + kMaxCreatedAheadMs) {
    verdict = Reject(cdl::v1::REJECT_INVALID_FIELD,
                     cdl::StrCat("body.created_ms: ", cdl::verify::FormatUtc(rec.body.created_ms()),
                                 " is more than ", kMaxCreatedAheadMs / 60000, " minutes after the block time ",
                                 cdl::verify::FormatUtc(ctx.block_time_ms), " — check the signer's clock"));
  }
  AcceptedInfo info;
  if (verdict.ok()) {
    auto v = CheckEquivocation(rec, ctx, view, info);
    if (!v.ok()) return v.status();
    verdict = *v;
  }
  if (!verdict.ok()) {
    view.RollbackTo(mark);
    if (auto s = consume(); !s.ok()) return s;
    return reject(verdict.code, verdict.message);
  }
  if (auto s = consume(); !s.ok()) return s;
  receipt.set_status(cdl::v1::RECORD_ACCEPTED);
  info.state.set_record_type(rec.type);
  info.state.set_author(author);
  info.state.set_status(cdl::v1::ENTRY_ACTIVE);
  info.state.set_height(ctx.height);
  view.Put(kStatesColumn, rec.id, info.state.SerializeAsString());
  out.accepted = std::move(info);
  return out;
}

}  // namespace cdl::ledger::internal
