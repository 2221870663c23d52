#include "node/http/server.h"

#include <sys/socket.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "crypto/keys.h"
#include "crypto/str_cat.h"
#include "crypto/x509.h"
#include "httplib.h"
#include "node/http/pact_api.h"
#include "spdlog/spdlog.h"

namespace cdl::http {
namespace {

HttpRequest FromHttplib(const httplib::Request& req, bool secure) {
  HttpRequest r;
  r.secure = secure;
  r.authorization = req.get_header_value("Authorization");
  r.host = req.get_header_value("Host");
  r.method = req.method;
  // `target` is the request target as sent: the path is checked undecoded,
  // so "%2F" or "%2e%2e" cannot turn into '/' or ".." after the checks. The
  // query comes from the target only (the library also merges form-encoded
  // bodies into its parameters).
  const size_t question = req.target.find('?');
  r.path = req.target.substr(0, question);
  if (question != std::string::npos) r.params = ParseFormEncoded(std::string_view(req.target).substr(question + 1));
  r.content_type = req.get_header_value("Content-Type");
  r.body = req.body;
  return r;
}

void ToHttplib(const HttpResponse& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [key, value] : from.headers) to.set_header(key, value);
  to.set_content(from.body, from.content_type.c_str());
}

}  // namespace

absl::StatusOr<TlsFiles> EnsureDevHttpsIdentity(const std::string& dir) {
  namespace fs = std::filesystem;
  TlsFiles files{(fs::path(dir) / "https-cert.pem").string(), (fs::path(dir) / "https-key.pem").string()};
  const std::string ca_file = (fs::path(dir) / "https-ca.pem").string();
  if (fs::exists(files.cert_file) && fs::exists(files.key_file)) return files;
  auto ca_key = cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256);
  auto key = cdl::crypto::PrivateKey::Generate(cdl::crypto::Algorithm::kEcdsaP256Sha256);
  if (!ca_key.ok()) return ca_key.status();
  if (!key.ok()) return key.status();
  const auto now = std::chrono::system_clock::now();
  const auto not_before = now - std::chrono::hours(1);
  const auto not_after = now + std::chrono::hours(24 * 3650);
  auto ca = cdl::crypto::CreateCaCertificate(*ca_key, {.common_name = "cdl-node --dev HTTPS CA",
                                                       .not_before = not_before,
                                                       .not_after = not_after});
  if (!ca.ok()) return ca.status();
  auto cert = cdl::crypto::IssueNodeCertificate(*ca, *ca_key, key->public_key(),
                                                {.common_name = "localhost",
                                                 .extra_names = {},
                                                 .not_before = not_before,
                                                 .not_after = not_after});
  if (!cert.ok()) return cert.status();
  if (auto s = cdl::crypto::WritePrivateKeyFile(files.key_file, *key, /*overwrite=*/true); !s.ok()) return s;
  for (const auto& [path, text] : {std::pair{ca_file, *ca}, std::pair{files.cert_file, cdl::StrCat(*cert, *ca)}}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return absl::InternalError(cdl::StrCat("cannot write ", path));
  }
  return files;
}

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(cdl::StrCat("\"", address, "\" is not HOST:PORT (e.g. 127.0.0.1:7480)"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  if (!absl::SimpleAtoi(std::string(address.substr(colon + 1)), &port) || port < 0 || port > 65535 ||
      host.empty()) {
    return absl::InvalidArgumentError(cdl::StrCat("\"", address, "\" is not HOST:PORT (e.g. 127.0.0.1:7480)"));
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(Gateway* gateway, std::string_view address,
                                                              const TlsFiles* tls) {
  auto host_port = ParseHostPort(address);
  if (!host_port.ok()) return host_port.status();
  std::unique_ptr<HttpServer> server(new HttpServer());
  const bool secure = tls != nullptr;
  if (secure) {
    auto ssl = std::make_unique<httplib::SSLServer>(tls->cert_file.c_str(), tls->key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(cdl::StrCat("cannot load the HTTPS certificate ", tls->cert_file, " and key ",
                                                    tls->key_file, " (PEM files, key matching the certificate)"));
    }
    // TLS 1.2 at least (the library leaves older versions to OpenSSL's defaults).
    SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
    server->server_ = std::move(ssl);
  } else {
    server->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *server->server_;
  svr.set_payload_max_length(kMaxBodyBytes);
  // A body over the limit is read and discarded by the library (so the
  // connection stays in step); the read timeout bounds a client that
  // declares more than it sends.
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.set_keep_alive_max_count(100);
  svr.set_keep_alive_timeout(5);
  // The library's default sets SO_REUSEPORT, which would let a second node
  // bind the same port and silently share its connections. SO_REUSEADDR
  // alone allows a quick restart but refuses a port someone listens on.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  auto serve = [gateway, secure](const httplib::Request& req, httplib::Response& res) {
    ToHttplib(gateway->Handle(FromHttplib(req, secure)), res);
  };
  // The gateway does its own routing. HEAD is answered by the GET handler
  // (the library sends no body); methods without a handler get the library's
  // 404, which the error handler below hands to the gateway to classify.
  svr.Get(".*", serve);
  svr.Post(".*", serve);
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [gateway, secure](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // the gateway's own error
        const std::string path = req.target.substr(0, req.target.find('?'));
        HttpResponse r;
        if (PactApi::IsPactPath(path) && !secure) {
          r = PactApi::RefusedWithoutTls();
        } else if (res.status == 404 && !req.method.empty()) {
          r = gateway->Handle(FromHttplib(req, secure));
        } else if (PactApi::IsPactPath(path)) {  // PACT clients expect PACT error bodies
          r = PactApi::Error(res.status, res.status >= 500 ? "InternalError" : "BadRequest",
                             res.status == 413 ? cdl::StrCat("the request body is larger than ", kMaxBodyBytes, " bytes")
                                               : "the request cannot be served");
        } else {
          r = Gateway::ErrorFor(res.status);
        }
        ToHttplib(r, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("http: {} {}: {}", req.method, req.target.substr(0, 200), what);
    ToHttplib(Gateway::Error(500, "INTERNAL", "internal error; see the node's log"), res);
  });
  svr.set_logger([gateway](const httplib::Request&, const httplib::Response& res) { gateway->CountResponse(res.status); });

  const auto& [host, port] = *host_port;
  if (port == 0) {
    server->port_ = svr.bind_to_any_port(host);
    if (server->port_ <= 0) return absl::UnavailableError(cdl::StrCat("cannot listen on ", address));
  } else {
    if (!svr.bind_to_port(host, port)) {
      return absl::UnavailableError(cdl::StrCat("cannot listen on ", address, " (address in use?)"));
    }
    server->port_ = port;
  }
  server->thread_ = std::thread([s = server->server_.get()] { s->listen_after_bind(); });
  // The library's stop() is lost if it comes before its accept loop runs:
  // return only once it does, so Stop() always ends the thread.
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!svr.is_running()) return absl::InternalError(cdl::StrCat("the HTTP server on ", address, " did not start"));
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cdl::http
