// cdl-bench: a load generator for a cdl node or cluster. Registers its own
// park and enterprises with the founder key, pre-signs disclosures, then keeps
// --clients submits in flight (spread over every node, wait=true) and reports
// committed records/s and submit->commit latency. A failed submit is retried
// on another node; ALREADY_EXISTS for the same record id counts as done. Exits
// 0 only when every record is ACCEPTED.
//
// --etcd ENDPOINT[,ENDPOINT...] drives an etcd v3 cluster with the same shape
// of load instead, for comparison: --clients workers (one keep-alive HTTP
// client each, spread over the endpoints) put --records distinct keys through
// etcd's HTTP/JSON gateway (POST /v3/kv/put). The values are disclosure records
// signed here exactly as the cdl run signs them, so they have the size of a
// cdl record. Figures are printed in the same format as the cdl run; only
// successful puts count, every error is counted and reported (exit 1).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"
#include "service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> nodes;
  std::string cluster;
  std::string founder_key;
  std::string founder_id;
  size_t records = 20000;
  size_t clients = 64;
  size_t authors = 32;
  std::string algorithm = "ecdsa-p256-sha256";
  std::string json_out;
  int timeout_s = 600;
  std::vector<std::string> etcd;
};

int Fail(const std::string& message) {
  std::cerr << "cdl-bench: " << message << "\n";
  return 1;
}

class Cluster {
 public:
  explicit Cluster(const std::vector<std::string>& nodes) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(16 << 20);
    for (const auto& n : nodes) {
      stubs_.push_back(cdl::v1::Ledger::NewStub(grpc::CreateCustomChannel(n, grpc::InsecureChannelCredentials(), args)));
    }
  }
  size_t size() const { return stubs_.size(); }
  cdl::v1::Ledger::Stub* stub(size_t i) { return stubs_[i % stubs_.size()].get(); }

  // Synchronous submit with retries across nodes; for setup records.
  bool SubmitAndWait(const std::string& bytes, std::string* error) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      cdl::v1::SubmitRequest req;
      req.set_signed_record(bytes);
      req.set_wait(true);
      cdl::v1::SubmitResponse resp;
      grpc::Status s = stub(attempt)->Submit(&ctx, req, &resp);
      if (s.ok() && resp.receipt().status() == cdl::v1::RECORD_ACCEPTED) return true;
      if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS) return true;
      if (s.ok() && resp.receipt().status() == cdl::v1::RECORD_REJECTED) {
        *error = "rejected: " + resp.receipt().message();
        return false;
      }
      *error = s.ok() ? "not committed in time" : s.error_message();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  absl::StatusOr<cdl::v1::StatusResponse> Status(size_t i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    cdl::v1::StatusResponse resp;
    grpc::Status s = stub(i)->Status(&ctx, cdl::v1::StatusRequest(), &resp);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return resp;
  }

  absl::StatusOr<uint64_t> NextSequence(const std::string& member) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    cdl::v1::GetMemberRequest req;
    req.set_member_id(member);
    cdl::v1::GetMemberResponse resp;
    grpc::Status s = stub(0)->GetMember(&ctx, req, &resp);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return resp.next_sequence();
  }

 private:
  std::vector<std::unique_ptr<cdl::v1::Ledger::Stub>> stubs_;
};

struct Signer {
  std::string id;
  std::unique_ptr<cdl::crypto::PrivateKey> key;
  uint64_t sequence = 0;
};

std::string SignBody(const std::string& chain, Signer& s, cdl::v1::RecordBody body) {
  body.set_chain_id(chain);
  body.set_author(s.id);
  body.set_key_id(s.key->public_key().KeyId());
  body.set_sequence(++s.sequence);
  body.set_created_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count());
  auto signed_record = cdl::verify::SignBody(body, *s.key);
  return signed_record.ok() ? signed_record->SerializeAsString() : std::string();
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// The disclosure every benchmark record carries (record i of author `org`).
cdl::v1::RecordBody DisclosureBody(const std::string& org, size_t i) {
  cdl::v1::RecordBody body;
  auto* d = body.mutable_disclosure();
  d->set_organisation(org);
  d->set_period("2026-" + std::string(i % 12 < 9 ? "0" : "") + std::to_string(i % 12 + 1));
  d->set_scope1_tco2e(std::to_string(1000 + i) + ".25");
  d->set_scope2_location_tco2e("250.5");
  d->set_energy_mwh("1200");
  d->set_renewable_share_pct("42.5");
  d->set_methodology("ISO 14064-1:2018");
  return body;
}

