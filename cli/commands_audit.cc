// `cdl audit ...`: fetching what cli/audit.h needs through the client API,
// printing, and the flags of the audit commands.

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/audit.h"
#include "cli/audit_commands.h"
#include "cli/errors.h"
#include "cli/node_client.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "cli/submitter.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"
#include "node/verify/state_entry.h"

namespace cdl::cli {
namespace {

using audit::LedgerRecord;
using cdl::crypto::HexEncode;
using nlohmann::json;

// Largest checkpoint or consistency proof file verify-log reads.
constexpr size_t kMaxProofFileBytes = 4 * 1024 * 1024;

void Progress(const Context& ctx, absl::string_view line) {
  if (ctx.err != nullptr) *ctx.err << "audit: " << line << "\n";
}

// The node handed back something that does not match what was asked for.
absl::Status Mismatch(absl::string_view what) {
  return NodeError(absl::StatusCode::kDataLoss,
                   absl::StrCat("the node's answer does not match: ", what,
                                " — do not trust this node; check its log"));
}

// Every accepted record matching `request` (all pages), decoded and checked
// against the entry the node listed it under.
absl::StatusOr<std::vector<LedgerRecord>> FetchAll(
    NodeClient& client, cdl::v1::QueryRequest request) {
  request.set_page_size(1000);
  std::vector<LedgerRecord> out;
  for (;;) {
    absl::StatusOr<cdl::v1::QueryResponse> response = client.Query(request);
    if (!response.ok()) return response.status();
    for (const cdl::v1::RecordEntry& entry : response->records()) {
      const std::string hex = HexEncode(entry.record_id());
      absl::StatusOr<cdl::verify::ParsedRecord> parsed =
          cdl::verify::ParseSignedRecord(entry.signed_record());
      if (!parsed.ok()) {
        return Mismatch(absl::StrCat(
            "record ", hex, " from Query: ", parsed.status().message()));
      }
      if (parsed->id != entry.record_id()) {
        return Mismatch(absl::StrCat("Query listed record ", hex,
                                     " with the bytes of record ",
                                     HexEncode(parsed->id)));
      }
      if (!request.record_type().empty() &&
          parsed->type != request.record_type()) {
        return Mismatch(absl::StrCat("record ", hex, " is a ", parsed->type,
                                     ", not a ", request.record_type()));
      }
      out.push_back({parsed->id, entry.height(), std::move(parsed->body),
                     entry.block_time_ms()});
    }
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  return out;
}

cdl::v1::QueryRequest ByPark(const std::string& park, const std::string& type) {
  cdl::v1::QueryRequest request;
  request.set_park(park);
  request.set_record_type(type);
  return request;
}

// The status entry of record `id` (a certificate or accreditation) in the
// state of block `height` (0 = latest checkpoint), with its proof checked
// against that block's state_root.
absl::StatusOr<cdl::v1::StateEntry> FetchRecordEntry(NodeClient& client,
                                                     const std::string& id,
                                                     uint64_t height,
                                                     absl::string_view what) {
  const std::string key = cdl::verify::RecordStateKey(id);
  absl::StatusOr<cdl::v1::GetStateProofResponse> response =
      client.GetStateProof(key, height);
  if (!response.ok()) {
    return Annotate(response.status(),
                    absl::StrCat("status of ", what, " ", HexEncode(id)));
  }
  cdl::v1::BlockHeader header;
  if (!header.ParseFromString(response->checkpoint().header())) {
    return Mismatch(absl::StrCat("the checkpoint with the status of ", what,
                                 " ", HexEncode(id), " does not parse"));
  }
  if (height != 0 && header.height() != height) {
    return Mismatch(absl::StrCat("asked for the status of ", what, " ",
                                 HexEncode(id), " at height ", height,
                                 ", got height ", header.height()));
  }
  if (absl::Status s = cdl::verify::VerifyStateProof(header.state_root(), key,
                                                     response->proof());
      !s.ok()) {
    return Mismatch(absl::StrCat("state proof of ", what, " ", HexEncode(id),
                                 ": ", s.message()));
  }
  if (!response->proof().has_entry()) {
    return Mismatch(absl::StrCat(what, " ", HexEncode(id),
                                 " has no status entry at height ",
                                 header.height()));
  }
  return response->proof().entry();
}

// Checks that `park` is a registered park; exit 1 naming it otherwise.
absl::Status CheckPark(NodeClient& client, const std::string& park) {
  absl::StatusOr<cdl::v1::GetMemberResponse> member = client.GetMember(park);
  if (!member.ok()) {
    if (absl::IsNotFound(member.status())) {
      return InputError(absl::StrCat("--park: \"", park,
                                     "\" is not registered — check the park's "
                                     "member id"));
    }
    return member.status();
  }
  if (member->member().registration().role() != cdl::v1::ROLE_PARK) {
    return InputError(absl::StrCat(
        "--park: \"", park, "\" is a ",
        RoleName(member->member().registration().role()),
        ", not a park — pass the member id of an industrial park"));
  }
  return absl::OkStatus();
}

absl::Status CheckParkFlag(const std::string& park) {
  if (absl::Status s = cdl::verify::ValidateMemberId("--park", park); !s.ok()) {
    return UsageError(absl::StrCat(s.message(),
                                   " — pass the park's member id, e.g. "
                                   "sip-park"));
  }
  return absl::OkStatus();
}

std::string TargetText(bool met) { return met ? "met" : "not met"; }

}  // namespace

// ---- audit report -----------------------------------------------------------

absl::Status RunAuditReport(const Context& ctx,
                            const AuditReportOptions& options) {
  if (absl::Status s = CheckParkFlag(options.park); !s.ok()) return s;
  if (absl::Status s = cdl::verify::ValidatePeriod("--period", options.period);
      !s.ok()) {
    return UsageError(
        absl::StrCat(s.message(), " — write 2026, 2026-Q1 or 2026-03"));
  }
  std::string format = options.format;
  if (format.empty()) {
    format = absl::EndsWith(options.output, ".json") ? "json" : "csv";
  }
  if (format != "csv" && format != "json") {
    return UsageError(absl::StrCat("--format \"", options.format,
                                   "\" is not known — use csv or json"));
  }
  if (options.output.empty()) {
    return UsageError("-o is empty — name the report file, or - for stdout");
  }
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  if (!options.at.empty()) {
    absl::StatusOr<int64_t> at = ParseTimeMs(options.at);
    if (!at.ok())
      return WithExitCode(Annotate(at.status(), "--at"), kExitUsage);
    now_ms = *at;
  }

  if (options.deadline_days < 0 || options.deadline_days > 3660) {
    return UsageError(absl::StrCat("--deadline-days ", options.deadline_days,
                                   " is outside 0..3660"));
  }

  NodeClient client(ctx.node);
  if (absl::Status s = CheckPark(client, options.park); !s.ok()) return s;

  audit::ReportInput input;
  input.park = options.park;
  input.period = options.period;
  input.now_ms = now_ms;
  input.deadline_days = options.deadline_days;
  Progress(ctx,
           absl::StrCat("fetching the enterprises of park ", options.park));
  absl::StatusOr<std::vector<LedgerRecord>> registrations =
      FetchAll(client, ByPark(options.park, "member_registration"));
  if (!registrations.ok()) return registrations.status();
  input.registrations = *std::move(registrations);
  for (const LedgerRecord& r : input.registrations) {
    const cdl::v1::MemberRegistration& reg = r.body.member_registration();
    if (reg.role() != cdl::v1::ROLE_ENTERPRISE || reg.park() != options.park) {
      continue;
    }
    absl::StatusOr<cdl::v1::GetMemberResponse> member =
        client.GetMember(reg.member_id());
    if (!member.ok()) {
      return Annotate(member.status(),
                      absl::StrCat("member ", reg.member_id()));
    }
    input.member_status[reg.member_id()] = member->member().status();
  }

  Progress(ctx, absl::StrCat("fetching the disclosures of ",
                             input.member_status.size(), " enterprise(s)"));
  absl::StatusOr<std::vector<LedgerRecord>> disclosures =
      FetchAll(client, ByPark(options.park, "disclosure"));
  if (!disclosures.ok()) return disclosures.status();
  input.disclosures = *std::move(disclosures);

  // Only certificates of disclosures in the period matter.
  absl::StatusOr<std::vector<std::vector<std::string>>> levels =
      audit::PeriodBreakdown(options.period);
  if (!levels.ok()) return WithExitCode(levels.status(), kExitUsage);
  std::set<std::string> periods;
  for (const auto& level : *levels) periods.insert(level.begin(), level.end());
  std::set<std::string> subjects;
  for (const LedgerRecord& r : input.disclosures) {
    if (periods.contains(r.body.disclosure().period())) subjects.insert(r.id);
  }
  absl::StatusOr<std::vector<LedgerRecord>> certificates =
      FetchAll(client, ByPark(options.park, "certificate"));
  if (!certificates.ok()) return certificates.status();
  std::vector<LedgerRecord> relevant;
  for (LedgerRecord& c : *certificates) {
    if (subjects.contains(c.body.certificate().subject())) {
      relevant.push_back(std::move(c));
    }
  }
  Progress(ctx, absl::StrCat("checking the status of ", relevant.size(),
                             " certificate(s)"));
  for (LedgerRecord& c : relevant) {
    absl::StatusOr<cdl::v1::StateEntry> entry =
        FetchRecordEntry(client, c.id, 0, "certificate");
    if (!entry.ok()) return entry.status();
    input.certificates.push_back({std::move(c), *std::move(entry)});
  }

  absl::StatusOr<audit::Report> report = audit::BuildReport(input);
  if (!report.ok()) return InputError(report.status().message());
  const json document = audit::ReportJson(*report);
  const std::string text =
      format == "csv" ? audit::ReportCsv(*report) : document.dump(2) + "\n";
  if (options.output == "-") {
    *ctx.out << text;
    return absl::OkStatus();
  }
  if (absl::Status s = WriteFile(options.output, text, "report file");
      !s.ok()) {
    return s;
  }

  const audit::ParkSummary& p = report->park;
  if (ctx.json) {
    *ctx.out << json{{"file", options.output},
                     {"format", format},
                     {"park", document["park"]}}
                    .dump(2)
             << "\n";
    return absl::OkStatus();
  }
  *ctx.out << "wrote " << options.output << " (" << format << "): park "
           << p.park << ", period " << p.period << "\n"
           << "  enterprises         " << p.enterprises << " (" << p.disclosed
           << " disclosed, " << p.partial << " partial, " << p.missing
           << " missing)\n"
           << "  coverage            " << audit::FormatPercent(p.coverage_pct)
           << " % (target " << audit::kCoverageTargetPct
           << " %: " << TargetText(p.coverage_target_met) << ")\n"
           << "  active certificate  " << audit::FormatPercent(p.certified_pct)
           << " %\n"
           << "  renewable share     "
           << (p.renewable_share_pct.has_value()
                   ? audit::FormatPercent(*p.renewable_share_pct) + " %"
                   : std::string("not disclosed"))
           << " (target " << audit::kRenewableTargetPct
           << " %: " << TargetText(p.renewable_target_met) << ")\n"
           << "  late disclosures    " << p.late << " enterprise(s) (due "
           << p.deadline_days << " days after the period ends)\n"
           << "  scope 1 total       " << p.scope1_tco2e << " tCO2e\n";
  return absl::OkStatus();
}

// ---- audit anomalies --------------------------------------------------------

namespace {

// Looks up what (b) needs, caching per certifier, record and height.
class AccreditationHistory {
 public:
  explicit AccreditationHistory(NodeClient& client) : client_(client) {}

