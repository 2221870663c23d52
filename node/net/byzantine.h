// A Byzantine validator for tests (cdl-node --test-byzantine; never for
// production): a PeerNetwork wrapper that, next to the validator's real
// consensus messages, sends what a faulty or malicious validator would:
//   - every `period`-th proposal is followed by a second, conflicting
//     proposal for the same round (another block time, so another block id),
//     validly signed: leader equivocation;
//   - every `period`-th vote is followed by a second vote for the same round
//     on a made-up block, validly signed: a double vote;
//   - every vote is also sent once with a corrupted signature and once,
//     validly signed, for a round a million rounds ahead.
// The real message always goes first on the same stream, so honest
// validators vote for it; they must stay safe and live, reject and count the
// bad copies, and report the equivocations as evidence.
#ifndef CDL_NODE_NET_BYZANTINE_H_
#define CDL_NODE_NET_BYZANTINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "crypto/keys.h"
#include "node/consensus/key_signer.h"
#include "node/net/bft_orderer.h"
#include "peer.pb.h"

namespace cdl::net {

class ByzantineNetwork : public PeerNetwork {
 public:
  // `inner` (not owned) carries every message; `key` is this validator's key.
  ByzantineNetwork(PeerNetwork* inner, std::string chain_id, cdl::crypto::PrivateKey key, uint32_t period = 5);

  void Send(uint32_t to, const cdl::peer::v1::PeerMessage& msg) override;
  void Broadcast(const cdl::peer::v1::PeerMessage& msg) override;

  // The extra messages for `msg` (none for anything but proposals and votes).
  std::vector<cdl::peer::v1::PeerMessage> Extras(const cdl::peer::v1::PeerMessage& msg);

 private:
  PeerNetwork* inner_;
  const std::string chain_id_;
  cdl::consensus::KeySigner signer_;
  const uint32_t period_;
  absl::Mutex mu_;
  uint64_t proposals_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t votes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdl::net

#endif  // CDL_NODE_NET_BYZANTINE_H_
