// The ledger of one node: blocks, records, receipts, member and record state,
// the RFC 6962 tree over accepted records, and the indexes behind queries, all
// in one Store. Blocks are executed deterministically (rules.h) and committed
// with their commit certificate in one synced write.
//
// Thread-safety: one writer thread calls Prepare/Commit; any thread may read
// concurrently. Readers see whole blocks only.
#ifndef CDL_NODE_LEDGER_LEDGER_H_
#define CDL_NODE_LEDGER_LEDGER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "crypto/merkle.h"
#include "ledger.pb.h"
#include "node/ledger/rules.h"
#include "node/storage/store.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"
#include "state.pb.h"

namespace cdl::ledger {

// Members have initializers so designated-initializer queries name only what they filter on.
// Filters combine with AND; an empty one does not filter.
struct QueryFilter {
  std::string member{};       // author or subject
  std::string record_type{};  // payload name
  std::string period{};
  std::string park{};
  uint32_t page_size = 100;
  std::string page_token{};
  // Certificates only: issued for exactly this standard.
  std::string standard{};
  // Certificates only, by their current status: "active" (ACTIVE and not
  // expired; a window that has not started yet still counts), "suspended",
  // "revoked", or "expired" (ACTIVE but valid_until_ms <= as_of_ms, renewals
  // included). Suspended or revoked certificates are never "expired".
  std::string certificate_status{};
  int64_t as_of_ms = 0;  // when "active"/"expired" are judged; 0 = the head block's time
};

// Whether an accepted record's state passes the member, record_type, period
// and park filters of `filter` (the others need more than the state).
bool MatchesState(const QueryFilter& filter, const cdl::v1::RecordState& state);

struct QueryEntry {
  std::string record_id;
  cdl::v1::RecordState state;
};

struct QueryPage {
  std::vector<QueryEntry> entries;
  std::string next_page_token;  // empty at the end
};

// A block executed on top of the current head but not yet durable.
struct PreparedBlock {
  cdl::v1::Block block;
  cdl::v1::BlockHeader header;
  std::string header_bytes;
  std::string hash;
  cdl::v1::LedgerHead new_head;
  cdl::storage::WriteBatch batch;
};

class Ledger {
 public:
  // Opens the ledger in `store`. A new store is initialised from the genesis
  // (founders become members at height 0); an existing one must have been
  // created from the same genesis (FailedPrecondition otherwise).
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(std::unique_ptr<cdl::storage::Store> store,
                                                      cdl::verify::TrustedGenesis genesis);

  const cdl::verify::TrustedGenesis& genesis() const { return genesis_; }
  const std::string& chain_id() const { return genesis_.chain_id(); }
  cdl::v1::LedgerHead head() const;
  cdl::storage::Store* store() { return store_.get(); }

  // How Evidence records' consensus signatures are checked (see rules.h).
  // Every node of a chain must set the same one before its first Prepare,
  // or it would reject evidence the others accept. Not thread-safe.
  void SetEvidenceVerifier(std::shared_ptr<const EvidenceVerifier> verifier) {
    evidence_verifier_ = std::move(verifier);
  }

  // Executes `records` (signatures verified by the caller) as block head+1 at
  // `time_ms` (must exceed the head's time). Changes nothing until Commit.
  absl::StatusOr<PreparedBlock> Prepare(const std::vector<const cdl::verify::ParsedRecord*>& records,
                                        int64_t time_ms, uint64_t round, const std::string& proposer);

  // Makes `block` durable with its commit certificate (one synced write) and
  // moves the head. The block must have been prepared on the current head.
  // The certificate may still lack a quorum (each validator first stores its
  // own signature); the block becomes a checkpoint once AddCommitSignatures
  // completes it. `block.block` is not read (its bytes are in the batch):
  // a caller may move it out first. Writer thread only.
  absl::Status Commit(PreparedBlock block, const cdl::v1::CommitCertificate& commit);

  // What AddCommitSignatures did with the signatures it was given.
  struct SignaturesAdded {
    bool certified = false;  // the block has a quorum of signatures now
    size_t added = 0;        // verified and stored
    size_t refused = 0;      // did not verify, or not from a genesis validator
  };
  // Merges validator signatures into block `height`'s commit certificate
  // (signatures that do not verify, or from non-validators, are refused) and
  // moves the certified height when a quorum is reached. A certificate stops
  // growing at a quorum: signatures beyond it, and ones from validators it
  // already holds, are neither verified nor counted. Not synced (signatures
  // can be collected again). Writer thread only.
  absl::StatusOr<SignaturesAdded> AddCommitSignatures(uint64_t height,
                                                      const std::vector<cdl::v1::CommitSignature>& signatures);

