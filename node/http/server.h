// Serves a Gateway over HTTP/1.1 — plain or TLS — with cpp-httplib: binds the address,
// answers on a pool of threads, and turns everything the library refuses by
// itself (bodies over kMaxBodyBytes: 413, URIs over its limit: 414, malformed
// requests: 400) into the gateway's JSON error bodies. No exception escapes a
// handler: an unexpected one is a 500.
#ifndef CDL_NODE_HTTP_SERVER_H_
#define CDL_NODE_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "node/http/gateway.h"

namespace httplib {
class Server;
}

namespace cdl::http {

// The certificate (PEM, leaf first, chain may follow) and private key (PEM)
// files of an HTTPS server.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// --dev: the files of a self-signed HTTPS identity in `dir`, created when
// absent: https-ca.pem (a dev CA certificate: clients trust this file),
// https-cert.pem (a server certificate for 127.0.0.1 and localhost issued
// by it, followed by the CA certificate) and https-key.pem (P-256, 0600).
// The CA key is not kept. Valid for ten years.
absl::StatusOr<TlsFiles> EnsureDevHttpsIdentity(const std::string& dir);

// "HOST:PORT" ("[::1]:7480" for IPv6) -> host and port (0-65535).
// InvalidArgument naming what is wrong.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view address);

class HttpServer {
 public:
  // Binds `address` ("HOST:PORT"; port 0 picks a free port) and starts
  // serving `gateway` (not owned; must outlive the server), over TLS when
  // `tls` is given (requests are then marked `secure`). Unavailable when the
  // address cannot be bound, InvalidArgument for a malformed address or
  // certificate/key files that cannot be loaded.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(Gateway* gateway, std::string_view address,
                                                           const TlsFiles* tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, finishes requests in progress, joins the threads. Idempotent.
  void Stop();
  // The bound port.
  int port() const { return port_; }

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cdl::http

#endif  // CDL_NODE_HTTP_SERVER_H_
