#include "node/ledger/state_view.h"

namespace cdl::ledger {

std::vector<std::string> LedgerColumns() {
  return {std::string(kMetaColumn),    std::string(kBlocksColumn), std::string(kCommitsColumn),
          std::string(kRecordsColumn), std::string(kReceiptsColumn), std::string(kMembersColumn),
          std::string(kStatesColumn),  std::string(kMerkleColumn), std::string(kLeavesColumn),
          std::string(kSizesColumn),   std::string(kIndexColumn), std::string(kSmtColumn), std::string(kConsensusColumn),
          std::string(kConsensusBlocksColumn)};
}

absl::StatusOr<std::string> StateView::Get(std::string_view column, std::string_view key) const {
  auto it = overlay_.find(Key(column, key));
  if (it != overlay_.end()) {
    if (!it->second.has_value()) return absl::NotFoundError("deleted");
    return *it->second;
  }
  return store_->Get(column, key);
}

void StateView::Put(std::string_view column, std::string_view key, std::string value) {
  Key k(column, key);
  auto it = overlay_.find(k);
  Entry e{k, value, std::nullopt};
  if (it != overlay_.end()) e.previous = it->second;
  overlay_[k] = std::move(value);
  log_.push_back(std::move(e));
}

void StateView::Delete(std::string_view column, std::string_view key) {
  Key k(column, key);
  auto it = overlay_.find(k);
  Entry e{k, std::nullopt, std::nullopt};
  if (it != overlay_.end()) e.previous = it->second;
  overlay_[k] = std::nullopt;
  log_.push_back(std::move(e));
}

void StateView::RollbackTo(size_t mark) {
  while (log_.size() > mark) {
    Entry& e = log_.back();
    if (e.previous.has_value()) {
      overlay_[e.key] = *e.previous;
    } else {
      overlay_.erase(e.key);
    }
    log_.pop_back();
  }
}

cdl::storage::WriteBatch StateView::ToWriteBatch() const {
  cdl::storage::WriteBatch batch;
  for (const auto& [key, value] : overlay_) {
    if (value.has_value()) {
      batch.Put(key.first, key.second, *value);
    } else {
      batch.Delete(key.first, key.second);
    }
  }
  return batch;
}

void StateView::ForEachWrite(
    std::string_view column,
    const std::function<void(std::string_view key, const std::optional<std::string>& value)>& fn) const {
  for (auto it = overlay_.lower_bound(Key(column, "")); it != overlay_.end() && it->first.first == column; ++it) {
    fn(it->first.second, it->second);
  }
}

}  // namespace cdl::ledger
