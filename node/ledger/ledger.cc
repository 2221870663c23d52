#include "node/ledger/ledger.h"

#include "crypto/str_cat.h"
#include "crypto/hash.h"
#include "node/ledger/state_tree.h"
#include "node/storage/keys.h"
#include "node/verify/state_entry.h"

namespace cdl::ledger {
namespace {

using cdl::storage::AppendU32BE;
using cdl::storage::AppendU64BE;
using cdl::storage::EncodeU64BE;

constexpr std::string_view kHeadKey = "head";
// Version of the secondary indexes in kIndexColumn. 2 added the certificate
// standard ('S'), status ('s') and position ('P') indexes; Initialise builds
// them for certificates committed by an older version.
constexpr std::string_view kIndexVersionKey = "index_version";
constexpr std::string_view kIndexVersion = "2";
constexpr std::string_view kCertificateType = "certificate";
constexpr uint32_t kMaxPageSize = 1000;
constexpr size_t kMaxScanPerQuery = 20000;

std::string MerkleKey(int level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  AppendU64BE(&key, index);
  return key;
}

// Index keys: <tag><value>\0<u64be height><u32be index> -> record id. Values never hold \0.
//   z: every accepted record    t: record type    m: author and subject member
//   p: period    k: park    S: certificate standard
//   s: certificate status (EntryStatus name), moved when the status changes
// and 'P'<record id> -> <position> of each certificate (to find its 's' entry).
std::string IndexPrefix(char tag, std::string_view value) {
  std::string key(1, tag);
  key.append(value);
  key.push_back('\0');
  return key;
}
std::string Position(uint64_t height, uint32_t index) {
  std::string pos;
  AppendU64BE(&pos, height);
  AppendU32BE(&pos, index);
  return pos;
}

std::string CertificatePositionKey(std::string_view id) { return cdl::StrCat("P", id); }

// The 's' index value of a status ("active", "suspended", ...).
std::string StatusIndexValue(cdl::v1::EntryStatus status) {
  switch (status) {
    case cdl::v1::ENTRY_ACTIVE: return "active";
    case cdl::v1::ENTRY_SUSPENDED: return "suspended";
    case cdl::v1::ENTRY_REVOKED: return "revoked";
    case cdl::v1::ENTRY_TERMINATED: return "terminated";
    case cdl::v1::ENTRY_SUPERSEDED: return "superseded";
    default: return "unspecified";
  }
}

template <typename T>
absl::StatusOr<T> ParseStored(const absl::StatusOr<std::string>& raw, std::string_view what) {
  if (!raw.ok()) return raw.status();
  T msg;
  if (!msg.ParseFromString(*raw)) return absl::DataLossError(cdl::StrCat("corrupt ", what, " in the store"));
  return msg;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(std::unique_ptr<cdl::storage::Store> store,
                                                     cdl::verify::TrustedGenesis genesis) {
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(store), std::move(genesis)));
  if (auto s = ledger->Initialise(); !s.ok()) return s;
  return ledger;
}

absl::Status Ledger::Initialise() {
  auto raw = store_->Get(kMetaColumn, kHeadKey);
  if (raw.ok()) {
    cdl::v1::LedgerHead head;
    if (!head.ParseFromString(*raw)) return absl::DataLossError("ledger head is corrupt");
    if (head.genesis_hash() != genesis_.Hash()) {
      return absl::FailedPreconditionError(
          "the data dir was created from a different genesis file; use the genesis it was "
          "created with, or a fresh --data-dir");
    }
    if (head.state_root().empty()) {
      return absl::FailedPreconditionError(
          "the data dir was created by a version without the state map (state_root); start from a "
          "fresh --data-dir");
    }
    {
      absl::MutexLock lock(&mu_);
      head_ = std::move(head);
    }
    return MigrateIndexes();
  }
  if (!absl::IsNotFound(raw.status())) return raw.status();
  StateView view(store_.get());
  for (const auto& founder : genesis_.proto().founders()) {
    ApplyFounder(founder, genesis_.proto().genesis_time_ms(), view);
  }
  // The founders' member and key entries are the state map at height 0.
  auto changes = CollectStateChanges(view, store_.get());
  if (!changes.ok()) return changes.status();
  auto state_root = ApplyStateChanges(store_.get(), *changes, 0, view);
  if (!state_root.ok()) return state_root.status();
  cdl::v1::LedgerHead head;
  head.set_ledger_root(cdl::crypto::EmptyRoot());
  head.set_state_root(*state_root);
  head.set_last_hash(std::string(32, '\0'));
  head.set_last_time_ms(genesis_.proto().genesis_time_ms());
  head.set_genesis_hash(genesis_.Hash());
  view.Put(kMetaColumn, kHeadKey, head.SerializeAsString());
  view.Put(kMetaColumn, kIndexVersionKey, std::string(kIndexVersion));
  if (auto s = store_->Write(view.ToWriteBatch(), /*sync=*/true); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  head_ = std::move(head);
  return absl::OkStatus();
}

cdl::v1::LedgerHead Ledger::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

cdl::crypto::NodeReader Ledger::MerkleReader() const {
  return [this](int level, uint64_t index) { return store_->Get(kMerkleColumn, MerkleKey(level, index)); };
}

absl::Status Ledger::MigrateIndexes() {
  auto version = store_->Get(kMetaColumn, kIndexVersionKey);
  if (version.ok() && *version == kIndexVersion) return absl::OkStatus();
  if (!version.ok() && !absl::IsNotFound(version.status())) return version.status();
  // Certificates committed before the standard/status indexes existed.
  cdl::storage::WriteBatch batch;
  std::string prefix = IndexPrefix('t', kCertificateType);
  auto it = store_->NewIterator(kIndexColumn, {});
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view key = it->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    std::string pos(key.substr(prefix.size()));
    std::string id(it->value());
    auto st = ParseStored<cdl::v1::RecordState>(store_->Get(kStatesColumn, id), "record state");
    if (!st.ok()) return st.status();
    auto rec = ParseStored<cdl::v1::SignedRecord>(store_->Get(kRecordsColumn, id), "record");
    if (!rec.ok()) return rec.status();
    cdl::v1::RecordBody body;
    if (!body.ParseFromString(rec->body())) return absl::DataLossError("corrupt record body in the store");
    batch.Put(kIndexColumn, CertificatePositionKey(id), pos);
    batch.Put(kIndexColumn, cdl::StrCat(IndexPrefix('S', body.certificate().standard()), pos), id);
    batch.Put(kIndexColumn, cdl::StrCat(IndexPrefix('s', StatusIndexValue(st->status())), pos), id);
  }
  if (!it->status().ok()) return it->status();
  batch.Put(kMetaColumn, kIndexVersionKey, std::string(kIndexVersion));
  return store_->Write(batch, /*sync=*/true);
}

void Ledger::Index(StateView& view, const cdl::verify::ParsedRecord& rec, const AcceptedInfo& info, uint64_t height,
                   uint32_t index) const {
  const std::string& id = rec.id;
  std::string pos = Position(height, index);
  if (info.state.record_type() == kCertificateType) {
    // Its 's' entry is written by IndexCertificateStatuses, which sees the
    // status the certificate ends the block with.
    view.Put(kIndexColumn, CertificatePositionKey(id), pos);
    view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('S', rec.body.certificate().standard()), pos), id);
  }
  view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('z', ""), pos), id);
  view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('t', info.state.record_type()), pos), id);
  view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('m', info.state.author()), pos), id);
  if (!info.subject_member.empty() && info.subject_member != info.state.author()) {
    view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('m', info.subject_member), pos), id);
  }
  if (!info.period.empty()) view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('p', info.period), pos), id);
  if (!info.park.empty()) view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('k', info.park), pos), id);
}

