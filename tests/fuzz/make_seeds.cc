// Writes the binary seed corpora of the fuzz targets:
//   fuzz_make_seeds DIR
// creates DIR/<target>/<name> for fuzz_record, fuzz_signature,
// fuzz_merkle_inclusion, fuzz_merkle_consistency, fuzz_passport,
// fuzz_genesis, fuzz_consensus and fuzz_state_proof, plus the fixtures' PACT
// footprint for fuzz_pact (the other text seeds of fuzz_pact, fuzz_decimal
// and fuzz_cli_json are written by hand or copied from tests/testdata). Records,
// passports, checkpoints and state proofs come from the fuzz world's ledger
// (world.h), passports from the CLI's exporter (cli/passport_export.cc),
// consensus traces from an honest 4-validator run of the real core. Keys are
// fixed (fixture.h), so seeds stay valid; ECDSA/SM2 signatures differ from
// run to run (random nonces), so regenerating changes some bytes.
// A tool, not a fuzz target; run it by hand and commit what it writes.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/passport_export.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/sparse_merkle.h"
#include "node/consensus/encoding.h"
#include "node/verify/genesis.h"
#include "node/verify/passport.h"
#include "node/verify/record.h"
#include "node/verify/state_entry.h"
#include "tests/fuzz/consensus_node.h"
#include "tests/fuzz/fixture.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/merkle_input.h"
#include "tests/fuzz/world.h"
#include "tests/passport/passport_fixture.h"

namespace cdl::fuzz {
namespace {

namespace fs = std::filesystem;

fs::path g_out;
int g_written = 0;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_make_seeds: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what + ": " + std::string(v.status().message()));
  return *std::move(v);
}

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(g_out / target);
  std::ofstream out(g_out / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Die("cannot write " + (g_out / target / name).string());
  ++g_written;
}

