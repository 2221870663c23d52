#include "cli/parse.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/errors.h"
#include "node/verify/record.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace cdl::cli {
namespace {

using nlohmann::json;

struct RoleEntry {
  absl::string_view name;
  cdl::v1::Role role;
};
constexpr RoleEntry kRoles[] = {
    {"regulator", cdl::v1::ROLE_REGULATOR},
    {"accreditor", cdl::v1::ROLE_ACCREDITOR},
    {"certifier", cdl::v1::ROLE_CERTIFIER},
    {"park", cdl::v1::ROLE_PARK},
    {"enterprise", cdl::v1::ROLE_ENTERPRISE},
};

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

}  // namespace

absl::StatusOr<cdl::v1::Role> ParseRole(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  absl::string_view name = lower;
  absl::ConsumePrefix(&name, "role_");
  for (const RoleEntry& entry : kRoles) {
    if (name == entry.name) return entry.role;
  }
  return InputError(absl::StrCat(
      "unknown role ", Quote(text),
      " — use one of regulator, accreditor, certifier, park, enterprise"));
}

std::string RoleName(cdl::v1::Role role) {
  for (const RoleEntry& entry : kRoles) {
    if (role == entry.role) return std::string(entry.name);
  }
  return "unspecified";
}

absl::StatusOr<cdl::crypto::Algorithm> ParseKeyAlgorithm(
    absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "ecdsa-p256" || lower == "p256" || lower == "p-256") {
    return cdl::crypto::Algorithm::kEcdsaP256Sha256;
  }
  if (lower == "sm2") return cdl::crypto::Algorithm::kSm2Sm3;
  absl::StatusOr<cdl::crypto::Algorithm> full =
      cdl::crypto::ParseAlgorithm(lower);
  if (full.ok()) return full;
  return InputError(absl::StrCat("unknown key algorithm ", Quote(text),
                                 " — use ecdsa-p256, ed25519 or sm2"));
}

absl::StatusOr<FounderSpec> ParseFounderSpec(absl::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 3));
  if (parts.size() < 3 || parts[0].empty() || parts[1].empty() ||
      parts[2].empty()) {
    return InputError(
        absl::StrCat("founder ", Quote(text),
                     " is not ID:ROLE:JURISDICTION[:NAME] — e.g. "
                     "--founder cn-mee:regulator:CN:\"Ministry of Ecology\""));
  }
  FounderSpec spec;
  spec.id = std::string(parts[0]);
  absl::StatusOr<cdl::v1::Role> role = ParseRole(parts[1]);
  if (!role.ok())
    return Annotate(role.status(), absl::StrCat("founder ", spec.id));
  spec.role = *role;
  spec.jurisdiction = std::string(parts[2]);
  if (parts.size() == 4) spec.name = std::string(parts[3]);
  return spec;
}

absl::StatusOr<std::string> ParseRecordId(absl::string_view hex) {
  absl::StatusOr<std::string> raw = cdl::crypto::HexDecode(std::string(hex));
  if (!raw.ok() || raw->size() != cdl::crypto::kHashSize) {
    return InputError(absl::StrCat(
        "record id ", Quote(hex),
        " is not 64 hex digits — copy the id printed by submit, get or query"));
  }
  return raw;
}

absl::StatusOr<cdl::v1::AssuranceLevel> ParseAssurance(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  absl::string_view name = lower;
  absl::ConsumePrefix(&name, "assurance_");
  if (name == "limited") return cdl::v1::ASSURANCE_LIMITED;
  if (name == "reasonable") return cdl::v1::ASSURANCE_REASONABLE;
  return InputError(absl::StrCat("unknown assurance level ", Quote(text),
                                 " — use limited or reasonable"));
}

