#include "node/ledger/state_tree.h"

#include <map>
#include <memory>

#include "crypto/sparse_merkle.h"
#include "crypto/str_cat.h"
#include "node/storage/keys.h"
#include "node/verify/state_entry.h"

namespace cdl::ledger {
namespace {

using cdl::crypto::SmtNode;

std::string NodeBase(int depth, std::string_view prefix) {
  std::string key(1, 'n');
  key.push_back(static_cast<char>((depth >> 8) & 0xff));
  key.push_back(static_cast<char>(depth & 0xff));
  key.append(prefix.substr(0, (depth + 7) / 8));
  return key;
}

std::string EntryBase(std::string_view state_key) { return cdl::StrCat("e", state_key); }

std::string Versioned(std::string base, uint64_t height) {
  cdl::storage::AppendU64BE(&base, ~height);
  return base;
}

std::string EncodeNode(const SmtNode& node) {
  switch (node.kind) {
    case SmtNode::Kind::kEmpty: return "";
    case SmtNode::Kind::kBranch: return cdl::StrCat("B", node.hash);
    case SmtNode::Kind::kLeaf: return cdl::StrCat("L", node.leaf_key, node.value_hash, node.hash);
  }
  return "";
}

absl::StatusOr<SmtNode> DecodeNode(std::string_view raw) {
  SmtNode node;
  if (raw.empty()) return node;
  if (raw[0] == 'B' && raw.size() == 33) {
    node.kind = SmtNode::Kind::kBranch;
    node.hash = std::string(raw.substr(1));
    return node;
  }
  if (raw[0] == 'L' && raw.size() == 97) {
    node.kind = SmtNode::Kind::kLeaf;
    node.leaf_key = std::string(raw.substr(1, 32));
    node.value_hash = std::string(raw.substr(33, 32));
    node.hash = std::string(raw.substr(65, 32));
    return node;
  }
  return absl::DataLossError("corrupt state map node");
}

// Reads the newest version <= `height` of rows in kSmtColumn through one
// iterator (one per operation: iterators see the store as of their creation).
class VersionedReader {
 public:
  VersionedReader(cdl::storage::Store* store, uint64_t height)
      : it_(store->NewIterator(kSmtColumn)), height_(height) {}

  // The value, or nullopt when absent or deleted at that version.
  absl::StatusOr<std::optional<std::string>> Get(const std::string& base) {
    it_->Seek(Versioned(base, height_));
    if (!it_->Valid()) {
      if (!it_->status().ok()) return it_->status();
      return std::optional<std::string>();
    }
    std::string_view key = it_->key();
    if (key.size() != base.size() + 8 || key.substr(0, base.size()) != base || it_->value().empty()) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(std::string(it_->value()));
  }

  cdl::crypto::SmtNodeReader NodeReader() {
    return [this](int depth, std::string_view prefix) -> absl::StatusOr<SmtNode> {
      auto raw = Get(NodeBase(depth, prefix));
      if (!raw.ok()) return raw.status();
      if (!raw->has_value()) return SmtNode{};
      return DecodeNode(**raw);
    };
  }