  absl::StatusOr<audit::IssuedCertificate> Issued(const LedgerRecord& cert) {
    audit::IssuedCertificate issued;
    issued.certificate = cert;
    const uint64_t height = cert.height;
    absl::StatusOr<int64_t> time = BlockTime(height);
    if (!time.ok()) return time.status();
    issued.block_time_ms = *time;
    absl::StatusOr<const std::vector<LedgerRecord>*> accreditations =
        Accreditations(cert.body.author());
    if (!accreditations.ok()) return accreditations.status();
    std::optional<uint32_t> cert_index;
    for (const LedgerRecord& a : **accreditations) {
      if (a.height > height) continue;
      if (a.height == height) {
        // Same block: it counts only if it came before the certificate.
        if (!cert_index.has_value()) {
          absl::StatusOr<uint32_t> index = IndexInBlock(cert.id);
          if (!index.ok()) return index.status();
          cert_index = *index;
        }
        absl::StatusOr<uint32_t> index = IndexInBlock(a.id);
        if (!index.ok()) return index.status();
        if (*index > *cert_index) continue;
      }
      if (a.height < height) {
        absl::StatusOr<cdl::v1::StateEntry> before = Entry(a.id, height - 1);
        if (!before.ok()) return before.status();
        issued.before_block.push_back({a, *before});
      }
      absl::StatusOr<cdl::v1::StateEntry> after = Entry(a.id, height);
      if (!after.ok()) return after.status();
      issued.after_block.push_back({a, *after});
    }
    return issued;
  }

