// The PACT v2 API over a real in-process node (memory store, one validator),
// served by the real HttpServer over TLS (a --dev identity made in a temporary
// folder, verified by the client) and over plain HTTP, reached with
// cpp-httplib's clients: token issue and every authentication failure, bearer
// token failures and expiry (injected clock), pagination by Link headers,
// footprints exactly as stored plus the ledger extension, unknown ids, events,
// bad requests that change nothing, and the plain port refusing everything.
#include "node/http/pact_api.h"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>

#include "crypto/hash.h"
#include "httplib.h"
#include "node/http/server.h"
#include "node/ledger/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdl::http {
namespace {

using cdl::ledger::testing::TestChain;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr int64_t kYearMs = 365LL * 86'400'000;
constexpr char kStandard[] = "ISO 14067";
constexpr char kSecret[] = "correct-horse-battery-staple";
constexpr char kOwnSecret[] = "ent-2-secret-0123456789";

std::string PactId(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "3893bb5d-da16-4dc1-9185-%012d", i);
  return buf;
}

std::string BasicAuth(const std::string &id, const std::string &secret) {
  return "Basic " + cdl::crypto::Base64Encode(id + ":" + secret);
}

// The requester's side of asynchronous answers: issues tokens, takes events,
// records both.
class RecordingHttp : public OutboundHttp {
public:
  absl::StatusOr<OutboundResponse> Post(const OutboundRequest &request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (request.url.ends_with("/auth/token"))
      return OutboundResponse{200, R"({"access_token":"t","expires_in":60})"};
    return OutboundResponse{200, ""};
  }
  std::vector<OutboundRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

private:
  absl::Mutex mu_;
  std::vector<OutboundRequest> requests_ ABSL_GUARDED_BY(mu_);
};

class PactApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cdl_pact_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto ledger = cdl::ledger::Ledger::Open(
        cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()),
        chain_.genesis());
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = ledger->get();
    cdl::net::NodeOptions options;
    options.validator_id = "v1";
    options.flush_interval = absl::Milliseconds(1);
    auto node = cdl::net::Node::Create(*std::move(ledger),
                                       chain_.TakeValidatorKey(), options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    node_->Start();

    const std::string salt = "salt-1";
    auto clients = ParsePactClients(
        json{{"clients",
              {{{"client_id", "all"},
                {"member", "reg-cn"},
                {"client_secret", kSecret}},
               {{"client_id", "own"},
                {"member", "ent-2"},
                {"owner", "ent-2"},
                {"events_url", "https://ent2.example/pact/2/events"},
                {"events_client_id", "cdl-node"},
                {"events_client_secret", "issued-by-ent-2"},
                {"secret_salt", salt},
                {"secret_sha256", cdl::crypto::HexEncode(cdl::crypto::Sha256(
                                      salt + ":" + kOwnSecret))}}}}}
            .dump());
    ASSERT_TRUE(clients.ok()) << clients.status();
    PactOptions pact_options;
    pact_options.clients = *clients;
    pact_options.token_lifetime = absl::Minutes(10);
    pact_options.events_http = events_http_;
    pact_options.events.first_retry = absl::Milliseconds(1);
    pact_options.now = [this] {
      return absl::Now() + absl::Seconds(clock_offset_s_.load());
    };
    pact_ = std::make_unique<PactApi>(ledger_, std::move(pact_options));
    GatewayOptions gateway_options;
    gateway_options.pact = pact_.get();
    gateway_ =
        std::make_unique<Gateway>(node_.get(), std::move(gateway_options));

    auto tls = EnsureDevHttpsIdentity(dir_.string());
    ASSERT_TRUE(tls.ok()) << tls.status();
    struct stat st;
    ASSERT_EQ(::stat(tls->key_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
    auto https = HttpServer::Start(gateway_.get(), "127.0.0.1:0", &*tls);
    ASSERT_TRUE(https.ok()) << https.status();
    https_ = *std::move(https);
    auto plain = HttpServer::Start(gateway_.get(), "127.0.0.1:0");
    ASSERT_TRUE(plain.ok()) << plain.status();
    plain_ = *std::move(plain);

    client_ = std::make_unique<httplib::SSLClient>("127.0.0.1", https_->port());
    client_->set_ca_cert_path((dir_ / "https-ca.pem").string().c_str());
    client_->enable_server_certificate_verification(true);
    client_->set_read_timeout(30, 0);
    client_->set_url_encode(false);
    plain_client_ =
        std::make_unique<httplib::Client>("127.0.0.1", plain_->port());
    plain_client_->set_url_encode(false);
  }

  void TearDown() override {
    client_.reset();
    plain_client_.reset();
    if (https_)
      https_->Stop();
    if (plain_)
      plain_->Stop();
    gateway_.reset();
    pact_.reset();
    if (node_)
      node_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string Accept(const std::string &record) {
    std::promise<absl::StatusOr<cdl::v1::Receipt>> done;
    auto future = done.get_future();
    node_->Submit(record, true, absl::Seconds(20),
                  [&done](absl::StatusOr<cdl::v1::Receipt> r) {
                    done.set_value(std::move(r));
                  });
    absl::StatusOr<cdl::v1::Receipt> receipt = future.get();
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    if (!receipt.ok())
      return "";
    EXPECT_EQ(receipt->status(), cdl::v1::RECORD_ACCEPTED)
        << receipt->message();
    return receipt->record_id();
  }

  // ent-1 with `count` footprints (the first certified by cert-cn), ent-2 with
  // one.
  void Populate(int count) {
    Accept(chain_.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"));
    Accept(chain_.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"));
    Accept(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
    Accept(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN",
                           "park-a"));
    Accept(chain_.Register("park-a", "ent-2", cdl::v1::ROLE_ENTERPRISE, "CN",
                           "park-a"));
    for (int i = 1; i <= count; ++i)
      footprints_[PactId(i)] = Accept(chain_.Footprint("ent-1", PactId(i)));
    ent2_footprint_ = PactId(900);
    footprints_[ent2_footprint_] =
        Accept(chain_.Footprint("ent-2", ent2_footprint_));
    const int64_t now = absl::ToUnixMillis(absl::Now());
    Accept(chain_.Accreditation("acc-cn", "cert-cn", {kStandard}, {"CN"}, 0,
                                now + kYearMs));
    certificate_ =
        Accept(chain_.Certificate("cert-cn", footprints_[PactId(1)], kStandard,
                                  "CN", 0, now + kYearMs / 2));
  }

  httplib::Result Token(const std::string &body,
                        const std::string &authorization = "") {
    httplib::Headers headers;
    if (!authorization.empty())
      headers.emplace("Authorization", authorization);
    return client_->Post("/auth/token", headers, body,
                         "application/x-www-form-urlencoded");
  }

  std::string GetToken(const std::string &id = "all",
                       const std::string &secret = kSecret) {
    auto res = Token("grant_type=client_credentials", BasicAuth(id, secret));
    EXPECT_TRUE(res);
    if (!res)
      return "";
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body, nullptr, false).value("access_token", "");
  }

  httplib::Result Get(const std::string &path, const std::string &token) {
    httplib::Headers headers;
    if (!token.empty())
      headers.emplace("Authorization", "Bearer " + token);
    return client_->Get(path.c_str(), headers);
  }

  // Status and PACT error code of a response.
  static std::pair<int, std::string> Code(const httplib::Result &res) {
    if (!res)
      return {0, "no response"};
    json body = json::parse(res->body, nullptr, false);
    return {res->status, body.is_object()
                             ? body.value("code", body.value("error", ""))
                             : ""};
  }

  std::filesystem::path dir_;
  TestChain chain_;
  cdl::ledger::Ledger *ledger_ = nullptr;
  std::unique_ptr<cdl::net::Node> node_;
  std::atomic<int64_t> clock_offset_s_{0};
  std::unique_ptr<PactApi> pact_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<HttpServer> https_;
  std::unique_ptr<HttpServer> plain_;
  std::unique_ptr<httplib::SSLClient> client_;
  std::unique_ptr<httplib::Client> plain_client_;
  std::map<std::string, std::string> footprints_; // PACT id -> record id
  std::string ent2_footprint_;
  std::string certificate_;
  std::shared_ptr<RecordingHttp> events_http_ =
      std::make_shared<RecordingHttp>();
};

TEST_F(PactApiTest, TokenIsIssuedForBasicOrFormCredentials) {
  auto res = Token("grant_type=client_credentials", BasicAuth("all", kSecret));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json body = json::parse(res->body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 600);
  EXPECT_EQ(body["access_token"].get<std::string>().size(), 64u);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");

  auto form =
      Token("grant_type=client_credentials&client_id=all&client_secret=" +
            std::string(kSecret));
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200) << form->body;
  EXPECT_NE(json::parse(form->body)["access_token"],
            body["access_token"]); // random, not derived
  // A client whose secret the file holds only as a salted hash.
  EXPECT_FALSE(GetToken("own", kOwnSecret).empty());
}

TEST_F(PactApiTest, AuthenticationFailuresGetOAuthErrors) {
  const std::string grant = "grant_type=client_credentials";
  struct Case {
    std::string name, body, authorization;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {"wrong secret (Basic)", grant, BasicAuth("all", "wrong-secret-wrong"),
       401, "invalid_client"},
      {"unknown client (Basic)", grant, BasicAuth("nobody", kSecret), 401,
       "invalid_client"},
      {"other client's secret", grant, BasicAuth("own", kSecret), 401,
       "invalid_client"},
      {"wrong secret (form)", grant + "&client_id=all&client_secret=nope", "",
       400, "invalid_client"},
      {"no credentials", grant, "", 401, "invalid_client"},
      {"Basic not base64", grant, "Basic !!!", 401, "invalid_client"},
      {"Basic without colon", grant,
       "Basic " + cdl::crypto::Base64Encode("all"), 401, "invalid_client"},
      {"Bearer on the token endpoint", grant, "Bearer abc", 401,
       "invalid_client"},
      {"wrong grant type", "grant_type=password", BasicAuth("all", kSecret),
       400, "unsupported_grant_type"},
      {"no grant type", "", BasicAuth("all", kSecret), 400, "invalid_request"},
      {"repeated parameter", grant + "&" + grant, BasicAuth("all", kSecret),
       400, "invalid_request"},
      {"two client authentications", grant + "&client_secret=" + kSecret,
       BasicAuth("all", kSecret), 400, "invalid_request"},
  };
  for (const Case &c : cases) {
    auto res = Token(c.body, c.authorization);
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, c.status) << c.name << ": " << res->body;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_EQ(body.value("error", ""), c.error) << c.name << ": " << res->body;
    EXPECT_FALSE(body.contains("access_token")) << c.name;
  }
  // A JSON body and credentials in the URL are refused too.
  httplib::Headers basic = {{"Authorization", BasicAuth("all", kSecret)}};
  auto as_json = client_->Post("/auth/token", basic,
                               R"({"grant_type":"client_credentials"})",
                               "application/json");
  ASSERT_TRUE(as_json);
  EXPECT_EQ(as_json->status, 400);
  auto in_url = client_->Post("/auth/token?grant_type=client_credentials",
                              basic, "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(in_url);
  EXPECT_EQ(in_url->status, 400);
  auto get = client_->Get("/auth/token", basic);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
}

TEST_F(PactApiTest, BearerTokenFailuresAndExpiry) {
  EXPECT_EQ(Code(Get("/2/footprints", "")),
            std::make_pair(400, std::string("BadRequest")));
  EXPECT_EQ(Code(Get("/2/footprints", "invalid-access-token")),
            std::make_pair(400, std::string("BadRequest")));
  EXPECT_EQ(Code(Get("/2/footprints/" + PactId(1), "invalid-access-token")),
            std::make_pair(400, std::string("BadRequest")));
  httplib::Headers basic = {{"Authorization", BasicAuth("all", kSecret)}};
  EXPECT_EQ(Code(client_->Get("/2/footprints", basic)),
            std::make_pair(400, std::string("BadRequest")));

  const std::string token = GetToken();
  EXPECT_EQ(Get("/2/footprints", token)->status, 200);
  // The scheme is case-insensitive (RFC 7235).
  auto lower = client_->Get(
      "/2/footprints", httplib::Headers{{"Authorization", "bearer " + token}});
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->status, 200);

  clock_offset_s_ = 601;
  EXPECT_EQ(Code(Get("/2/footprints", token)),
            std::make_pair(401, std::string("TokenExpired")));
  // Forgotten once expired; a new token works.
  EXPECT_EQ(Code(Get("/2/footprints", token)),
            std::make_pair(400, std::string("BadRequest")));
  EXPECT_EQ(Get("/2/footprints", GetToken())->status, 200);
}

TEST_F(PactApiTest, ListFootprintsPagesWithLinkHeaders) {
  Populate(5);
  const std::string token = GetToken();
  std::set<std::string> seen;
  std::string next = "/2/footprints?limit=2";
  int pages = 0;
  const std::regex kLink(
      R"(^<https://127\.0\.0\.1:(\d+)(/2/footprints\?limit=2&cursor=[0-9a-f]+)>; rel="next"$)");
  while (!next.empty()) {
    auto res = Get(next, token);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json body = json::parse(res->body);
    ASSERT_TRUE(body["data"].is_array());
    EXPECT_LE(body["data"].size(), 2u);
    for (const auto &pf : body["data"])
      EXPECT_TRUE(seen.insert(pf["id"].get<std::string>()).second);
    ++pages;
    next.clear();
    if (res->has_header("Link")) {
      std::smatch m;
      const std::string link = res->get_header_value("Link");
      ASSERT_TRUE(std::regex_match(link, m, kLink)) << link;
      EXPECT_EQ(std::stoi(m[1]), https_->port());
      next = m[2];
    }
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 6u);
  for (const auto &[pact_id, record_id] : footprints_)
    EXPECT_TRUE(seen.count(pact_id)) << pact_id;

  // Without limit: one page, no Link.
  auto all = Get("/2/footprints", token);
  ASSERT_TRUE(all);
  EXPECT_EQ(json::parse(all->body)["data"].size(), 6u);
  EXPECT_FALSE(all->has_header("Link"));

  // The client restricted to ent-2 sees ent-2's footprint only.
  auto own = Get("/2/footprints", GetToken("own", kOwnSecret));
  ASSERT_TRUE(own);
  json own_body = json::parse(own->body);
  ASSERT_EQ(own_body["data"].size(), 1u);
  EXPECT_EQ(own_body["data"][0]["id"], ent2_footprint_);

  struct Case {
    std::string target;
    int status;
    std::string code;
  };
  for (const Case &c :
       std::vector<Case>{{"/2/footprints?limit=0", 400, "BadRequest"},
                         {"/2/footprints?limit=abc", 400, "BadRequest"},
                         {"/2/footprints?limit=-1", 400, "BadRequest"},
                         {"/2/footprints?limit=99999999999", 400, "BadRequest"},
                         {"/2/footprints?limit=1&limit=2", 400, "BadRequest"},
                         {"/2/footprints?cursor=zz", 400, "BadRequest"},
                         {"/2/footprints?page=2", 400, "BadRequest"},
                         {"/2/footprints?%24filter=created+ge+%272023-01-01%27",
                          400, "NotImplemented"},
                         {"/2/nothing", 400, "BadRequest"}}) {
    EXPECT_EQ(Code(Get(c.target, token)), std::make_pair(c.status, c.code))
        << c.target;
  }
}

TEST_F(PactApiTest, GetFootprintIsTheStoredJsonWithTheLedgerExtension) {
  Populate(2);
  const std::string token = GetToken();
  auto res = Get("/2/footprints/" + PactId(1), token);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto body = nlohmann::ordered_json::parse(res->body);
  auto pf = body["data"];
  // Exactly the stored object, with one extension appended.
  auto stored = nlohmann::ordered_json::parse(
      cdl::ledger::testing::PactFootprintJson(PactId(1), "1.234"));
  ASSERT_TRUE(pf["extensions"].is_array());
  auto extension = pf["extensions"].back();
  pf["extensions"].erase(pf["extensions"].size() - 1);
  if (pf["extensions"].empty() && !stored.contains("extensions"))
    pf.erase("extensions");
  EXPECT_EQ(pf.dump(), stored.dump());

  const std::string hex = cdl::crypto::HexEncode(footprints_[PactId(1)]);
  const std::string base =
      "https://127.0.0.1:" + std::to_string(https_->port());
  EXPECT_EQ(extension["specVersion"], "2.0.0");
  EXPECT_EQ(extension["dataSchema"],
            base + std::string(kPactExtensionSchemaPath));
  auto data = extension["data"];
  EXPECT_EQ(data["recordId"], hex);
  EXPECT_EQ(data["chainId"], "test-chain");
  EXPECT_EQ(data["status"], "active");
  EXPECT_EQ(data["record"], base + "/api/v1/records/" + hex);
  EXPECT_EQ(data["proof"], base + "/api/v1/proofs/" + hex);
  ASSERT_EQ(data["certificates"].size(), 1u);
  EXPECT_EQ(data["certificates"][0]["recordId"],
            cdl::crypto::HexEncode(certificate_));
  EXPECT_EQ(data["certificates"][0]["certifier"], "cert-cn");
  EXPECT_EQ(data["certificates"][0]["standard"], kStandard);
  EXPECT_EQ(data["certificates"][0]["status"], "active");
  // The linked record and proof resolve on the same port; the schema is served.
  for (const std::string &path : std::vector<std::string>{
           "/api/v1/records/" + hex, "/api/v1/proofs/" + hex,
           std::string(kPactExtensionSchemaPath)}) {
    auto linked = client_->Get(path.c_str());
    ASSERT_TRUE(linked);
    EXPECT_EQ(linked->status, 200) << path;
  }
  auto other = Get("/2/footprints/" + PactId(2), token);
  ASSERT_TRUE(other);
  EXPECT_TRUE(json::parse(other->body)["data"]["extensions"]
                  .back()["data"]["certificates"]
                  .empty());

  EXPECT_EQ(Code(Get("/2/footprints/non-existent-id", token)),
            std::make_pair(404, std::string("NoSuchFootprint")));
  EXPECT_EQ(Code(Get("/2/footprints/" + PactId(77), token)),
            std::make_pair(404, std::string("NoSuchFootprint")));
  EXPECT_EQ(Code(Get("/2/footprints/" + std::string(200, 'a'), token)),
            std::make_pair(404, std::string("NoSuchFootprint")));
  // Outside the restricted client's scope.
  const std::string own = GetToken("own", kOwnSecret);
  EXPECT_EQ(Code(Get("/2/footprints/" + PactId(1), own)),
            std::make_pair(403, std::string("AccessDenied")));
  EXPECT_EQ(Get("/2/footprints/" + ent2_footprint_, own)->status, 200);
}

// RequestCreated is answered at the registered events_url of the requesting
// client only: Fulfilled with the footprints it may see, Rejected
// AccessDenied / NoSuchFootprint otherwise; nothing for a client without one.
TEST_F(PactApiTest, RequestCreatedIsAnsweredAtTheRegisteredUrlOnly) {
  Populate(2); // ent-1: PactId(1), PactId(2); ent-2: PactId(900); one product
  cdl::v1::RecordBody body = chain_.Body("ent-1");
  std::string other = cdl::ledger::testing::PactFootprintJson(PactId(3), "3");
  other.replace(other.find("urn:gtin:4712345060507"), 22, "urn:gtin:0000000000017");
  body.mutable_product_footprint()->set_pact_json(other);
  Accept(chain_.Sign(body));
  const std::string type = "application/cloudevents+json; charset=UTF-8";
  auto request = [&](const std::string &token, const std::string &id,
                     const std::string &product) {
    httplib::Headers auth = {{"Authorization", "Bearer " + token}};
    json event = {{"specversion", "1.0"},
                  {"id", id},
                  {"source", "//evil.example/2/events"},
                  {"type", kPactRequestCreated},
                  {"data", {{"pf", {{"productIds", {product}}}}}}};
    auto res = client_->Post("/2/events", auth, event.dump(), type.c_str());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_TRUE(res->body.empty());
  };
  // "all" has no events_url: accepted, never answered.
  request(GetToken(), "from-all", "urn:gtin:4712345060507");
  const std::string own = GetToken("own", kOwnSecret);
  request(own, "known", "urn:gtin:4712345060507");
  request(own, "not-shared", "urn:gtin:0000000000017");
  request(own, "unknown", "urn:gtin:9999999999999");
  std::vector<OutboundRequest> events;
  for (int i = 0; i < 400 && events.size() < 3; ++i) {
    events.clear();
    for (const auto &r : events_http_->requests()) {
      EXPECT_THAT(r.url, ::testing::StartsWith("https://ent2.example/pact/"));
      if (r.url.ends_with("/2/events"))
        events.push_back(r);
    }
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events_http_->requests().front().url,
            "https://ent2.example/pact/auth/token");
  std::map<std::string, json> answers;
  for (const auto &r : events) {
    json answer = json::parse(r.body);
    answers[answer["data"]["requestEventId"]] = answer;
  }
  ASSERT_EQ(answers.count("from-all"), 0u);
  const json &fulfilled = answers["known"];
  EXPECT_EQ(fulfilled["type"], kPactRequestFulfilled);
  ASSERT_EQ(fulfilled["data"]["pfs"].size(), 1u); // only ent-2's own
  EXPECT_EQ(fulfilled["data"]["pfs"][0]["id"], ent2_footprint_);
  EXPECT_EQ(fulfilled["data"]["pfs"][0]["extensions"].back()["data"]["recordId"],
            cdl::crypto::HexEncode(footprints_[ent2_footprint_]));
  EXPECT_EQ(answers["not-shared"]["type"], kPactRequestRejected);
  EXPECT_EQ(answers["not-shared"]["data"]["error"]["code"], "AccessDenied");
  EXPECT_EQ(answers["unknown"]["type"], kPactRequestRejected);
  EXPECT_EQ(answers["unknown"]["data"]["error"]["code"], "NoSuchFootprint");
}

TEST_F(PactApiTest, EventsCallbackRegistrationIsChecked) {
  auto parse = [](json client) {
    client["client_id"] = "c";
    client["member"] = "m";
    client["client_secret"] = "0123456789abcdef";
    return ParsePactClients(json{{"clients", {client}}}.dump());
  };
  auto ok = parse({{"events_url", "https://r.example/x/2/events"},
                   {"events_client_id", "i"},
                   {"events_client_secret", "s"}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].events.token_url, "https://r.example/x/auth/token");
  for (const json &bad :
       {json{{"events_url", "https://r.example/2/events"}},
        json{{"events_url", "http://r.example/2/events"},
             {"events_client_id", "i"},
             {"events_client_secret", "s"}},
        json{{"events_url", "https://r.example/hook"},
             {"events_client_id", "i"},
             {"events_client_secret", "s"}},
        json{{"events_client_id", "i"}}}) {
    EXPECT_TRUE(absl::IsInvalidArgument(parse(bad).status())) << bad.dump();
  }
}

TEST_F(PactApiTest, EventsAreAcceptedOrRefusedAsTheSpecSays) {
  const std::string token = GetToken();
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  const std::string type = "application/cloudevents+json; charset=UTF-8";
  auto event = [](const std::string &kind, json data) {
    return json{{"specversion", "1.0"},
                {"id", "evt-1"},
                {"source", "https://webhook.example.com"},
                {"time", "2026-05-19T10:30:00Z"},
                {"type", "org.wbcsd.pathfinder." + kind + ".v1"},
                {"data", data}}
        .dump();
  };
  const cdl::v1::LedgerHead before = ledger_->head();
  for (const std::string &body :
       {event("ProductFootprintRequest.Created",
              {{"pf", {{"productIds", {"urn:gtin:1234567890123"}}}},
               {"comment", "Please send PCF data for this year."}}),
        event("ProductFootprintRequest.Fulfilled",
              {{"requestEventId", "evt-0"},
               {"pfs", json::array(
                           {json::parse(cdl::ledger::testing::PactFootprintJson(
                               PactId(5), "2"))})}}),
        event("ProductFootprintRequest.Rejected",
              {{"requestEventId", "evt-0"},
               {"error", {{"code", "NotFound"}, {"message", "none"}}}}),
        event("ProductFootprint.Published", {{"pfIds", {PactId(1)}}})}) {
    auto res = client_->Post("/2/events", auth, body, type.c_str());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << body << ": " << res->body;
    EXPECT_TRUE(res->body.empty());
  }
  struct Case {
    std::string name, body, content_type;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"not JSON", "{not json", type, 400, "BadRequest"},
      {"array", "[]", type, 400, "BadRequest"},
      {"no specversion",
       json{{"id", "x"}, {"source", "s"}, {"type", "t"}}.dump(), type, 400,
       "BadRequest"},
      {"unknown type", event("Something.Else", json::object()), type, 400,
       "NotImplemented"},
      {"created without pf",
       event("ProductFootprintRequest.Created", json::object()), type, 400,
       "BadRequest"},
      {"published with number ids",
       event("ProductFootprint.Published", {{"pfIds", {1}}}), type, 400,
       "BadRequest"},
      {"text body", event("ProductFootprint.Published", {{"pfIds", {"a"}}}),
       "text/plain", 400, "BadRequest"},
      {"deeply nested", std::string(100000, '[') + std::string(100000, ']'),
       type, 400, "BadRequest"},
  };
  for (const Case &c : cases) {
    auto res = client_->Post("/2/events", auth, c.body, c.content_type.c_str());
    EXPECT_EQ(Code(res), std::make_pair(c.status, c.code))
        << c.name << ": " << (res ? res->body : "");
  }
  // A body over the gateway's limit: 413 with a PACT error body, before any
  // handler.
  EXPECT_EQ(
      Code(client_->Post("/2/events", auth, std::string(3 * 1024 * 1024, ' '),
                         type.c_str())),
      std::make_pair(413, std::string("BadRequest")));
  // Without a token nothing is looked at.
  EXPECT_EQ(
      Code(client_->Post(
          "/2/events", event("ProductFootprint.Published", {{"pfIds", {"a"}}}),
          type.c_str())),
      std::make_pair(400, std::string("BadRequest")));
  EXPECT_EQ(Code(client_->Get("/2/events", auth)),
            std::make_pair(405, std::string("BadRequest")));
  // Events write nothing.
  EXPECT_EQ(ledger_->head().SerializeAsString(), before.SerializeAsString());
}