absl::Status Ledger::IndexCertificateStatuses(StateView& view) const {
  // Every certificate whose state this block wrote: a new one, or one that a
  // suspension, revocation, reinstatement or renewal changed. Only a changed
  // status moves its 's' entry.
  absl::Status status;
  view.ForEachWrite(kStatesColumn, [&](std::string_view id, const std::optional<std::string>& value) {
    if (!status.ok() || !value.has_value()) return;
    cdl::v1::RecordState now;
    if (!now.ParseFromString(*value)) {
      status = absl::DataLossError("corrupt record state in the block being executed");
      return;
    }
    if (now.record_type() != kCertificateType) return;
    auto pos = view.Get(kIndexColumn, CertificatePositionKey(id));
    if (!pos.ok()) {
      status = absl::IsNotFound(pos.status()) ? absl::DataLossError("certificate without an index position")
                                              : pos.status();
      return;
    }
    auto before_raw = store_->Get(kStatesColumn, id);
    if (before_raw.ok()) {
      cdl::v1::RecordState before;
      if (!before.ParseFromString(*before_raw)) {
        status = absl::DataLossError("corrupt record state in the store");
        return;
      }
      if (before.status() == now.status()) return;
      view.Delete(kIndexColumn, cdl::StrCat(IndexPrefix('s', StatusIndexValue(before.status())), *pos));
    } else if (!absl::IsNotFound(before_raw.status())) {
      status = before_raw.status();
      return;
    }
    view.Put(kIndexColumn, cdl::StrCat(IndexPrefix('s', StatusIndexValue(now.status())), *pos), std::string(id));
  });
  return status;
}

