#include "crypto/keys.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace cdl::crypto {

void internal::EvpPkeyFree::operator()(EVP_PKEY* pkey) const {
  EVP_PKEY_free(pkey);
}

namespace {

using internal::BioPtr;
using internal::EvpMdCtxPtr;
using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;
using internal::TakeOpenSslError;

// This Abseil build has its own string_view type; convert explicitly.
absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

using namespace std::string_view_literals;

// GM/T 0009-2012 default distinguishing identifier for SM2 signatures.
constexpr std::string_view kSm2DefaultId = "1234567812345678";

// The only SubjectPublicKeyInfo DER prefixes we accept: named curve and
// uncompressed point for EC, the RFC 8410 form for Ed25519. Pinning them
// keeps one DER (and so one key id) per key.
constexpr std::string_view kP256SpkiPrefix =
    "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48"
    "\xce\x3d\x03\x01\x07\x03\x42\x00\x04"sv;
constexpr std::string_view kSm2SpkiPrefix =
    "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x81\x1c"
    "\xcf\x55\x01\x82\x2d\x03\x42\x00\x04"sv;
constexpr std::string_view kEd25519SpkiPrefix =
    "\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00"sv;

struct SpkiShape {
  std::string_view prefix;
  size_t size;
};

SpkiShape ExpectedSpki(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEcdsaP256Sha256:
      return {kP256SpkiPrefix, kP256SpkiPrefix.size() + 64};
    case Algorithm::kEd25519:
      return {kEd25519SpkiPrefix, kEd25519SpkiPrefix.size() + 32};
    case Algorithm::kSm2Sm3:
      return {kSm2SpkiPrefix, kSm2SpkiPrefix.size() + 64};
  }
  return {};
}

std::string GroupName(EVP_PKEY* pkey) {
  char name[80] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1) {
    ERR_clear_error();
    return "";
  }
  return std::string(name, len);
}

// Re-imports an EC key on the SM2 curve as an OpenSSL "SM2" key, so that
// signing uses the SM2 scheme rather than ECDSA on the SM2 curve. Some OpenSSL
// 3 builds and callers produce such keys (e.g. "EC" keygen with group SM2).
absl::StatusOr<EvpPkeyPtr> ReimportAsSm2(EVP_PKEY* pkey, bool is_private) {
  int selection = is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  OSSL_PARAM* params = nullptr;
  if (EVP_PKEY_todata(pkey, selection, &params) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot export SM2-curve key: ", TakeOpenSslError()));
  }
  std::unique_ptr<OSSL_PARAM, internal::OpenSslDeleter<OSSL_PARAM_free>>
      owned_params(params);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  EVP_PKEY* out = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, selection, params) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot import key as SM2: ", TakeOpenSslError()));
  }
  return EvpPkeyPtr(out);
}

// Determines the algorithm of `pkey`, replacing it by an SM2-typed key if it
// is an EC key on the SM2 curve.
absl::StatusOr<Algorithm> Classify(EvpPkeyPtr& pkey, bool is_private) {
  if (EVP_PKEY_is_a(pkey.get(), "ED25519")) return Algorithm::kEd25519;
  if (EVP_PKEY_is_a(pkey.get(), "SM2")) return Algorithm::kSm2Sm3;
  if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    std::string group = GroupName(pkey.get());
    if (group == "prime256v1" || group == "P-256") {
      return Algorithm::kEcdsaP256Sha256;
    }
    if (group == "SM2") {
      absl::StatusOr<EvpPkeyPtr> sm2 = ReimportAsSm2(pkey.get(), is_private);
      if (!sm2.ok()) return sm2.status();
      pkey = *std::move(sm2);
      return Algorithm::kSm2Sm3;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported EC curve '", group.empty() ? "explicit parameters" : group,
        "'; supported keys are ecdsa-p256-sha256 (P-256), ed25519 and "
        "sm2-sm3"));
  }
  const char* type = EVP_PKEY_get0_type_name(pkey.get());
  return absl::InvalidArgumentError(absl::StrCat(
      "unsupported key type '", type == nullptr ? "unknown" : type,
      "'; supported keys are ecdsa-p256-sha256 (P-256), ed25519 and sm2-sm3"));
}

absl::StatusOr<std::string> EncodeSpki(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0 || der == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot encode public key: ", TakeOpenSslError()));
  }
  std::string out(reinterpret_cast<const char*>(der), len);
  OPENSSL_free(der);
  return out;
}