absl::StatusOr<cdl::v1::Direction> ParseDirection(absl::string_view text) {
  std::string name = absl::AsciiStrToLower(text);
  std::replace(name.begin(), name.end(), '_', '-');
  absl::string_view view = name;
  absl::ConsumePrefix(&view, "direction-");
  std::string canonical =
      absl::StrReplaceAll(view, {{"recognizes", "recognises"}});
  if (canonical == "mutual") return cdl::v1::DIRECTION_MUTUAL;
  if (canonical == "a-recognises-b") return cdl::v1::DIRECTION_A_RECOGNISES_B;
  if (canonical == "b-recognises-a") return cdl::v1::DIRECTION_B_RECOGNISES_A;
  return InputError(
      absl::StrCat("unknown direction ", Quote(text),
                   " — use mutual, a-recognises-b (party A accepts "
                   "certificates issued under B) or b-recognises-a"));
}

std::string DirectionName(cdl::v1::Direction direction) {
  switch (direction) {
    case cdl::v1::DIRECTION_MUTUAL:
      return "mutual";
    case cdl::v1::DIRECTION_A_RECOGNISES_B:
      return "a-recognises-b";
    case cdl::v1::DIRECTION_B_RECOGNISES_A:
      return "b-recognises-a";
    default:
      return "unspecified";
  }
}

absl::StatusOr<std::string> ParseJurisdiction(absl::string_view text) {
  const bool well_formed = text.size() >= 2 && text.size() <= 8 &&
                           std::all_of(text.begin(), text.end(), [](char c) {
                             return (c >= 'A' && c <= 'Z') || c == '-';
                           });
  if (!well_formed) {
    return InputError(absl::StrCat(
        "jurisdiction ", Quote(text),
        " is not a jurisdiction code — write 2 to 8 upper-case letters, e.g. "
        "CN or EU"));
  }
  return std::string(text);
}

absl::StatusOr<std::string> ParseSha256Hex(absl::string_view hex,
                                           absl::string_view what) {
  absl::StatusOr<std::string> raw = cdl::crypto::HexDecode(std::string(hex));
  if (!raw.ok() || raw->size() != cdl::crypto::kHashSize) {
    return InputError(absl::StrCat(what, " ", Quote(hex),
                                   " is not 64 hex digits — pass a SHA-256 "
                                   "in hex"));
  }
  return raw;
}

absl::StatusOr<int64_t> ParseTimeMs(absl::string_view text) {
  absl::Time time;
  std::string error;
  const std::string input(text);
  if (absl::ParseTime(absl::RFC3339_full, input, &time, &error) ||
      absl::ParseTime("%Y-%m-%d", input, absl::UTCTimeZone(), &time, &error)) {
    return absl::ToUnixMillis(time);
  }
  return InputError(absl::StrCat(
      "time ", Quote(text),
      " is not RFC 3339 — write e.g. 2027-12-31T23:59:59Z or 2027-12-31"));
}

