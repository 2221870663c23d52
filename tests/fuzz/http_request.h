// The HTTP fuzz targets' input: the bytes of one HTTP/1.1 request as a client
// sends it ("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"), cut into what
// node/http/server.cc hands the gateway: method and target from the request
// line, the path (target up to '?', undecoded) and the query split on '&'/'='
// and percent-decoded the way server.cc does, the Content-Type, Authorization
// and Host headers, and everything after the blank line as the body. Input
// that is not a well-formed request still becomes one (missing parts are
// empty), so the handlers see the edge cases the library would let through.
// `secure` is left false: the caller decides which port the request came in
// on. Shared by fuzz_http and fuzz_pact_api.
#ifndef CDL_TESTS_FUZZ_HTTP_REQUEST_H_
#define CDL_TESTS_FUZZ_HTTP_REQUEST_H_

#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/http/gateway.h"

namespace cdl::fuzz {

// Every `from` in `s` replaced by `to` (left to right, not re-scanned).
inline std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

namespace http_internal {

// Up to the next "\n" (a preceding "\r" dropped); advances `in` past it.
inline std::string_view NextLine(std::string_view& in) {
  size_t end = in.find('\n');
  std::string_view line = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace http_internal

// `in` as a request (see the top of this file). Each (placeholder, value) of
// `target_placeholders` is replaced in the request target before it is split.
inline cdl::http::HttpRequest ParseHttpRequest(
    std::string_view in, const std::vector<std::pair<std::string, std::string>>& target_placeholders = {}) {
  using http_internal::NextLine;
  cdl::http::HttpRequest r;
  std::string_view line = NextLine(in);
  size_t space = line.find(' ');
  r.method = std::string(line.substr(0, space));
  line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
  std::string target(line.substr(0, line.find(' ')));
  for (const auto& [placeholder, value] : target_placeholders) target = ReplaceAll(std::move(target), placeholder, value);

  const size_t question = target.find('?');
  r.path = target.substr(0, question);
  if (question != std::string::npos) {
    // Split and percent-decoded as the gateway decodes form bodies, which is
    // how server.cc's library decodes a query ('+' is a space).
    r.params = cdl::http::ParseFormEncoded(std::string_view(target).substr(question + 1));
  }

  for (std::string_view header = NextLine(in); !header.empty(); header = NextLine(in)) {
    size_t colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(header.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "content-type") r.content_type = std::string(value);
    if (name == "authorization") r.authorization = std::string(value);
    if (name == "host") r.host = std::string(value);
  }
  r.body = std::string(in);
  return r;
}

}  // namespace cdl::fuzz

#endif  // CDL_TESTS_FUZZ_HTTP_REQUEST_H_