 private:
  std::unique_ptr<cdl::storage::Iterator> it_;
  uint64_t height_;
};

std::string EncodeEntry(const cdl::v1::StateEntry& entry) { return cdl::StrCat("E", entry.SerializeAsString()); }

absl::StatusOr<cdl::v1::StateEntry> DecodeEntry(std::string_view raw) {
  cdl::v1::StateEntry entry;
  if (raw.empty() || raw[0] != 'E' || !entry.ParseFromArray(raw.data() + 1, static_cast<int>(raw.size() - 1))) {
    return absl::DataLossError("corrupt state map entry");
  }
  return entry;
}

template <typename T>
absl::StatusOr<std::optional<T>> ParseOptional(absl::StatusOr<std::string> raw, std::string_view what) {
  if (absl::IsNotFound(raw.status())) return std::optional<T>();
  if (!raw.ok()) return raw.status();
  T msg;
  if (!msg.ParseFromString(*raw)) return absl::DataLossError(cdl::StrCat("corrupt ", what));
  return std::optional<T>(std::move(msg));
}

cdl::v1::StateEntry FromChange(cdl::v1::EntryStatus status, int64_t valid_until_ms,
                               const cdl::v1::StatusChange& change) {
  cdl::v1::StateEntry e;
  e.set_status(status);
  e.set_valid_until_ms(valid_until_ms);
  e.set_changed_ms(change.time_ms());
  e.set_changed_by(change.record());
  e.set_reason_hash(cdl::verify::ReasonHash(change.reason()));
  return e;
}

// Every entry a member state implies: the member's and one per key.
std::map<std::string, cdl::v1::StateEntry> MemberEntries(const cdl::v1::MemberState& m) {
  std::map<std::string, cdl::v1::StateEntry> out;
  const std::string& id = m.registration().member_id();
  out[cdl::verify::MemberStateKey(id)] = MemberEntry(m);
  for (const auto& k : m.keys()) out[cdl::verify::KeyStateKey(id, k.key_id())] = KeyEntry(k);
  return out;
}

bool SameEntry(const cdl::v1::StateEntry& a, const cdl::v1::StateEntry& b) {
  return cdl::verify::EncodeStateEntry(a) == cdl::verify::EncodeStateEntry(b);
}

}  // namespace

cdl::v1::StateEntry RecordEntry(const cdl::v1::RecordState& state) {
  cdl::v1::StateEntry e = FromChange(state.status(), state.valid_until_ms(), state.last_change());
  e.set_subject_superseded_by(state.subject_superseded_by());
  return e;
}

cdl::v1::StateEntry MemberEntry(const cdl::v1::MemberState& member) {
  return FromChange(member.status(), member.registration().valid_until_ms(), member.last_change());
}

cdl::v1::StateEntry KeyEntry(const cdl::v1::KeyState& key) { return FromChange(key.status(), 0, key.last_change()); }

bool HasStateEntry(std::string_view record_type) {
  return record_type == "certificate" || record_type == "accreditation" || record_type == "recognition_agreement";
}

absl::StatusOr<std::vector<StateChange>> CollectStateChanges(const StateView& view, cdl::storage::Store* store) {
  std::map<std::string, std::optional<cdl::v1::StateEntry>> changes;
  absl::Status status;
  view.ForEachWrite(kStatesColumn, [&](std::string_view id, const std::optional<std::string>& value) {
    if (!status.ok()) return;
    std::optional<cdl::v1::StateEntry> now;
    if (value.has_value()) {
      cdl::v1::RecordState st;
      if (!st.ParseFromString(*value)) {
        status = absl::DataLossError("corrupt record state in the block being executed");
        return;
      }
      if (!HasStateEntry(st.record_type())) return;
      now = RecordEntry(st);
    }
    auto before = ParseOptional<cdl::v1::RecordState>(store->Get(kStatesColumn, id), "record state");
    if (!before.ok()) {
      status = before.status();
      return;
    }
    std::optional<cdl::v1::StateEntry> old;
    if (before->has_value() && HasStateEntry((*before)->record_type())) old = RecordEntry(**before);
    if (old.has_value() == now.has_value() && (!now.has_value() || SameEntry(*old, *now))) return;
    changes[cdl::verify::RecordStateKey(id)] = std::move(now);
  });
  if (!status.ok()) return status;
  view.ForEachWrite(kMembersColumn, [&](std::string_view id, const std::optional<std::string>& value) {
    if (!status.ok()) return;
    std::map<std::string, cdl::v1::StateEntry> now;
    if (value.has_value()) {
      cdl::v1::MemberState m;
      if (!m.ParseFromString(*value)) {
        status = absl::DataLossError("corrupt member state in the block being executed");
        return;
      }
      now = MemberEntries(m);
    }
    auto before = ParseOptional<cdl::v1::MemberState>(store->Get(kMembersColumn, id), "member state");
    if (!before.ok()) {
      status = before.status();
      return;
    }
    std::map<std::string, cdl::v1::StateEntry> old;
    if (before->has_value()) old = MemberEntries(**before);
    for (auto& [key, entry] : now) {
      auto it = old.find(key);
      if (it == old.end() || !SameEntry(it->second, entry)) changes[key] = std::move(entry);
    }
    for (const auto& [key, entry] : old) {
      if (!now.contains(key)) changes[key] = std::nullopt;
    }
  });
  if (!status.ok()) return status;
  std::vector<StateChange> out;
  out.reserve(changes.size());
  for (auto& [key, entry] : changes) out.push_back({key, std::move(entry)});
  return out;
}

absl::StatusOr<std::string> ApplyStateChanges(cdl::storage::Store* store, const std::vector<StateChange>& changes,
                                              uint64_t height, StateView& view) {
  VersionedReader reader(store, height == 0 ? 0 : height - 1);
  std::vector<cdl::crypto::SmtUpdate> updates;
  updates.reserve(changes.size());
  for (const StateChange& c : changes) {
    cdl::crypto::SmtUpdate u{c.key, std::nullopt};
    if (c.entry.has_value()) {
      u.value_hash = cdl::verify::StateEntryHash(*c.entry);
      view.Put(kSmtColumn, Versioned(EntryBase(c.key), height), EncodeEntry(*c.entry));
    } else {
      view.Put(kSmtColumn, Versioned(EntryBase(c.key), height), "");
    }
    updates.push_back(std::move(u));
  }
  return cdl::crypto::SmtApply(std::move(updates), reader.NodeReader(),
                               [&](int depth, std::string_view prefix, const SmtNode& node) {
                                 view.Put(kSmtColumn, Versioned(NodeBase(depth, prefix), height), EncodeNode(node));
                               });
}

absl::StatusOr<cdl::v1::StateProof> ProveState(cdl::storage::Store* store, std::string_view key, uint64_t height) {
  if (key.size() != cdl::crypto::kSmtKeySize) return absl::InvalidArgumentError("key: must be a 32-byte state key");
  VersionedReader reader(store, height);
  auto lookup = cdl::crypto::SmtProve(key, reader.NodeReader());
  if (!lookup.ok()) return lookup.status();
  auto raw_entry = reader.Get(EntryBase(key));
  if (!raw_entry.ok()) return raw_entry.status();
  cdl::v1::StateProof proof;
  proof.set_key(std::string(key));
  proof.set_height(height);
  if (lookup->value_hash.has_value()) {
    if (!raw_entry->has_value()) return absl::DataLossError("state map leaf without its entry");
    auto entry = DecodeEntry(**raw_entry);
    if (!entry.ok()) return entry.status();
    if (cdl::verify::StateEntryHash(*entry) != *lookup->value_hash) {
      return absl::DataLossError("state map entry does not match its leaf");
    }
    *proof.mutable_entry() = *std::move(entry);
  } else if (raw_entry->has_value()) {
    return absl::DataLossError("state map entry without its leaf");
  }
  proof.mutable_proof()->set_bitmap(lookup->proof.bitmap);
  for (auto& s : lookup->proof.siblings) proof.mutable_proof()->add_siblings(std::move(s));
  return proof;
}

absl::StatusOr<std::string> StateRootAt(cdl::storage::Store* store, uint64_t height) {
  VersionedReader reader(store, height);
  return cdl::crypto::SmtRoot(reader.NodeReader());
}

}  // namespace cdl::ledger
