// The node's HTTP gateway, independent of any HTTP library: one request in,
// one response out. server.h binds it to a socket with cpp-httplib.
//
//   GET  /healthz                   200 while the process serves requests
//   GET  /readyz                    200 when the ledger is open, the node is
//                                   healthy and — for a validator of a
//                                   cluster — connected to a quorum and caught
//                                   up with consensus; else 503 with reasons
//   GET  /metrics                   Prometheus text format (node + gateway)
//   GET  /api/v1/status             chain, height, sizes, roots, mempool
//   GET  /api/v1/records/{id}       record (decoded body) + receipt
//   GET  /api/v1/receipts/{id}      receipt
//   GET  /api/v1/blocks?limit=N     latest N block headers (N <= 50)
//   GET  /api/v1/blocks/{height}    header, commit signers, records
//   GET  /api/v1/checkpoints/latest latest certified checkpoint
//   GET  /api/v1/checkpoints/{h}    checkpoint of block h
//   GET  /api/v1/proofs/{id}        proof bundle, the file `cdl proof` writes
//   GET  /api/v1/query?member=&type=&period=&park=&standard=
//                    &certificate_status=&as_of_ms=&page_size=&page_token=
//                                   (api.h Query; certificate_status: active,
//                                   suspended, revoked or expired)
//   POST /api/v1/passport/verify    body: passport file (<= 2 MiB);
//                                   ?jurisdiction=EU&at=RFC3339; verdict JSON
//   GET  /, /static/app.js, /static/style.css   explorer + passport verifier
//
// Record ids are 64 hex digits. Errors have the status of the gRPC code of the
// same failure (400 bad id or parameter, 404 unknown, 405 wrong method, 413
// body too large, 503 not ready) and the body
// {"error": {"code": "NOT_FOUND", "message": "..."}}. Paths with '%'
// escapes, backslashes, control characters or empty/'.'/'..' segments, and
// unknown or repeated query parameters, are refused with 400 before any
// handler runs. Nothing here writes to the ledger.
//
// The PACT API (/auth/token, /2/..., pact_api.h) is answered only for
// requests received over TLS; over plain HTTP those paths get 403 with a
// PACT AccessDenied body, whatever the method or the rest of the path.
//   GET  /api/v1/pact/ledger-extension.schema.json  schema of the ledger
//                                   extension of served footprints
//
// Thread-safety: Handle may be called from many threads at once. The node
// must outlive the gateway.
#ifndef CDL_NODE_HTTP_GATEWAY_H_
#define CDL_NODE_HTTP_GATEWAY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/net/metrics.h"
#include "node/net/node.h"

namespace cdl::http {

// Largest request body accepted (a passport file is at most this).
inline constexpr size_t kMaxBodyBytes = 2 * 1024 * 1024;
// Longest request path accepted (414 beyond).
inline constexpr size_t kMaxPathBytes = 1024;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // raw path as received, without the query
  std::vector<std::pair<std::string, std::string>> params;  // decoded query parameters, in order
  std::string content_type;                                 // of the body; "" when absent
  std::string body;
  std::string authorization;  // the Authorization header; "" when absent
  std::string host;           // the Host header; "" when absent
  bool secure = false;        // received over TLS (the HTTPS port)
};

// application/x-www-form-urlencoded text ("a=1&b=x+y") -> decoded pairs in
// order; '+' is a space, %XX a byte, a malformed escape is kept as it is.
std::vector<std::pair<std::string, std::string>> ParseFormEncoded(std::string_view text);

class PactApi;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct GatewayOptions {
  // Validators this node is connected to (outbound peer streams up). Unset on
  // a single-validator chain.
  std::function<uint32_t()> connected_peers;
  // Not ready while the consensus round is this far ahead of the round of the
  // last block committed here (catching up after a restart or partition).
  uint64_t max_round_lag = 10;
  // Exported as process_start_time_seconds.
  absl::Time process_start = absl::Now();
  // Serves /auth/token and /2/... on requests that came over TLS (not
  // owned; must outlive the gateway). Unset: those paths answer 403.
  PactApi* pact = nullptr;
};

class Gateway {
 public:
  Gateway(cdl::net::Node* node, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Answers one request. Never throws; an unexpected failure is a 500.
  HttpResponse Handle(const HttpRequest& request);

  // The JSON error response for `status`, for errors the HTTP library
  // answers itself (413 body too large, 414 URI too long, 400 malformed).
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
  static HttpResponse ErrorFor(int status);
  static HttpResponse FromStatus(const absl::Status& status);

  // Counts one answered request by status code (cdl_http_requests_total).
  void CountResponse(int status);

  struct Route;

 private:
  HttpResponse Dispatch(const HttpRequest& request);
  HttpResponse Healthz();
  HttpResponse Readyz();
  HttpResponse Metrics();

  cdl::net::Node* node_;
  const GatewayOptions options_;
  cdl::net::MetricRegistry metrics_;  // the gateway's own families
  cdl::net::CounterFamily* requests_ = nullptr;
  std::vector<Route> routes_;  // the /api/v1 endpoints
};

// Maps an absl status code to the HTTP status the gRPC-HTTP mapping uses
// (InvalidArgument/FailedPrecondition/OutOfRange 400, NotFound 404,
// AlreadyExists/Aborted 409, PermissionDenied 403, Unauthenticated 401,
// ResourceExhausted 429, Unimplemented 501, Unavailable 503,
// DeadlineExceeded 504, others 500).
int HttpStatusOf(absl::StatusCode code);
// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string CodeName(absl::StatusCode code);

}  // namespace cdl::http

#endif  // CDL_NODE_HTTP_GATEWAY_H_
