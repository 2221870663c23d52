// `cdl passport export|verify|qr`: green passports (docs/passport.md).
#ifndef CDL_CLI_PASSPORT_COMMANDS_H_
#define CDL_CLI_PASSPORT_COMMANDS_H_

#include <string>

#include "absl/status/status.h"
#include "cli/commands.h"

namespace cdl::cli {

struct PassportExportOptions {
  std::string subject;       // record id (hex) of a footprint or disclosure
  std::string jurisdiction;  // where it will be presented
  std::string output;
  bool force = false;
  int wait_seconds = 10;     // for a checkpoint covering the committed head
};
// Fetches everything from the node and writes the passport file. Exit 1 when
// the subject is unknown or uncertified, 3 when the node fails.
absl::Status RunPassportExport(const Context& ctx, const PassportExportOptions& options);

struct PassportVerifyOptions {
  std::string file;
  std::string genesis;       // --trust
  std::string jurisdiction;  // default: the passport's
  std::string at;            // time the windows are checked at; default now
  std::string max_age;       // e.g. "30d", "12h"; default: any age
};
// Offline. Exit 0 and VALID with a summary, or exit 1 and INVALID with every
// reason; exit 2 for bad flags.
absl::Status RunPassportVerify(const Context& ctx, const PassportVerifyOptions& options);

struct PassportQrOptions {
  std::string file;
  std::string output;  // .svg or .png
  std::string url;     // where the full file can be fetched, for large passports
};
absl::Status RunPassportQr(const Context& ctx, const PassportQrOptions& options);

// "90s", "15m", "12h", "30d" (a whole number and a unit) in milliseconds.
absl::StatusOr<int64_t> ParseDurationMs(std::string_view text);

}  // namespace cdl::cli

#endif  // CDL_CLI_PASSPORT_COMMANDS_H_
