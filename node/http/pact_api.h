// The PACT v2 Data Exchange API ("Technical Specifications for PCF Data
// Exchange" v2.x, WBCSD) over the ledger's product footprints. Served only on
// the HTTPS port; the gateway answers these paths on the plain port with
// 403 AccessDenied and nothing else (no token, no data, no redirect).
//
//   POST /auth/token           OAuth 2 client credentials: HTTP Basic
//                              (client_id:client_secret) or form fields
//                              client_id/client_secret, and
//                              grant_type=client_credentials. 200
//                              {"access_token", "token_type": "Bearer",
//                              "expires_in"}. Errors are OAuth 2 bodies
//                              (RFC 6749 5.2): 400 invalid_request /
//                              unsupported_grant_type, 401 invalid_client.
//   GET  /2/footprints         ?limit=N (1..1000, default 100) — the
//                              footprints the client may see, oldest first, as
//                              {"data": [ProductFootprint...]}; when more
//                              remain, `Link: <https://HOST/2/footprints?
//                              limit=N&cursor=C>; rel="next"` (absolute URL,
//                              same host; cursor opaque). $filter: 400
//                              NotImplemented (the spec makes it optional).
//   GET  /2/footprints/{id}    {"data": ProductFootprint}; 404 NoSuchFootprint.
//   POST /2/events             CloudEvents 1.0 structured JSON of the four
//                              PACT types (ProductFootprintRequest
//                              Created/Fulfilled/Rejected, ProductFootprint
//                              Published): 200 with an empty body when
//                              accepted, 400 BadRequest when malformed, 400
//                              NotImplemented for other event types. Nothing
//                              is written to the ledger. A RequestCreated
//                              event from a client with a registered
//                              events_url is answered asynchronously with
//                              RequestFulfilled or RequestRejected sent to
//                              that URL only (pact_events.h); without one,
//                              no callback is made.
//
// API errors have the spec's body {"code": "...", "message": "..."}: 400
// BadRequest (malformed request, missing or unknown access token — as the
// PACT conformance tests expect), 401 TokenExpired, 403 AccessDenied
// (footprint outside the client's scope), 404 NoSuchFootprint, 400
// NotImplemented, 405 BadRequest for a wrong method, 500 InternalError.
//
// Footprints are the stored PACT JSON objects (key order, strings and
// extensions kept), with one DataModelExtension appended to `extensions`
// that links the ledger: the record id, height, its record and proof URLs
// under /api/v1 and the certificates issued for it (kPactExtensionSchemaPath
// serves the extension's JSON schema).
//
// Clients come from a JSON file (ParsePactClients documents it). Secrets are
// held in memory only as salted SHA-256 and compared in constant time;
// access tokens are 256-bit random strings, held only as SHA-256, valid for
// PactOptions::token_lifetime.
//
// Thread-safety: Handle may be called from many threads at once. The ledger
// must outlive the PactApi.
#ifndef CDL_NODE_HTTP_PACT_API_H_
#define CDL_NODE_HTTP_PACT_API_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "node/http/gateway.h"
#include "node/http/pact_events.h"
#include "node/ledger/ledger.h"

