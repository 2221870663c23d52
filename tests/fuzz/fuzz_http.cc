// HTTP request handling. Input: the bytes of one HTTP/1.1 request as a client
// sends it ("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"), answered by
// the node's HTTP gateway (node/http/gateway.h) over a real in-process node
// whose ledger is the fuzz world's (world.h: memory store, committed blocks).
//
// The request is cut into what node/http/server.cc hands the gateway
// (http_request.h), as received on the plain port: the PACT API's paths are
// refused there, and fuzz_pact_api feeds them to the PACT API as on HTTPS.
// In the target, "{footprint}", "{disclosure}", "{accreditation}",
// "{certificate}" and "{agreement}" become the hex ids of the world's records,
// so seeds reach real records whatever their ids.
//
// Properties, for every input:
//   - never a 5xx: malformed requests are the client's error, 4xx;
//   - every non-2xx answer is {"error": {"code": "...", "message": "..."}}
//     ({"code": ..., "message": ...} on the PACT API's paths);
//     every application/json answer is valid JSON;
//   - nothing changes: the gateway only reads, so the ledger head (height,
//     size, roots) and the mempool are the same after every request.
// CDL_FUZZ_VERBOSE=1 prints each request's status and the start of its body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "ledger.pb.h"
#include "nlohmann/json.hpp"
#include "node/http/gateway.h"
#include "node/net/node.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/http_request.h"
#include "tests/fuzz/world.h"

namespace {

using cdl::http::HttpRequest;
using cdl::http::HttpResponse;

// The node's peers: the world has four validators, so the node orders blocks
// by BFT and needs a network. It is never started: nothing is sent.
class NoNetwork : public cdl::net::PeerNetwork {
public:
  void Send(uint32_t, const cdl::peer::v1::PeerMessage &) override {}
  void Broadcast(const cdl::peer::v1::PeerMessage &) override {}
};

struct Server {
  NoNetwork network;
  std::unique_ptr<cdl::net::Node> node;
  std::unique_ptr<cdl::http::Gateway> gateway;
  std::vector<std::pair<std::string, std::string>>
      ids; // placeholder -> hex record id
};

Server &TheServer() {
  static Server *server = [] {
    auto *s = new Server;
    cdl::fuzz::World &world = cdl::fuzz::TheWorld();
    s->ids = {
        {"{footprint}", cdl::crypto::HexEncode(world.footprint)},
        {"{disclosure}", cdl::crypto::HexEncode(world.disclosure)},
        {"{accreditation}", cdl::crypto::HexEncode(world.accreditation)},
        {"{certificate}", cdl::crypto::HexEncode(world.footprint_certificate)},
        {"{agreement}", cdl::crypto::HexEncode(world.agreement)}};
    auto key =
        cdl::crypto::PrivateKey::FromPem(cdl::fuzz::FixedKey("v1").ToPem());
    FUZZ_CHECK(key.ok(), key.status().ToString());
    cdl::net::NodeOptions options;
    options.validator_id = "v1";
    options.network = &s->network;
    auto node = cdl::net::Node::Create(std::move(world.ledger), *std::move(key),
                                       std::move(options));
    FUZZ_CHECK(node.ok(), node.status().ToString());
    s->node = *std::move(node);
    cdl::http::GatewayOptions gateway_options;
    // Connected to every other validator, so /readyz is 200 and any 5xx is a
    // bug.
    gateway_options.connected_peers = [] {
      return static_cast<uint32_t>(cdl::fuzz::kValidators - 1);
    };
    s->gateway = std::make_unique<cdl::http::Gateway>(
        s->node.get(), std::move(gateway_options));
    return s;
  }();
  return *server;
}

// The PACT v2 API's paths (node/http/pact_api.h), whose errors are
// {"code": "...", "message": "..."} as the PACT Technical Specification says.
bool IsPactPath(std::string_view path) {
  return path == "/2" || path.starts_with("/2/") || path == "/auth/token" ||
         path.starts_with("/auth/token/");
}

std::string Describe(const HttpRequest &r, const HttpResponse &response) {
  return r.method + " " + r.path.substr(0, 200) + " -> " +
         std::to_string(response.status) + " " + response.body.substr(0, 300);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Server &server = TheServer();
  const HttpRequest request = cdl::fuzz::ParseHttpRequest(
      std::string_view(reinterpret_cast<const char *>(data), size), server.ids);

  const std::string head_before =
      server.node->ledger().head().SerializeAsString();
  const size_t mempool_before = server.node->mempool_size();

  const HttpResponse response = server.gateway->Handle(request);
  static const bool verbose = std::getenv("CDL_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "%s\n",
                 Describe(request, response).substr(0, 200).c_str());

  FUZZ_CHECK(response.status >= 200 && response.status < 500,
             Describe(request, response));
  const bool is_json = response.content_type.rfind("application/json", 0) == 0;
  if (response.status >= 300 || is_json) {
    nlohmann::json body = nlohmann::json::parse(response.body, nullptr,
                                                /*allow_exceptions=*/false);
    FUZZ_CHECK(!body.is_discarded(),
               "not JSON: " + Describe(request, response));
    if (response.status >= 300) {
      // PACT paths answer in the PACT v2 error format, the rest in ours.
      const nlohmann::json *error = IsPactPath(request.path) ? &body
                                    : body.is_object() && body.contains("error")
                                        ? &body["error"]
                                        : nullptr;
      FUZZ_CHECK(error != nullptr && error->is_object() &&
                     error->contains("code") && (*error)["code"].is_string() &&
                     !(*error)["code"].get<std::string>().empty() &&
                     error->contains("message") &&
                     (*error)["message"].is_string(),
                 "no JSON error body: " + Describe(request, response));
    }
  }

  FUZZ_CHECK(server.node->ledger().head().SerializeAsString() == head_before,
             "ledger head changed: " + Describe(request, response));
  FUZZ_CHECK(server.node->mempool_size() == mempool_before,
             "mempool changed: " + Describe(request, response));
  return 0;
}
