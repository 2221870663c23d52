#include "cli/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cdl::cli {
namespace {

constexpr absl::string_view kExitCodePayload = "type.cdl.dev/cdl.cli.ExitCode";

}  // namespace

absl::Status WithExitCode(absl::Status status, int exit_code) {
  if (status.ok()) return status;
  status.SetPayload(kExitCodePayload, absl::Cord(absl::StrCat(exit_code)));
  return status;
}

absl::Status UsageError(absl::string_view message) {
  return WithExitCode(absl::InvalidArgumentError(message), kExitUsage);
}

absl::Status InputError(absl::string_view message) {
  return WithExitCode(absl::InvalidArgumentError(message), kExitInvalid);
}

absl::Status NodeError(absl::StatusCode code, absl::string_view message) {
  return WithExitCode(absl::Status(code, message), kExitNode);
}

int ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  auto payload = status.GetPayload(kExitCodePayload);
  int code = 0;
  if (payload && absl::SimpleAtoi(std::string(*payload), &code) && code > 0) {
    return code;
  }
  return kExitInvalid;
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(),
                   absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) {
        out.SetPayload(url, payload);
      });
  return out;
}

}  // namespace cdl::cli