// Prepares `mctx` to sign or verify with `pkey` under `algorithm`.
absl::Status InitDigestContext(EVP_MD_CTX* mctx, EvpPkeyCtxPtr& pctx,
                               EVP_PKEY* pkey, Algorithm algorithm, bool sign) {
  const EVP_MD* md = nullptr;
  switch (algorithm) {
    case Algorithm::kEcdsaP256Sha256:
      md = internal::Sha256Md();
      break;
    case Algorithm::kEd25519:
      break;  // Pure Ed25519 hashes internally.
    case Algorithm::kSm2Sm3:
      md = internal::Sm3Md();
      // The id must be set on a context handed to the digest context before
      // initialisation (see EVP_PKEY-SM2(7)); it feeds the Z value.
      pctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
      if (pctx == nullptr ||
          EVP_PKEY_CTX_set1_id(pctx.get(), kSm2DefaultId.data(),
                               kSm2DefaultId.size()) <= 0) {
        return absl::InternalError(absl::StrCat(
            "cannot set SM2 distinguishing id: ", TakeOpenSslError()));
      }
      EVP_MD_CTX_set_pkey_ctx(mctx, pctx.get());
      break;
  }
  int rc = sign ? EVP_DigestSignInit(mctx, nullptr, md, nullptr, pkey)
                : EVP_DigestVerifyInit(mctx, nullptr, md, nullptr, pkey);
  if (rc != 1) {
    return absl::InternalError(absl::StrCat(
        "cannot initialise ", Sv(AlgorithmName(algorithm)),
        sign ? " signing: " : " verification: ", TakeOpenSslError()));
  }
  return absl::OkStatus();
}

std::string DomainMessage(std::string_view domain, std::string_view message) {
  std::string out;
  out.reserve(domain.size() + 1 + message.size());
  out.append(domain);
  out.push_back('\0');
  out.append(message);
  return out;
}

int NoPassphrase(char*, int, int, void*) { return -1; }

// ---- files ----

absl::Status ErrnoStatus(int err, absl::string_view what,
                         const std::string& path) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

// Closes the descriptor on scope exit unless released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Writes all of `data` to `fd`, fsyncs and closes it.
absl::Status WriteSyncClose(ScopedFd& fd, std::string_view data,
                            const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "cannot sync", path);
  if (::close(fd.Release()) != 0) {
    return ErrnoStatus(errno, "cannot close", path);
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Creates `path` with exactly `mode` holding `data`. Without `overwrite` the
// file must not exist; with it, `data` goes to a temporary file that is then
// renamed over `path`.
absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 mode_t mode, bool overwrite) {
  if (!overwrite) {
    ScopedFd fd(
        ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode));
    if (fd.get() < 0) {
      if (errno == EEXIST) {
        return absl::AlreadyExistsError(absl::StrCat(
            "file ", path,
            " already exists; remove it or choose to overwrite it"));
      }
      return ErrnoStatus(errno, "cannot create", path);
    }
    absl::Status status = absl::OkStatus();
    if (::fchmod(fd.get(), mode) != 0) {
      status = ErrnoStatus(errno, "cannot set permissions of", path);
    }
    if (status.ok()) status = WriteSyncClose(fd, data, path);
    if (!status.ok()) ::unlink(path.c_str());
    return status;
  }

  std::string temp = path + ".tmp-XXXXXX";
  ScopedFd fd(::mkstemp(temp.data()));  // Created with mode 0600.
  if (fd.get() < 0) return ErrnoStatus(errno, "cannot create", temp);
  absl::Status status = absl::OkStatus();
  if (::fchmod(fd.get(), mode) != 0) {
    status = ErrnoStatus(errno, "cannot set permissions of", temp);
  }
  if (status.ok()) status = WriteSyncClose(fd, data, temp);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "cannot replace", path);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  // Make the rename itself durable.
  ScopedFd dir(
      ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return absl::OkStatus();
}

// Reads a whole small regular file. With `private_key`, refuses files that
// group or others can read or write.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path,
                                        bool private_key) {
  // O_NONBLOCK: never hang on a FIFO; it is rejected below.
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoStatus(errno, "cannot open key file", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return ErrnoStatus(errno, "cannot stat key file", path);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("key file ", path, " is not a regular file"));
  }
  if (private_key && (st.st_mode & 077) != 0) {
    unsigned perms = st.st_mode & 07777;
    std::string octal = absl::StrCat((perms >> 9) & 7, (perms >> 6) & 7,
                                     (perms >> 3) & 7, perms & 7);
    absl::string_view problem = (perms & 004)   ? "readable by others"
                                : (perms & 040) ? "readable by its group"
                                : (perms & 002) ? "writable by others"
                                : (perms & 020) ? "writable by its group"
                                                : "accessible by others";
    return absl::FailedPreconditionError(
        absl::StrCat("key file ", path, " is ", problem, " (mode ", octal,
                     "); run chmod 600 ", path));
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileSize)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key file ", path, " is ", st.st_size, " bytes; key files are at most ",
        kMaxKeyFileSize, " bytes, is this the right file?"));
  }
  std::string data(kMaxKeyFileSize + 1, '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      OPENSSL_cleanse(data.data(), data.size());
      return ErrnoStatus(errno, "cannot read key file", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done > kMaxKeyFileSize) {
    OPENSSL_cleanse(data.data(), data.size());
    return absl::FailedPreconditionError(absl::StrCat(
        "key file ", path, " grew beyond ", kMaxKeyFileSize, " bytes"));
  }
  data.resize(done);
  return data;
}

