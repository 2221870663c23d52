#include "node/storage/store.h"

#include <utility>

namespace cdl::storage {

void WriteBatch::Put(std::string_view column, std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpType::kPut, std::string(column), std::string(key), std::string(value)});
  bytes_ += column.size() + key.size() + value.size();
}

void WriteBatch::Delete(std::string_view column, std::string_view key) {
  ops_.push_back(Op{OpType::kDelete, std::string(column), std::string(key), std::string()});
  bytes_ += column.size() + key.size();
}

void WriteBatch::Clear() {
  ops_.clear();
  bytes_ = 0;
}

namespace {

class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(absl::Status status) : status_(std::move(status)) {}

  void Seek(std::string_view) override {}
  void SeekToFirst() override {}
  bool Valid() const override { return false; }
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  absl::Status status() const override { return status_; }

 private:
  absl::Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewErrorIterator(absl::Status status) {
  return std::make_unique<ErrorIterator>(std::move(status));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Store::Scan(
    std::string_view column, std::string_view start, std::string_view end, size_t limit,
    const ReadOptions& options) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<Iterator> it = NewIterator(column, options);
  if (limit == 0) {
    // Still report a bad column or snapshot.
    if (!it->status().ok()) return it->status();
    return out;
  }
  for (it->Seek(start); it->Valid() && out.size() < limit; it->Next()) {
    if (!end.empty() && it->key() >= end) break;
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  if (!it->status().ok()) return it->status();
  return out;
}

}  // namespace cdl::storage
