#include "node/http/gateway.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <set>

#include "crypto/str_cat.h"
#include "nlohmann/json.hpp"
#include "node/http/api.h"
#include "node/http/pact_api.h"
#include "node/http/web_assets.h"
#include "spdlog/spdlog.h"

namespace cdl::http {
namespace {

using nlohmann::json;

// Invalid UTF-8 in stored text (member names, messages) must not make dump() throw.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = Dump(body) + "\n";
  return r;
}

HttpResponse FromJson(const absl::StatusOr<json>& result) {
  if (!result.ok()) return Gateway::FromStatus(result.status());
  return Json(200, *result);
}

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeFormComponent(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseFormEncoded(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text.remove_prefix(amp == std::string_view::npos ? text.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    out.emplace_back(DecodeFormComponent(key), DecodeFormComponent(value));
  }
  return out;
}

// How one API path is served.
struct Gateway::Route {
  std::string method;                 // "GET" (also answers HEAD) or "POST"
  std::vector<std::string> segments;  // "{}" matches one segment
  std::set<std::string> params;       // query parameters it takes
  std::function<HttpResponse(const HttpRequest&, const std::vector<std::string>&)> handler;
};

namespace {

bool Matches(const Gateway::Route& route, const std::vector<std::string>& segments, std::vector<std::string>* captures) {
  if (route.segments.size() != segments.size()) return false;
  captures->clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (route.segments[i] == "{}") {
      captures->push_back(segments[i]);
    } else if (route.segments[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

// Refuses paths that could mean something else to another component:
// escapes (%2F, %2e), backslashes, control bytes, dot and empty segments.
absl::Status CheckPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return absl::InvalidArgumentError("the path must start with /");
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (c == '%') return absl::InvalidArgumentError("percent-encoded characters are not allowed in the path");
    if (c == '\\') return absl::InvalidArgumentError("backslashes are not allowed in the path");
    if (u < 0x21 || u == 0x7f) return absl::InvalidArgumentError("control characters and spaces are not allowed in the path");
  }
  if (path == "/") return absl::OkStatus();
  std::vector<std::string> segments = Split(path);
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& s = segments[i];
    const bool trailing_slash = s.empty() && i + 1 == segments.size();
    if ((s.empty() && !trailing_slash) || s == "." || s == "..") {
      return absl::InvalidArgumentError("the path must not contain empty, '.' or '..' segments");
    }
  }
  return absl::OkStatus();
}

// A passport file is binary: JSON, text and form uploads are something else.
bool CanBePassport(std::string_view content_type) {
  std::string type;
  for (char c : content_type.substr(0, content_type.find(';'))) {
    if (c != ' ') type += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return !(type == "application/json" || type.rfind("text/", 0) == 0 || type.rfind("multipart/", 0) == 0);
}

std::vector<Gateway::Route> ApiRoutes(cdl::net::Node* node) {
  using Route = Gateway::Route;
  const cdl::ledger::Ledger& ledger = node->ledger();
  auto get = [](std::vector<std::string> segments, std::set<std::string> params, auto handler) {
    return Route{"GET", std::move(segments), std::move(params), handler};
  };
  using Captures = std::vector<std::string>;
  std::vector<Route> routes;
  routes.push_back(get({"api", "v1", "status"}, {},
                       [node](const HttpRequest&, const Captures&) { return Json(200, api::Status(*node)); }));
  routes.push_back(get({"api", "v1", "records", "{}"}, {}, [&ledger](const HttpRequest&, const Captures& c) {
    return FromJson(api::Record(ledger, c[0]));
  }));
  routes.push_back(get({"api", "v1", "receipts", "{}"}, {}, [&ledger](const HttpRequest&, const Captures& c) {
    return FromJson(api::Receipt(ledger, c[0]));
  }));
  routes.push_back(get({"api", "v1", "blocks"}, {"limit"}, [&ledger](const HttpRequest& r, const Captures&) {
    return FromJson(api::LatestBlocks(ledger, r.params));
  }));
  routes.push_back(get({"api", "v1", "blocks", "{}"}, {}, [&ledger](const HttpRequest&, const Captures& c) {
    return FromJson(api::Block(ledger, c[0]));
  }));
  routes.push_back(get({"api", "v1", "checkpoints", "{}"}, {}, [&ledger](const HttpRequest&, const Captures& c) {
    return FromJson(api::Checkpoint(ledger, c[0]));
  }));
  routes.push_back(get({"api", "v1", "proofs", "{}"}, {}, [&ledger](const HttpRequest&, const Captures& c) {
    return FromJson(api::Proof(ledger, c[0]));
  }));
  routes.push_back(get({"api", "v1", "query"},
                       {"member", "type", "period", "park", "standard", "certificate_status", "as_of_ms", "page_size",
                        "page_token"},
                       [&ledger](const HttpRequest& r, const Captures&) {
                         return FromJson(api::Query(ledger, r.params, absl::ToUnixMillis(absl::Now())));
                       }));
  routes.push_back(get({"api", "v1", "pact", "ledger-extension.schema.json"}, {}, [](const HttpRequest&, const Captures&) {
    HttpResponse r;
    r.content_type = "application/schema+json";
    r.body = PactApi::ExtensionSchema();
    return r;
  }));
  routes.push_back(Route{"POST", {"api", "v1", "passport", "verify"}, {"jurisdiction", "at"},
                         [&ledger](const HttpRequest& r, const Captures&) {
                           if (!CanBePassport(r.content_type)) {
                             return Gateway::Error(415, "UNSUPPORTED_MEDIA_TYPE",
                                                   cdl::StrCat("a ", r.content_type.substr(0, 60),
                                                               " body is not a passport file; POST the file's bytes "
                                                               "as application/octet-stream"));
                           }
                           return FromJson(api::VerifyPassport(ledger.genesis(), r.params, r.body,
                                                               absl::ToUnixMillis(absl::Now())));
                         }});
  return routes;
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);  // "INVALID_ARGUMENT"
  return name.empty() ? "UNKNOWN" : name;
}

Gateway::Gateway(cdl::net::Node* node, GatewayOptions options)
    : node_(node), options_(std::move(options)), routes_(ApiRoutes(node)) {
  requests_ = metrics_.AddCounterFamily("cdl_http_requests_total", "HTTP requests answered, by status code", "code");
  const bool clustered = node_->ledger().genesis().validator_count() > 1;
  auto peers = options_.connected_peers;
  metrics_.AddGaugeCallback("cdl_peer_connections", "Validators this node has an established peer stream to",
                            [peers, clustered]() -> std::optional<double> {
                              if (!clustered || !peers) return 0.0;
                              return static_cast<double>(peers());
                            });
  const double start = absl::ToDoubleSeconds(options_.process_start - absl::UnixEpoch());
  metrics_.AddGaugeCallback("process_start_time_seconds", "Start time of the process since the Unix epoch",
                            [start] { return start; });
  metrics_.AddGaugeCallback("cdl_ready", "1 when /readyz answers 200", [this] { return Readyz().status == 200 ? 1.0 : 0.0; });
}

Gateway::~Gateway() = default;

HttpResponse Gateway::Error(int status, std::string_view code, std::string_view message) {
  return Json(status, json{{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse Gateway::FromStatus(const absl::Status& status) {
  return Error(HttpStatusOf(status.code()), CodeName(status.code()), std::string(status.message()));
}

HttpResponse Gateway::ErrorFor(int status) {
  switch (status) {
    case 400: return Error(400, "INVALID_ARGUMENT", "malformed HTTP request");
    case 404: return Error(404, "NOT_FOUND", "no such endpoint");
    case 405: return Error(405, "METHOD_NOT_ALLOWED", "method not allowed here");
    case 413:
      return Error(413, "PAYLOAD_TOO_LARGE", cdl::StrCat("the request body is larger than ", kMaxBodyBytes, " bytes"));
    case 414: return Error(414, "URI_TOO_LONG", "the request URI is too long");
    case 503: return Error(503, "UNAVAILABLE", "the service is not available");
    default:
      if (status >= 500) return Error(status, "INTERNAL", "internal error");
      return Error(status, "INVALID_ARGUMENT", "the request cannot be served");
  }
}

void Gateway::CountResponse(int status) { requests_->WithLabel(std::to_string(status))->Increment(); }

HttpResponse Gateway::Handle(const HttpRequest& request) {
  HttpResponse response;
  try {
    response = Dispatch(request);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {}: {}", request.method, request.path.substr(0, 200), e.what());
    response = Error(500, "INTERNAL", "internal error; see the node's log");
  } catch (...) {
    spdlog::error("http: {} {}: unknown exception", request.method, request.path.substr(0, 200));
    response = Error(500, "INTERNAL", "internal error; see the node's log");
  }
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse Gateway::Dispatch(const HttpRequest& request) {
  // Before any other check, so that plain HTTP never gets anything but 403 here.
  if (PactApi::IsPactPath(request.path) && !request.secure) return PactApi::RefusedWithoutTls();
  if (request.path.size() > kMaxPathBytes) {
    return Error(414, "URI_TOO_LONG", cdl::StrCat("the path is longer than ", kMaxPathBytes, " bytes"));
  }
  if (absl::Status s = CheckPath(request.path); !s.ok()) return FromStatus(s);
  if (request.body.size() > kMaxBodyBytes) return ErrorFor(413);
  const bool read = request.method == "GET" || request.method == "HEAD";
  if (PactApi::IsPactPath(request.path)) {
    if (options_.pact == nullptr) return PactApi::Error(403, "AccessDenied", "this node serves no PACT clients");
    return options_.pact->Handle(request);
  }

  // Probes, metrics and the web page.
  if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/metrics" ||
      FindWebAsset(request.path)) {
    if (!read) {
      HttpResponse r = Error(405, "METHOD_NOT_ALLOWED", cdl::StrCat(request.method, " is not allowed on ", request.path,
                                                                   "; use GET"));
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    if (!request.params.empty() && request.path != "/") {
      return Error(400, "INVALID_ARGUMENT", cdl::StrCat(request.path, " takes no query parameters"));
    }
    if (request.path == "/healthz") return Healthz();
    if (request.path == "/readyz") return Readyz();
    if (request.path == "/metrics") return Metrics();
    WebAsset asset = *FindWebAsset(request.path);
    HttpResponse r;
    r.content_type = std::string(asset.content_type);
    r.body = std::string(asset.body);
    // Everything the page uses comes from this node: no inline code, no other origin.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    return r;
  }

  std::vector<std::string> segments = Split(request.path);
  std::vector<std::string> captures;
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (!Matches(route, segments, &captures)) continue;
    const bool method_ok = route.method == request.method || (route.method == "GET" && request.method == "HEAD");
    if (!method_ok) {
      allowed.push_back(route.method == "GET" ? "GET, HEAD" : route.method);
      continue;
    }
    std::set<std::string> seen;
    for (const auto& [name, value] : request.params) {
      if (!route.params.count(name)) {
        std::string known;
        for (const auto& p : route.params) known += (known.empty() ? "" : ", ") + p;
        return Error(400, "INVALID_ARGUMENT",
                     cdl::StrCat("unknown query parameter \"", name.substr(0, 40), "\" for ", request.path,
                                 known.empty() ? " (it takes none)" : cdl::StrCat(" (it takes ", known, ")")));
      }
      if (!seen.insert(name).second) {
        return Error(400, "INVALID_ARGUMENT", cdl::StrCat("query parameter \"", name, "\" is given twice"));
      }
    }
    return route.handler(request, captures);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& a : allowed) allow += (allow.empty() ? "" : ", ") + a;
    HttpResponse r =
        Error(405, "METHOD_NOT_ALLOWED", cdl::StrCat(request.method, " is not allowed on ", request.path, "; use ", allow));
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  return Error(404, "NOT_FOUND",
               cdl::StrCat("no such endpoint: ", request.path.substr(0, 100),
                           " (the API is under /api/v1/: status, records/ID, receipts/ID, blocks, blocks/HEIGHT, "
                           "checkpoints/latest, proofs/ID, query, passport/verify)"));
}

HttpResponse Gateway::Healthz() { return Json(200, json{{"status", "ok"}}); }

HttpResponse Gateway::Readyz() {
  const auto& ledger = node_->ledger();
  cdl::v1::LedgerHead head = ledger.head();
  std::vector<std::string> reasons;
  json checks = json::object();
  checks["ledger"] = cdl::StrCat("open at height ", head.height());
  if (!node_->healthy()) {
    reasons.push_back("the node halted after a storage or consensus failure; see its log and restart it");
  }
  const size_t validators = ledger.genesis().validator_count();
  if (validators > 1) {
    const size_t quorum = ledger.genesis().quorum();
    const uint32_t peers = options_.connected_peers ? options_.connected_peers() : 0;
    checks["peers"] = cdl::StrCat(peers, " of ", validators - 1, " other validators connected; a quorum is ", quorum,
                                  " of ", validators);
    if (peers + 1 < quorum) {
      reasons.push_back(cdl::StrCat("connected to ", peers, " other validator(s): a quorum needs ", quorum - 1));
    }
    cdl::net::BftStats bft = node_->bft_stats();
    checks["consensus"] = cdl::StrCat("round ", bft.current_round, ", last committed round ", bft.committed_round);
    if (bft.current_round > bft.committed_round + options_.max_round_lag) {
      reasons.push_back(cdl::StrCat("catching up: consensus is at round ", bft.current_round,
                                    ", the last block committed here is from round ", bft.committed_round));
    }
  }
  if (reasons.empty()) {
    return Json(200, json{{"ready", true}, {"height", head.height()}, {"checks", checks}});
  }
  std::string message;
  for (const auto& r : reasons) message += (message.empty() ? "" : "; ") + r;
  return Json(503, json{{"ready", false},
                        {"error", {{"code", "UNAVAILABLE"}, {"message", message}}},
                        {"reasons", reasons},
                        {"checks", checks}});
}

HttpResponse Gateway::Metrics() {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = node_->metrics().RenderText() + metrics_.RenderText();
  return r;
}

}  // namespace cdl::http
