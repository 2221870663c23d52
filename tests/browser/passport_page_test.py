#!/usr/bin/env python3
"""Browser test of cdl-node's web explorer and passport verifier.

Builds a certified footprint on a real one-validator chain with the real `cdl`
command line (founders reg-cn, reg-eu, acc-cn, acc-eu; a certifier, a park
and an enterprise registered; a PACT footprint imported, accredited,
certified and recognised CN<->EU), exports its green passport for the EU and
a copy with one byte flipped, then runs page_test.mjs: headless Chromium
(Debian's /usr/bin/chromium, driven by playwright-core from
tests/browser/node_modules) opens the node's page, checks the explorer, drops
the valid passport (VALID + summary) and picks the tampered one (INVALID +
reasons), and saves screenshots to --shots.

A missing chromium, node or playwright-core FAILS the test (run
deploy/install-deps.sh). The node is killed on exit, also if this script is.

Usage: passport_page_test.py --node PATH/cdl-node --cdl PATH/cdl
           --pact-dir tests/testdata/pact --shots DIR [--chromium PATH]
Standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cdltest import Failure, check, free_port, die_with_parent, date_in  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHAIN_ID = "cdl-browser"
STANDARD = "ISO 14067"
TIMEOUT_S = 60


class Test:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="cdl_browser_")
        self.net = os.path.join(self.work, "net")
        self.rpc = "127.0.0.1:%d" % free_port()
        self.http = "127.0.0.1:%d" % free_port()
        self.proc = None
        self.ids = {}

    def path(self, name):
        return os.path.join(self.work, name)

    def key(self, member):
        founder = os.path.join(self.net, member + ".key")
        return founder if os.path.exists(founder) else self.path(member + ".key")

    def signer(self, member):
        return ["--as", member, "--key", self.key(member)]

    def cdl(self, *args, node=True, parse=True):
        env = dict(os.environ)
        if node:
            env["CDL_NODE"] = self.rpc
        cmd = [self.args.cdl] + list(args) + (["--json"] if parse else [])
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise Failure("`cdl %s` exited %d\nstdout: %s\nstderr: %s"
                          % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return json.loads(p.stdout) if parse else p.stdout

    def accepted(self, receipt, what):
        check(receipt.get("status") == "ACCEPTED", "%s: %r" % (what, receipt))
        return receipt["record_id"]

    def prerequisites(self):
        check(os.path.exists(self.args.chromium),
              "%s not found: the browser test needs Debian's chromium "
              "(run deploy/install-deps.sh)" % self.args.chromium)
        check(shutil.which("node") is not None,
              "node not found: the browser test needs nodejs (run deploy/install-deps.sh)")
        check(os.path.exists(os.path.join(HERE, "node_modules", "playwright-core", "package.json")),
              "playwright-core is not installed in %s/node_modules: run deploy/install-deps.sh "
              "(it runs npm ci there)" % HERE)

    def start_node(self):
        log = open(self.path("node.log"), "ab")
        self.proc = subprocess.Popen(
            [self.args.node, "--data-dir", os.path.join(self.net, "node"), "--listen", self.rpc,
             "--genesis", os.path.join(self.net, "genesis.json"),
             "--key", os.path.join(self.net, "validator-0.key"), "--http", self.http],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            check(self.proc.poll() is None, "cdl-node exited:\n" + self.log_tail())
            try:
                with urllib.request.urlopen("http://%s/readyz" % self.http, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("cdl-node's /readyz did not answer 200 within 30 s:\n" + self.log_tail())

    def log_tail(self):
        try:
            with open(self.path("node.log"), errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return "(no log)"

    def stop_node(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def certify(self):
        self.cdl("genesis", "init", "--chain-id", CHAIN_ID, "-o", self.net,
                 "--validators", "1", "--base-port", str(free_port()),
                 "--founder", "reg-cn:regulator:CN:China regulator",
                 "--founder", "reg-eu:regulator:EU:EU regulator",
                 "--founder", "acc-cn:accreditor:CN:CNAS",
                 "--founder", "acc-eu:accreditor:EU:EU accreditation", node=False)
        self.start_node()
        for name in ("cn-verify", "sip-park", "acme-steel"):
            self.cdl("keygen", "-o", self.path(name + ".key"), node=False)
        for member, role in (("cn-verify", "certifier"), ("sip-park", "park")):
            self.accepted(self.cdl("member", "register", *self.signer("reg-cn"), "--id", member,
                                   "--role", role, "--jurisdiction", "CN",
                                   "--member-key", self.path(member + ".key.pub")), member)
        self.accepted(self.cdl("member", "register", *self.signer("sip-park"), "--id", "acme-steel",
                               "--role", "enterprise", "--jurisdiction", "CN", "--park", "sip-park",
                               "--member-key", self.path("acme-steel.key.pub")), "acme-steel")
        pact = os.path.join(self.args.pact_dir, "spec-2.2.0-get-footprint-response.json")
        receipts = self.cdl("footprint", "import", *self.signer("acme-steel"), "--file", pact)
        self.ids["footprint"] = self.accepted(receipts[0], "footprint import")
        self.accepted(self.cdl("accredit", *self.signer("acc-cn"), "--certifier", "cn-verify",
                               "--standard", STANDARD, "--jurisdiction", "CN",
                               "--valid-from", date_in(-1), "--valid-until", date_in(365)), "accredit")
        self.accepted(self.cdl("certify", *self.signer("cn-verify"), "--subject", self.ids["footprint"],
                               "--standard", STANDARD, "--assurance", "reasonable", "--materiality", "5",
                               "--valid-until", date_in(300), "--statement-hash", "ab" * 32,
                               "--jurisdiction", "CN"), "certify")
        agreement = self.path("agreement.json")
        self.cdl("recognise", "create", *self.signer("acc-cn"), "--party-b", "acc-eu",
                 "--jurisdiction-a", "CN", "--jurisdiction-b", "EU", "--standard", STANDARD,
                 "--direction", "mutual", "--valid-until", date_in(730), "-o", agreement)
        self.cdl("recognise", "cosign", agreement, *self.signer("acc-eu"), node=False, parse=False)
        self.accepted(self.cdl("recognise", "submit", agreement), "recognise submit")

    def passports(self):
        valid = self.path("acme-steel-eu.cdlp")
        self.cdl("passport", "export", "--footprint", self.ids["footprint"],
                 "--for-jurisdiction", "EU", "-o", valid)
        verdict = self.cdl("passport", "verify", valid, "--trust", os.path.join(self.net, "genesis.json"),
                           node=False)
        check(verdict["verdict"] == "VALID", "the CLI finds the passport VALID: %r" % verdict)
        with open(valid, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0x01
        tampered = self.path("acme-steel-eu-tampered.cdlp")
        with open(tampered, "wb") as f:
            f.write(bytes(data))
        return valid, tampered, verdict["subject"]["product"]

    def run(self):
        self.prerequisites()
        self.certify()
        valid, tampered, product = self.passports()
        os.makedirs(self.args.shots, exist_ok=True)
        cmd = ["node", os.path.join(HERE, "page_test.mjs"), "--url", "http://%s/" % self.http,
               "--valid", valid, "--tampered", tampered, "--record", self.ids["footprint"],
               "--product", product, "--certifier", "cn-verify", "--shots", self.args.shots,
               "--chromium", self.args.chromium]
        p = subprocess.run(cmd, cwd=HERE, timeout=300, stdin=subprocess.DEVNULL)
        check(p.returncode == 0, "page_test.mjs failed (exit %d); screenshots in %s"
              % (p.returncode, self.args.shots))
        print("screenshots in %s" % self.args.shots)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--cdl", required=True)
    parser.add_argument("--pact-dir", required=True)
    parser.add_argument("--shots", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    test = Test(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        test.run()
        print("browser test passed")
        return 0
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAILED: %s" % e, file=sys.stderr)
        print("node log:\n" + test.log_tail(), file=sys.stderr)
        return 1
    finally:
        test.stop_node()
        if not args.keep:
            shutil.rmtree(test.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
