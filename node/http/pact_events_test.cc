// PactEvents with a fake outbound HTTP client and a fake footprint finder:
// what is sent where (token first, then the answer, to the registered URLs
// only), Fulfilled/Rejected bodies, bounded retries and their classes, token
// reuse and renewal after a 401, the bounded queue, callback URL checks.
#include "node/http/pact_events.h"

#include <deque>

#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::http {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Answers token requests with a fresh token and events requests from a
// script (default 200); records every request. Optionally blocks until
// released.
class FakeHttp : public OutboundHttp {
public:
  absl::StatusOr<OutboundResponse>
  Post(const OutboundRequest &request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    mu_.Await(absl::Condition(&released_));
    if (request.url.ends_with("/auth/token")) {
      ++tokens_issued_;
      if (!token_answers_.empty()) {
        auto answer = token_answers_.front();
        token_answers_.pop_front();
        return answer;
      }
      return OutboundResponse{
          200, json{{"access_token", "tok-" + std::to_string(tokens_issued_)},
                    {"expires_in", 3600}}
                   .dump()};
    }
    if (!event_answers_.empty()) {
      auto answer = event_answers_.front();
      event_answers_.pop_front();
      return answer;
    }
    return OutboundResponse{200, ""};
  }

  std::vector<OutboundRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  void ScriptEvents(std::vector<absl::StatusOr<OutboundResponse>> answers) {
    absl::MutexLock lock(&mu_);
    event_answers_.assign(answers.begin(), answers.end());
  }
  void ScriptTokens(std::vector<absl::StatusOr<OutboundResponse>> answers) {
    absl::MutexLock lock(&mu_);
    token_answers_.assign(answers.begin(), answers.end());
  }
  void Hold(bool hold) {
    absl::MutexLock lock(&mu_);
    released_ = !hold;
  }

private:
  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = true;
  int tokens_issued_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<OutboundRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::StatusOr<OutboundResponse>>
      event_answers_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::StatusOr<OutboundResponse>>
      token_answers_ ABSL_GUARDED_BY(mu_);
};

constexpr char kKnownProduct[] = "urn:gtin:4712345060507";
constexpr char kOtherOwnersProduct[] = "urn:gtin:0000000000001";

json Request(const std::string &id, json product_ids,
             const std::string &source = "//attacker.example/2/events") {
  return json{{"type", kPactRequestCreated},
              {"specversion", "1.0"},
              {"id", id},
              {"source", source},
              {"data", {{"pf", {{"productIds", std::move(product_ids)}}}}}};
}

class PactEventsTest : public ::testing::Test {
protected:
  void SetUp() override {
    target_.events_url = "https://recipient.example:8443/pact/2/events";
    target_.token_url = "https://recipient.example:8443/pact/auth/token";
    target_.client_id = "data-owner";
    target_.client_secret = "s3cret:with/odd&chars";
    Start(PactEventsOptions{});
  }
  void Start(PactEventsOptions options) {
    events_.reset();
    options.first_retry = absl::Milliseconds(1);
    options.source = "//owner.example:7443/2/events";
    events_ = std::make_unique<PactEvents>(
        [this](std::string_view owner, const std::vector<std::string> &ids)
            -> absl::StatusOr<FootprintMatch> {
          finder_calls_++;
          FootprintMatch match;
          for (const auto &id : ids) {
            if (id == kKnownProduct)
              match.footprints.push_back(
                  R"({"id":"pf-1","productIds":["urn:gtin:4712345060507"]})");
            if (id == kOtherOwnersProduct)
              match.denied = owner == "ent-1";
          }
          return match;
        },
        http_, options);
  }
  // The events requests sent (token requests left out).
  std::vector<OutboundRequest> EventsSent() {
    std::vector<OutboundRequest> out;
    for (const auto &r : http_->requests()) {
      if (!r.url.ends_with("/auth/token"))
        out.push_back(r);
    }
    return out;
  }
  void Idle() { ASSERT_TRUE(events_->WaitIdle(absl::Seconds(20))); }

  std::shared_ptr<FakeHttp> http_ = std::make_shared<FakeHttp>();
  EventsTarget target_;
  std::unique_ptr<PactEvents> events_;
  std::atomic<int> finder_calls_{0};
};

