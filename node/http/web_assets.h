// The web explorer and passport verifier (node/http/web/: index.html,
// app.js, style.css), embedded in the binary at build time
// (embed_web.cmake), so the node serves them with no files on disk and the
// page needs nothing from elsewhere.
#ifndef CDL_NODE_HTTP_WEB_ASSETS_H_
#define CDL_NODE_HTTP_WEB_ASSETS_H_

#include <optional>
#include <string_view>

namespace cdl::http {

struct WebAsset {
  std::string_view path;          // "/", "/static/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

// The asset served at `path`, if any.
std::optional<WebAsset> FindWebAsset(std::string_view path);

}  // namespace cdl::http

#endif  // CDL_NODE_HTTP_WEB_ASSETS_H_
