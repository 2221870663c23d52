// Key encoding helpers. Stores order keys bytewise, so numbers are written
// big-endian (byte order == numeric order) and composite keys are built from
// parts whose encoding keeps keys that share leading parts contiguous.
//
// Example: the index "records of author A by sequence" as
//   KeyBuilder("a").AppendString(author).AppendU64(sequence).Build()
// puts all of A's records together, in sequence order, and a Scan with
// start = KeyBuilder("a").AppendString(author).Build() and end = PrefixEnd(start)
// returns exactly them.
//
// All functions are pure and thread-safe; KeyBuilder/KeyReader objects are not.

#ifndef CDL_NODE_STORAGE_KEYS_H_
#define CDL_NODE_STORAGE_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdl::storage {

// 8 bytes, most significant first.
std::string EncodeU64BE(uint64_t value);
void AppendU64BE(std::string* out, uint64_t value);
// InvalidArgument unless `bytes` is exactly 8 bytes.
absl::StatusOr<uint64_t> DecodeU64BE(std::string_view bytes);

// 4 bytes, most significant first.
std::string EncodeU32BE(uint32_t value);
void AppendU32BE(std::string* out, uint32_t value);
// InvalidArgument unless `bytes` is exactly 4 bytes.
absl::StatusOr<uint32_t> DecodeU32BE(std::string_view bytes);

// The smallest key greater than every key that starts with `prefix`, for use
// as the exclusive end of a Scan over that prefix. Empty (= no upper bound)
// when no such key exists (prefix empty or all 0xff bytes).
std::string PrefixEnd(std::string_view prefix);

// Builds a composite key from parts. Order of the built keys:
//  - AppendU64/AppendU32: numeric order.
//  - AppendRaw: bytewise order; no length is written, so use it for
//    fixed-width fields (hashes, ids of one size) or for the last part.
//  - AppendString: 4-byte big-endian length, then the bytes. Unambiguous
//    anywhere in a key; keys with equal earlier parts stay contiguous, but
//    strings sort by (length, bytes), not alphabetically.
class KeyBuilder {
 public:
  KeyBuilder() = default;
  // Starts with raw `prefix` (e.g. a one-byte table tag).
  explicit KeyBuilder(std::string_view prefix) : key_(prefix) {}

  KeyBuilder& AppendU64(uint64_t value);
  KeyBuilder& AppendU32(uint32_t value);
  KeyBuilder& AppendRaw(std::string_view bytes);
  // Strings longer than 4 GiB - 1 are a programming error (checked).
  KeyBuilder& AppendString(std::string_view bytes);

  const std::string& key() const& { return key_; }
  std::string Build() && { return std::move(key_); }
  std::string Build() const& { return key_; }

 private:
  std::string key_;
};

// Parses a key written by KeyBuilder, part by part, in the same order.
// Each Read* returns InvalidArgument if too few bytes remain (and then
// consumes nothing). Returned views point into the key given to the
// constructor, which must outlive them.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}

  // Consumes `prefix`; InvalidArgument if the key does not start with it.
  absl::Status ExpectPrefix(std::string_view prefix);
  absl::StatusOr<uint64_t> ReadU64();
  absl::StatusOr<uint32_t> ReadU32();
  absl::StatusOr<std::string_view> ReadRaw(size_t size);
  absl::StatusOr<std::string_view> ReadString();
  // Everything not yet read (e.g. a raw last part).
  std::string_view rest() const { return rest_; }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace cdl::storage

#endif  // CDL_NODE_STORAGE_KEYS_H_