  // Every accreditation record seen, for naming related records.
  const std::map<std::string, std::vector<LedgerRecord>>& all() const {
    return by_certifier_;
  }

 private:
  absl::StatusOr<int64_t> BlockTime(uint64_t height) {
    if (auto it = times_.find(height); it != times_.end()) return it->second;
    absl::StatusOr<cdl::v1::GetCheckpointResponse> response =
        client_.GetCheckpoint(height);
    if (!response.ok()) {
      return Annotate(response.status(),
                      absl::StrCat("checkpoint of block ", height));
    }
    cdl::v1::BlockHeader header;
    if (!header.ParseFromString(response->checkpoint().header()) ||
        header.height() != height) {
      return Mismatch(absl::StrCat("asked for the checkpoint of block ", height,
                                   ", got another or a malformed one"));
    }
    times_[height] = header.time_ms();
    return header.time_ms();
  }

  absl::StatusOr<const std::vector<LedgerRecord>*> Accreditations(
      const std::string& certifier) {
    auto it = by_certifier_.find(certifier);
    if (it != by_certifier_.end()) return &it->second;
    cdl::v1::QueryRequest request;
    request.set_member(certifier);
    request.set_record_type("accreditation");
    absl::StatusOr<std::vector<LedgerRecord>> records =
        FetchAll(client_, request);
    if (!records.ok()) return records.status();
    std::vector<LedgerRecord> own;
    for (LedgerRecord& r : *records) {
      if (r.body.accreditation().certifier() == certifier) {
        own.push_back(std::move(r));
      }
    }
    return &(by_certifier_[certifier] = std::move(own));
  }

