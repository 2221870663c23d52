// Record writers for mutual certification: accredit, certify, suspend /
// revoke / reinstate, renew, terminate, and the three steps of a two-party
// recognition agreement (create, cosign, submit) with its co-sign file (format
// in commands.h).
//
// Each command checks its flags completely before it reads a key or contacts
// the node, so a wrong command line never costs the author a sequence number.

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/node_client.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "cli/submitter.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "nlohmann/json.hpp"
#include "node/verify/decimal.h"
#include "node/verify/record.h"

namespace cdl::cli {
namespace {

using nlohmann::json;

// Verification statements are documents (PDF, ...); they are hashed in
// memory, so keep them to a sane size.
constexpr size_t kMaxStatementFileBytes = 64 * 1024 * 1024;
// A co-sign file holds one record in base64 plus a little JSON.
constexpr size_t kMaxCosignFileBytes =
    cdl::verify::kMaxRecordBytes * 4 / 3 + 4096;

std::string Hex(const std::string& raw) { return cdl::crypto::HexEncode(raw); }

// Turns a parse error of a flag's value into a usage error naming the flag.
absl::Status FlagError(const absl::Status& status, absl::string_view flag) {
  return WithExitCode(Annotate(status, flag), kExitUsage);
}

absl::Status Require(absl::string_view flag, const std::string& value,
                     absl::string_view hint) {
  if (!value.empty()) return absl::OkStatus();
  return UsageError(absl::StrCat(flag, " is required — ", hint));
}

absl::Status CheckMemberFlag(absl::string_view flag, const std::string& id) {
  absl::Status status = cdl::verify::ValidateMemberId(
      std::string_view(flag.data(), flag.size()), id);
  if (status.ok()) return status;
  return UsageError(absl::StrCat(status.message(),
                                 " — pass a member id such as acme-verify"));
}

// A repeatable flag that must name at least one non-empty value.
absl::Status CheckList(absl::string_view flag,
                       const std::vector<std::string>& values,
                       absl::string_view example) {
  if (values.empty()) {
    return UsageError(absl::StrCat(flag,
                                   " is required — repeat it for each, e.g. ",
                                   flag, " \"", example, "\""));
  }
  for (const std::string& value : values) {
    if (value.empty()) {
      return UsageError(
          absl::StrCat(flag, " is empty — e.g. ", flag, " \"", example, "\""));
    }
  }
  return absl::OkStatus();
}

// A --valid-from / --valid-until value in Unix ms; 0 when empty and optional.
absl::StatusOr<int64_t> TimeFlag(absl::string_view flag,
                                 const std::string& text, bool required) {
  if (text.empty()) {
    if (!required) return 0;
    return UsageError(absl::StrCat(
        flag, " is required — give an RFC 3339 time or a date, e.g. ", flag,
        " 2027-12-31"));
  }
  absl::StatusOr<int64_t> ms = ParseTimeMs(text);
  if (!ms.ok()) return FlagError(ms.status(), flag);
  return ms;
}

// The validity window ends after it starts and is not over already: the
// ledger would reject such a record and the author would lose its sequence.
absl::Status CheckWindow(int64_t from_ms, int64_t until_ms) {
  if (from_ms != 0 && until_ms <= from_ms) {
    return UsageError(absl::StrCat(
        "--valid-until ", FormatTimeMs(until_ms), " is not after --valid-from ",
        FormatTimeMs(from_ms), " — give a later end"));
  }
  if (until_ms <= absl::ToUnixMillis(absl::Now())) {
    return UsageError(absl::StrCat("--valid-until ", FormatTimeMs(until_ms),
                                   " is already past — give a future time"));
  }
  return absl::OkStatus();
}

// Parsed --valid-from / --valid-until, checked as a window.
struct Window {
  int64_t from_ms = 0;
  int64_t until_ms = 0;
};
absl::StatusOr<Window> WindowFlags(const std::string& from,
                                   const std::string& until) {
  Window window;
  absl::StatusOr<int64_t> from_ms = TimeFlag("--valid-from", from, false);
  if (!from_ms.ok()) return from_ms.status();
  absl::StatusOr<int64_t> until_ms = TimeFlag("--valid-until", until, true);
  if (!until_ms.ok()) return until_ms.status();
  window.from_ms = *from_ms;
  window.until_ms = *until_ms;
  if (absl::Status s = CheckWindow(window.from_ms, window.until_ms); !s.ok()) {
    return s;
  }
  return window;
}

std::string WindowText(int64_t from_ms, int64_t until_ms) {
  return absl::StrCat(
      from_ms == 0 ? "from its acceptance" : "from " + FormatTimeMs(from_ms),
      " until ", FormatTimeMs(until_ms));
}

// Signs `body` as the author, submits it and reports the receipt.
absl::Status SubmitOne(const Context& ctx, const AuthorOptions& author,
                       cdl::v1::RecordBody body) {
  absl::StatusOr<Submitter> submitter = Submitter::Create(ctx, author);
  if (!submitter.ok()) return submitter.status();
  absl::StatusOr<cdl::v1::Receipt> receipt = submitter->Submit(std::move(body));
  if (!receipt.ok()) return receipt.status();
  return ReportReceipts(ctx, {*receipt}, author.no_wait, false);
}

const char* Verb(StatusChangeKind kind) {
  switch (kind) {
    case StatusChangeKind::kSuspend:
      return "suspend";
    case StatusChangeKind::kRevoke:
      return "revoke";
    case StatusChangeKind::kReinstate:
      return "reinstate";
  }
  return "change";
}

absl::StatusOr<cdl::v1::Target> TargetFlags(const StatusChangeOptions& o) {
  cdl::v1::Target target;
  const std::string verb = Verb(o.kind);
  if (!o.record.empty() && !o.member.empty()) {
    return UsageError(absl::StrCat(
        "--record and --member both given — ", verb,
        " either a record or a member (with --key-id: one of its keys)"));
  }
  if (o.record.empty() && o.member.empty()) {
    return UsageError(absl::StrCat(
        "nothing to ", verb,
        " — pass --record ID (a certificate, accreditation or recognition "
        "agreement) or --member ID [--key-id HEX]"));
  }
  if (!o.record.empty()) {
    if (!o.key_id.empty()) {
      return UsageError(
          "--key-id goes with --member (the key's owner), not with --record");
    }
    absl::StatusOr<std::string> id = ParseRecordId(o.record);
    if (!id.ok()) return FlagError(id.status(), "--record");
    target.set_record_id(*id);
    return target;
  }
  if (absl::Status s = CheckMemberFlag("--member", o.member); !s.ok()) return s;
  target.set_member(o.member);
  if (!o.key_id.empty()) {
    absl::StatusOr<std::string> key_id = ParseSha256Hex(o.key_id, "--key-id");
    if (!key_id.ok()) return WithExitCode(key_id.status(), kExitUsage);
    target.set_key_id(*key_id);
  }
  return target;
}

// ---- Co-sign files ----------------------------------------------------------

absl::Status WriteCosignFile(const std::string& path,
                             const cdl::v1::SignedRecord& record) {
  json doc = {
      {"format", kCosignFormat},
      {"record_id", Hex(cdl::verify::RecordId(record.body()))},
      {"signed_record", cdl::crypto::Base64Encode(record.SerializeAsString())},
  };
  if (absl::Status s = WriteFile(path, doc.dump(2) + "\n", "co-sign file");
      !s.ok()) {
    return s;
  }
  // Holds no secret, and the other party has to read it.
  if (chmod(path.c_str(), 0644) != 0) {
    return InputError(absl::StrCat("cannot set mode 0644 on co-sign file ",
                                   path, ": ", std::strerror(errno),
                                   " — check you own the file"));
  }
  return absl::OkStatus();
}

absl::Status CosignFileError(const std::string& path, absl::string_view why) {
  return InputError(absl::StrCat("co-sign file ", path, " ", why,
                                 " — pass the file written by 'cdl recognise "
                                 "create' (and signed by 'cdl recognise "
                                 "cosign')"));
}

// Reads a co-sign file strictly and returns the recognition agreement in it,
// checked as far as possible without the ledger (verify::CheckStateless with
// the record's own chain id).
absl::StatusOr<cdl::verify::ParsedRecord> ReadCosignFile(
    const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFileLimited(path, kMaxCosignFileBytes, "co-sign file");
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return CosignFileError(path, "is not a JSON object");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "format" && key != "record_id" && key != "signed_record") {
      return CosignFileError(
          path, absl::StrCat("has an unknown field \"", key,
                             "\" (known: format, record_id, signed_record)"));
    }
  }
  if (!doc.contains("format") || doc["format"] != kCosignFormat) {
    return CosignFileError(
        path,
        absl::StrCat("is not in format ", kCosignFormat, " (its \"format\" is ",
                     doc.contains("format") ? doc["format"].dump()
                                            : std::string("missing"),
                     ")"));
  }
  if (!doc.contains("signed_record") || !doc["signed_record"].is_string()) {
    return CosignFileError(path, "has no \"signed_record\" string");
  }
  absl::StatusOr<std::string> bytes =
      cdl::crypto::Base64Decode(doc["signed_record"].get<std::string>());
  if (!bytes.ok()) {
    return CosignFileError(path, "has a \"signed_record\" that is not base64");
  }
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      cdl::verify::ParseSignedRecord(*bytes);
  if (!record.ok()) {
    return CosignFileError(path, absl::StrCat("holds no valid record (",
                                              record.status().message(), ")"));
  }
  if (doc.contains("record_id") &&
      (!doc["record_id"].is_string() ||
       doc["record_id"].get<std::string>() != Hex(record->id))) {
    return CosignFileError(
        path, absl::StrCat("names record_id ", doc["record_id"].dump(),
                           " but holds record ", Hex(record->id),
                           "; the file was altered"));
  }
  if (record->body.payload_case() !=
      cdl::v1::RecordBody::kRecognitionAgreement) {
    return CosignFileError(
        path, absl::StrCat("holds a ", record->type,
                           " record, not a recognition agreement"));
  }
  if (absl::Status s =
          cdl::verify::CheckStateless(*record, record->body.chain_id());
      !s.ok()) {
    return CosignFileError(
        path, absl::StrCat("holds an invalid agreement (", s.message(), ")"));
  }
  return record;
}