TEST_F(PactEventsTest,
       FulfilledGoesToTheRegisteredUrlWithATokenFromTheRequesterAuthEndpoint) {
  ASSERT_TRUE(events_
                  ->Enqueue("client-a", "", target_,
                            Request("req-1", {kKnownProduct, "urn:x"}))
                  .ok());
  Idle();
  auto sent = http_->requests();
  ASSERT_EQ(sent.size(), 2u);
  // Token: client credentials, form-urlencoded parts in HTTP Basic.
  EXPECT_EQ(sent[0].url, target_.token_url);
  EXPECT_EQ(sent[0].body, "grant_type=client_credentials");
  EXPECT_EQ(sent[0].content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(sent[0].authorization,
            "Basic " + cdl::crypto::Base64Encode(
                           "data-owner:s3cret%3Awith%2Fodd%26chars"));
  // The answer: to events_url, never to the request's source.
  EXPECT_EQ(sent[1].url, target_.events_url);
  EXPECT_EQ(sent[1].authorization, "Bearer tok-1");
  EXPECT_THAT(sent[1].content_type, HasSubstr("application/cloudevents+json"));
  json answer = json::parse(sent[1].body);
  EXPECT_EQ(answer["type"], kPactRequestFulfilled);
  EXPECT_EQ(answer["specversion"], "1.0");
  EXPECT_EQ(answer["source"], "//owner.example:7443/2/events");
  EXPECT_EQ(answer["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(answer["data"]["requestEventId"], "req-1");
  ASSERT_EQ(answer["data"]["pfs"].size(), 1u);
  EXPECT_EQ(answer["data"]["pfs"][0]["id"], "pf-1");
  EXPECT_EQ(events_->stats().delivered, 1u);

  // The token is reused for the next answer.
  ASSERT_TRUE(
      events_
          ->Enqueue("client-a", "", target_, Request("req-2", {kKnownProduct}))
          .ok());
  Idle();
  EXPECT_EQ(http_->requests().size(), 3u);
  EXPECT_EQ(EventsSent().back().authorization, "Bearer tok-1");
}

TEST_F(PactEventsTest, RejectedAsTheSpecSays) {
  ASSERT_TRUE(
      events_->Enqueue("c", "", target_, Request("unknown", {"urn:gtin:9"}))
          .ok());
  ASSERT_TRUE(events_
                  ->Enqueue("c", "ent-1", target_,
                            Request("denied", {kOtherOwnersProduct}))
                  .ok());
  json by_other_criteria = Request("geo", {"x"});
  by_other_criteria["data"] = {{"pf", {{"geography", {"DE"}}}}};
  ASSERT_TRUE(events_->Enqueue("c", "", target_, by_other_criteria).ok());
  Idle();
  auto sent = EventsSent();
  ASSERT_EQ(sent.size(), 3u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto &r : sent) {
    json answer = json::parse(r.body);
    EXPECT_EQ(answer["type"], kPactRequestRejected);
    EXPECT_TRUE(answer["data"]["error"]["message"].is_string());
    got.emplace_back(answer["data"]["requestEventId"],
                     answer["data"]["error"]["code"]);
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"unknown", "NoSuchFootprint"},
                     {"denied", "AccessDenied"},
                     {"geo", "NotImplemented"}}));
}

TEST_F(PactEventsTest, ProductIdsOfAv23RequestAreMatchedToo) {
  json v23 = Request("v23", {});
  v23["data"] = {{"productId", {kKnownProduct}}};
  ASSERT_TRUE(events_->Enqueue("c", "", target_, v23).ok());
  Idle();
  ASSERT_EQ(EventsSent().size(), 1u);
  EXPECT_EQ(json::parse(EventsSent()[0].body)["type"], kPactRequestFulfilled);
}

TEST_F(PactEventsTest, MalformedProductIdsAndMissingUrlAreRefusedAtOnce) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      events_->Enqueue("c", "", target_, Request("a", json::array()))));
  EXPECT_TRUE(absl::IsInvalidArgument(
      events_->Enqueue("c", "", target_, Request("a", {1, 2}))));
  EXPECT_TRUE(absl::IsInvalidArgument(events_->Enqueue(
      "c", "", target_, Request("a", {std::string(300, 'x')}))));
  EXPECT_TRUE(absl::IsInvalidArgument(events_->Enqueue(
      "c", "", target_,
      Request("a", json(std::vector<std::string>(101, "urn:x"))))));
  EventsTarget none;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      events_->Enqueue("c", "", none, Request("a", {kKnownProduct}))));
  Idle();
  EXPECT_TRUE(http_->requests().empty());
  EXPECT_EQ(finder_calls_.load(), 0);
}