std::string FormatTimeMs(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

absl::StatusOr<cdl::v1::Disclosure> ParseDisclosureJson(
    absl::string_view text, absl::string_view default_organisation) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number beyond the double range
    // ("1e999"): both are bad input, never a crash (found by fuzz_cli_json).
    return InputError(
        absl::StrCat("not valid JSON (", e.what(), ") — fix the syntax"));
  }
  if (!doc.is_object()) {
    return InputError(
        "the file must hold one JSON object with the disclosure fields — "
        "e.g. {\"period\": \"2025\", \"scope1_tco2e\": \"1234.5\"}");
  }

  cdl::v1::Disclosure out;
  std::vector<std::string> unknown;
  std::vector<std::string> problems;

  // Decimal quantities: strings keep them exact; integers are exact too.
  // Fractional JSON numbers are refused because they would pass through a
  // binary double.
  auto decimal = [&](const std::string& key, const json& value,
                     std::string* field) {
    if (value.is_string()) {
      *field = value.get<std::string>();
    } else if (value.is_number_integer()) {
      *field = value.dump();
    } else if (value.is_number()) {
      problems.push_back(absl::StrCat(key,
                                      ": write decimals as strings, e.g. \"",
                                      value.dump(), "\", so they stay exact"));
    } else {
      problems.push_back(absl::StrCat(key, ": expected a decimal string"));
    }
  };
  auto text_field = [&](const std::string& key, const json& value,
                        std::string* field) {
    if (value.is_string()) {
      *field = value.get<std::string>();
    } else {
      problems.push_back(absl::StrCat(key, ": expected a string"));
    }
  };
  auto hex_field = [&](const std::string& key,
                       const json& value) -> std::optional<std::string> {
    if (!value.is_string()) {
      problems.push_back(absl::StrCat(key, ": expected a hex string"));
      return std::nullopt;
    }
    absl::StatusOr<std::string> raw =
        cdl::crypto::HexDecode(value.get<std::string>());
    if (!raw.ok() || raw->empty()) {
      problems.push_back(absl::StrCat(key, ": not a hex string"));
      return std::nullopt;
    }
    return *raw;
  };

  for (const auto& [key, value] : doc.items()) {
    if (key == "organisation") {
      text_field(key, value, out.mutable_organisation());
    } else if (key == "period") {
      text_field(key, value, out.mutable_period());
    } else if (key == "methodology") {
      text_field(key, value, out.mutable_methodology());
    } else if (key == "scope1_tco2e") {
      decimal(key, value, out.mutable_scope1_tco2e());
    } else if (key == "scope2_location_tco2e") {
      decimal(key, value, out.mutable_scope2_location_tco2e());
    } else if (key == "scope2_market_tco2e") {
      decimal(key, value, out.mutable_scope2_market_tco2e());
    } else if (key == "scope3_tco2e") {
      decimal(key, value, out.mutable_scope3_tco2e());
    } else if (key == "energy_mwh") {
      decimal(key, value, out.mutable_energy_mwh());
    } else if (key == "renewable_share_pct") {
      decimal(key, value, out.mutable_renewable_share_pct());
    } else if (key == "evidence_hashes") {
      if (!value.is_array()) {
        problems.push_back(
            absl::StrCat(key, ": expected an array of hex SHA-256 hashes"));
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (auto raw = hex_field(absl::StrCat(key, "[", i, "]"), value[i])) {
          out.add_evidence_hashes(*raw);
        }
      }
    } else if (key == "supersedes") {
      if (value.is_string() && value.get<std::string>().empty()) continue;
      if (auto raw = hex_field(key, value)) out.set_supersedes(*raw);
    } else {
      unknown.push_back(Quote(key));
    }
  }

  if (!unknown.empty()) {
    problems.insert(
        problems.begin(),
        absl::StrCat("unknown field", unknown.size() > 1 ? "s " : " ",
                     absl::StrJoin(unknown, ", "),
                     " (known: organisation, period, scope1_tco2e, "
                     "scope2_location_tco2e, scope2_market_tco2e, "
                     "scope3_tco2e, energy_mwh, renewable_share_pct, "
                     "methodology, evidence_hashes, supersedes)"));
  }
  if (!problems.empty()) {
    return InputError(absl::StrCat(
        absl::StrJoin(problems, "; "),
        " — fix the file (field names as in records.proto's Disclosure)"));
  }
  if (out.organisation().empty()) {
    out.set_organisation(std::string(default_organisation));
  }
  return out;
}

bool IsRecordType(absl::string_view name) {
  const google::protobuf::OneofDescriptor* oneof =
      cdl::v1::RecordBody::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (oneof->field(i)->name() == name) return true;
  }
  return false;
}

std::string RecordTypeList() {
  const google::protobuf::OneofDescriptor* oneof =
      cdl::v1::RecordBody::descriptor()->FindOneofByName("payload");
  std::vector<std::string> names;
  for (int i = 0; i < oneof->field_count(); ++i) {
    names.push_back(oneof->field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

absl::Status CheckRecordFilters(const std::string& type, const std::string& period) {
  if (!type.empty() && !IsRecordType(type)) {
    return UsageError(absl::StrCat("--type \"", type, "\" is not a record type — use one of ", RecordTypeList()));
  }
  if (!period.empty()) {
    if (absl::Status s = cdl::verify::ValidatePeriod("--period", period); !s.ok()) {
      return UsageError(absl::StrCat(s.message(), " — write 2026, 2026-Q1 or 2026-03"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cdl::cli