absl::StatusOr<PreparedBlock> Ledger::Prepare(const std::vector<const cdl::verify::ParsedRecord*>& records,
                                              int64_t time_ms, uint64_t round, const std::string& proposer) {
  cdl::v1::LedgerHead head = this->head();
  if (time_ms <= head.last_time_ms()) {
    return absl::InvalidArgumentError(cdl::StrCat("block time ", time_ms, " is not after the previous block's ",
                                                   head.last_time_ms()));
  }
  std::vector<std::string> border(head.merkle_border().begin(), head.merkle_border().end());
  auto appender = cdl::crypto::MerkleAppender::Restore(head.ledger_size(), std::move(border));
  if (!appender.ok()) return absl::DataLossError("ledger head's merkle border is corrupt");

  PreparedBlock out;
  StateView view(store_.get());
  uint64_t height = head.height() + 1;
  ExecContext ctx{chain_id(), time_ms, height, 0};
  ctx.genesis = &genesis_;
  ctx.evidence_verifier = evidence_verifier_.get();
  cdl::crypto::MemoryMerkleTree records_tree;
  cdl::crypto::MemoryMerkleTree receipts_tree;
  uint32_t i = 0;
  for (const cdl::verify::ParsedRecord* record : records) {
    const auto& rec = *record;
    // A record already on the ledger (or earlier in this block) is skipped:
    // its receipt must never be overwritten.
    if (auto seen = view.Get(kReceiptsColumn, rec.id); seen.ok()) continue;
    else if (!absl::IsNotFound(seen.status())) return seen.status();
    ctx.index = i;
    auto outcome = ExecuteRecord(rec, ctx, view);
    if (!outcome.ok()) return outcome.status();
    cdl::v1::Receipt& receipt = outcome->receipt;
    if (outcome->accepted.has_value()) {
      receipt.set_ledger_index(appender->size());
      view.Put(kLeavesColumn, EncodeU64BE(appender->size()), rec.id);
      appender->Append(cdl::verify::LedgerLeafHash(rec.id), [&](int level, uint64_t index, const std::string& hash) {
        view.Put(kMerkleColumn, MerkleKey(level, index), hash);
      });
      AcceptedInfo& info = *outcome->accepted;
      info.state.set_ledger_index(receipt.ledger_index());
      info.state.set_subject_member(info.subject_member);
      info.state.set_park(info.park);
      info.state.set_period(info.period);
      view.Put(kStatesColumn, rec.id, info.state.SerializeAsString());
      Index(view, rec, info, height, i);
    }
    view.Put(kRecordsColumn, rec.id, rec.signed_record.SerializeAsString());
    std::string receipt_bytes = receipt.SerializeAsString();
    view.Put(kReceiptsColumn, rec.id, receipt_bytes);
    records_tree.AddLeaf(rec.id);
    receipts_tree.AddLeaf(receipt_bytes);
    out.block.add_records(rec.signed_record.SerializeAsString());
    *out.block.add_receipts() = std::move(receipt);
    ++i;
  }
  if (auto s = IndexCertificateStatuses(view); !s.ok()) return s;
  // The state map after this block: only entries whose status changed.
  auto changes = CollectStateChanges(view, store_.get());
  if (!changes.ok()) return changes.status();
  std::string state_root = head.state_root();
  if (!changes->empty()) {
    auto root = ApplyStateChanges(store_.get(), *changes, height, view);
    if (!root.ok()) return root.status();
    state_root = *std::move(root);
  }

  cdl::v1::BlockHeader& header = out.header;
  header.set_chain_id(chain_id());
  header.set_height(height);
  header.set_round(round);
  header.set_proposer(proposer);
  header.set_prev_hash(head.last_hash());
  header.set_time_ms(time_ms);
  header.set_records_root(records_tree.Root());
  header.set_record_count(i);
  header.set_receipts_root(receipts_tree.Root());
  header.set_ledger_size(appender->size());
  header.set_ledger_root(appender->Root());
  header.set_state_root(state_root);
  out.header_bytes = header.SerializeAsString();
  out.hash = cdl::verify::BlockHash(out.header_bytes);
  out.block.set_header(out.header_bytes);

  cdl::v1::LedgerHead& next = out.new_head;
  next = head;
  next.set_height(height);
  next.set_ledger_size(appender->size());
  next.set_ledger_root(header.ledger_root());
  next.set_state_root(state_root);
  next.set_last_hash(out.hash);
  next.set_last_time_ms(time_ms);
  next.clear_merkle_border();
  for (const auto& h : appender->border()) next.add_merkle_border(h);
  next.set_total_records(head.total_records() + i);

  view.Put(kBlocksColumn, EncodeU64BE(height), out.block.SerializeAsString());
  if (appender->size() != head.ledger_size()) {
    view.Put(kSizesColumn, EncodeU64BE(appender->size()), EncodeU64BE(height));
  }
  view.Put(kMetaColumn, kHeadKey, next.SerializeAsString());
  out.batch = view.ToWriteBatch();
  return out;
}

