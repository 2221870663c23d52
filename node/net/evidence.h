// Equivocation evidence between the consensus core and the ledger: turns the
// core's EquivocationEvidence into an Evidence record body, and checks the
// signed consensus messages an Evidence record carries (the ledger's
// EvidenceVerifier, implemented here because only node/net may use both
// node/consensus and node/ledger).
#ifndef CDL_NODE_NET_EVIDENCE_H_
#define CDL_NODE_NET_EVIDENCE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "consensus.pb.h"
#include "node/consensus/key_signer.h"
#include "node/ledger/rules.h"
#include "node/verify/genesis.h"
#include "records.pb.h"

namespace cdl::net {

// Verifies EvidenceMessages with the consensus signing messages
// (ProposalMessage / VoteMessage under their domains) and the genesis
// validator keys. Thread-safe.
class ConsensusEvidenceVerifier : public cdl::ledger::EvidenceVerifier {
 public:
  explicit ConsensusEvidenceVerifier(const cdl::verify::TrustedGenesis& genesis);
  absl::StatusOr<cdl::ledger::ConsensusStatement> Open(std::string_view message) const override;

 private:
  std::string chain_id_;
  uint32_t validators_;
  cdl::consensus::KeyVerifier verifier_;
};

// The Evidence payload for what the core reported: the accused's validator
// id and its two conflicting messages as serialized EvidenceMessages.
// InvalidArgument if `evidence` names no genesis validator or holds neither
// two proposals nor two votes.
absl::StatusOr<cdl::v1::Evidence> EvidenceFromConsensus(const cdl::consensus::v1::EquivocationEvidence& evidence,
                                                        const cdl::verify::TrustedGenesis& genesis);

}  // namespace cdl::net

#endif  // CDL_NODE_NET_EVIDENCE_H_