// --- fuzz_record: records that the world's ledger would accept next ---
void RecordSeeds(World& w) {
  const int64_t until = w.next_time_ms + kYearMs;
  auto seed = [&](const std::string& name, auto make) {
    RecordBuilder b = w.records;  // every seed uses each author's next sequence
    const std::string bytes = make(b);
    auto rec = Must(cdl::verify::ParseSignedRecord(bytes), name);
    auto block = Must(w.ledger->Prepare({&rec}, w.next_time_ms, 1, "v1"), name);
    if (block.block.receipts(0).status() != cdl::v1::RECORD_ACCEPTED) {
      Die("record seed " + name + " is not accepted: " + block.block.receipts(0).message());
    }
    Write("fuzz_record", name, bytes);
  };
  auto status_change = [&](RecordBuilder& b, const std::string& author, int kind, cdl::v1::Target target) {
    cdl::v1::RecordBody body = b.Body(author);
    if (kind == 0) {
      *body.mutable_suspension()->mutable_target() = target;
      body.mutable_suspension()->set_reason("surveillance audit overdue");
    } else if (kind == 1) {
      *body.mutable_revocation()->mutable_target() = target;
      body.mutable_revocation()->set_reason("fraud");
    } else {
      *body.mutable_reinstatement()->mutable_target() = target;
      body.mutable_reinstatement()->set_reason("resolved");
    }
    return b.Sign(body);
  };
  auto record_target = [](const std::string& id) {
    cdl::v1::Target t;
    t.set_record_id(id);
    return t;
  };
  seed("disclosure", [&](RecordBuilder& b) { return b.Disclosure("ent-1", "2026-Q1", "300.25"); });
  seed("disclosure-park", [&](RecordBuilder& b) { return b.Disclosure("park-a", "2025-12", "42"); });
  seed("footprint",
       [&](RecordBuilder& b) { return b.Footprint("ent-1", "a4e5c3f2-1b2d-4c3e-8f9a-0b1c2d3e4f5a", "0.75"); });
  seed("register-certifier",
       [&](RecordBuilder& b) { return b.Register("reg-eu", "cert-eu", cdl::v1::ROLE_CERTIFIER, "EU"); });
  seed("register-enterprise",
       [&](RecordBuilder& b) { return b.Register("park-a", "ent-2", cdl::v1::ROLE_ENTERPRISE, "CN", "park-a"); });
  seed("accreditation", [&](RecordBuilder& b) {
    return b.Accreditation("acc-cn", "cert-cn", {"ISO 14064-3", "ISO 14067", "PAS 2050"}, "CN", until);
  });
  seed("certificate",
       [&](RecordBuilder& b) { return b.Certificate("cert-cn", w.disclosure, "ISO 14064-3", "CN", until); });
  seed("agreement", [&](RecordBuilder& b) { return b.Agreement("acc-eu", "EU", "acc-cn", "CN", "ISO 14067", until); });
  seed("suspension",
       [&](RecordBuilder& b) { return status_change(b, "cert-cn", 0, record_target(w.footprint_certificate)); });
  seed("revocation", [&](RecordBuilder& b) { return status_change(b, "acc-cn", 1, record_target(w.accreditation)); });
  seed("member-suspension", [&](RecordBuilder& b) {
    cdl::v1::Target t;
    t.set_member("cert-cn");
    return status_change(b, "reg-cn", 0, t);
  });
  seed("termination", [&](RecordBuilder& b) {
    cdl::v1::RecordBody body = b.Body("acc-cn");
    body.mutable_termination()->set_agreement(w.agreement);
    body.mutable_termination()->set_reason("superseded by a new agreement");
    return b.Sign(body);
  });
  seed("renewal", [&](RecordBuilder& b) {
    cdl::v1::RecordBody body = b.Body("cert-cn");
    body.mutable_renewal()->set_target(w.footprint_certificate);
    body.mutable_renewal()->set_valid_until_ms(until + kYearMs);
    return b.Sign(body);
  });
  seed("key-rotation", [&](RecordBuilder& b) {
    cdl::v1::RecordBody body = b.Body("ent-1");
    body.mutable_key_rotation()->set_member_id("ent-1");
    *body.mutable_key_rotation()->add_add_keys() = cdl::verify::PublicKeyInfoOf(FixedKey("ent-1-new").public_key());
    return b.Sign(body);
  });
  seed("audit-finding", [&](RecordBuilder& b) {
    cdl::v1::RecordBody body = b.Body("reg-cn");
    auto* f = body.mutable_audit_finding();
    f->set_subject(w.disclosure);
    f->set_kind(cdl::v1::FINDING_ANOMALY);
    f->set_severity("minor");
    f->set_description("scope 2 market-based above location-based without instruments");
    f->add_related(w.footprint);
    return b.Sign(body);
  });
}

// --- fuzz_passport: real passports ---
void PassportSeeds(World& w) {
  cdl::passport_testing::LedgerSource source(*w.ledger);
  struct Spec {
    const char* name;
    std::string subject;
    const char* jurisdiction;
  };
  for (const Spec& s : {Spec{"footprint-eu", w.footprint, "EU"}, Spec{"footprint-cn", w.footprint, "CN"},
                        Spec{"disclosure-cn", w.disclosure, "CN"}}) {
    auto exported = Must(cdl::cli::BuildPassport(source, s.subject, s.jurisdiction), s.name);
    const std::string bytes = cdl::verify::EncodePassport(exported.passport);
    cdl::verify::PassportCheckOptions options;
    options.at_ms = kFirstBlockMs + 3'600'000;  // as fuzz_passport
    options.now_ms = options.at_ms;
    auto verdict = cdl::verify::VerifyPassport(FixedGenesis(), bytes, options);
    if (!verdict.valid) Die(std::string("passport seed ") + s.name + " is INVALID: " + verdict.reasons[0]);
    Write("fuzz_passport", s.name, bytes);
  }
}

// --- fuzz_genesis: the genesis and real checkpoints ---
void GenesisSeeds(World& w) {
  const std::string json = cdl::verify::GenesisToJson(FixedGenesisProto());
  const uint64_t height = w.ledger->head().height();
  for (uint64_t h : {uint64_t{1}, height}) {
    auto checkpoint = Must(w.ledger->GetCheckpoint(h), "checkpoint");
    Write("fuzz_genesis", "checkpoint-" + std::to_string(h),
          FuzzOutput().Chunk(json).Bytes(checkpoint.SerializeAsString()).data());
  }
  cdl::v1::Genesis one = FixedGenesisProto();
  one.mutable_validators()->DeleteSubrange(1, one.validators_size() - 1);
  Write("fuzz_genesis", "one-validator", FuzzOutput().Chunk(cdl::verify::GenesisToJson(one)).data());
}

