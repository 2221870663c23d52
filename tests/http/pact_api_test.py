#!/usr/bin/env python3
"""The PACT v2 API of a real `cdl-node --dev` over real HTTPS.

Starts `cdl-node --dev` on free ports (gRPC, --http, --https) in a temporary
data dir, so the node generates its self-signed HTTPS identity and its PACT
client file. Then, with the real `cdl` CLI: registers a park, an enterprise,
an accreditor and a certifier, imports five PACT footprints, certifies one.
Over HTTPS, verifying the node's certificate against <data-dir>/https-ca.pem:
gets a token with the credentials from <data-dir>/pact-clients.json, pages
through /2/footprints?limit=2 by the Link headers, fetches the certified
footprint by id (ledger extension with the certificate, whose proof URL
resolves), checks an unknown id, a bad token and a wrong grant type, and posts
a CloudEvent. Over plain HTTP the same requests get 403 AccessDenied and no
token or data. Then asynchronous answers: the node restarts with a second
PACT client in pact-clients.json whose events_url is a tiny local receiver
(http.server on 127.0.0.1, with its own /auth/token); that client's
RequestCreated events get RequestFulfilled (a known product id, the
footprints as GET serves them) and RequestRejected NoSuchFootprint (an
unknown one) at the receiver, authenticated with the token the receiver
issued; nothing goes to the URL named in the event. The node must stop
cleanly on SIGTERM.

Usage: pact_api_test.py --node PATH/cdl-node --cdl PATH/cdl --footprint FILE
Standard library only.
"""

import base64
import copy
import json
import os
import re
import signal
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cdltest import (Failure, GenesisNode, GenesisTest, check, date_in, die_with_parent,  # noqa: E402
                     free_port, run_main)

STANDARD = "ISO 14067"
FOOTPRINTS = 5


class DevNode(GenesisNode):
    """`cdl-node --dev` with explicit ports (GenesisNode's interface)."""

    def __init__(self, binary, data_dir, port, log_path):
        super().__init__(binary, data_dir, port, log_path)
        self.data_dir = data_dir
        self.http = "127.0.0.1:%d" % free_port()
        self.https = "127.0.0.1:%d" % free_port()

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--dev", "--data-dir", self.data_dir, "--listen", self.address,
                 "--http", self.http, "--https", self.https],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent)


class Receiver:
    """The data recipient's side: /auth/token (client credentials it issued to
    the node) and /2/events (bearer token), recording the events it takes."""

    CLIENT_ID = "cdl-dev-node"
    SECRET = "issued-by-the-buyer-0123"
    TOKEN = "receiver-token-" + uuid.uuid4().hex

    def __init__(self):
        import http.server
        receiver = self
        self.events = []
        self.token_requests = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body=b"", content_type="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                auth = self.headers.get("Authorization", "")
                if self.path == "/auth/token":
                    basic = base64.b64encode(("%s:%s" % (Receiver.CLIENT_ID, Receiver.SECRET)).encode()).decode()
                    with receiver.lock:
                        receiver.token_requests += 1
                    if auth != "Basic " + basic or body != b"grant_type=client_credentials":
                        return self.answer(401, b'{"error":"invalid_client"}')
                    return self.answer(200, json.dumps({"access_token": Receiver.TOKEN, "token_type": "Bearer",
                                                        "expires_in": 3600}).encode())
                if self.path == "/2/events":
                    if auth != "Bearer " + Receiver.TOKEN:
                        return self.answer(403, b'{"code":"AccessDenied","message":"bad token"}')
                    if not self.headers.get("Content-Type", "").startswith("application/cloudevents+json"):
                        return self.answer(400, b'{"code":"BadRequest","message":"content type"}')
                    with receiver.lock:
                        receiver.events.append(json.loads(body))
                    return self.answer(200, b"", "text/plain")
                return self.answer(404, b'{"code":"BadRequest","message":"no such path"}')

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.1)
        with self.lock:
            return list(self.events)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is answered as it is, never followed