TEST_F(PactApiTest, PathTricksGetClean4xxAndChangeNothing) {
  Populate(1);
  const std::string token = GetToken();
  const cdl::v1::LedgerHead before = ledger_->head();
  for (const std::string &path : std::vector<std::string>{
           "/2/footprints/../footprints", "/2/footprints/%2e%2e",
           "/2//footprints", "/2/footprints/" + PactId(1) + "/x",
           "/2/footprints/a%00b", "/2/./footprints", "/auth/token/../token"}) {
    auto res = Get(path, token);
    ASSERT_TRUE(res) << path;
    EXPECT_GE(res->status, 400) << path;
    EXPECT_LT(res->status, 500) << path;
    EXPECT_THAT(res->body, ::testing::Not(HasSubstr("\"data\""))) << path;
  }
  auto put = client_->Put(
      "/2/footprints", httplib::Headers{{"Authorization", "Bearer " + token}},
      "{}", "application/json");
  ASSERT_TRUE(put);
  EXPECT_GE(put->status, 400);
  EXPECT_LT(put->status, 500);
  EXPECT_EQ(ledger_->head().SerializeAsString(), before.SerializeAsString());
}

TEST_F(PactApiTest, PlainHttpPortRefusesThePactApi) {
  Populate(1);
  const std::string token = GetToken(); // a valid token, obtained over TLS
  httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  httplib::Headers basic = {{"Authorization", BasicAuth("all", kSecret)}};
  std::vector<std::pair<std::string, httplib::Result>> answers;
  answers.emplace_back(
      "POST /auth/token",
      plain_client_->Post("/auth/token", basic, "grant_type=client_credentials",
                          "application/x-www-form-urlencoded"));
  answers.emplace_back("GET /auth/token", plain_client_->Get("/auth/token"));
  answers.emplace_back("GET /2/footprints",
                       plain_client_->Get("/2/footprints", bearer));
  answers.emplace_back(
      "GET /2/footprints/id",
      plain_client_->Get(("/2/footprints/" + PactId(1)).c_str(), bearer));
  answers.emplace_back("GET /2/footprints/unknown",
                       plain_client_->Get("/2/footprints/nope", bearer));
  answers.emplace_back("POST /2/events",
                       plain_client_->Post("/2/events", bearer, "{}",
                                           "application/cloudevents+json"));
  answers.emplace_back(
      "PUT /2/footprints",
      plain_client_->Put("/2/footprints", bearer, "{}", "application/json"));
  answers.emplace_back("DELETE /2/x", plain_client_->Delete("/2/x", bearer));
  answers.emplace_back("GET /2/%2e%2e",
                       plain_client_->Get("/2/%2e%2e", bearer));
  answers.emplace_back("GET /2", plain_client_->Get("/2", bearer));
  answers.emplace_back("POST /2/events (huge)",
                       plain_client_->Post("/2/events", bearer,
                                           std::string(3 << 20, ' '),
                                           "application/cloudevents+json"));
  for (const auto &[name, res] : answers) {
    ASSERT_TRUE(res) << name;
    EXPECT_EQ(res->status, 403) << name << ": " << res->body;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_EQ(body.value("code", ""), "AccessDenied")
        << name << ": " << res->body;
    EXPECT_FALSE(body.contains("access_token")) << name;
    EXPECT_FALSE(body.contains("data")) << name;
    EXPECT_FALSE(res->has_header("Location")) << name;
  }
  // The rest of the gateway is the same on both ports.
  for (const char *path : {"/healthz", "/api/v1/status"}) {
    auto plain = plain_client_->Get(path);
    auto tls = client_->Get(path);
    ASSERT_TRUE(plain && tls) << path;
    EXPECT_EQ(plain->status, 200) << path;
    EXPECT_EQ(tls->status, 200) << path;
  }
}