// --- fuzz_state_proof ---
void StateProofSeeds(World& w) {
  auto member_key = [](const std::string& m) { return cdl::verify::MemberStateKey(m); };
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"certificate", cdl::verify::RecordStateKey(w.footprint_certificate)},
      {"accreditation", cdl::verify::RecordStateKey(w.accreditation)},
      {"agreement", cdl::verify::RecordStateKey(w.agreement)},
      {"member", member_key("cert-cn")},
      {"founder", member_key("reg-cn")},
      {"key", cdl::verify::KeyStateKey("ent-1", FixedKey("ent-1").public_key().KeyId())},
      {"absent", cdl::verify::RecordStateKey(cdl::crypto::Sha256("no such record"))},
  };
  for (const auto& [name, key] : keys) {
    for (uint64_t height : {uint64_t{0}, uint64_t{2}}) {
      auto [proof, checkpoint] = Must(w.ledger->GetStateProof(key, height), name);
      cdl::v1::BlockHeader header;
      if (!header.ParseFromString(checkpoint.header())) Die("header");
      if (!cdl::verify::VerifyStateProof(header.state_root(), key, proof).ok()) Die("state proof " + name);
      Write("fuzz_state_proof", name + "-h" + std::to_string(height),
            FuzzOutput().U8(0).Chunk(header.state_root()).Chunk(key).Bytes(proof.SerializeAsString()).data());
    }
  }
  // Raw sparse Merkle proofs from a small map with keys sharing long prefixes.
  cdl::crypto::MemorySparseMerkleTree tree;
  std::vector<std::string> smt_keys;
  for (int i = 0; i < 12; ++i) {
    std::string k = i < 6 ? cdl::crypto::Sha256("k" + std::to_string(i)) : std::string(32, '\0');
    if (i >= 6) k[31] = static_cast<char>(i);
    smt_keys.push_back(k);
    if (!tree.Set(k, cdl::crypto::Sha256("v" + k)).ok()) Die("smt set");
  }
  smt_keys.push_back(cdl::crypto::Sha256("absent"));
  for (size_t i = 0; i < smt_keys.size(); i += 3) {
    auto lookup = Must(tree.Prove(smt_keys[i]), "smt prove");
    FuzzOutput out;
    out.U8(1).Chunk(smt_keys[i]).U8(lookup.value_hash.has_value() ? 1 : 0).Chunk(lookup.value_hash.value_or(""));
    out.Chunk(lookup.proof.bitmap).U16(static_cast<uint16_t>(lookup.proof.siblings.size()));
    for (const auto& s : lookup.proof.siblings) out.Chunk(s);
    out.Chunk(tree.Root());
    Write("fuzz_state_proof", "smt-" + std::to_string(i), out.data());
  }
  FuzzOutput map;
  map.U8(2).U8(5);
  for (const char* k : {"a", "b", "ab", "\x80", "\x80\x01"}) map.Chunk(k);
  map.Chunk("ab").U8(3);
  Write("fuzz_state_proof", "map", map.data());
}

// --- fuzz_signature ---
void SignatureSeeds() {
  const std::string a = "record id 0123456789abcdef0123456789abcdef";
  const std::string b = "record id 0123456789abcdef0123456789abcdeF";
  int selector = 0;
  for (const char* name : {"v1", "v2", "v3", "reg-eu", "acc-eu"}) {
    const auto& key = FixedKey(name);
    const std::string sig = Must(cdl::crypto::SignDomain(key, "cdl/sig/v1", a), "sign");
    Write("fuzz_signature", std::string("der-") + name,
          FuzzOutput()
              .U8(static_cast<uint8_t>(selector++))
              .Chunk(key.public_key().der())
              .Chunk(sig)
              .Chunk(a)
              .Bytes(b)
              .data());
  }
  const auto& ed = FixedKey("v3");
  Write("fuzz_signature", "pem-ed25519",
        FuzzOutput()
            .U8(2)
            .Chunk(ed.public_key().ToPem())
            .Chunk(Must(cdl::crypto::SignDomain(ed, "cdl/sig/v1", a), "sign"))
            .Chunk(a)
            .Bytes(a)
            .data());
  Write("fuzz_signature", "empty", FuzzOutput().U8(0).Chunk("").Chunk("").Chunk("").data());
}