// Wipes a string holding secret bytes when it goes out of scope.
class SecretString {
 public:
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  ~SecretString() { OPENSSL_cleanse(value_.data(), value_.size()); }
  const std::string& get() const { return value_; }

 private:
  std::string value_;
};

}  // namespace

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEcdsaP256Sha256:
      return "ecdsa-p256-sha256";
    case Algorithm::kEd25519:
      return "ed25519";
    case Algorithm::kSm2Sm3:
      return "sm2-sm3";
  }
  return "unknown";
}

absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  for (Algorithm a :
       {Algorithm::kEcdsaP256Sha256, Algorithm::kEd25519, Algorithm::kSm2Sm3}) {
    if (name == AlgorithmName(a)) return a;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown signature algorithm '", Sv(name),
                   "'; use one of ecdsa-p256-sha256, ed25519, sm2-sm3"));
}

// ---- PublicKey ----

PublicKey::PublicKey(std::shared_ptr<EVP_PKEY> pkey, std::string der,
                     Algorithm algorithm)
    : pkey_(std::move(pkey)), der_(std::move(der)), algorithm_(algorithm) {}

namespace {

// Keys accepted by FromDer, by their DER. Decoding a key through OpenSSL 3's
// decoder and re-encoding it to check the canonical form costs ~100 us, and
// the same few keys (members, validators) are parsed over and over by
// admission, execution and passport verification. A PublicKey shares its
// immutable EVP_PKEY, so handing out copies is safe across threads. Bounded:
// cleared when full.
class KeyCache {
 public:
  static constexpr size_t kMaxEntries = 4096;
  std::optional<PublicKey> Find(std::string_view der) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(der);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const PublicKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    if (keys_.size() >= kMaxEntries) keys_.clear();
    keys_.emplace(key.der(), key);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    keys_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, PublicKey, std::less<>> keys_;
};

KeyCache& Cache() {
  static KeyCache* cache = new KeyCache();
  return *cache;
}

}  // namespace

absl::StatusOr<PublicKey> PublicKey::FromDer(std::string_view spki_der) {
  if (std::optional<PublicKey> cached = Cache().Find(spki_der)) return *std::move(cached);
  absl::StatusOr<PublicKey> key = ParseDerUncached(spki_der);
  if (key.ok()) Cache().Put(*key);
  return key;
}

