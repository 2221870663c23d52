#include "node/http/pact_api.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/numbers.h"
#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "node/verify/authority.h"
#include "node/verify/passport.h"
#include "node/verify/record.h"
#include "spdlog/spdlog.h"
#include "state.pb.h"

namespace cdl::http {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr uint64_t kDefaultLimit = 100;
constexpr uint64_t kMaxLimit = 1000;
constexpr size_t kMaxClientsFileBytes = 1024 * 1024;
constexpr size_t kMaxIdBytes = 128;
constexpr char kExtensionSpecVersion[] = "2.0.0";

constexpr std::string_view kEventTypes[] = {
    "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
    "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
    "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
    "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
};

std::string Dump(const json &j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string Dump(const ordered_json &j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// RFC 6749 5.2 error of the token endpoint.
HttpResponse OAuthError(int status, std::string_view error,
                        std::string_view description) {
  HttpResponse r = JsonResponse(
      status, Dump(json{{"error", error}, {"error_description", description}}));
  if (status == 401)
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"cdl-pact\"");
  return r;
}

// Text from a request shown back in a message: printable ASCII, at most 64
// bytes.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 64)
    out += "...";
  return out;
}

bool IsPrintableId(std::string_view text) {
  return !text.empty() && text.size() <= kMaxIdBytes &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return c > 0x20 && c < 0x7f; });
}

// No randomness means no credentials: callers refuse rather than issue weak
// ones.
absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char *>(raw.data()),
                 static_cast<int>(raw.size())) != 1) {
    return absl::InternalError("the system random generator failed");
  }
  return cdl::crypto::HexEncode(raw);
}

