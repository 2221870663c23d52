// Fixed-width big-endian integers for the hand-built encodings that cdl signs
// and hashes (commit messages, state entries). Internal to cdl_verify.
#ifndef CDL_NODE_VERIFY_BIG_ENDIAN_H_
#define CDL_NODE_VERIFY_BIG_ENDIAN_H_

#include <cstdint>
#include <string>

namespace cdl::verify::internal {

inline std::string U64BE(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

inline std::string U32BE(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

}  // namespace cdl::verify::internal

#endif  // CDL_NODE_VERIFY_BIG_ENDIAN_H_