namespace {

// Builds the key of a DER that has exactly one of the canonical shapes
// (ExpectedSpki) straight from its raw public value, skipping OpenSSL 3's
// generic decoder (several times slower). OpenSSL still validates the value:
// an EC point must lie on the curve. nullptr when the shape does not match or
// the value is invalid; the caller then takes the generic path, which gives
// the precise error.
EvpPkeyPtr FromCanonicalSpki(std::string_view der, Algorithm* algorithm) {
  for (Algorithm a : {Algorithm::kEcdsaP256Sha256, Algorithm::kEd25519, Algorithm::kSm2Sm3}) {
    SpkiShape shape = ExpectedSpki(a);
    if (der.size() != shape.size || !der.starts_with(shape.prefix)) continue;
    *algorithm = a;
    if (a == Algorithm::kEd25519) {
      std::string_view raw = der.substr(shape.prefix.size());
      return EvpPkeyPtr(EVP_PKEY_new_raw_public_key_ex(
          nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
    }
    // The uncompressed point, 0x04 || X || Y, is the prefix's last byte on.
    std::string point(der.substr(shape.prefix.size() - 1));
    char group[16];
    std::strcpy(group, a == Algorithm::kSm2Sm3 ? "SM2" : "prime256v1");
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
        OSSL_PARAM_construct_end()};
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, a == Algorithm::kSm2Sm3 ? "SM2" : "EC", nullptr));
    EVP_PKEY* pkey = nullptr;
    if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
      ERR_clear_error();
      return nullptr;
    }
    return EvpPkeyPtr(pkey);
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<PublicKey> PublicKey::ParseDerUncached(std::string_view spki_der) {
  if (spki_der.empty()) {
    return absl::InvalidArgumentError("public key is empty");
  }
  Algorithm fast_algorithm;
  if (EvpPkeyPtr fast = FromCanonicalSpki(spki_der, &fast_algorithm)) {
    return PublicKey(std::shared_ptr<EVP_PKEY>(fast.release(), EVP_PKEY_free), std::string(spki_der),
                     fast_algorithm);
  }
  const unsigned char* p =
      reinterpret_cast<const unsigned char*>(spki_der.data());
  const unsigned char* end = p + spki_der.size();
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key is not a valid DER SubjectPublicKeyInfo (",
                     TakeOpenSslError(), ")"));
  }
  if (p != end) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key DER has ", end - p, " trailing bytes"));
  }
  absl::StatusOr<Algorithm> algorithm = Classify(pkey, /*is_private=*/false);
  if (!algorithm.ok()) return algorithm.status();
  absl::StatusOr<std::string> der = EncodeSpki(pkey.get());
  if (!der.ok()) return der.status();
  SpkiShape shape = ExpectedSpki(*algorithm);
  if (*der != spki_der || der->size() != shape.size ||
      !der->starts_with(shape.prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(AlgorithmName(*algorithm)),
        " public key is not in canonical form (use a named curve and an "
        "uncompressed point, as OpenSSL writes by default)"));
  }
  ERR_clear_error();
  return PublicKey(std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free),
                   *std::move(der), *algorithm);
}

void ClearPublicKeyCache() { Cache().Clear(); }

absl::StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key text is ", pem.size(),
                     " bytes; a PEM key is at most ", kMaxKeyFileSize));
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (bio == nullptr ||
      PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "no PEM block found in public key text; expected "
        "'-----BEGIN PUBLIC KEY-----'");
  }
  std::string block_name(name);
  std::string der(reinterpret_cast<const char*>(data), len);
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (block_name != "PUBLIC KEY") {
    return absl::InvalidArgumentError(
        absl::StrCat("PEM block is '", block_name,
                     "', expected 'PUBLIC KEY' (SubjectPublicKeyInfo)"));
  }
  return FromDer(der);
}

std::string PublicKey::ToPem() const {
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  std::string b64 = Base64Encode(der_);
  for (size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out.push_back('\n');
  }
  out.append("-----END PUBLIC KEY-----\n");
  return out;
}

std::string PublicKey::KeyId() const { return Sha256(der_); }

absl::Status PublicKey::Verify(std::string_view message,
                               std::string_view signature) const {
  if (pkey_ == nullptr) {
    return absl::FailedPreconditionError("use of a moved-from PublicKey");
  }
  EvpMdCtxPtr mctx(EVP_MD_CTX_new());
  EvpPkeyCtxPtr pctx;
  if (mctx == nullptr) return absl::ResourceExhaustedError("out of memory");
  absl::Status init =
      InitDigestContext(mctx.get(), pctx, pkey_.get(), algorithm_, false);
  if (!init.ok()) return init;
  int rc = EVP_DigestVerify(
      mctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
      signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
      message.size());
  // The digest context must go before the key context it borrows.
  mctx.reset();
  if (rc != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("signature does not verify");
  }
  return absl::OkStatus();
}

// ---- PrivateKey ----

PrivateKey::PrivateKey(Pkey pkey, PublicKey public_key)
    : pkey_(std::move(pkey)), public_key_(std::move(public_key)) {}

absl::StatusOr<PrivateKey> PrivateKey::Adopt(Pkey owned) {
  EvpPkeyPtr pkey(owned.release());
  absl::StatusOr<Algorithm> algorithm = Classify(pkey, /*is_private=*/true);
  if (!algorithm.ok()) return algorithm.status();
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_private_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(AlgorithmName(*algorithm)), " key has no valid private part"));
  }
  absl::StatusOr<std::string> der = EncodeSpki(pkey.get());
  if (!der.ok()) return der.status();
  absl::StatusOr<PublicKey> pub = PublicKey::FromDer(*der);
  if (!pub.ok()) return pub.status();
  // Decoders may leave harmless errors behind; do not leak them to the
  // next, unrelated OpenSSL call on this thread.
  ERR_clear_error();
  return PrivateKey(Pkey(pkey.release()), *std::move(pub));
}

