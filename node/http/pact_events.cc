#include "node/http/pact_events.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

#include "absl/strings/numbers.h"
#include "crypto/hash.h"
#include "crypto/str_cat.h"
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace cdl::http {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string Dump(const ordered_json &j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// Text from a request or an answer shown in the log: printable ASCII, short.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 80)
    out += "...";
  return out;
}

bool IsLoopback(std::string_view host) {
  return host == "localhost" || host.starts_with("127.");
}

// RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic.
std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A random (version 4) UUID for the answer's CloudEvent id.
std::string NewEventId() {
  unsigned char b[16] = {};
  if (RAND_bytes(b, sizeof b) != 1) {
    // Event ids need uniqueness, not secrecy: fall back on the clock.
    int64_t t = absl::ToUnixNanos(absl::Now());
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<unsigned char>(t >> (8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string hex = cdl::crypto::HexEncode(
      std::string_view(reinterpret_cast<const char *>(b), sizeof b));
  return cdl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                     hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                     hex.substr(20));
}

// Whether a failed delivery may succeed if tried again.
bool Retryable(int status) {
  return status >= 500 || status == 408 || status == 429 || status == 401;
}

class HttplibOutbound final : public OutboundHttp {
public:
  absl::StatusOr<OutboundResponse>
  Post(const OutboundRequest &request) override {
    auto url = ParseCallbackUrl(request.url, "url");
    if (!url.ok())
      return url.status();
    try {
      httplib::Client client(
          cdl::StrCat(url->scheme, "://", url->host, ":", url->port));
      const int64_t us =
          std::max<int64_t>(absl::ToInt64Microseconds(request.timeout), 1000);
      client.set_connection_timeout(us / 1'000'000, us % 1'000'000);
      client.set_read_timeout(us / 1'000'000, us % 1'000'000);
      client.set_write_timeout(us / 1'000'000, us % 1'000'000);
      client.set_follow_location(false);
      if (url->scheme == "https") {
        client.enable_server_certificate_verification(true);
        if (!request.ca_file.empty())
          client.set_ca_cert_path(request.ca_file.c_str());
      }
      httplib::Headers headers;
      if (!request.authorization.empty())
        headers.emplace("Authorization", request.authorization);
      auto result =
          client.Post(url->path, headers, request.body, request.content_type);
      if (!result) {
        return absl::UnavailableError(
            cdl::StrCat(url->scheme, "://", url->host, ":", url->port, ": ",
                        httplib::to_string(result.error())));
      }
      return OutboundResponse{result->status,
                              result->body.substr(0, 64 * 1024)};
    } catch (const std::exception &e) {
      return absl::InternalError(cdl::StrCat("outbound HTTP: ", e.what()));
    }
  }
};

} // namespace

std::unique_ptr<OutboundHttp> NewOutboundHttp() {
  return std::make_unique<HttplibOutbound>();
}

absl::StatusOr<CallbackUrl> ParseCallbackUrl(std::string_view url,
                                             std::string_view what) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        cdl::StrCat(what, " \"", Shown(url), "\": ", why));
  };
  if (url.size() > 2048)
    return bad("longer than 2048 bytes");
  if (!std::all_of(url.begin(), url.end(),
                   [](char c) { return c > 0x20 && c < 0x7f; })) {
    return bad("spaces or non-ASCII characters");
  }
  CallbackUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return bad("not an absolute URL");
  out.scheme = std::string(url.substr(0, scheme_end));
  if (out.scheme != "https" && out.scheme != "http")
    return bad("the scheme must be https");
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("no query or fragment allowed");
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path =
      slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos)
    return bad("no user info allowed");
  if (authority.find('[') != std::string_view::npos)
    return bad("IPv6 literals are not supported; use a name");
  size_t colon = authority.find(':');
  out.host = std::string(authority.substr(0, colon));
  out.port = out.scheme == "https" ? 443 : 80;
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), ::isdigit) ||
        !absl::SimpleAtoi(std::string(port), &out.port) || out.port < 1 ||
        out.port > 65535) {
      return bad("bad port");
    }
  }
  if (out.host.empty() ||
      !std::all_of(out.host.begin(), out.host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
               c == '-';
      })) {
    return bad("bad host");
  }
  for (char &c : out.host)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme == "http" && !IsLoopback(out.host)) {
    return bad("plain http is allowed only to a loopback host (127.0.0.1, "
               "localhost); use https");
  }
  return out;
}