json AgreementJson(const cdl::verify::ParsedRecord& record,
                   const std::string& file) {
  const cdl::v1::RecognitionAgreement& a = record.body.recognition_agreement();
  json signed_by = json::array();
  for (const cdl::v1::Signature& s : record.signed_record.signatures()) {
    signed_by.push_back(s.member());
  }
  return json{
      {"file", file},
      {"record_id", Hex(record.id)},
      {"chain_id", record.body.chain_id()},
      {"sequence", record.body.sequence()},
      {"party_a", a.party_a()},
      {"jurisdiction_a", a.jurisdiction_a()},
      {"party_b", a.party_b()},
      {"jurisdiction_b", a.jurisdiction_b()},
      {"standards",
       std::vector<std::string>(a.standards().begin(), a.standards().end())},
      {"direction", DirectionName(a.direction())},
      {"valid_from", a.valid_from_ms() == 0 ? std::string()
                                            : FormatTimeMs(a.valid_from_ms())},
      {"valid_until", FormatTimeMs(a.valid_until_ms())},
      {"signed_by", signed_by},
      {"complete", record.signed_record.signatures_size() >= 2},
  };
}

// Two lines saying what the agreement is, for the humans about to sign it.
std::string AgreementText(const cdl::verify::ParsedRecord& record) {
  const cdl::v1::RecognitionAgreement& a = record.body.recognition_agreement();
  return absl::StrCat(
      "  ", a.party_a(), " (", a.jurisdiction_a(), ") and ", a.party_b(), " (",
      a.jurisdiction_b(), "), ", DirectionName(a.direction()),
      ", standards: ", absl::StrJoin(a.standards(), ", "), "\n  valid ",
      WindowText(a.valid_from_ms(), a.valid_until_ms()), "; chain ",
      record.body.chain_id(), ", ", a.party_a(), "'s sequence ",
      record.body.sequence(), "\n");
}