namespace cdl::http {

// Path of the JSON schema of the ledger extension (served on both ports).
inline constexpr std::string_view kPactExtensionSchemaPath =
    "/api/v1/pact/ledger-extension.schema.json";
inline constexpr size_t kMaxPactClients = 1000;

// One configured PACT client.
struct PactClient {
  std::string client_id;
  std::string member; // the ledger member the client acts for
  // When set, only footprints authored by (or about) this member are served;
  // empty: every footprint on the ledger (the ledger is public: /api/v1
  // serves the same records without authentication).
  std::string owner;
  std::string secret_salt;   // any text
  std::string secret_sha256; // hex SHA-256 of "<secret_salt>:<client_secret>"
  // Where answers to this client's footprint requests go; events_url empty:
  // nowhere (requests are accepted and logged, not answered).
  EventsTarget events;
};

// Parses a pact-clients.json file:
//   {"clients": [
//     {"client_id": "...", "member": "ent-1", "owner": "ent-1",
//      "secret_salt": "s1", "secret_sha256": "<hex of sha256("s1:<secret>")>"},
//     {"client_id": "...", "member": "dev-regulator", "client_secret": "..."}]}
// Each client has client_id (1..128 printable ASCII, unique) and member, and
// either client_secret (plain; keep the file 0600) or secret_salt +
// secret_sha256 (`printf '%s:%s' "$SALT" "$SECRET" | sha256sum`). `owner` is
// optional. Optional callback registration (pact_events.h): events_url (the
// client's own /2/events: https, or http to a loopback host), with
// events_client_id and events_client_secret (credentials the client issued
// to this host for its /auth/token), events_token_url (default: events_url
// with its trailing /2/events replaced by /auth/token) and events_ca_file
// (PEM CAs for the client's https; default the system's). Unknown keys are
// refused. InvalidArgument naming the problem.
absl::StatusOr<std::vector<PactClient>>
ParsePactClients(std::string_view json_text);
// Reads and parses `path` (at most 1 MiB).
absl::StatusOr<std::vector<PactClient>>
LoadPactClients(const std::string &path);

// --dev: if `path` does not exist, writes it (mode 0600) with one client for
// `member` with a random client_id and client_secret (plain, so the
// developer can read it). Returns whether a file was written.
absl::StatusOr<bool> EnsureDevPactClients(const std::string &path,
                                          const std::string &member);

struct PactOptions {
  std::vector<PactClient> clients;
  absl::Duration token_lifetime = absl::Hours(1);
  // Most live tokens; issuing one more first drops expired ones, then the
  // one expiring first.
  size_t max_tokens = 10000;
  // Base of absolute URLs when the request's Host header is missing or odd.
  std::string fallback_base_url = "https://127.0.0.1:7443";
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Asynchronous answers (only when some client has an events_url): the
  // outbound client (null: NewOutboundHttp()) and the worker's bounds. The
  // answers' CloudEvent source is derived from fallback_base_url.
  std::shared_ptr<OutboundHttp> events_http;
  PactEventsOptions events;
  // Most footprints one request's product ids are matched against (a scan
  // of the ledger's footprints, newest versions only, oldest first).
  size_t max_footprints_scanned = 10000;
  // Most footprints one RequestFulfilled answer carries.
  size_t max_footprints_answered = 100;
};

class PactApi {
public:
  // Reads footprints and certificates through `ledger` (not owned).
  PactApi(const cdl::ledger::Ledger *ledger, PactOptions options);
  ~PactApi();

  // Answers a request whose path IsPactPath. Never throws.
  HttpResponse Handle(const HttpRequest &request);

  // /auth/token, /auth/token/..., /2 and /2/... (the raw path).
  static bool IsPactPath(std::string_view path);
  // {"code": code, "message": message} with `status`.
  static HttpResponse Error(int status, std::string_view code,
                            std::string_view message);
  // The answer on the plain HTTP port: 403 AccessDenied.
  static HttpResponse RefusedWithoutTls();
  // The JSON schema served at kPactExtensionSchemaPath.
  static std::string ExtensionSchema();

private:
  struct Token {
    size_t client = 0;
    absl::Time expires;
  };
  HttpResponse Authenticate(const HttpRequest &request);
  // The client index of the request's bearer token, or the error response.
  absl::StatusOr<size_t> Authorize(const HttpRequest &request,
                                   HttpResponse *error);
  HttpResponse ListFootprints(const HttpRequest &request,
                              const PactClient &client);
  HttpResponse GetFootprint(const HttpRequest &request,
                            const PactClient &client, std::string_view id);
  HttpResponse Events(const HttpRequest &request, const PactClient &client);
  std::string BaseUrl(const HttpRequest &request) const;
  // PactEvents' finder: footprints whose productIds include any of
  // `product_ids`, rendered as GetFootprint serves them.
  absl::StatusOr<FootprintMatch>
  FindByProductIds(std::string_view owner,
                   const std::vector<std::string> &product_ids);
  absl::StatusOr<nlohmann::ordered_json>
  FootprintJson(const std::string &record_id, const std::string &base_url);

  const cdl::ledger::Ledger *ledger_;
  const PactOptions options_;
  absl::Mutex mu_;
  std::map<std::string, Token>
      tokens_ ABSL_GUARDED_BY(mu_); // SHA-256 of the token -> token
  // Last member: its worker (which calls FindByProductIds) stops first.
  std::unique_ptr<PactEvents> events_;
};

} // namespace cdl::http

#endif // CDL_NODE_HTTP_PACT_API_H_
