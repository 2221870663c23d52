// cdl-node: parses flags / config, wires storage, ledger, node and gRPC, runs
// until SIGTERM or SIGINT.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crypto/keys.h"
#include "crypto/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "node/http/gateway.h"
#include "node/http/pact_api.h"
#include "node/http/server.h"
#include "node/ledger/ledger.h"
#include "node/net/ledger_service.h"
#include "node/net/rate_limiter.h"
#include "node/net/byzantine.h"
#include "node/net/node.h"
#include "node/net/peer_transport.h"
#include "node/storage/store.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"
#include "spdlog/spdlog.h"

namespace {

namespace fs = std::filesystem;

struct Flags {
  std::string data_dir;
  std::string listen = "127.0.0.1:7400";
  std::string genesis;
  std::string key;
  std::string validator_id;
  std::string config;
  std::string log_level = "info";
  std::string tls_ca;
  std::string tls_cert;
  std::string peer_listen;
  std::string http;  // HOST:PORT of the HTTP gateway; "off" or empty: none (--dev: 127.0.0.1:7480)
  std::string https;  // HOST:PORT of the HTTPS gateway + PACT API; "off" or empty: none (--dev: 127.0.0.1:7443)
  std::string https_cert;
  std::string https_key;
  std::string pact_clients;  // pact-clients.json (--dev: <data-dir>/pact-clients.json)
  int base_timeout_ms = 1000;
  bool dev = false;
  size_t max_block_records = 4000;
  int flush_ms = 10;
  int verify_threads = 2;
  double submit_rate = 10000;  // per client address; 0 = unlimited
  std::vector<std::string> peer_addresses;  // ID=HOST:PORT overrides of genesis peer addresses
  bool test_byzantine = false;              // tests only: see node/net/byzantine.h
};

int Fail(const std::string& message) {
  std::cerr << "cdl-node: " << message << "\n";
  return 1;
}

absl::Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) return absl::InternalError("cannot write " + path.string());
  return absl::OkStatus();
}

// --dev: a one-validator chain with a founding regulator, created on first start.
absl::Status PrepareDevDataDir(Flags& flags) {
  if (flags.data_dir.empty()) flags.data_dir = "cdl-dev-data";
  fs::create_directories(flags.data_dir);
  fs::path dir(flags.data_dir);
  fs::path genesis_path = dir / "genesis.json";
  if (flags.genesis.empty()) flags.genesis = genesis_path.string();
  if (flags.key.empty()) flags.key = (dir / "validator.key").string();
  if (flags.validator_id.empty()) flags.validator_id = "validator-1";
  if (fs::exists(genesis_path)) return absl::OkStatus();

  auto validator = cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256);
  auto founder = cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256);
  if (!validator.ok() || !founder.ok()) return absl::InternalError("key generation failed");
  if (auto s = cdl::crypto::WritePrivateKeyFile(flags.key, *validator, /*overwrite=*/true); !s.ok()) return s;
  if (auto s = cdl::crypto::WritePrivateKeyFile((dir / "founder.key").string(), *founder, true); !s.ok()) return s;
  if (auto s = cdl::crypto::WritePublicKeyFile((dir / "founder.key.pub").string(), founder->public_key(), true); !s.ok())
    return s;

  cdl::v1::Genesis genesis;
  genesis.set_chain_id("cdl-dev");
  genesis.set_genesis_time_ms(absl::ToUnixMillis(absl::Now()));
  auto* v = genesis.add_validators();
  v->set_id(flags.validator_id);
  *v->mutable_key() = cdl::verify::PublicKeyInfoOf(validator->public_key());
  v->set_address(flags.listen);
  v->set_operator_member("dev-regulator");
  auto* f = genesis.add_founders();
  f->set_member_id("dev-regulator");
  f->set_role(cdl::v1::ROLE_REGULATOR);
  f->set_jurisdiction("CN");
  f->set_name("Development regulator");
  *f->add_keys() = cdl::verify::PublicKeyInfoOf(founder->public_key());
  return WriteFile(genesis_path, cdl::verify::GenesisToJson(genesis));
}

