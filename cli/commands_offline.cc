// Offline commands: keygen, genesis init, verify-proof, verify-checkpoint.
// None of them talks to a node.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/parse.h"
#include "cli/render.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "node/verify/genesis.h"
#include "node/verify/record.h"

namespace cdl::cli {
namespace {

using nlohmann::json;

// Largest proof bundle / checkpoint file verify-* will read.
constexpr size_t kMaxProofFileBytes = 4 * 1024 * 1024;

absl::Status KeyFileError(const absl::Status& status, const std::string& path) {
  if (absl::IsAlreadyExists(status)) {
    return InputError(absl::StrCat(
        "key file ", path,
        " already exists — choose another path or pass --force to replace it"));
  }
  return InputError(
      absl::StrCat("writing key file ", path, ": ", status.message()));
}

absl::Status WriteKeyPair(const std::string& path,
                          const cdl::crypto::PrivateKey& key, bool force) {
  absl::Status status = cdl::crypto::WritePrivateKeyFile(path, key, force);
  if (!status.ok()) return KeyFileError(status, path);
  const std::string pub = path + ".pub";
  status = cdl::crypto::WritePublicKeyFile(pub, key.public_key(), force);
  if (!status.ok()) return KeyFileError(status, pub);
  return absl::OkStatus();
}

size_t DistinctSigners(const cdl::v1::CommitCertificate& commit) {
  std::set<std::string> ids;
  for (const auto& sig : commit.signatures()) ids.insert(sig.validator());
  return ids.size();
}

// Prints the verdict of a verify-* command and turns INVALID into exit 1.
absl::Status Verdict(const Context& ctx, const std::string& file,
                     const std::vector<std::string>& reasons,
                     const std::string& valid_line, json valid_json) {
  if (reasons.empty()) {
    if (ctx.json) {
      valid_json["valid"] = true;
      *ctx.out << valid_json.dump(2) << "\n";
    } else {
      *ctx.out << "VALID: " << valid_line << "\n";
    }
    return absl::OkStatus();
  }
  if (ctx.json) {
    *ctx.out << json{{"valid", false}, {"reasons", reasons}}.dump(2) << "\n";
  } else {
    *ctx.out << "INVALID: " << absl::StrJoin(reasons, "; ") << "\n";
  }
  return InputError(absl::StrCat(
      "verification failed: ", file,
      " does not prove what it claims — do not rely on it (reasons above)"));
}

}  // namespace

absl::StatusOr<cdl::verify::TrustedGenesis> LoadGenesis(
    const std::string& path) {
  if (path.empty()) {
    return UsageError(
        "no genesis given — pass --genesis GENESIS.json of the ledger you "
        "trust");
  }
  absl::StatusOr<cdl::verify::TrustedGenesis> genesis =
      cdl::verify::TrustedGenesis::FromFile(path);
  if (!genesis.ok()) {
    return InputError(
        absl::StrCat("genesis file ", path, ": ", genesis.status().message(),
                     " — pass the genesis.json of the ledger you trust"));
  }
  return genesis;
}

absl::Status RunKeygen(const Context& ctx, const KeygenOptions& options) {
  absl::StatusOr<cdl::crypto::Algorithm> algorithm =
      ParseKeyAlgorithm(options.algorithm);
  if (!algorithm.ok()) return WithExitCode(algorithm.status(), kExitUsage);
  absl::StatusOr<cdl::crypto::PrivateKey> key =
      cdl::crypto::PrivateKey::Generate(*algorithm);
  if (!key.ok()) return Annotate(key.status(), "generating key");
  if (absl::Status s = WriteKeyPair(options.output, *key, options.force);
      !s.ok()) {
    return s;
  }
  const std::string key_id = cdl::crypto::HexEncode(key->public_key().KeyId());
  const std::string algorithm_name(cdl::crypto::AlgorithmName(*algorithm));
  if (ctx.json) {
    *ctx.out << json{{"key_id", key_id},
                     {"algorithm", algorithm_name},
                     {"private_key_file", options.output},
                     {"public_key_file", options.output + ".pub"}}
                    .dump(2)
             << "\n";
  } else {
    *ctx.out << "key id     " << key_id << "\n"
             << "algorithm  " << algorithm_name << "\n"
             << "private    " << options.output
             << " (mode 0600, keep it secret)\n"
             << "public     " << options.output << ".pub\n";
  }
  return absl::OkStatus();
}

absl::Status RunGenesisInit(const Context& ctx,
                            const GenesisInitOptions& options) {
  namespace fs = std::filesystem;
  if (options.chain_id.empty()) {
    return UsageError("--chain-id is empty — name the chain, e.g. cdl-test");
  }
  if (options.validators < 1 || options.validators > 100) {
    return UsageError(absl::StrCat("--validators ", options.validators,
                                   " is out of range — use 1 to 100 "
                                   "(3f+1 tolerates f faulty ones)"));
  }
  if (options.base_port < 1 ||
      options.base_port + options.validators - 1 > 65535) {
    return UsageError(absl::StrCat("--base-port ", options.base_port,
                                   " gives ports beyond 65535 — pick a lower "
                                   "one"));
  }
  if (options.founders.empty()) {
    return UsageError(
        "no --founder given — name at least one founding member, e.g. "
        "--founder cn-mee:regulator:CN:\"Ministry of Ecology\"");
  }
  absl::StatusOr<cdl::crypto::Algorithm> algorithm =
      ParseKeyAlgorithm(options.algorithm);
  if (!algorithm.ok()) return WithExitCode(algorithm.status(), kExitUsage);

  const fs::path dir(options.output_dir);
  const fs::path genesis_path = dir / "genesis.json";
  std::error_code ec;
  if (fs::exists(genesis_path, ec) && !options.force) {
    return InputError(absl::StrCat(genesis_path.string(),
                                   " already exists — choose another "
                                   "directory or pass --force"));
  }

  // Build everything in memory and validate it before writing any file.
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  cdl::v1::Genesis genesis;
  genesis.set_chain_id(options.chain_id);
  genesis.set_genesis_time_ms(now_ms);
  struct KeyFile {
    std::string path;
    cdl::crypto::PrivateKey key;
    bool with_public;
  };
  std::vector<KeyFile> key_files;
  for (int k = 0; k < options.validators; ++k) {
    absl::StatusOr<cdl::crypto::PrivateKey> key =
        cdl::crypto::PrivateKey::Generate(*algorithm);
    if (!key.ok()) return Annotate(key.status(), "generating validator key");
    cdl::v1::Validator* validator = genesis.add_validators();
    validator->set_id(absl::StrCat("validator-", k));
    *validator->mutable_key() = cdl::verify::PublicKeyInfoOf(key->public_key());
    validator->set_address(absl::StrCat("127.0.0.1:", options.base_port + k));
    key_files.push_back(
        KeyFile{(dir / absl::StrCat("validator-", k, ".key")).string(),
                *std::move(key), false});
  }
  std::set<std::string> founder_ids;
  for (const std::string& text : options.founders) {
    absl::StatusOr<FounderSpec> spec = ParseFounderSpec(text);
    if (!spec.ok()) return WithExitCode(spec.status(), kExitUsage);
    if (absl::Status s =
            cdl::verify::ValidateMemberId("--founder id", spec->id);
        !s.ok()) {
      return UsageError(
          absl::StrCat(s.message(),
                       " — member ids are lowercase letters, digits, '.', "
                       "'_' and '-', 2 to 64 characters"));
    }
    if (!founder_ids.insert(spec->id).second) {
      return UsageError(absl::StrCat("founder ", spec->id,
                                     " is given twice — give each once"));
    }
    absl::StatusOr<cdl::crypto::PrivateKey> key =
        cdl::crypto::PrivateKey::Generate(*algorithm);
    if (!key.ok()) return Annotate(key.status(), "generating founder key");
    cdl::v1::MemberRegistration* founder = genesis.add_founders();
    founder->set_member_id(spec->id);
    founder->set_role(spec->role);
    founder->set_jurisdiction(spec->jurisdiction);
    founder->set_name(spec->name.empty() ? spec->id : spec->name);
    *founder->add_keys() = cdl::verify::PublicKeyInfoOf(key->public_key());
    key_files.push_back(
        KeyFile{(dir / (spec->id + ".key")).string(), *std::move(key), true});
  }
  absl::StatusOr<cdl::verify::TrustedGenesis> trusted =
      cdl::verify::TrustedGenesis::FromProto(genesis);
  if (!trusted.ok()) {
    return InputError(absl::StrCat(
        "the genesis would be invalid: ", trusted.status().message(),
        " — fix the founders or chain id"));
  }

  fs::create_directories(dir, ec);
  if (ec) {
    return InputError(absl::StrCat("cannot create directory ", dir.string(),
                                   ": ", ec.message(),
                                   " — check the path and permissions"));
  }
  for (const KeyFile& file : key_files) {
    absl::Status s;
    if (file.with_public) {
      s = WriteKeyPair(file.path, file.key, options.force);
    } else {
      s = cdl::crypto::WritePrivateKeyFile(file.path, file.key, options.force);
      if (!s.ok()) s = KeyFileError(s, file.path);
    }
    if (!s.ok()) return s;
  }
  if (options.tls) {
    // The CA key signs the validators' certificates; each certificate carries
    // that validator's genesis key, which is what peers check.
    absl::StatusOr<cdl::crypto::PrivateKey> ca_key =
        cdl::crypto::PrivateKey::Generate(
            cdl::crypto::Algorithm::kEcdsaP256Sha256);
    if (!ca_key.ok()) return Annotate(ca_key.status(), "generating CA key");
    const auto now = std::chrono::system_clock::now();
    const auto ten_years = std::chrono::hours(24 * 3653);
    cdl::crypto::CaCertificateOptions ca_options;
    ca_options.common_name = absl::StrCat("cdl cluster CA ", options.chain_id);
    ca_options.not_before = now - std::chrono::hours(1);
    ca_options.not_after = now + ten_years;
    absl::StatusOr<std::string> ca_pem =
        cdl::crypto::CreateCaCertificate(*ca_key, ca_options);
    if (!ca_pem.ok()) return Annotate(ca_pem.status(), "creating the CA");
    for (int k = 0; k < options.validators; ++k) {
      cdl::crypto::NodeCertificateOptions node_options;
      node_options.common_name = genesis.validators(k).id();
      node_options.not_before = ca_options.not_before;
      node_options.not_after = ca_options.not_after;
      absl::StatusOr<std::string> cert = cdl::crypto::IssueNodeCertificate(
          *ca_pem, *ca_key, key_files[k].key.public_key(), node_options);
      if (!cert.ok()) {
        return InputError(absl::StrCat(
            "cannot issue a TLS certificate for ", genesis.validators(k).id(),
            ": ", cert.status().message(),
            " — use -a ecdsa-p256 for validator keys with --tls"));
      }
      if (absl::Status s = WriteFile(
              (dir / absl::StrCat("validator-", k, ".crt")).string(), *cert,
              "certificate");
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = cdl::crypto::WritePrivateKeyFile(
            (dir / "ca.key").string(), *ca_key, options.force);
        !s.ok()) {
      return KeyFileError(s, (dir / "ca.key").string());
    }
    if (absl::Status s =
            WriteFile((dir / "ca.pem").string(), *ca_pem, "CA certificate");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          WriteFile(genesis_path.string(), cdl::verify::GenesisToJson(genesis),
                    "genesis file");
      !s.ok()) {
    return s;
  }

  const std::string hash = cdl::crypto::HexEncode(trusted->Hash());
  if (ctx.json) {
    json validators = json::array();
    for (int k = 0; k < genesis.validators_size(); ++k) {
      const auto& v = genesis.validators(k);
      validators.push_back({{"id", v.id()},
                            {"address", v.address()},
                            {"key_file", key_files[k].path}});
    }
    json founders = json::array();
    for (int i = 0; i < genesis.founders_size(); ++i) {
      const auto& f = genesis.founders(i);
      founders.push_back(
          {{"id", f.member_id()},
           {"role", RoleName(f.role())},
           {"jurisdiction", f.jurisdiction()},
           {"key_file", key_files[genesis.validators_size() + i].path}});
    }
    *ctx.out << json{{"chain_id", genesis.chain_id()},
                     {"genesis_file", genesis_path.string()},
                     {"genesis_hash", hash},
                     {"validators", validators},
                     {"founders", founders}}
                    .dump(2)
             << "\n";
  } else {
    *ctx.out << "wrote " << genesis_path.string() << " (chain "
             << genesis.chain_id() << ", hash " << hash << ")\n";
    for (int k = 0; k < genesis.validators_size(); ++k) {
      *ctx.out << "  validator " << genesis.validators(k).id() << " at "
               << genesis.validators(k).address() << ", key "
               << key_files[k].path << "\n";
    }
    for (int i = 0; i < genesis.founders_size(); ++i) {
      const auto& f = genesis.founders(i);
      *ctx.out << "  founder " << f.member_id() << " (" << RoleName(f.role())
               << ", " << f.jurisdiction() << "), key "
               << key_files[genesis.validators_size() + i].path << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status RunVerifyProof(const Context& ctx,
                            const VerifyProofOptions& options) {
  absl::StatusOr<cdl::verify::TrustedGenesis> genesis =
      LoadGenesis(options.genesis);
  if (!genesis.ok()) return genesis.status();
  absl::StatusOr<std::string> text =
      ReadFileLimited(options.file, kMaxProofFileBytes, "proof file");
  if (!text.ok()) return text.status();

  std::vector<std::string> reasons;
  cdl::v1::ProofBundle bundle;
  if (absl::Status s = ProtoFromJsonFile(*text, &bundle); !s.ok()) {
    reasons.push_back(std::string(s.message()));
    return Verdict(ctx, options.file, reasons, "", {});
  }
  if (bundle.version() != 1) {
    reasons.push_back(absl::StrCat("unsupported proof bundle version ",
                                   bundle.version(), " (this cdl reads 1)"));
  }
  absl::StatusOr<cdl::v1::BlockHeader> header =
      cdl::verify::VerifyCheckpoint(*genesis, bundle.checkpoint());
  if (!header.ok()) {
    reasons.push_back(absl::StrCat("checkpoint: ", header.status().message()));
  }
  absl::StatusOr<cdl::verify::ParsedRecord> record =
      cdl::verify::ParseSignedRecord(bundle.signed_record());
  if (!record.ok()) {
    reasons.push_back(absl::StrCat("record: ", record.status().message()));
  } else {
    if (record->body.chain_id() != genesis->chain_id()) {
      reasons.push_back(
          absl::StrCat("record is for chain \"", record->body.chain_id(),
                       "\", the genesis is for \"", genesis->chain_id(), "\""));
    }
    const bool same_record = bundle.proof().record_id().empty() ||
                             bundle.proof().record_id() == record->id;
    if (!same_record) {
      reasons.push_back(absl::StrCat(
          "the record was altered or swapped: its id is ",
          cdl::crypto::HexEncode(record->id), " but the proof is for ",
          cdl::crypto::HexEncode(bundle.proof().record_id())));
    }
    if (header.ok() && same_record) {
      absl::Status s = cdl::verify::VerifyRecordInclusion(
          *header, bundle.proof(), record->id);
      if (!s.ok()) reasons.push_back(absl::StrCat("inclusion: ", s.message()));
    }
  }
  if (!reasons.empty()) return Verdict(ctx, options.file, reasons, "", {});

  const std::string id = cdl::crypto::HexEncode(record->id);
  const size_t signers = DistinctSigners(bundle.checkpoint().commit());
  const std::string line = absl::StrCat(
      "record ", id, " (", record->type, ", author ", record->body.author(),
      ") is leaf ", bundle.proof().leaf_index(), " of ledger size ",
      header->ledger_size(), " at height ", header->height(), ", cosigned by ",
      signers, "/", genesis->validator_count(), " validators");
  return Verdict(
      ctx, options.file, reasons, line,
      json{{"record_id", id},
           {"type", record->type},
           {"author", record->body.author()},
           {"sequence", record->body.sequence()},
           {"leaf_index", bundle.proof().leaf_index()},
           {"ledger_size", header->ledger_size()},
           {"ledger_root", cdl::crypto::HexEncode(header->ledger_root())},
           {"height", header->height()},
           {"chain_id", genesis->chain_id()},
           {"signers", signers},
           {"validators", genesis->validator_count()}});
}

absl::Status RunVerifyCheckpoint(const Context& ctx,
                                 const VerifyProofOptions& options) {
  absl::StatusOr<cdl::verify::TrustedGenesis> genesis =
      LoadGenesis(options.genesis);
  if (!genesis.ok()) return genesis.status();
  absl::StatusOr<std::string> text =
      ReadFileLimited(options.file, kMaxProofFileBytes, "checkpoint file");
  if (!text.ok()) return text.status();

  std::vector<std::string> reasons;
  cdl::v1::Checkpoint checkpoint;
  if (absl::Status s = ProtoFromJsonFile(*text, &checkpoint); !s.ok()) {
    reasons.push_back(std::string(s.message()));
    return Verdict(ctx, options.file, reasons, "", {});
  }
  absl::StatusOr<cdl::v1::BlockHeader> header =
      cdl::verify::VerifyCheckpoint(*genesis, checkpoint);
  if (!header.ok()) {
    reasons.push_back(absl::StrCat("checkpoint: ", header.status().message()));
    return Verdict(ctx, options.file, reasons, "", {});
  }
  const size_t signers = DistinctSigners(checkpoint.commit());
  const std::string root = cdl::crypto::HexEncode(header->ledger_root());
  const std::string line =
      absl::StrCat("checkpoint of chain ", header->chain_id(), " at height ",
                   header->height(), ": ledger size ", header->ledger_size(),
                   ", root ", root, ", cosigned by ", signers, "/",
                   genesis->validator_count(), " validators");
  return Verdict(
      ctx, options.file, reasons, line,
      json{{"chain_id", header->chain_id()},
           {"height", header->height()},
           {"ledger_size", header->ledger_size()},
           {"ledger_root", root},
           {"block_hash", cdl::crypto::HexEncode(
                              cdl::verify::BlockHash(checkpoint.header()))},
           {"time_ms", header->time_ms()},
           {"signers", signers},
           {"validators", genesis->validator_count()}});
}

}  // namespace cdl::cli
