// Record writers: member register and disclose (footprint import lives in
// commands_footprint.cc).

#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "cli/submitter.h"
#include "crypto/keys.h"
#include "node/verify/record.h"

namespace cdl::cli {
namespace {

constexpr size_t kMaxDisclosureFileBytes = 1024 * 1024;

}  // namespace

absl::Status RunMemberRegister(const Context& ctx,
                               const MemberRegisterOptions& options) {
  cdl::v1::RecordBody body;
  cdl::v1::MemberRegistration* reg = body.mutable_member_registration();
  reg->set_member_id(options.id);
  absl::StatusOr<cdl::v1::Role> role = ParseRole(options.role);
  if (!role.ok())
    return WithExitCode(Annotate(role.status(), "--role"), kExitUsage);
  reg->set_role(*role);
  reg->set_jurisdiction(options.jurisdiction);
  reg->set_park(options.park);
  reg->set_name(options.name);
  if (options.member_keys.empty()) {
    return UsageError(
        "no --member-key given — pass the new member's public key file "
        "(from 'cdl keygen', FILE.pub)");
  }
  for (const std::string& path : options.member_keys) {
    absl::StatusOr<cdl::crypto::PublicKey> key =
        cdl::crypto::ReadPublicKeyFile(path);
    if (!key.ok()) {
      return InputError(absl::StrCat("cannot use --member-key ", path, ": ",
                                     key.status().message(),
                                     " — pass a public key PEM file such as "
                                     "the FILE.pub written by 'cdl keygen'"));
    }
    *reg->add_keys() = cdl::verify::PublicKeyInfoOf(*key);
  }
  if (!options.valid_from.empty()) {
    absl::StatusOr<int64_t> ms = ParseTimeMs(options.valid_from);
    if (!ms.ok())
      return WithExitCode(Annotate(ms.status(), "--valid-from"), kExitUsage);
    reg->set_valid_from_ms(*ms);
  }
  if (!options.valid_until.empty()) {
    absl::StatusOr<int64_t> ms = ParseTimeMs(options.valid_until);
    if (!ms.ok())
      return WithExitCode(Annotate(ms.status(), "--valid-until"), kExitUsage);
    reg->set_valid_until_ms(*ms);
  }

  absl::StatusOr<Submitter> submitter = Submitter::Create(ctx, options.author);
  if (!submitter.ok()) return submitter.status();
  absl::StatusOr<cdl::v1::Receipt> receipt = submitter->Submit(std::move(body));
  if (!receipt.ok()) return receipt.status();
  return ReportReceipts(ctx, {*receipt}, options.author.no_wait, false);
}

absl::Status RunDisclose(const Context& ctx, const DiscloseOptions& options) {
  absl::StatusOr<std::string> text =
      ReadFileLimited(options.file, kMaxDisclosureFileBytes, "disclosure file");
  if (!text.ok()) return text.status();
  absl::StatusOr<cdl::v1::Disclosure> disclosure =
      ParseDisclosureJson(*text, options.author.as);
  if (!disclosure.ok()) {
    return Annotate(disclosure.status(),
                    absl::StrCat("disclosure file ", options.file));
  }
  if (!options.supersedes.empty()) {
    absl::StatusOr<std::string> id = ParseRecordId(options.supersedes);
    if (!id.ok())
      return WithExitCode(Annotate(id.status(), "--supersedes"), kExitUsage);
    disclosure->set_supersedes(*id);
  }
  cdl::v1::RecordBody body;
  *body.mutable_disclosure() = *std::move(disclosure);

  absl::StatusOr<Submitter> submitter = Submitter::Create(ctx, options.author);
  if (!submitter.ok()) return submitter.status();
  absl::StatusOr<cdl::v1::Receipt> receipt = submitter->Submit(std::move(body));
  if (!receipt.ok()) return receipt.status();
  return ReportReceipts(ctx, {*receipt}, options.author.no_wait, false);
}

}  // namespace cdl::cli