  // Records the last consensus block delivered when it carried no records
  // (so produced no ledger block). Writer thread only.
  absl::Status SetConsensusHead(const std::string& block_id, uint64_t height, uint64_t round, int64_t time_ms);

  // Ledger size at the latest certified block (what proofs are served against).
  uint64_t CertifiedLedgerSize() const;

  // --- reads (any thread) ---
  absl::StatusOr<std::string> GetRecord(std::string_view record_id) const;
  absl::StatusOr<cdl::v1::Receipt> GetReceipt(std::string_view record_id) const;
  absl::StatusOr<std::pair<cdl::v1::Block, cdl::v1::CommitCertificate>> GetBlock(uint64_t height) const;
  // Block `height`'s commit certificate alone (its block_hash is the hash of
  // the stored header): what a checkpoint vote is checked against, without
  // reading and parsing the whole block. NotFound beyond the head.
  absl::StatusOr<cdl::v1::CommitCertificate> GetCommitCertificate(uint64_t height) const;
  // height 0 = latest certified block. NotFound before the first one.
  absl::StatusOr<cdl::v1::Checkpoint> GetCheckpoint(uint64_t height) const;
  // Proof against the checkpoint of the first block whose ledger_size is
  // `tree_size` (0 = latest).
  absl::StatusOr<std::pair<cdl::v1::InclusionProof, cdl::v1::Checkpoint>> GetInclusionProof(
      std::string_view record_id, uint64_t tree_size) const;
  absl::StatusOr<std::pair<cdl::v1::ConsistencyProof, cdl::v1::Checkpoint>> GetConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;
  // Pages through the records matching `filter` in ledger order, served by
  // the most selective index (member, certificate status, standard, park,
  // period, type). InvalidArgument for a foreign page token or an unknown
  // certificate_status.
  absl::StatusOr<QueryPage> Query(const QueryFilter& filter) const;
  // The current state of an accepted record; NotFound otherwise.
  absl::StatusOr<cdl::v1::RecordState> GetRecordState(std::string_view record_id) const;
  // The record id of the accepted product footprint whose PACT id ($.id) is
  // `pact_id` (PACT ids are unique on a ledger; a superseded footprint keeps
  // its id). NotFound otherwise.
  absl::StatusOr<std::string> FindFootprint(std::string_view pact_id) const;
  // The record ids of the certificates accepted for `subject` (a disclosure or
  // footprint record id), in acceptance order, whatever their current status;
  // empty when none. DataLoss if the index is corrupt.
  absl::StatusOr<std::vector<std::string>> CertificatesOf(std::string_view subject) const;
  absl::StatusOr<cdl::v1::MemberState> GetMember(std::string_view member_id) const;
  // The author's last committed sequence (a member's, or a validator's for
  // its Evidence records; rules.h LastSequence), 0 when none or unreadable.
  uint64_t LastSequence(std::string_view author) const;
  // The status entry under state key `key` (node/verify/state_entry.h derives
  // keys), or its absence, with a sparse Merkle proof against the state_root
  // of block `height` and that block's checkpoint. height 0 = the latest
  // checkpoint (as GetCheckpoint); any committed height can be asked for.
  // The proof is checked against the header before it is returned.
  absl::StatusOr<std::pair<cdl::v1::StateProof, cdl::v1::Checkpoint>> GetStateProof(std::string_view key,
                                                                                     uint64_t height) const;
  // Whether `member`'s key `key_id` may sign now (committed state, head time).
  absl::StatusOr<KeyCheck> CheckSigner(std::string_view member, std::string_view key_id) const;
  // The same, checking a signature by member `known_id` on `known`, its
  // committed state the caller has just read with GetMember (no second read).
  absl::StatusOr<KeyCheck> CheckSigner(std::string_view member, std::string_view key_id, std::string_view known_id,
                                       const cdl::v1::MemberState& known) const;

 private:
  Ledger(std::unique_ptr<cdl::storage::Store> store, cdl::verify::TrustedGenesis genesis)
      : store_(std::move(store)), genesis_(std::move(genesis)) {}
  absl::Status Initialise();
  cdl::crypto::NodeReader MerkleReader() const;
  absl::Status MigrateIndexes();
  void Index(StateView& view, const cdl::verify::ParsedRecord& rec, const AcceptedInfo& info, uint64_t height,
             uint32_t index) const;
  absl::Status IndexCertificateStatuses(StateView& view) const;

  std::unique_ptr<cdl::storage::Store> store_;
  cdl::verify::TrustedGenesis genesis_;
  std::shared_ptr<const EvidenceVerifier> evidence_verifier_;
  mutable absl::Mutex mu_;
  cdl::v1::LedgerHead head_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdl::ledger

#endif  // CDL_NODE_LEDGER_LEDGER_H_
