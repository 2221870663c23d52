#!/usr/bin/env python3
"""End-to-end test: the regulator audit through the real `cdl` command line.

Creates a one-validator chain with `cdl genesis init` (founders reg-cn and
acc-cn), starts one `cdl-node` on it and, only through commands a user would
type:
  - registers a certifier and a park (by reg-cn) and four enterprises (by the
    park); acc-cn accredits the certifier;
  - ent-a discloses 2025 and 2026 and amends 2026 with --supersedes (its
    first 2026 disclosure was certified: that certificate no longer counts);
    ent-b's scope 1 jumps 40 % from 2025 to 2026, its certificate is
    revoked; ent-c files two 2026 disclosures without a supersede link;
    ent-d discloses nothing for 2026;
  - takes checkpoint A;
  - `cdl audit report` in CSV and JSON: every row and the park figures
    (totals, 75 % coverage: target missed, 25 % with an active certificate,
    93.08 % energy-weighted renewable share: target met) exactly;
  - `cdl audit anomalies` finds the jump and the duplicate, not more; with
    --submit both become ACCEPTED AuditFinding records on the ledger, and a
    second --submit submits nothing;
  - takes checkpoint B; `cdl audit verify-log` is VALID from A to B (proof
    from the node, and offline from `cdl audit consistency-proof`'s file),
    INVALID with the checkpoints swapped, a tampered checkpoint or a
    tampered proof.
Every step checks the exit code and the output. The node is always killed on
exit, also if this script is killed.

Usage: audit_cli_test.py --node PATH/cdl-node --cdl PATH/cdl [--keep]
Standard library only.
"""

import base64
import calendar
import csv
import io
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cdltest import GenesisTest, check, date_in, free_port, run_main  # noqa: E402

CHAIN_ID = "cdl-audit-e2e"
PARK = "sip-park"
STANDARD = "ISO 14064-3"
STATEMENT_HASH = "ab" * 32


