#!/usr/bin/env python3
"""End-to-end test: mutual certification through the real `cdl` command line.

Creates a one-validator chain with `cdl genesis init` whose founders are the
regulators and accreditation bodies of CN and EU (reg-cn, reg-eu, acc-cn,
acc-eu), starts one `cdl-node` on it and, only through commands a user would
type:
  - registers a certifier (CN), an unaccredited certifier, a park and an
    enterprise; the enterprise imports a PACT footprint;
  - acc-cn accredits the certifier for "ISO 14067" in CN;
  - the certifier certifies the footprint (statement file hashed);
  - the unaccredited certifier's certificate is REJECTED (NOT_ACCREDITED);
  - acc-cn creates a recognition agreement with acc-eu, a wrong member and a
    second signature are refused, a one-signature submit is refused, acc-eu
    co-signs and the agreement is ACCEPTED;
  - a green passport is exported for EU and verifies offline (VALID, from
    another folder, with the genesis only); for US, with a flipped byte or
    past --max-age it is INVALID; QR codes are written as SVG and PNG;
  - the certificate is suspended, reinstated and revoked (each ACCEPTED), a
    second revocation is REJECTED (INVALID_STATE); a fresh passport is
    INVALID with "certificate revoked" and the revocation's reason;
  - a member is suspended and reinstated by its regulator;
  - the accreditation is renewed; the agreement is terminated (and a second
    termination REJECTED).
Every step checks the exit code and the printed receipt. The node is always
killed on exit, also if this script is killed.

Usage: certification_cli_test.py --node PATH/cdl-node --cdl PATH/cdl
           [--pact-dir tests/testdata/pact] [--keep]
Standard library only.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from cdltest import GenesisTest, check, date_in, free_port, run_main  # noqa: E402

TESTDATA = os.path.join(HERE, "testdata")
RPC_TIMEOUT_S = 60
CHAIN_ID = "cdl-cert-e2e"
STANDARD = "ISO 14067"


class Test(GenesisTest):
    def __init__(self, args):
        super().__init__(args, "cdl_cert_e2e_")
        self.pact_dir = args.pact_dir

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def rejected(self, p, code, what):
        """A human-mode run that exited 1 with a REJECTED receipt."""
        check(p.stdout.startswith("REJECTED record ") and code in p.stdout,
              "%s: expected a REJECTED receipt with %s, got %r"
              % (what, code, p.stdout))
        check("rejected: " + code in p.stderr,
              "%s: error line must name %s: %r" % (what, code, p.stderr))
        return p.stdout.split()[2]

    # ---- the scenario -----------------------------------------------------

    def run(self):
        self.genesis()
        self.members()
        self.footprint()
        self.accredit_and_certify()
        self.recognise()
        self.passport_valid()
        self.certificate_lifecycle()
        self.passport_revoked()
        self.member_status()
        self.renew_and_terminate()

    def genesis(self):
        self.step("genesis with founders reg-cn, reg-eu, acc-cn, acc-eu")
        self.cdl.run("genesis", "init", "--chain-id", CHAIN_ID, "-o", self.net,
                     "--validators", "1", "--base-port", str(free_port()),
                     "--founder", "reg-cn:regulator:CN:China regulator",
                     "--founder", "reg-eu:regulator:EU:EU regulator",
                     "--founder", "acc-cn:accreditor:CN:CNAS",
                     "--founder", "acc-eu:accreditor:EU:EU accreditation",
                     node=False)
        self.step("start cdl-node on %s" % self.node.address)
        self.node.start()
        status = self.wait_ready()
        check(status["chain_id"] == CHAIN_ID, "chain id: %r" % status)

    def members(self):
        self.step("keys and registrations: certifiers, park, enterprise")
        for name in ("cn-verify", "rogue-verify", "sip-park", "acme-steel"):
            self.cdl.json("keygen", "-o", self.path(name + ".key"), node=False)
        for member, role in (("cn-verify", "certifier"),
                             ("rogue-verify", "certifier"),
                             ("sip-park", "park")):
            r = self.cdl.json("member", "register", *self.signer("reg-cn"),
                              "--id", member, "--role", role,
                              "--jurisdiction", "CN",
                              "--member-key", self.path(member + ".key.pub"))
            self.accepted(r, "register " + member)
        r = self.cdl.json("member", "register", *self.signer("sip-park"),
                          "--id", "acme-steel", "--role", "enterprise",
                          "--jurisdiction", "CN", "--park", "sip-park",
                          "--member-key", self.path("acme-steel.key.pub"))
        self.accepted(r, "register acme-steel")

    def footprint(self):
        self.step("acme-steel imports a PACT footprint")
        pact = os.path.join(self.pact_dir or "",
                            "spec-2.2.0-get-footprint-response.json")
        if not (self.pact_dir and os.path.exists(pact)):
            pact = os.path.join(TESTDATA, "footprint.json")
        r = self.cdl.json("footprint", "import", *self.signer("acme-steel"),
                          "--file", pact)
        check(isinstance(r, list) and len(r) == 1, "receipts %r" % r)
        self.ids["footprint"] = self.accepted(r[0], "footprint import")

    def accredit_and_certify(self):
        self.step("acc-cn accredits cn-verify for %s in CN" % STANDARD)
        r = self.cdl.json("accredit", *self.signer("acc-cn"),
                          "--certifier", "cn-verify", "--standard", STANDARD,
                          "--jurisdiction", "CN", "--valid-from", date_in(-1),
                          "--valid-until", date_in(365))
        self.ids["accreditation"] = self.accepted(r, "accredit")
        check(r["author"] == "acc-cn", "receipt author %r" % r)

        self.step("an accreditation outside acc-cn's jurisdiction is REJECTED")
        p = self.cdl.run("accredit", *self.signer("acc-cn"),
                         "--certifier", "cn-verify", "--standard", STANDARD,
                         "--jurisdiction", "EU", "--valid-until", date_in(365),
                         expect=1)
        self.rejected(p, "JURISDICTION", "accredit abroad")

        self.step("cn-verify certifies the footprint (statement file hashed)")
        statement = self.write("statement.txt",
                               "Reasonable assurance opinion on Green Ethanol\n")
        with open(statement, "rb") as f:
            statement_hash = hashlib.sha256(f.read()).hexdigest()
        p = self.cdl.run("certify", *self.signer("cn-verify"),
                         "--subject", self.ids["footprint"],
                         "--standard", STANDARD, "--assurance", "reasonable",
                         "--materiality", "5", "--valid-until", date_in(300),
                         "--statement", statement,
                         "--conditions", "site visit 2025-11",
                         "--jurisdiction", "CN")
        check(p.stdout.startswith("ACCEPTED record ") and
              "[cn-verify #1]" in p.stdout, "certify output %r" % p.stdout)
        self.ids["certificate"] = p.stdout.split()[2]
        g = self.cdl.json("get", self.ids["certificate"])
        cert = g["body"]["certificate"]
        check(g["type"] == "certificate" and
              cert["statement_hash"] == statement_hash and
              cert["subject"] == self.ids["footprint"] and
              cert["assurance"] == "ASSURANCE_REASONABLE" and
              cert["jurisdiction"] == "CN", "stored certificate %r" % g)

        self.step("an unaccredited certifier's certificate is REJECTED")
        p = self.cdl.run("certify", *self.signer("rogue-verify"),
                         "--subject", self.ids["footprint"],
                         "--standard", STANDARD, "--assurance", "limited",
                         "--valid-until", date_in(300),
                         "--statement-hash", statement_hash,
                         "--jurisdiction", "CN", expect=1)
        self.rejected(p, "NOT_ACCREDITED", "certify by rogue-verify")
        r = self.cdl.json("certify", *self.signer("rogue-verify"),
                          "--subject", self.ids["footprint"],
                          "--standard", STANDARD, "--assurance", "limited",
                          "--valid-until", date_in(300),
                          "--statement-hash", statement_hash,
                          "--jurisdiction", "CN", expect=1)
        check(r["status"] == "REJECTED" and r["code"] == "NOT_ACCREDITED" and
              len(r["record_id"]) == 64, "JSON receipt %r" % r)

    def recognise(self):
        agreement = self.path("agreement.json")
        self.step("acc-cn creates a recognition agreement with acc-eu")
        created = self.cdl.json("recognise", "create", *self.signer("acc-cn"),
                                "--party-b", "acc-eu", "--jurisdiction-a", "CN",
                                "--jurisdiction-b", "EU", "--standard", STANDARD,
                                "--direction", "mutual",
                                "--valid-until", date_in(730), "-o", agreement)
        check(created["signed_by"] == ["acc-cn"] and not created["complete"] and
              created["chain_id"] == CHAIN_ID and
              len(created["record_id"]) == 64, "create output %r" % created)
        check(os.stat(agreement).st_mode & 0o777 == 0o644,
              "co-sign file must be mode 0644")
        with open(agreement) as f:
            doc = json.load(f)
        check(doc["format"] == "cdl-cosign/v1" and
              doc["record_id"] == created["record_id"], "file %r" % doc)
        p = self.cdl.run("recognise", "create", *self.signer("acc-cn"),
                         "--party-b", "acc-eu", "--jurisdiction-a", "CN",
                         "--jurisdiction-b", "EU", "--standard", STANDARD,
                         "--direction", "mutual", "--valid-until", date_in(730),
                         "-o", agreement, expect=1)
        check("--force" in p.stderr, p.stderr)

        self.step("a wrong party_b is refused before anyone signs")
        p = self.cdl.run("recognise", "create", *self.signer("acc-cn"),
                         "--party-b", "cn-verify", "--jurisdiction-a", "CN",
                         "--jurisdiction-b", "EU", "--standard", STANDARD,
                         "--direction", "mutual", "--valid-until", date_in(730),
                         "-o", self.path("wrong.json"), expect=1)
        check("certifier" in p.stderr and
              not os.path.exists(self.path("wrong.json")), p.stderr)

        self.step("submitting with party_a's signature only is refused")
        p = self.cdl.run("recognise", "submit", agreement, expect=1)
        check("must co-sign it first" in p.stderr and p.stdout == "",
              p.stdout + p.stderr)

        self.step("only party_b co-signs, and only once")
        p = self.cdl.run("recognise", "cosign", agreement,
                         *self.signer("reg-eu"), expect=1, node=False)
        check("not a party" in p.stderr, p.stderr)
        p = self.cdl.run("recognise", "cosign", agreement,
                         *self.signer("acc-eu"), node=False)
        check("signed recognition agreement " + created["record_id"] in p.stdout
              and "acc-cn (CN) and acc-eu (EU), mutual" in p.stdout and
              "cdl recognise submit" in p.stdout, p.stdout)
        p = self.cdl.run("recognise", "cosign", agreement,
                         *self.signer("acc-eu"), expect=1, node=False)
        check("already signed" in p.stderr, p.stderr)

        self.step("the co-signed agreement is ACCEPTED")
        r = self.cdl.json("recognise", "submit", agreement)
        self.ids["agreement"] = self.accepted(r, "recognise submit")
        check(r["record_id"] == created["record_id"] and
              r["author"] == "acc-cn", "receipt %r" % r)
        g = self.cdl.json("get", self.ids["agreement"])
        check(g["type"] == "recognition_agreement" and
              len(g["signatures"]) == 2, "stored agreement %r" % g)
        p = self.cdl.run("recognise", "submit", agreement, expect=1)
        check("already on the ledger" in p.stderr, p.stderr)

    def verify(self, passport, *extra, expect=0):
        """`cdl passport verify` run from an empty folder, genesis only."""
        elsewhere = tempfile.mkdtemp(prefix="verify_", dir=self.work)
        cmd = [self.cdl.binary, "passport", "verify", passport,
               "--trust", os.path.join(self.net, "genesis.json")] + list(extra)
        env = dict(os.environ)
        env.pop("CDL_NODE", None)
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=elsewhere,
                           env=env, timeout=RPC_TIMEOUT_S)
        check(p.returncode == expect, "passport verify %s exited %d, expected "
              "%d\nstdout: %s\nstderr: %s" % (" ".join(extra), p.returncode,
                                             expect, p.stdout, p.stderr))
        return p

    def passport_valid(self):
        self.step("export the footprint's green passport for EU")
        passport = self.path("passport-eu.cdlp")
        e = self.cdl.json("passport", "export",
                          "--footprint", self.ids["footprint"],
                          "--for-jurisdiction", "EU", "-o", passport)
        check(e["certificates"] == 1 and e["records"] >= 6, "export %r" % e)
        p = self.cdl.run("passport", "export", "--footprint",
                         self.ids["footprint"], "--for-jurisdiction", "EU",
                         "-o", passport, expect=1)
        check("--force" in p.stderr, p.stderr)

        self.step("verify it offline from another folder: VALID")
        p = self.verify(passport)
        check(p.stdout.startswith("VALID"), p.stdout)
        for text in ("ISO 14067", "cn-verify", "recognised in EU",
                     "status as of checkpoint"):
            check(text in p.stdout, "summary lacks %r: %s" % (text, p.stdout))
        v = json.loads(self.verify(passport, "--json").stdout)
        check(v["verdict"] == "VALID" and v["jurisdiction"] == "EU" and
              v["certificates"][0]["status"] == "active" and
              v["subject"]["type"] == "product_footprint", "json %r" % v)

        self.step("for US, after a flipped byte, or past --max-age: INVALID")
        p = self.verify(passport, "--jurisdiction", "US", expect=1)
        check(p.stdout.startswith("INVALID") and "US" in p.stdout, p.stdout)
        check(p.stderr.startswith("cdl: ") and p.stderr.count("\n") == 1,
              p.stderr)
        data = bytearray(open(passport, "rb").read())
        data[len(data) // 2] ^= 0x10
        tampered = self.path("tampered.cdlp")
        with open(tampered, "wb") as f:
            f.write(data)
        p = self.verify(tampered, expect=1)
        check(p.stdout.startswith("INVALID"), p.stdout)
        time.sleep(1.1)
        p = self.verify(passport, "--max-age", "1s", expect=1)
        check("older than" in p.stdout, p.stdout)
        self.verify(passport, "--max-age", "bogus", expect=2)

        self.step("QR codes of the passport (SVG and PNG)")
        for name in ("passport.svg", "passport.png"):
            q = self.cdl.json("passport", "qr", passport, "-o", self.path(name),
                              node=False)
            check(os.path.getsize(self.path(name)) > 100, "qr %r" % q)
            check(q["text"].startswith("cdl-passport:v1;"), "qr %r" % q)
        check(open(self.path("passport.png"), "rb").read(8) ==
              b"\x89PNG\r\n\x1a\n", "PNG signature")
        self.cdl.run("passport", "qr", passport, "-o", self.path("x.gif"),
                     node=False, expect=2)
        self.ids["passport"] = passport

    def passport_revoked(self):
        self.step("a fresh passport after the revocation: INVALID, says why")
        passport = self.path("passport-revoked.cdlp")
        self.cdl.run("passport", "export", "--footprint", self.ids["footprint"],
                     "--for-jurisdiction", "EU", "-o", passport)
        p = self.verify(passport, expect=1)
        check("certificate revoked" in p.stdout and
              "misstatement found in audit" in p.stdout, p.stdout)
        # The earlier passport still shows the status at its checkpoint.
        p = self.verify(self.ids["passport"])
        check(p.stdout.startswith("VALID"), p.stdout)

    def query_certificates(self, *flags):
        """Ids of the certificates `cdl query FLAGS` lists."""
        q = self.cdl.json("query", *flags, "--all")
        return [r["record_id"] for r in q["records"]]

    def certificate_lifecycle(self):
        cert = self.ids["certificate"]
        self.step("query by standard and by certificate status: active")
        check(self.query_certificates("--standard", STANDARD) == [cert],
              "by standard")
        check(self.query_certificates("--standard", "PAS 2050") == [],
              "another standard")
        check(self.query_certificates("--certificate-status", "active") == [cert],
              "active")

        self.step("the certifier suspends its certificate")
        r = self.cdl.json("suspend", *self.signer("cn-verify"), "--record", cert,
                          "--reason", "client failed to provide evidence")
        self.accepted(r, "suspend")
        check(self.query_certificates("--certificate-status", "suspended") ==
              [cert], "suspended")
        check(self.query_certificates("--certificate-status", "active") == [],
              "no longer active")

        self.step("the certifier reinstates it")
        p = self.cdl.run("reinstate", *self.signer("cn-verify"),
                         "--record", cert, "--reason", "evidence received")
        check(p.stdout.startswith("ACCEPTED record "), p.stdout)
        check(self.query_certificates("--certificate-status", "active") == [cert],
              "active again")

        self.step("the regulator of CN revokes it")
        r = self.cdl.json("revoke", *self.signer("reg-cn"), "--record", cert,
                          "--reason", "misstatement found in audit")
        self.accepted(r, "revoke")
        check(self.query_certificates("--certificate-status", "revoked",
                                      "--standard", STANDARD) == [cert],
              "revoked")
        check(self.query_certificates("--certificate-status", "suspended") == [],
              "not suspended")

        self.step("revoking it again is REJECTED, as is reinstating it")
        p = self.cdl.run("revoke", *self.signer("reg-cn"), "--record", cert,
                         "--reason", "again", expect=1)
        self.rejected(p, "INVALID_STATE", "second revocation")
        p = self.cdl.run("reinstate", *self.signer("reg-cn"), "--record", cert,
                         "--reason", "undo", expect=1)
        self.rejected(p, "INVALID_STATE", "reinstate revoked")

    def member_status(self):
        self.step("reg-cn suspends and reinstates member rogue-verify")
        r = self.cdl.json("suspend", *self.signer("reg-cn"),
                          "--member", "rogue-verify",
                          "--reason", "issued certificates without accreditation")
        self.accepted(r, "suspend member")
        p = self.cdl.run("reinstate", *self.signer("reg-eu"),
                         "--member", "rogue-verify", "--reason", "x", expect=1)
        self.rejected(p, "ROLE_NOT_ALLOWED", "reinstate by a foreign regulator")
        r = self.cdl.json("reinstate", *self.signer("reg-cn"),
                          "--member", "rogue-verify", "--reason", "retrained")
        self.accepted(r, "reinstate member")

    def renew_and_terminate(self):
        self.step("acc-cn renews the accreditation")
        r = self.cdl.json("renew", *self.signer("acc-cn"),
                          "--record", self.ids["accreditation"],
                          "--valid-until", date_in(3 * 365))
        self.accepted(r, "renew")
        p = self.cdl.run("renew", *self.signer("acc-cn"),
                         "--record", self.ids["accreditation"],
                         "--valid-until", date_in(400), expect=1)
        self.rejected(p, "INVALID_FIELD", "renewal that shortens")

        self.step("acc-eu (party_b) terminates the agreement")
        r = self.cdl.json("terminate", *self.signer("acc-eu"),
                          "--agreement", self.ids["agreement"],
                          "--reason", "replaced by a multilateral arrangement")
        self.accepted(r, "terminate")
        p = self.cdl.run("terminate", *self.signer("acc-cn"),
                         "--agreement", self.ids["agreement"],
                         "--reason", "again", expect=1)
        self.rejected(p, "INVALID_STATE", "second termination")


def main():
    return run_main(Test, __doc__.splitlines()[0], (("--pact-dir", "tests/testdata/pact (optional)"),))


if __name__ == "__main__":
    sys.exit(main())