absl::Status LoadConfig(const std::string& path, Flags& flags) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("config file " + path + " cannot be opened");
  auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return absl::InvalidArgumentError(path + ": not a JSON object");
  for (auto& [key, value] : json.items()) {
    auto str = [&](std::string& out) -> absl::Status {
      if (!value.is_string()) return absl::InvalidArgumentError(path + ": \"" + key + "\" must be a string");
      out = value.get<std::string>();
      return absl::OkStatus();
    };
    absl::Status s;
    if (key == "data_dir") s = str(flags.data_dir);
    else if (key == "listen") s = str(flags.listen);
    else if (key == "genesis") s = str(flags.genesis);
    else if (key == "key") s = str(flags.key);
    else if (key == "validator_id") s = str(flags.validator_id);
    else if (key == "log_level") s = str(flags.log_level);
    else if (key == "tls_ca") s = str(flags.tls_ca);
    else if (key == "tls_cert") s = str(flags.tls_cert);
    else if (key == "peer_listen") s = str(flags.peer_listen);
    else if (key == "http") s = str(flags.http);
    else if (key == "https") s = str(flags.https);
    else if (key == "https_cert") s = str(flags.https_cert);
    else if (key == "https_key") s = str(flags.https_key);
    else if (key == "pact_clients") s = str(flags.pact_clients);
    else if (key == "max_block_records" && value.is_number_unsigned()) flags.max_block_records = value.get<size_t>();
    else if (key == "flush_ms" && value.is_number_unsigned()) flags.flush_ms = value.get<int>();
    else if (key == "submit_rate" && value.is_number() && value.get<double>() >= 0) flags.submit_rate = value.get<double>();
    else return absl::InvalidArgumentError(path + ": unknown or mistyped setting \"" + key + "\"");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  std::string text(1 << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// Hands the node's peer messages to the transport (created after the node).
struct PeerNetworkAdapter : cdl::net::PeerNetwork {
  cdl::net::PeerTransport* transport = nullptr;
  void Send(uint32_t to, const cdl::peer::v1::PeerMessage& msg) override {
    if (transport) transport->Send(to, msg);
  }
  void Broadcast(const cdl::peer::v1::PeerMessage& msg) override {
    if (transport) transport->Broadcast(msg);
  }
};

// Finds the genesis validator whose key is `key`.
std::string ValidatorIdForKey(const cdl::verify::TrustedGenesis& genesis, const cdl::crypto::PrivateKey& key) {
  std::string key_id = key.public_key().KeyId();
  for (size_t i = 0; i < genesis.validator_count(); ++i) {
    if (genesis.validator_key(static_cast<int>(i)).KeyId() == key_id) return genesis.proto().validators(i).id();
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with absl::Mutex deadlock detection on: every
  // lock also updates a global lock-order graph, ~3x the cost of a lock pair
  // (here and inside gRPC, which locks absl::Mutex too). The test suites keep
  // it; the daemon does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const absl::Time process_start = absl::Now();
  Flags flags;
  CLI::App app{"cdl-node: a validator of the Carbon Disclosure Ledger"};
  app.add_option("--config", flags.config, "JSON config file (keys: data_dir, listen, genesis, key, ...)");
  app.add_option("--data-dir", flags.data_dir, "Folder for the ledger database");
  app.add_option("--listen", flags.listen, "Client API address (host:port)")->capture_default_str();
  app.add_option("--genesis", flags.genesis, "Genesis file (JSON)");
  app.add_option("--key", flags.key, "This validator's private key file (PEM, mode 0600)");
  app.add_option("--validator-id", flags.validator_id, "This validator's id (default: found from --key)");
  app.add_option("--tls-ca", flags.tls_ca, "Cluster CA certificate (PEM) trusted for peer mTLS");
  app.add_option("--tls-cert", flags.tls_cert, "This validator's certificate (PEM, issued by the cluster CA for --key)");
  app.add_option("--peer-listen", flags.peer_listen, "Peer protocol address (default: this validator's genesis address)");
  app.add_option("--peer-address", flags.peer_addresses,
                 "ID=HOST:PORT: dial validator ID there instead of its genesis address (NAT, proxy); repeatable");
  app.add_flag("--test-byzantine", flags.test_byzantine,
               "TESTS ONLY: this validator equivocates and sends bad consensus messages (node/net/byzantine.h)")
      ->group("Testing");
  app.add_option("--http", flags.http,
                 "HTTP gateway address HOST:PORT (health, metrics, JSON API, web explorer); 'off' disables it "
                 "(default: off, or 127.0.0.1:7480 with --dev)");
  app.add_option("--https", flags.https,
                 "HTTPS gateway address HOST:PORT: everything --http serves plus the PACT v2 API; 'off' disables it "
                 "(default: off, or 127.0.0.1:7443 with --dev and a generated certificate)");
  app.add_option("--https-cert", flags.https_cert, "HTTPS certificate chain (PEM)");
  app.add_option("--https-key", flags.https_key, "HTTPS private key (PEM)");
  app.add_option("--pact-clients", flags.pact_clients,
                 "PACT API clients (JSON, see docs/operator-guide.md; --dev: <data-dir>/pact-clients.json)");
  app.add_option("--base-timeout-ms", flags.base_timeout_ms, "Consensus round timeout before backoff")->capture_default_str();
  app.add_flag("--dev", flags.dev, "One embedded validator with a generated genesis and founder key");
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_option("--max-block-records", flags.max_block_records, "Most records in one block")->capture_default_str();
  app.add_option("--flush-ms", flags.flush_ms, "Batching window before a block is cut")->capture_default_str();
  app.add_option("--verify-threads", flags.verify_threads, "Signature verification threads")->capture_default_str();
  app.add_option("--submit-rate", flags.submit_rate,
                 "Submits per second allowed per client address (burst: twice as many); 0 = unlimited")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  if (!flags.config.empty()) {
    Flags from_file = flags;
    if (auto s = LoadConfig(flags.config, from_file); !s.ok()) return Fail(std::string(s.message()));
    // Command-line flags win over the file.
    for (auto* opt : app.get_options()) {
      if (opt->count() > 0) continue;
      const std::string& name = opt->get_name();
      if (name == "--data-dir") flags.data_dir = from_file.data_dir;
      else if (name == "--listen") flags.listen = from_file.listen;
      else if (name == "--genesis") flags.genesis = from_file.genesis;
      else if (name == "--key") flags.key = from_file.key;
      else if (name == "--validator-id") flags.validator_id = from_file.validator_id;
      else if (name == "--log-level") flags.log_level = from_file.log_level;
      else if (name == "--max-block-records") flags.max_block_records = from_file.max_block_records;
      else if (name == "--flush-ms") flags.flush_ms = from_file.flush_ms;
      else if (name == "--tls-ca") flags.tls_ca = from_file.tls_ca;
      else if (name == "--tls-cert") flags.tls_cert = from_file.tls_cert;
      else if (name == "--peer-listen") flags.peer_listen = from_file.peer_listen;
      else if (name == "--http") flags.http = from_file.http;
      else if (name == "--https") flags.https = from_file.https;
      else if (name == "--https-cert") flags.https_cert = from_file.https_cert;
      else if (name == "--https-key") flags.https_key = from_file.https_key;
      else if (name == "--pact-clients") flags.pact_clients = from_file.pact_clients;
      else if (name == "--submit-rate") flags.submit_rate = from_file.submit_rate;
    }
  }
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  if (flags.dev) {
    if (auto s = PrepareDevDataDir(flags); !s.ok()) return Fail(std::string(s.message()));
  }
  if (flags.data_dir.empty() || flags.genesis.empty() || flags.key.empty()) {
    return Fail("--data-dir, --genesis and --key are required (or use --dev)");
  }

  // Block the signals before any thread starts; a dedicated thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto genesis = cdl::verify::TrustedGenesis::FromFile(flags.genesis);
  if (!genesis.ok()) return Fail(std::string(genesis.status().message()));
  auto key = cdl::crypto::ReadPrivateKeyFile(flags.key);
  if (!key.ok()) return Fail(std::string(key.status().message()));
  if (flags.validator_id.empty()) flags.validator_id = ValidatorIdForKey(*genesis, *key);
  if (flags.validator_id.empty()) return Fail("the key in " + flags.key + " is not a validator key of the genesis");

  auto store = cdl::storage::OpenRocksStore((fs::path(flags.data_dir) / "db").string(), cdl::ledger::LedgerColumns());
  if (!store.ok()) return Fail(std::string(store.status().message()));
  auto ledger = cdl::ledger::Ledger::Open(*std::move(store), *std::move(genesis));
  if (!ledger.ok()) return Fail(std::string(ledger.status().message()));
  cdl::net::NodeOptions options;
  options.validator_id = flags.validator_id;
  options.max_block_records = flags.max_block_records;
  options.flush_interval = absl::Milliseconds(flags.flush_ms);
  options.verify_threads = flags.verify_threads;
  options.bft.base_timeout_ms = static_cast<uint64_t>(flags.base_timeout_ms);

  // Several validators: the peer transport (mutual TLS) carries consensus.
  const bool clustered = (*ledger)->genesis().validator_count() > 1;
  PeerNetworkAdapter network;
  std::unique_ptr<cdl::net::ByzantineNetwork> byzantine;
  std::atomic<cdl::net::Node*> node_for_peers{nullptr};
  std::unique_ptr<cdl::net::PeerTransport> transport;
  if (clustered) {
    if (flags.tls_ca.empty() || flags.tls_cert.empty()) {
      return Fail("this genesis has several validators: --tls-ca and --tls-cert are required for peer mTLS "
                  "(cdl genesis init --tls writes them)");
    }
    cdl::net::PeerTransportOptions peer;
    peer.validator_id = flags.validator_id;
    peer.genesis = (*ledger)->genesis();
    auto ca = ReadSmallFile(flags.tls_ca);
    auto cert = ReadSmallFile(flags.tls_cert);
    if (!ca.ok()) return Fail(std::string(ca.status().message()));
    if (!cert.ok()) return Fail(std::string(cert.status().message()));
    peer.ca_pem = *ca;
    peer.cert_pem = *cert;
    peer.key_pem = key->ToPem();
    peer.listen_address = flags.peer_listen;
    for (const std::string& entry : flags.peer_addresses) {
      size_t eq = entry.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
        return Fail(cdl::StrCat("--peer-address \"", entry, "\": expected VALIDATOR_ID=HOST:PORT"));
      }
      peer.peer_addresses[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    auto created = cdl::net::PeerTransport::Create(
        std::move(peer), [&node_for_peers](uint32_t from, cdl::peer::v1::PeerMessage msg) {
          if (auto* n = node_for_peers.load()) n->OnPeerMessage(from, std::move(msg));
        });
    if (!created.ok()) return Fail(std::string(created.status().message()));
    transport = *std::move(created);
    network.transport = transport.get();
    options.network = &network;
    if (flags.test_byzantine) {
      auto byzantine_key = cdl::crypto::PrivateKey::FromPem(key->ToPem());
      if (!byzantine_key.ok()) return Fail(std::string(byzantine_key.status().message()));
      byzantine = std::make_unique<cdl::net::ByzantineNetwork>(&network, (*ledger)->genesis().chain_id(),
                                                                *std::move(byzantine_key));
      options.network = byzantine.get();
      spdlog::warn("--test-byzantine: this validator equivocates and sends bad consensus messages (tests only)");
    }
  }
  auto node = cdl::net::Node::Create(*std::move(ledger), *std::move(key), options);
  if (!node.ok()) return Fail(std::string(node.status().message()));
  node_for_peers.store(node->get());
  if (transport) {
    if (auto s = transport->Start(); !s.ok()) return Fail(std::string(s.message()));
  }

  std::unique_ptr<cdl::net::RateLimiter> submit_limiter;
  if (flags.submit_rate > 0) {
    submit_limiter = std::make_unique<cdl::net::RateLimiter>(
        cdl::net::RateLimiter::Options{.rate_per_second = flags.submit_rate, .burst = 2 * flags.submit_rate},
        [] { return absl::ToUnixMillis(absl::Now()); });
  }
  cdl::net::LedgerService service(node->get(), submit_limiter.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(flags.listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(cdl::net::kMaxRequestBytes);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return Fail("cannot listen on " + flags.listen + " (address in use?)");

  (*node)->Start();
  cdl::v1::LedgerHead head = (*node)->ledger().head();
  // The HTTP gateways read the node; they stop before the node does.
  std::unique_ptr<cdl::http::Gateway> gateway;
  std::unique_ptr<cdl::http::PactApi> pact;
  std::unique_ptr<cdl::http::HttpServer> http_server;
  std::unique_ptr<cdl::http::HttpServer> https_server;
  auto stop_all = [&] {
    if (http_server) http_server->Stop();
    if (https_server) https_server->Stop();
    server->Shutdown(std::chrono::system_clock::now());
    (*node)->Stop();
    if (transport) transport->Stop();
  };
  // --dev's default addresses are best effort (several dev nodes may run at
  // once); an address given with --http/--https must be served.
  const bool http_by_default = flags.dev && flags.http.empty();
  if (http_by_default) flags.http = "127.0.0.1:7480";
  const bool https_by_default = flags.dev && flags.https.empty();
  if (https_by_default) flags.https = "127.0.0.1:7443";
  const bool want_http = !flags.http.empty() && flags.http != "off";
  bool want_https = !flags.https.empty() && flags.https != "off";
  cdl::http::TlsFiles tls{flags.https_cert, flags.https_key};
  if (want_https) {
    if (flags.dev && flags.https_cert.empty() && flags.https_key.empty()) {
      auto dev_tls = cdl::http::EnsureDevHttpsIdentity(flags.data_dir);
      if (!dev_tls.ok()) return (stop_all(), Fail(cdl::StrCat("--https: ", dev_tls.status().message())));
      tls = *dev_tls;
    }
    if (tls.cert_file.empty() || tls.key_file.empty()) {
      stop_all();
      return Fail("--https needs --https-cert and --https-key");
    }
    if (flags.dev && flags.pact_clients.empty()) {
      flags.pact_clients = (fs::path(flags.data_dir) / "pact-clients.json").string();
      auto written = cdl::http::EnsureDevPactClients(flags.pact_clients, "dev-regulator");
      if (!written.ok()) return (stop_all(), Fail(cdl::StrCat("--dev: ", written.status().message())));
      if (*written) spdlog::info("PACT client for dev-regulator written to {}", flags.pact_clients);
    }
    cdl::http::PactOptions pact_options;
    if (!flags.pact_clients.empty()) {
      auto clients = cdl::http::LoadPactClients(flags.pact_clients);
      if (!clients.ok()) return (stop_all(), Fail(cdl::StrCat("--pact-clients: ", clients.status().message())));
      pact_options.clients = *std::move(clients);
    } else {
      spdlog::warn("no --pact-clients: the PACT API on --https accepts no client");
    }
    pact_options.fallback_base_url = cdl::StrCat("https://", flags.https);
    pact = std::make_unique<cdl::http::PactApi>(&(*node)->ledger(), std::move(pact_options));
  }
  if (want_http || want_https) {
    cdl::http::GatewayOptions http_options;
    http_options.process_start = process_start;
    http_options.pact = pact.get();
    if (transport) {
      http_options.connected_peers = [t = transport.get()] { return t->stats().connected_peers; };
    }
    gateway = std::make_unique<cdl::http::Gateway>(node->get(), std::move(http_options));
  }
  struct Listener {
    bool wanted;
    bool by_default;
    const char* flag;
    std::string address;
    const cdl::http::TlsFiles* tls;
    std::unique_ptr<cdl::http::HttpServer>* out;
  };
  for (Listener l : {Listener{want_http, http_by_default, "--http", flags.http, nullptr, &http_server},
                     Listener{want_https, https_by_default, "--https", flags.https, &tls, &https_server}}) {
    if (!l.wanted) continue;
    auto started = cdl::http::HttpServer::Start(gateway.get(), l.address, l.tls);
    if (!started.ok() && l.by_default) {
      spdlog::warn("no {} gateway: {} (pass {} HOST:PORT to choose another address)", l.tls ? "HTTPS" : "HTTP",
                   std::string(started.status().message()), l.flag);
    } else if (!started.ok()) {
      stop_all();
      return Fail(cdl::StrCat(l.flag, ": ", started.status().message()));
    } else {
      *l.out = *std::move(started);
      spdlog::info("{} gateway on {}://{}/ (port {})", l.tls ? "HTTPS" : "HTTP", l.tls ? "https" : "http", l.address,
                   (*l.out)->port());
    }
  }

  spdlog::info("cdl-node {} serving chain {} on {} (height {}, ledger size {})", flags.validator_id,
               (*node)->ledger().chain_id(), flags.listen, head.height(), head.ledger_size());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("signal {} received, shutting down", signal_number);
  if (http_server) http_server->Stop();
  if (https_server) https_server->Stop();
  (*node)->watch_hub().Close();  // Watch streams end now, not at the shutdown deadline
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  (*node)->Stop();
  if (transport) transport->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}