class Test(GenesisTest):
    def __init__(self, args):
        super().__init__(args, "cdl_audit_e2e_")

    # ---- the scenario -----------------------------------------------------

    def run(self):
        self.genesis()
        self.members()
        self.disclosures()
        self.certificates()
        self.checkpoint("a.json")
        self.report_csv()
        self.report_json()
        self.report_late()
        self.report_errors()
        self.anomalies()
        self.submit_findings()
        self.checkpoint("b.json")
        self.verify_log()

    def genesis(self):
        self.step("genesis with founders reg-cn and acc-cn; start cdl-node")
        self.cdl.run("genesis", "init", "--chain-id", CHAIN_ID, "-o", self.net,
                     "--validators", "1", "--base-port", str(free_port()),
                     "--founder", "reg-cn:regulator:CN:China regulator",
                     "--founder", "acc-cn:accreditor:CN:CNAS", node=False)
        self.node.start()
        status = self.wait_ready()
        check(status["chain_id"] == CHAIN_ID, "chain id: %r" % status)

    def members(self):
        self.step("certifier and park (by reg-cn), four enterprises (by park)")
        names = {"ent-a": "Alpha Steel, Ltd", "ent-b": "Beta Glass",
                 "ent-c": "Gamma \"Green\" Chemicals", "ent-d": "Delta Paper"}
        for name in ["cn-verify", PARK] + sorted(names):
            self.cdl.json("keygen", "-o", self.path(name + ".key"), node=False)
        for member, role in (("cn-verify", "certifier"), (PARK, "park")):
            r = self.cdl.json("member", "register", *self.signer("reg-cn"),
                              "--id", member, "--role", role,
                              "--jurisdiction", "CN", "--name", member,
                              "--member-key", self.path(member + ".key.pub"))
            self.accepted(r, "register " + member)
        for member in sorted(names):
            r = self.cdl.json("member", "register", *self.signer(PARK),
                              "--id", member, "--role", "enterprise",
                              "--jurisdiction", "CN", "--park", PARK,
                              "--name", names[member],
                              "--member-key", self.path(member + ".key.pub"))
            self.accepted(r, "register " + member)
        r = self.cdl.json("accredit", *self.signer("acc-cn"),
                          "--certifier", "cn-verify", "--standard", STANDARD,
                          "--jurisdiction", "CN", "--valid-from", date_in(-1),
                          "--valid-until", date_in(365))
        self.accepted(r, "accredit cn-verify")

    def disclose(self, name, member, period, scope1, extra=None,
                 supersedes=None):
        doc = {"period": period, "scope1_tco2e": scope1,
               "scope2_location_tco2e": "1",
               "methodology": "ISO 14064-1:2018"}
        doc.update(extra or {})
        path = self.path(name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        args = ["disclose", *self.signer(member), "--file", path]
        if supersedes:
            args += ["--supersedes", supersedes]
        self.ids[name] = self.accepted(self.cdl.json(*args), "disclose " + name)

    def disclosures(self):
        self.step("disclosures: amendment, 40 % jump, duplicate, one missing")
        a26 = {"scope2_location_tco2e": "400", "scope2_market_tco2e": "350",
               "scope3_tco2e": "2000", "energy_mwh": "10000",
               "renewable_share_pct": "95"}
        self.disclose("a25", "ent-a", "2025", "1000")
        self.disclose("a26", "ent-a", "2026", "1100", a26)
        self.disclose("b25", "ent-b", "2025", "500")
        self.disclose("b26", "ent-b", "2026", "700",
                      {"scope2_location_tco2e": "100",
                       "scope2_market_tco2e": "80", "scope3_tco2e": "500",
                       "energy_mwh": "2000", "renewable_share_pct": "80"})
        c26 = {"scope2_location_tco2e": "50", "energy_mwh": "1000",
               "renewable_share_pct": "100"}
        self.disclose("c26", "ent-c", "2026", "290", c26)
        self.disclose("c26bis", "ent-c", "2026", "300.5", c26)
        self.disclose("d25", "ent-d", "2025", "80")
        # The park's own disclosure is not an enterprise row.
        self.disclose("park26", PARK, "2026", "99999")

    def certify(self, subject, assurance):
        r = self.cdl.json("certify", *self.signer("cn-verify"),
                          "--subject", subject, "--standard", STANDARD,
                          "--assurance", assurance,
                          "--valid-until", date_in(300),
                          "--statement-hash", STATEMENT_HASH,
                          "--jurisdiction", "CN")
        return self.accepted(r, "certify " + subject)

    def certificates(self):
        self.step("certificates; ent-a amends; ent-b's certificate revoked")
        self.ids["cert_a_old"] = self.certify(self.ids["a26"], "limited")
        self.disclose("a26v2", "ent-a", "2026", "1150",
                      {"scope2_location_tco2e": "400",
                       "scope2_market_tco2e": "350", "scope3_tco2e": "2000",
                       "energy_mwh": "10000", "renewable_share_pct": "95"},
                      supersedes=self.ids["a26"])
        self.ids["cert_a"] = self.certify(self.ids["a26v2"], "reasonable")
        self.ids["cert_b"] = self.certify(self.ids["b26"], "limited")
        r = self.cdl.json("revoke", *self.signer("reg-cn"),
                          "--record", self.ids["cert_b"],
                          "--reason", "misstatement found in audit")
        self.accepted(r, "revoke ent-b's certificate")

    def checkpoint(self, name):
        self.step("checkpoint %s" % name)
        c = self.cdl.json("checkpoint", "-o", self.path(name))
        self.ids[name] = c
        check(c["ledger_size"] > 0, "checkpoint %r" % c)

    def expected_rows(self):
        i = self.ids
        return [
            {"enterprise": "ent-a", "name": "Alpha Steel, Ltd",
             "member_status": "active", "coverage": "disclosed",
             "periods": "2026", "disclosure_ids": i["a26v2"],
             "scope1_tco2e": "1150", "scope2_location_tco2e": "400",
             "scope2_market_tco2e": "350", "scope3_tco2e": "2000",
             "energy_mwh": "10000", "renewable_share_pct": "95",
             "certification": "active", "assurance": "reasonable",
             "certificates": i["cert_a"] + " active reasonable",
             "amended_ids": i["a26v2"], "amended_scope1_tco2e": "1150",
             "superseded_ids": i["a26"], "superseded_scope1_tco2e": "1100",
             "duplicate_ids": ""},
            {"enterprise": "ent-b", "name": "Beta Glass",
             "member_status": "active", "coverage": "disclosed",
             "periods": "2026", "disclosure_ids": i["b26"],
             "scope1_tco2e": "700", "scope2_location_tco2e": "100",
             "scope2_market_tco2e": "80", "scope3_tco2e": "500",
             "energy_mwh": "2000", "renewable_share_pct": "80",
             "certification": "revoked", "assurance": "limited",
             "certificates": i["cert_b"] + " revoked limited",
             "amended_ids": "", "amended_scope1_tco2e": "",
             "superseded_ids": "", "superseded_scope1_tco2e": "",
             "duplicate_ids": ""},
            {"enterprise": "ent-c", "name": "Gamma \"Green\" Chemicals",
             "member_status": "active", "coverage": "disclosed",
             "periods": "2026", "disclosure_ids": i["c26bis"],
             "scope1_tco2e": "300.5", "scope2_location_tco2e": "50",
             "scope2_market_tco2e": "", "scope3_tco2e": "",
             "energy_mwh": "1000", "renewable_share_pct": "100",
             "certification": "none", "assurance": "",
             "certificates": "", "amended_ids": "",
             "amended_scope1_tco2e": "", "superseded_ids": "",
             "superseded_scope1_tco2e": "", "duplicate_ids": i["c26"]},
            {"enterprise": "ent-d", "name": "Delta Paper",
             "member_status": "active", "coverage": "missing",
             "periods": "", "disclosure_ids": "", "scope1_tco2e": "",
             "scope2_location_tco2e": "", "scope2_market_tco2e": "",
             "scope3_tco2e": "", "energy_mwh": "",
             "renewable_share_pct": "", "certification": "",
             "assurance": "", "certificates": "", "amended_ids": "",
             "amended_scope1_tco2e": "", "superseded_ids": "",
             "superseded_scope1_tco2e": "", "duplicate_ids": ""},
        ]

    def report_csv(self):
        self.step("audit report --format csv: exact rows and park totals")
        out = self.path("report.csv")
        p = self.cdl.run("audit", "report", "--park", PARK, "--period", "2026",
                         "--format", "csv", "-o", out)
        check("coverage            75.00 % (target 90 %: not met)" in p.stdout
              and "renewable share     93.08 % (target 90 %: met)" in p.stdout
              and "4 (3 disclosed, 0 partial, 1 missing)" in p.stdout,
              "summary: %s" % p.stdout)
        check("audit: " in p.stderr, "progress on stderr: %r" % p.stderr)
        text = open(out).read()
        lines = text.split("\n")
        check(len(lines) == 7 and lines[-1] == "", "CSV lines: %r" % lines)
        # RFC 4180 quoting of names with a comma and with quotes.
        check(lines[1].startswith('ent-a,"Alpha Steel, Ltd",active,'),
              lines[1])
        check(lines[3].startswith('ent-c,"Gamma ""Green"" Chemicals",'),
              lines[3])
        check(lines[5] == "TOTAL,%s,,,2026,,2150.5,550,430,2500,13000,93.08,"
              ",,,,,,,,%d,,,75.00,25.00,no,yes" % (PARK, self.late_2026()),
              "TOTAL line: %r" % lines[5])
        rows = list(csv.DictReader(io.StringIO(text)))
        check(len(rows) == 5, "rows %r" % rows)
        for got, want in zip(rows[:4], self.expected_rows()):
            for key, value in want.items():
                check(got[key] == value, "%s.%s: %r, expected %r"
                      % (want["enterprise"], key, got[key], value))
            for key in ("coverage_pct", "certified_pct",
                        "coverage_target_met", "renewable_target_met"):
                check(got[key] == "", "%s.%s set on a row" %
                      (want["enterprise"], key))

    def report_json(self):
        self.step("audit report to a .json file: rows and park")
        out = self.path("report.json")
        summary = self.cdl.json("audit", "report", "--park", PARK,
                                "--period", "2026", "-o", out)
        check(summary["format"] == "json" and summary["file"] == out,
              "summary %r" % summary)
        with open(out) as f:
            report = json.load(f)
        park = report["park"]
        check(park == summary["park"], "summary park %r" % summary)
        expected_park = {
            "id": PARK, "period": "2026", "enterprises": 4, "disclosed": 3,
            "partial": 0, "missing": 1, "certified": 1,
            "late": self.late_2026(), "deadline_days": 120,
            "coverage_pct": 75.0, "coverage_target_pct": 90.0,
            "coverage_target_met": False, "certified_pct": 25.0,
            "totals": {"scope1_tco2e": "2150.5",
                       "scope2_location_tco2e": "550",
                       "scope2_market_tco2e": "430", "scope3_tco2e": "2500",
                       "energy_mwh": "13000"},
            "renewable_share_pct": 93.08, "renewable_target_pct": 90.0,
            "renewable_target_met": True}
        check(park == expected_park, "park %r" % park)
        rows = report["rows"]
        check([r["enterprise"] for r in rows] ==
              ["ent-a", "ent-b", "ent-c", "ent-d"], "rows %r" % rows)
        a = rows[0]
        check(a["amendments"] == [{"period": "2026",
                                   "record_id": self.ids["a26v2"],
                                   "supersedes": self.ids["a26"],
                                   "scope1_tco2e": "1150",
                                   "superseded_scope1_tco2e": "1100"}],
              "amendments %r" % a["amendments"])
        check([c["id"] for c in a["certificates"]] == [self.ids["cert_a"]] and
              a["certificates"][0]["status"] == "active" and
              a["certificates"][0]["certifier"] == "cn-verify",
              "certificates %r" % a["certificates"])
        check(rows[1]["certificates"][0]["status"] == "revoked", rows[1])
        check(rows[2]["duplicate_ids"] == [self.ids["c26"]], rows[2])
        check(rows[3]["coverage"] == "missing" and
              rows[3]["scope1_tco2e"] is None, rows[3])

        self.step("report to stdout; a quarter of 2026 has nothing yet")
        p = self.cdl.run("audit", "report", "--park", PARK, "--period",
                         "2026-Q1", "--format", "json", "-o", "-")
        q1 = json.loads(p.stdout)
        check(q1["park"]["missing"] == 4 and q1["park"]["coverage_pct"] == 0,
              "2026-Q1 %r" % q1["park"])

    @staticmethod
    def late_2026():
        """Enterprises late for 2026 when disclosing today: none before its
        deadline (2027-01-01 + 120 days), then the three that disclosed."""
        deadline = calendar.timegm((2027, 5, 1, 0, 0, 0))
        return 0 if time.time() <= deadline else 3

    def report_late(self):
        self.step("report for 2025: disclosed after 2026-05-01 (2025 ends + "
                  "120 days), so late; --deadline-days 1000 puts it on time")
        p = self.cdl.run("audit", "report", "--park", PARK, "--period",
                         "2025", "--format", "json", "-o", "-")
        report = json.loads(p.stdout)
        deadline_ms = calendar.timegm((2026, 5, 1, 0, 0, 0)) * 1000
        check(report["park"]["late"] == 3 and
              report["park"]["deadline_days"] == 120, "park %r" % report["park"])
        by_id = {"ent-a": "a25", "ent-b": "b25", "ent-d": "d25"}
        for row in report["rows"]:
            if row["enterprise"] not in by_id:
                check(not row["late"] and row["coverage"] == "missing", row)
                continue
            late = row["late_disclosures"]
            check(row["late"] and len(late) == 1, "row %r" % row)
            check(late[0]["period"] == "2025" and
                  late[0]["record_id"] == self.ids[by_id[row["enterprise"]]] and
                  late[0]["deadline"] == "2026-05-01T00:00:00.000Z",
                  "late %r" % late)
            committed = time.strptime(late[0]["committed"][:19],
                                      "%Y-%m-%dT%H:%M:%S")
            committed_ms = (calendar.timegm(committed) * 1000 +
                            int(late[0]["committed"][20:23]))
            day = 86400000
            check(late[0]["days_late"] ==
                  (committed_ms - deadline_ms + day - 1) // day,
                  "days late %r" % late)
        p = self.cdl.run("audit", "report", "--park", PARK, "--period", "2025",
                         "--deadline-days", "1000", "--format", "csv",
                         "-o", "-")
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        check([r["late"] for r in rows] == ["no"] * 4 + ["0"],
              "late column %r" % [r["late"] for r in rows])
        self.cdl.run("audit", "report", "--park", PARK, "--period", "2025",
                     "--deadline-days", "-1", "-o", "-", expect=2)

    def report_errors(self):
        self.step("report errors: bad period, unknown park, not a park")
        p = self.cdl.run("audit", "report", "--park", PARK, "--period",
                         "2026-Q5", "-o", self.path("x.csv"), expect=2)
        check("--period" in p.stderr, p.stderr)
        p = self.cdl.run("audit", "report", "--park", "no-such-park",
                         "--period", "2026", "-o", self.path("x.csv"),
                         expect=1)
        check("not registered" in p.stderr, p.stderr)
        p = self.cdl.run("audit", "report", "--park", "ent-a", "--period",
                         "2026", "-o", self.path("x.csv"), expect=1)
        check("not a park" in p.stderr, p.stderr)
        self.cdl.run("audit", "report", "--park", PARK, "--period", "2026",
                     "--format", "xml", "-o", self.path("x.csv"), expect=2)
        check(not os.path.exists(self.path("x.csv")), "no file on errors")

    def anomalies(self):
        self.step("audit anomalies: the 40 % jump and the duplicate")
        p = self.cdl.run("audit", "anomalies", "--park", PARK)
        jump = ("[1] anomaly (minor): scope 1 of ent-b rose by 40.00 % from "
                "2025 to 2026 (500 -> 700 tCO2e), more than the 20 % "
                "threshold")
        check(jump in p.stdout, "jump finding: %s" % p.stdout)
        check("subject  %s (disclosure by ent-b for 2026, scope 1 700"
              % self.ids["b26"] in p.stdout and
              "related  %s (disclosure by ent-b for 2025, scope 1 500"
              % self.ids["b25"] in p.stdout, p.stdout)
        check("[2] duplicate-disclosure (major): ent-c has 2 current "
              "disclosures for 2026" in p.stdout, p.stdout)
        check("2 finding(s)" in p.stdout and "[3]" not in p.stdout, p.stdout)

        r = self.cdl.json("audit", "anomalies", "--park", PARK)
        kinds = [(f["kind"], f["subject"], f["related"]) for f in r["findings"]]
        check(kinds == [("anomaly", self.ids["b26"], [self.ids["b25"]]),
                        ("duplicate-disclosure", self.ids["c26bis"],
                         [self.ids["c26"]])], "findings %r" % kinds)

        self.step("a 50 % threshold leaves the duplicate only")
        r = self.cdl.json("audit", "anomalies", "--park", PARK,
                          "--threshold-pct", "50")
        check([f["kind"] for f in r["findings"]] == ["duplicate-disclosure"],
              "findings %r" % r)
        p = self.cdl.run("audit", "anomalies", "--park", PARK,
                         *self.signer("reg-cn"), expect=2)
        check("--submit" in p.stderr, p.stderr)
        p = self.cdl.run("audit", "anomalies", "--park", PARK, "--submit",
                         expect=2)
        check("--as" in p.stderr, p.stderr)

    def submit_findings(self):
        self.step("anomalies --submit: ACCEPTED AuditFinding receipts")
        r = self.cdl.json("audit", "anomalies", "--park", PARK, "--submit",
                          *self.signer("reg-cn"))
        findings = r["findings"]
        check(len(findings) == 2, "findings %r" % findings)
        for f in findings:
            self.accepted(f["receipt"], "finding " + f["kind"])
            check(f["receipt"]["author"] == "reg-cn", f)
        jump_id = findings[0]["receipt"]["record_id"]
        g = self.cdl.json("get", jump_id)
        body = g["body"]["audit_finding"]
        check(g["type"] == "audit_finding" and
              body["kind"] == "FINDING_ANOMALY" and
              body["subject"] == self.ids["b26"] and
              body["related"] == [self.ids["b25"]] and
              body["severity"] == "minor" and
              "rose by 40.00 %" in body["description"], "stored %r" % g)
        dup = self.cdl.json("get", findings[1]["receipt"]["record_id"])
        check(dup["body"]["audit_finding"]["kind"] ==
              "FINDING_DUPLICATE_DISCLOSURE", "stored %r" % dup)

        self.step("a second --submit finds them recorded and submits nothing")
        p = self.cdl.run("audit", "anomalies", "--park", PARK, "--submit",
                         *self.signer("reg-cn"))
        check(p.stdout.count("already recorded as ") == 2 and
              "ACCEPTED" not in p.stdout, p.stdout)
        check("already recorded as " + jump_id in p.stdout, p.stdout)

    def verify_log(self):
        genesis = os.path.join(self.net, "genesis.json")
        a, b = self.path("a.json"), self.path("b.json")
        size_a = self.ids["a.json"]["ledger_size"]
        size_b = self.ids["b.json"]["ledger_size"]
        check(size_b > size_a, "B (%d) must be larger than A (%d)"
              % (size_b, size_a))

        self.step("verify-log A -> B with the proof from the node: VALID")
        p = self.cdl.run("audit", "verify-log", "--from", a, "--to", b,
                         "--genesis", genesis)
        check(p.stdout.startswith("VALID: the ledger at height %d (size %d"
                                  % (self.ids["b.json"]["height"], size_b)),
              p.stdout)
        v = self.cdl.json("audit", "verify-log", "--from", a, "--to", b,
                          "--genesis", genesis)
        check(v["valid"] and v["from"]["ledger_size"] == size_a and
              v["to"]["ledger_size"] == size_b and
              v["proof_source"] == "node", "json %r" % v)

        self.step("consistency-proof file; verify-log offline: VALID")
        proof = self.path("consistency.json")
        c = self.cdl.json("audit", "consistency-proof", "--from-size",
                          str(size_a), "--to-size", str(size_b), "-o", proof)
        check(c["old_size"] == size_a and c["new_size"] == size_b and
              c["hashes"] > 0, "proof %r" % c)
        elsewhere = tempfile.mkdtemp(prefix="offline_", dir=self.work)
        for name in (a, b, proof, genesis):
            shutil.copy(name, elsewhere)
        off = lambda n: os.path.join(elsewhere, os.path.basename(n))
        p = self.cdl.run("audit", "verify-log", "--from", off(a), "--to",
                         off(b), "--genesis", off(genesis), "--proof",
                         off(proof), node=False)
        check(p.stdout.startswith("VALID") and "from the file" in p.stdout,
              p.stdout)

        self.step("swapped checkpoints: INVALID")
        p = self.cdl.run("audit", "verify-log", "--from", b, "--to", a,
                         "--genesis", genesis, expect=1)
        check(p.stdout.startswith("INVALID") and
              "--from must be the older one" in p.stdout, p.stdout)
        check("does not prove that the ledger only grew" in p.stderr, p.stderr)

        self.step("a tampered checkpoint: INVALID")
        with open(b) as f:
            doc = json.load(f)
        header = bytearray(base64.b64decode(doc["header"]))
        header[-5] ^= 0x01  # inside the roots at the end of the header
        doc["header"] = base64.b64encode(bytes(header)).decode()
        tampered = self.path("b-tampered.json")
        with open(tampered, "w") as f:
            json.dump(doc, f)
        p = self.cdl.run("audit", "verify-log", "--from", a, "--to", tampered,
                         "--genesis", genesis, "--proof", proof, expect=1,
                         node=False)
        check(p.stdout.startswith("INVALID: --to %s: checkpoint: " % tampered),
              p.stdout)

        self.step("a tampered proof: INVALID")
        with open(proof) as f:
            doc = json.load(f)
        first = bytearray(base64.b64decode(doc["proof"]["hashes"][0]))
        first[0] ^= 0x80
        doc["proof"]["hashes"][0] = base64.b64encode(bytes(first)).decode()
        bad_proof = self.path("consistency-tampered.json")
        with open(bad_proof, "w") as f:
            json.dump(doc, f)
        p = self.cdl.run("audit", "verify-log", "--from", a, "--to", b,
                         "--genesis", genesis, "--proof", bad_proof,
                         expect=1, node=False)
        check(p.stdout.startswith("INVALID: consistency: "), p.stdout)

        self.step("a proof between other sizes, and bad sizes: refused")
        other = self.path("other.json")
        self.cdl.run("audit", "consistency-proof", "--from-size", "1",
                     "--to-size", str(size_b), "-o", other)
        p = self.cdl.run("audit", "verify-log", "--from", a, "--to", b,
                         "--genesis", genesis, "--proof", other, expect=1,
                         node=False)
        check("the consistency proof is from ledger size 1" in p.stdout,
              p.stdout)
        self.cdl.run("audit", "consistency-proof", "--from-size", "5",
                     "--to-size", "2", "-o", other, expect=2)


def main():
    return run_main(Test, __doc__.splitlines()[0], ())


if __name__ == "__main__":
    sys.exit(main())