std::string RunId() {
  return cdl::crypto::HexEncode(cdl::crypto::Sha256(std::to_string(Clock::now().time_since_epoch().count()))).substr(0, 8);
}

// What one run measured; printed and written the same way for cdl and etcd.
struct Figures {
  std::string target;  // "cdl" or "etcd"
  size_t nodes = 0;
  size_t records = 0;  // requested
  size_t clients = 0;
  double record_bytes = 0;  // average record (cdl) or value (etcd) size
  double seconds = 0;
  std::vector<double> latencies_ms;  // successful operations only
  size_t retries = 0;
  size_t failed = 0;
};

void Report(Figures& f, const std::string& json_out) {
  size_t ok = f.latencies_ms.size();
  double rate = f.seconds > 0 ? static_cast<double>(ok) / f.seconds : 0;
  double p50 = Percentile(f.latencies_ms, 0.50), p99 = Percentile(f.latencies_ms, 0.99);
  std::printf("cdl-bench: committed %zu records in %.2f s: %.0f records/s, submit->commit p50 %.1f ms, p99 %.1f ms, retries %zu, failed %zu\n",
              ok, f.seconds, rate, p50, p99, f.retries, f.failed);
  std::fflush(stdout);
  if (!json_out.empty()) {
    std::ofstream out(json_out);
    out << "{\"target\":\"" << f.target << "\",\"nodes\":" << f.nodes << ",\"records\":" << f.records
        << ",\"clients\":" << f.clients << ",\"record_bytes\":" << f.record_bytes << ",\"committed\":" << ok
        << ",\"seconds\":" << f.seconds << ",\"records_per_s\":" << rate << ",\"p50_ms\":" << p50
        << ",\"p99_ms\":" << p99 << ",\"retries\":" << f.retries << ",\"failed\":" << f.failed << "}\n";
    if (!out) std::cerr << "cdl-bench: cannot write " << json_out << "\n";
  }
}

