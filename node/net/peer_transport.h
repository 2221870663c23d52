// PeerTransport: the validator-to-validator network. Connects this validator
// to every other validator of the genesis file over mutual TLS and carries
// cdl.peer.v1.PeerMessage in both directions.
//
// Topology. Every validator runs the cdl.peer.v1.Peer service on its genesis
// address (genesis.validators(i).address(), or options.listen_address) and
// dials every other validator. A validator sends only on the stream it dialed
// and receives on the streams others dialed to it (and on anything the far end
// sends back on its own dialed stream), so each pair has two streams, one per
// direction, each with its own reconnect loop: no tie-breaking, and a
// restarted validator is found again by both sides independently.
//
// Identity. The TLS layer (gRPC over OpenSSL) verifies both certificates
// against the cluster CA (server: GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_
// CERTIFICATE_AND_VERIFY). Then, on every stream, the peer's certificate is
// taken from the gRPC auth context ("x509_pem_cert") and its
// SubjectPublicKeyInfo must equal the genesis key of exactly one validator:
//  - server side: that validator is the sender of everything read on the
//    stream; a certificate whose key is no genesis validator key (or is this
//    validator's own) is refused with UNAUTHENTICATED and counted;
//  - client side: the server must hold the key of the validator we dialed,
//    else the stream is dropped before anything but Hello is sent.
// Hello (first message, both ways) must carry the genesis chain id and the id
// of the validator the certificate belongs to. Ids inside later messages are
// never trusted over the certificate: `from_index` handed to the Handler comes
// from the certificate only. The host name in the certificate is not what
// identifies a peer; gRPC still checks it, against options.tls_server_name
// ("localhost" by default, which IssueNodeCertificate always includes).
//
// Sending. Send/Broadcast never block: messages are queued per peer (bounded
// by count and bytes; on overflow the oldest are dropped and counted) and one
// writer thread per peer writes them once its stream is established. Messages
// to a disconnected peer wait in its queue. Messages larger than
// max_message_bytes are refused at Send and counted. A stream that breaks is
// redialed with exponential backoff and jitter (initial_backoff doubling to
// max_backoff); messages in flight when it broke may be lost, and the one
// whose write failed is sent again on the next stream (so may arrive twice),
// as are all still queued. Consensus tolerates both.
//
// Receiving. gRPC enforces max_message_bytes on every server and channel: a
// larger message resets the stream it came on (the sender sees
// RESOURCE_EXHAUSTED and redials; the receiver counts inbound_stream_errors)
// and is never parsed; so does a message that does not parse. A message that
// parses but has no payload we know (e.g. a newer kind), or a second Hello, is
// dropped and counted as malformed; the stream continues.
//
// Threads. The Handler runs on transport threads: gRPC server threads (one per
// inbound stream) and the per-peer reader threads; calls for different peers
// may run concurrently, calls for one stream are sequential. It must not block
// for long (it stalls that stream) and should hand the message to its owner's
// event loop. All public methods are thread-safe, but Stop (and the
// destructor) must not be called from the Handler. Stop() cancels every stream
// and joins every thread; it returns in well under a second even when peers
// are down or hung, but waits for Handler calls in progress to return.
#ifndef CDL_NODE_NET_PEER_TRANSPORT_H_
#define CDL_NODE_NET_PEER_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/verify/genesis.h"
#include "peer.pb.h"

namespace cdl::net {

struct PeerTransportOptions {
  // This validator's id in the genesis file.
  std::string validator_id;
  cdl::verify::TrustedGenesis genesis;
  // TLS material, PEM: this node's certificate (issued by the cluster CA for
  // this validator's genesis key), its private key (PKCS#8; the validator
  // key), and the cluster CA certificate(s) trusted for peers.
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;
  // Where to listen; empty means this validator's genesis address.
  std::string listen_address;
  // Where to dial some peers instead of their genesis address (validator id
  // -> host:port): a NAT, a proxy, a test harness between validators. The
  // peer is still authenticated by its genesis key.
  std::map<std::string, std::string> peer_addresses;
  // Name gRPC checks against the peers' certificate SANs (see above). Empty:
  // check the host of each peer's genesis address instead.
  std::string tls_server_name = "localhost";

