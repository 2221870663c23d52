#include "node/verify/genesis.h"

#include <fstream>
#include <set>
#include <sstream>

#include "crypto/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "google/protobuf/util/json_util.h"
#include "node/verify/big_endian.h"
#include "node/verify/record.h"

namespace cdl::verify {

using internal::U32BE;
using internal::U64BE;

absl::StatusOr<TrustedGenesis> TrustedGenesis::FromProto(cdl::v1::Genesis genesis) {
  if (genesis.chain_id().empty() || genesis.chain_id().size() > 64) {
    return absl::InvalidArgumentError("genesis.chain_id: must be 1 to 64 characters");
  }
  if (genesis.validators().empty()) {
    return absl::InvalidArgumentError("genesis.validators: at least one validator is required");
  }
  TrustedGenesis out;
  std::set<std::string> ids;
  std::set<std::string> key_ids;
  for (int i = 0; i < genesis.validators_size(); ++i) {
    const auto& v = genesis.validators(i);
    std::string field = cdl::StrCat("genesis.validators[", i, "]");
    if (v.id().empty()) return absl::InvalidArgumentError(field + ".id: is required");
    if (!ids.insert(v.id()).second) {
      return absl::InvalidArgumentError(cdl::StrCat(field, ".id: \"", v.id(), "\" appears twice"));
    }
    auto key = ParsePublicKeyInfo(field + ".key", v.key());
    if (!key.ok()) return key.status();
    if (!key_ids.insert(key->KeyId()).second) {
      return absl::InvalidArgumentError(field + ".key: the same key is used by two validators");
    }
    out.keys_.push_back(*std::move(key));
  }
  std::set<std::string> members;
  for (int i = 0; i < genesis.founders_size(); ++i) {
    const auto& f = genesis.founders(i);
    std::string field = cdl::StrCat("genesis.founders[", i, "]");
    if (auto s = ValidateMemberId(field + ".member_id", f.member_id()); !s.ok()) return s;
    if (!members.insert(f.member_id()).second) {
      return absl::InvalidArgumentError(cdl::StrCat(field, ".member_id: \"", f.member_id(), "\" appears twice"));
    }
    if (f.role() == cdl::v1::ROLE_UNSPECIFIED || !cdl::v1::Role_IsValid(f.role())) {
      return absl::InvalidArgumentError(field + ".role: is required");
    }
    if (f.keys().empty()) return absl::InvalidArgumentError(field + ".keys: at least one key is required");
    for (int k = 0; k < f.keys_size(); ++k) {
      auto key = ParsePublicKeyInfo(cdl::StrCat(field, ".keys[", k, "]"), f.keys(k));
      if (!key.ok()) return key.status();
    }
  }
  out.genesis_ = std::move(genesis);
  return out;
}

absl::StatusOr<TrustedGenesis> TrustedGenesis::FromJson(std::string_view json) {
  if (json.size() > kMaxGenesisBytes) {
    return absl::InvalidArgumentError(cdl::StrCat("genesis: larger than ", kMaxGenesisBytes, " bytes"));
  }
  cdl::v1::Genesis genesis;
  auto status = google::protobuf::util::JsonStringToMessage(json, &genesis);
  if (!status.ok()) {
    return absl::InvalidArgumentError(cdl::StrCat("genesis: not a valid genesis JSON: ", status.message()));
  }
  return FromProto(std::move(genesis));
}

absl::StatusOr<TrustedGenesis> TrustedGenesis::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(cdl::StrCat("genesis file ", path, ": cannot be opened"));
  std::string text;
  text.resize(kMaxGenesisBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto g = FromJson(text);
  if (!g.ok()) return absl::Status(g.status().code(), cdl::StrCat(path, ": ", g.status().message()));
  return g;
}

int TrustedGenesis::ValidatorIndex(std::string_view id) const {
  for (int i = 0; i < genesis_.validators_size(); ++i) {
    if (genesis_.validators(i).id() == id) return i;
  }
  return -1;
}

std::string TrustedGenesis::Hash() const {
  std::string bytes;
  genesis_.SerializeToString(&bytes);
  return cdl::crypto::DomainHash("cdl/genesis/v1", bytes);
}

std::string GenesisToJson(const cdl::v1::Genesis& genesis) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(genesis, &out, options);
  return out;
}

std::string BlockHash(std::string_view header_bytes) {
  return cdl::crypto::DomainHash(kBlockDomain, header_bytes);
}

std::string CommitMessage(std::string_view chain_id, uint64_t height, std::string_view block_hash) {
  return cdl::StrCat(U32BE(static_cast<uint32_t>(chain_id.size())), chain_id, U64BE(height), block_hash);
}