TEST_F(PactEventsTest, RetriesAreBoundedAndOnlyForRetryableFailures) {
  PactEventsOptions options;
  options.max_attempts = 3;
  Start(options);
  // 503 three times: three attempts, then given up.
  http_->ScriptEvents({OutboundResponse{503, ""}, OutboundResponse{503, ""},
                       OutboundResponse{503, ""}, OutboundResponse{200, ""}});
  ASSERT_TRUE(
      events_->Enqueue("c", "", target_, Request("r1", {kKnownProduct})).ok());
  Idle();
  EXPECT_EQ(EventsSent().size(), 3u);
  EXPECT_EQ(events_->stats().failed, 1u);

  // A transport error, then success.
  http_->ScriptEvents({absl::UnavailableError("connection refused"),
                       OutboundResponse{204, ""}});
  ASSERT_TRUE(
      events_->Enqueue("c", "", target_, Request("r2", {kKnownProduct})).ok());
  Idle();
  EXPECT_EQ(EventsSent().size(), 5u);
  EXPECT_EQ(events_->stats().delivered, 1u);

  // 400 is final: one attempt.
  http_->ScriptEvents({OutboundResponse{400, "{\"code\":\"BadRequest\"}"}});
  ASSERT_TRUE(
      events_->Enqueue("c", "", target_, Request("r3", {kKnownProduct})).ok());
  Idle();
  EXPECT_EQ(EventsSent().size(), 6u);
  EXPECT_EQ(events_->stats().failed, 2u);
}

TEST_F(PactEventsTest, A401RenewsTheTokenAndABadTokenEndpointIsFinal) {
  http_->ScriptEvents({OutboundResponse{401, ""}, OutboundResponse{200, ""}});
  ASSERT_TRUE(
      events_->Enqueue("c", "", target_, Request("r1", {kKnownProduct})).ok());
  Idle();
  auto sent = EventsSent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].authorization, "Bearer tok-1");
  EXPECT_EQ(sent[1].authorization, "Bearer tok-2");
  EXPECT_EQ(events_->stats().delivered, 1u);

  // Wrong credentials (401 from /auth/token) for another client: no answer
  // is sent and nothing is retried.
  http_->ScriptTokens(
      {OutboundResponse{401, "{\"error\":\"invalid_client\"}"}});
  const size_t before = http_->requests().size();
  ASSERT_TRUE(
      events_->Enqueue("d", "", target_, Request("r2", {kKnownProduct})).ok());
  Idle();
  EXPECT_EQ(http_->requests().size(), before + 1);
  EXPECT_EQ(events_->stats().failed, 1u);
}

TEST_F(PactEventsTest, TheQueueIsBoundedAndStopDropsWhatWaits) {
  PactEventsOptions options;
  options.queue_capacity = 2;
  Start(options);
  http_->Hold(true);
  ASSERT_TRUE(
      events_->Enqueue("c", "", target_, Request("r0", {kKnownProduct})).ok());
  // Wait until the worker holds r0 (blocked in the fake client).
  for (int i = 0; i < 2000 && http_->requests().empty(); ++i)
    absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(http_->requests().size(), 1u);
  EXPECT_TRUE(
      events_->Enqueue("c", "", target_, Request("r1", {kKnownProduct})).ok());
  EXPECT_TRUE(
      events_->Enqueue("c", "", target_, Request("r2", {kKnownProduct})).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      events_->Enqueue("c", "", target_, Request("r3", {kKnownProduct}))));
  std::thread release([this] {
    absl::SleepFor(absl::Milliseconds(50));
    http_->Hold(false);
  });
  events_->Stop();
  release.join();
  EXPECT_EQ(events_->stats().dropped, 2u);
  EXPECT_TRUE(absl::IsResourceExhausted(
      events_->Enqueue("c", "", target_, Request("r4", {kKnownProduct}))));
}

TEST(CallbackUrlTest, HttpsOrLoopbackHttpOnly) {
  auto ok = ParseCallbackUrl("https://Recipient.Example:8443/pact/2/events",
                             "events_url");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->scheme, "https");
  EXPECT_EQ(ok->host, "recipient.example");
  EXPECT_EQ(ok->port, 8443);
  EXPECT_EQ(ok->path, "/pact/2/events");
  EXPECT_EQ(ParseCallbackUrl("https://r.example", "u")->port, 443);
  EXPECT_EQ(ParseCallbackUrl("https://r.example", "u")->path, "/");
  EXPECT_TRUE(ParseCallbackUrl("http://127.0.0.1:9000/2/events", "u").ok());
  EXPECT_TRUE(ParseCallbackUrl("http://localhost/2/events", "u").ok());
  for (const char *bad :
       {"http://recipient.example/2/events", "ftp://r.example/",
        "//r.example/2/events", "https://user:pw@r.example/",
        "https://r.example/2/events?x=1", "https://r.example/#f",
        "https://[::1]/", "https://r.example:0/", "https://r.example:99999/",
        "https://:80/", "https://r example/", "https://r.example/\x01"}) {
    auto parsed = ParseCallbackUrl(bad, "events_url");
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << bad;
    if (!parsed.ok()) {
      EXPECT_THAT(parsed.status().message(), HasSubstr("events_url")) << bad;
    }
  }
}

} // namespace
} // namespace cdl::http
