// The HTTP gateway over a real in-process node (memory store, one validator),
// served by the real HttpServer on a free loopback port and reached with
// cpp-httplib's client or raw bytes on a socket: every endpoint, a table of bad
// requests (status, error code, nothing changed), the metrics format, and the
// passport verifier against a passport exported from this very ledger.
#include "node/http/gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli/passport_export.h"
#include "crypto/hash.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "node/http/server.h"
#include "node/http/web_assets.h"
#include "node/ledger/test_util.h"
#include "node/verify/authority.h"
#include "node/verify/json_view.h"
#include "node/verify/passport.h"
#include "tests/passport/passport_fixture.h"

namespace cdl::http {
namespace {

using cdl::ledger::testing::TestChain;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr int64_t kYearMs = 365LL * 86'400'000;
constexpr char kStandard[] = "ISO 14067";

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Status line and body of a raw HTTP exchange.
struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
};

// Sends `request` bytes as they are (no client-side normalisation) and reads
// the answer until the server closes the connection.
RawResponse SendRaw(int port, const std::string& request) {
  RawResponse out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return out;
  }
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) and close before reading everything
    sent += static_cast<size_t>(n);
  }
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    // Done once the head and Content-Length bytes of body are in.
    size_t end = data.find("\r\n\r\n");
    size_t length = data.find("Content-Length: ");
    if (end != std::string::npos && length != std::string::npos && length < end &&
        data.size() >= end + 4 + std::stoul(data.substr(length + 16))) {
      break;
    }
  }
  close(fd);
  size_t end = data.find("\r\n\r\n");
  out.head = data.substr(0, end);
  out.body = end == std::string::npos ? "" : data.substr(end + 4);
  if (data.rfind("HTTP/1.1 ", 0) == 0) out.status = std::atoi(data.c_str() + 9);
  return out;
}

// Each metric family: its TYPE and the sample lines.
struct Family {
  std::string type;
  bool help = false;
  std::vector<std::string> samples;
};

// Parses the text exposition format strictly enough to catch what Prometheus
// would refuse: every sample belongs to a family announced by HELP and TYPE.
::testing::AssertionResult ParseMetrics(const std::string& text, std::map<std::string, Family>* families) {
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? ([-+0-9.e]+|\+Inf|-Inf|NaN)$)");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      (*families)[line.substr(7, line.find(' ', 7) - 7)].help = true;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      size_t space = line.find(' ', 7);
      (*families)[line.substr(7, space - 7)].type = line.substr(space + 1);
    } else if (std::regex_match(line, m, kSample)) {
      std::string name = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string base = name.substr(0, name.size() - std::min(name.size(), std::strlen(suffix)));
        if (name.size() > std::strlen(suffix) && name.ends_with(suffix) && families->count(base) &&
            (*families)[base].type == "histogram") {
          name = base;
        }
      }
      auto it = families->find(name);
      if (it == families->end() || !it->second.help || it->second.type.empty()) {
        return ::testing::AssertionFailure() << "sample before its HELP/TYPE: " << line;
      }
      it->second.samples.push_back(line);
    } else {
      return ::testing::AssertionFailure() << "not a metrics line: \"" << line << "\"";
    }
  }
  for (const auto& [name, f] : *families) {
    if (!f.help || f.type.empty()) return ::testing::AssertionFailure() << name << " lacks HELP or TYPE";
  }
  return ::testing::AssertionSuccess();
}

