// Deterministic byte encodings of consensus objects: block ids and the exact
// bytes every consensus signature covers.
//
// Nothing here hashes or signs a protobuf serialization. Each message is a
// hand-built, self-delimiting encoding: integers are fixed-width big-endian,
// byte strings are a 4-byte big-endian length followed by the bytes. A
// signature is over (domain || 0x00 || message), i.e. exactly what
// cdl::crypto::SignDomain(key, domain, message) signs; the domain names the
// message kind and the message starts with the chain id, so nothing signed for
// one chain or purpose verifies for another.
//
// All functions are pure and thread-safe.

#ifndef CDL_NODE_CONSENSUS_ENCODING_H_
#define CDL_NODE_CONSENSUS_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "consensus.pb.h"

namespace cdl::consensus {

// Signature / hash domains.
inline constexpr std::string_view kBlockIdDomain = "cdl/cblock/v1";
inline constexpr std::string_view kVoteDomain = "cdl/vote/v1";
inline constexpr std::string_view kCommitDomain = "cdl/commit/v1";
inline constexpr std::string_view kTimeoutDomain = "cdl/timeout/v1";
inline constexpr std::string_view kProposalDomain = "cdl/proposal/v1";

// Appends fixed-width big-endian integers and length-prefixed byte strings.
class ByteWriter {
 public:
  void U32(uint32_t v);
  void U64(uint64_t v);
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  // 4-byte big-endian length, then the bytes.
  void Bytes(std::string_view b);

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Id of the virtual genesis block of `chain_id` (round 0, height 0). It is the
// parent of the first real block and is committed by definition.
std::string GenesisBlockId(std::string_view chain_id);

// The QC of the genesis block: round 0, height 0, no votes.
v1::QuorumCert GenesisQc(std::string_view chain_id);

// Block id = DomainHash("cdl/cblock/v1", chain_id, round, height, parent_id,
// qc.round, author, timestamp_ms, SHA-256(payload)). The QC's signatures are
// not covered (different valid QCs for one parent name the same block).
std::string BlockId(std::string_view chain_id, const v1::Block& block);

// Vote message: chain_id, block_id, round, height, parent_id, parent_round.
std::string VoteMessage(std::string_view chain_id, std::string_view block_id,
                        uint64_t round, uint64_t height,
                        std::string_view parent_id, uint64_t parent_round);
std::string VoteMessage(std::string_view chain_id, const v1::Vote& vote);

// Commit message signed (domain "cdl/commit/v1") by every vote on a block
// whose parent is exactly one round older, about that parent:
//   u32 len(chain_id) || chain_id || u64 height || hash
// (the layout documented for CommitSignature in proto/ledger.proto).
// The only place these bytes are built; ledger and passport verification use
// it too. `block_hash` is the consensus block id today; an embedder that wants
// commit certificates over ledger header hashes changes only this function and
// what it is called with.
std::string CommitMessage(std::string_view chain_id, uint64_t height,
                          std::string_view block_hash);

// Timeout message: chain_id, round, high_qc_round.
std::string TimeoutMessage(std::string_view chain_id, uint64_t round,
                           uint64_t high_qc_round);

// Proposal message: chain_id, round, block_id (the id covers every field).
std::string ProposalMessage(std::string_view chain_id, uint64_t round,
                            std::string_view block_id);

}  // namespace cdl::consensus

#endif  // CDL_NODE_CONSENSUS_ENCODING_H_