absl::Status Ledger::Commit(PreparedBlock block, const cdl::v1::CommitCertificate& commit) {
  {
    absl::MutexLock lock(&mu_);
    if (block.header.height() != head_.height() + 1 || block.header.prev_hash() != head_.last_hash()) {
      return absl::FailedPreconditionError("block was not prepared on the current head");
    }
  }
  if (commit.height() != block.header.height() || commit.block_hash() != block.hash) {
    return absl::InvalidArgumentError("commit certificate is for another block");
  }
  // Checkpoint votes are checked against the stored certificate's block_hash
  // (GetCommitCertificate): it must be the hash of the header stored with it.
  if (block.hash != cdl::verify::BlockHash(block.header_bytes)) {
    return absl::InvalidArgumentError("prepared block's hash is not the hash of its header");
  }
  block.batch.Put(kCommitsColumn, EncodeU64BE(block.header.height()), commit.SerializeAsString());
  // Usually this validator's signature alone, certified only in a network of one.
  if (static_cast<size_t>(commit.signatures_size()) >= genesis_.quorum() &&
      cdl::verify::VerifyCommitCertificate(genesis_, block.header_bytes, commit).ok()) {
    block.new_head.set_certified_height(block.header.height());
    block.new_head.set_certified_ledger_size(block.header.ledger_size());
  }
  block.batch.Put(kMetaColumn, kHeadKey, block.new_head.SerializeAsString());
  if (auto s = store_->Write(block.batch, /*sync=*/true); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  head_ = std::move(block.new_head);
  return absl::OkStatus();
}

absl::StatusOr<Ledger::SignaturesAdded> Ledger::AddCommitSignatures(
    uint64_t height, const std::vector<cdl::v1::CommitSignature>& signatures) {
  auto stored = GetCommitCertificate(height);
  if (!stored.ok()) return stored.status();
  cdl::v1::CommitCertificate& commit = *stored;
  // Every stored signature was verified when it was added (ours was made
  // here), so the certificate's strength is its count of distinct signers.
  const size_t quorum = genesis_.quorum();
  SignaturesAdded result;
  result.certified = static_cast<size_t>(commit.signatures_size()) >= quorum;
  if (result.certified) return result;  // extra votes add nothing
  // Commit() stored it with the hash of the header it wrote.
  std::string message = cdl::verify::CommitMessage(chain_id(), height, commit.block_hash());
  for (const auto& sig : signatures) {
    if (static_cast<size_t>(commit.signatures_size()) >= quorum) break;
    int index = genesis_.ValidatorIndex(sig.validator());
    if (index < 0) {
      ++result.refused;
      continue;
    }
    bool present = false;
    for (const auto& have : commit.signatures()) present |= have.validator() == sig.validator();
    if (present) continue;
    if (!cdl::crypto::VerifyDomain(genesis_.validator_key(index), cdl::verify::kCommitDomain, message,
                                   sig.signature()).ok()) {
      ++result.refused;
      continue;
    }
    *commit.add_signatures() = sig;
    ++result.added;
  }
  bool certified = static_cast<size_t>(commit.signatures_size()) >= quorum;
  result.certified = certified;
  if (result.added == 0) return result;
  cdl::storage::WriteBatch batch;
  batch.Put(kCommitsColumn, EncodeU64BE(height), commit.SerializeAsString());
  cdl::v1::LedgerHead next = head();
  bool advance = certified && height > next.certified_height();
  if (advance) {
    // The ledger size at `height`: the head's when it is the head block (the
    // usual case), else from the stored header.
    uint64_t size = next.ledger_size();
    if (height != next.height() || next.last_hash() != commit.block_hash()) {
      auto block = GetBlock(height);
      if (!block.ok()) return block.status();
      cdl::v1::BlockHeader header;
      if (!header.ParseFromString(block->first.header())) {
        return absl::DataLossError(cdl::StrCat("corrupt block header at height ", height));
      }
      size = header.ledger_size();
    }
    next.set_certified_height(height);
    next.set_certified_ledger_size(size);
    batch.Put(kMetaColumn, kHeadKey, next.SerializeAsString());
  }
  // Not synced: signatures can be collected again (block sync, peers), and
  // the next synced write (a vote's safety state, the next block) makes this
  // one durable too (one write-ahead log).
  if (auto s = store_->Write(batch, /*sync=*/false); !s.ok()) return s;
  if (advance) {
    absl::MutexLock lock(&mu_);
    head_.set_certified_height(next.certified_height());
    head_.set_certified_ledger_size(next.certified_ledger_size());
  }
  return result;
}

absl::Status Ledger::SetConsensusHead(const std::string& block_id, uint64_t height, uint64_t round,
                                      int64_t time_ms) {
  cdl::v1::LedgerHead next = head();
  next.set_consensus_block_id(block_id);
  next.set_consensus_height(height);
  next.set_consensus_round(round);
  next.set_consensus_time_ms(time_ms);
  cdl::storage::WriteBatch batch;
  batch.Put(kMetaColumn, kHeadKey, next.SerializeAsString());
  if (auto s = store_->Write(batch, /*sync=*/false); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  head_ = std::move(next);
  return absl::OkStatus();
}

uint64_t Ledger::CertifiedLedgerSize() const {
  absl::MutexLock lock(&mu_);
  return head_.certified_ledger_size();
}

absl::StatusOr<std::string> Ledger::GetRecord(std::string_view record_id) const {
  auto raw = store_->Get(kRecordsColumn, record_id);
  if (absl::IsNotFound(raw.status())) {
    return absl::NotFoundError(cdl::StrCat("record ", cdl::crypto::HexEncode(record_id), " is not on the ledger"));
  }
  return raw;
}

absl::StatusOr<cdl::v1::Receipt> Ledger::GetReceipt(std::string_view record_id) const {
  auto raw = store_->Get(kReceiptsColumn, record_id);
  if (absl::IsNotFound(raw.status())) {
    return absl::NotFoundError(cdl::StrCat("no receipt for record ", cdl::crypto::HexEncode(record_id)));
  }
  return ParseStored<cdl::v1::Receipt>(raw, "receipt");
}

absl::StatusOr<std::pair<cdl::v1::Block, cdl::v1::CommitCertificate>> Ledger::GetBlock(uint64_t height) const {
  auto commit = GetCommitCertificate(height);
  if (!commit.ok()) return commit.status();
  auto block = ParseStored<cdl::v1::Block>(store_->Get(kBlocksColumn, EncodeU64BE(height)), "block");
  if (!block.ok()) return block.status();
  return std::make_pair(*std::move(block), *std::move(commit));
}

absl::StatusOr<cdl::v1::CommitCertificate> Ledger::GetCommitCertificate(uint64_t height) const {
  uint64_t top = head().height();
  if (height == 0 || height > top) {
    return absl::NotFoundError(cdl::StrCat("block ", height, " does not exist (height is ", top, ")"));
  }
  return ParseStored<cdl::v1::CommitCertificate>(store_->Get(kCommitsColumn, EncodeU64BE(height)),
                                                 "commit certificate");
}

absl::StatusOr<cdl::v1::Checkpoint> Ledger::GetCheckpoint(uint64_t height) const {
  if (height == 0) height = head().certified_height();
  if (height == 0) return absl::NotFoundError("no block has been certified yet");
  auto block = GetBlock(height);
  if (!block.ok()) return block.status();
  cdl::v1::Checkpoint cp;
  cp.set_header(block->first.header());
  *cp.mutable_commit() = block->second;
  return cp;
}

absl::StatusOr<std::pair<cdl::v1::InclusionProof, cdl::v1::Checkpoint>> Ledger::GetInclusionProof(
    std::string_view record_id, uint64_t tree_size) const {
  auto receipt = GetReceipt(record_id);
  if (!receipt.ok()) return receipt.status();
  if (receipt->status() != cdl::v1::RECORD_ACCEPTED) {
    return absl::FailedPreconditionError(cdl::StrCat("record ", cdl::crypto::HexEncode(record_id),
                                                      " was rejected and is not in the ledger tree"));
  }
  cdl::v1::LedgerHead h = head();
  uint64_t height = h.certified_height();
  if (tree_size == 0) {
    tree_size = h.certified_ledger_size();
  } else {
    auto at = store_->Get(kSizesColumn, EncodeU64BE(tree_size));
    if (absl::IsNotFound(at.status())) {
      return absl::NotFoundError(cdl::StrCat("no checkpoint has ledger size ", tree_size));
    }
    if (!at.ok()) return at.status();
    auto decoded = cdl::storage::DecodeU64BE(*at);
    if (!decoded.ok()) return absl::DataLossError("corrupt size index");
    height = *decoded;
  }
  if (receipt->ledger_index() >= tree_size) {
    return absl::FailedPreconditionError(cdl::StrCat("record is leaf ", receipt->ledger_index(),
                                                      " but the latest certified checkpoint has ledger size ",
                                                      tree_size, "; retry once its block is certified"));
  }
  auto hashes = cdl::crypto::InclusionProof(receipt->ledger_index(), tree_size, MerkleReader());
  if (!hashes.ok()) return hashes.status();
  auto checkpoint = GetCheckpoint(height);
  if (!checkpoint.ok()) return checkpoint.status();
  cdl::v1::InclusionProof proof;
  proof.set_record_id(std::string(record_id));
  proof.set_leaf_index(receipt->ledger_index());
  proof.set_tree_size(tree_size);
  for (auto& hash : *hashes) proof.add_hashes(std::move(hash));
  return std::make_pair(std::move(proof), *std::move(checkpoint));
}

absl::StatusOr<std::pair<cdl::v1::ConsistencyProof, cdl::v1::Checkpoint>> Ledger::GetConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  cdl::v1::LedgerHead h = head();
  uint64_t height = h.certified_height();
  if (new_size == 0) new_size = h.certified_ledger_size();
  if (old_size > new_size || new_size > h.certified_ledger_size()) {
    return absl::InvalidArgumentError(cdl::StrCat("old_size ", old_size, " and new_size ", new_size,
                                                   " must satisfy old <= new <= ", h.certified_ledger_size()));
  }
  if (new_size != h.certified_ledger_size()) {
    auto at = store_->Get(kSizesColumn, EncodeU64BE(new_size));
    if (absl::IsNotFound(at.status())) return absl::NotFoundError(cdl::StrCat("no checkpoint has ledger size ", new_size));
    if (!at.ok()) return at.status();
    auto decoded = cdl::storage::DecodeU64BE(*at);
    if (!decoded.ok()) return absl::DataLossError("corrupt size index");
    height = *decoded;
  }
  auto hashes = cdl::crypto::ConsistencyProof(old_size, new_size, MerkleReader());
  if (!hashes.ok()) return hashes.status();
  auto checkpoint = GetCheckpoint(height);
  if (!checkpoint.ok()) return checkpoint.status();
  cdl::v1::ConsistencyProof proof;
  proof.set_old_size(old_size);
  proof.set_new_size(new_size);
  for (auto& hash : *hashes) proof.add_hashes(std::move(hash));
  return std::make_pair(std::move(proof), *std::move(checkpoint));
}

bool MatchesState(const QueryFilter& filter, const cdl::v1::RecordState& state) {
  if (!filter.record_type.empty() && state.record_type() != filter.record_type) return false;
  if (!filter.period.empty() && state.period() != filter.period) return false;
  if (!filter.park.empty() && state.park() != filter.park) return false;
  if (!filter.member.empty() && state.author() != filter.member && state.subject_member() != filter.member) {
    return false;
  }
  return true;
}

absl::StatusOr<QueryPage> Ledger::Query(const QueryFilter& filter) const {
  // Certificate status: which 's' index holds the candidates, and whether
  // the validity window decides ("active" vs "expired").
  enum class Expiry { kAny, kNotExpired, kExpired } expiry = Expiry::kAny;
  std::string status_value = filter.certificate_status;
  if (status_value == "active") {
    expiry = Expiry::kNotExpired;
  } else if (status_value == "expired") {
    status_value = "active";
    expiry = Expiry::kExpired;
  } else if (!status_value.empty() && status_value != "suspended" && status_value != "revoked") {
    return absl::InvalidArgumentError(cdl::StrCat("certificate_status: \"", filter.certificate_status,
                                                   "\" is not one of active, suspended, revoked, expired"));
  }
  const bool certificates_only = !filter.standard.empty() || !filter.certificate_status.empty();
  if (certificates_only && !filter.record_type.empty() && filter.record_type != kCertificateType) {
    return QueryPage{};  // only certificates have a standard and a certificate status
  }
  const int64_t as_of = filter.as_of_ms != 0 ? filter.as_of_ms : head().last_time_ms();

  // The most selective index serves the query; other filters are applied to
  // the record state of each hit.
  std::string prefix;
  char served_by = 'z';
  if (!filter.member.empty()) {
    prefix = IndexPrefix(served_by = 'm', filter.member);
  } else if (!status_value.empty()) {
    prefix = IndexPrefix(served_by = 's', status_value);
  } else if (!filter.standard.empty()) {
    prefix = IndexPrefix(served_by = 'S', filter.standard);
  } else if (!filter.park.empty()) {
    prefix = IndexPrefix(served_by = 'k', filter.park);
  } else if (!filter.period.empty()) {
    prefix = IndexPrefix(served_by = 'p', filter.period);
  } else if (!filter.record_type.empty()) {
    prefix = IndexPrefix(served_by = 't', filter.record_type);
  } else {
    prefix = IndexPrefix('z', "");
  }
  uint32_t page_size = filter.page_size == 0 ? 100 : std::min(filter.page_size, kMaxPageSize);
  std::string start = prefix;
  if (!filter.page_token.empty()) {
    auto pos = cdl::crypto::HexDecode(filter.page_token);
    if (!pos.ok() || pos->size() != 12) return absl::InvalidArgumentError("page_token: not a token this node issued");
    start = cdl::StrCat(prefix, *pos);
    start.push_back('\0');  // strictly after the last returned position
  }
  auto snapshot = store_->GetSnapshot();
  cdl::storage::ReadOptions options{snapshot.get()};
  auto it = store_->NewIterator(kIndexColumn, options);
  QueryPage page;
  size_t scanned = 0;
  bool capped = false;
  std::string last_pos;
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view key = it->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    if (page.entries.size() >= page_size || scanned >= kMaxScanPerQuery) {
      capped = true;  // more index entries remain after last_pos
      break;
    }
    ++scanned;
    last_pos = std::string(key.substr(prefix.size()));
    std::string id(it->value());
    auto st = ParseStored<cdl::v1::RecordState>(store_->Get(kStatesColumn, id, options), "record state");
    if (!st.ok()) return st.status();
    if (!MatchesState(filter, *st)) continue;
    if (certificates_only) {
      if (st->record_type() != kCertificateType) continue;
      if (!status_value.empty() && StatusIndexValue(st->status()) != status_value) continue;
      bool expired = st->valid_until_ms() != 0 && st->valid_until_ms() <= as_of;
      if (expiry == Expiry::kNotExpired && expired) continue;
      if (expiry == Expiry::kExpired && !expired) continue;
      if (!filter.standard.empty() && served_by != 'S') {
        auto pos = store_->Get(kIndexColumn, CertificatePositionKey(id), options);
        if (!pos.ok()) return absl::IsNotFound(pos.status()) ? absl::DataLossError("certificate without an index position") : pos.status();
        auto has = store_->Get(kIndexColumn, cdl::StrCat(IndexPrefix('S', filter.standard), *pos), options);
        if (absl::IsNotFound(has.status())) continue;
        if (!has.ok()) return has.status();
      }
    }
    page.entries.push_back({std::move(id), *std::move(st)});
  }
  if (!it->status().ok()) return it->status();
  if (capped) page.next_page_token = cdl::crypto::HexEncode(last_pos);
  return page;
}