class PactTest(GenesisTest):
    def __init__(self, args):
        super().__init__(args, "cdl_pact_")
        self.args = args
        self.data = self.path("dev")
        self.node = DevNode(args.node, self.data, free_port(), self.path("node.log"))
        self.cdl.node = self.node.address
        self.tls = None
        self.opener = None

    # --- HTTP helpers -------------------------------------------------------
    def request(self, url, method="GET", body=None, headers=None):
        """(status, headers, body text) of one request; errors are answers too."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def https(self, path):
        return "https://%s%s" % (self.node.https, path)

    def plain(self, path):
        return "http://%s%s" % (self.node.http, path)

    def token_request(self, base, client_id, secret, grant="client_credentials"):
        basic = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
        return self.request(base("/auth/token"), "POST", "grant_type=" + grant,
                            {"Authorization": "Basic " + basic,
                             "Content-Type": "application/x-www-form-urlencoded"})

    def pact_error(self, answer, status, code, what):
        got_status, _, body = answer
        try:
            parsed = json.loads(body)
        except ValueError:
            raise Failure("%s: body is not JSON: %r" % (what, body))
        check(got_status == status and parsed.get("code") == code,
              "%s: expected %d %s, got %d %s" % (what, status, code, got_status, body))
        check("access_token" not in parsed and "data" not in parsed, "%s: leaked %s" % (what, body))

    # --- scenario -----------------------------------------------------------
    def run(self):
        self.step("start cdl-node --dev with --http and --https")
        self.node.start()
        ca = os.path.join(self.data, "https-ca.pem")
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(self.data, "pact-clients.json")):
            check(self.node.running(), "cdl-node exited:\n" + self.node.log_tail())
            check(time.time() < deadline, "no pact-clients.json within 30 s")
            time.sleep(0.1)
        self.wait_ready()
        self.tls = ssl.create_default_context(cafile=ca)  # verifies the chain and 127.0.0.1
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.tls), NoRedirect())
        deadline = time.time() + 30
        while True:
            try:
                if self.request(self.https("/healthz"))[0] == 200:
                    break
            except OSError:
                pass
            check(time.time() < deadline, "https /healthz did not answer within 30 s")
            time.sleep(0.1)
        for name in ("pact-clients.json", "https-key.pem"):
            mode = stat.S_IMODE(os.stat(os.path.join(self.data, name)).st_mode)
            check(mode == 0o600, "%s has mode %o, expected 600" % (name, mode))
        with open(os.path.join(self.data, "pact-clients.json")) as f:
            client = json.load(f)["clients"][0]
        check(client["member"] == "dev-regulator", "dev client member: %r" % client)

        self.step("members, five footprints and a certificate with the cdl CLI")
        founder = ["--as", "dev-regulator", "--key", os.path.join(self.data, "founder.key")]
        for name in ("park", "acme", "acc", "verifier"):
            self.cdl.run("keygen", "-o", self.path(name + ".key"), node=False)
        for member, role, signer, extra in (
                ("park", "park", founder, []),
                ("acc", "accreditor", founder, []),
                ("verifier", "certifier", founder, []),
                ("acme", "enterprise", ["--as", "park", "--key", self.path("park.key")], ["--park", "park"])):
            self.accepted(self.cdl.json("member", "register", *signer, "--id", member, "--role", role,
                                        "--jurisdiction", "CN", "--member-key", self.path(member + ".key.pub"),
                                        *extra), member)
        with open(self.args.footprint) as f:
            template = json.load(f)
        footprints = []
        for _ in range(FOOTPRINTS):
            pf = copy.deepcopy(template)
            pf["id"] = str(uuid.uuid4())
            footprints.append(pf)
        batch = self.path("footprints.json")
        with open(batch, "w") as f:
            json.dump(footprints, f)
        receipts = self.cdl.json("footprint", "import", "--as", "acme", "--key", self.path("acme.key"),
                                 "--file", batch)
        check(len(receipts) == FOOTPRINTS, "import: %d receipts" % len(receipts))
        record_ids = [self.accepted(r, "footprint import") for r in receipts]
        self.accepted(self.cdl.json("accredit", "--as", "acc", "--key", self.path("acc.key"),
                                    "--certifier", "verifier", "--standard", STANDARD, "--jurisdiction", "CN",
                                    "--valid-from", date_in(-1), "--valid-until", date_in(365)), "accredit")
        certificate = self.accepted(
            self.cdl.json("certify", "--as", "verifier", "--key", self.path("verifier.key"),
                          "--subject", record_ids[0], "--standard", STANDARD, "--assurance", "reasonable",
                          "--materiality", "5", "--valid-until", date_in(300), "--statement-hash", "ab" * 32,
                          "--jurisdiction", "CN"), "certify")

        self.step("POST /auth/token over HTTPS (client credentials, HTTP Basic)")
        status, headers, body = self.token_request(self.https, client["client_id"], client["client_secret"])
        check(status == 200, "token: %d %s" % (status, body))
        token = json.loads(body)
        check(token["token_type"] == "Bearer" and token["expires_in"] > 0 and token["access_token"],
              "token response %r" % token)
        bearer = {"Authorization": "Bearer " + token["access_token"]}
        status, _, body = self.token_request(self.https, client["client_id"], "wrong-secret")
        check(status in (400, 401) and json.loads(body)["error"] == "invalid_client", "bad secret: %s" % body)
        status, _, body = self.token_request(self.https, client["client_id"], client["client_secret"], "password")
        check(status == 400 and json.loads(body)["error"] == "unsupported_grant_type", "grant: %s" % body)

        self.step("GET /2/footprints?limit=2, following the Link headers")
        url = self.https("/2/footprints?limit=2")
        seen, pages = [], 0
        while url:
            status, headers, body = self.request(url, headers=bearer)
            check(status == 200, "%s: %d %s" % (url, status, body))
            data = json.loads(body)["data"]
            check(len(data) <= 2, "page of %d" % len(data))
            seen += [pf["id"] for pf in data]
            pages += 1
            link = headers.get("Link")
            url = None
            if link:
                m = re.fullmatch(r'<(https://[^>]+)>; rel="next"', link)
                check(m is not None, "Link header %r" % link)
                url = m.group(1)
                check(url.startswith(self.https("/2/footprints?")), "next link %r" % url)
            check(pages <= FOOTPRINTS, "too many pages")
        check(sorted(seen) == sorted(pf["id"] for pf in footprints),
              "listed %r, imported %r" % (seen, [pf["id"] for pf in footprints]))
        check(pages == 3, "%d pages of 2 for %d footprints" % (pages, FOOTPRINTS))

        self.step("GET /2/footprints/{id}: the stored footprint, linked to its certificate and proof")
        status, _, body = self.request(self.https("/2/footprints/" + footprints[0]["id"]), headers=bearer)
        check(status == 200, "get: %d %s" % (status, body))
        pf = json.loads(body)["data"]
        links = pf["extensions"][-1]["data"]
        check(links["recordId"] == record_ids[0], "recordId %r" % links.get("recordId"))
        check([c["recordId"] for c in links["certificates"]] == [certificate], "certificates %r" % links)
        for key, value in template.items():
            if key != "id":
                check(pf[key] == value, "footprint property %s changed: %r != %r" % (key, pf[key], value))
        for what, link in (("record", links["record"]), ("proof", links["proof"]),
                           ("certificate proof", links["certificates"][0]["proof"])):
            status, _, body = self.request(link)
            check(status == 200, "%s %s: %d %s" % (what, link, status, body[:200]))
        self.pact_error(self.request(self.https("/2/footprints/" + str(uuid.uuid4())), headers=bearer),
                        404, "NoSuchFootprint", "unknown id")
        self.pact_error(self.request(self.https("/2/footprints"), headers={"Authorization": "Bearer nope"}),
                        400, "BadRequest", "bad token")

        self.step("POST /2/events (CloudEvents)")
        event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "https://buyer.example.com",
                 "time": "2026-05-19T10:30:00Z",
                 "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
                 "data": {"pf": {"productIds": template["productIds"]}, "comment": "PCF for 2026, please"}}
        ce = dict(bearer, **{"Content-Type": "application/cloudevents+json; charset=UTF-8"})
        status, _, body = self.request(self.https("/2/events"), "POST", json.dumps(event), ce)
        check(status == 200, "event: %d %s" % (status, body))
        self.pact_error(self.request(self.https("/2/events"), "POST", "{bad json", ce), 400, "BadRequest",
                        "malformed event")

        self.step("the plain HTTP port refuses the PACT API with 403 AccessDenied")
        self.pact_error(self.token_request(self.plain, client["client_id"], client["client_secret"]),
                        403, "AccessDenied", "plain /auth/token")
        for path in ("/2/footprints", "/2/footprints/" + footprints[0]["id"]):
            self.pact_error(self.request(self.plain(path), headers=bearer), 403, "AccessDenied", "plain " + path)
        self.pact_error(self.request(self.plain("/2/events"), "POST", json.dumps(event), ce), 403, "AccessDenied",
                        "plain /2/events")
        status, _, _ = self.request(self.plain("/healthz"))
        check(status == 200, "plain /healthz: %d" % status)

        self.step("restart with a client whose events_url is a local receiver")
        self.node.proc.send_signal(signal.SIGTERM)
        check(self.node.proc.wait(timeout=30) == 0, "cdl-node exited %s" % self.node.proc.returncode)
        receiver = Receiver()
        try:
            self.async_answers(receiver, template, footprints, record_ids)
        finally:
            receiver.stop()

        self.step("SIGTERM: clean stop")
        self.node.proc.send_signal(signal.SIGTERM)
        check(self.node.proc.wait(timeout=30) == 0, "cdl-node exited %s" % self.node.proc.returncode)

    def async_answers(self, receiver, template, footprints, record_ids):
        clients_file = os.path.join(self.data, "pact-clients.json")
        with open(clients_file) as f:
            clients = json.load(f)
        buyer = {"client_id": "buyer", "member": "dev-regulator", "client_secret": "buyer-secret-" + uuid.uuid4().hex,
                 "events_url": receiver.url + "/2/events", "events_client_id": Receiver.CLIENT_ID,
                 "events_client_secret": Receiver.SECRET}
        clients["clients"].append(buyer)
        with open(clients_file, "w") as f:
            json.dump(clients, f)
        self.node.start()
        self.wait_ready()
        deadline = time.time() + 30
        while True:
            try:
                if self.request(self.https("/healthz"))[0] == 200:
                    break
            except OSError:
                pass
            check(time.time() < deadline, "https /healthz did not answer within 30 s after the restart")
            time.sleep(0.1)
        status, _, body = self.token_request(self.https, buyer["client_id"], buyer["client_secret"])
        check(status == 200, "buyer token: %d %s" % (status, body))
        ce = {"Authorization": "Bearer " + json.loads(body)["access_token"],
              "Content-Type": "application/cloudevents+json; charset=UTF-8"}
        known, unknown = str(uuid.uuid4()), str(uuid.uuid4())
        for event_id, product in ((known, template["productIds"][0]), (unknown, "urn:gtin:0000000000000")):
            event = {"specversion": "1.0", "id": event_id, "source": "//elsewhere.example/2/events",
                     "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
                     "data": {"pf": {"productIds": [product]}}}
            status, _, body = self.request(self.https("/2/events"), "POST", json.dumps(event), ce)
            check(status == 200 and body == "", "request %s: %d %s" % (event_id, status, body))

        self.step("the receiver gets RequestFulfilled and RequestRejected")
        events = receiver.wait_for(2)
        check(len(events) == 2, "receiver got %d events: %r\n%s" % (len(events), events, self.node.log_tail()))
        by_request = {e["data"]["requestEventId"]: e for e in events}
        check(set(by_request) == {known, unknown}, "answered %r" % sorted(by_request))
        fulfilled, rejected = by_request[known], by_request[unknown]
        check(fulfilled["type"] == "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
              "known product: %r" % fulfilled["type"])
        check(fulfilled["specversion"] == "1.0" and fulfilled["id"] and fulfilled["source"].startswith("//"),
              "envelope %r" % {k: v for k, v in fulfilled.items() if k != "data"})
        pfs = fulfilled["data"]["pfs"]
        check(sorted(pf["id"] for pf in pfs) == sorted(pf["id"] for pf in footprints),
              "fulfilled with %r" % [pf["id"] for pf in pfs])
        first = next(pf for pf in pfs if pf["id"] == footprints[0]["id"])
        check(first["extensions"][-1]["data"]["recordId"] == record_ids[0], "ledger extension %r" % first["extensions"])
        check(rejected["type"] == "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"
              and rejected["data"]["error"]["code"] == "NoSuchFootprint",
              "unknown product: %r" % rejected)
        check(receiver.token_requests >= 1, "no token was requested from the receiver")


if __name__ == "__main__":
    sys.exit(run_main(PactTest, __doc__.splitlines()[0],
                      extra_args=(("--footprint", "a valid PACT footprint (JSON) used as a template"),)))