std::string SecretHash(std::string_view salt, std::string_view secret) {
  return cdl::crypto::HexEncode(
      cdl::crypto::Sha256(cdl::StrCat(salt, ":", secret)));
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char &c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type of a Content-Type value, lowercase, without parameters.
std::string MediaType(std::string_view content_type) {
  std::string type;
  for (char c : Lower(content_type.substr(0, content_type.find(';')))) {
    if (c != ' ' && c != '\t')
      type += c;
  }
  return type;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// "Scheme credentials" of an Authorization header when the scheme matches
// (case-insensitively); nullopt otherwise.
std::optional<std::string_view> AuthCredentials(std::string_view header,
                                                std::string_view scheme) {
  header = Trim(header);
  if (header.size() <= scheme.size() ||
      Lower(header.substr(0, scheme.size())) != Lower(scheme) ||
      header[scheme.size()] != ' ') {
    return std::nullopt;
  }
  return Trim(header.substr(scheme.size() + 1));
}

// Checks the CloudEvent envelope and the data of the four PACT event types.
absl::Status CheckEvent(const json &event) {
  if (!event.is_object())
    return absl::InvalidArgumentError("the event must be a JSON object");
  auto str = [&](const json &obj, const char *key) -> const std::string * {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() &&
                   !it->get_ref<const std::string &>().empty()
               ? &it->get_ref<const std::string &>()
               : nullptr;
  };
  const std::string *spec = str(event, "specversion");
  if (spec == nullptr || *spec != "1.0")
    return absl::InvalidArgumentError("specversion must be \"1.0\"");
  if (str(event, "id") == nullptr)
    return absl::InvalidArgumentError("id must be a non-empty string");
  if (str(event, "source") == nullptr)
    return absl::InvalidArgumentError("source must be a non-empty string");
  const std::string *type = str(event, "type");
  if (type == nullptr)
    return absl::InvalidArgumentError("type must be a non-empty string");
  if (std::find(std::begin(kEventTypes), std::end(kEventTypes), *type) ==
      std::end(kEventTypes)) {
    return absl::UnimplementedError(
        cdl::StrCat("event type \"", Shown(*type), "\" is not supported"));
  }
  if (auto t = event.find("time"); t != event.end() && !t->is_string()) {
    return absl::InvalidArgumentError("time must be a string");
  }
  auto data = event.find("data");
  if (data == event.end() || !data->is_object())
    return absl::InvalidArgumentError("data must be an object");
  const std::string_view kind = *type;
  if (kind.find(".Created.") != std::string_view::npos) {
    auto pf = data->find("pf");
    if (pf == data->end() || !pf->is_object() || pf->empty()) {
      return absl::InvalidArgumentError("data.pf must be a non-empty object");
    }
    if (auto c = data->find("comment"); c != data->end() && !c->is_string()) {
      return absl::InvalidArgumentError("data.comment must be a string");
    }
  } else if (kind.find(".Fulfilled.") != std::string_view::npos) {
    if (str(*data, "requestEventId") == nullptr)
      return absl::InvalidArgumentError("data.requestEventId is missing");
    auto pfs = data->find("pfs");
    if (pfs == data->end() || !pfs->is_array() || pfs->empty() ||
        !std::all_of(pfs->begin(), pfs->end(),
                     [](const json &p) { return p.is_object(); })) {
      return absl::InvalidArgumentError(
          "data.pfs must be a non-empty array of ProductFootprint objects");
    }
  } else if (kind.find(".Rejected.") != std::string_view::npos) {
    if (str(*data, "requestEventId") == nullptr)
      return absl::InvalidArgumentError("data.requestEventId is missing");
    auto error = data->find("error");
    if (error == data->end() || !error->is_object() ||
        str(*error, "code") == nullptr || str(*error, "message") == nullptr) {
      return absl::InvalidArgumentError(
          "data.error must be an object with code and message");
    }
  } else { // Published
    auto ids = data->find("pfIds");
    if (ids == data->end() || !ids->is_array() || ids->empty() ||
        !std::all_of(ids->begin(), ids->end(),
                     [](const json &id) { return id.is_string(); })) {
      return absl::InvalidArgumentError(
          "data.pfIds must be a non-empty array of strings");
    }
  }
  return absl::OkStatus();
}

// The optional callback registration of one client.
absl::Status ParseEventsTarget(std::map<std::string, std::string> &f,
                               const std::string &where, EventsTarget *out) {
  const bool any = f.count("events_url") || f.count("events_token_url") ||
                   f.count("events_client_id") ||
                   f.count("events_client_secret") || f.count("events_ca_file");
  if (!any)
    return absl::OkStatus();
  if (f["events_url"].empty() || f["events_client_id"].empty() ||
      f["events_client_secret"].empty()) {
    return absl::InvalidArgumentError(cdl::StrCat(
        where, ": events_url needs events_client_id and events_client_secret "
               "(credentials for the client's /auth/token)"));
  }
  auto url = ParseCallbackUrl(f["events_url"], cdl::StrCat(where, ".events_url"));
  if (!url.ok())
    return url.status();
  out->events_url = f["events_url"];
  out->token_url = f["events_token_url"];
  if (out->token_url.empty()) {
    constexpr std::string_view kSuffix = "/2/events";
    std::string_view base = out->events_url;
    while (base.ends_with('/'))
      base.remove_suffix(1);
    if (!base.ends_with(kSuffix)) {
      return absl::InvalidArgumentError(cdl::StrCat(
          where, ": events_url does not end in /2/events; give "
                 "events_token_url"));
    }
    base.remove_suffix(kSuffix.size());
    out->token_url = cdl::StrCat(base, "/auth/token");
  }
  auto token_url = ParseCallbackUrl(out->token_url,
                                    cdl::StrCat(where, ".events_token_url"));
  if (!token_url.ok())
    return token_url.status();
  out->client_id = f["events_client_id"];
  out->client_secret = f["events_client_secret"];
  out->ca_file = f["events_ca_file"];
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<std::vector<PactClient>>
ParsePactClients(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return absl::InvalidArgumentError("not a JSON object");
  for (const auto &[key, value] : doc.items()) {
    if (key != "clients")
      return absl::InvalidArgumentError(
          cdl::StrCat("unknown key \"", Shown(key), "\""));
  }
  auto list = doc.find("clients");
  if (list == doc.end() || !list->is_array())
    return absl::InvalidArgumentError("\"clients\" must be an array");
  if (list->size() > kMaxPactClients) {
    return absl::InvalidArgumentError(
        cdl::StrCat("more than ", kMaxPactClients, " clients"));
  }
  std::vector<PactClient> out;
  std::set<std::string> ids;
  for (size_t i = 0; i < list->size(); ++i) {
    const json &c = (*list)[i];
    const std::string where = cdl::StrCat("clients[", i, "]");
    if (!c.is_object())
      return absl::InvalidArgumentError(cdl::StrCat(where, ": not an object"));
    std::map<std::string, std::string> f;
    for (const auto &[key, value] : c.items()) {
      static const std::set<std::string> kKeys = {
          "client_id",        "member",
          "owner",            "client_secret",
          "secret_salt",      "secret_sha256",
          "events_url",       "events_token_url",
          "events_client_id", "events_client_secret",
          "events_ca_file"};
      if (!kKeys.count(key))
        return absl::InvalidArgumentError(
            cdl::StrCat(where, ": unknown key \"", Shown(key), "\""));
      if (!value.is_string())
        return absl::InvalidArgumentError(
            cdl::StrCat(where, ".", key, " must be a string"));
      f[key] = value.get<std::string>();
    }
    PactClient client;
    client.client_id = f["client_id"];
    client.member = f["member"];
    client.owner = f["owner"];
    if (!IsPrintableId(client.client_id)) {
      return absl::InvalidArgumentError(cdl::StrCat(
          where, ".client_id must be 1..128 printable ASCII characters"));
    }
    if (client.client_id.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(
          cdl::StrCat(where, ".client_id must not contain ':' (HTTP Basic)"));
    }
    if (!ids.insert(client.client_id).second) {
      return absl::InvalidArgumentError(cdl::StrCat(
          where, ".client_id \"", Shown(client.client_id), "\" is repeated"));
    }
    if (client.member.empty())
      return absl::InvalidArgumentError(
          cdl::StrCat(where, ".member is required"));
    const bool plain = c.contains("client_secret");
    const bool hashed =
        c.contains("secret_sha256") || c.contains("secret_salt");
    if (plain == hashed) {
      return absl::InvalidArgumentError(cdl::StrCat(
          where,
          ": give either client_secret or secret_salt and secret_sha256"));
    }
    if (plain) {
      if (f["client_secret"].size() < 16) {
        return absl::InvalidArgumentError(cdl::StrCat(
            where, ".client_secret must be at least 16 characters"));
      }
      auto salt = RandomHex(16);
      if (!salt.ok())
        return salt.status();
      client.secret_salt = *salt;
      client.secret_sha256 = SecretHash(client.secret_salt, f["client_secret"]);
    } else {
      auto raw = cdl::crypto::HexDecode(f["secret_sha256"]);
      if (f["secret_salt"].empty() || !raw.ok() ||
          raw->size() != cdl::crypto::kHashSize) {
        return absl::InvalidArgumentError(cdl::StrCat(
            where,
            ": secret_salt must be non-empty and secret_sha256 64 hex digits"));
      }
      client.secret_salt = f["secret_salt"];
      client.secret_sha256 = cdl::crypto::HexEncode(*raw); // lowercase
    }
    if (auto s = ParseEventsTarget(f, where, &client.events); !s.ok())
      return s;
    out.push_back(std::move(client));
  }
  return out;
}

absl::StatusOr<std::vector<PactClient>>
LoadPactClients(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(cdl::StrCat("cannot open ", path));
  std::string text(kMaxClientsFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxClientsFileBytes)
    return absl::InvalidArgumentError(cdl::StrCat(path, ": larger than 1 MiB"));
  auto clients = ParsePactClients(text);
  if (!clients.ok())
    return absl::InvalidArgumentError(
        cdl::StrCat(path, ": ", clients.status().message()));
  return clients;
}

absl::StatusOr<bool> EnsureDevPactClients(const std::string &path,
                                          const std::string &member) {
  if (std::filesystem::exists(path))
    return false;
  auto id = RandomHex(8);
  auto secret = RandomHex(24);
  if (!id.ok())
    return id.status();
  if (!secret.ok())
    return secret.status();
  json doc = {
      {"clients", json::array({json{{"client_id", cdl::StrCat("dev-", *id)},
                                    {"member", member},
                                    {"client_secret", *secret}}})}};
  const std::string text = doc.dump(2) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::InternalError(cdl::StrCat("cannot create ", path));
  const bool ok = ::write(fd, text.data(), text.size()) ==
                  static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok)
    return absl::InternalError(cdl::StrCat("cannot write ", path));
  return true;
}

PactApi::PactApi(const cdl::ledger::Ledger *ledger, PactOptions options)
    : ledger_(ledger), options_(std::move(options)) {
  const bool callbacks =
      std::any_of(options_.clients.begin(), options_.clients.end(),
                  [](const PactClient &c) { return !c.events.events_url.empty(); });
  if (!callbacks)
    return;
  PactEventsOptions events = options_.events;
  std::string_view host = options_.fallback_base_url;
  if (size_t scheme = host.find("://"); scheme != std::string_view::npos)
    host.remove_prefix(scheme + 3);
  events.source = cdl::StrCat("//", host, "/2/events");
  std::shared_ptr<OutboundHttp> http = options_.events_http;
  if (!http)
    http = NewOutboundHttp();
  events_ = std::make_unique<PactEvents>(
      [this](std::string_view owner, const std::vector<std::string> &ids) {
        return FindByProductIds(owner, ids);
      },
      std::move(http), std::move(events));
}

PactApi::~PactApi() {
  if (events_)
    events_->Stop();
}

absl::StatusOr<FootprintMatch>
PactApi::FindByProductIds(std::string_view owner,
                          const std::vector<std::string> &product_ids) {
  const std::set<std::string> wanted(product_ids.begin(), product_ids.end());
  FootprintMatch match;
  cdl::ledger::QueryFilter filter;
  filter.record_type = "product_footprint";
  filter.page_size = 500;
  size_t scanned = 0;
  // Each page reads at most a bounded number of index entries, so the number
  // of pages is bounded too.
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = ledger_->Query(filter);
    if (!page.ok())
      return page.status();
    for (const auto &entry : page->entries) {
      if (++scanned > options_.max_footprints_scanned) {
        spdlog::warn("pact events: product id match stopped after {} "
                     "footprints (max_footprints_scanned)",
                     options_.max_footprints_scanned);
        return match;
      }
      if (entry.state.status() == cdl::v1::ENTRY_SUPERSEDED)
        continue; // the spec answers with the latest version
      auto bytes = ledger_->GetRecord(entry.record_id);
      if (!bytes.ok())
        return bytes.status();
      auto record = cdl::verify::ParseSignedRecord(*bytes);
      if (!record.ok() || !record->body.has_product_footprint())
        continue;
      json pf = json::parse(record->body.product_footprint().pact_json(),
                            nullptr, /*allow_exceptions=*/false);
      auto ids = pf.is_object() ? pf.find("productIds") : pf.end();
      if (!pf.is_object() || ids == pf.end() || !ids->is_array())
        continue;
      const bool hit = std::any_of(ids->begin(), ids->end(), [&](const json &id) {
        return id.is_string() && wanted.count(id.get<std::string>());
      });
      if (!hit)
        continue;
      if (!owner.empty() && entry.state.author() != owner &&
          entry.state.subject_member() != owner) {
        match.denied = true;
        continue;
      }
      auto rendered = FootprintJson(entry.record_id, options_.fallback_base_url);
      if (!rendered.ok())
        return rendered.status();
      match.footprints.push_back(Dump(*rendered));
      if (match.footprints.size() >= options_.max_footprints_answered)
        return match;
    }
    if (page->next_page_token.empty())
      break;
    filter.page_token = page->next_page_token;
  }
  return match;
}

bool PactApi::IsPactPath(std::string_view path) {
  return path == "/2" || path.starts_with("/2/") || path == "/auth/token" ||
         path.starts_with("/auth/token/");
}

HttpResponse PactApi::Error(int status, std::string_view code,
                            std::string_view message) {
  return JsonResponse(status, Dump(json{{"code", code}, {"message", message}}));
}

HttpResponse PactApi::RefusedWithoutTls() {
  return Error(403, "AccessDenied",
               "the PACT API is served over HTTPS only (cdl-node --https); use "
               "the https:// port");
}

std::string PactApi::ExtensionSchema() {
  json url = {{"type", "string"}, {"format", "uri"}};
  json hex = {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}};
  json schema = {
      {"$schema", "https://json-schema.org/draft/2020-12/schema"},
      {"title", "cdl ledger links of a ProductFootprint"},
      {"type", "object"},
      {"required",
       {"chainId", "recordId", "height", "record", "proof", "certificates"}},
      {"properties",
       {{"chainId", {{"type", "string"}}},
        {"recordId", hex},
        {"height", {{"type", "integer"}}},
        {"ledgerIndex", {{"type", "integer"}}},
        {"status", {{"type", "string"}}},
        {"supersededBy", hex},
        {"record", url},
        {"proof", url},
        {"certificates",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"recordId", hex},
              {"certifier", {{"type", "string"}}},
              {"standard", {{"type", "string"}}},
              {"assurance", {{"type", "string"}}},
              {"jurisdiction", {{"type", "string"}}},
              {"validUntil", {{"type", "string"}}},
              {"status", {{"type", "string"}}},
              {"record", url},
              {"proof", url}}}}}}}}}};
  return Dump(schema) + "\n";
}