// --etcd: the same load against etcd's v3 HTTP/JSON gateway.
int RunEtcd(const Options& o) {
  std::vector<std::string> endpoints;
  for (std::string e : o.etcd) {
    if (e.empty()) continue;
    if (e.find("://") == std::string::npos) e = "http://" + e;
    endpoints.push_back(e);
  }
  if (endpoints.empty()) return Fail("--etcd needs at least one endpoint (host:port)");
  for (const auto& e : endpoints) {
    httplib::Client probe(e);
    probe.set_connection_timeout(std::chrono::seconds(3));
    probe.set_read_timeout(std::chrono::seconds(5));
    auto res = probe.Get("/health");
    if (!res) {
      return Fail("etcd endpoint " + e + " unreachable (" + httplib::to_string(res.error()) +
                  "); start one with bench/etcd-cluster.sh (etcd itself: run make deps)");
    }
    if (res->status != 200 || res->body.find("\"true\"") == std::string::npos) {
      return Fail("etcd endpoint " + e + " is not healthy: HTTP " + std::to_string(res->status) + " " + res->body);
    }
  }

  // Values: disclosure records signed exactly as the cdl run signs them
  // (same body, author ids, key algorithm and chain id as deploy/local-cluster.sh),
  // so a value has the size of the record cdl submits.
  auto algorithm = cdl::crypto::ParseAlgorithm(o.algorithm);
  if (!algorithm.ok()) return Fail("--algorithm: unknown");
  size_t authors_n = std::max<size_t>(1, std::min(o.authors, o.records));
  std::string run = RunId();
  std::vector<Signer> authors(authors_n);
  for (size_t i = 0; i < authors_n; ++i) {
    auto key = cdl::crypto::PrivateKey::Generate(*algorithm);
    if (!key.ok()) return Fail("generating a key: " + std::string(key.status().message()));
    authors[i].id = "bench-" + run + "-" + std::to_string(i);
    authors[i].key = std::make_unique<cdl::crypto::PrivateKey>(*std::move(key));
  }
  size_t samples = std::min<size_t>(o.records, 2000);
  std::vector<std::string> values(samples);
  size_t value_total = 0;
  for (size_t i = 0; i < samples; ++i) {
    Signer& a = authors[i % authors_n];
    std::string record = SignBody("cdl-local", a, DisclosureBody(a.id, i));
    if (record.empty()) return Fail("signing a sample record failed");
    value_total += record.size();
    values[i] = cdl::crypto::Base64Encode(record);
  }
  // Request bodies are built before the clock starts, as cdl's records are pre-signed.
  std::vector<std::string> bodies(o.records);
  for (size_t i = 0; i < o.records; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "cdl-bench/%s/%010zu", run.c_str(), i);
    bodies[i] = "{\"key\":\"" + cdl::crypto::Base64Encode(key) + "\",\"value\":\"" + values[i % samples] + "\"}";
  }
  Figures f;
  f.target = "etcd";
  f.nodes = endpoints.size();
  f.records = o.records;
  f.clients = std::max<size_t>(1, o.clients);
  f.record_bytes = samples ? static_cast<double>(value_total) / samples : 0;
  std::printf("cdl-bench: etcd endpoints=%zu records=%zu clients=%zu value_bytes=%.0f (signed %s disclosure records, as cdl submits)\n",
              endpoints.size(), o.records, f.clients, f.record_bytes, o.algorithm.c_str());
  std::fflush(stdout);

  std::atomic<size_t> next{0}, done{0}, failed{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::string last_error;
  std::vector<std::vector<double>> latencies(f.clients);
  auto worker = [&](size_t w) {
    httplib::Client client(endpoints[w % endpoints.size()]);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(60));
    client.set_write_timeout(std::chrono::seconds(60));
    latencies[w].reserve(o.records / f.clients + 1);
    while (!stop.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= bodies.size()) break;
      auto t0 = Clock::now();
      auto res = client.Post("/v3/kv/put", bodies[i], "application/json");
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      // A put answers {"header":{...}}; an error answers {"error":...,"code":...}.
      if (res && res->status == 200 && res->body.find("\"header\"") != std::string::npos &&
          res->body.find("\"error\"") == std::string::npos) {
        latencies[w].push_back(ms);
      } else {
        failed.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        last_error = res ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200)
                         : httplib::to_string(res.error());
      }
      done.fetch_add(1);
    }
  };
  auto start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(f.clients);
  for (size_t w = 0; w < f.clients; ++w) threads.emplace_back(worker, w);
  auto last_report = Clock::now();
  bool timed_out = false;
  while (done.load() < bodies.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Clock::now() - last_report > std::chrono::seconds(5)) {
      std::cerr << "cdl-bench: " << done.load() << "/" << bodies.size() << " put\n";
      last_report = Clock::now();
    }
    if (Clock::now() - start > std::chrono::seconds(o.timeout_s)) {
      timed_out = true;
      stop = true;
      break;
    }
  }
  for (auto& t : threads) t.join();
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& l : latencies) f.latencies_ms.insert(f.latencies_ms.end(), l.begin(), l.end());
  f.failed = failed.load();
  if (timed_out) {
    std::cerr << "cdl-bench: timed out with " << done.load() << "/" << bodies.size() << " done\n";
    return 1;
  }
  Report(f, o.json_out);
  if (f.failed > 0) return Fail(std::to_string(f.failed) + " puts failed; last error: " + last_error);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As in cdl-node: gRPC's absl::Mutex locks without Debian's deadlock
  // detection (the same for the cdl and the etcd runs).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options o;
  CLI::App app{"cdl-bench: load generator for a cdl node or cluster"};
  app.add_option("--node", o.nodes, "Node client address (repeatable)");
  app.add_option("--cluster", o.cluster, "Cluster folder (nodes.txt, genesis.json, founder key)");
  app.add_option("--founder-key", o.founder_key, "Private key of a founding regulator");
  app.add_option("--founder-id", o.founder_id, "Member id of that regulator (default: first founder)");
  app.add_option("--records", o.records, "Records to commit")->capture_default_str();
  app.add_option("--clients", o.clients, "Submits kept in flight")->capture_default_str();
  app.add_option("--authors", o.authors, "Enterprises submitting (parallel sequences)")->capture_default_str();
  app.add_option("--algorithm", o.algorithm, "Enterprise key algorithm")->capture_default_str();
  app.add_option("--json", o.json_out, "Also write the figures as JSON to this file");
  app.add_option("--timeout", o.timeout_s, "Give up after this many seconds")->capture_default_str();
  app.add_option("--etcd", o.etcd, "Drive these etcd v3 endpoints (host:port, comma-separated) instead of cdl")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  if (!o.etcd.empty()) {
    if (!o.cluster.empty() || !o.nodes.empty()) return Fail("--etcd cannot be combined with --cluster or --node");
    return RunEtcd(o);
  }

  std::string genesis_path;
  if (!o.cluster.empty()) {
    std::ifstream nodes(o.cluster + "/nodes.txt");
    for (std::string line; std::getline(nodes, line);) {
      if (!line.empty()) o.nodes.push_back(line);
    }
    genesis_path = o.cluster + "/genesis.json";
  }
  if (o.nodes.empty()) o.nodes.push_back("127.0.0.1:7400");
  if (o.founder_key.empty()) return Fail("--founder-key is required (a founding regulator's key)");
  auto founder_key = cdl::crypto::ReadPrivateKeyFile(o.founder_key);
  if (!founder_key.ok()) return Fail(std::string(founder_key.status().message()));
  auto algorithm = cdl::crypto::ParseAlgorithm(o.algorithm);
  if (!algorithm.ok()) return Fail("--algorithm: unknown");
  o.authors = std::max<size_t>(1, std::min(o.authors, o.records));

  Cluster cluster(o.nodes);
  auto status = cluster.Status(0);
  if (!status.ok()) return Fail("node " + o.nodes[0] + " unreachable: " + std::string(status.status().message()));
  const std::string chain = status->chain_id();
  if (o.founder_id.empty()) {
    if (genesis_path.empty()) {
      o.founder_id = "dev-regulator";
    } else {
      auto genesis = cdl::verify::TrustedGenesis::FromFile(genesis_path);
      if (!genesis.ok()) return Fail(std::string(genesis.status().message()));
      std::string key_id = founder_key->public_key().KeyId();
      for (const auto& f : genesis->proto().founders()) {
        for (const auto& k : f.keys()) {
          auto pub = cdl::crypto::PublicKey::FromDer(k.public_key());
          if (pub.ok() && pub->KeyId() == key_id) o.founder_id = f.member_id();
        }
      }
      if (o.founder_id.empty()) return Fail("the founder key is not a founder's key in the genesis");
    }
  }

  // Setup: a park admitted by the founder, then enterprises admitted by the park.
  Signer founder{o.founder_id, std::make_unique<cdl::crypto::PrivateKey>(*std::move(founder_key))};
  auto seq = cluster.NextSequence(founder.id);
  if (!seq.ok()) return Fail("cannot read the founder's sequence: " + std::string(seq.status().message()));
  founder.sequence = *seq - 1;
  auto founder_member = cluster.Status(0);
  std::string run = RunId();
  std::string jurisdiction;
  {
    grpc::ClientContext ctx;
    cdl::v1::GetMemberRequest req;
    req.set_member_id(founder.id);
    cdl::v1::GetMemberResponse resp;
    if (!cluster.stub(0)->GetMember(&ctx, req, &resp).ok()) return Fail("founder is not a member");
    jurisdiction = resp.member().registration().jurisdiction();
  }
  Signer park{"bench-park-" + run, std::make_unique<cdl::crypto::PrivateKey>(*cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256))};
  std::string error;
  {
    cdl::v1::RecordBody body;
    auto* m = body.mutable_member_registration();
    m->set_member_id(park.id);
    m->set_role(cdl::v1::ROLE_PARK);
    m->set_jurisdiction(jurisdiction);
    *m->add_keys() = cdl::verify::PublicKeyInfoOf(park.key->public_key());
    if (!cluster.SubmitAndWait(SignBody(chain, founder, body), &error)) return Fail("registering the park: " + error);
  }
  std::vector<Signer> authors(o.authors);
  for (size_t i = 0; i < o.authors; ++i) {
    authors[i].id = "bench-" + run + "-" + std::to_string(i);
    authors[i].key = std::make_unique<cdl::crypto::PrivateKey>(*cdl::crypto::PrivateKey::Generate(*algorithm));
    cdl::v1::RecordBody body;
    auto* m = body.mutable_member_registration();
    m->set_member_id(authors[i].id);
    m->set_role(cdl::v1::ROLE_ENTERPRISE);
    m->set_jurisdiction(jurisdiction);
    m->set_park(park.id);
    *m->add_keys() = cdl::verify::PublicKeyInfoOf(authors[i].key->public_key());
    if (!cluster.SubmitAndWait(SignBody(chain, park, body), &error)) return Fail("registering an enterprise: " + error);
  }

  // Pre-sign: round-robin over authors so every author's records arrive in order.
  std::vector<std::string> records(o.records);
  auto sign_start = Clock::now();
  for (size_t i = 0; i < o.records; ++i) {
    Signer& a = authors[i % o.authors];
    records[i] = SignBody(chain, a, DisclosureBody(a.id, i));
    if ((i + 1) % 10000 == 0) std::cerr << "cdl-bench: signed " << (i + 1) << "/" << o.records << "\n";
  }
  double sign_s = std::chrono::duration<double>(Clock::now() - sign_start).count();
  size_t record_bytes = 0;
  for (const auto& r : records) record_bytes += r.size();

  // Submit: keep `clients` in flight with the callback API.
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, done = 0, failed = 0, retries = 0;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(o.records);
  std::string last_error;
  struct Call {
    grpc::ClientContext ctx;
    cdl::v1::SubmitRequest req;
    cdl::v1::SubmitResponse resp;
    size_t index;
    int attempt;
    Clock::time_point start;
  };
  std::function<void(size_t, int, Clock::time_point)> issue;
  issue = [&](size_t index, int attempt, Clock::time_point start) {
    auto* call = new Call;
    call->index = index;
    call->attempt = attempt;
    call->start = start;
    call->req.set_signed_record(records[index]);
    call->req.set_wait(true);
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    cluster.stub(index + attempt)->async()->Submit(&call->ctx, &call->req, &call->resp, [&, call](grpc::Status s) {
      bool ok = (s.ok() && call->resp.receipt().status() == cdl::v1::RECORD_ACCEPTED) ||
                s.error_code() == grpc::StatusCode::ALREADY_EXISTS;
      bool retry = !ok && call->attempt < 30 &&
                   !(s.ok() && call->resp.receipt().status() == cdl::v1::RECORD_REJECTED);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - call->start).count();
      size_t index = call->index;
      int attempt = call->attempt;
      auto start = call->start;
      std::string message = s.ok() ? call->resp.receipt().message() : s.error_message();
      delete call;
      if (retry) {
        {
          std::lock_guard<std::mutex> lock(mu);
          ++retries;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        issue(index, attempt + 1, start);
        return;
      }
      size_t to_issue = SIZE_MAX;
      {
        std::lock_guard<std::mutex> lock(mu);
        ++done;
        if (ok) {
          latencies_ms.push_back(ms);
        } else {
          ++failed;
          last_error = message;
        }
        if (next < records.size()) to_issue = next++;
      }
      cv.notify_all();
      if (to_issue != SIZE_MAX) issue(to_issue, 0, Clock::now());
    });
  };
  auto start = Clock::now();
  {
    std::unique_lock<std::mutex> lock(mu);
    size_t initial = std::min(o.clients, records.size());
    next = initial;
    lock.unlock();
    for (size_t i = 0; i < initial; ++i) issue(i, 0, Clock::now());
    lock.lock();
    auto last_report = Clock::now();
    while (done < records.size()) {
      cv.wait_for(lock, std::chrono::milliseconds(500));
      if (Clock::now() - last_report > std::chrono::seconds(5)) {
        std::cerr << "cdl-bench: " << done << "/" << records.size() << " committed\n";
        last_report = Clock::now();
      }
      if (Clock::now() - start > std::chrono::seconds(o.timeout_s)) {
        std::cerr << "cdl-bench: timed out with " << done << "/" << records.size() << " done\n";
        return 1;
      }
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("cdl-bench: nodes=%zu records=%zu clients=%zu authors=%zu algorithm=%s record_bytes=%.0f\n",
              cluster.size(), records.size(), o.clients, o.authors, o.algorithm.c_str(),
              static_cast<double>(record_bytes) / records.size());
  std::printf("cdl-bench: pre-signed at %.0f records/s (one core)\n", records.size() / sign_s);
  Figures f;
  f.target = "cdl";
  f.nodes = cluster.size();
  f.records = records.size();
  f.clients = o.clients;
  f.record_bytes = static_cast<double>(record_bytes) / records.size();
  f.seconds = seconds;
  f.latencies_ms = std::move(latencies_ms);
  f.retries = retries;
  f.failed = failed;
  Report(f, o.json_out);
  if (failed > 0) return Fail(std::to_string(failed) + " records not accepted; last error: " + last_error);
  return 0;
}
