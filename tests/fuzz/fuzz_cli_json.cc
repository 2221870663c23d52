// The CLI's input parsers (cli/parse.h): the disclosure JSON of
// `cdl disclose --file` and the values of flags (roles, founder specs, record
// ids, times, assurance levels, directions, jurisdictions, hashes).
// cli/parse.cc is compiled into this target, so it links neither gRPC nor the
// rest of the CLI.
//
// Input: text. The whole text is parsed as a disclosure file; its first line
// (at most 256 bytes) is given to every flag parser.
//
// Properties:
//   - parse -> format -> parse is stable: a parsed disclosure written back as
//     JSON parses to the same message; a role, direction, founder spec, record
//     id or time (years 1970-9999) printed by the CLI's formatter parses back
//     to the same value;
//   - a parsed disclosure names an organisation (the default if the file has
//     none); a jurisdiction is returned unchanged; ids and hashes are 32 bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "cli/parse.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace cdl::cli;

std::string DisclosureJson(const cdl::v1::Disclosure& d) {
  nlohmann::json j = nlohmann::json::object();
  j["organisation"] = d.organisation();
  j["period"] = d.period();
  j["scope1_tco2e"] = d.scope1_tco2e();
  j["scope2_location_tco2e"] = d.scope2_location_tco2e();
  j["scope2_market_tco2e"] = d.scope2_market_tco2e();
  j["scope3_tco2e"] = d.scope3_tco2e();
  j["energy_mwh"] = d.energy_mwh();
  j["renewable_share_pct"] = d.renewable_share_pct();
  j["methodology"] = d.methodology();
  j["evidence_hashes"] = nlohmann::json::array();
  for (const auto& h : d.evidence_hashes()) j["evidence_hashes"].push_back(cdl::crypto::HexEncode(h));
  j["supersedes"] = cdl::crypto::HexEncode(d.supersedes());
  return j.dump();
}

void CheckDisclosure(absl::string_view text) {
  auto d = ParseDisclosureJson(text, "ent-default");
  if (!d.ok()) {
    FUZZ_CHECK(!d.status().message().empty(), "errors say what is wrong");
    return;
  }
  FUZZ_CHECK(!d->organisation().empty(), "organisation defaults");
  auto again = ParseDisclosureJson(DisclosureJson(*d), "other-default");
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(again->SerializeAsString() == d->SerializeAsString(), "disclosure after a JSON round trip");
}

void CheckFlags(absl::string_view line) {
  if (auto role = ParseRole(line); role.ok()) {
    auto again = ParseRole(RoleName(*role));
    FUZZ_CHECK(again.ok() && *again == *role, "role round trip");
  }
  (void)ParseKeyAlgorithm(line);
  if (auto spec = ParseFounderSpec(line); spec.ok()) {
    FUZZ_CHECK(!spec->id.empty() && !spec->jurisdiction.empty(), "founder fields");
    std::string text = spec->id + ":" + RoleName(spec->role) + ":" + spec->jurisdiction;
    if (!spec->name.empty()) text += ":" + spec->name;
    auto again = ParseFounderSpec(text);
    FUZZ_CHECK(again.ok(), again.status().ToString());
    FUZZ_CHECK(again->id == spec->id && again->role == spec->role && again->jurisdiction == spec->jurisdiction &&
                   again->name == spec->name,
               "founder spec round trip");
  }
  if (auto id = ParseRecordId(line); id.ok()) {
    FUZZ_CHECK(id->size() == 32, "record id size");
    auto again = ParseRecordId(cdl::crypto::HexEncode(*id));
    FUZZ_CHECK(again.ok() && *again == *id, "record id round trip");
  }
  if (auto hash = ParseSha256Hex(line, "--hash"); hash.ok()) FUZZ_CHECK(hash->size() == 32, "hash size");
  if (auto ms = ParseTimeMs(line); ms.ok()) {
    constexpr int64_t kYear10000Ms = 253'402'300'800'000;
    if (*ms >= 0 && *ms < kYear10000Ms) {
      auto again = ParseTimeMs(FormatTimeMs(*ms));
      FUZZ_CHECK(again.ok() && *again == *ms, "time round trip: " + FormatTimeMs(*ms));
    }
  }
  (void)ParseAssurance(line);
  if (auto direction = ParseDirection(line); direction.ok()) {
    auto again = ParseDirection(DirectionName(*direction));
    FUZZ_CHECK(again.ok() && *again == *direction, "direction round trip");
  }
  if (auto j = ParseJurisdiction(line); j.ok()) FUZZ_CHECK(*j == line, "jurisdiction unchanged");
  (void)IsRecordType(line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CheckDisclosure(text);
  absl::string_view line = text.substr(0, text.find('\n'));
  CheckFlags(line.substr(0, 256));
  return 0;
}