// --- fuzz_merkle_inclusion / fuzz_merkle_consistency ---
void MerkleSeeds() {
  cdl::crypto::MemoryMerkleTree tree;
  for (int i = 0; i < 300; ++i) tree.AddLeaf("leaf" + std::to_string(i));
  for (auto [index, size] : {std::pair<uint64_t, uint64_t>{0, 1}, {1, 2}, {2, 3}, {5, 8}, {6, 7}, {99, 300}}) {
    auto proof = Must(tree.InclusionProof(index, size), "inclusion");
    FuzzOutput out;
    out.U8(0).Chunk(cdl::crypto::LeafHash("leaf" + std::to_string(index))).U64(index).U64(size);
    WriteProof(out, proof);
    out.Chunk(Must(tree.RootAt(size), "root")).Chunk(tree.Root());
    Write("fuzz_merkle_inclusion", "raw-" + std::to_string(index) + "-of-" + std::to_string(size), out.data());
  }
  for (auto [old_size, new_size] :
       {std::pair<uint64_t, uint64_t>{0, 5}, {1, 2}, {3, 7}, {4, 8}, {7, 7}, {6, 300}, {128, 299}}) {
    auto proof = Must(tree.ConsistencyProof(old_size, new_size), "consistency");
    FuzzOutput out;
    out.U8(0).U64(old_size).U64(new_size);
    out.Chunk(Must(tree.RootAt(old_size), "root")).Chunk(Must(tree.RootAt(new_size), "root"));
    WriteProof(out, proof);
    out.Chunk(tree.Root()).Chunk(Must(tree.RootAt(1), "root"));
    Write("fuzz_merkle_consistency", "raw-" + std::to_string(old_size) + "-to-" + std::to_string(new_size), out.data());
  }
  // Tree mode: size, then index / sizes, then edits.
  Write("fuzz_merkle_inclusion", "tree-13", FuzzOutput().U8(1).U16(12).U64(12).U64(5).U8(0).data());
  Write("fuzz_merkle_inclusion", "tree-edit",
        FuzzOutput().U8(1).U16(99).U64(77).U64(31).U8(2).U8(0).U8(3).U8(0x40).U8(1).U8(0xff).U8(0).data());
  Write("fuzz_merkle_consistency", "tree-21", FuzzOutput().U8(1).U16(20).U64(20).U64(9).U8(0).data());
  Write("fuzz_merkle_consistency", "tree-edit",
        FuzzOutput().U8(1).U16(200).U64(180).U64(64).U8(1).U8(2).U8(7).U8(0x01).data());
}

