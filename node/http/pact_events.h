// Asynchronous answers to PACT v2 ProductFootprintRequest.Created events
// ("Technical Specifications for PCF Data Exchange" v2.x, Action Events,
// "Asynchronous request and retrieval of Product Footprints").
//
// When a client POSTs a RequestCreated event to /2/events, PactApi answers
// 200 at once and, if pact-clients.json registers an events endpoint for that
// client, hands the request to PactEvents. One worker thread then matches the
// request's product ids (data.pf.productIds, or data.productId of v2.3)
// against the ledger's footprints and sends to the registered endpoint
//   - ProductFootprintRequest.Fulfilled.v1 {requestEventId, pfs} when
//     footprints visible to the client match, or
//   - ProductFootprintRequest.Rejected.v1 {requestEventId, error} with
//     NoSuchFootprint (nothing matches), AccessDenied (only footprints
//     outside the client's `owner` scope match) or NotImplemented (the
//     request has no product ids: other criteria are not supported).
//
// Where answers go: only to the client's registered `events_url`, never to
// the event's `source` or any URL named in a request (the spec has the data
// owner validate `source`; a fixed registration is the strictest validation).
// How: the spec's own authentication flow — the worker obtains an access
// token from the requester's /auth/token (OAuth 2 client credentials the
// requester issued to this host, HTTP Basic) and POSTs the event with
// `Authorization: Bearer`. Tokens are cached per client until shortly before
// they expire and fetched again after a 401.
//
// Bounds: at most `queue_capacity` requests wait (Enqueue refuses more);
// every outbound call has `request_timeout` (connect, read and write); a
// failed delivery (transport error, 5xx, 408, 429, 401) is retried at most
// `max_attempts` times in all with exponential backoff from `first_retry`,
// other 4xx answers are final. The spec suggests retrying for up to 3 days;
// this host keeps no durable outbox (a restart forgets pending answers), so
// it gives up within about 100 s by default and logs it; the requester can send
// its request again. Redirects are not followed.
//
// Thread-safety: Enqueue and stats may be called from any thread. The worker
// thread owns the token cache and the outbound client. The finder is called
// on the worker thread and must be safe to call from it.
#ifndef CDL_NODE_HTTP_PACT_EVENTS_H_
#define CDL_NODE_HTTP_PACT_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace cdl::http {

inline constexpr std::string_view kPactRequestCreated =
    "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1";
inline constexpr std::string_view kPactRequestFulfilled =
    "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1";
inline constexpr std::string_view kPactRequestRejected =
    "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1";

// Most product ids one request may name, and the longest one.
inline constexpr size_t kMaxRequestedProductIds = 100;
inline constexpr size_t kMaxProductIdBytes = 256;

// One outbound POST.
struct OutboundRequest {
  std::string url;           // absolute; CheckCallbackUrl holds
  std::string authorization; // Authorization header value; "" for none
  std::string content_type;
  std::string body;
  std::string ca_file; // PEM CAs trusted for https; "" = the system's
  absl::Duration timeout = absl::Seconds(10);
};

struct OutboundResponse {
  int status = 0;
  std::string body;
};

// The HTTP client the worker uses; injected so tests need no network.
class OutboundHttp {
public:
  virtual ~OutboundHttp() = default;
  // Sends `request` once (no redirects). An error status only when no HTTP
  // answer came (connect, TLS, timeout); any HTTP status is a response.
  virtual absl::StatusOr<OutboundResponse>
  Post(const OutboundRequest &request) = 0;
};

// cpp-httplib client; https verifies the server against `ca_file` or the
// system's CAs.
std::unique_ptr<OutboundHttp> NewOutboundHttp();

struct CallbackUrl {
  std::string scheme; // "https" or "http"
  std::string host;
  int port = 0;
  std::string path; // starts with '/'
};
// Parses a registered callback URL: https://HOST[:PORT]/PATH, or http:// only
// to a loopback host (127.0.0.0/8, localhost: a local relay or a test). No
// user info, query, fragment or IPv6 literal. InvalidArgument naming `what`.
absl::StatusOr<CallbackUrl> ParseCallbackUrl(std::string_view url,
                                             std::string_view what);

// Where and how a client's answers are delivered (pact-clients.json).
struct EventsTarget {
  std::string events_url; // the requester's /2/events; "" = no callbacks
  std::string token_url;  // the requester's /auth/token
  std::string client_id;  // credentials the requester issued to this host
  std::string client_secret;
  std::string ca_file; // optional PEM CAs for the requester's https
};

// Footprints matching a request, as the client may see them.
struct FootprintMatch {
  std::vector<std::string> footprints; // ProductFootprint JSON objects
  bool denied = false;                 // matches exist, none visible
};
// (client's owner scope, product ids) -> matches.
using FootprintFinder = std::function<absl::StatusOr<FootprintMatch>(
    std::string_view owner, const std::vector<std::string> &product_ids)>;

struct PactEventsOptions {
  size_t queue_capacity = 64;
  int max_attempts = 4; // per answer, the first try included
  absl::Duration first_retry = absl::Seconds(2);
  absl::Duration request_timeout = absl::Seconds(10);
  // CloudEvent `source` of the answers: "//HOST:PORT/2/events" of this host.
  std::string source = "//127.0.0.1:7443/2/events";
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class PactEvents {
public:
  // Starts the worker thread.
  PactEvents(FootprintFinder finder, std::shared_ptr<OutboundHttp> http,
             PactEventsOptions options);
  ~PactEvents(); // Stop()
  PactEvents(const PactEvents &) = delete;
  PactEvents &operator=(const PactEvents &) = delete;

  // Queues the answer to `event` (a RequestCreated event that passed the
  // envelope checks) from client `client_id`, whose footprint scope is
  // `owner`, to `target`. InvalidArgument when the product ids are malformed
  // (not strings, more than kMaxRequestedProductIds, longer than
  // kMaxProductIdBytes), FailedPrecondition when target has no events_url
  // (nothing is sent), ResourceExhausted when the queue is full or stopped.
  absl::Status Enqueue(std::string_view client_id, std::string_view owner,
                       const EventsTarget &target, const nlohmann::json &event);

  // Ends the worker; requests still queued are dropped (and logged).
  void Stop();

  struct Stats {
    uint64_t delivered = 0; // answers the requester took with 2xx
    uint64_t failed = 0;    // answers given up on
    uint64_t dropped = 0;   // queued answers discarded by Stop
  };
  Stats stats() const;
  // Tests: waits until nothing is queued or in flight; false on timeout.
  bool WaitIdle(absl::Duration timeout) const;

private:
  struct Job {
    std::string client_id;
    std::string owner;
    EventsTarget target;
    std::string request_event_id;
    std::vector<std::string> product_ids; // empty: criteria not supported
  };
  struct CachedToken {
    std::string token;
    absl::Time expires;
  };
  void Run();
  void Process(const Job &job);
  std::string Answer(const Job &job);
  // Delivers `body`; true on 2xx.
  bool Deliver(const Job &job, const std::string &body);
  absl::StatusOr<std::string> Token(const Job &job, bool *retryable);
  // Waits `delay` unless stopped first; false when stopped.
  bool Backoff(absl::Duration delay);

  const FootprintFinder finder_;
  const std::shared_ptr<OutboundHttp> http_;
  const PactEventsOptions options_;

  mutable absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);

  std::map<std::string, CachedToken>
      tokens_; // worker thread only; by client_id
  std::thread worker_;
};

} // namespace cdl::http

#endif // CDL_NODE_HTTP_PACT_EVENTS_H_
