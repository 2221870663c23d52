#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/openssl_util.h"

namespace cdl::crypto {
namespace {

// OpenSSL must not clean itself up at exit: gRPC's threads outlive main (its
// shutdown is asynchronous) and may still be in a TLS handshake or a
// thread_local digest context's destructor when atexit handlers run, and the
// cleanup frees the locks they take (seen once as a SEGV in RAND_bytes_ex
// after main returned). The first OPENSSL_init_crypto call decides, so this
// runs at static initialisation, before anything else initialises OpenSSL;
// the process's exit releases the memory anyway.
[[maybe_unused]] const bool kOpenSslKeptUntilExit =
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;

// Hashes the concatenation of `parts` with `md`. Digest failures only happen
// when OpenSSL is broken or out of memory, which no caller can handle, so
// they abort rather than return a wrong digest.
std::string Digest(const EVP_MD* md,
                   std::initializer_list<std::string_view> parts) {
  // One context per thread, re-initialised for every digest.
  thread_local internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  bool ok = ctx != nullptr && md != nullptr &&
            EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
  for (std::string_view part : parts) {
    ok = ok && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out, &out_len) == 1;
  if (!ok) std::abort();
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

// Fetched once, never freed: they live as long as the process's OpenSSL.
const EVP_MD* internal::Sha256Md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}
const EVP_MD* internal::Sm3Md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SM3", nullptr);
  return md;
}

std::string Sha256(std::string_view data) {
  return Digest(internal::Sha256Md(), {data});
}

std::string Sm3(std::string_view data) { return Digest(internal::Sm3Md(), {data}); }

std::string DomainHash(std::string_view domain, std::string_view data) {
  return Digest(internal::Sha256Md(), {domain, std::string_view("\0", 1), data});
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

absl::StatusOr<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("hex string has odd length ", hex.size(),
                     "; every byte needs two hex digits"));
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      size_t bad = hi < 0 ? i : i + 1;
      return absl::InvalidArgumentError(
          absl::StrCat("hex string has a non-hex character at offset ", bad,
                       "; only 0-9, a-f and A-F are allowed"));
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = at(i) << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view base64) {
  if (base64.size() % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base64 text has length ", base64.size(),
        ", which is not a multiple of 4; is '=' padding missing?"));
  }
  size_t padding = 0;
  if (!base64.empty() && base64.back() == '=') {
    padding = base64[base64.size() - 2] == '=' ? 2 : 1;
  }
  std::string out;
  out.reserve(base64.size() / 4 * 3);
  for (size_t i = 0; i < base64.size(); i += 4) {
    bool last = i + 4 == base64.size();
    size_t data_chars = last ? 4 - padding : 4;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int d = 0;
      if (k < data_chars) {
        d = Base64Value(base64[i + k]);
        if (d < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "base64 text has an invalid character at offset ", i + k,
              "; only A-Z, a-z, 0-9, '+', '/' and trailing '=' are allowed"));
        }
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (data_chars >= 3) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (data_chars == 4) out.push_back(static_cast<char>(v & 0xff));
    // The bits below the last decoded byte must be zero; otherwise several
    // texts would decode to the same bytes.
    if ((data_chars == 2 && (v & 0xffff) != 0) ||
        (data_chars == 3 && (v & 0xff) != 0)) {
      return absl::InvalidArgumentError(
          "base64 text is not canonical: unused bits before the padding are "
          "not zero");
    }
  }
  return out;
}

}  // namespace cdl::crypto