PactEvents::PactEvents(FootprintFinder finder,
                       std::shared_ptr<OutboundHttp> http,
                       PactEventsOptions options)
    : finder_(std::move(finder)), http_(std::move(http)),
      options_(std::move(options)) {
  worker_ = std::thread([this] { Run(); });
}

PactEvents::~PactEvents() { Stop(); }

void PactEvents::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !worker_.joinable())
      return;
    stopping_ = true;
    if (!queue_.empty()) {
      spdlog::warn("pact events: {} request(s) not answered at shutdown",
                   queue_.size());
      stats_.dropped += queue_.size();
      queue_.clear();
    }
  }
  if (worker_.joinable())
    worker_.join();
}

PactEvents::Stats PactEvents::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool PactEvents::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.empty() && !busy_;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

absl::Status PactEvents::Enqueue(std::string_view client_id,
                                 std::string_view owner,
                                 const EventsTarget &target,
                                 const json &event) {
  if (target.events_url.empty())
    return absl::FailedPreconditionError(
        "no events_url registered for this client");
  Job job{std::string(client_id),
          std::string(owner),
          target,
          event.value("id", ""),
          {}};
  const json &data = event.at("data");
  // v2.0-2.2: data.pf.productIds; v2.3: data.productId.
  const json *ids = nullptr;
  if (auto pf = data.find("pf");
      pf != data.end() && pf->is_object() && pf->contains("productIds")) {
    ids = &(*pf)["productIds"];
  } else if (auto direct = data.find("productId"); direct != data.end()) {
    ids = &*direct;
  }
  if (ids != nullptr) {
    if (!ids->is_array() || ids->empty() ||
        ids->size() > kMaxRequestedProductIds) {
      return absl::InvalidArgumentError(
          cdl::StrCat("productIds must be an array of 1 to ",
                      kMaxRequestedProductIds, " strings"));
    }
    for (const json &id : *ids) {
      if (!id.is_string() || id.get_ref<const std::string &>().empty() ||
          id.get_ref<const std::string &>().size() > kMaxProductIdBytes) {
        return absl::InvalidArgumentError(
            cdl::StrCat("productIds must hold non-empty strings of at most ",
                        kMaxProductIdBytes, " bytes"));
      }
      job.product_ids.push_back(id.get<std::string>());
    }
  }
  absl::MutexLock lock(&mu_);
  if (stopping_)
    return absl::ResourceExhaustedError("shutting down");
  if (queue_.size() >= options_.queue_capacity) {
    return absl::ResourceExhaustedError(cdl::StrCat(
        queue_.size(),
        " requests are already waiting for an answer; send it again later"));
  }
  queue_.push_back(std::move(job));
  return absl::OkStatus();
}

void PactEvents::Run() {
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_)
        return;
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    Process(job);
    absl::MutexLock lock(&mu_);
    busy_ = false;
  }
}

std::string PactEvents::Answer(const Job &job) {
  ordered_json answer = {
      {"type", kPactRequestRejected},
      {"specversion", "1.0"},
      {"id", NewEventId()},
      {"source", options_.source},
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", options_.now(),
                                absl::UTCTimeZone())}};
  auto reject = [&](std::string_view code, std::string_view message) {
    answer["data"] = {{"requestEventId", job.request_event_id},
                      {"error", {{"code", code}, {"message", message}}}};
    return Dump(answer);
  };
  if (job.product_ids.empty()) {
    return reject("NotImplemented",
                  "only requests by productIds (data.pf.productIds) are "
                  "answered by this host");
  }
  absl::StatusOr<FootprintMatch> match;
  try {
    match = finder_(job.owner, job.product_ids);
  } catch (const std::exception &e) {
    match = absl::InternalError(e.what());
  }
  if (!match.ok()) {
    spdlog::error("pact events: matching request \"{}\": {}",
                  Shown(job.request_event_id), match.status().ToString());
    return reject("InternalError", "the request could not be processed");
  }
  if (match->footprints.empty()) {
    if (match->denied)
      return reject("AccessDenied",
                    "the requested footprints are not shared with this client");
    return reject("NoSuchFootprint",
                  "no footprint on this host has the requested product ids");
  }
  ordered_json pfs = ordered_json::array();
  for (const std::string &text : match->footprints) {
    ordered_json pf =
        ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!pf.is_discarded())
      pfs.push_back(std::move(pf));
  }
  answer["type"] = kPactRequestFulfilled;
  answer["data"] = {{"requestEventId", job.request_event_id},
                    {"pfs", std::move(pfs)}};
  return Dump(answer);
}