absl::StatusOr<cdl::v1::RecordState> Ledger::GetRecordState(std::string_view record_id) const {
  auto raw = store_->Get(kStatesColumn, record_id);
  if (absl::IsNotFound(raw.status())) {
    return absl::NotFoundError(cdl::StrCat("record ", cdl::crypto::HexEncode(record_id), " is not an accepted record"));
  }
  return ParseStored<cdl::v1::RecordState>(raw, "record state");
}

// The keys below are the indexes the rules write: "f" + PACT id
// (rules.cc SubmitFootprint) and "C:" + subject (certification_rules.cc
// CertificatesKey, concatenated 32-byte ids). Readers outside the ledger use
// these functions, never the keys.
absl::StatusOr<std::string> Ledger::FindFootprint(std::string_view pact_id) const {
  auto id = store_->Get(kIndexColumn, cdl::StrCat("f", pact_id));
  if (absl::IsNotFound(id.status())) {
    return absl::NotFoundError(cdl::StrCat("no product footprint with PACT id \"", pact_id, "\""));
  }
  return id;
}

absl::StatusOr<std::vector<std::string>> Ledger::CertificatesOf(std::string_view subject) const {
  auto raw = store_->Get(kIndexColumn, cdl::StrCat("C:", subject));
  if (absl::IsNotFound(raw.status())) return std::vector<std::string>();
  if (!raw.ok()) return raw.status();
  if (raw->size() % cdl::crypto::kHashSize != 0) return absl::DataLossError("corrupt certificate index");
  std::vector<std::string> out;
  for (size_t i = 0; i < raw->size(); i += cdl::crypto::kHashSize) out.push_back(raw->substr(i, cdl::crypto::kHashSize));
  return out;
}

