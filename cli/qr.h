// QR codes for green passports (libqrencode), written as SVG or PNG.
#ifndef CDL_CLI_QR_H_
#define CDL_CLI_QR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdl::cli {

// Largest text put into one QR code (version 40, error correction M holds
// 2,331 bytes; a margin keeps codes readable by phone cameras).
inline constexpr size_t kMaxQrText = 2300;

// What a passport's QR code says. The whole file (base64) when it fits in
// kMaxQrText: "cdl-passport:v1;b64=<base64 of the file>". Otherwise a compact
// reference that pins the file by hash:
//   "cdl-passport:v1;sha256=<hex>;chain=<chain id>;subject=<hex>;height=<h>[;url=<url>]"
// `*embedded` says which one it is.
std::string PassportQrText(std::string_view file_bytes, std::string_view chain_id, std::string_view subject_hex,
                           uint64_t height, std::string_view url, bool* embedded);

// Encodes `text` (8-bit mode, error correction M) and writes it to `path`:
// SVG when the name ends in ".svg", PNG when it ends in ".png" (8 pixels per
// module, 4-module quiet zone). InvalidArgument for other names or text too
// long for a QR code; Internal when writing fails.
absl::Status WriteQrCode(std::string_view text, const std::string& path);

}  // namespace cdl::cli

#endif  // CDL_CLI_QR_H_
