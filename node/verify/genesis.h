// Genesis files, commit certificates and checkpoints: everything a third party
// needs to check that a block header was agreed by the genesis validator set.
#ifndef CDL_NODE_VERIFY_GENESIS_H_
#define CDL_NODE_VERIFY_GENESIS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/keys.h"
#include "ledger.pb.h"

namespace cdl::verify {

inline constexpr size_t kMaxGenesisBytes = 4 * 1024 * 1024;
inline constexpr std::string_view kBlockDomain = "cdl/block/v1";
inline constexpr std::string_view kCommitDomain = "cdl/commit/v1";

// A validated genesis: the validator keys parsed once.
class TrustedGenesis {
 public:
  // Validates a genesis (chain id, at least one validator, unique ids, keys
  // parse, founders well-formed and unique).
  static absl::StatusOr<TrustedGenesis> FromProto(cdl::v1::Genesis genesis);
  // Parses genesis JSON (protobuf JSON mapping) with a size limit.
  static absl::StatusOr<TrustedGenesis> FromJson(std::string_view json);
  static absl::StatusOr<TrustedGenesis> FromFile(const std::string& path);

  const cdl::v1::Genesis& proto() const { return genesis_; }
  const std::string& chain_id() const { return genesis_.chain_id(); }
  size_t validator_count() const { return genesis_.validators_size(); }
  // floor(2n/3) + 1 distinct validators.
  size_t quorum() const { return validator_count() * 2 / 3 + 1; }
  // Index of a validator id, or -1.
  int ValidatorIndex(std::string_view id) const;
  const cdl::crypto::PublicKey& validator_key(int index) const { return keys_[index]; }
  // SHA-256 over the genesis JSON's canonical protobuf serialization.
  std::string Hash() const;

 private:
  cdl::v1::Genesis genesis_;
  std::vector<cdl::crypto::PublicKey> keys_;
};

std::string GenesisToJson(const cdl::v1::Genesis& genesis);

// block_hash = SHA-256("cdl/block/v1" || 0x00 || header bytes).
std::string BlockHash(std::string_view header_bytes);

// Bytes each validator signs to commit a block (signed with kCommitDomain):
// u32be(len(chain_id)) || chain_id || u64be(height) || block_hash.
std::string CommitMessage(std::string_view chain_id, uint64_t height,
                          std::string_view block_hash);

absl::StatusOr<cdl::v1::CommitSignature> SignCommit(
    const cdl::crypto::PrivateKey& key, std::string_view validator_id,
    std::string_view chain_id, uint64_t height, std::string_view block_hash);

// Checks a commit certificate for `header_bytes`: heights and hashes match,
// every signature is by a distinct genesis validator and verifies, and at
// least a quorum signed. Reports every problem found, joined by "; ".
absl::Status VerifyCommitCertificate(const TrustedGenesis& genesis,
                                     std::string_view header_bytes,
                                     const cdl::v1::CommitCertificate& commit);

// Parses a checkpoint's header (with limits, no unknown fields) and verifies
// its commit certificate and chain id against the genesis.
absl::StatusOr<cdl::v1::BlockHeader> VerifyCheckpoint(
    const TrustedGenesis& genesis, const cdl::v1::Checkpoint& checkpoint);

// Verifies that record `record_id` is leaf `proof.leaf_index` of the ledger
// tree whose size and root are in `header`.
absl::Status VerifyRecordInclusion(const cdl::v1::BlockHeader& header,
                                   const cdl::v1::InclusionProof& proof,
                                   std::string_view record_id);

// Leaf data of the ledger tree for an accepted record: its 32-byte id.
std::string LedgerLeafHash(std::string_view record_id);

}  // namespace cdl::verify

#endif  // CDL_NODE_VERIFY_GENESIS_H_