absl::StatusOr<cdl::v1::CommitSignature> SignCommit(const cdl::crypto::PrivateKey& key,
                                                    std::string_view validator_id,
                                                    std::string_view chain_id, uint64_t height,
                                                    std::string_view block_hash) {
  auto sig = cdl::crypto::SignDomain(key, kCommitDomain, CommitMessage(chain_id, height, block_hash));
  if (!sig.ok()) return sig.status();
  cdl::v1::CommitSignature out;
  out.set_validator(std::string(validator_id));
  out.set_signature(*std::move(sig));
  return out;
}

absl::Status VerifyCommitCertificate(const TrustedGenesis& genesis, std::string_view header_bytes,
                                     const cdl::v1::CommitCertificate& commit) {
  std::vector<std::string> problems;
  cdl::v1::BlockHeader header;
  if (!header.ParseFromArray(header_bytes.data(), static_cast<int>(header_bytes.size()))) {
    return absl::InvalidArgumentError("checkpoint.header: malformed");
  }
  std::string hash = BlockHash(header_bytes);
  if (commit.block_hash() != hash) problems.push_back("commit.block_hash: does not match the header");
  if (commit.height() != header.height()) problems.push_back("commit.height: does not match the header");
  std::set<int> signers;
  std::string message = CommitMessage(genesis.chain_id(), header.height(), hash);
  for (int i = 0; i < commit.signatures_size(); ++i) {
    const auto& s = commit.signatures(i);
    int index = genesis.ValidatorIndex(s.validator());
    if (index < 0) {
      problems.push_back(cdl::StrCat("commit.signatures[", i, "]: \"", s.validator(),
                                      "\" is not a genesis validator"));
      continue;
    }
    if (signers.count(index)) {
      problems.push_back(cdl::StrCat("commit.signatures[", i, "]: validator \"", s.validator(),
                                      "\" signed more than once (counted once)"));
      continue;
    }
    if (!cdl::crypto::VerifyDomain(genesis.validator_key(index), kCommitDomain, message, s.signature()).ok()) {
      problems.push_back(cdl::StrCat("commit.signatures[", i, "]: signature of \"", s.validator(),
                                      "\" does not verify"));
      continue;
    }
    signers.insert(index);
  }
  if (signers.size() < genesis.quorum()) {
    problems.push_back(cdl::StrCat("commit: ", signers.size(), " valid validator signatures, quorum is ",
                                    genesis.quorum(), " of ", genesis.validator_count()));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  return absl::OkStatus();
}

absl::StatusOr<cdl::v1::BlockHeader> VerifyCheckpoint(const TrustedGenesis& genesis,
                                                       const cdl::v1::Checkpoint& checkpoint) {
  cdl::v1::BlockHeader header;
  if (checkpoint.header().size() > 64 * 1024 ||
      !header.ParseFromString(checkpoint.header())) {
    return absl::InvalidArgumentError("checkpoint.header: malformed");
  }
  if (!header.GetReflection()->GetUnknownFields(header).empty()) {
    return absl::InvalidArgumentError("checkpoint.header: unknown fields");
  }
  if (header.chain_id() != genesis.chain_id()) {
    return absl::InvalidArgumentError(cdl::StrCat("checkpoint.header.chain_id: \"", header.chain_id(),
                                                   "\" is not the trusted chain \"", genesis.chain_id(), "\""));
  }
  if (auto s = VerifyCommitCertificate(genesis, checkpoint.header(), checkpoint.commit()); !s.ok()) {
    return s;
  }
  return header;
}

std::string LedgerLeafHash(std::string_view record_id) { return cdl::crypto::LeafHash(record_id); }

absl::Status VerifyRecordInclusion(const cdl::v1::BlockHeader& header,
                                   const cdl::v1::InclusionProof& proof, std::string_view record_id) {
  if (proof.record_id() != record_id) {
    return absl::InvalidArgumentError("proof.record_id: is not the record's id");
  }
  if (proof.tree_size() != header.ledger_size()) {
    return absl::InvalidArgumentError(cdl::StrCat("proof.tree_size: ", proof.tree_size(),
                                                   " does not match the checkpoint's ledger_size ",
                                                   header.ledger_size()));
  }
  std::vector<std::string> hashes(proof.hashes().begin(), proof.hashes().end());
  auto s = cdl::crypto::VerifyInclusion(LedgerLeafHash(record_id), proof.leaf_index(), proof.tree_size(),
                                        hashes, header.ledger_root());
  if (!s.ok()) return absl::InvalidArgumentError(cdl::StrCat("inclusion proof: ", s.message()));
  return absl::OkStatus();
}

}  // namespace cdl::verify