absl::StatusOr<PrivateKey> PrivateKey::Generate(Algorithm algorithm) {
  EVP_PKEY* raw = nullptr;
  switch (algorithm) {
    case Algorithm::kEcdsaP256Sha256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Algorithm::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case Algorithm::kSm2Sm3:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "SM2");
      break;
  }
  if (raw == nullptr) {
    return absl::InternalError(absl::StrCat("cannot generate ",
                                            Sv(AlgorithmName(algorithm)),
                                            " key: ", TakeOpenSslError()));
  }
  return Adopt(Pkey(raw));
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key text is ", pem.size(),
                     " bytes; a PEM key is at most ", kMaxKeyFileSize));
  }
  if (pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos ||
      pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "private key is encrypted; decrypt it first (e.g. openssl pkey -in "
        "KEY -out KEY.plain) and keep the result mode 0600");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw =
      bio == nullptr
          ? nullptr
          : PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (raw == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "cannot parse private key; expected an unencrypted PKCS#8 PEM block "
        "'-----BEGIN PRIVATE KEY-----'");
  }
  return Adopt(Pkey(raw));
}

absl::StatusOr<PrivateKey> PrivateKey::FromEvpPkey(EVP_PKEY* pkey) {
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("no OpenSSL key given");
  }
  if (EVP_PKEY_up_ref(pkey) != 1) {
    return absl::InternalError("cannot take a reference to the OpenSSL key");
  }
  return Adopt(Pkey(pkey));
}

std::string PrivateKey::ToPem() const {
  if (pkey_ == nullptr) return "";
  // Secure-heap BIO: the buffer is wiped when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0,
                                    nullptr, nullptr) != 1) {
    ERR_clear_error();
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

absl::StatusOr<std::string> PrivateKey::Sign(std::string_view message) const {
  if (pkey_ == nullptr) {
    return absl::FailedPreconditionError("use of a moved-from PrivateKey");
  }
  EvpMdCtxPtr mctx(EVP_MD_CTX_new());
  EvpPkeyCtxPtr pctx;
  if (mctx == nullptr) return absl::ResourceExhaustedError("out of memory");
  absl::Status init = InitDigestContext(mctx.get(), pctx, pkey_.get(),
                                        algorithm(), /*sign=*/true);
  if (!init.ok()) return init;
  int max_size = EVP_PKEY_get_size(pkey_.get());
  if (max_size <= 0) {
    return absl::InternalError("cannot determine signature size");
  }
  std::string signature(static_cast<size_t>(max_size), '\0');
  size_t len = signature.size();
  if (EVP_DigestSign(mctx.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return absl::InternalError(
        absl::StrCat(Sv(AlgorithmName(algorithm())),
                     " signing failed: ", TakeOpenSslError()));
  }
  mctx.reset();  // Before the key context it borrows.
  signature.resize(len);
  return signature;
}

// ---- domain separation ----

absl::StatusOr<std::string> SignDomain(const PrivateKey& key,
                                       std::string_view domain,
                                       std::string_view message) {
  return key.Sign(DomainMessage(domain, message));
}

absl::Status VerifyDomain(const PublicKey& key, std::string_view domain,
                          std::string_view message,
                          std::string_view signature) {
  return key.Verify(DomainMessage(domain, message), signature);
}

// ---- files ----

absl::Status WritePrivateKeyFile(const std::string& path, const PrivateKey& key,
                                 bool overwrite) {
  SecretString pem(key.ToPem());
  if (pem.get().empty()) {
    return absl::InternalError("cannot encode private key");
  }
  return WriteFileAtomically(path, pem.get(), 0600, overwrite);
}

absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path) {
  absl::StatusOr<std::string> data = ReadKeyFile(path, /*private_key=*/true);
  if (!data.ok()) return data.status();
  SecretString pem(*std::move(data));
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(pem.get());
  if (!key.ok()) {
    return absl::Status(
        key.status().code(),
        absl::StrCat("key file ", path, ": ", key.status().message()));
  }
  return key;
}

absl::Status WritePublicKeyFile(const std::string& path, const PublicKey& key,
                                bool overwrite) {
  return WriteFileAtomically(path, key.ToPem(), 0644, overwrite);
}

absl::StatusOr<PublicKey> ReadPublicKeyFile(const std::string& path) {
  absl::StatusOr<std::string> data = ReadKeyFile(path, /*private_key=*/false);
  if (!data.ok()) return data.status();
  absl::StatusOr<PublicKey> key = PublicKey::FromPem(*data);
  if (!key.ok()) {
    return absl::Status(
        key.status().code(),
        absl::StrCat("public key file ", path, ": ", key.status().message()));
  }
  return key;
}

}  // namespace cdl::crypto
