#include "cli/render.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/errors.h"
#include "crypto/hash.h"
#include "google/protobuf/util/json_util.h"

namespace cdl::cli {

std::string ProtoToJsonFile(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return text;
}

absl::Status ProtoFromJsonFile(absl::string_view text,
                               google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(text),
                                                            message, options);
  if (!status.ok()) {
    return InputError(absl::StrCat("not a valid ",
                                   message->GetDescriptor()->full_name(),
                                   " JSON file: ", status.ToString()));
  }
  return absl::OkStatus();
}

std::string ReceiptOutcome(const cdl::v1::Receipt& receipt) {
  std::string text = StatusName(receipt.status());
  switch (receipt.status()) {
    case cdl::v1::RECORD_ACCEPTED:
      absl::StrAppend(&text, " at height ", receipt.height(), ", leaf ",
                      receipt.ledger_index());
      break;
    case cdl::v1::RECORD_REJECTED:
      absl::StrAppend(&text, " at height ", receipt.height(), ": ",
                      RejectCodeName(receipt.code()), ": ", receipt.message());
      break;
    case cdl::v1::RECORD_ADMITTED:
      absl::StrAppend(&text, " (in the mempool, not yet committed)");
      break;
    default:
      break;
  }
  return text;
}

std::string ReceiptLine(const cdl::v1::Receipt& receipt) {
  std::string outcome = ReceiptOutcome(receipt);
  const size_t status_end = outcome.find(' ');
  std::string line = absl::StrCat(
      outcome.substr(0, status_end), " record ",
      cdl::crypto::HexEncode(receipt.record_id()),
      status_end == std::string::npos ? "" : outcome.substr(status_end));
  if (!receipt.author().empty()) {
    absl::StrAppend(&line, " [", receipt.author(), " #", receipt.sequence(),
                    "]");
  }
  return line;
}

absl::StatusOr<std::string> ReadFileLimited(const std::string& path,
                                            size_t max_bytes,
                                            absl::string_view what) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return WithExitCode(absl::NotFoundError(absl::StrCat(
                            "cannot read ", what, " ", path, ": ",
                            std::strerror(errno), " — check the path")),
                        kExitInvalid);
  }
  if (!S_ISREG(st.st_mode)) {
    return InputError(
        absl::StrCat(what, " ", path, " is not a regular file — pass a file"));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return InputError(absl::StrCat(what, " ", path, " is ", st.st_size,
                                   " bytes, more than the limit of ", max_bytes,
                                   " — is it the right file?"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return InputError(absl::StrCat("cannot read ", what, " ", path,
                                   " — check its permissions"));
  }
  std::string text = data.str();
  if (text.size() > max_bytes) {
    return InputError(absl::StrCat(what, " ", path,
                                   " is larger than the limit of ", max_bytes,
                                   " bytes — is it the right file?"));
  }
  return text;
}

absl::Status WriteFile(const std::string& path, absl::string_view data,
                       absl::string_view what) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return InputError(absl::StrCat("cannot write ", what, " ", path, ": ",
                                     std::strerror(errno),
                                     " — check the directory exists and is "
                                     "writable"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return InputError(absl::StrCat("cannot write ", what, " ", path, ": ",
                                   std::strerror(errno),
                                   " — check the directory is writable"));
  }
  return absl::OkStatus();
}

}  // namespace cdl::cli
