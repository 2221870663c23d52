#include "node/net/evidence.h"

#include <vector>

#include "crypto/str_cat.h"
#include "node/consensus/encoding.h"

namespace cdl::net {
namespace {

namespace cv1 = cdl::consensus::v1;
using cdl::ledger::ConsensusStatement;

std::vector<cdl::crypto::PublicKey> ValidatorKeys(const cdl::verify::TrustedGenesis& genesis) {
  std::vector<cdl::crypto::PublicKey> keys;
  for (size_t i = 0; i < genesis.validator_count(); ++i) keys.push_back(genesis.validator_key(static_cast<int>(i)));
  return keys;
}

std::string Signed(std::string_view domain, std::string_view message) {
  std::string out(domain);
  out.push_back('\0');
  out.append(message);
  return out;
}

}  // namespace

ConsensusEvidenceVerifier::ConsensusEvidenceVerifier(const cdl::verify::TrustedGenesis& genesis)
    : chain_id_(genesis.chain_id()),
      validators_(static_cast<uint32_t>(genesis.validator_count())),
      verifier_(ValidatorKeys(genesis)) {}

absl::StatusOr<ConsensusStatement> ConsensusEvidenceVerifier::Open(std::string_view message) const {
  cv1::EvidenceMessage m;
  if (message.size() > (64u << 10) || !m.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    return absl::InvalidArgumentError("not a serialized cdl.consensus.v1.EvidenceMessage (at most 64 KiB)");
  }
  ConsensusStatement out;
  std::string_view domain;
  std::string signed_message;
  std::string_view signature;
  switch (m.kind_case()) {
    case cv1::EvidenceMessage::kProposal: {
      const cv1::SignedProposalHeader& p = m.proposal();
      if (p.block_id().size() != 32) return absl::InvalidArgumentError("proposal.block_id: must be 32 bytes");
      out.kind = ConsensusStatement::Kind::kProposal;
      out.signer = p.author();
      out.round = p.round();
      domain = cdl::consensus::kProposalDomain;
      signed_message = cdl::consensus::ProposalMessage(chain_id_, p.round(), p.block_id());
      signature = p.signature();
      break;
    }
    case cv1::EvidenceMessage::kVote: {
      const cv1::Vote& v = m.vote();
      if (v.block_id().size() != 32) return absl::InvalidArgumentError("vote.block_id: must be 32 bytes");
      out.kind = ConsensusStatement::Kind::kVote;
      out.signer = v.voter();
      out.round = v.round();
      domain = cdl::consensus::kVoteDomain;
      signed_message = cdl::consensus::VoteMessage(chain_id_, v);
      signature = v.signature();
      break;
    }
    default:
      return absl::InvalidArgumentError("holds neither a proposal nor a vote");
  }
  if (out.signer >= validators_) {
    return absl::InvalidArgumentError(cdl::StrCat("names validator index ", out.signer, "; the genesis has ",
                                                  validators_, " validators"));
  }
  if (out.round == 0) return absl::InvalidArgumentError("round: must be at least 1");
  if (!verifier_.Verify(out.signer, domain, signed_message, signature)) {
    return absl::UnauthenticatedError(cdl::StrCat("the ", out.kind == ConsensusStatement::Kind::kVote ? "vote" : "proposal",
                                                  " signature does not verify with the genesis key of validator ",
                                                  out.signer));
  }
  out.signed_content = Signed(domain, signed_message);
  return out;
}

absl::StatusOr<cdl::v1::Evidence> EvidenceFromConsensus(const cv1::EquivocationEvidence& evidence,
                                                        const cdl::verify::TrustedGenesis& genesis) {
  if (evidence.validator() >= genesis.validator_count()) {
    return absl::InvalidArgumentError(cdl::StrCat("evidence names validator index ", evidence.validator()));
  }
  cv1::EvidenceMessage a, b;
  if (evidence.has_proposal_a() && evidence.has_proposal_b()) {
    *a.mutable_proposal() = evidence.proposal_a();
    *b.mutable_proposal() = evidence.proposal_b();
  } else if (evidence.has_vote_a() && evidence.has_vote_b()) {
    *a.mutable_vote() = evidence.vote_a();
    *b.mutable_vote() = evidence.vote_b();
  } else {
    return absl::InvalidArgumentError("evidence holds neither two proposals nor two votes");
  }
  cdl::v1::Evidence out;
  out.set_validator(genesis.proto().validators(static_cast<int>(evidence.validator())).id());
  out.set_message_a(a.SerializeAsString());
  out.set_message_b(b.SerializeAsString());
  return out;
}

}  // namespace cdl::net
