// Columns of the ledger's store and a write-through overlay used while one
// block executes: reads see the block's own earlier writes, and all writes
// end up in one WriteBatch that is committed atomically with the block.
#ifndef CDL_NODE_LEDGER_STATE_VIEW_H_
#define CDL_NODE_LEDGER_STATE_VIEW_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "node/storage/store.h"

namespace cdl::ledger {

// Column names. Keys that carry numbers are big-endian so order is numeric.
inline constexpr std::string_view kMetaColumn = "meta";        // head, merkle border
inline constexpr std::string_view kBlocksColumn = "blocks";    // u64be height -> Block
inline constexpr std::string_view kCommitsColumn = "commits";  // u64be height -> CommitCertificate
inline constexpr std::string_view kRecordsColumn = "records";  // id -> SignedRecord bytes
inline constexpr std::string_view kReceiptsColumn = "receipts";// id -> Receipt
inline constexpr std::string_view kMembersColumn = "members";  // member id -> MemberState
inline constexpr std::string_view kStatesColumn = "states";    // id -> RecordState (accepted records)
inline constexpr std::string_view kMerkleColumn = "merkle";    // u8 level, u64be index -> hash
inline constexpr std::string_view kLeavesColumn = "leaves";    // u64be leaf index -> record id
inline constexpr std::string_view kSizesColumn = "sizes";      // u64be ledger size -> u64be height
inline constexpr std::string_view kIndexColumn = "index";      // secondary indexes, see ledger.cc
inline constexpr std::string_view kSmtColumn = "smt";          // versioned state map nodes and entries, see state_tree.h
inline constexpr std::string_view kConsensusColumn = "consensus";  // BFT safety state
inline constexpr std::string_view kConsensusBlocksColumn = "cblocks";  // consensus blocks

std::vector<std::string> LedgerColumns();

// Not thread-safe; lives for one block's execution on the executing thread.
class StateView {
 public:
  explicit StateView(cdl::storage::Store* store) : store_(store) {}

  // The value, NotFound if absent (in the overlay or the store), or a store error.
  absl::StatusOr<std::string> Get(std::string_view column, std::string_view key) const;
  void Put(std::string_view column, std::string_view key, std::string value);
  void Delete(std::string_view column, std::string_view key);

  // Returns a mark to roll back to: a record that fails a rule must leave no trace.
  size_t Mark() const { return log_.size(); }
  void RollbackTo(size_t mark);

  // All surviving writes, in order.
  cdl::storage::WriteBatch ToWriteBatch() const;

  // Calls fn(key, value) for every surviving write to `column`, in key order;
  // value is nullopt for a delete.
  void ForEachWrite(std::string_view column,
                    const std::function<void(std::string_view key, const std::optional<std::string>& value)>& fn) const;

 private:
  using Key = std::pair<std::string, std::string>;
  struct Entry {
    Key key;
    std::optional<std::string> value;       // nullopt = delete
    std::optional<std::optional<std::string>> previous;  // overlay value before, nullopt = none
  };
  cdl::storage::Store* store_;
  std::map<Key, std::optional<std::string>> overlay_;
  std::vector<Entry> log_;
};

}  // namespace cdl::ledger

#endif  // CDL_NODE_LEDGER_STATE_VIEW_H_