  absl::StatusOr<uint32_t> IndexInBlock(const std::string& id) {
    absl::StatusOr<cdl::v1::GetReceiptResponse> receipt =
        client_.GetReceipt(id);
    if (!receipt.ok()) {
      return Annotate(receipt.status(),
                      absl::StrCat("receipt of ", HexEncode(id)));
    }
    return receipt->receipt().index();
  }

  absl::StatusOr<cdl::v1::StateEntry> Entry(const std::string& id,
                                            uint64_t height) {
    const auto key = std::make_pair(id, height);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    absl::StatusOr<cdl::v1::StateEntry> entry =
        FetchRecordEntry(client_, id, height, "accreditation");
    if (!entry.ok()) return entry.status();
    entries_[key] = *entry;
    return entry;
  }

  NodeClient& client_;
  std::map<uint64_t, int64_t> times_;
  std::map<std::string, std::vector<LedgerRecord>> by_certifier_;
  std::map<std::pair<std::string, uint64_t>, cdl::v1::StateEntry> entries_;
};

// "disclosure by acme-steel for 2026", "certificate by cn-verify", ...
std::string Describe(const LedgerRecord& r) {
  std::string type = cdl::verify::PayloadName(r.body);
  std::string out = absl::StrCat(type, " by ", r.body.author());
  if (r.body.has_disclosure()) {
    absl::StrAppend(&out, " for ", r.body.disclosure().period(), ", scope 1 ",
                    r.body.disclosure().scope1_tco2e());
  }
  if (r.body.has_evidence()) {
    absl::StrAppend(&out, " against validator ", r.body.evidence().validator());
  }
  absl::StrAppend(&out, ", height ", r.height);
  return out;
}

}  // namespace

absl::Status RunAuditAnomalies(const Context& ctx,
                               const AuditAnomaliesOptions& options) {
  if (absl::Status s = CheckParkFlag(options.park); !s.ok()) return s;
  if (!(options.threshold_pct > 0)) {
    return UsageError("--threshold-pct must be above 0, e.g. 20");
  }
  const bool signer_given =
      !options.author.as.empty() || !options.author.key_file.empty();
  if (options.submit &&
      (options.author.as.empty() || options.author.key_file.empty())) {
    return UsageError(
        "--submit needs --as REGULATOR and --key KEY — the findings are "
        "signed by a regulator");
  }
  if (!options.submit && signer_given) {
    return UsageError(
        "--as and --key sign findings — add --submit to submit them");
  }
  std::optional<Submitter> submitter;
  if (options.submit) {
    // Before the long work: a wrong key or member fails now.
    absl::StatusOr<Submitter> created = Submitter::Create(ctx, options.author);
    if (!created.ok()) return created.status();
    submitter.emplace(*std::move(created));
  }

  NodeClient client(ctx.node);
  if (absl::Status s = CheckPark(client, options.park); !s.ok()) return s;
  std::map<std::string, const LedgerRecord*> known;
  Progress(ctx, absl::StrCat("fetching the records of park ", options.park));
  absl::StatusOr<std::vector<LedgerRecord>> disclosures =
      FetchAll(client, ByPark(options.park, "disclosure"));
  if (!disclosures.ok()) return disclosures.status();
  absl::StatusOr<std::vector<LedgerRecord>> footprints =
      FetchAll(client, ByPark(options.park, "product_footprint"));
  if (!footprints.ok()) return footprints.status();
  absl::StatusOr<std::vector<LedgerRecord>> certificates =
      FetchAll(client, ByPark(options.park, "certificate"));
  if (!certificates.ok()) return certificates.status();
  for (const auto* list : {&*disclosures, &*footprints, &*certificates}) {
    for (const LedgerRecord& r : *list) known[r.id] = &r;
  }

  std::vector<audit::Finding> findings;
  absl::StatusOr<std::vector<audit::Finding>> jumps =
      audit::FindDisclosureJumps(*disclosures, options.threshold_pct);
  if (!jumps.ok()) return InputError(jumps.status().message());
  findings.insert(findings.end(), jumps->begin(), jumps->end());
  jumps = audit::FindFootprintJumps(*footprints, options.threshold_pct);
  if (!jumps.ok()) return InputError(jumps.status().message());
  findings.insert(findings.end(), jumps->begin(), jumps->end());

  AccreditationHistory history(client);
  for (size_t i = 0; i < certificates->size(); ++i) {
    if (i % 20 == 0) {
      Progress(ctx, absl::StrCat("checking the accreditation behind "
                                 "certificate ",
                                 i + 1, " of ", certificates->size()));
    }
    absl::StatusOr<audit::IssuedCertificate> issued =
        history.Issued((*certificates)[i]);
    if (!issued.ok()) return issued.status();
    std::optional<audit::Finding> finding =
        audit::CheckIssuedWhileAccredited(*issued);
    if (finding.has_value()) findings.push_back(*std::move(finding));
  }
  for (const auto& [certifier, list] : history.all()) {
    for (const LedgerRecord& r : list) known[r.id] = &r;
  }
  std::vector<audit::Finding> duplicates =
      audit::FindDuplicateDisclosures(*disclosures);
  findings.insert(findings.end(), duplicates.begin(), duplicates.end());

  // Equivocation evidence concerns the whole chain, not one park.
  cdl::v1::QueryRequest evidence_query;
  evidence_query.set_record_type("evidence");
  absl::StatusOr<std::vector<LedgerRecord>> evidence =
      FetchAll(client, evidence_query);
  if (!evidence.ok()) return evidence.status();
  for (const LedgerRecord& r : *evidence) known[r.id] = &r;
  std::vector<audit::Finding> equivocations =
      audit::FindEquivocations(*evidence);
  findings.insert(findings.end(), equivocations.begin(), equivocations.end());

  // Which findings this regulator has recorded already.
  std::vector<std::string> recorded(findings.size());
  std::vector<cdl::v1::RecordBody> bodies;
  std::vector<size_t> submitted;  // finding index of each body
  if (submitter.has_value()) {
    cdl::v1::QueryRequest request;
    request.set_member(options.author.as);
    request.set_record_type("audit_finding");
    absl::StatusOr<std::vector<LedgerRecord>> existing =
        FetchAll(client, request);
    if (!existing.ok()) return existing.status();
    std::vector<LedgerRecord> own;
    for (LedgerRecord& r : *existing) {
      if (r.body.author() == options.author.as) own.push_back(std::move(r));
    }
    for (size_t i = 0; i < findings.size(); ++i) {
      recorded[i] = audit::AlreadyRecorded(own, findings[i]);
      if (!recorded[i].empty()) continue;
      cdl::v1::RecordBody body;
      *body.mutable_audit_finding() = findings[i].ToProto();
      bodies.push_back(std::move(body));
      submitted.push_back(i);
    }
  }
  Submitter::Batch batch;
  if (!bodies.empty()) {
    Progress(ctx, absl::StrCat("submitting ", bodies.size(), " finding(s) as ",
                               options.author.as));
    batch = submitter->SubmitAll(std::move(bodies));
  }

  if (ctx.json) {
    json list = json::array();
    for (size_t i = 0; i < findings.size(); ++i) {
      json f = audit::FindingJson(findings[i]);
      if (!recorded[i].empty()) f["recorded_as"] = HexEncode(recorded[i]);
      list.push_back(std::move(f));
    }
    for (size_t k = 0; k < batch.receipts.size(); ++k) {
      list[submitted[k]]["receipt"] = ReceiptJson(batch.receipts[k]);
    }
    *ctx.out << json{{"park", options.park},
                     {"threshold_pct", options.threshold_pct},
                     {"findings", list}}
                    .dump(2)
             << "\n";
  } else {
    if (findings.empty()) {
      *ctx.out << "no anomalies in the records of park " << options.park
               << " (threshold " << options.threshold_pct << " %)\n";
    }
    for (size_t i = 0; i < findings.size(); ++i) {
      const audit::Finding& f = findings[i];
      *ctx.out << "[" << i + 1 << "] " << audit::FindingKindName(f.kind) << " ("
               << f.severity << "): " << f.description << "\n";
      std::vector<std::pair<std::string, std::string>> lines = {
          {"subject", f.subject}};
      for (const std::string& id : f.related) lines.push_back({"related", id});
      for (const auto& [label, id] : lines) {
        auto it = known.find(id);
        *ctx.out << "    " << label << "  " << HexEncode(id);
        if (it != known.end()) *ctx.out << " (" << Describe(*it->second) << ")";
        *ctx.out << "\n";
      }
      if (!recorded[i].empty()) {
        *ctx.out << "    already recorded as " << HexEncode(recorded[i])
                 << "\n";
      }
    }
    if (!findings.empty()) *ctx.out << findings.size() << " finding(s)\n";
  }

  if (!batch.receipts.empty()) {
    std::vector<ReceiptLabel> labels;
    for (size_t i : submitted) {
      labels.push_back({"finding", absl::StrCat("[", i + 1, "]")});
    }
    labels.resize(batch.receipts.size());
    // In JSON mode the receipts are inside the document printed above; only
    // the exit status is wanted here.
    std::ostringstream sink;
    Context quiet = ctx;
    if (ctx.json) {
      quiet.json = false;
      quiet.out = &sink;
    }
    if (absl::Status s =
            ReportReceipts(quiet, batch.receipts, options.author.no_wait,
                           /*as_array=*/true, labels);
        !s.ok()) {
      return s;
    }
  }
  return batch.error;
}

// ---- audit verify-log / consistency-proof -----------------------------------

namespace {

// The checkpoint in `path`, or why it cannot be read (exit 1) — parse
// problems become reasons of an INVALID verdict instead.
absl::StatusOr<std::string> ReadCheckpointText(const std::string& path) {
  return ReadFileLimited(path, kMaxProofFileBytes, "checkpoint file");
}

json HeadJson(const cdl::v1::BlockHeader& header) {
  return json{{"height", header.height()},
              {"ledger_size", header.ledger_size()},
              {"ledger_root", HexEncode(header.ledger_root())},
              {"time_ms", header.time_ms()}};
}

}  // namespace

absl::Status RunAuditVerifyLog(const Context& ctx,
                               const AuditVerifyLogOptions& options) {
  absl::StatusOr<cdl::verify::TrustedGenesis> genesis =
      LoadGenesis(options.genesis);
  if (!genesis.ok()) return genesis.status();
  std::vector<std::string> reasons;
  struct Side {
    const char* flag;
    const std::string* path;
    std::optional<cdl::v1::BlockHeader> header;
    std::string block_hash;
  };
  Side sides[2] = {{"--from", &options.from, {}, ""},
                   {"--to", &options.to, {}, ""}};
  for (Side& side : sides) {
    absl::StatusOr<std::string> text = ReadCheckpointText(*side.path);
    if (!text.ok()) return text.status();
    cdl::v1::Checkpoint checkpoint;
    if (absl::Status s = ProtoFromJsonFile(*text, &checkpoint); !s.ok()) {
      reasons.push_back(
          absl::StrCat(side.flag, " ", *side.path, ": ", s.message()));
      continue;
    }
    absl::StatusOr<cdl::v1::BlockHeader> header =
        cdl::verify::VerifyCheckpoint(*genesis, checkpoint);
    if (!header.ok()) {
      reasons.push_back(
          absl::StrCat(side.flag, " ", *side.path,
                       ": checkpoint: ", header.status().message()));
      continue;
    }
    side.header = *std::move(header);
    side.block_hash = cdl::verify::BlockHash(checkpoint.header());
  }

  std::optional<cdl::v1::ConsistencyProof> proof;
  std::string source = options.proof_file.empty() ? "node" : "file";
  if (sides[0].header.has_value() && sides[1].header.has_value()) {
    const cdl::v1::BlockHeader& a = *sides[0].header;
    const cdl::v1::BlockHeader& b = *sides[1].header;
    if (a.height() == b.height() &&
        sides[0].block_hash != sides[1].block_hash) {
      reasons.push_back(absl::StrCat(
          "two different blocks are cosigned at height ", a.height(),
          " (block hashes ", HexEncode(sides[0].block_hash), " and ",
          HexEncode(sides[1].block_hash), "): the history was rewritten"));
    } else if (a.height() > b.height() || a.ledger_size() > b.ledger_size()) {
      reasons.push_back(absl::StrCat(
          "--from is the later checkpoint (height ", a.height(),
          ", ledger size ", a.ledger_size(), ") and --to the earlier (height ",
          b.height(), ", ledger size ", b.ledger_size(),
          "): a ledger only grows, so --from must be the older one"));
    } else if (!options.proof_file.empty()) {
      absl::StatusOr<std::string> text = ReadFileLimited(
          options.proof_file, kMaxProofFileBytes, "consistency proof file");
      if (!text.ok()) return text.status();
      cdl::v1::GetConsistencyProofResponse file;
      if (absl::Status s = ProtoFromJsonFile(*text, &file); !s.ok()) {
        reasons.push_back(
            absl::StrCat("--proof ", options.proof_file, ": ", s.message()));
      } else {
        proof = file.proof();
      }
    } else {
      NodeClient client(ctx.node);
      absl::StatusOr<cdl::v1::GetConsistencyProofResponse> response =
          client.GetConsistencyProof(a.ledger_size(), b.ledger_size());
      if (!response.ok()) return response.status();
      proof = response->proof();
    }
    if (proof.has_value()) {
      if (proof->old_size() != a.ledger_size() ||
          proof->new_size() != b.ledger_size()) {
        reasons.push_back(absl::StrCat(
            "the consistency proof is from ledger size ", proof->old_size(),
            " to ", proof->new_size(), ", not from ", a.ledger_size(), " to ",
            b.ledger_size()));
      } else {
        std::vector<std::string> hashes(proof->hashes().begin(),
                                        proof->hashes().end());
        if (absl::Status s = cdl::crypto::VerifyConsistency(
                a.ledger_size(), b.ledger_size(), a.ledger_root(),
                b.ledger_root(), hashes);
            !s.ok()) {
          reasons.push_back(absl::StrCat("consistency: ", s.message()));
        }
      }
    }
  }

  if (!reasons.empty()) {
    if (ctx.json) {
      *ctx.out << json{{"valid", false}, {"reasons", reasons}}.dump(2) << "\n";
    } else {
      *ctx.out << "INVALID: " << absl::StrJoin(reasons, "; ") << "\n";
    }
    return InputError(absl::StrCat(
        "verification failed: ", options.from, " -> ", options.to,
        " does not prove that the ledger only grew — do not rely on it "
        "(reasons above)"));
  }
  const cdl::v1::BlockHeader& a = *sides[0].header;
  const cdl::v1::BlockHeader& b = *sides[1].header;
  if (ctx.json) {
    *ctx.out << json{{"valid", true},
                     {"chain_id", genesis->chain_id()},
                     {"from", HeadJson(a)},
                     {"to", HeadJson(b)},
                     {"proof_hashes", proof->hashes_size()},
                     {"proof_source", source}}
                    .dump(2)
             << "\n";
  } else {
    *ctx.out << "VALID: the ledger at height " << b.height() << " (size "
             << b.ledger_size() << ", root " << HexEncode(b.ledger_root())
             << ") extends the one at height " << a.height() << " (size "
             << a.ledger_size() << ", root " << HexEncode(a.ledger_root())
             << "); both checkpoints cosigned by a quorum of the "
             << genesis->validator_count()
             << " genesis validator(s), consistency proof of "
             << proof->hashes_size() << " hash(es) from the " << source << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunAuditConsistencyProof(
    const Context& ctx, const AuditConsistencyProofOptions& options) {
  if (options.to_size != 0 && options.from_size > options.to_size) {
    return UsageError(absl::StrCat(
        "--from-size ", options.from_size, " is larger than --to-size ",
        options.to_size, " — a ledger only grows; swap them"));
  }
  if (options.output.empty()) {
    return UsageError("-o is empty — name the file to write");
  }
  NodeClient client(ctx.node);
  absl::StatusOr<cdl::v1::GetConsistencyProofResponse> response =
      client.GetConsistencyProof(options.from_size, options.to_size);
  if (!response.ok()) return response.status();
  const cdl::v1::ConsistencyProof& proof = response->proof();
  cdl::v1::BlockHeader header;
  if (!header.ParseFromString(response->new_checkpoint().header())) {
    return Mismatch("the checkpoint with the consistency proof does not parse");
  }
  if (proof.old_size() != options.from_size ||
      (options.to_size != 0 && proof.new_size() != options.to_size) ||
      header.ledger_size() != proof.new_size()) {
    return Mismatch(absl::StrCat(
        "asked for a proof from ledger size ", options.from_size, " to ",
        options.to_size == 0 ? std::string("the latest")
                             : absl::StrCat(options.to_size),
        ", got one from ", proof.old_size(), " to ", proof.new_size(),
        " with a checkpoint of size ", header.ledger_size()));
  }
  if (absl::Status s = WriteFile(options.output, ProtoToJsonFile(*response),
                                 "consistency proof file");
      !s.ok()) {
    return s;
  }
  if (ctx.json) {
    *ctx.out << json{{"file", options.output},
                     {"old_size", proof.old_size()},
                     {"new_size", proof.new_size()},
                     {"hashes", proof.hashes_size()},
                     {"height", header.height()}}
                    .dump(2)
             << "\n";
    return absl::OkStatus();
  }
  *ctx.out << "wrote " << options.output
           << ": consistency proof from ledger size " << proof.old_size()
           << " to " << proof.new_size() << " (" << proof.hashes_size()
           << " hash(es)), with the checkpoint at height " << header.height()
           << "\n(check it offline with 'cdl audit verify-log --from OLD.json "
              "--to NEW.json --genesis GENESIS.json --proof "
           << options.output << "')\n";
  return absl::OkStatus();
}

// ---- Flags ------------------------------------------------------------------

void AddAuditCommands(CLI::App& app, AuditFlags& flags, std::string& node,
                      bool& json,
                      std::function<absl::Status(const Context&)>& action) {
  AuditFlags* f = &flags;
  auto* act = &action;
  auto add_node = [&node](CLI::App* command) {
    command->add_option("--node", node,
                        "Node to talk to, HOST:PORT (default $CDL_NODE or "
                        "127.0.0.1:7400)");
  };
  auto add_json = [&json](CLI::App* command) {
    command->add_flag("--json", json,
                      "Print one machine-readable JSON document on "
                      "stdout");
  };

  CLI::App* audit = app.add_subcommand(
      "audit",
      "Regulator audits: park reports, anomaly checks and proofs that the "
      "ledger only grew");
  audit->require_subcommand(1);

  // ---- audit report
  CLI::App* report = audit->add_subcommand(
      "report",
      "Write a park's disclosure report for a period (per enterprise: scopes, "
      "energy, certificates, amendments; park totals and targets)");
  AuditReportOptions& r = flags.report;
  report->add_option("--park", r.park, "Member id of the park")->required();
  report
      ->add_option("--period", r.period,
                   "Reporting period: a year such as 2026 (its quarters and "
                   "months count), 2026-Q1 or 2026-03")
      ->required();
  report->add_option("--format", r.format,
                     "csv or json (default: json for a .json file, else csv)");
  report
      ->add_option("-o,--output", r.output,
                   "Report file to write (replaced), or - for stdout")
      ->required();
  report->add_option("--at", r.at,
                     "Judge certificate validity at this time (RFC 3339 or "
                     "YYYY-MM-DD; default now)");
  report->add_option("--deadline-days", r.deadline_days,
                     "A period's first disclosure is late when its block "
                     "committed more than this many days after the period "
                     "ended (default 120)");
  add_node(report);
  add_json(report);
  report->callback([f, act] {
    *act = [f](const Context& ctx) { return RunAuditReport(ctx, f->report); };
  });

  // ---- audit anomalies
  CLI::App* anomalies = audit->add_subcommand(
      "anomalies",
      "Check a park's records: value jumps between periods or versions, "
      "certificates outside accreditation, duplicate disclosures; optionally "
      "submit each as an AuditFinding");
  AuditAnomaliesOptions& a = flags.anomalies;
  anomalies->add_option("--park", a.park, "Member id of the park")->required();
  anomalies
      ->add_option("--threshold-pct", a.threshold_pct,
                   "Report changes larger than this percentage")
      ->capture_default_str();
  anomalies->add_flag("--submit", a.submit,
                      "Sign and submit each finding not yet recorded as an "
                      "AuditFinding (needs --as and --key)");
  anomalies->add_option("--as", a.author.as,
                        "Member id of the regulator who signs the findings");
  anomalies->add_option("--key", a.author.key_file,
                        "The regulator's private key file (PKCS#8 PEM)");
  anomalies->add_flag("--no-wait", a.author.no_wait,
                      "Return once the findings are admitted, without "
                      "waiting for their block to commit");
  anomalies
      ->add_option("--wait-seconds", a.author.wait_seconds,
                   "How long to wait for the final receipts")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  add_node(anomalies);
  add_json(anomalies);
  anomalies->callback([f, act] {
    *act = [f](const Context& ctx) {
      return RunAuditAnomalies(ctx, f->anomalies);
    };
  });

  // ---- audit verify-log
  CLI::App* verify_log = audit->add_subcommand(
      "verify-log",
      "Prove offline that the ledger only grew between two checkpoints: "
      "prints VALID, or INVALID with the reasons");
  AuditVerifyLogOptions& v = flags.verify_log;
  verify_log
      ->add_option("--from", v.from,
                   "The older checkpoint file (from 'cdl checkpoint -o')")
      ->required();
  verify_log->add_option("--to", v.to, "The newer checkpoint file")->required();
  verify_log
      ->add_option("--genesis", v.genesis,
                   "genesis.json of the ledger you trust")
      ->required();
  verify_log->add_option(
      "--proof", v.proof_file,
      "Consistency proof file from 'cdl audit consistency-proof' (default: "
      "ask the node)");
  add_node(verify_log);
  add_json(verify_log);
  verify_log->callback([f, act] {
    *act = [f](const Context& ctx) {
      return RunAuditVerifyLog(ctx, f->verify_log);
    };
  });

  // ---- audit consistency-proof
  CLI::App* consistency = audit->add_subcommand(
      "consistency-proof",
      "Fetch a consistency proof between two ledger sizes and write it for "
      "'cdl audit verify-log --proof'");
  AuditConsistencyProofOptions& c = flags.consistency_proof;
  consistency
      ->add_option("--from-size", c.from_size,
                   "Ledger size of the older checkpoint")
      ->required();
  consistency->add_option(
      "--to-size", c.to_size,
      "Ledger size of the newer checkpoint (default: the latest)");
  consistency
      ->add_option("-o,--output", c.output, "Proof file to write (replaced)")
      ->required();
  add_node(consistency);
  add_json(consistency);
  consistency->callback([f, act] {
    *act = [f](const Context& ctx) {
      return RunAuditConsistencyProof(ctx, f->consistency_proof);
    };
  });
}

}  // namespace cdl::cli