bool IsAuthority(cdl::v1::Role role) {
  return role == cdl::v1::ROLE_REGULATOR || role == cdl::v1::ROLE_ACCREDITOR;
}

// Before anyone signs: each party is a registered accreditor or regulator of
// the jurisdiction the agreement names for it (the ledger would reject the
// agreement otherwise, after both parties had signed).
// `party` names it in errors ("party_b"), `id_flag` and `jurisdiction_flag`
// are the flags that set it.
absl::Status CheckParty(NodeClient& client, absl::string_view party,
                        absl::string_view id_flag, const std::string& id,
                        const std::string& jurisdiction,
                        absl::string_view jurisdiction_flag) {
  absl::StatusOr<cdl::v1::GetMemberResponse> member = client.GetMember(id);
  if (!member.ok()) {
    if (absl::IsNotFound(member.status())) {
      return InputError(absl::StrCat(
          party, " \"", id, "\" is not a registered member — check ", id_flag));
    }
    return member.status();
  }
  const cdl::v1::MemberRegistration& reg = member->member().registration();
  if (!IsAuthority(reg.role())) {
    return InputError(absl::StrCat(
        party, " \"", id, "\" is a ", RoleName(reg.role()),
        "; the parties of a recognition agreement are accreditors or "
        "regulators"));
  }
  if (reg.jurisdiction() != jurisdiction) {
    return InputError(absl::StrCat(party, " \"", id, "\" is of jurisdiction ",
                                   reg.jurisdiction(), ", not ", jurisdiction,
                                   " — pass ", jurisdiction_flag, " ",
                                   reg.jurisdiction()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunAccredit(const Context& ctx, const AccreditOptions& options) {
  if (absl::Status s = CheckMemberFlag("--certifier", options.certifier);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckList("--standard", options.standards, "ISO 14067");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckList("--jurisdiction", options.jurisdictions, "CN");
      !s.ok()) {
    return s;
  }
  cdl::v1::RecordBody body;
  cdl::v1::Accreditation* a = body.mutable_accreditation();
  a->set_certifier(options.certifier);
  for (const std::string& standard : options.standards) {
    a->add_standards(standard);
  }
  for (const std::string& text : options.jurisdictions) {
    absl::StatusOr<std::string> jurisdiction = ParseJurisdiction(text);
    if (!jurisdiction.ok()) {
      return FlagError(jurisdiction.status(), "--jurisdiction");
    }
    a->add_jurisdictions(*jurisdiction);
  }
  absl::StatusOr<Window> window =
      WindowFlags(options.valid_from, options.valid_until);
  if (!window.ok()) return window.status();
  a->set_valid_from_ms(window->from_ms);
  a->set_valid_until_ms(window->until_ms);
  return SubmitOne(ctx, options.author, std::move(body));
}

absl::Status RunCertify(const Context& ctx, const CertifyOptions& options) {
  cdl::v1::RecordBody body;
  cdl::v1::Certificate* c = body.mutable_certificate();
  if (absl::Status s = Require("--subject", options.subject,
                               "pass the record id of the disclosure or "
                               "footprint being certified");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> subject = ParseRecordId(options.subject);
  if (!subject.ok()) return FlagError(subject.status(), "--subject");
  c->set_subject(*subject);
  if (absl::Status s = Require("--standard", options.standard,
                               "e.g. --standard \"ISO 14067\"");
      !s.ok()) {
    return s;
  }
  c->set_standard(options.standard);
  absl::StatusOr<cdl::v1::AssuranceLevel> assurance =
      ParseAssurance(options.assurance);
  if (!assurance.ok()) return FlagError(assurance.status(), "--assurance");
  c->set_assurance(*assurance);
  if (!options.materiality.empty()) {
    std::string problem =
        cdl::verify::DecimalProblem(options.materiality, false);
    if (!problem.empty()) {
      return UsageError(absl::StrCat("--materiality: ", problem,
                                     " — give a percentage such as 5"));
    }
    c->set_materiality_pct(options.materiality);
  }
  if (!options.statement.empty() && !options.statement_hash.empty()) {
    return UsageError(
        "--statement and --statement-hash both given — pass the statement "
        "file or its SHA-256, not both");
  }
  if (options.statement.empty() && options.statement_hash.empty()) {
    return UsageError(
        "no verification statement — pass --statement FILE (its SHA-256 is "
        "recorded) or --statement-hash HEX");
  }
  if (!options.statement_hash.empty()) {
    absl::StatusOr<std::string> hash =
        ParseSha256Hex(options.statement_hash, "--statement-hash");
    if (!hash.ok()) return WithExitCode(hash.status(), kExitUsage);
    c->set_statement_hash(*hash);
  }
  c->set_conditions(options.conditions);
  if (absl::Status s =
          Require("--jurisdiction", options.jurisdiction,
                  "name the jurisdiction whose accreditation the certificate "
                  "is issued under (the subject's), e.g. CN");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> jurisdiction =
      ParseJurisdiction(options.jurisdiction);
  if (!jurisdiction.ok()) {
    return FlagError(jurisdiction.status(), "--jurisdiction");
  }
  c->set_jurisdiction(*jurisdiction);
  absl::StatusOr<Window> window =
      WindowFlags(options.valid_from, options.valid_until);
  if (!window.ok()) return window.status();
  c->set_valid_from_ms(window->from_ms);
  c->set_valid_until_ms(window->until_ms);
  // Last: the only check that reads a (possibly large) file.
  if (!options.statement.empty()) {
    absl::StatusOr<std::string> statement = ReadFileLimited(
        options.statement, kMaxStatementFileBytes, "statement file");
    if (!statement.ok()) return statement.status();
    c->set_statement_hash(cdl::crypto::Sha256(*statement));
  }
  return SubmitOne(ctx, options.author, std::move(body));
}

absl::Status RunStatusChange(const Context& ctx,
                             const StatusChangeOptions& options) {
  absl::StatusOr<cdl::v1::Target> target = TargetFlags(options);
  if (!target.ok()) return target.status();
  if (absl::Status s =
          Require("--reason", options.reason,
                  absl::StrCat("say why you ", Verb(options.kind),
                               " it; the reason is recorded on the ledger"));
      !s.ok()) {
    return s;
  }
  cdl::v1::RecordBody body;
  switch (options.kind) {
    case StatusChangeKind::kSuspend:
      *body.mutable_suspension()->mutable_target() = *target;
      body.mutable_suspension()->set_reason(options.reason);
      break;
    case StatusChangeKind::kRevoke:
      *body.mutable_revocation()->mutable_target() = *target;
      body.mutable_revocation()->set_reason(options.reason);
      break;
    case StatusChangeKind::kReinstate:
      *body.mutable_reinstatement()->mutable_target() = *target;
      body.mutable_reinstatement()->set_reason(options.reason);
      break;
  }
  return SubmitOne(ctx, options.author, std::move(body));
}

absl::Status RunRenew(const Context& ctx, const RenewOptions& options) {
  if (absl::Status s = Require("--record", options.record,
                               "pass the record id of the accreditation or "
                               "certificate to renew");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> id = ParseRecordId(options.record);
  if (!id.ok()) return FlagError(id.status(), "--record");
  absl::StatusOr<int64_t> until =
      TimeFlag("--valid-until", options.valid_until, true);
  if (!until.ok()) return until.status();
  if (absl::Status s = CheckWindow(0, *until); !s.ok()) return s;
  cdl::v1::RecordBody body;
  body.mutable_renewal()->set_target(*id);
  body.mutable_renewal()->set_valid_until_ms(*until);
  return SubmitOne(ctx, options.author, std::move(body));
}

absl::Status RunTerminate(const Context& ctx, const TerminateOptions& options) {
  if (absl::Status s =
          Require("--agreement", options.agreement,
                  "pass the record id of the recognition agreement");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> id = ParseRecordId(options.agreement);
  if (!id.ok()) return FlagError(id.status(), "--agreement");
  if (absl::Status s = Require("--reason", options.reason,
                               "say why the agreement ends; the reason is "
                               "recorded on the ledger");
      !s.ok()) {
    return s;
  }
  cdl::v1::RecordBody body;
  body.mutable_termination()->set_agreement(*id);
  body.mutable_termination()->set_reason(options.reason);
  return SubmitOne(ctx, options.author, std::move(body));
}

absl::Status RunRecogniseCreate(const Context& ctx,
                                const RecogniseCreateOptions& options) {
  if (absl::Status s = CheckMemberFlag("--party-b", options.party_b); !s.ok()) {
    return s;
  }
  if (options.party_b == options.author.as) {
    return UsageError(absl::StrCat(
        "--party-b \"", options.party_b,
        "\" is --as itself — an agreement is between two members; name the "
        "other accreditor or regulator"));
  }
  cdl::v1::RecordBody body;
  cdl::v1::RecognitionAgreement* a = body.mutable_recognition_agreement();
  a->set_party_a(options.author.as);
  a->set_party_b(options.party_b);
  absl::StatusOr<std::string> jurisdiction_a =
      ParseJurisdiction(options.jurisdiction_a);
  if (!jurisdiction_a.ok()) {
    return FlagError(jurisdiction_a.status(), "--jurisdiction-a");
  }
  absl::StatusOr<std::string> jurisdiction_b =
      ParseJurisdiction(options.jurisdiction_b);
  if (!jurisdiction_b.ok()) {
    return FlagError(jurisdiction_b.status(), "--jurisdiction-b");
  }
  if (*jurisdiction_a == *jurisdiction_b) {
    return UsageError(absl::StrCat(
        "--jurisdiction-a and --jurisdiction-b are both ", *jurisdiction_a,
        " — an agreement recognises another jurisdiction's certificates"));
  }
  a->set_jurisdiction_a(*jurisdiction_a);
  a->set_jurisdiction_b(*jurisdiction_b);
  if (absl::Status s = CheckList("--standard", options.standards, "ISO 14067");
      !s.ok()) {
    return s;
  }
  for (const std::string& standard : options.standards) {
    a->add_standards(standard);
  }
  absl::StatusOr<cdl::v1::Direction> direction =
      ParseDirection(options.direction);
  if (!direction.ok()) return FlagError(direction.status(), "--direction");
  a->set_direction(*direction);
  absl::StatusOr<Window> window =
      WindowFlags(options.valid_from, options.valid_until);
  if (!window.ok()) return window.status();
  a->set_valid_from_ms(window->from_ms);
  a->set_valid_until_ms(window->until_ms);
  if (absl::Status s = Require("-o/--output", options.output,
                               "name the co-sign file to write");
      !s.ok()) {
    return s;
  }
  std::error_code ec;
  if (std::filesystem::exists(options.output, ec) && !options.force) {
    return InputError(absl::StrCat(
        "co-sign file ", options.output,
        " already exists — choose another path or pass --force to replace "
        "it"));
  }

  absl::StatusOr<Submitter> submitter = Submitter::Create(ctx, options.author);
  if (!submitter.ok()) return submitter.status();
  if (!options.author.sequence.has_value()) {
    // As with Submitter: with --sequence the caller takes over, no look-ups.
    NodeClient client(ctx.node);
    if (absl::Status s =
            CheckParty(client, "party_a", "--as", options.author.as,
                       *jurisdiction_a, "--jurisdiction-a");
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            CheckParty(client, "party_b", "--party-b", options.party_b,
                       *jurisdiction_b, "--jurisdiction-b");
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<cdl::v1::SignedRecord> signed_record =
      submitter->Prepare(std::move(body));
  if (!signed_record.ok()) return signed_record.status();
  if (absl::Status s = WriteCosignFile(options.output, *signed_record);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      cdl::verify::ParseSignedRecord(signed_record->SerializeAsString());
  if (!record.ok()) return record.status();

  const std::string cosign =
      absl::StrCat("cdl recognise cosign ", options.output, " --as ",
                   options.party_b, " --key KEY");
  const std::string submit =
      absl::StrCat("cdl recognise submit ", options.output);
  if (ctx.json) {
    json out = AgreementJson(*record, options.output);
    out["next"] = json::array({cosign, submit});
    *ctx.out << out.dump(2) << "\n";
    return absl::OkStatus();
  }
  *ctx.out << "wrote " << options.output << ": recognition agreement "
           << Hex(record->id) << ", signed by " << options.author.as
           << " (party_a)\n"
           << AgreementText(*record) << "next: " << options.party_b
           << " (party_b) signs it with\n  " << cosign
           << "\nthen anyone submits it with\n  " << submit << "\n"
           << options.author.as
           << " must not submit other records until then: the agreement "
              "uses its sequence "
           << record->body.sequence() << ".\n";
  return absl::OkStatus();
}

absl::Status RunRecogniseCosign(const Context& ctx,
                                const RecogniseCosignOptions& options) {
  if (options.as.empty()) {
    return UsageError("--as is empty — name party_b, the member that co-signs");
  }
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      ReadCosignFile(options.file);
  if (!record.ok()) return record.status();
  const cdl::v1::RecognitionAgreement& a = record->body.recognition_agreement();
  const std::string id = Hex(record->id);
  const auto& signatures = record->signed_record.signatures();
  if (options.as == a.party_a()) {
    return InputError(absl::StrCat(
        "\"", options.as, "\" is party_a of agreement ", id, " in ",
        options.file, " and signed it when creating it — party_b \"",
        a.party_b(), "\" must co-sign it"));
  }
  if (options.as != a.party_b()) {
    return InputError(absl::StrCat(
        "\"", options.as, "\" is not a party of agreement ", id, " in ",
        options.file, " (party_a \"", a.party_a(), "\", party_b \"",
        a.party_b(), "\") — only party_b \"", a.party_b(), "\" co-signs it"));
  }
  for (const cdl::v1::Signature& s : signatures) {
    if (s.member() == options.as) {
      return InputError(absl::StrCat(
          "agreement ", id, " in ", options.file, " is already signed by \"",
          options.as, "\" — submit it with 'cdl recognise submit ",
          options.file, "'"));
    }
  }
  if (signatures.size() != 1) {
    return CosignFileError(
        options.file, absl::StrCat("carries ", signatures.size(),
                                   " signatures; party_a's alone expected"));
  }
  absl::StatusOr<cdl::crypto::PrivateKey> key =
      cdl::crypto::ReadPrivateKeyFile(options.key_file);
  if (!key.ok()) {
    return InputError(absl::StrCat(
        "cannot use --key ", options.key_file, ": ", key.status().message(),
        absl::IsNotFound(key.status())
            ? " — pass the private key file of party_b " + a.party_b()
            : ""));
  }
  if (absl::Status s =
          cdl::verify::CoSign(record->signed_record, options.as, *key);
      !s.ok()) {
    return Annotate(s, absl::StrCat("co-signing agreement ", id));
  }
  if (absl::Status s = WriteCosignFile(options.file, record->signed_record);
      !s.ok()) {
    return s;
  }
  const std::string submit =
      absl::StrCat("cdl recognise submit ", options.file);
  if (ctx.json) {
    json out = AgreementJson(*record, options.file);
    out["next"] = json::array({submit});
    *ctx.out << out.dump(2) << "\n";
    return absl::OkStatus();
  }
  *ctx.out << "signed recognition agreement " << id << " as " << options.as
           << " (party_b) in " << options.file << "\n"
           << AgreementText(*record) << "next: anyone submits it with\n  "
           << submit << "\n";
  return absl::OkStatus();
}

absl::Status RunRecogniseSubmit(const Context& ctx,
                                const RecogniseSubmitOptions& options) {
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      ReadCosignFile(options.file);
  if (!record.ok()) return record.status();
  const cdl::v1::RecognitionAgreement& a = record->body.recognition_agreement();
  const auto& signatures = record->signed_record.signatures();
  if (signatures.size() < 2) {
    return InputError(absl::StrCat(
        "agreement ", Hex(record->id), " in ", options.file,
        " is signed by party_a \"", a.party_a(), "\" only — party_b \"",
        a.party_b(), "\" must co-sign it first: cdl recognise cosign ",
        options.file, " --as ", a.party_b(), " --key KEY"));
  }
  if (signatures.size() > 2 || signatures[1].member() != a.party_b()) {
    return CosignFileError(
        options.file,
        absl::StrCat("carries signatures other than party_a's and then party_b "
                     "\"",
                     a.party_b(), "\"'s"));
  }
  absl::StatusOr<cdl::v1::Receipt> receipt = Submitter::SubmitSigned(
      ctx, record->signed_record, options.no_wait, options.wait_seconds);
  if (!receipt.ok()) return receipt.status();
  return ReportReceipts(ctx, {*receipt}, options.no_wait, false);
}

}  // namespace cdl::cli