// --- fuzz_consensus: what validator 0 receives in an honest 4-node run ---
void ConsensusSeeds() {
  std::vector<std::unique_ptr<ConsensusNode>> nodes;
  for (uint32_t i = 0; i < kConsensusValidators; ++i) nodes.push_back(std::make_unique<ConsensusNode>(i));
  struct Pending {
    uint32_t to, from;
    cdl::consensus::v1::ConsensusMessage msg;
  };
  struct PendingTimer {
    uint32_t node;
    ConsensusNode::Scheduled timer;
  };
  std::deque<Pending> messages;
  std::vector<PendingTimer> timers;
  std::vector<std::string> ops;  // validator 0's inputs, encoded as fuzz_consensus reads them

  auto collect = [&](uint32_t i, bool tick) {
    for (auto& o : nodes[i]->TakeOutbox()) {
      for (uint32_t to = 0; to < kConsensusValidators; ++to) {
        if (to == i || (o.to.has_value() && *o.to != to)) continue;
        messages.push_back({to, i, o.msg});
      }
    }
    for (const auto& t : nodes[i]->TakeTimers()) timers.push_back({i, t});
    if (tick) nodes[i]->Tick();  // fuzz_consensus ticks after every input, not after start
  };
  for (uint32_t i = 0; i < kConsensusValidators; ++i) collect(i, false);

  size_t trace_bytes = 0;
  for (int steps = 0; steps < 20000 && (nodes[0]->delivered_height() < 12 || trace_bytes < 4500); ++steps) {
    if (!messages.empty()) {
      Pending p = std::move(messages.front());
      messages.pop_front();
      if (p.to == 0) {
        ops.push_back(FuzzOutput().U8(0).U8(static_cast<uint8_t>(p.from)).Chunk(p.msg.SerializeAsString()).data());
        trace_bytes += ops.back().size();
      }
      (void)nodes[p.to]->core().OnMessage(p.from, p.msg);
      collect(p.to, true);
      continue;
    }
    if (timers.empty()) Die("consensus run stalled");
    // Quiet network: fire the shortest pending timer.
    size_t best = 0;
    for (size_t i = 1; i < timers.size(); ++i) {
      if (timers[i].timer.delay_ms < timers[best].timer.delay_ms) best = i;
    }
    PendingTimer t = timers[best];
    timers.erase(timers.begin() + static_cast<long>(best));
    if (t.node == 0) ops.push_back(FuzzOutput().U8(5).U8(static_cast<uint8_t>(t.timer.kind)).U64(t.timer.round).data());
    nodes[t.node]->core().OnTimer(t.timer.kind, t.timer.round);
    collect(t.node, true);
  }
  if (nodes[0]->delivered_height() < 12) Die("consensus run did not commit 12 blocks");
  std::printf("consensus run: validator 0 committed %llu blocks in %zu inputs\n",
              static_cast<unsigned long long>(nodes[0]->delivered_height()), ops.size());

  auto trace = [&](size_t begin, size_t end, uint8_t flags) {
    std::string out(1, static_cast<char>(flags));
    for (size_t i = begin; i < end && i < ops.size(); ++i) out += ops[i];
    return out;
  };
  // Prefixes of about 1, 2 and 4 KB, the 2 KB one also with forged signatures
  // enabled, and a window from the middle (blocks whose ancestors are missing).
  size_t bytes = 0;
  std::vector<size_t> cuts;
  for (size_t i = 0, target = 1024; i < ops.size() && target <= 4096; ++i) {
    bytes += ops[i].size();
    if (bytes >= target) {
      cuts.push_back(i + 1);
      target *= 2;
    }
  }
  if (cuts.size() < 3) Die("consensus trace too short");
  Write("fuzz_consensus", "honest-1k", trace(0, cuts[0], 0));
  Write("fuzz_consensus", "honest-2k", trace(0, cuts[1], 0));
  Write("fuzz_consensus", "honest-4k", trace(0, cuts[2], 0));
  Write("fuzz_consensus", "honest-2k-forge", trace(0, cuts[1], 1));
  Write("fuzz_consensus", "middle-window", trace(cuts[1], cuts[2], 1));
  std::string restart = trace(0, cuts[0], 0) + std::string(1, 8) + trace(cuts[0], cuts[1], 0).substr(1);
  Write("fuzz_consensus", "restart", restart);
}

}  // namespace
}  // namespace cdl::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR   (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  cdl::fuzz::g_out = argv[1];
  cdl::fuzz::World& world = cdl::fuzz::TheWorld();
  cdl::fuzz::RecordSeeds(world);
  cdl::fuzz::PassportSeeds(world);
  cdl::fuzz::GenesisSeeds(world);
  cdl::fuzz::StateProofSeeds(world);
  cdl::fuzz::SignatureSeeds();
  cdl::fuzz::MerkleSeeds();
  cdl::fuzz::ConsensusSeeds();
  cdl::fuzz::Write("fuzz_pact", "fixture-footprint.json",
                   cdl::fuzz::PactFootprintJson("3893bb5d-da16-4dc1-9185-11d97476c254", "1.234"));
  std::printf("wrote %d seed files under %s\n", cdl::fuzz::g_written, argv[1]);
  return 0;
}
