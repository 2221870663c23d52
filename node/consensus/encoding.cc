#include "node/consensus/encoding.h"

#include "crypto/hash.h"

namespace cdl::consensus {

void ByteWriter::U32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out_.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void ByteWriter::U64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out_.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void ByteWriter::Bytes(std::string_view b) {
  U32(static_cast<uint32_t>(b.size()));
  out_.append(b.data(), b.size());
}

std::string GenesisBlockId(std::string_view chain_id) {
  ByteWriter w;
  w.Bytes("genesis");
  w.Bytes(chain_id);
  return crypto::DomainHash(kBlockIdDomain, w.data());
}

v1::QuorumCert GenesisQc(std::string_view chain_id) {
  v1::QuorumCert qc;
  qc.set_block_id(GenesisBlockId(chain_id));
  return qc;
}

std::string BlockId(std::string_view chain_id, const v1::Block& block) {
  ByteWriter w;
  w.Bytes("block");
  w.Bytes(chain_id);
  w.U64(block.round());
  w.U64(block.height());
  w.Bytes(block.parent_id());
  w.U64(block.qc().round());
  w.U32(block.author());
  w.I64(block.timestamp_ms());
  w.Bytes(crypto::Sha256(block.payload()));
  return crypto::DomainHash(kBlockIdDomain, w.data());
}

std::string VoteMessage(std::string_view chain_id, std::string_view block_id,
                        uint64_t round, uint64_t height,
                        std::string_view parent_id, uint64_t parent_round) {
  ByteWriter w;
  w.Bytes(chain_id);
  w.Bytes(block_id);
  w.U64(round);
  w.U64(height);
  w.Bytes(parent_id);
  w.U64(parent_round);
  return w.Take();
}

std::string VoteMessage(std::string_view chain_id, const v1::Vote& vote) {
  return VoteMessage(chain_id, vote.block_id(), vote.round(), vote.height(),
                     vote.parent_id(), vote.parent_round());
}

std::string CommitMessage(std::string_view chain_id, uint64_t height,
                          std::string_view block_hash) {
  ByteWriter w;
  w.Bytes(chain_id);
  w.U64(height);
  std::string out = w.Take();
  out.append(block_hash.data(), block_hash.size());  // last field: no length
  return out;
}

std::string TimeoutMessage(std::string_view chain_id, uint64_t round,
                           uint64_t high_qc_round) {
  ByteWriter w;
  w.Bytes(chain_id);
  w.U64(round);
  w.U64(high_qc_round);
  return w.Take();
}

std::string ProposalMessage(std::string_view chain_id, uint64_t round,
                            std::string_view block_id) {
  ByteWriter w;
  w.Bytes(chain_id);
  w.U64(round);
  w.Bytes(block_id);
  return w.Take();
}

}  // namespace cdl::consensus
