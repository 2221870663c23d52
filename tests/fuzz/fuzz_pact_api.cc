// The PACT v2 API (node/http/pact_api.h), which the gateway serves only on
// the HTTPS port: fuzz_http's requests arrive on the plain port and get 403
// for its paths. Here every request goes to PactApi::Handle as the HTTPS
// port hands it over (no socket, no TLS), over the fuzz world's ledger
// (world.h: ent-1's footprint, certified).
//
// Input: one raw HTTP/1.1 request (http_request.h), e.g.
//   GET /2/footprints?limit=1 HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\r\n
// Placeholders anywhere in it (request line, headers, body) become, per input:
//   {token}          a fresh access token of client "fuzz-reader" (sees every
//                    footprint; registered events_url, so RequestCreated
//                    events are answered, to a fake requester)
//   {scoped-token}   a fresh token of "fuzz-scoped" (owner acc-eu: sees none
//                    of the world's footprints; no events_url)
//   {expired-token}  a token of fuzz-reader whose lifetime is over
//   {basic}          base64 of "fuzz-reader:reader-secret-0123456789" (HTTP Basic)
//   {footprint-id}   the id (UUID) of the world's PACT footprint
//   {product-id}     its first productIds entry
// Tokens come from POST /auth/token on the same PactApi, under a clock that
// jumps by two token lifetimes before every input, so no token outlives its
// input.
//
// Properties, for every input:
//   - never a 5xx: a hostile request is the client's error;
//   - every non-2xx answer is JSON: on /auth/token an OAuth 2 error
//     ({"error": invalid_request|invalid_client|unsupported_grant_type, ...}),
//     elsewhere {"code": <a PACT error code>, "message": "..."};
//     every application/json answer is valid JSON;
//   - nothing changes: the ledger head is the same after every request;
//   - valid client credentials always get a token, and a token /auth/token
//     hands out to the fuzzed request lists footprints;
//   - the expired token is always 401 TokenExpired (off /auth/token);
//   - the scoped client is never shown a footprint: its lists are empty and
//     GET /2/footprints/{id} is never 200 for it;
//   - GET /2/footprints/{id} answers with that footprint (data.id == id);
//   - every RequestCreated event the API accepts from fuzz-reader is answered
//     exactly once (RequestFulfilled or RequestRejected naming the request's
//     id), and only ever to fuzz-reader's registered URLs.
// CDL_FUZZ_VERBOSE=1 prints each request's status and the start of its body.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "node/http/gateway.h"
#include "node/http/pact_api.h"
#include "node/http/pact_events.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/http_request.h"
#include "tests/fuzz/world.h"

namespace {

using cdl::http::HttpRequest;
using cdl::http::HttpResponse;
using nlohmann::json;

constexpr std::string_view kEventsUrl = "https://requester.example/2/events";
constexpr std::string_view kTokenUrl = "https://requester.example/auth/token";
constexpr absl::Duration kTokenLifetime = absl::Hours(1);

// The requester fuzz-reader registered: hands this host a token and counts
// the answers it gets. Runs on PactEvents' worker thread.
class FakeRequester : public cdl::http::OutboundHttp {
public:
  absl::StatusOr<cdl::http::OutboundResponse>
  Post(const cdl::http::OutboundRequest &request) override {
    if (request.url == kTokenUrl) {
      return cdl::http::OutboundResponse{
          200, R"({"access_token":"requester-token","token_type":"Bearer",)"
               R"("expires_in":3600})"};
    }
    FUZZ_CHECK(request.url == kEventsUrl,
               "an answer went to an unregistered URL: " + request.url);
    json event = json::parse(request.body, nullptr, false);
    FUZZ_CHECK(event.is_object() && event.contains("type") &&
                   event["type"].is_string() && event.contains("data") &&
                   event["data"].is_object() &&
                   event["data"].contains("requestEventId") &&
                   event["data"]["requestEventId"].is_string(),
               "malformed answer: " + request.body.substr(0, 300));
    const std::string type = event["type"].get<std::string>();
    FUZZ_CHECK(type == cdl::http::kPactRequestFulfilled ||
                   type == cdl::http::kPactRequestRejected,
               "answer of type " + type);
    absl::MutexLock lock(&mu_);
    ++answered_;
    last_answered_ = event["data"]["requestEventId"].get<std::string>();
    return cdl::http::OutboundResponse{200, ""};
  }