TEST(PactClientsTest, FileFormatIsCheckedAndDevFileIsPrivate) {
  struct Case {
    std::string text, error;
  };
  for (
      const Case &c : std::vector<Case>{
          {"[]", "not a JSON object"},
          {R"({"clients": {}})", "must be an array"},
          {R"({"client": []})", "unknown key"},
          {R"({"clients": [{"client_id": "a", "member": "m"}]})",
           "either client_secret"},
          {R"({"clients": [{"client_id": "a", "member": "m", "client_secret": "short"}]})",
           "at least 16"},
          {R"({"clients": [{"client_id": "a", "client_secret": "0123456789abcdef"}]})",
           "member is required"},
          {R"({"clients": [{"client_id": "a:b", "member": "m", "client_secret": "0123456789abcdef"}]})",
           "':'"},
          {R"({"clients": [{"client_id": "a", "member": "m", "client_secret": "0123456789abcdef"},
                            {"client_id": "a", "member": "n", "client_secret": "0123456789abcdef"}]})",
           "repeated"},
          {R"({"clients": [{"client_id": "a", "member": "m", "secret_salt": "s", "secret_sha256": "xyz"}]})",
           "64 hex digits"},
          {R"({"clients": [{"client_id": "a", "member": "m", "client_secret": "0123456789abcdef", "url": "x"}]})",
           "unknown key"},
      }) {
    auto parsed = ParsePactClients(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.error))
        << c.text;
  }

  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("cdl_pact_clients_" + std::to_string(::getpid()) + ".json"))
          .string();
  std::filesystem::remove(path);
  auto written = EnsureDevPactClients(path, "dev-regulator");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(*written);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto clients = LoadPactClients(path);
  ASSERT_TRUE(clients.ok()) << clients.status();
  ASSERT_EQ(clients->size(), 1u);
  EXPECT_EQ((*clients)[0].member, "dev-regulator");
  std::ifstream in(path);
  const std::string before((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
  auto again = EnsureDevPactClients(path, "dev-regulator");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again); // kept as it is
  std::ifstream in2(path);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in2)),
                        std::istreambuf_iterator<char>()),
            before);
  std::filesystem::remove(path);
}

} // namespace
} // namespace cdl::http
