#include "cli/qr.h"

#include <png.h>
#include <qrencode.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "crypto/str_cat.h"
#include "crypto/hash.h"

namespace cdl::cli {
namespace {

constexpr int kQuietZone = 4;
constexpr int kPixelsPerModule = 8;

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

absl::Status WriteSvg(const QRcode& code, const std::string& path) {
  int size = code.width + 2 * kQuietZone;
  std::string svg = cdl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ",
      size, " ", size, "\" width=\"", size * kPixelsPerModule, "\" height=\"", size * kPixelsPerModule,
      "\" shape-rendering=\"crispEdges\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"");
  for (int y = 0; y < code.width; ++y) {
    for (int x = 0; x < code.width; ++x) {
      if (code.data[y * code.width + x] & 1) svg += cdl::StrCat("M", x + kQuietZone, " ", y + kQuietZone, "h1v1h-1z");
    }
  }
  svg += cdl::StrCat("\"/>\n</svg>\n");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << svg;
  out.close();
  if (!out) return absl::InternalError(cdl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status WritePng(const QRcode& code, const std::string& path) {
  std::unique_ptr<FILE, FileClose> file(std::fopen(path.c_str(), "wb"));
  if (!file) return absl::InternalError(cdl::StrCat("cannot write ", path));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (png == nullptr || info == nullptr) {
    png_destroy_write_struct(&png, &info);
    return absl::InternalError("libpng: out of memory");
  }
  int size = (code.width + 2 * kQuietZone) * kPixelsPerModule;
  std::vector<png_byte> row(size);
  // libpng reports errors by longjmp back to here; no object with a
  // destructor is created between this point and the last libpng call.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return absl::InternalError(cdl::StrCat("cannot write PNG ", path));
  }
  png_init_io(png, file.get());
  png_set_IHDR(png, info, size, size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int py = 0; py < size; ++py) {
    int y = py / kPixelsPerModule - kQuietZone;
    for (int px = 0; px < size; ++px) {
      int x = px / kPixelsPerModule - kQuietZone;
      bool dark = x >= 0 && y >= 0 && x < code.width && y < code.width && (code.data[y * code.width + x] & 1);
      row[px] = dark ? 0 : 255;
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(file.get()) != 0) return absl::InternalError(cdl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

std::string PassportQrText(std::string_view file_bytes, std::string_view chain_id, std::string_view subject_hex,
                           uint64_t height, std::string_view url, bool* embedded) {
  std::string whole = cdl::StrCat("cdl-passport:v1;b64=", cdl::crypto::Base64Encode(file_bytes));
  *embedded = whole.size() <= kMaxQrText;
  if (*embedded) return whole;
  std::string text = cdl::StrCat("cdl-passport:v1;sha256=", cdl::crypto::HexEncode(cdl::crypto::Sha256(file_bytes)),
                                  ";chain=", chain_id, ";subject=", subject_hex, ";height=", height);
  if (!url.empty()) text += cdl::StrCat(";url=", url);
  return text;
}

absl::Status WriteQrCode(std::string_view text, const std::string& path) {
  bool svg = absl::EndsWith(path, ".svg");
  if (!svg && !absl::EndsWith(path, ".png")) {
    return absl::InvalidArgumentError(cdl::StrCat("QR output ", path, ": name it .svg or .png"));
  }
  if (text.size() > kMaxQrText) {
    return absl::InvalidArgumentError(cdl::StrCat("QR text of ", text.size(), " bytes is longer than ", kMaxQrText));
  }
  std::unique_ptr<QRcode, QrFree> code(QRcode_encodeData(static_cast<int>(text.size()),
                                                         reinterpret_cast<const unsigned char*>(text.data()), 0,
                                                         QR_ECLEVEL_M));
  if (!code) return absl::InternalError(cdl::StrCat("libqrencode could not encode ", text.size(), " bytes"));
  return svg ? WriteSvg(*code, path) : WritePng(*code, path);
}

}  // namespace cdl::cli