std::string PactApi::BaseUrl(const HttpRequest &request) const {
  // The Host header becomes part of the Link URL: accept only host[:port].
  const std::string &host = request.host;
  const bool plausible = !host.empty() && host.size() <= 255 &&
                         std::all_of(host.begin(), host.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) ||
                                  c == '.' || c == '-' || c == ':' ||
                                  c == '[' || c == ']';
                         });
  return plausible ? cdl::StrCat("https://", host) : options_.fallback_base_url;
}

HttpResponse PactApi::Handle(const HttpRequest &request) {
  try {
    if (request.path == "/auth/token") {
      if (request.method != "POST") {
        HttpResponse r = OAuthError(405, "invalid_request", "use POST");
        r.headers.emplace_back("Allow", "POST");
        return r;
      }
      return Authenticate(request);
    }
    HttpResponse error;
    absl::StatusOr<size_t> client = Authorize(request, &error);
    if (!client.ok())
      return error;
    const PactClient &c = options_.clients[*client];
    const bool read = request.method == "GET" || request.method == "HEAD";
    if (request.path == "/2/footprints" || request.path == "/2/footprints/") {
      if (!read)
        return Error(405, "BadRequest", "use GET on /2/footprints");
      return ListFootprints(request, c);
    }
    constexpr std::string_view kPrefix = "/2/footprints/";
    if (request.path.starts_with(kPrefix)) {
      std::string_view id =
          std::string_view(request.path).substr(kPrefix.size());
      if (id.find('/') != std::string_view::npos)
        return Error(400, "BadRequest", "no such action");
      if (!read)
        return Error(405, "BadRequest", "use GET on /2/footprints/{id}");
      if (!request.params.empty())
        return Error(400, "BadRequest",
                     "GetFootprint takes no query parameters");
      return GetFootprint(request, c, id);
    }
    if (request.path == "/2/events") {
      if (request.method != "POST")
        return Error(405, "BadRequest", "use POST on /2/events");
      return Events(request, c);
    }
    return Error(400, "BadRequest",
                 "no such action (the PACT API has /2/footprints, "
                 "/2/footprints/{id}, /2/events)");
  } catch (const std::exception &e) {
    spdlog::error("pact: {} {}: {}", request.method,
                  request.path.substr(0, 200), e.what());
    return Error(500, "InternalError", "internal error; see the node's log");
  }
}

