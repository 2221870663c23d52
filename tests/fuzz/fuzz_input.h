// Helpers shared by the libFuzzer targets in this folder: a reader that turns
// the fuzzer's bytes into integers and length-prefixed byte strings (and the
// matching writer the seed generator uses), and FUZZ_CHECK for properties.
//
// Binary input layout, used by every target whose input is not a single file:
//   U8      1 byte
//   U16/U64 2 / 8 bytes, big-endian
//   Chunk   U16 length, then that many bytes (fewer if the input ends)
//   Rest    everything that is left
// A reader never fails: past the end it returns zeros and empty strings, so
// any byte string is a valid input.
#ifndef CDL_TESTS_FUZZ_FUZZ_INPUT_H_
#define CDL_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// A property of the code under test does not hold: report and abort, which
// libFuzzer records as a crash with the input that caused it.
#define FUZZ_CHECK(cond, what)                                                                                         \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, #cond, std::string(what).c_str()); \
      std::abort();                                                                                                    \
    }                                                                                                                  \
  } while (false)

namespace cdl::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(reinterpret_cast<const char*>(data), size) {}
  explicit FuzzInput(std::string_view data) : data_(data) {}

  bool empty() const { return pos_ >= data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

  uint8_t U8() { return empty() ? 0 : static_cast<uint8_t>(data_[pos_++]); }
  uint16_t U16() {
    uint16_t v = U8();
    return static_cast<uint16_t>((v << 8) | U8());
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return v;
  }
  bool Bool() { return (U8() & 1) != 0; }

  // Up to `n` bytes.
  std::string Bytes(size_t n) {
    if (n > remaining()) n = remaining();
    std::string out(data_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  std::string Chunk() { return Bytes(U16()); }
  std::string Rest() { return Bytes(remaining()); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Writes what FuzzInput reads (seed generation).
class FuzzOutput {
 public:
  FuzzOutput& U8(uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  FuzzOutput& U16(uint16_t v) { return U8(v >> 8).U8(v & 0xff); }
  FuzzOutput& U64(uint64_t v) {
    for (int i = 7; i >= 0; --i) U8(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  FuzzOutput& Bytes(std::string_view b) {
    out_.append(b);
    return *this;
  }
  // Chunks longer than 65535 bytes cannot be written; they are cut.
  FuzzOutput& Chunk(std::string_view b) {
    if (b.size() > 0xffff) b = b.substr(0, 0xffff);
    U16(static_cast<uint16_t>(b.size()));
    return Bytes(b);
  }
  const std::string& data() const { return out_; }

 private:
  std::string out_;
};

// `s` with bit 0 of byte `i % size` flipped (or "x" for an empty string): a
// value guaranteed to differ from `s`.
inline std::string FlipBit(std::string s, size_t i = 0) {
  if (s.empty()) return "x";
  s[i % s.size()] = static_cast<char>(s[i % s.size()] ^ 1);
  return s;
}

}  // namespace cdl::fuzz

#endif  // CDL_TESTS_FUZZ_FUZZ_INPUT_H_
