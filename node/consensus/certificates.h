// Quorums and certificates: building and verifying quorum certificates (QC),
// timeout certificates (TC), commit certificates and equivocation evidence.
//
// A quorum is floor(2n/3)+1 DISTINCT validators of the genesis set; a
// certificate that names a signer twice or a signer outside [0, n) is invalid,
// and every signature in it must verify. These functions are pure (apart from
// calling the Verifier) and thread-compatible; third parties (block sync,
// ledger, passport verification) use the same checks as the core.

#ifndef CDL_NODE_CONSENSUS_CERTIFICATES_H_
#define CDL_NODE_CONSENSUS_CERTIFICATES_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "consensus.pb.h"
#include "node/consensus/interfaces.h"
#include "node/consensus/safety_rules.h"

namespace cdl::consensus {

// floor(2n/3) + 1: 1 for n = 1, 3 for n = 4, 5 for n = 7.
uint32_t QuorumSize(uint32_t num_validators);

// Largest number of faulty validators tolerated: (n - 1) / 3.
uint32_t MaxFaulty(uint32_t num_validators);

// OK iff `qc` is the genesis QC of `chain_id` or carries valid votes of a
// quorum of distinct validators on (block_id, round, height, parent_id,
// parent_round), each with a valid commit signature over
// CommitMessage(chain_id, height - 1, parent_id) when round == parent_round +
// 1 (and none otherwise). InvalidArgument naming the problem otherwise.
absl::Status VerifyQuorumCert(std::string_view chain_id,
                              uint32_t num_validators, const Verifier& verifier,
                              const v1::QuorumCert& qc);

// OK iff `tc` carries valid timeout signatures of a quorum of distinct
// validators for tc.round, each over (round, that signer's high_qc_round).
absl::Status VerifyTimeoutCert(std::string_view chain_id,
                               uint32_t num_validators,
                               const Verifier& verifier,
                               const v1::TimeoutCert& tc);

// The round and largest high-QC round of a TC.
TcSummary SummarizeTc(const v1::TimeoutCert& tc);

// True iff `qc` certifies a block whose parent is exactly one round older,
// so its votes carry commit signatures and its parent is committed.
bool QcCommitsParent(const v1::QuorumCert& qc);

// The commit certificate of the parent of the block `qc` certifies. Requires
// QcCommitsParent(qc).
v1::CommitCertificate CommitCertificateFromQc(const v1::QuorumCert& qc);

// OK iff `cert` carries valid signatures of a quorum of distinct validators
// over CommitMessage(chain_id, cert.height, cert.block_id). This is all a
// third party needs besides the genesis validator set.
absl::Status VerifyCommitCertificate(std::string_view chain_id,
                                     uint32_t num_validators,
                                     const Verifier& verifier,
                                     const v1::CommitCertificate& cert);

// OK iff `evidence` holds two validly signed proposals (or two votes) of
// evidence.validator for evidence.round naming different block ids.
absl::Status VerifyEvidence(std::string_view chain_id, uint32_t num_validators,
                            const Verifier& verifier,
                            const v1::EquivocationEvidence& evidence);

// Collects verified votes for one round until some block reaches a quorum.
// Votes are grouped by their complete signed content, so a QC is only ever
// formed from signatures over identical bytes. A voter counts once per group.
class VoteAggregator {
 public:
  explicit VoteAggregator(uint32_t num_validators);

  // Adds a vote whose signatures the caller verified. Returns the new QC the
  // first time the vote's group reaches a quorum, nullopt otherwise
  // (including for a voter already counted).
  std::optional<v1::QuorumCert> Add(std::string_view chain_id,
                                    const v1::Vote& vote);

 private:
  struct Group {
    v1::QuorumCert qc;
    std::vector<bool> counted;  // by voter index
    bool done = false;
  };

  uint32_t num_validators_;
  std::map<std::string, Group> groups_;  // key: vote message bytes
};

// Collects verified timeout messages for one round until a quorum forms.
class TimeoutAggregator {
 public:
  TimeoutAggregator(uint32_t num_validators, uint64_t round);

  // Adds a timeout whose signature the caller verified. Returns the TC the
  // first time a quorum of distinct senders is reached.
  std::optional<v1::TimeoutCert> Add(const v1::TimeoutMsg& timeout);

  // Distinct senders so far.
  uint32_t count() const { return count_; }
  bool HasSender(ValidatorIndex v) const {
    return v < counted_.size() && counted_[v];
  }

 private:
  uint32_t num_validators_;
  v1::TimeoutCert tc_;
  std::vector<bool> counted_;
  uint32_t count_ = 0;
  bool done_ = false;
};

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_CERTIFICATES_H_
