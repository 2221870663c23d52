#include "node/net/byzantine.h"

#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "node/consensus/encoding.h"

namespace cdl::net {

namespace cv1 = cdl::consensus::v1;
using cdl::peer::v1::PeerMessage;

ByzantineNetwork::ByzantineNetwork(PeerNetwork* inner, std::string chain_id, cdl::crypto::PrivateKey key,
                                   uint32_t period)
    : inner_(inner), chain_id_(std::move(chain_id)), signer_(std::move(key)), period_(period == 0 ? 1 : period) {}

std::vector<PeerMessage> ByzantineNetwork::Extras(const PeerMessage& msg) {
  std::vector<PeerMessage> out;
  if (!msg.has_consensus()) return out;
  const cv1::ConsensusMessage& m = msg.consensus();
  auto wrap = [&](cv1::ConsensusMessage c) {
    PeerMessage p;
    *p.mutable_consensus() = std::move(c);
    out.push_back(std::move(p));
  };
  if (m.has_proposal()) {
    bool equivocate;
    {
      absl::MutexLock lock(&mu_);
      equivocate = ++proposals_ % period_ == 0;
    }
    if (!equivocate) return out;
    cv1::ConsensusMessage c = m;
    cv1::Block* b = c.mutable_proposal()->mutable_block();
    b->set_timestamp_ms(b->timestamp_ms() + 1);
    std::string id = cdl::consensus::BlockId(chain_id_, *b);
    auto sig = signer_.Sign(cdl::consensus::kProposalDomain, cdl::consensus::ProposalMessage(chain_id_, b->round(), id));
    if (sig.ok()) {
      c.mutable_proposal()->set_signature(*sig);
      wrap(std::move(c));
    }
    return out;
  }
  if (!m.has_vote()) return out;
  const cv1::Vote& vote = m.vote();
  bool equivocate;
  {
    absl::MutexLock lock(&mu_);
    equivocate = ++votes_ % period_ == 0;
  }
  if (equivocate) {  // a second vote in the round, for a block nobody proposed
    cv1::ConsensusMessage c = m;
    cv1::Vote* v = c.mutable_vote();
    v->set_block_id(cdl::crypto::Sha256(cdl::StrCat("cdl/test-byzantine/", vote.block_id())));
    auto sig = signer_.Sign(cdl::consensus::kVoteDomain, cdl::consensus::VoteMessage(chain_id_, *v));
    if (sig.ok()) {
      v->set_signature(*sig);
      wrap(std::move(c));
    }
  }
  {  // corrupted signature
    cv1::ConsensusMessage c = m;
    std::string sig = vote.signature();
    if (!sig.empty()) sig[sig.size() / 2] ^= 0x5a;
    c.mutable_vote()->set_signature(sig);
    wrap(std::move(c));
  }
  {  // far-future round, validly signed
    cv1::ConsensusMessage c = m;
    cv1::Vote* v = c.mutable_vote();
    v->set_round(vote.round() + 1000000);
    auto sig = signer_.Sign(cdl::consensus::kVoteDomain, cdl::consensus::VoteMessage(chain_id_, *v));
    if (sig.ok()) {
      v->set_signature(*sig);
      wrap(std::move(c));
    }
  }
  return out;
}

void ByzantineNetwork::Send(uint32_t to, const PeerMessage& msg) {
  inner_->Send(to, msg);
  for (const PeerMessage& extra : Extras(msg)) inner_->Send(to, extra);
}

void ByzantineNetwork::Broadcast(const PeerMessage& msg) {
  inner_->Broadcast(msg);
  for (const PeerMessage& extra : Extras(msg)) inner_->Broadcast(extra);
}

}  // namespace cdl::net