  // Waits until `n` answers arrived in all; false after 30 s.
  bool WaitForAnswers(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answered_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  // How many answers arrived, and the request id of the last one.
  std::pair<size_t, std::string> answered() {
    absl::MutexLock lock(&mu_);
    return {answered_, last_answered_};
  }

private:
  absl::Mutex mu_;
  size_t answered_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_answered_ ABSL_GUARDED_BY(mu_);
};

std::atomic<int64_t> g_clock_seconds{1'900'000'000};

struct Harness {
  const cdl::ledger::Ledger *ledger = nullptr;
  std::shared_ptr<FakeRequester> requester;
  std::unique_ptr<cdl::http::PactApi> api;
  std::string footprint_id, product_id;
  size_t expected_answers = 0;
  // Tokens issued while handling the current input (see SpendTokens).
  std::vector<std::string> issued;
};

HttpRequest Post(std::string path, std::string content_type,
                 std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.host = "localhost";
  r.secure = true;
  return r;
}

std::string Describe(const HttpRequest &r, const HttpResponse &response) {
  return r.method + " " + r.path.substr(0, 200) + " [" +
         r.authorization.substr(0, 80) + "] -> " +
         std::to_string(response.status) + " " + response.body.substr(0, 300);
}

// A token for `client_id`, by the form flow; aborts if it is refused.
std::string IssueToken(Harness &h, std::string_view client_id,
                       std::string_view secret) {
  const HttpRequest request = Post(
      "/auth/token", "application/x-www-form-urlencoded",
      cdl::fuzz::ReplaceAll(cdl::fuzz::ReplaceAll(
                                "grant_type=client_credentials&client_id=ID&"
                                "client_secret=SECRET",
                                "ID", client_id),
                            "SECRET", secret));
  const HttpResponse response = h.api->Handle(request);
  FUZZ_CHECK(response.status == 200,
             "valid credentials refused: " + Describe(request, response));
  json body = json::parse(response.body, nullptr, false);
  FUZZ_CHECK(body.is_object() && body.contains("access_token") &&
                 body["access_token"].is_string(),
             "no access_token: " + Describe(request, response));
  h.issued.push_back(body["access_token"].get<std::string>());
  return h.issued.back();
}

HttpResponse Get(Harness &h, std::string path, const std::string &token) {
  HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.authorization = "Bearer " + token;
  r.host = "localhost";
  r.secure = true;
  return h.api->Handle(r);
}

// Lets every token issued for this input expire and presents it once, so
// that PactApi drops it: the input leaves no memory behind (otherwise
// libFuzzer runs LeakSanitizer after nearly every input, at ~30 ms each).
// An expired token is refused with 401 TokenExpired (400 if the fuzzed
// request already had it dropped).
void SpendTokens(Harness &h) {
  if (h.issued.empty())
    return;
  g_clock_seconds += absl::ToInt64Seconds(kTokenLifetime) + 60;
  for (const std::string &token : h.issued) {
    const HttpResponse r = Get(h, "/2/footprints", token);
    FUZZ_CHECK(r.status == 401 || r.status == 400,
               "an expired token still works: " + r.body);
  }
  h.issued.clear();
}

Harness &TheHarness() {
  static Harness *harness = [] {
    auto *h = new Harness;
    h->ledger = cdl::fuzz::TheWorld().ledger.get();
    auto clients = cdl::http::ParsePactClients(R"({"clients": [
      {"client_id": "fuzz-reader", "member": "ent-1",
       "client_secret": "reader-secret-0123456789",
       "events_url": "https://requester.example/2/events",
       "events_client_id": "host-at-requester",
       "events_client_secret": "host-secret-0123456789"},
      {"client_id": "fuzz-scoped", "member": "acc-eu", "owner": "acc-eu",
       "client_secret": "scoped-secret-0123456789"}]})");
    FUZZ_CHECK(clients.ok(), clients.status().ToString());
    cdl::http::PactOptions options;
    options.clients = *std::move(clients);
    options.token_lifetime = kTokenLifetime;
    options.now = [] { return absl::FromUnixSeconds(g_clock_seconds.load()); };
    h->requester = std::make_shared<FakeRequester>();
    options.events_http = h->requester;
    options.events.first_retry = absl::Milliseconds(1);
    h->api = std::make_unique<cdl::http::PactApi>(h->ledger, std::move(options));
    // The API's events worker must stop before exit() destroys what it uses
    // (the world's ledger, spdlog's registry): statics built before this.
    spdlog::default_logger();
    std::atexit([] { TheHarness().api.reset(); });

    // The world's footprint as the API shows it: its PACT id and product id.
    const std::string token = IssueToken(*h, "fuzz-reader", "reader-secret-0123456789");
    const HttpResponse list = Get(*h, "/2/footprints", token);
    json body = json::parse(list.body, nullptr, false);
    FUZZ_CHECK(list.status == 200 && body.is_object() &&
                   body["data"].is_array() && body["data"].size() == 1,
               "the world's footprint is not listed: " + list.body);
    json pf = body["data"][0];
    FUZZ_CHECK(pf["id"].is_string() && pf["productIds"].is_array() &&
                   !pf["productIds"].empty() && pf["productIds"][0].is_string(),
               "unexpected footprint: " + pf.dump());
    h->footprint_id = pf["id"].get<std::string>();
    h->product_id = pf["productIds"][0].get<std::string>();
    SpendTokens(*h);
    return h;
  }();
  return *harness;
}

bool Contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

// The error codes of the PACT Technical Specification v2 (section "Error
// Codes"), and the OAuth 2 ones /auth/token answers with (RFC 6749 5.2).
const std::set<std::string> &PactErrorCodes() {
  static const auto *codes = new std::set<std::string>{
      "AccessDenied",   "BadRequest",   "NoSuchFootprint",
      "NotImplemented", "TokenExpired", "InternalError"};
  return *codes;
}
const std::set<std::string> &OAuthErrorCodes() {
  static const auto *codes = new std::set<std::string>{
      "invalid_request", "invalid_client", "unsupported_grant_type"};
  return *codes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Harness &h = TheHarness();
  std::string text(reinterpret_cast<const char *>(data), size);

  // Every token issued for earlier inputs has expired by now.
  const int64_t now = g_clock_seconds.fetch_add(
                          2 * absl::ToInt64Seconds(kTokenLifetime)) +
                      2 * absl::ToInt64Seconds(kTokenLifetime);
  std::string expired, token, scoped;
  if (Contains(text, "{expired-token}")) {
    g_clock_seconds = now - absl::ToInt64Seconds(kTokenLifetime) - 60;
    expired = IssueToken(h, "fuzz-reader", "reader-secret-0123456789");
    g_clock_seconds = now;
    text = cdl::fuzz::ReplaceAll(std::move(text), "{expired-token}", expired);
  }
  if (Contains(text, "{token}")) {
    token = IssueToken(h, "fuzz-reader", "reader-secret-0123456789");
    text = cdl::fuzz::ReplaceAll(std::move(text), "{token}", token);
  }
  if (Contains(text, "{scoped-token}")) {
    scoped = IssueToken(h, "fuzz-scoped", "scoped-secret-0123456789");
    text = cdl::fuzz::ReplaceAll(std::move(text), "{scoped-token}", scoped);
  }
  text = cdl::fuzz::ReplaceAll(
      std::move(text), "{basic}",
      cdl::crypto::Base64Encode("fuzz-reader:reader-secret-0123456789"));
  text = cdl::fuzz::ReplaceAll(std::move(text), "{footprint-id}",
                               h.footprint_id);
  text = cdl::fuzz::ReplaceAll(std::move(text), "{product-id}", h.product_id);

  HttpRequest request = cdl::fuzz::ParseHttpRequest(text);
  request.secure = true;

  const std::string head_before = h.ledger->head().SerializeAsString();
  const HttpResponse response = h.api->Handle(request);
  static const bool verbose = std::getenv("CDL_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "%s\n",
                 Describe(request, response).substr(0, 300).c_str());

  FUZZ_CHECK(response.status >= 200 && response.status < 500,
             Describe(request, response));
  const bool is_json = response.content_type.rfind("application/json", 0) == 0;
  json body;
  if (response.status >= 300 || is_json) {
    body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!body.is_discarded(),
               "not JSON: " + Describe(request, response));
  }
  if (response.status >= 300) {
    const bool oauth = request.path == "/auth/token";
    const char *field = oauth ? "error" : "code";
    FUZZ_CHECK(body.is_object() && body.contains(field) &&
                   body[field].is_string() &&
                   (oauth ? OAuthErrorCodes() : PactErrorCodes())
                       .count(body[field].get<std::string>()) == 1,
               "no PACT/OAuth error code: " + Describe(request, response));
    if (!oauth) {
      FUZZ_CHECK(body.contains("message") && body["message"].is_string(),
                 "no error message: " + Describe(request, response));
    }
  }
  FUZZ_CHECK(h.ledger->head().SerializeAsString() == head_before,
             "ledger head changed: " + Describe(request, response));

