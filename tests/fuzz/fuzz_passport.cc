// Passport files (node/verify/passport.h) against the fixed genesis
// (fixture.h). Input: the bytes of a passport file. Seeds are real passports
// exported from the fuzz world (world.h) by the CLI's exporter (make_seeds.cc).
//
// Properties:
//   - DecodePassport accepts only canonical files: EncodePassport of what it
//     decoded gives the input back, and decodes to the same message;
//   - VerifyPassport never fails as a call; a VALID verdict has no reasons, a
//     verified checkpoint and at least one certificate that counts; an
//     INVALID one says why.
#include <cstddef>
#include <cstdint>
#include <string>

#include "node/verify/passport.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdl::fuzz::FixedGenesis();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = cdl::verify::DecodePassport(bytes);
  if (decoded.ok()) {
    const std::string encoded = cdl::verify::EncodePassport(*decoded);
    FUZZ_CHECK(encoded == bytes, "Encode(Decode(file)) is the file");
    auto again = cdl::verify::DecodePassport(encoded);
    FUZZ_CHECK(again.ok(), again.status().ToString());
    FUZZ_CHECK(cdl::verify::EncodePassport(*again) == encoded, "Decode(Encode(p)) is p");
  }

  cdl::verify::PassportCheckOptions options;
  // An hour after the fuzz world's first block: inside every validity window
  // the world's records set.
  options.at_ms = cdl::fuzz::kFirstBlockMs + 3'600'000;
  options.now_ms = options.at_ms;
  const cdl::verify::PassportVerdict verdict = cdl::verify::VerifyPassport(cdl::fuzz::FixedGenesis(), bytes, options);
  if (verdict.valid) {
    FUZZ_CHECK(decoded.ok(), "a VALID passport decodes");
    FUZZ_CHECK(verdict.reasons.empty(), "a VALID verdict has no reasons");
    FUZZ_CHECK(verdict.checkpoint_height > 0, "a VALID verdict has a verified checkpoint");
    bool counts = false;
    for (const auto& c : verdict.certificates) counts = counts || c.counts;
    FUZZ_CHECK(counts, "a VALID verdict has a certificate that counts");
  } else {
    FUZZ_CHECK(!verdict.reasons.empty(), "an INVALID verdict says why");
  }
  return 0;
}
