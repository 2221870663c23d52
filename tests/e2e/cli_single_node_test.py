#!/usr/bin/env python3
"""End-to-end test: a real `cdl-node --dev` process driven by the real `cdl`.

Starts one node on a free loopback port with a fresh data folder and, only
through the command line a user would type:
  - registers a park and an enterprise (keys from `cdl keygen`),
  - submits a disclosure and PACT footprints, reads them back (get, query),
  - fetches a proof and a checkpoint and verifies both offline,
  - feeds bad input (invalid decimal, unregistered key, wrong role, invalid
    PACT file, tampered proofs, wrong genesis) and checks exit codes/messages,
  - kill -9's the node, restarts it on the same data and checks nothing was
    lost (same height, ledger size and root; records; old proofs verify;
    sequences continue), then stops it with SIGTERM and checks again.
The node is always killed on exit, also if this script is killed.

Usage: cli_single_node_test.py --node PATH/cdl-node --cdl PATH/cdl
           [--pact-dir tests/testdata/pact] [--keep]
Standard library only.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from cdltest import Failure, check, die_with_parent, free_port, run_main  # noqa: E402

TESTDATA = os.path.join(HERE, "testdata")
RPC_TIMEOUT_S = 60
READY_TIMEOUT_S = 30


class Node:
    def __init__(self, binary, data_dir, port, log_path):
        self.binary = binary
        self.data_dir = data_dir
        self.address = "127.0.0.1:%d" % port
        self.log_path = log_path
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--dev", "--data-dir", self.data_dir,
             "--listen", self.address],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        log.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def stop_hard(self):
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


class Cdl:
    def __init__(self, binary, node_address):
        self.binary = binary
        self.node = node_address

    def run(self, *args, expect=0, node=True):
        cmd = [self.binary] + list(args)
        env = dict(os.environ)
        if node:
            env["CDL_NODE"] = self.node
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=RPC_TIMEOUT_S, stdin=subprocess.DEVNULL)
        shown = " ".join(os.path.basename(c) if i == 0 else c
                         for i, c in enumerate(cmd))
        if expect is not None and p.returncode != expect:
            raise Failure("`%s` exited %d, expected %d\nstdout: %s\nstderr: %s"
                          % (shown, p.returncode, expect, p.stdout, p.stderr))
        if p.returncode != 0:
            # Errors are one line on stderr: "cdl: ...".
            check(p.stderr.startswith("cdl: ") and p.stderr.count("\n") == 1,
                  "`%s` should print one error line, got: %r"
                  % (shown, p.stderr))
        return p

    def json(self, *args, expect=0, node=True):
        p = self.run(*(list(args) + ["--json"]), expect=expect, node=node)
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            raise Failure("`cdl %s --json` printed no JSON (%s): %r"
                          % (" ".join(args), e, p.stdout))


class Test:
    def __init__(self, args):
        self.work = tempfile.mkdtemp(prefix="cdl_e2e_")
        self.data = os.path.join(self.work, "node")
        self.node = Node(args.node, self.data, free_port(),
                         os.path.join(self.work, "node.log"))
        self.cdl = Cdl(args.cdl, self.node.address)
        self.pact_dir = args.pact_dir
        self.step_no = 0
        self.ids = {}

    def path(self, name):
        return os.path.join(self.work, name)

    def step(self, text):
        self.step_no += 1
        print("[%2d] %s" % (self.step_no, text), flush=True)

    def wait_ready(self):
        deadline = time.time() + READY_TIMEOUT_S
        while time.time() < deadline:
            if not self.node.running():
                raise Failure("cdl-node exited with %s before answering:\n%s"
                              % (self.node.proc.returncode,
                                 self.node.log_tail()))
            p = self.cdl.run("status", "--json", expect=None)
            if p.returncode == 0:
                return json.loads(p.stdout)
            time.sleep(0.1)
        raise Failure("cdl-node did not answer `cdl status` within %d s:\n%s"
                      % (READY_TIMEOUT_S, self.node.log_tail()))

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    # ---- the scenario -----------------------------------------------------

    def run(self):
        self.step("start cdl-node --dev on %s" % self.node.address)
        self.node.start()
        status = self.wait_ready()
        check(status["chain_id"] == "cdl-dev", "chain id: %r" % status)
        for key in ("height", "ledger_size", "mempool_size"):
            check(isinstance(status[key], int), "%s must be an integer" % key)
        check(status["ledger_root"] == status["ledger_root"].lower() and
              len(status["ledger_root"]) == 64, "ledger_root must be hex")
        self.genesis = os.path.join(self.data, "genesis.json")
        self.founder_key = os.path.join(self.data, "founder.key")
        check(os.path.exists(self.genesis) and os.path.exists(self.founder_key),
              "--dev must write genesis.json and founder.key")
        with open(self.genesis, "rb") as f:
            self.genesis_bytes = f.read()

        self.register_members()
        self.submit_records()
        self.read_back()
        self.proofs()
        self.bad_inputs()
        self.crash_and_restart()
        self.clean_stop_and_restart()

    def register_members(self):
        self.step("generate keys for a park (ecdsa-p256) and an enterprise (sm2)")
        park = self.cdl.json("keygen", "-o", self.path("park.key"))
        check(len(park["key_id"]) == 64, "key id: %r" % park)
        check(os.stat(self.path("park.key")).st_mode & 0o777 == 0o600,
              "private key must be mode 0600")
        self.cdl.json("keygen", "--algorithm", "sm2", "-o",
                      self.path("acme.key"))

        self.step("dev-regulator registers the park")
        r = self.cdl.json("member", "register", "--as", "dev-regulator",
                          "--key", self.founder_key, "--id", "sip-park",
                          "--role", "park", "--jurisdiction", "CN",
                          "--name", "Suzhou Industrial Park",
                          "--member-key", self.path("park.key.pub"))
        check(r["status"] == "ACCEPTED" and r["height"] >= 1, "receipt: %r" % r)

        self.step("the park admits an enterprise")
        p = self.cdl.run("member", "register", "--as", "sip-park",
                         "--key", self.path("park.key"), "--id", "acme-steel",
                         "--role", "enterprise", "--jurisdiction", "CN",
                         "--park", "sip-park", "--name", "Acme Steel",
                         "--member-key", self.path("acme.key.pub"))
        check(p.stdout.startswith("ACCEPTED record "), "output: %r" % p.stdout)

    def submit_records(self):
        self.step("acme-steel discloses its 2025 inventory")
        r = self.cdl.json("disclose", "--as", "acme-steel",
                          "--key", self.path("acme.key"),
                          "--file", os.path.join(TESTDATA, "disclosure.json"))
        check(r["status"] == "ACCEPTED" and r["sequence"] == 1, "receipt %r" % r)
        self.ids["disclosure"] = r["record_id"]

        self.step("acme-steel imports a PACT footprint")
        r = self.cdl.json("footprint", "import", "--as", "acme-steel",
                          "--key", self.path("acme.key"),
                          "--file", os.path.join(TESTDATA, "footprint.json"))
        check(isinstance(r, list) and len(r) == 1, "receipts: %r" % r)
        check(r[0]["status"] == "ACCEPTED" and r[0]["sequence"] == 2,
              "receipt %r" % r)
        check(r[0]["footprint_id"] == "3a8e4f2b-5c1d-4e6f-9a7b-1c2d3e4f5a6b",
              "footprint id %r" % r)
        self.ids["footprint"] = r[0]["record_id"]

        spec = os.path.join(self.pact_dir or "",
                            "spec-2.3.0-list-footprints-response.json")
        if self.pact_dir and os.path.exists(spec):
            self.step("import the PACT specification's own example response")
            r = self.cdl.json("footprint", "import", "--as", "acme-steel",
                              "--key", self.path("acme.key"), "--file", spec)
            check(all(x["status"] == "ACCEPTED" for x in r), "receipts %r" % r)
            self.ids["spec_footprint"] = r[0]["record_id"]

    def read_back(self):
        self.step("read both records back with `cdl get`")
        d = self.cdl.json("get", self.ids["disclosure"])
        check(d["type"] == "disclosure", "type %r" % d["type"])
        body = d["body"]["disclosure"]
        check(body["scope1_tco2e"] == "12500.750", "decimal kept exact: %r" % body)
        check(body["organisation"] == "acme-steel", "organisation %r" % body)
        check(d["receipt"]["status"] == "ACCEPTED", "receipt %r" % d["receipt"])
        human = self.cdl.run("get", self.ids["disclosure"]).stdout
        check("ACCEPTED at height" in human and "12500.750" in human,
              "human get output: %r" % human)

        f = self.cdl.json("get", self.ids["footprint"])
        pact = json.loads(f["body"]["product_footprint"]["pact_json"])
        check(pact["pcf"]["pCfExcludingBiogenic"] == "1850.250",
              "PACT decimal kept exact: %r" % pact["pcf"])

        self.step("query by member, type + period, and park")
        q = self.cdl.json("query", "--member", "acme-steel", "--all")
        ids = [x["record_id"] for x in q["records"]]
        check(self.ids["disclosure"] in ids and self.ids["footprint"] in ids,
              "query by member: %r" % q)
        q = self.cdl.json("query", "--type", "disclosure", "--period", "2025")
        check([x["record_id"] for x in q["records"]] == [self.ids["disclosure"]],
              "query by type+period: %r" % q)
        q = self.cdl.json("query", "--park", "sip-park", "--limit", "1")
        check(len(q["records"]) == 1 and q["next_page_token"],
              "first page of one: %r" % q)
        q2 = self.cdl.json("query", "--park", "sip-park", "--limit", "1",
                           "--page-token", q["next_page_token"])
        check(q2["records"] and q2["records"][0] != q["records"][0],
              "second page: %r" % q2)

    def proofs(self):
        self.step("fetch a proof bundle and a checkpoint; verify both offline")
        self.cdl.run("proof", self.ids["disclosure"], "-o",
                     self.path("disclosure.proof.json"))
        cp = self.cdl.json("checkpoint", "-o", self.path("checkpoint.json"))
        check(cp["ledger_size"] >= 4, "checkpoint %r" % cp)
        # Offline: no node address at all.
        p = self.cdl.run("verify-proof", self.path("disclosure.proof.json"),
                         "--genesis", self.genesis, node=False)
        check(p.stdout.startswith("VALID: record " + self.ids["disclosure"]) and
              "(disclosure, author acme-steel)" in p.stdout and
              "cosigned by 1/1 validators" in p.stdout, p.stdout)
        v = self.cdl.json("verify-checkpoint", self.path("checkpoint.json"),
                          "--genesis", self.genesis, node=False)
        check(v["valid"] and v["ledger_size"] == cp["ledger_size"] and
              v["ledger_root"] == cp["ledger_root"], "verify-checkpoint %r" % v)
        # `cdl proof` without -o prints the bundle: same verdict.
        bundle = self.cdl.run("proof", self.ids["footprint"]).stdout
        self.write("footprint.proof.json", bundle)
        v = self.cdl.json("verify-proof", self.path("footprint.proof.json"),
                          "--genesis", self.genesis, node=False)
        check(v["valid"] and v["type"] == "product_footprint", "%r" % v)

    def bad_inputs(self):
        acme = ["--as", "acme-steel", "--key", self.path("acme.key")]
        before = self.cdl.json("status")

        self.step("bad input: invalid decimal in a disclosure")
        bad = self.write("bad-decimal.json",
                         '{"period": "2025", "scope1_tco2e": "12,5"}')
        p = self.cdl.run("disclose", *acme, "--file", bad, expect=1)
        check("scope1_tco2e" in p.stdout + p.stderr, "field not named: %r"
              % p.stderr)

        self.step("bad input: disclosure signed with an unregistered key")
        self.cdl.json("keygen", "-o", self.path("rogue.key"))
        rogue = ["--as", "acme-steel", "--key", self.path("rogue.key")]
        good = os.path.join(TESTDATA, "disclosure.json")
        p = self.cdl.run("disclose", *rogue, "--file", good, expect=1)
        check("not a registered key" in p.stderr, p.stderr)
        # With --sequence the CLI skips its own look-up: the node refuses.
        p = self.cdl.run("disclose", *rogue, "--file", good, "--sequence", "3",
                         expect=1)
        check("registered" in p.stderr or "REJECTED" in p.stdout, p.stderr)

        self.step("bad input: unknown field in a disclosure file")
        unknown = self.write("unknown.json", '{"period": "2025", "scope_1": "1"}')
        p = self.cdl.run("disclose", *acme, "--file", unknown, expect=1)
        check('"scope_1"' in p.stderr, p.stderr)

        self.step("bad input: invalid PACT file is refused, nothing submitted")
        invalid = os.path.join(self.pact_dir or "",
                               "invalid-array-second-element.json")
        if not (self.pact_dir and os.path.exists(invalid)):
            with open(os.path.join(TESTDATA, "footprint.json")) as f:
                doc = json.load(f)
            doc["pcf"]["declaredUnit"] = "kg"
            invalid = self.write("invalid-pact.json", json.dumps(doc))
        p = self.cdl.run("footprint", "import", *acme, "--file", invalid,
                         expect=1)
        check("$" in p.stdout and "nothing was submitted" in p.stderr,
              p.stdout + p.stderr)
        p = self.cdl.run("footprint", "validate", invalid, expect=1, node=False)
        check("pcf.declaredUnit" in p.stdout, p.stdout)

        self.step("bad input: an enterprise may not register members (REJECTED)")
        p = self.cdl.run("member", "register", *acme, "--id", "shadow-co",
                         "--role", "enterprise", "--jurisdiction", "CN",
                         "--park", "sip-park",
                         "--member-key", self.path("rogue.key.pub"), expect=1)
        check(p.stdout.startswith("REJECTED record ") and
              "ROLE_NOT_ALLOWED" in p.stdout and "rejected" in p.stderr,
              p.stdout + p.stderr)
        rejected_id = p.stdout.split()[2]
        r = self.cdl.json("get", rejected_id)
        check(r["receipt"]["status"] == "REJECTED", "%r" % r["receipt"])
        # A rejected record still uses up its author's sequence number.
        self.acme_sequence = r["receipt"]["sequence"]
        p = self.cdl.run("proof", rejected_id, expect=1)
        check("REJECTED" in p.stderr, p.stderr)
        after = self.cdl.json("status")
        check(after["ledger_size"] == before["ledger_size"],
              "rejected records must not enter the ledger: %r -> %r"
              % (before, after))

        self.step("bad input: tampered proof bundles are INVALID")
        with open(self.path("disclosure.proof.json")) as f:
            bundle = json.load(f)

        def tampered(name, mutate):
            b = json.loads(json.dumps(bundle))
            mutate(b)
            path = self.write(name, json.dumps(b))
            p = self.cdl.run("verify-proof", path, "--genesis", self.genesis,
                             expect=1, node=False)
            check(p.stdout.startswith("INVALID: "), "%s: %r" % (name, p.stdout))

        def flip_record(b):
            raw = bytearray(base64.b64decode(b["signed_record"]))
            at = raw.find(b"12500.750")
            check(at >= 0, "disclosure bytes not found in the bundle")
            raw[at] = ord("9")
            b["signed_record"] = base64.b64encode(bytes(raw)).decode()

        def other_leaf(b):
            b["proof"]["leaf_index"] = str(int(b["proof"]["leaf_index"]) ^ 1)

        def drop_signatures(b):
            b["checkpoint"]["commit"]["signatures"] = []

        tampered("t-record.json", flip_record)
        tampered("t-leaf.json", other_leaf)
        tampered("t-commit.json", drop_signatures)

        self.step("a proof does not verify against another ledger's genesis")
        self.cdl.run("genesis", "init", "--chain-id", "cdl-dev", "-o",
                     self.path("other"), "--founder", "dev-regulator:regulator:CN",
                     node=False)
        p = self.cdl.run("verify-proof", self.path("disclosure.proof.json"),
                         "--genesis", self.path("other/genesis.json"),
                         expect=1, node=False)
        check(p.stdout.startswith("INVALID: "), p.stdout)

    def snapshot(self):
        s = self.cdl.json("status")
        return {k: s[k] for k in ("height", "ledger_size", "ledger_root")}

    def check_nothing_lost(self, before):
        after = self.snapshot()
        check(after == before, "state changed across restart: %r -> %r"
              % (before, after))
        for name, rid in self.ids.items():
            r = self.cdl.json("get", rid)
            check(r["receipt"]["status"] == "ACCEPTED", "%s lost: %r" % (name, r))
        with open(self.genesis, "rb") as f:
            check(f.read() == self.genesis_bytes, "genesis.json changed")
        for proof in ("disclosure.proof.json", "footprint.proof.json"):
            p = self.cdl.run("verify-proof", self.path(proof), "--genesis",
                             self.genesis, node=False)
            check(p.stdout.startswith("VALID: "), p.stdout)
        # A fresh proof of an old record verifies too.
        self.cdl.run("proof", self.ids["disclosure"], "-o",
                     self.path("disclosure.proof2.json"))
        self.cdl.run("verify-proof", self.path("disclosure.proof2.json"),
                     "--genesis", self.genesis, node=False)

    def next_disclosure(self, period):
        d = self.write("d-%s.json" % period,
                       json.dumps({"period": period, "scope1_tco2e": "1.5",
                                   "scope2_location_tco2e": "2.25",
                                   "methodology": "ISO 14064-1:2018"}))
        return self.cdl.json("disclose", "--as", "acme-steel",
                             "--key", self.path("acme.key"), "--file", d)

    def crash_and_restart(self):
        before = self.snapshot()
        self.step("kill -9 the node at height %d, ledger size %d"
                  % (before["height"], before["ledger_size"]))
        self.node.signal(signal.SIGKILL)
        self.node.wait(30)
        p = self.cdl.run("status", expect=3)
        check("cannot reach node" in p.stderr, p.stderr)

        self.step("restart on the same data: nothing lost")
        self.node.start()
        self.wait_ready()
        self.check_nothing_lost(before)

        self.step("new submissions continue with the right sequence")
        expected = self.acme_sequence + 1
        r = self.next_disclosure("2026-Q1")
        check(r["status"] == "ACCEPTED" and r["sequence"] == expected,
              "expected sequence %d: %r" % (expected, r))
        self.ids["after_crash"] = r["record_id"]
        now = self.snapshot()
        check(now["ledger_size"] == before["ledger_size"] + 1 and
              now["height"] > before["height"], "%r -> %r" % (before, now))

    def clean_stop_and_restart(self):
        before = self.snapshot()
        self.step("stop the node with SIGTERM: it exits cleanly")
        self.node.signal(signal.SIGTERM)
        try:
            rc = self.node.wait(30)
        except subprocess.TimeoutExpired:
            raise Failure("cdl-node did not stop within 30 s of SIGTERM")
        check(rc == 0, "cdl-node exited %d after SIGTERM:\n%s"
              % (rc, self.node.log_tail()))

        self.step("restart again: nothing lost, sequences continue")
        self.node.start()
        self.wait_ready()
        self.check_nothing_lost(before)
        prev = self.cdl.json("get", self.ids["after_crash"])
        r = self.next_disclosure("2026-Q2")
        check(r["status"] == "ACCEPTED" and
              r["sequence"] == int(prev["body"]["sequence"]) + 1, "%r" % r)
        self.cdl.run("proof", r["record_id"], "-o", self.path("last.json"))
        self.cdl.run("verify-proof", self.path("last.json"), "--genesis",
                     self.genesis, node=False)


def main():
    return run_main(Test, __doc__.splitlines()[0],
                    (("--pact-dir", "tests/testdata/pact (optional)"),))


if __name__ == "__main__":
    sys.exit(main())
