// A fixed chain for the fuzz targets and their seed generator: deterministic
// keys, one genesis (validators v1..v4, founders reg-cn and reg-eu) and a
// builder of signed records. The same bytes on every run and machine, so seeds
// written once stay valid (signatures included) for the targets that check
// them against this genesis. No gtest, no logging. Fuzzing and tools only.
#ifndef CDL_TESTS_FUZZ_FIXTURE_H_
#define CDL_TESTS_FUZZ_FIXTURE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "ledger.pb.h"
#include "node/verify/genesis.h"
#include "records.pb.h"

namespace cdl::fuzz {

inline constexpr char kChainId[] = "fuzz-chain";
inline constexpr int64_t kGenesisTimeMs = 1'700'000'000'000;
inline constexpr int64_t kRecordTimeMs = 1'700'000'000'000;
inline constexpr int kValidators = 4;
// Block time of the fuzz world's first block (world.h); blocks follow 1 s apart.
inline constexpr int64_t kFirstBlockMs = 1'700'000'100'000;
inline constexpr int64_t kYearMs = 365LL * 86'400'000;

// The key of `name` (a member or validator id). Fixed: "v1" and "reg-eu" are
// ECDSA P-256, "v2" and "acc-eu" SM2 (embedded PKCS#8), every other name an
// Ed25519 key whose seed is SHA-256("cdl/fuzz-key/v1" || 0x00 || name). Keys
// live for the whole process.
const cdl::crypto::PrivateKey& FixedKey(std::string_view name);

// The fixed genesis: chain kChainId, validators "v1".."v4", founders "reg-cn"
// (regulator, CN) and "reg-eu" (regulator, EU).
const cdl::v1::Genesis& FixedGenesisProto();
const cdl::verify::TrustedGenesis& FixedGenesis();

// Builds records signed with FixedKey, numbering each author's records.
// Copyable: a copy continues from the same sequence numbers.
class RecordBuilder {
 public:
  // A body from `author` with its next sequence and key.
  cdl::v1::RecordBody Body(const std::string& author);
  // Serialized SignedRecord of `body` signed by its author.
  std::string Sign(const cdl::v1::RecordBody& body) const;
  // Also co-signed by each of `cosigners`.
  std::string Sign(const cdl::v1::RecordBody& body, const std::vector<std::string>& cosigners) const;

  std::string Register(const std::string& author, const std::string& id, cdl::v1::Role role,
                       const std::string& jurisdiction, const std::string& park = "");
  std::string Footprint(const std::string& author, const std::string& pact_id, const std::string& value = "1.234");
  std::string Disclosure(const std::string& author, const std::string& period, const std::string& scope1);
  std::string Accreditation(const std::string& author, const std::string& certifier,
                            const std::vector<std::string>& standards, const std::string& jurisdiction,
                            int64_t valid_until_ms);
  std::string Certificate(const std::string& author, const std::string& subject, const std::string& standard,
                          const std::string& jurisdiction, int64_t valid_until_ms);
  std::string Agreement(const std::string& party_a, const std::string& jurisdiction_a, const std::string& party_b,
                        const std::string& jurisdiction_b, const std::string& standard, int64_t valid_until_ms);

 private:
  std::map<std::string, uint64_t> sequence_;
};

// A valid PACT v2.2.0 ProductFootprint with the given id (UUID v4).
std::string PactFootprintJson(const std::string& id, const std::string& value);

}  // namespace cdl::fuzz

#endif  // CDL_TESTS_FUZZ_FIXTURE_H_
