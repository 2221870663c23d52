// The authenticated state map behind BlockHeader.state_root: the status
// entries (node/verify/state_entry.h) of certificates, accreditations,
// recognition agreements, members and keys, in a sparse Merkle tree
// (crypto/sparse_merkle.h) stored in kSmtColumn.
//
// Storage is versioned by block height, so a proof can be served at any
// committed height with O(log n) reads (nothing is ever pruned; each block
// adds about log2(n) + 2 small rows per changed entry). Keys in kSmtColumn:
//   node:  'n' || u16be depth || first ceil(depth/8) bytes of the prefix || u64be(~height)
//   entry: 'e' || 32-byte state key || u64be(~height)
// The inverted height makes the newest version <= h the first key >= (base,
// ~h). A value of "" is a tombstone (deleted at that height). Node values:
// 'B' || hash, or 'L' || leaf key || value hash || hash; entry values:
// 'E' || serialized StateEntry.
//
// Thread-safety: the functions are pure over the store; a writer applies a
// block's changes into its StateView (committed with the block), readers may
// prove at committed heights concurrently.
#ifndef CDL_NODE_LEDGER_STATE_TREE_H_
#define CDL_NODE_LEDGER_STATE_TREE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/ledger/state_view.h"
#include "node/storage/store.h"
#include "state.pb.h"

namespace cdl::ledger {

// Status entries of ledger state objects.
cdl::v1::StateEntry RecordEntry(const cdl::v1::RecordState& state);
cdl::v1::StateEntry MemberEntry(const cdl::v1::MemberState& member);
cdl::v1::StateEntry KeyEntry(const cdl::v1::KeyState& key);
// Whether accepted records of this payload type have an entry: certificates,
// accreditations and recognition agreements.
bool HasStateEntry(std::string_view record_type);

struct StateChange {
  std::string key;                           // 32-byte state key
  std::optional<cdl::v1::StateEntry> entry;  // nullopt = remove
};

// The entries that the writes buffered in `view` (record states and members)
// change relative to what `store` holds, ordered by key. Unchanged entries
// (e.g. a member whose only change is its sequence) are left out.
absl::StatusOr<std::vector<StateChange>> CollectStateChanges(const StateView& view, cdl::storage::Store* store);

// Applies `changes` as the version of `height` on top of the committed
// versions below it, writing the new rows into `view`, and returns the new
// root. `height` must be above every committed version (the next block, or 0
// for the genesis state).
absl::StatusOr<std::string> ApplyStateChanges(cdl::storage::Store* store, const std::vector<StateChange>& changes,
                                              uint64_t height, StateView& view);

// The entry under `key` (or its absence) in the map as of `height`, with its
// proof. The caller checks the root against the block header of `height`.
absl::StatusOr<cdl::v1::StateProof> ProveState(cdl::storage::Store* store, std::string_view key, uint64_t height);

// Root of the map as of `height`.
absl::StatusOr<std::string> StateRootAt(cdl::storage::Store* store, uint64_t height);

}  // namespace cdl::ledger

#endif  // CDL_NODE_LEDGER_STATE_TREE_H_