  // Which client a request that passed Authorize acted as: the token after
  // "Bearer " is exactly one issued above, so the header holds it.
  const bool as_reader =
      !token.empty() && Contains(request.authorization, token);
  const bool as_scoped =
      !scoped.empty() && Contains(request.authorization, scoped);
  const bool on_token_path = request.path == "/auth/token";
  if (!expired.empty() && !on_token_path &&
      request.authorization == "Bearer " + expired) {
    FUZZ_CHECK(response.status == 401 && body.is_object() &&
                   body.value("code", "") == "TokenExpired",
               "expired token: " + Describe(request, response));
  }
  const bool read =
      (request.method == "GET" || request.method == "HEAD") &&
      response.status == 200;
  if (read && (request.path == "/2/footprints" ||
               request.path == "/2/footprints/")) {
    FUZZ_CHECK(body.is_object() && body.contains("data") &&
                   body["data"].is_array(),
               "list without data: " + Describe(request, response));
    if (as_scoped) {
      FUZZ_CHECK(body["data"].empty(),
                 "scoped client saw a footprint: " +
                     Describe(request, response));
    }
  } else if (read && request.path.starts_with("/2/footprints/")) {
    const std::string id = request.path.substr(sizeof("/2/footprints/") - 1);
    FUZZ_CHECK(body.is_object() && body.contains("data") &&
                   body["data"].is_object() &&
                   body["data"].value("id", "") == id,
               "another footprint: " + Describe(request, response));
    FUZZ_CHECK(!as_scoped,
               "scoped client saw a footprint: " + Describe(request, response));
  }
  if (on_token_path && response.status == 200) {
    // A token handed out to the fuzzed request works.
    FUZZ_CHECK(body.is_object() && body.contains("access_token") &&
                   body["access_token"].is_string(),
               "no access_token: " + Describe(request, response));
    h.issued.push_back(body["access_token"].get<std::string>());
    const HttpResponse list = Get(h, "/2/footprints", h.issued.back());
    FUZZ_CHECK(list.status == 200,
               "issued token refused: " + Describe(request, list));
  }
  if (request.path == "/2/events" && response.status == 200 && as_reader) {
    json event = json::parse(request.body, nullptr, false);
    if (event.is_object() && event.contains("type") &&
        event["type"].is_string() &&
        event["type"].get<std::string>() == cdl::http::kPactRequestCreated) {
      ++h.expected_answers;
      FUZZ_CHECK(h.requester->WaitForAnswers(h.expected_answers),
                 "an accepted request was not answered: " +
                     Describe(request, response));
      const auto [count, last] = h.requester->answered();
      FUZZ_CHECK(count == h.expected_answers && event.contains("id") &&
                     event["id"].is_string() &&
                     last == event["id"].get<std::string>(),
                 "answered another request: " + Describe(request, response));
    }
  }
  SpendTokens(h);
  return 0;
}