  size_t max_message_bytes = 16 * 1024 * 1024;
  // Per-peer outbound queue bounds; the oldest messages go first.
  size_t max_queued_messages = 10000;
  size_t max_queued_bytes = 64 * 1024 * 1024;

  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  double backoff_jitter = 0.2;  // each wait is scaled by 1 +- jitter
  // Dial + TLS handshake + Hello exchange must finish within this.
  absl::Duration connect_timeout = absl::Seconds(5);
  // HTTP/2 keepalive pings on idle streams; a peer that does not answer
  // within keepalive_timeout is considered gone and redialed.
  absl::Duration keepalive_time = absl::Seconds(10);
  absl::Duration keepalive_timeout = absl::Seconds(5);
  // Seed for the backoff jitter; 0 picks a random seed.
  uint64_t random_seed = 0;
};

struct PeerLinkStats {
  std::string validator_id;
  bool outbound_connected = false;  // our dialed stream is established
  bool inbound_connected = false;   // their dialed stream is established
  size_t queued = 0;                // messages waiting to be written
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t dropped = 0;   // queue overflow
  uint64_t connects = 0;  // outbound streams established so far
};

struct PeerTransportStats {
  // Peers whose outbound stream (the one we send on) is established.
  uint32_t connected_peers = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t dropped_queue_full = 0;
  // Refused at Send: larger than max_message_bytes.
  uint64_t rejected_oversized = 0;
  // Inbound messages without a payload, or a repeated Hello.
  uint64_t rejected_malformed = 0;
  // Streams refused: peer certificate missing or not parseable; its key is
  // not a genesis validator key (or is our own); bad Hello (wrong chain id or
  // validator id, or no Hello first); the server we dialed is not the
  // validator we meant.
  uint64_t refused_no_certificate = 0;
  uint64_t refused_not_genesis = 0;
  uint64_t refused_bad_hello = 0;
  uint64_t refused_wrong_server = 0;
  // Inbound streams that ended other than by our Stop or by a newer stream
  // from the same validator: the peer stopped or restarted, the network
  // failed, or gRPC rejected a message (oversized or unparseable), which
  // resets the stream. Outbound dial attempts that did not establish a stream.
  uint64_t inbound_stream_errors = 0;
  uint64_t outbound_failures = 0;
  // Indexed by genesis validator index; this validator's own entry stays
  // empty apart from its id.
  std::vector<PeerLinkStats> peers;
};

class PeerTransport {
 public:
  using PeerMessage = cdl::peer::v1::PeerMessage;
  // Called for every accepted message (never Hello). See "Threads" above.
  using Handler = std::function<void(uint32_t from_index, PeerMessage msg)>;

  // Checks the options: validator id in the genesis, certificate parses,
  // verifies against the CA now, carries this validator's genesis key and
  // matches key_pem. Nothing is bound or dialed yet.
  static absl::StatusOr<std::unique_ptr<PeerTransport>> Create(PeerTransportOptions options,
                                                               Handler handler);
  ~PeerTransport();

  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds the listen address, starts the Peer service and starts dialing
  // every other validator. Unavailable if the address cannot be bound;
  // FailedPrecondition if called twice or after Stop.
  absl::Status Start();

  // Cancels all streams, stops the server, joins all threads. Idempotent.
  // Queued messages are discarded.
  void Stop();

  // Queues `msg` for validator `to_index` (copied). Ignored, with an error
  // log, for this validator's own index or an index outside the genesis.
  // Messages over max_message_bytes are dropped and counted.
  void Send(uint32_t to_index, const PeerMessage& msg);
  // Queues `msg` for every other validator (one shared copy).
  void Broadcast(const PeerMessage& msg);

  PeerTransportStats stats() const;

  uint32_t self_index() const;
  // The port actually bound (useful with "host:0"); 0 before Start.
  int listening_port() const;

 private:
  class Impl;
  explicit PeerTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdl::net

#endif  // CDL_NODE_NET_PEER_TRANSPORT_H_
