#include "node/storage/keys.h"

#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"

namespace cdl::storage {

namespace {

template <typename T>
void AppendBE(std::string* out, T value) {
  for (int shift = static_cast<int>(sizeof(T) * 8) - 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(static_cast<unsigned char>(value >> shift)));
  }
}

template <typename T>
absl::StatusOr<T> DecodeBE(std::string_view bytes) {
  if (bytes.size() != sizeof(T)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a ", sizeof(T), "-byte big-endian integer, got ", bytes.size(), " bytes"));
  }
  T value = 0;
  for (char c : bytes) value = static_cast<T>((value << 8) | static_cast<unsigned char>(c));
  return value;
}

}  // namespace

std::string EncodeU64BE(uint64_t value) {
  std::string out;
  AppendBE(&out, value);
  return out;
}
void AppendU64BE(std::string* out, uint64_t value) { AppendBE(out, value); }
absl::StatusOr<uint64_t> DecodeU64BE(std::string_view bytes) { return DecodeBE<uint64_t>(bytes); }

std::string EncodeU32BE(uint32_t value) {
  std::string out;
  AppendBE(&out, value);
  return out;
}
void AppendU32BE(std::string* out, uint32_t value) { AppendBE(out, value); }
absl::StatusOr<uint32_t> DecodeU32BE(std::string_view bytes) { return DecodeBE<uint32_t>(bytes); }

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

KeyBuilder& KeyBuilder::AppendU64(uint64_t value) {
  AppendU64BE(&key_, value);
  return *this;
}

KeyBuilder& KeyBuilder::AppendU32(uint32_t value) {
  AppendU32BE(&key_, value);
  return *this;
}

KeyBuilder& KeyBuilder::AppendRaw(std::string_view bytes) {
  key_.append(bytes);
  return *this;
}

KeyBuilder& KeyBuilder::AppendString(std::string_view bytes) {
  if (bytes.size() > std::numeric_limits<uint32_t>::max()) std::abort();  // broken invariant
  AppendU32BE(&key_, static_cast<uint32_t>(bytes.size()));
  key_.append(bytes);
  return *this;
}

absl::Status KeyReader::ExpectPrefix(std::string_view prefix) {
  if (rest_.substr(0, prefix.size()) != prefix) {
    return absl::InvalidArgumentError("key does not start with the expected prefix");
  }
  rest_.remove_prefix(prefix.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> KeyReader::ReadRaw(size_t size) {
  if (rest_.size() < size) {
    return absl::InvalidArgumentError(
        absl::StrCat("key too short: need ", size, " more bytes, have ", rest_.size()));
  }
  std::string_view part = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return part;
}

absl::StatusOr<uint64_t> KeyReader::ReadU64() {
  absl::StatusOr<std::string_view> raw = ReadRaw(8);
  if (!raw.ok()) return raw.status();
  return DecodeU64BE(*raw);
}

absl::StatusOr<uint32_t> KeyReader::ReadU32() {
  absl::StatusOr<std::string_view> raw = ReadRaw(4);
  if (!raw.ok()) return raw.status();
  return DecodeU32BE(*raw);
}

absl::StatusOr<std::string_view> KeyReader::ReadString() {
  std::string_view saved = rest_;
  absl::StatusOr<uint32_t> size = ReadU32();
  if (!size.ok()) return size.status();
  absl::StatusOr<std::string_view> bytes = ReadRaw(*size);
  if (!bytes.ok()) rest_ = saved;  // consume nothing on error
  return bytes;
}

}  // namespace cdl::storage