HttpResponse PactApi::Authenticate(const HttpRequest &request) {
  std::vector<std::pair<std::string, std::string>> form;
  const std::string type = MediaType(request.content_type);
  if (!request.body.empty()) {
    if (type != "application/x-www-form-urlencoded") {
      return OAuthError(400, "invalid_request",
                        "the body must be application/x-www-form-urlencoded");
    }
    form = ParseFormEncoded(request.body);
  }
  std::map<std::string, std::string> fields;
  for (const auto &[key, value] : form) {
    if (!fields.emplace(key, value).second) {
      return OAuthError(
          400, "invalid_request",
          cdl::StrCat("parameter \"", Shown(key), "\" is repeated"));
    }
  }
  // Query parameters carry nothing here: credentials in a URL end up in logs.
  if (!request.params.empty())
    return OAuthError(400, "invalid_request",
                      "send the parameters in the body, not the URL");
  auto grant = fields.find("grant_type");
  if (grant == fields.end())
    return OAuthError(400, "invalid_request", "grant_type is missing");
  if (grant->second != "client_credentials") {
    return OAuthError(400, "unsupported_grant_type",
                      "only grant_type=client_credentials is supported");
  }
  std::string id, secret;
  bool via_header = false;
  if (auto basic = AuthCredentials(request.authorization, "Basic")) {
    via_header = true;
    auto decoded = cdl::crypto::Base64Decode(*basic);
    size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return OAuthError(401, "invalid_client", "malformed Basic credentials");
    // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
    auto parts = ParseFormEncoded(cdl::StrCat(
        "i=", decoded->substr(0, colon), "&s=", decoded->substr(colon + 1)));
    id = parts.size() == 2 ? parts[0].second : "";
    secret = parts.size() == 2 ? parts[1].second : "";
    if (fields.count("client_secret")) {
      return OAuthError(400, "invalid_request",
                        "use one client authentication method, not two");
    }
  } else if (!request.authorization.empty()) {
    return OAuthError(401, "invalid_client",
                      "unsupported authentication scheme; use Basic");
  } else {
    id = fields.count("client_id") ? fields["client_id"] : "";
    secret = fields.count("client_secret") ? fields["client_secret"] : "";
    if (id.empty() || secret.empty())
      return OAuthError(401, "invalid_client", "no client credentials");
  }
  // Every path below hashes once and compares once, known client or not.
  std::optional<size_t> found;
  for (size_t i = 0; i < options_.clients.size(); ++i) {
    if (options_.clients[i].client_id == id)
      found = i;
  }
  static const std::string kDummySalt = "no-such-client";
  const PactClient *client = found ? &options_.clients[*found] : nullptr;
  const std::string hash =
      SecretHash(client ? client->secret_salt : kDummySalt, secret);
  const bool match = ConstantTimeEqual(hash, client ? client->secret_sha256
                                                    : std::string(64, '0'));
  if (!client || !match) {
    spdlog::info("pact: client authentication failed for \"{}\"", Shown(id));
    return OAuthError(via_header ? 401 : 400, "invalid_client",
                      "client authentication failed");
  }

  absl::StatusOr<std::string> random = RandomHex(32);
  if (!random.ok()) {
    spdlog::error("pact: {}", random.status().ToString());
    return Error(500, "InternalError", "internal error; see the node's log");
  }
  const std::string token = *std::move(random);
  const absl::Time now = options_.now();
  {
    absl::MutexLock lock(&mu_);
    if (tokens_.size() >= options_.max_tokens) {
      for (auto it = tokens_.begin(); it != tokens_.end();)
        it = it->second.expires <= now ? tokens_.erase(it) : std::next(it);
    }
    if (tokens_.size() >= options_.max_tokens) {
      auto oldest = std::min_element(
          tokens_.begin(), tokens_.end(), [](const auto &a, const auto &b) {
            return a.second.expires < b.second.expires;
          });
      tokens_.erase(oldest);
    }
    tokens_[cdl::crypto::Sha256(token)] =
        Token{*found, now + options_.token_lifetime};
  }
  HttpResponse r = JsonResponse(
      200, Dump(json{
               {"access_token", token},
               {"token_type", "Bearer"},
               {"expires_in", absl::ToInt64Seconds(options_.token_lifetime)}}));
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

absl::StatusOr<size_t> PactApi::Authorize(const HttpRequest &request,
                                          HttpResponse *error) {
  auto bearer = AuthCredentials(request.authorization, "Bearer");
  if (!bearer || bearer->empty()) {
    *error = Error(400, "BadRequest",
                   "no access token: send Authorization: Bearer <token> from "
                   "POST /auth/token");
    return absl::UnauthenticatedError("no token");
  }
  const std::string key = cdl::crypto::Sha256(*bearer);
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(key);
  if (it == tokens_.end()) {
    *error = Error(400, "BadRequest", "invalid access token");
    return absl::UnauthenticatedError("unknown token");
  }
  if (it->second.expires <= options_.now()) {
    tokens_.erase(it);
    *error = Error(
        401, "TokenExpired",
        "the access token has expired; get a new one from POST /auth/token");
    return absl::UnauthenticatedError("expired");
  }
  return it->second.client;
}

absl::StatusOr<ordered_json>
PactApi::FootprintJson(const std::string &record_id,
                       const std::string &base_url) {
  auto bytes = ledger_->GetRecord(record_id);
  if (!bytes.ok())
    return bytes.status();
  auto record = cdl::verify::ParseSignedRecord(*bytes);
  if (!record.ok() || !record->body.has_product_footprint()) {
    return absl::DataLossError("stored footprint record does not parse");
  }
  ordered_json pf = ordered_json::parse(
      record->body.product_footprint().pact_json(), nullptr, false);
  if (pf.is_discarded() || !pf.is_object())
    return absl::DataLossError("stored PACT JSON does not parse");

  const std::string hex = cdl::crypto::HexEncode(record_id);
  ordered_json links;
  links["chainId"] = ledger_->chain_id();
  links["recordId"] = hex;
  if (auto state = ledger_->GetRecordState(record_id); state.ok()) {
    links["height"] = state->height();
    links["ledgerIndex"] = state->ledger_index();
    links["status"] = cdl::verify::EntryStatusName(state->status());
    if (!state->superseded_by().empty())
      links["supersededBy"] = cdl::crypto::HexEncode(state->superseded_by());
  } else {
    return state.status();
  }
  links["record"] = cdl::StrCat(base_url, "/api/v1/records/", hex);
  links["proof"] = cdl::StrCat(base_url, "/api/v1/proofs/", hex);
  ordered_json certificates = ordered_json::array();
  auto certs = ledger_->CertificatesOf(record_id);
  if (!certs.ok())
    return certs.status();
  for (const std::string &cert_id : *certs) {
    auto cert_bytes = ledger_->GetRecord(cert_id);
    auto cert_state = ledger_->GetRecordState(cert_id);
    if (!cert_bytes.ok() || !cert_state.ok())
      continue; // only accepted certificates are indexed
    auto cert = cdl::verify::ParseSignedRecord(*cert_bytes);
    if (!cert.ok() || !cert->body.has_certificate())
      continue;
    const auto &c = cert->body.certificate();
    const std::string cert_hex = cdl::crypto::HexEncode(cert_id);
    const int64_t valid_until = cert_state->valid_until_ms() != 0
                                    ? cert_state->valid_until_ms()
                                    : c.valid_until_ms();
    certificates.push_back(
        {{"recordId", cert_hex},
         {"certifier", cert->body.author()},
         {"standard", c.standard()},
         {"assurance", cdl::verify::AssuranceName(c.assurance())},
         {"jurisdiction", c.jurisdiction()},
         {"validUntil", cdl::verify::FormatUtc(valid_until)},
         {"status", cdl::verify::EntryStatusName(cert_state->status())},
         {"record", cdl::StrCat(base_url, "/api/v1/records/", cert_hex)},
         {"proof", cdl::StrCat(base_url, "/api/v1/proofs/", cert_hex)}});
  }
  links["certificates"] = std::move(certificates);
  ordered_json extension = {
      {"specVersion", kExtensionSpecVersion},
      {"dataSchema", cdl::StrCat(base_url, kPactExtensionSchemaPath)},
      {"documentation", cdl::StrCat(base_url, "/")},
      {"data", std::move(links)}};
  if (!pf.contains("extensions") || !pf["extensions"].is_array())
    pf["extensions"] = ordered_json::array();
  pf["extensions"].push_back(std::move(extension));
  return pf;
}

HttpResponse PactApi::ListFootprints(const HttpRequest &request,
                                     const PactClient &client) {
  uint64_t limit = kDefaultLimit;
  std::string cursor;
  std::set<std::string> seen;
  for (const auto &[name, value] : request.params) {
    if (!seen.insert(name).second)
      return Error(400, "BadRequest",
                   cdl::StrCat("parameter \"", Shown(name), "\" is repeated"));
    if (name == "$filter")
      return Error(400, "NotImplemented",
                   "$filter is not implemented by this host system");
    if (name == "limit") {
      const bool digits = !value.empty() && value.size() <= 9 &&
                          std::all_of(value.begin(), value.end(), [](char c) {
                            return c >= '0' && c <= '9';
                          });
      if (!digits || !absl::SimpleAtoi(value, &limit) || limit == 0) {
        return Error(400, "BadRequest",
                     cdl::StrCat("limit \"", Shown(value),
                                 "\" is not a positive integer"));
      }
      limit = std::min(limit, kMaxLimit);
    } else if (name == "cursor") {
      cursor = value;
    } else {
      return Error(400, "BadRequest",
                   cdl::StrCat("unknown parameter \"", Shown(name),
                               "\" (ListFootprints takes limit)"));
    }
  }
  cdl::ledger::QueryFilter filter;
  filter.record_type = "product_footprint";
  filter.member = client.owner;
  filter.page_size = static_cast<uint32_t>(limit);
  filter.page_token = cursor;
  auto page = ledger_->Query(filter);
  if (!page.ok()) {
    if (absl::IsInvalidArgument(page.status()))
      return Error(400, "BadRequest", "cursor: not one this host issued");
    spdlog::error("pact: list footprints: {}", page.status().ToString());
    return Error(500, "InternalError", "internal error; see the node's log");
  }
  const std::string base = BaseUrl(request);
  std::string body = "{\"data\":[";
  bool first = true;
  for (const auto &entry : page->entries) {
    auto pf = FootprintJson(entry.record_id, base);
    if (!pf.ok()) {
      spdlog::error("pact: footprint {}: {}",
                    cdl::crypto::HexEncode(entry.record_id),
                    pf.status().ToString());
      return Error(500, "InternalError", "internal error; see the node's log");
    }
    if (!first)
      body += ",";
    first = false;
    body += Dump(*pf);
  }
  body += "]}\n";
  HttpResponse r = JsonResponse(200, std::move(body));
  if (!page->next_page_token.empty()) {
    // The cursor is hex (the ledger's index position): no escaping needed.
    r.headers.emplace_back("Link",
                           cdl::StrCat("<", base, "/2/footprints?limit=", limit,
                                       "&cursor=", page->next_page_token,
                                       ">; rel=\"next\""));
  }
  return r;
}

HttpResponse PactApi::GetFootprint(const HttpRequest &request,
                                   const PactClient &client,
                                   std::string_view id) {
  auto no_such = [&] {
    return Error(404, "NoSuchFootprint",
                 cdl::StrCat("footprint \"", Shown(id), "\" does not exist"));
  };
  if (id.empty() || id.size() > 64)
    return no_such();
  auto record_id = ledger_->FindFootprint(id);
  if (absl::IsNotFound(record_id.status()))
    return no_such();
  if (!record_id.ok()) {
    spdlog::error("pact: footprint index: {}", record_id.status().ToString());
    return Error(500, "InternalError", "internal error; see the node's log");
  }
  if (!client.owner.empty()) {
    auto state = ledger_->GetRecordState(*record_id);
    if (!state.ok())
      return no_such();
    if (state->author() != client.owner &&
        state->subject_member() != client.owner) {
      return Error(403, "AccessDenied",
                   "this footprint is not shared with this client");
    }
  }
  auto pf = FootprintJson(*record_id, BaseUrl(request));
  if (absl::IsNotFound(pf.status()))
    return no_such();
  if (!pf.ok()) {
    spdlog::error("pact: footprint {}: {}", Shown(id), pf.status().ToString());
    return Error(500, "InternalError", "internal error; see the node's log");
  }
  return JsonResponse(200, Dump(ordered_json{{"data", *std::move(pf)}}) + "\n");
}

HttpResponse PactApi::Events(const HttpRequest &request,
                             const PactClient &client) {
  const std::string type = MediaType(request.content_type);
  if (type != "application/cloudevents+json" && type != "application/json") {
    return Error(400, "BadRequest",
                 "the body must be a structured CloudEvent "
                 "(application/cloudevents+json)");
  }
  if (!request.params.empty())
    return Error(400, "BadRequest", "Events takes no query parameters");
  if (request.body.size() > 1024 * 1024)
    return Error(400, "BadRequest", "the event is larger than 1 MiB");
  json event = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded())
    return Error(400, "BadRequest", "the body is not valid JSON");
  absl::Status s = CheckEvent(event);
  if (absl::IsUnimplemented(s))
    return Error(400, "NotImplemented", std::string(s.message()));
  if (!s.ok())
    return Error(400, "BadRequest", std::string(s.message()));
  spdlog::info("pact: event {} \"{}\" from client \"{}\" (member {})",
               event["type"].get<std::string>(),
               Shown(event["id"].get<std::string>()), Shown(client.client_id),
               client.member);
  if (event["type"].get<std::string>() == kPactRequestCreated) {
    if (!events_ || client.events.events_url.empty()) {
      spdlog::info("pact: client \"{}\" registered no events_url; request "
                   "\"{}\" is not answered",
                   Shown(client.client_id),
                   Shown(event["id"].get<std::string>()));
    } else if (absl::Status queued = events_->Enqueue(
                   client.client_id, client.owner, client.events, event);
               absl::IsInvalidArgument(queued)) {
      return Error(400, "BadRequest", std::string(queued.message()));
    } else if (!queued.ok()) {
      spdlog::warn("pact: request \"{}\" not queued: {}",
                   Shown(event["id"].get<std::string>()), queued.ToString());
      return Error(500, "InternalError", std::string(queued.message()));
    }
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain";
  return r;
}

} // namespace cdl::http
