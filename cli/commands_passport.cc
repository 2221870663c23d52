// `cdl passport export|verify|qr`.

#include <chrono>
#include <fstream>
#include <limits>
#include <thread>

#include "absl/strings/numbers.h"
#include "crypto/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/errors.h"
#include "cli/node_client.h"
#include "cli/parse.h"
#include "cli/passport_commands.h"
#include "cli/passport_export.h"
#include "cli/qr.h"
#include "cli/render.h"
#include "crypto/hash.h"
#include "node/verify/authority.h"
#include "node/verify/json_view.h"
#include "node/verify/passport.h"

namespace cdl::cli {
namespace {

using cdl::crypto::HexEncode;
using json = nlohmann::json;

// PassportSource over one node's gRPC service.
class NodeSource : public PassportSource {
 public:
  NodeSource(NodeClient& client, int wait_seconds) : client_(client), wait_seconds_(wait_seconds) {}

  absl::StatusOr<cdl::v1::Checkpoint> Checkpoint(uint64_t min_height) override {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds_);
    while (true) {
      auto response = client_.GetCheckpoint(0);
      if (!response.ok()) return response.status();
      cdl::v1::BlockHeader header;
      header.ParseFromString(response->checkpoint().header());
      if (header.height() >= min_height || std::chrono::steady_clock::now() >= deadline) {
        return response->checkpoint();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  absl::StatusOr<uint64_t> CommittedHeight() override {
    auto status = client_.Status();
    if (!status.ok()) return status.status();
    return status->height();
  }
  absl::StatusOr<std::string> Record(std::string_view record_id) override {
    auto response = client_.GetRecord(std::string(record_id));
    if (!response.ok()) return response.status();
    return response->signed_record();
  }
  absl::StatusOr<cdl::v1::InclusionProof> Inclusion(std::string_view record_id, uint64_t tree_size) override {
    auto response = client_.GetInclusionProof(std::string(record_id), tree_size);
    if (!response.ok()) return response.status();
    return response->proof();
  }
  absl::StatusOr<cdl::v1::StateProof> State(std::string_view key, uint64_t height) override {
    auto response = client_.GetStateProof(std::string(key), height);
    if (!response.ok()) return response.status();
    return response->proof();
  }
  absl::StatusOr<cdl::v1::MemberState> Member(std::string_view member_id) override {
    auto response = client_.GetMember(std::string(member_id));
    if (!response.ok()) return response.status();
    return response->member();
  }
  absl::StatusOr<std::vector<std::string>> Records(std::string_view member, std::string_view type) override {
    std::vector<std::string> out;
    cdl::v1::QueryRequest request;
    request.set_member(std::string(member));
    request.set_record_type(std::string(type));
    request.set_page_size(1000);
    do {
      auto page = client_.Query(request);
      if (!page.ok()) return page.status();
      for (const auto& r : page->records()) out.push_back(r.signed_record());
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return out;
  }

 private:
  NodeClient& client_;
  int wait_seconds_;
};

// "2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z"; a window open at the start
// (0: from its acceptance) reads "until ...".
std::string Window(int64_t from, int64_t until) {
  std::string end = until == 0 ? "without end" : cdl::verify::FormatUtc(until);
  if (from == 0) return until == 0 ? end : cdl::StrCat("until ", end);
  return cdl::StrCat(cdl::verify::FormatUtc(from), " to ", end);
}

void PrintSummary(std::ostream& out, const cdl::verify::PassportVerdict& v) {
  const auto& s = v.subject;
  if (s.type == "product_footprint") {
    out << "  product      " << s.product;
    if (!s.product_ids.empty()) out << " (" << s.product_ids.front() << ")";
    out << ", " << s.organisation << " [" << s.author << "]\n";
    out << "  footprint    " << s.pcf_value << " " << s.pcf_unit << " (PACT " << s.pact_id << ")\n";
  } else {
    out << "  disclosure   " << s.organisation << ", period " << s.period << ": scope 1 " << s.scope1_tco2e
        << " tCO2e, scope 2 (location) " << s.scope2_location_tco2e << " tCO2e\n";
  }
  for (const auto& c : v.certificates) {
    if (!c.counts) continue;
    out << "  certified    " << c.standard << ", " << c.assurance << " assurance, by "
        << (c.certifier_name.empty() ? c.certifier : c.certifier_name) << " (" << c.certifier << ", "
        << c.certifier_jurisdiction << "), valid " << Window(c.valid_from_ms, c.valid_until_ms) << "\n";
    if (c.issued_under == v.jurisdiction) {
      out << "  accredited   in " << c.issued_under << "\n";
    } else {
      out << "  recognised   issued under " << c.issued_under << " accreditation, recognised in " << v.jurisdiction
          << " by agreement of " << c.recognised_by << "\n";
    }
  }
  for (const auto& c : v.certificates) {
    if (c.counts) continue;
    out << "  also holds   certificate " << HexEncode(c.record_id).substr(0, 16) << " (" << c.standard
        << "), which does not count: " << absl::StrJoin(c.problems, "; ") << "\n";
  }
  out << "  status as of checkpoint " << v.checkpoint_height << " (" << cdl::verify::FormatUtc(v.checkpoint_time_ms)
      << "), checked for " << v.jurisdiction << " at " << cdl::verify::FormatUtc(v.at_ms) << "\n";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<int64_t> ParseDurationMs(std::string_view text) {
  if (text.size() < 2) {
    return absl::InvalidArgumentError(cdl::StrCat("\"", text, "\" is not a duration — use e.g. 90s, 15m, 12h, 30d"));
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 86400 * 1000; break;
    default: break;
  }
  int64_t n = 0;
  if (unit == 0 || !absl::SimpleAtoi(std::string(text.substr(0, text.size() - 1)), &n) || n <= 0 ||
      n > std::numeric_limits<int64_t>::max() / unit) {
    return absl::InvalidArgumentError(cdl::StrCat("\"", text, "\" is not a duration — use e.g. 90s, 15m, 12h, 30d"));
  }
  return n * unit;
}

absl::Status RunPassportExport(const Context& ctx, const PassportExportOptions& options) {
  absl::StatusOr<std::string> subject = ParseRecordId(options.subject);
  if (!subject.ok()) return WithExitCode(Annotate(subject.status(), "--footprint"), kExitUsage);
  absl::StatusOr<std::string> jurisdiction = ParseJurisdiction(options.jurisdiction);
  if (!jurisdiction.ok()) return WithExitCode(Annotate(jurisdiction.status(), "--for-jurisdiction"), kExitUsage);
  if (options.output.empty()) return UsageError("no -o FILE given — name the passport file to write");
  if (!options.force && std::ifstream(options.output).good()) {
    return InputError(cdl::StrCat(options.output, " exists — pass --force to replace it"));
  }
  NodeClient client(ctx.node);
  NodeSource source(client, options.wait_seconds);
  absl::StatusOr<ExportedPassport> exported = BuildPassport(source, *subject, *jurisdiction);
  if (!exported.ok()) {
    if (ExitCodeOf(exported.status()) == kExitNode) return exported.status();
    return InputError(cdl::StrCat("cannot export a passport of ", options.subject, ": ", exported.status().message()));
  }
  std::string bytes = cdl::verify::EncodePassport(exported->passport);
  if (absl::Status s = WriteFile(options.output, bytes, "passport"); !s.ok()) return s;
  for (const auto& note : exported->notes) *ctx.err << "cdl: note: " << note << "\n";
  if (ctx.json) {
    *ctx.out << json{{"file", options.output},
                     {"bytes", bytes.size()},
                     {"sha256", HexEncode(cdl::crypto::Sha256(bytes))},
                     {"subject", HexEncode(*subject)},
                     {"jurisdiction", *jurisdiction},
                     {"records", exported->passport.records_size()},
                     {"status_proofs", exported->passport.statuses_size()},
                     {"certificates", exported->certificates},
                     {"checkpoint", {{"height", exported->height}, {"time", cdl::verify::FormatUtc(exported->time_ms)}}},
                     {"notes", exported->notes}}
                    .dump(2)
             << "\n";
  } else {
    *ctx.out << "wrote passport " << options.output << " (" << bytes.size() << " bytes): "
             << exported->passport.records_size() << " records, " << exported->passport.statuses_size()
             << " status proofs, " << exported->certificates << " certificate(s), for " << *jurisdiction
             << ", checkpoint " << exported->height << " (" << cdl::verify::FormatUtc(exported->time_ms) << ")\n"
             << "verify offline: cdl passport verify " << options.output << " --trust GENESIS.json\n";
  }
  return absl::OkStatus();
}

absl::Status RunPassportVerify(const Context& ctx, const PassportVerifyOptions& options) {
  cdl::verify::PassportCheckOptions check;
  check.now_ms = NowMs();
  check.at_ms = check.now_ms;
  if (!options.at.empty()) {
    absl::StatusOr<int64_t> at = ParseTimeMs(options.at);
    if (!at.ok()) return WithExitCode(Annotate(at.status(), "--at"), kExitUsage);
    check.at_ms = *at;
  }
  if (!options.max_age.empty()) {
    absl::StatusOr<int64_t> age = ParseDurationMs(options.max_age);
    if (!age.ok()) return WithExitCode(Annotate(age.status(), "--max-age"), kExitUsage);
    check.max_age_ms = *age;
  }
  if (!options.jurisdiction.empty()) {
    absl::StatusOr<std::string> j = ParseJurisdiction(options.jurisdiction);
    if (!j.ok()) return WithExitCode(Annotate(j.status(), "--jurisdiction"), kExitUsage);
    check.jurisdiction = *j;
  }
  absl::StatusOr<cdl::verify::TrustedGenesis> genesis = LoadGenesis(options.genesis);
  if (!genesis.ok()) return genesis.status();
  absl::StatusOr<std::string> bytes =
      ReadFileLimited(options.file, cdl::verify::kMaxPassportBytes, "passport file");
  if (!bytes.ok()) return bytes.status();

  cdl::verify::PassportVerdict verdict = cdl::verify::VerifyPassport(*genesis, *bytes, check);
  if (ctx.json) {
    *ctx.out << cdl::verify::PassportVerdictJson(verdict).dump(2) << "\n";
  } else if (verdict.valid) {
    *ctx.out << "VALID  " << options.file << "\n";
    PrintSummary(*ctx.out, verdict);
  } else {
    *ctx.out << "INVALID  " << options.file << "\n";
    for (const auto& reason : verdict.reasons) *ctx.out << "  - " << reason << "\n";
  }
  if (verdict.valid) return absl::OkStatus();
  return InputError(cdl::StrCat("passport ", options.file, " is INVALID for ", verdict.jurisdiction,
                                 " — do not rely on it (", verdict.reasons.size(), " reason(s) above)"));
}

absl::Status RunPassportQr(const Context& ctx, const PassportQrOptions& options) {
  if (options.output.empty()) return UsageError("no -o FILE given — name the QR image to write (.svg or .png)");
  absl::StatusOr<std::string> bytes =
      ReadFileLimited(options.file, cdl::verify::kMaxPassportBytes, "passport file");
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<cdl::v1::Passport> passport = cdl::verify::DecodePassport(*bytes);
  if (!passport.ok()) {
    return InputError(cdl::StrCat("passport file ", options.file, ": ", passport.status().message()));
  }
  cdl::v1::BlockHeader header;
  header.ParseFromString(passport->checkpoint().header());
  bool embedded = false;
  std::string text = PassportQrText(*bytes, header.chain_id(), HexEncode(passport->subject()), header.height(),
                                    options.url, &embedded);
  absl::Status written = WriteQrCode(text, options.output);
  if (absl::IsInvalidArgument(written)) return WithExitCode(written, kExitUsage);
  if (!written.ok()) return InputError(written.message());
  if (ctx.json) {
    *ctx.out << json{{"file", options.output}, {"embedded", embedded}, {"text", text}}.dump(2) << "\n";
  } else {
    *ctx.out << "wrote " << options.output << ": "
             << (embedded ? "the whole passport"
                          : "a reference (SHA-256 of the file, chain, subject, checkpoint) — the passport is too large "
                            "for one QR code, so hand over the file as well")
             << " (" << text.size() << " characters)\n";
  }
  return absl::OkStatus();
}

}  // namespace cdl::cli
