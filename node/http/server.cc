#include "node/http/server.h"

#include <sys/socket.h>

#include <chrono>
#include <exception>

#include "absl/strings/numbers.h"
#include "crypto/str_cat.h"
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace cdl::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding of one query component: '+' is
// a space, %XX a byte; a malformed escape is kept as it is.
std::string DecodeQueryComponent(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

HttpRequest FromHttplib(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  // `target` is the request target as sent: the path is checked undecoded,
  // so "%2F" or "%2e%2e" cannot turn into '/' or ".." after the checks. The
  // query comes from the target only (the library also merges form-encoded
  // bodies into its parameters).
  const size_t question = req.target.find('?');
  r.path = req.target.substr(0, question);
  if (question != std::string::npos) {
    std::string_view query(req.target);
    query.remove_prefix(question + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      r.params.emplace_back(DecodeQueryComponent(key), DecodeQueryComponent(value));
    }
  }
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

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(Gateway* gateway, std::string_view address) {
  auto host_port = ParseHostPort(address);
  if (!host_port.ok()) return host_port.status();
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->server_ = std::make_unique<httplib::Server>();
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

  auto serve = [gateway](const httplib::Request& req, httplib::Response& res) {
    ToHttplib(gateway->Handle(FromHttplib(req)), res);
  };
  // The gateway does its own routing. HEAD is answered by the GET handler
  // (the library sends no body); methods without a handler get the library's
  // 404, which the error handler below hands to the gateway to classify.
  svr.Get(".*", serve);
  svr.Post(".*", serve);
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [gateway](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // the gateway's own error
        HttpResponse r = res.status == 404 && !req.method.empty() ? gateway->Handle(FromHttplib(req))
                                                                   : Gateway::ErrorFor(res.status);
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
