#include "node/consensus/certificates.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/consensus/encoding.h"

namespace cdl::consensus {
namespace {

// Checks that `signer` is a validator index not seen before.
absl::Status CheckSigner(uint32_t signer, uint32_t num_validators,
                         std::vector<bool>& seen, const char* what) {
  if (signer >= num_validators) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": signer ", signer, " is not a validator"));
  }
  if (seen[signer]) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": validator ", signer, " signs twice"));
  }
  seen[signer] = true;
  return absl::OkStatus();
}

absl::Status CheckQuorumSize(size_t count, uint32_t num_validators,
                             const char* what) {
  if (count < QuorumSize(num_validators)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", count,
                                                   " signatures, quorum is ",
                                                   QuorumSize(num_validators)));
  }
  return absl::OkStatus();
}

bool GenesisQcEquals(std::string_view chain_id, const v1::QuorumCert& qc) {
  return qc.round() == 0 && qc.height() == 0 && qc.parent_round() == 0 &&
         qc.parent_id().empty() && qc.votes_size() == 0 &&
         qc.block_id() == GenesisBlockId(chain_id);
}

}  // namespace

uint32_t QuorumSize(uint32_t num_validators) {
  return num_validators * 2 / 3 + 1;
}

uint32_t MaxFaulty(uint32_t num_validators) {
  return num_validators == 0 ? 0 : (num_validators - 1) / 3;
}

bool QcCommitsParent(const v1::QuorumCert& qc) {
  return qc.round() > 0 && qc.height() > 1 &&
         qc.parent_round() + 1 == qc.round();
}

absl::Status VerifyQuorumCert(std::string_view chain_id,
                              uint32_t num_validators, const Verifier& verifier,
                              const v1::QuorumCert& qc) {
  if (qc.round() == 0) {
    if (GenesisQcEquals(chain_id, qc)) return absl::OkStatus();
    return absl::InvalidArgumentError("qc: round 0 but not the genesis QC");
  }
  if (qc.height() == 0 || qc.parent_round() >= qc.round()) {
    return absl::InvalidArgumentError("qc: inconsistent height or rounds");
  }
  if (qc.height() == 1 &&
      (qc.parent_round() != 0 || qc.parent_id() != GenesisBlockId(chain_id))) {
    return absl::InvalidArgumentError("qc: height 1 must extend genesis");
  }
  absl::Status size = CheckQuorumSize(qc.votes_size(), num_validators, "qc");
  if (!size.ok()) return size;
  const bool commits = QcCommitsParent(qc);
  const std::string vote_msg =
      VoteMessage(chain_id, qc.block_id(), qc.round(), qc.height(),
                  qc.parent_id(), qc.parent_round());
  const std::string commit_msg =
      commits ? CommitMessage(chain_id, qc.height() - 1, qc.parent_id())
              : std::string();
  std::vector<bool> seen(num_validators, false);
  for (const v1::VoteSignature& v : qc.votes()) {
    absl::Status s = CheckSigner(v.voter(), num_validators, seen, "qc");
    if (!s.ok()) return s;
    if (!verifier.Verify(v.voter(), kVoteDomain, vote_msg, v.signature())) {
      return absl::InvalidArgumentError(
          absl::StrCat("qc: bad vote signature of validator ", v.voter()));
    }
    if (commits) {
      if (!verifier.Verify(v.voter(), kCommitDomain, commit_msg,
                           v.commit_signature())) {
        return absl::InvalidArgumentError(
            absl::StrCat("qc: bad commit signature of validator ", v.voter()));
      }
    } else if (!v.commit_signature().empty()) {
      return absl::InvalidArgumentError(
          "qc: commit signature on a vote that commits nothing");
    }
  }
  return absl::OkStatus();
}

absl::Status VerifyTimeoutCert(std::string_view chain_id,
                               uint32_t num_validators,
                               const Verifier& verifier,
                               const v1::TimeoutCert& tc) {
  if (tc.round() == 0) return absl::InvalidArgumentError("tc: round 0");
  absl::Status size = CheckQuorumSize(tc.timeouts_size(), num_validators, "tc");
  if (!size.ok()) return size;
  std::vector<bool> seen(num_validators, false);
  for (const v1::TimeoutSignature& t : tc.timeouts()) {
    absl::Status s = CheckSigner(t.sender(), num_validators, seen, "tc");
    if (!s.ok()) return s;
    if (t.high_qc_round() >= tc.round()) {
      return absl::InvalidArgumentError("tc: high QC round not below round");
    }
    if (!verifier.Verify(
            t.sender(), kTimeoutDomain,
            TimeoutMessage(chain_id, tc.round(), t.high_qc_round()),
            t.signature())) {
      return absl::InvalidArgumentError(
          absl::StrCat("tc: bad timeout signature of validator ", t.sender()));
    }
  }
  return absl::OkStatus();
}

TcSummary SummarizeTc(const v1::TimeoutCert& tc) {
  TcSummary s;
  s.round = tc.round();
  for (const v1::TimeoutSignature& t : tc.timeouts()) {
    s.max_high_qc_round = std::max(s.max_high_qc_round, t.high_qc_round());
  }
  return s;
}

v1::CommitCertificate CommitCertificateFromQc(const v1::QuorumCert& qc) {
  v1::CommitCertificate cert;
  cert.set_height(qc.height() - 1);
  cert.set_block_id(qc.parent_id());
  for (const v1::VoteSignature& v : qc.votes()) {
    v1::CommitSig* sig = cert.add_signatures();
    sig->set_validator(v.voter());
    sig->set_signature(v.commit_signature());
  }
  return cert;
}

