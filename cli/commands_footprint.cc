// `cdl footprint validate` (offline) and `cdl footprint import`.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "cli/submitter.h"
#include "node/verify/pact.h"

namespace cdl::cli {
namespace {

using nlohmann::json;

absl::StatusOr<cdl::verify::PactParseResult> ParseFile(
    const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFileLimited(path, cdl::verify::kMaxPactDocumentBytes, "PACT file");
  if (!text.ok()) return text.status();
  return cdl::verify::ParsePactDocument(*text);
}

// Lists every issue (stdout) and returns the one-line error.
absl::Status ReportIssues(const Context& ctx, const std::string& path,
                          const std::vector<cdl::verify::PactIssue>& issues,
                          absl::string_view action) {
  if (ctx.json) {
    json list = json::array();
    for (const auto& issue : issues) {
      list.push_back({{"path", issue.path}, {"message", issue.message}});
    }
    *ctx.out << json{{"valid", false}, {"file", path}, {"issues", list}}.dump(2)
             << "\n";
  } else {
    *ctx.out << "invalid: " << issues.size() << " problem(s) in " << path
             << ":\n";
    for (const auto& issue : issues) {
      *ctx.out << "  " << cdl::verify::FormatPactIssue(issue) << "\n";
    }
  }
  return InputError(absl::StrCat(path, " is not valid PACT v2: ", issues.size(),
                                 " problem(s), listed on stdout — ", action));
}

}  // namespace

absl::Status RunFootprintValidate(const Context& ctx,
                                  const FootprintValidateOptions& options) {
  absl::StatusOr<cdl::verify::PactParseResult> result = ParseFile(options.file);
  if (!result.ok()) return result.status();
  if (!result->ok()) {
    return ReportIssues(ctx, options.file, result->issues,
                        "fix them and validate again");
  }
  if (ctx.json) {
    // Exactly as `footprint import` would store them: the canonical text of
    // each object, never re-encoded, so decimal strings stay as written.
    std::vector<std::string> objects;
    for (const auto& footprint : result->footprints) {
      objects.push_back(footprint.canonical_json);
    }
    *ctx.out << "[" << absl::StrJoin(objects, ",\n") << "]\n";
    return absl::OkStatus();
  }
  *ctx.out << "valid: " << result->footprints.size() << " footprint(s)\n";
  for (const auto& footprint : result->footprints) {
    *ctx.out << "  " << footprint.id << "  spec " << footprint.spec_version
             << "  " << footprint.product_name_company << ": "
             << footprint.pcf_excluding_biogenic << " kgCO2e per "
             << footprint.unitary_product_amount << " "
             << footprint.declared_unit << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunFootprintImport(const Context& ctx,
                                const FootprintImportOptions& options) {
  absl::StatusOr<cdl::verify::PactParseResult> result = ParseFile(options.file);
  if (!result.ok()) return result.status();
  if (!result->ok()) {
    return ReportIssues(ctx, options.file, result->issues,
                        "nothing was submitted; fix them (check with "
                        "'cdl footprint validate') and import again");
  }
  std::string supersedes;
  if (!options.supersedes.empty()) {
    if (result->footprints.size() != 1) {
      return UsageError(
          absl::StrCat("--supersedes needs a file with exactly one footprint, ",
                       options.file, " has ", result->footprints.size(),
                       " — import them separately"));
    }
    absl::StatusOr<std::string> id = ParseRecordId(options.supersedes);
    if (!id.ok()) {
      return WithExitCode(Annotate(id.status(), "--supersedes"), kExitUsage);
    }
    supersedes = *id;
  }

  std::vector<cdl::v1::RecordBody> bodies;
  std::vector<ReceiptLabel> labels;
  for (const auto& footprint : result->footprints) {
    cdl::v1::RecordBody body;
    body.mutable_product_footprint()->set_pact_json(footprint.canonical_json);
    body.mutable_product_footprint()->set_supersedes(supersedes);
    bodies.push_back(std::move(body));
    labels.push_back({"footprint_id", footprint.id});
  }
  absl::StatusOr<Submitter> submitter = Submitter::Create(ctx, options.author);
  if (!submitter.ok()) return submitter.status();
  Submitter::Batch batch = submitter->SubmitAll(std::move(bodies));
  absl::Status report =
      ReportReceipts(ctx, batch.receipts, options.author.no_wait,
                     /*as_array=*/true, labels);
  if (!batch.error.ok()) return batch.error;
  return report;
}

}  // namespace cdl::cli