// Value of the sample line starting with `prefix` ("name{labels} " or "name ").
std::optional<double> SampleValue(const std::string& metrics, const std::string& prefix) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size()));
  }
  return std::nullopt;
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = cdl::ledger::Ledger::Open(cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()),
                                            chain_.genesis());
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = ledger->get();  // the node owns it; reads are safe from any thread
    cdl::net::NodeOptions options;
    options.validator_id = "v1";
    options.flush_interval = absl::Milliseconds(1);
    auto node = cdl::net::Node::Create(*std::move(ledger), chain_.TakeValidatorKey(), options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    node_->Start();
    gateway_ = std::make_unique<Gateway>(node_.get(), GatewayOptions{});
    auto server = HttpServer::Start(gateway_.get(), "127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    gateway_.reset();
    if (node_) node_->Stop();
  }

  // Submits and waits for the final receipt.
  cdl::v1::Receipt Commit(const std::string& record) {
    std::promise<absl::StatusOr<cdl::v1::Receipt>> done;
    auto future = done.get_future();
    node_->Submit(record, true, absl::Seconds(20),
                  [&done](absl::StatusOr<cdl::v1::Receipt> r) { done.set_value(std::move(r)); });
    absl::StatusOr<cdl::v1::Receipt> receipt = future.get();
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return receipt.ok() ? *receipt : cdl::v1::Receipt();
  }
  std::string Accept(const std::string& record) {
    cdl::v1::Receipt r = Commit(record);
    EXPECT_EQ(r.status(), cdl::v1::RECORD_ACCEPTED) << r.message();
    return r.record_id();
  }

  // The certification story of tests/passport: ent-1's footprint certified
  // by cert-cn under its CN accreditation, recognised in the EU.
  void Certify() {
    Accept(chain_.Register("reg-cn", "acc-cn", cdl::v1::ROLE_ACCREDITOR, "CN"));
    Accept(chain_.Register("reg-eu", "acc-eu", cdl::v1::ROLE_ACCREDITOR, "EU"));
    Accept(chain_.Register("reg-cn", "cert-cn", cdl::v1::ROLE_CERTIFIER, "CN"));
    Accept(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
    Accept(chain_.Register("park-a", "ent-1", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"));
    footprint_ = Accept(chain_.Footprint("ent-1", "3893bb5d-da16-4dc1-9185-11d97476c254"));
    const int64_t now = NowMs();
    Accept(chain_.Accreditation("acc-cn", "cert-cn", {kStandard}, {"CN"}, 0, now + kYearMs));
    Accept(chain_.Certificate("cert-cn", footprint_, kStandard, "CN", 0, now + kYearMs / 2));
    Accept(chain_.Agreement("acc-cn", "CN", "acc-eu", "EU", {kStandard}, cdl::v1::DIRECTION_MUTUAL, 0, now + kYearMs,
                            {"acc-eu"}));
  }

  std::string ExportPassport(const std::string& jurisdiction = "EU") {
    cdl::passport_testing::LedgerSource source(*ledger_);
    auto exported = cdl::cli::BuildPassport(source, footprint_, jurisdiction);
    EXPECT_TRUE(exported.ok()) << exported.status();
    return exported.ok() ? cdl::verify::EncodePassport(exported->passport) : "";
  }

  json GetJson(const std::string& path, int expected_status = 200) {
    auto res = client_->Get(path.c_str());
    EXPECT_TRUE(res) << path;
    if (!res) return json();
    EXPECT_EQ(res->status, expected_status) << path << ": " << res->body;
    EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("application/json")) << path;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << path << ": " << res->body;
    return body;
  }

  std::string Metrics() {
    auto res = client_->Get("/metrics");
    EXPECT_TRUE(res);
    return res ? res->body : "";
  }

  TestChain chain_;
  cdl::ledger::Ledger* ledger_ = nullptr;
  std::unique_ptr<cdl::net::Node> node_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string footprint_;
};

std::string Hex(const std::string& raw) { return cdl::crypto::HexEncode(raw); }

TEST_F(GatewayTest, HealthAndReadinessOfASingleValidator) {
  EXPECT_EQ(GetJson("/healthz"), (json{{"status", "ok"}}));
  json ready = GetJson("/readyz");
  EXPECT_EQ(ready["ready"], true);
  EXPECT_EQ(ready["height"], 0);
  auto head = client_->Head("/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

TEST_F(GatewayTest, StatusRecordReceiptBlockAndQuery) {
  std::string park = Accept(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  std::string disclosure = Accept(chain_.Disclosure("park-a", "2026", "12.5"));
  cdl::v1::Receipt receipt = *ledger_->GetReceipt(disclosure);

  json status = GetJson("/api/v1/status");
  EXPECT_EQ(status["chain_id"], "test-chain");
  EXPECT_EQ(status["node_id"], "v1");
  EXPECT_EQ(status["height"], receipt.height());
  EXPECT_EQ(status["ledger_size"], 2);
  EXPECT_EQ(status["validators"], 1);
  EXPECT_EQ(status["ledger_root"], Hex(ledger_->head().ledger_root()));

  // The record as `cdl get --json` shows it: the same function renders both.
  json record = GetJson("/api/v1/records/" + Hex(disclosure));
  auto parsed = cdl::verify::ParseSignedRecord(*ledger_->GetRecord(disclosure));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(record, cdl::verify::RecordJson(*parsed, receipt, *ledger_->GetRecord(disclosure)));
  EXPECT_EQ(record["type"], "disclosure");
  EXPECT_EQ(record["body"]["disclosure"]["scope1_tco2e"], "12.5");
  EXPECT_EQ(record["receipt"]["status"], "ACCEPTED");
  // Upper-case hex names the same record.
  std::string upper = Hex(disclosure);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(GetJson("/api/v1/records/" + upper)["record_id"], Hex(disclosure));

  json r = GetJson("/api/v1/receipts/" + Hex(park));
  EXPECT_EQ(r["status"], "ACCEPTED");
  EXPECT_EQ(r["author"], "reg-cn");
  EXPECT_EQ(r["ledger_index"], 0);

  json block = GetJson("/api/v1/blocks/" + std::to_string(receipt.height()));
  EXPECT_EQ(block["height"], receipt.height());
  EXPECT_EQ(block["certified"], true);
  EXPECT_EQ(block["commit"]["signers"], json::array({"v1"}));
  ASSERT_EQ(block["records"].size(), 1u);
  EXPECT_EQ(block["records"][0]["record_id"], Hex(disclosure));
  EXPECT_EQ(block["records"][0]["type"], "disclosure");
  EXPECT_EQ(block["records"][0]["status"], "ACCEPTED");
  EXPECT_EQ(block["header"]["ledger_root"], Hex(ledger_->head().ledger_root()));

  json latest = GetJson("/api/v1/blocks?limit=1");
  ASSERT_EQ(latest["blocks"].size(), 1u);
  EXPECT_EQ(latest["blocks"][0]["height"], receipt.height());
  json all = GetJson("/api/v1/blocks");
  ASSERT_EQ(all["blocks"].size(), ledger_->head().height());
  EXPECT_GT(all["blocks"][0]["height"], all["blocks"][1]["height"]);  // newest first

  json by_member = GetJson("/api/v1/query?member=park-a");
  std::set<std::string> ids;
  for (const auto& e : by_member["records"]) ids.insert(e["record_id"]);
  EXPECT_EQ(ids, (std::set<std::string>{Hex(park), Hex(disclosure)}));
  json by_type = GetJson("/api/v1/query?type=disclosure&period=2026");
  ASSERT_EQ(by_type["records"].size(), 1u);
  EXPECT_EQ(by_type["records"][0]["author"], "park-a");
  // Paging: one record per page, the token leads to the next.
  json page1 = GetJson("/api/v1/query?member=park-a&page_size=1");
  ASSERT_EQ(page1["records"].size(), 1u);
  ASSERT_FALSE(page1["next_page_token"].get<std::string>().empty());
  json page2 = GetJson("/api/v1/query?member=park-a&page_size=1&page_token=" +
                       page1["next_page_token"].get<std::string>());
  ASSERT_EQ(page2["records"].size(), 1u);
  EXPECT_NE(page2["records"][0]["record_id"], page1["records"][0]["record_id"]);
}

// The certificate filters of the ledger's QueryFilter, as `cdl query
// --standard/--certificate-status` and gRPC Query take them.
TEST_F(GatewayTest, QueryByCertificateStandardStatusAndTime) {
  Certify();  // one ISO 14067 certificate on footprint_, valid for half a year
  auto ids = [&](const std::string& query) {
    json answer = GetJson("/api/v1/query?" + query);
    std::vector<std::string> out;
    for (const auto& e : answer["records"]) out.push_back(e["record_id"]);
    return out;
  };
  auto certs = ledger_->CertificatesOf(footprint_);
  ASSERT_TRUE(certs.ok() && certs->size() == 1u);
  const std::vector<std::string> cert = {Hex(certs->front())};
  const std::vector<std::string> none;
  const std::string later = std::to_string(NowMs() + kYearMs);

  EXPECT_EQ(ids("standard=ISO%2014067"), cert);
  EXPECT_EQ(ids("standard=ISO%2014064-3"), none);
  EXPECT_EQ(ids("standard=ISO%2014067&type=certificate&member=ent-1"), cert);
  EXPECT_EQ(ids("standard=ISO%2014067&type=disclosure"), none);  // only certificates have a standard
  EXPECT_EQ(ids("certificate_status=active"), cert);
  EXPECT_EQ(ids("certificate_status=expired"), none);
  EXPECT_EQ(ids("certificate_status=suspended"), none);
  EXPECT_EQ(ids("certificate_status=revoked"), none);
  // A year from now the half-year certificate has expired.
  EXPECT_EQ(ids("certificate_status=expired&as_of_ms=" + later), cert);
  EXPECT_EQ(ids("certificate_status=active&as_of_ms=" + later), none);
  EXPECT_EQ(ids("certificate_status=active&standard=ISO%2014067&as_of_ms=" + std::to_string(NowMs())), cert);

  Accept(chain_.StatusChange("cert-cn", cdl::v1::RecordBody::kSuspension, cdl::ledger::testing::RecordTarget(certs->front()),
                             "audit"));
  EXPECT_EQ(ids("certificate_status=suspended&standard=ISO%2014067"), cert);
  EXPECT_EQ(ids("certificate_status=active"), none);

  // Bad values: 400 naming the parameter, nothing queried.
  struct Bad {
    std::string query;
    std::string parameter;
  };
  for (const Bad& bad : {Bad{"certificate_status=valid", "certificate_status"},
                         Bad{"certificate_status=ACTIVE", "certificate_status"},
                         Bad{"as_of_ms=0", "as_of_ms"},
                         Bad{"as_of_ms=-5", "as_of_ms"},
                         Bad{"as_of_ms=soon", "as_of_ms"},
                         Bad{"as_of_ms=99999999999999999999", "as_of_ms"},
                         Bad{"standard=ISO%0114067", "standard"},
                         Bad{"standard=" + std::string(300, 'x'), "standard"}}) {
    json error = GetJson("/api/v1/query?" + bad.query, 400);
    EXPECT_EQ(error["error"]["code"], "INVALID_ARGUMENT") << bad.query;
    EXPECT_THAT(error["error"]["message"].get<std::string>(), HasSubstr(bad.parameter)) << bad.query;
  }
}

TEST_F(GatewayTest, CheckpointsAndProofsVerifyOfflineAgainstTheGenesis) {
  std::string id = Accept(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  const cdl::verify::TrustedGenesis genesis = chain_.genesis();

  json latest = GetJson("/api/v1/checkpoints/latest");
  EXPECT_EQ(latest["height"], ledger_->head().height());
  EXPECT_EQ(latest["certified"], true);
  cdl::v1::Checkpoint checkpoint;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(latest["checkpoint"].dump(), &checkpoint).ok());
  EXPECT_TRUE(cdl::verify::VerifyCheckpoint(genesis, checkpoint).ok());
  EXPECT_EQ(GetJson("/api/v1/checkpoints/1")["height"], 1);

  // The proof bundle is the file `cdl proof` writes (`cdl verify-proof` reads it).
  auto res = client_->Get(("/api/v1/proofs/" + Hex(id)).c_str());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  cdl::v1::ProofBundle bundle;
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &bundle, strict).ok()) << res->body;
  auto header = cdl::verify::VerifyCheckpoint(genesis, bundle.checkpoint());
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_TRUE(cdl::verify::VerifyRecordInclusion(*header, bundle.proof(), id).ok());
  EXPECT_EQ(cdl::verify::ParseSignedRecord(bundle.signed_record())->id, id);
}

TEST_F(GatewayTest, NoCheckpointBeforeTheFirstBlock) {
  json error = GetJson("/api/v1/checkpoints/latest", 404);
  EXPECT_EQ(error["error"]["code"], "NOT_FOUND");
}

TEST_F(GatewayTest, PassportVerifierGivesTheCliVerdict) {
  Certify();
  std::string passport = ExportPassport("EU");
  ASSERT_FALSE(passport.empty());
  const int64_t at_ms = (NowMs() / 1000 + 86'400) * 1000;  // tomorrow, whole seconds
  const std::string at = cdl::verify::FormatUtc(at_ms);
  auto res = client_->Post("/api/v1/passport/verify?at=" + at, passport, "application/octet-stream");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json verdict = json::parse(res->body);
  EXPECT_EQ(verdict["verdict"], "VALID") << res->body;
  EXPECT_EQ(verdict["jurisdiction"], "EU");
  EXPECT_EQ(verdict["subject"]["product"], "Steel bar 10mm");
  EXPECT_EQ(verdict["subject"]["pcf"], "1.234");
  EXPECT_EQ(verdict["certificates"][0]["certifier"], "cert-cn");
  EXPECT_EQ(verdict["certificates"][0]["counts"], true);
  EXPECT_THAT(verdict["certificates"][0]["recognised_by"].get<std::string>(), HasSubstr("acc-eu"));
  // Exactly what `cdl passport verify --json` prints for the same file and time.
  cdl::verify::PassportCheckOptions check;
  check.at_ms = at_ms;
  check.now_ms = NowMs();
  EXPECT_EQ(verdict,
            cdl::verify::PassportVerdictJson(cdl::verify::VerifyPassport(chain_.genesis(), passport, check)));

  // For a jurisdiction with no recognition: INVALID with the reason.
  json us = json::parse(client_->Post("/api/v1/passport/verify?jurisdiction=US", passport,
                                      "application/octet-stream")->body);
  EXPECT_EQ(us["verdict"], "INVALID");
  EXPECT_FALSE(us["reasons"].empty());

  // One flipped byte: INVALID, every reason listed.
  std::string tampered = passport;
  tampered[tampered.size() / 2] ^= 0x01;
  auto bad = client_->Post("/api/v1/passport/verify", tampered, "application/octet-stream");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 200);
  json invalid = json::parse(bad->body);
  EXPECT_EQ(invalid["verdict"], "INVALID");
  EXPECT_FALSE(invalid["reasons"].empty());
  // curl's default form content type still carries the file's bytes.
  auto form = client_->Post("/api/v1/passport/verify", passport, "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(json::parse(form->body)["verdict"], "VALID") << form->body;
}

// Every bad request gets a clean 4xx with a JSON error and changes nothing.
TEST_F(GatewayTest, BadRequestTable) {
  Accept(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  const cdl::v1::LedgerHead before = ledger_->head();
  const cdl::net::NodeStats stats_before = node_->stats();
  const std::string unknown_id(64, 'a');
  const std::string big(3 * 1024 * 1024, 'x');

  struct Case {
    std::string name;
    std::string request;  // raw HTTP/1.1 request
    int status;
    std::string code;  // error.code, "" when the body is not checked
  };
  auto get = [](const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  };
  auto send = [](const std::string& method, const std::string& target, const std::string& body,
                 const std::string& type = "application/octet-stream") {
    return method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  std::vector<Case> cases = {
      {"id not hex", get("/api/v1/records/xyz"), 400, "INVALID_ARGUMENT"},
      {"id too short", get("/api/v1/records/" + std::string(63, 'a')), 400, "INVALID_ARGUMENT"},
      {"id too long", get("/api/v1/records/" + std::string(66, 'a')), 400, "INVALID_ARGUMENT"},
      {"unknown record", get("/api/v1/records/" + unknown_id), 404, "NOT_FOUND"},
      {"unknown receipt", get("/api/v1/receipts/" + unknown_id), 404, "NOT_FOUND"},
      {"unknown proof", get("/api/v1/proofs/" + unknown_id), 404, "NOT_FOUND"},
      {"bad proof id", get("/api/v1/proofs/12"), 400, "INVALID_ARGUMENT"},
      {"block 0", get("/api/v1/blocks/0"), 400, "INVALID_ARGUMENT"},
      {"block not a number", get("/api/v1/blocks/abc"), 400, "INVALID_ARGUMENT"},
      {"block negative", get("/api/v1/blocks/-1"), 400, "INVALID_ARGUMENT"},
      {"block exponent", get("/api/v1/blocks/1e3"), 400, "INVALID_ARGUMENT"},
      {"block overflow", get("/api/v1/blocks/18446744073709551616"), 400, "INVALID_ARGUMENT"},
      {"block in the future", get("/api/v1/blocks/999999"), 404, "NOT_FOUND"},
      {"limit 0", get("/api/v1/blocks?limit=0"), 400, "INVALID_ARGUMENT"},
      {"limit too big", get("/api/v1/blocks?limit=51"), 400, "INVALID_ARGUMENT"},
      {"limit not a number", get("/api/v1/blocks?limit=ten"), 400, "INVALID_ARGUMENT"},
      {"checkpoint 0", get("/api/v1/checkpoints/0"), 400, "INVALID_ARGUMENT"},
      {"checkpoint word", get("/api/v1/checkpoints/newest"), 400, "INVALID_ARGUMENT"},
      {"unknown parameter", get("/api/v1/query?bogus=1"), 400, "INVALID_ARGUMENT"},
      {"repeated parameter", get("/api/v1/query?member=a&member=b"), 400, "INVALID_ARGUMENT"},
      {"parameter on a record", get("/api/v1/records/" + unknown_id + "?x=1"), 400, "INVALID_ARGUMENT"},
      {"unknown type", get("/api/v1/query?type=nope"), 400, "INVALID_ARGUMENT"},
      {"bad period", get("/api/v1/query?period=20x6"), 400, "INVALID_ARGUMENT"},
      {"page size 0", get("/api/v1/query?page_size=0"), 400, "INVALID_ARGUMENT"},
      {"page size huge", get("/api/v1/query?page_size=100000"), 400, "INVALID_ARGUMENT"},
      {"forged page token", get("/api/v1/query?page_token=zz"), 400, "INVALID_ARGUMENT"},
      {"control byte in member", get("/api/v1/query?member=a%01b"), 400, "INVALID_ARGUMENT"},
      {"parameter on metrics", get("/metrics?format=json"), 400, "INVALID_ARGUMENT"},
      {"unknown endpoint", get("/api/v1/nothing"), 404, "NOT_FOUND"},
      {"unknown top level", get("/admin"), 404, "NOT_FOUND"},
      {"POST to a read", send("POST", "/api/v1/status", "{}", "application/json"), 405, "METHOD_NOT_ALLOWED"},
      {"GET the verifier", get("/api/v1/passport/verify"), 405, "METHOD_NOT_ALLOWED"},
      {"DELETE a record", send("DELETE", "/api/v1/records/" + unknown_id, ""), 405, "METHOD_NOT_ALLOWED"},
      {"PUT metrics", send("PUT", "/metrics", "x"), 405, "METHOD_NOT_ALLOWED"},
      {"PATCH the page", send("PATCH", "/", "x"), 405, "METHOD_NOT_ALLOWED"},
      {"empty passport", send("POST", "/api/v1/passport/verify", ""), 400, "INVALID_ARGUMENT"},
      {"bad JSON instead of a passport", send("POST", "/api/v1/passport/verify", "{\"bad", "application/json"), 415,
       "UNSUPPORTED_MEDIA_TYPE"},
      {"form upload",
       send("POST", "/api/v1/passport/verify",
            "--x\r\nContent-Disposition: form-data; name=\"passport\"; filename=\"a.cdlp\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\nDATA\r\n--x--\r\n",
            "multipart/form-data; boundary=x"),
       415, "UNSUPPORTED_MEDIA_TYPE"},
      {"broken form upload", send("POST", "/api/v1/passport/verify", "--x--", "multipart/form-data; boundary=x"), 400,
       "INVALID_ARGUMENT"},
      {"lower-case jurisdiction", send("POST", "/api/v1/passport/verify?jurisdiction=eu", "x"), 400,
       "INVALID_ARGUMENT"},
      {"bad time", send("POST", "/api/v1/passport/verify?at=yesterday", "x"), 400, "INVALID_ARGUMENT"},
      {"huge body", send("POST", "/api/v1/passport/verify", big), 413, "PAYLOAD_TOO_LARGE"},
      {"huge declared body",
       "POST /api/v1/passport/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 999999999\r\n\r\n",
       413, "PAYLOAD_TOO_LARGE"},
      {"dot-dot", get("/api/v1/../metrics"), 400, "INVALID_ARGUMENT"},
      {"dot", get("/api/v1/./status"), 400, "INVALID_ARGUMENT"},
      {"encoded dot-dot", get("/api/v1/records/%2e%2e/status"), 400, "INVALID_ARGUMENT"},
      {"encoded slash", get("/api/v1%2Fstatus"), 400, "INVALID_ARGUMENT"},
      {"encoded id", get("/api/v1/records/%61" + std::string(63, 'a')), 400, "INVALID_ARGUMENT"},
      {"double slash", get("//api/v1/status"), 400, "INVALID_ARGUMENT"},
      {"backslash", get("/api\\v1\\status"), 400, "INVALID_ARGUMENT"},
      {"long path", get("/api/v1/records/" + std::string(2000, 'a')), 414, "URI_TOO_LONG"},
      {"path near the library's limit", get("/" + std::string(8000, 'a')), 414, "URI_TOO_LONG"},
      {"very long path", get("/" + std::string(9000, 'a')), 414, "URI_TOO_LONG"},
      {"garbage request line", "GARBAGE\r\n\r\n", 400, "INVALID_ARGUMENT"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawResponse r = SendRaw(server_->port(), c.request);
    EXPECT_EQ(r.status, c.status) << r.head << "\n" << r.body;
    json body = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r.body;
    EXPECT_EQ(body["error"]["code"], c.code) << r.body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    if (c.status == 405) {
      EXPECT_THAT(r.head, HasSubstr("Allow: "));
    }
  }
  // Nothing changed, nothing was admitted.
  const cdl::v1::LedgerHead after = ledger_->head();
  EXPECT_EQ(after.height(), before.height());
  EXPECT_EQ(after.ledger_size(), before.ledger_size());
  EXPECT_EQ(after.state_root(), before.state_root());
  EXPECT_EQ(node_->stats().admitted, stats_before.admitted);
  EXPECT_EQ(node_->mempool_size(), 0u);
  // And the server still answers.
  EXPECT_EQ(GetJson("/healthz")["status"], "ok");
}

TEST_F(GatewayTest, MetricsAreWellFormedWithAtLeastTenFamilies) {
  std::map<std::string, Family> idle;
  std::string text = Metrics();
  ASSERT_TRUE(ParseMetrics(text, &idle)) << text;
  EXPECT_GE(idle.size(), 10u) << text;
  for (const char* name : {"cdl_commit_height", "cdl_ledger_size", "cdl_certified_height", "cdl_blocks_committed_total",
                           "cdl_block_records", "cdl_records_total", "cdl_rejected_records_total",
                           "cdl_submit_to_commit_seconds", "cdl_mempool_records", "cdl_consensus_round",
                           "cdl_peer_connections", "cdl_http_requests_total", "process_start_time_seconds"}) {
    EXPECT_TRUE(idle.count(name)) << name << " missing";
  }
  EXPECT_EQ(idle["cdl_block_records"].type, "histogram");
  EXPECT_EQ(idle["cdl_blocks_committed_total"].type, "counter");
  EXPECT_EQ(idle["cdl_commit_height"].type, "gauge");

  // Activity shows: an accepted and a rejected record (a second registration
  // of the same member).
  Accept(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  cdl::v1::Receipt rejected = Commit(chain_.Register("reg-cn", "park-a", cdl::v1::ROLE_PARK, "CN"));
  ASSERT_EQ(rejected.status(), cdl::v1::RECORD_REJECTED);
  const std::string code = cdl::verify::RejectCodeName(rejected.code());
  text = Metrics();
  std::map<std::string, Family> busy;
  ASSERT_TRUE(ParseMetrics(text, &busy)) << text;
  EXPECT_EQ(SampleValue(text, "cdl_commit_height "), static_cast<double>(ledger_->head().height()));
  EXPECT_EQ(SampleValue(text, "cdl_ledger_size "), 1.0);
  EXPECT_EQ(SampleValue(text, "cdl_records_total{status=\"accepted\"} "), 1.0);
  EXPECT_EQ(SampleValue(text, "cdl_records_total{status=\"rejected\"} "), 1.0);
  EXPECT_EQ(SampleValue(text, "cdl_rejected_records_total{code=\"" + code + "\"} "), 1.0) << text;
  EXPECT_EQ(SampleValue(text, "cdl_submit_to_commit_seconds_count "), 2.0);
  EXPECT_EQ(SampleValue(text, "cdl_block_records_count "), static_cast<double>(ledger_->head().height()));
  EXPECT_GE(SampleValue(text, "cdl_http_requests_total{code=\"200\"} ").value_or(0), 1.0);
  EXPECT_GT(SampleValue(text, "process_start_time_seconds ").value_or(0), 1.6e9);

  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(GatewayTest, WebPageIsServedWholeFromTheNode) {
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_THAT(page->body, HasSubstr("Verify a passport"));
  EXPECT_THAT(page->body, HasSubstr("aria-live=\"polite\""));
  for (const char* path : {"/static/app.js", "/static/style.css"}) {
    auto asset = client_->Get(path);
    ASSERT_TRUE(asset) << path;
    EXPECT_EQ(asset->status, 200) << path;
    EXPECT_FALSE(asset->body.empty()) << path;
  }
  // No CDN, no other origin: the page needs nothing but this node.
  for (const char* path : {"/", "/static/app.js", "/static/style.css"}) {
    std::string_view body = FindWebAsset(path)->body;
    EXPECT_EQ(body.find("http://"), std::string_view::npos) << path;
    EXPECT_EQ(body.find("https://"), std::string_view::npos) << path;
    EXPECT_EQ(body.find("//cdn"), std::string_view::npos) << path;
  }
}

TEST_F(GatewayTest, ServerStartsAndStopsPromptlyAndRefusesATakenPort) {
  for (int i = 0; i < 20; ++i) {
    auto server = HttpServer::Start(gateway_.get(), "127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.status();
    (*server)->Stop();  // must not hang, however early
  }
  auto taken = HttpServer::Start(gateway_.get(), "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kUnavailable);
}

TEST(HttpServerTest, ParseHostPort) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:7480"), std::make_pair(std::string("127.0.0.1"), 7480));
  EXPECT_EQ(*ParseHostPort("[::1]:0"), std::make_pair(std::string("::1"), 0));
  for (const char* bad : {"", "7480", ":7480", "host:", "host:port", "host:70000", "host:-1", "[]:1"}) {
    EXPECT_EQ(ParseHostPort(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// A validator of a 4-validator chain is ready only with a quorum of peers.
TEST(GatewayReadinessTest, ClusterValidatorNeedsAQuorumOfPeers) {
  struct NullNetwork : cdl::net::PeerNetwork {
    void Send(uint32_t, const cdl::peer::v1::PeerMessage&) override {}
    void Broadcast(const cdl::peer::v1::PeerMessage&) override {}
  } network;
  TestChain chain(4);
  auto ledger = cdl::ledger::Ledger::Open(cdl::storage::NewMemoryStore(cdl::ledger::LedgerColumns()), chain.genesis());
  ASSERT_TRUE(ledger.ok());
  cdl::net::NodeOptions options;
  options.validator_id = "v1";
  options.network = &network;
  auto node = cdl::net::Node::Create(*std::move(ledger), chain.TakeValidatorKey(), options);
  ASSERT_TRUE(node.ok()) << node.status();

  uint32_t peers = 1;
  GatewayOptions gateway_options;
  gateway_options.connected_peers = [&peers] { return peers; };
  Gateway gateway(node->get(), gateway_options);
  HttpRequest ready;
  ready.method = "GET";
  ready.path = "/readyz";
  HttpResponse r = gateway.Handle(ready);
  EXPECT_EQ(r.status, 503);
  json body = json::parse(r.body);
  EXPECT_EQ(body["ready"], false);
  EXPECT_EQ(body["error"]["code"], "UNAVAILABLE");
  EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("a quorum needs 2"));

  peers = 2;  // with itself, 3 of 4 = a quorum
  r = gateway.Handle(ready);
  EXPECT_EQ(r.status, 200) << r.body;
  HttpRequest metrics;
  metrics.method = "GET";
  metrics.path = "/metrics";
  EXPECT_THAT(gateway.Handle(metrics).body, HasSubstr("cdl_peer_connections 2\n"));
}

}  // namespace
}  // namespace cdl::http