absl::Status VerifyCommitCertificate(std::string_view chain_id,
                                     uint32_t num_validators,
                                     const Verifier& verifier,
                                     const v1::CommitCertificate& cert) {
  if (cert.height() == 0) {
    return absl::InvalidArgumentError("commit certificate: height 0");
  }
  absl::Status size = CheckQuorumSize(cert.signatures_size(), num_validators,
                                      "commit certificate");
  if (!size.ok()) return size;
  const std::string msg =
      CommitMessage(chain_id, cert.height(), cert.block_id());
  std::vector<bool> seen(num_validators, false);
  for (const v1::CommitSig& sig : cert.signatures()) {
    absl::Status s = CheckSigner(sig.validator(), num_validators, seen,
                                 "commit certificate");
    if (!s.ok()) return s;
    if (!verifier.Verify(sig.validator(), kCommitDomain, msg,
                         sig.signature())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "commit certificate: bad signature of validator ", sig.validator()));
    }
  }
  return absl::OkStatus();
}

absl::Status VerifyEvidence(std::string_view chain_id, uint32_t num_validators,
                            const Verifier& verifier,
                            const v1::EquivocationEvidence& evidence) {
  const uint32_t v = evidence.validator();
  if (v >= num_validators) {
    return absl::InvalidArgumentError("evidence: not a validator");
  }
  if (evidence.has_proposal_a() && evidence.has_proposal_b()) {
    const v1::SignedProposalHeader& a = evidence.proposal_a();
    const v1::SignedProposalHeader& b = evidence.proposal_b();
    if (a.author() != v || b.author() != v || a.round() != evidence.round() ||
        b.round() != evidence.round()) {
      return absl::InvalidArgumentError("evidence: proposals do not match");
    }
    if (a.block_id() == b.block_id()) {
      return absl::InvalidArgumentError("evidence: same block, no conflict");
    }
    for (const v1::SignedProposalHeader* p : {&a, &b}) {
      if (!verifier.Verify(v, kProposalDomain,
                           ProposalMessage(chain_id, p->round(), p->block_id()),
                           p->signature())) {
        return absl::InvalidArgumentError("evidence: bad proposal signature");
      }
    }
    return absl::OkStatus();
  }
  if (evidence.has_vote_a() && evidence.has_vote_b()) {
    const v1::Vote& a = evidence.vote_a();
    const v1::Vote& b = evidence.vote_b();
    if (a.voter() != v || b.voter() != v || a.round() != evidence.round() ||
        b.round() != evidence.round()) {
      return absl::InvalidArgumentError("evidence: votes do not match");
    }
    if (a.block_id() == b.block_id()) {
      return absl::InvalidArgumentError("evidence: same block, no conflict");
    }
    for (const v1::Vote* vote : {&a, &b}) {
      if (!verifier.Verify(v, kVoteDomain, VoteMessage(chain_id, *vote),
                           vote->signature())) {
        return absl::InvalidArgumentError("evidence: bad vote signature");
      }
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("evidence: needs two proposals or votes");
}

VoteAggregator::VoteAggregator(uint32_t num_validators)
    : num_validators_(num_validators) {}

std::optional<v1::QuorumCert> VoteAggregator::Add(std::string_view chain_id,
                                                  const v1::Vote& vote) {
  if (vote.voter() >= num_validators_) return std::nullopt;
  Group& g = groups_[VoteMessage(chain_id, vote)];
  if (g.counted.empty()) {
    g.counted.assign(num_validators_, false);
    g.qc.set_block_id(vote.block_id());
    g.qc.set_round(vote.round());
    g.qc.set_height(vote.height());
    g.qc.set_parent_id(vote.parent_id());
    g.qc.set_parent_round(vote.parent_round());
  }
  if (g.done || g.counted[vote.voter()]) return std::nullopt;
  g.counted[vote.voter()] = true;
  v1::VoteSignature* sig = g.qc.add_votes();
  sig->set_voter(vote.voter());
  sig->set_signature(vote.signature());
  if (QcCommitsParent(g.qc)) sig->set_commit_signature(vote.commit_signature());
  if (static_cast<uint32_t>(g.qc.votes_size()) < QuorumSize(num_validators_)) {
    return std::nullopt;
  }
  g.done = true;
  return g.qc;
}

TimeoutAggregator::TimeoutAggregator(uint32_t num_validators, uint64_t round)
    : num_validators_(num_validators), counted_(num_validators, false) {
  tc_.set_round(round);
}

std::optional<v1::TimeoutCert> TimeoutAggregator::Add(
    const v1::TimeoutMsg& timeout) {
  if (timeout.sender() >= num_validators_ || timeout.round() != tc_.round() ||
      counted_[timeout.sender()]) {
    return std::nullopt;
  }
  counted_[timeout.sender()] = true;
  ++count_;
  if (done_) return std::nullopt;
  v1::TimeoutSignature* sig = tc_.add_timeouts();
  sig->set_sender(timeout.sender());
  sig->set_high_qc_round(timeout.high_qc().round());
  sig->set_signature(timeout.signature());
  if (count_ < QuorumSize(num_validators_)) return std::nullopt;
  done_ = true;
  return tc_;
}

}  // namespace cdl::consensus
