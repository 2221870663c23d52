#include "node/verify/record.h"

#include <algorithm>

#include "crypto/str_cat.h"
#include "crypto/hash.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/unknown_field_set.h"
#include "node/verify/decimal.h"

namespace cdl::verify {
namespace {

using cdl::v1::RecordBody;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Returns the path of the first unknown field or oversize string/list in `msg`,
// or "" when there is none. Unknown fields are refused: a node that ignored
// them would interpret a record differently from one that understands them.
std::string FindUnknownOrOversize(const Message& msg, const std::string& path) {
  const auto* reflection = msg.GetReflection();
  if (!reflection->GetUnknownFields(msg).empty()) {
    return path.empty() ? "(top level): unknown field" : path + ": unknown field";
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(msg, &fields);
  for (const FieldDescriptor* f : fields) {
    std::string fpath = path.empty() ? f->name() : cdl::StrCat(path, ".", f->name());
    if (f->is_repeated()) {
      int n = reflection->FieldSize(msg, f);
      if (static_cast<size_t>(n) > kMaxRepeated) {
        return cdl::StrCat(fpath, ": more than ", kMaxRepeated, " entries");
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        for (int i = 0; i < n; ++i) {
          std::string r = FindUnknownOrOversize(reflection->GetRepeatedMessage(msg, f, i),
                                                cdl::StrCat(fpath, "[", i, "]"));
          if (!r.empty()) return r;
        }
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        for (int i = 0; i < n; ++i) {
          if (reflection->GetRepeatedString(msg, f, i).size() > kMaxStringField) {
            return cdl::StrCat(fpath, "[", i, "]: longer than ", kMaxStringField, " bytes");
          }
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      std::string r = FindUnknownOrOversize(reflection->GetMessage(msg, f), fpath);
      if (!r.empty()) return r;
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
               f->type() != FieldDescriptor::TYPE_BYTES) {
      const std::string& s = reflection->GetString(msg, f);
      // The PACT JSON of a footprint is the one long text field.
      size_t limit = f->name() == "pact_json" ? kMaxRecordBytes : kMaxStringField;
      if (s.size() > limit) return cdl::StrCat(fpath, ": longer than ", limit, " bytes");
    } else if (f->type() == FieldDescriptor::TYPE_BYTES) {
      if (reflection->GetString(msg, f).size() > kMaxStringField) {
        return cdl::StrCat(fpath, ": longer than ", kMaxStringField, " bytes");
      }
    }
  }
  return "";
}

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(cdl::StrCat(field, ": ", problem));
}

absl::Status CheckRecordId(std::string_view field, const std::string& id, bool required) {
  if (id.empty() && !required) return absl::OkStatus();
  if (id.size() != 32) return Invalid(field, "must be a 32-byte record id");
  return absl::OkStatus();
}

absl::Status CheckNonNegativeDecimal(std::string_view field, const std::string& value,
                                     bool required) {
  if (value.empty()) {
    return required ? Invalid(field, "is required") : absl::OkStatus();
  }
  return ValidateDecimal(field, value, /*allow_negative=*/false);
}

absl::Status CheckWindow(std::string_view prefix, int64_t from, int64_t until) {
  if (from < 0) return Invalid(cdl::StrCat(prefix, "valid_from_ms"), "must not be negative");
  if (until != 0 && until <= from) {
    return Invalid(cdl::StrCat(prefix, "valid_until_ms"), "must be after valid_from_ms");
  }
  return absl::OkStatus();
}

absl::Status CheckTarget(std::string_view field, const cdl::v1::Target& t) {
  int set = (!t.record_id().empty()) + (!t.member().empty() && t.key_id().empty()) +
            (!t.key_id().empty());
  if (set != 1) {
    return Invalid(field, "name exactly one of record_id, member, or member + key_id");
  }
  if (!t.record_id().empty()) return CheckRecordId(cdl::StrCat(field, ".record_id"), t.record_id(), true);
  if (!t.key_id().empty()) {
    if (t.key_id().size() != 32) return Invalid(cdl::StrCat(field, ".key_id"), "must be 32 bytes");
    return ValidateMemberId(cdl::StrCat(field, ".member"), t.member());
  }
  return ValidateMemberId(cdl::StrCat(field, ".member"), t.member());
}

absl::Status CheckStrings(std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& values,
                          bool non_empty) {
  if (non_empty && values.empty()) return Invalid(field, "must list at least one entry");
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].empty()) return Invalid(cdl::StrCat(field, "[", i, "]"), "is empty");
  }
  return absl::OkStatus();
}

absl::Status CheckJurisdiction(std::string_view field, const std::string& j) {
  if (j.size() < 2 || j.size() > 8) return Invalid(field, "must be a jurisdiction code such as \"CN\" or \"EU\"");
  for (char c : j) {
    if (!(c >= 'A' && c <= 'Z') && c != '-') {
      return Invalid(field, "must be upper-case letters, e.g. \"CN\" or \"EU\"");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPayload(const RecordBody& body) {
  switch (body.payload_case()) {
    case RecordBody::kMemberRegistration: {
      const auto& m = body.member_registration();
      if (auto s = ValidateMemberId("member_registration.member_id", m.member_id()); !s.ok()) return s;
      if (m.role() == cdl::v1::ROLE_UNSPECIFIED || !cdl::v1::Role_IsValid(m.role())) {
        return Invalid("member_registration.role", "must be one of regulator, accreditor, certifier, park, enterprise");
      }
      if (auto s = CheckJurisdiction("member_registration.jurisdiction", m.jurisdiction()); !s.ok()) return s;
      if (m.role() == cdl::v1::ROLE_ENTERPRISE) {
        if (auto s = ValidateMemberId("member_registration.park", m.park()); !s.ok()) return s;
      } else if (!m.park().empty()) {
        return Invalid("member_registration.park", "only enterprises belong to a park");
      }
      if (m.keys().empty()) return Invalid("member_registration.keys", "at least one public key is required");
      for (int i = 0; i < m.keys_size(); ++i) {
        auto k = ParsePublicKeyInfo(cdl::StrCat("member_registration.keys[", i, "]"), m.keys(i));
        if (!k.ok()) return k.status();
      }
      return CheckWindow("member_registration.", m.valid_from_ms(), m.valid_until_ms());
    }
    case RecordBody::kKeyRotation: {
      const auto& k = body.key_rotation();
      if (auto s = ValidateMemberId("key_rotation.member_id", k.member_id()); !s.ok()) return s;
      if (k.add_keys().empty() && k.revoke_key_ids().empty()) {
        return Invalid("key_rotation", "adds no key and revokes none");
      }
      for (int i = 0; i < k.add_keys_size(); ++i) {
        auto p = ParsePublicKeyInfo(cdl::StrCat("key_rotation.add_keys[", i, "]"), k.add_keys(i));
        if (!p.ok()) return p.status();
      }
      for (int i = 0; i < k.revoke_key_ids_size(); ++i) {
        if (k.revoke_key_ids(i).size() != 32) {
          return Invalid(cdl::StrCat("key_rotation.revoke_key_ids[", i, "]"), "must be a 32-byte key id");
        }
      }
      return absl::OkStatus();
    }
    case RecordBody::kDisclosure: {
      const auto& d = body.disclosure();
      if (auto s = ValidateMemberId("disclosure.organisation", d.organisation()); !s.ok()) return s;
      if (auto s = ValidatePeriod("disclosure.period", d.period()); !s.ok()) return s;
      if (auto s = CheckNonNegativeDecimal("disclosure.scope1_tco2e", d.scope1_tco2e(), true); !s.ok()) return s;
      if (auto s = CheckNonNegativeDecimal("disclosure.scope2_location_tco2e", d.scope2_location_tco2e(), false); !s.ok()) return s;
      if (auto s = CheckNonNegativeDecimal("disclosure.scope2_market_tco2e", d.scope2_market_tco2e(), false); !s.ok()) return s;
      if (d.scope2_location_tco2e().empty() && d.scope2_market_tco2e().empty()) {
        return Invalid("disclosure.scope2_location_tco2e", "scope 2 is required (location- or market-based)");
      }
      if (auto s = CheckNonNegativeDecimal("disclosure.scope3_tco2e", d.scope3_tco2e(), false); !s.ok()) return s;
      if (auto s = CheckNonNegativeDecimal("disclosure.energy_mwh", d.energy_mwh(), false); !s.ok()) return s;
      if (!d.renewable_share_pct().empty()) {
        if (auto s = ValidateDecimal("disclosure.renewable_share_pct", d.renewable_share_pct(), false); !s.ok()) return s;
        auto pct = Decimal::Parse(d.renewable_share_pct());
        auto hundred = Decimal::Parse("100");
        if (!pct.ok() || !hundred.ok() || pct->Compare(*hundred) > 0) {
          return Invalid("disclosure.renewable_share_pct", "must be between 0 and 100");
        }
      }
      if (d.methodology().empty()) return Invalid("disclosure.methodology", "is required (e.g. \"ISO 14064-1:2018\")");
      for (int i = 0; i < d.evidence_hashes_size(); ++i) {
        if (d.evidence_hashes(i).size() != 32) {
          return Invalid(cdl::StrCat("disclosure.evidence_hashes[", i, "]"), "must be a 32-byte SHA-256");
        }
      }
      return CheckRecordId("disclosure.supersedes", d.supersedes(), false);
    }
    case RecordBody::kProductFootprint: {
      const auto& p = body.product_footprint();
      if (p.pact_json().empty()) return Invalid("product_footprint.pact_json", "is required");
      return CheckRecordId("product_footprint.supersedes", p.supersedes(), false);
    }
    case RecordBody::kAccreditation: {
      const auto& a = body.accreditation();
      if (auto s = ValidateMemberId("accreditation.certifier", a.certifier()); !s.ok()) return s;
      if (auto s = CheckStrings("accreditation.standards", a.standards(), true); !s.ok()) return s;
      for (int i = 0; i < a.jurisdictions_size(); ++i) {
        if (auto s = CheckJurisdiction(cdl::StrCat("accreditation.jurisdictions[", i, "]"), a.jurisdictions(i)); !s.ok()) return s;
      }
      if (a.jurisdictions().empty()) return Invalid("accreditation.jurisdictions", "must list at least one entry");
      if (a.valid_until_ms() == 0) return Invalid("accreditation.valid_until_ms", "is required");
      return CheckWindow("accreditation.", a.valid_from_ms(), a.valid_until_ms());
    }
    case RecordBody::kCertificate: {
      const auto& c = body.certificate();
      if (auto s = CheckRecordId("certificate.subject", c.subject(), true); !s.ok()) return s;
      if (c.standard().empty()) return Invalid("certificate.standard", "is required");
      if (c.assurance() == cdl::v1::ASSURANCE_UNSPECIFIED || !cdl::v1::AssuranceLevel_IsValid(c.assurance())) {
        return Invalid("certificate.assurance", "must be limited or reasonable");
      }
      if (auto s = CheckNonNegativeDecimal("certificate.materiality_pct", c.materiality_pct(), false); !s.ok()) return s;
      if (c.valid_until_ms() == 0) return Invalid("certificate.valid_until_ms", "is required");
      if (c.statement_hash().size() != 32) return Invalid("certificate.statement_hash", "must be a 32-byte SHA-256");
      if (auto s = CheckJurisdiction("certificate.jurisdiction", c.jurisdiction()); !s.ok()) return s;
      return CheckWindow("certificate.", c.valid_from_ms(), c.valid_until_ms());
    }
    case RecordBody::kRecognitionAgreement: {
      const auto& r = body.recognition_agreement();
      if (auto s = ValidateMemberId("recognition_agreement.party_a", r.party_a()); !s.ok()) return s;
      if (auto s = ValidateMemberId("recognition_agreement.party_b", r.party_b()); !s.ok()) return s;
      if (r.party_a() == r.party_b()) return Invalid("recognition_agreement.party_b", "must differ from party_a");
      if (auto s = CheckJurisdiction("recognition_agreement.jurisdiction_a", r.jurisdiction_a()); !s.ok()) return s;
      if (auto s = CheckJurisdiction("recognition_agreement.jurisdiction_b", r.jurisdiction_b()); !s.ok()) return s;
      if (r.jurisdiction_a() == r.jurisdiction_b()) {
        return Invalid("recognition_agreement.jurisdiction_b", "must differ from jurisdiction_a");
      }
      if (auto s = CheckStrings("recognition_agreement.standards", r.standards(), true); !s.ok()) return s;
      if (r.direction() == cdl::v1::DIRECTION_UNSPECIFIED || !cdl::v1::Direction_IsValid(r.direction())) {
        return Invalid("recognition_agreement.direction", "must be mutual, a_recognises_b or b_recognises_a");
      }
      if (r.valid_until_ms() == 0) return Invalid("recognition_agreement.valid_until_ms", "is required");
      return CheckWindow("recognition_agreement.", r.valid_from_ms(), r.valid_until_ms());
    }
    case RecordBody::kSuspension:
      if (body.suspension().reason().empty()) return Invalid("suspension.reason", "is required");
      return CheckTarget("suspension.target", body.suspension().target());
    case RecordBody::kRevocation:
      if (body.revocation().reason().empty()) return Invalid("revocation.reason", "is required");
      return CheckTarget("revocation.target", body.revocation().target());
    case RecordBody::kReinstatement:
      if (body.reinstatement().reason().empty()) return Invalid("reinstatement.reason", "is required");
      return CheckTarget("reinstatement.target", body.reinstatement().target());
    case RecordBody::kTermination:
      if (body.termination().reason().empty()) return Invalid("termination.reason", "is required");
      return CheckRecordId("termination.agreement", body.termination().agreement(), true);
    case RecordBody::kRenewal:
      if (body.renewal().valid_until_ms() <= 0) return Invalid("renewal.valid_until_ms", "is required");
      return CheckRecordId("renewal.target", body.renewal().target(), true);
    case RecordBody::kAuditFinding: {
      const auto& f = body.audit_finding();
      if (auto s = CheckRecordId("audit_finding.subject", f.subject(), true); !s.ok()) return s;
      if (f.kind() == cdl::v1::FINDING_UNSPECIFIED || !cdl::v1::FindingKind_IsValid(f.kind())) {
        return Invalid("audit_finding.kind", "is required");
      }
      static const char* kSeverities[] = {"info", "minor", "major", "critical"};
      if (std::none_of(std::begin(kSeverities), std::end(kSeverities),
                       [&](const char* s) { return f.severity() == s; })) {
        return Invalid("audit_finding.severity", "must be info, minor, major or critical");
      }
      if (f.description().empty()) return Invalid("audit_finding.description", "is required");
      for (int i = 0; i < f.related_size(); ++i) {
        if (auto s = CheckRecordId(cdl::StrCat("audit_finding.related[", i, "]"), f.related(i), true); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case RecordBody::kEvidence: {
      const auto& e = body.evidence();
      if (e.validator().empty()) return Invalid("evidence.validator", "is required");
      if (e.message_a().empty() || e.message_b().empty()) return Invalid("evidence.message_a", "both messages are required");
      if (e.message_a() == e.message_b()) return Invalid("evidence.message_b", "must differ from message_a");
      return absl::OkStatus();
    }
    case RecordBody::PAYLOAD_NOT_SET:
      break;
  }
  return Invalid("payload", "no payload set");
}

}  // namespace

std::string RecordId(std::string_view body) {
  return cdl::crypto::DomainHash(kRecordDomain, body);
}

std::string PayloadName(const RecordBody& body) {
  if (body.payload_case() == RecordBody::PAYLOAD_NOT_SET) return "";
  const auto* field = RecordBody::descriptor()->FindFieldByNumber(body.payload_case());
  return field == nullptr ? "" : field->name();
}

absl::StatusOr<ParsedRecord> ParseSignedRecord(std::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("signed_record: empty");
  if (bytes.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(cdl::StrCat("signed_record: ", bytes.size(),
                                                   " bytes is larger than the limit of ",
                                                   kMaxRecordBytes));
  }
  ParsedRecord out;
  if (!out.signed_record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("signed_record: malformed protobuf");
  }
  if (!out.body.ParseFromString(out.signed_record.body())) {
    return absl::InvalidArgumentError("signed_record.body: malformed protobuf");
  }
  if (std::string where = FindUnknownOrOversize(out.signed_record, "signed_record"); !where.empty()) {
    return absl::InvalidArgumentError(where);
  }
  if (std::string where = FindUnknownOrOversize(out.body, "body"); !where.empty()) {
    return absl::InvalidArgumentError(where);
  }
  if (out.signed_record.signatures().empty()) {
    return absl::InvalidArgumentError("signed_record.signatures: unsigned record");
  }
  if (static_cast<size_t>(out.signed_record.signatures_size()) > kMaxSignatures) {
    return absl::InvalidArgumentError(cdl::StrCat("signed_record.signatures: more than ", kMaxSignatures));
  }
  out.type = PayloadName(out.body);
  if (out.type.empty()) return absl::InvalidArgumentError("body.payload: no payload set");
  out.id = RecordId(out.signed_record.body());
  return out;
}

absl::Status CheckStateless(const ParsedRecord& record, std::string_view chain_id) {
  const RecordBody& body = record.body;
  if (body.chain_id() != chain_id) {
    return absl::InvalidArgumentError(cdl::StrCat("body.chain_id: \"", body.chain_id(),
                                                   "\" is not this ledger's chain \"", chain_id, "\""));
  }
  if (auto s = ValidateMemberId("body.author", body.author()); !s.ok()) return s;
  if (body.key_id().size() != 32) return Invalid("body.key_id", "must be a 32-byte key id");
  if (body.sequence() == 0) return Invalid("body.sequence", "must start at 1");
  const auto& first = record.signed_record.signatures(0);
  if (first.member() != body.author() || first.key_id() != body.key_id()) {
    return Invalid("signed_record.signatures[0]", "must be the author's signature with body.key_id");
  }
  for (int i = 0; i < record.signed_record.signatures_size(); ++i) {
    const auto& sig = record.signed_record.signatures(i);
    std::string field = cdl::StrCat("signed_record.signatures[", i, "]");
    if (auto s = ValidateMemberId(field + ".member", sig.member()); !s.ok()) return s;
    if (sig.key_id().size() != 32) return Invalid(field + ".key_id", "must be a 32-byte key id");
    if (sig.signature().empty()) return Invalid(field + ".signature", "is empty");
    for (int j = 0; j < i; ++j) {
      if (record.signed_record.signatures(j).member() == sig.member()) {
        return Invalid(field + ".member", "signs twice");
      }
    }
  }
  return CheckPayload(body);
}

absl::StatusOr<std::string> SignRecordId(const cdl::crypto::PrivateKey& key,
                                         std::string_view record_id) {
  return cdl::crypto::SignDomain(key, kSignatureDomain, record_id);
}

absl::Status VerifyRecordSignature(const cdl::crypto::PublicKey& key, std::string_view record_id,
                                   std::string_view signature) {
  return cdl::crypto::VerifyDomain(key, kSignatureDomain, record_id, signature);
}

absl::StatusOr<cdl::v1::SignedRecord> SignBody(const RecordBody& body,
                                               const cdl::crypto::PrivateKey& key) {
  std::string key_id = key.public_key().KeyId();
  if (body.key_id() != key_id) {
    return absl::InvalidArgumentError("body.key_id: does not name the signing key");
  }
  cdl::v1::SignedRecord out;
  if (!body.SerializeToString(out.mutable_body())) {
    return absl::InternalError("could not serialize record body");
  }
  auto sig = SignRecordId(key, RecordId(out.body()));
  if (!sig.ok()) return sig.status();
  auto* s = out.add_signatures();
  s->set_member(body.author());
  s->set_key_id(key_id);
  s->set_signature(*std::move(sig));
  return out;
}

absl::Status CoSign(cdl::v1::SignedRecord& record, std::string_view member,
                    const cdl::crypto::PrivateKey& key) {
  for (const auto& s : record.signatures()) {
    if (s.member() == member) {
      return absl::AlreadyExistsError(cdl::StrCat("record is already signed by ", member));
    }
  }
  auto sig = SignRecordId(key, RecordId(record.body()));
  if (!sig.ok()) return sig.status();
  auto* s = record.add_signatures();
  s->set_member(std::string(member));
  s->set_key_id(key.public_key().KeyId());
  s->set_signature(*std::move(sig));
  return absl::OkStatus();
}

absl::Status ValidateMemberId(std::string_view field, std::string_view id) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() < 2 || id.size() > 64) return Invalid(field, "must be 2 to 64 characters");
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(id[0])) return Invalid(field, "must start with a lower-case letter or digit");
  for (char c : id) {
    if (!lower_digit(c) && c != '.' && c != '_' && c != '-') {
      return Invalid(field, cdl::StrCat("\"", id, "\" may only use a-z, 0-9, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePeriod(std::string_view field, std::string_view p) {
  auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::string_view year = p.substr(0, 4);
  if (p.size() < 4 || !digits(year) || year < "1990" || year > "2100") {
    return Invalid(field, "must be a year (\"2026\"), quarter (\"2026-Q1\") or month (\"2026-03\")");
  }
  if (p.size() == 4) return absl::OkStatus();
  if (p.size() == 7 && p[4] == '-') {
    if (p[5] == 'Q' && p[6] >= '1' && p[6] <= '4') return absl::OkStatus();
    std::string_view month = p.substr(5, 2);
    if (digits(month) && month >= "01" && month <= "12") return absl::OkStatus();
  }
  return Invalid(field, cdl::StrCat("\"", p, "\" is not a year, quarter (\"2026-Q1\") or month (\"2026-03\")"));
}

cdl::v1::PublicKeyInfo PublicKeyInfoOf(const cdl::crypto::PublicKey& key) {
  cdl::v1::PublicKeyInfo info;
  info.set_algorithm(std::string(cdl::crypto::AlgorithmName(key.algorithm())));
  info.set_public_key(key.der());
  return info;
}

absl::StatusOr<cdl::crypto::PublicKey> ParsePublicKeyInfo(std::string_view field,
                                                          const cdl::v1::PublicKeyInfo& info) {
  auto algorithm = cdl::crypto::ParseAlgorithm(info.algorithm());
  if (!algorithm.ok()) {
    return Invalid(cdl::StrCat(field, ".algorithm"),
                   cdl::StrCat("\"", info.algorithm(), "\" is not ecdsa-p256-sha256, ed25519 or sm2-sm3"));
  }
  auto key = cdl::crypto::PublicKey::FromDer(info.public_key());
  if (!key.ok()) return Invalid(cdl::StrCat(field, ".public_key"), "is not a valid SubjectPublicKeyInfo");
  if (key->algorithm() != *algorithm) {
    return Invalid(cdl::StrCat(field, ".algorithm"), "does not match the public key");
  }
  return key;
}

}  // namespace cdl::verify