void PactEvents::Process(const Job &job) {
  const std::string body = Answer(job);
  const bool ok = Deliver(job, body);
  absl::MutexLock lock(&mu_);
  (ok ? stats_.delivered : stats_.failed)++;
}

bool PactEvents::Backoff(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  return !mu_.AwaitWithTimeout(absl::Condition(&stopping), delay);
}

absl::StatusOr<std::string> PactEvents::Token(const Job &job, bool *retryable) {
  *retryable = true;
  auto cached = tokens_.find(job.client_id);
  if (cached != tokens_.end() && cached->second.expires > options_.now())
    return cached->second.token;
  OutboundRequest request;
  request.url = job.target.token_url;
  request.authorization =
      cdl::StrCat("Basic", " ",
                  cdl::crypto::Base64Encode(
                      cdl::StrCat(FormEncode(job.target.client_id), ":",
                                  FormEncode(job.target.client_secret))));
  request.content_type = "application/x-www-form-urlencoded";
  request.body = "grant_type=client_credentials";
  request.ca_file = job.target.ca_file;
  request.timeout = options_.request_timeout;
  auto response = http_->Post(request);
  if (!response.ok())
    return response.status();
  if (response->status != 200) {
    *retryable = response->status >= 500 || response->status == 408 ||
                 response->status == 429;
    return absl::UnauthenticatedError(cdl::StrCat("token endpoint answered ",
                                                  response->status, ": ",
                                                  Shown(response->body)));
  }
  json doc = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("access_token") ||
      !doc["access_token"].is_string() ||
      doc["access_token"].get_ref<const std::string &>().empty()) {
    *retryable = false;
    return absl::UnauthenticatedError(
        "token endpoint answered without an access_token");
  }
  int64_t lifetime_s = 3600;
  if (auto e = doc.find("expires_in"); e != doc.end() && e->is_number_integer())
    lifetime_s = e->get<int64_t>();
  // Renew a little early so a token does not expire in flight.
  const absl::Duration lifetime =
      absl::Seconds(std::max<int64_t>(lifetime_s, 0)) * 0.9;
  CachedToken token{doc["access_token"].get<std::string>(),
                    options_.now() + lifetime};
  tokens_[job.client_id] = token;
  return token.token;
}

bool PactEvents::Deliver(const Job &job, const std::string &body) {
  absl::Duration delay = options_.first_retry;
  std::string last_error;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      if (!Backoff(delay)) {
        spdlog::warn("pact events: answer to \"{}\" abandoned at shutdown",
                     Shown(job.request_event_id));
        return false;
      }
      delay *= 2;
    }
    bool retryable = true;
    absl::StatusOr<std::string> token = Token(job, &retryable);
    if (!token.ok()) {
      last_error = token.status().ToString();
      if (!retryable)
        break;
      continue;
    }
    OutboundRequest request;
    request.url = job.target.events_url;
    request.authorization = cdl::StrCat("Bearer ", *token);
    request.content_type = "application/cloudevents+json; charset=UTF-8";
    request.body = body;
    request.ca_file = job.target.ca_file;
    request.timeout = options_.request_timeout;
    auto response = http_->Post(request);
    if (response.ok() && response->status >= 200 && response->status < 300) {
      spdlog::info("pact events: answered request \"{}\" of client \"{}\"",
                   Shown(job.request_event_id), Shown(job.client_id));
      return true;
    }
    last_error = response.ok() ? cdl::StrCat("events endpoint answered ",
                                             response->status, ": ",
                                             Shown(response->body))
                               : response.status().ToString();
    if (response.ok() && response->status == 401)
      tokens_.erase(job.client_id); // expired or revoked
    if (response.ok() && !Retryable(response->status))
      break;
  }
  spdlog::warn(
      "pact events: gave up answering request \"{}\" of client \"{}\": {}",
      Shown(job.request_event_id), Shown(job.client_id), last_error);
  return false;
}

} // namespace cdl::http