absl::StatusOr<cdl::v1::MemberState> Ledger::GetMember(std::string_view member_id) const {
  auto raw = store_->Get(kMembersColumn, member_id);
  if (absl::IsNotFound(raw.status())) {
    return absl::NotFoundError(cdl::StrCat("member \"", member_id, "\" is not registered"));
  }
  return ParseStored<cdl::v1::MemberState>(raw, "member state");
}

uint64_t Ledger::LastSequence(std::string_view author) const {
  StateView view(store_.get());
  auto last = cdl::ledger::LastSequence(view, author);
  return last.ok() ? *last : 0;
}

absl::StatusOr<std::pair<cdl::v1::StateProof, cdl::v1::Checkpoint>> Ledger::GetStateProof(std::string_view key,
                                                                                      uint64_t height) const {
  if (key.size() != cdl::crypto::kHashSize) return absl::InvalidArgumentError("key: must be a 32-byte state key");
  auto checkpoint = GetCheckpoint(height);
  if (!checkpoint.ok()) return checkpoint.status();
  cdl::v1::BlockHeader header;
  if (!header.ParseFromString(checkpoint->header())) return absl::DataLossError("corrupt block header in the store");
  auto proof = ProveState(store_.get(), key, header.height());
  if (!proof.ok()) return proof.status();
  // Never hand out a proof that does not check against its own checkpoint.
  if (auto s = cdl::verify::VerifyStateProof(header.state_root(), key, *proof); !s.ok()) {
    return absl::DataLossError(cdl::StrCat("state map of block ", header.height(),
                                           " does not match its state_root: ", s.message()));
  }
  return std::make_pair(*std::move(proof), *std::move(checkpoint));
}

absl::StatusOr<KeyCheck> Ledger::CheckSigner(std::string_view member, std::string_view key_id) const {
  StateView view(store_.get());
  int64_t now = head().last_time_ms();
  return CheckSignerKey(view, member, key_id, now);
}

absl::StatusOr<KeyCheck> Ledger::CheckSigner(std::string_view member, std::string_view key_id,
                                             std::string_view known_id, const cdl::v1::MemberState& known) const {
  StateView view(store_.get());
  return CheckSignerKey(view, member, key_id, head().last_time_ms(), known_id, known);
}

}  // namespace cdl::ledger
