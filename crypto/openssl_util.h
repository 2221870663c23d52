// Internal to cdl_crypto: RAII owners for OpenSSL objects and error helpers.
// Not part of the public API; include only from crypto/*.cc.

#ifndef CDL_CRYPTO_OPENSSL_UTIL_H_
#define CDL_CRYPTO_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace cdl::crypto::internal {

template <auto kFree>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr =
    std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;

// The SHA-256 and SM3 implementations, fetched once per process. OpenSSL 3
// looks an algorithm up by name (under locks) every time a legacy EVP_sha256()
// is used to initialise a context; hashing a Merkle or sparse Merkle path does
// that hundreds of times, so the fetched objects are kept for the process.
const EVP_MD* Sha256Md();
const EVP_MD* Sm3Md();

// Returns a short description of the most recent OpenSSL error (never key
// material) and empties this thread's OpenSSL error queue, so a failure does
// not leak into an unrelated later call.
inline std::string TakeOpenSslError() {
  unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    text = buf;
  } else {
    text = "no OpenSSL error detail";
  }
  ERR_clear_error();
  return text;
}

}  // namespace cdl::crypto::internal

#endif  // CDL_CRYPTO_OPENSSL_UTIL_H_
