// In-memory SafetyStore and BlockStore for tests and the simulation. They
// model a disk: the simulator keeps them when it "crashes" a validator and
// hands them to the restarted core. Not thread-safe.

#ifndef CDL_NODE_CONSENSUS_TESTING_MEMORY_STORES_H_
#define CDL_NODE_CONSENSUS_TESTING_MEMORY_STORES_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/consensus/interfaces.h"

namespace cdl::consensus::testing {

class MemorySafetyStore : public SafetyStore {
 public:
  absl::Status Save(const v1::SafetyState& state) override {
    if (fail_saves) return absl::UnavailableError("injected save failure");
    state_ = state;
    ++saves;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<v1::SafetyState>> Load() override {
    return state_;
  }
  const std::optional<v1::SafetyState>& state() const { return state_; }

  bool fail_saves = false;
  int saves = 0;

 private:
  std::optional<v1::SafetyState> state_;
};

class MemoryBlockStore : public BlockStore {
 public:
  absl::Status Put(std::string_view block_id, const v1::Block& block) override {
    blocks_.try_emplace(std::string(block_id), block);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<v1::Block>> Get(
      std::string_view block_id) override {
    auto it = blocks_.find(std::string(block_id));
    if (it == blocks_.end()) return std::optional<v1::Block>();
    return std::optional<v1::Block>(it->second);
  }
  absl::StatusOr<std::vector<v1::Block>> LoadAbove(
      uint64_t min_height) override {
    std::vector<v1::Block> out;
    for (const auto& [id, b] : blocks_) {
      if (b.height() > min_height) out.push_back(b);
    }
    return out;
  }
  size_t size() const { return blocks_.size(); }

 private:
  std::map<std::string, v1::Block> blocks_;
};

}  // namespace cdl::consensus::testing

#endif  // CDL_NODE_CONSENSUS_TESTING_MEMORY_STORES_H_
