#!/usr/bin/env python3
"""Cluster fault test: 4 real cdl-node processes on loopback (mutual TLS),
driven by the real `cdl` CLI while validators are killed, restarted, paused
and resumed, cut off by a proxy between the validators (blackhole, then heal),
run in a Byzantine test mode (equivocating proposals, double votes, bad
signatures, far-future rounds; the others must record Evidence of it), and wiped (restarted with an empty data dir,
caught up by block sync). Every validator dials its peers through the proxy
(tests/cluster/peer_proxy.py). After each fault every record whose submit
returned ACCEPTED must be on every node, and all nodes must report the same
height, ledger_size and ledger_root.

Then the certification story runs with each record submitted to a different
node (certifier registration, accreditation, footprint, certificate, a
co-signed CN-EU recognition agreement); a green passport is exported from one
node and, with the cluster stopped, verifies VALID against the genesis file
alone (and INVALID for a jurisdiction without an agreement).

Usage: cluster_fault_test.py --build BUILD_DIR --repo REPO_DIR
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_proxy import PeerProxy  # noqa: E402


def free_base_port(repo):
    # The port layout belongs to local-cluster.sh; cluster-ports.py knows it.
    r = subprocess.run([sys.executable, os.path.join(repo, "deploy", "cluster-ports.py"), "free"],
                       capture_output=True, text=True, check=True)
    return int(r.stdout.strip())


class Cluster:
    def __init__(self, repo, build, workdir):
        self.script = os.path.join(repo, "deploy", "local-cluster.sh")
        self.cdl = os.path.join(build, "cli", "cdl")
        self.dir = os.path.join(workdir, "cluster")
        self.env = dict(os.environ)
        self.env["CDL_BUILD_DIR"] = build
        base = free_base_port(repo)
        self.env["CDL_CLUSTER_PORT"] = str(base)
        self.env["CDL_NODE_FLAGS"] = "--base-timeout-ms 500"
        # local-cluster.sh: validator k (node k+1) serves peers on base + 100 + k.
        self.proxy = PeerProxy({n: base + 100 + n - 1 for n in range(1, 5)})
        for n in range(1, 5):
            self.env["CDL_NODE%d_FLAGS" % n] = self.proxy.flags_for(n)
        self.env["PATH"] = os.path.join(build, "node") + ":" + os.path.join(build, "cli") + ":" + self.env["PATH"]
        self.nodes = []

    def ctl(self, *args, check=True, extra_flags=None):
        env = dict(self.env)
        if extra_flags:
            n = int(args[1])
            env["CDL_NODE%d_FLAGS" % n] = env["CDL_NODE%d_FLAGS" % n] + " " + extra_flags
        r = subprocess.run(["bash", self.script, *args, "--dir", self.dir], env=env,
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("local-cluster %s failed: %s %s" % (args, r.stdout, r.stderr))
        return r

    def start(self):
        self.ctl("start")
        with open(os.path.join(self.dir, "nodes.txt")) as f:
            self.nodes = [l.strip() for l in f if l.strip()]

    def cdl_json(self, node, *args, timeout=60):
        r = subprocess.run([self.cdl, "--node", node, "--json", *args], capture_output=True, text=True,
                           timeout=timeout)
        return r.returncode, (json.loads(r.stdout) if r.stdout.strip().startswith(("{", "[")) else None), r.stderr

    def status(self, i):
        rc, out, _ = self.cdl_json(self.nodes[i], "status", timeout=10)
        return out if rc == 0 else None

    def pid(self, n):
        with open(os.path.join(self.dir, "node%d.pid" % n)) as f:
            return int(f.read().strip())


def certify_and_export(c, work, park_key, failures):
    """The certification story over the cluster, one node per record; returns
    the passport path exported from node 3."""
    def must(rc, out, err, what):
        if rc != 0 or (isinstance(out, dict) and out.get("status") not in (None, "ACCEPTED")):
            raise RuntimeError("%s failed (exit %d): %s %s" % (what, rc, out, err.strip()))
        return out

    repo_testdata = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "testdata")
    key = lambda name: os.path.join(c.dir, name + ".key")  # founders' keys
    for member in ("cert-x", "exporter-x"):
        subprocess.run([c.cdl, "keygen", "-o", os.path.join(work, member + ".key")], check=True,
                       capture_output=True)
    must(*c.cdl_json(c.nodes[0], "member", "register", "--as", "reg-cn", "--key", key("reg-cn"),
                     "--id", "cert-x", "--role", "certifier", "--jurisdiction", "CN",
                     "--name", "Cert X", "--member-key", os.path.join(work, "cert-x.key.pub")),
         "register certifier on node 1")
    must(*c.cdl_json(c.nodes[1], "member", "register", "--as", "park-x", "--key", park_key,
                     "--id", "exporter-x", "--role", "enterprise", "--jurisdiction", "CN", "--park", "park-x",
                     "--member-key", os.path.join(work, "exporter-x.key.pub")),
         "register exporter on node 2")
    must(*c.cdl_json(c.nodes[1], "accredit", "--as", "acc-cn", "--key", key("acc-cn"), "--certifier", "cert-x",
                     "--standard", "ISO 14067", "--jurisdiction", "CN", "--valid-until", "2099-01-01"),
         "accredit on node 2")
    out = must(*c.cdl_json(c.nodes[2], "footprint", "import", "--as", "exporter-x", "--key",
                           os.path.join(work, "exporter-x.key"), "--file",
                           os.path.join(repo_testdata, "footprint.json")), "footprint import on node 3")
    footprint = out[0]["record_id"]
    must(*c.cdl_json(c.nodes[3], "certify", "--as", "cert-x", "--key", os.path.join(work, "cert-x.key"),
                     "--subject", footprint, "--standard", "ISO 14067", "--assurance", "limited",
                     "--statement-hash", "ab" * 32, "--jurisdiction", "CN", "--valid-until", "2099-01-01"),
         "certify on node 4")
    agreement = os.path.join(work, "agreement.json")
    must(*c.cdl_json(c.nodes[0], "recognise", "create", "--as", "acc-cn", "--key", key("acc-cn"),
                     "--party-b", "acc-eu", "--jurisdiction-a", "CN", "--jurisdiction-b", "EU",
                     "--standard", "ISO 14067", "--direction", "mutual", "--valid-until", "2099-01-01",
                     "-o", agreement), "recognise create")
    must(*c.cdl_json(c.nodes[0], "recognise", "cosign", agreement, "--as", "acc-eu", "--key", key("acc-eu")),
         "recognise cosign")
    out = must(*c.cdl_json(c.nodes[1], "recognise", "submit", agreement), "recognise submit on node 2")
    # Node 3 may still be a block behind node 2: export once it has the agreement.
    deadline = time.time() + 30
    while True:
        rc, got, _ = c.cdl_json(c.nodes[2], "get", out["record_id"], timeout=10)
        if rc == 0 and got and got.get("receipt", {}).get("status") == "ACCEPTED":
            break
        if time.time() > deadline:
            raise RuntimeError("node 3 did not apply the agreement within 30 s")
        time.sleep(0.2)
    passport = os.path.join(work, "passport.cdlp")
    out = must(*c.cdl_json(c.nodes[2], "passport", "export", "--footprint", footprint,
                           "--for-jurisdiction", "EU", "-o", passport), "passport export from node 3")
    print("passport exported from node 3: %d bytes, %d records, checkpoint %s" %
          (out["bytes"], out["records"], out["checkpoint"]["height"]), flush=True)
    return passport


def verify_offline(c, work, passport, failures):
    """With the cluster stopped: the passport against the genesis alone."""
    genesis = os.path.join(c.dir, "genesis.json")
    r = subprocess.run([c.cdl, "passport", "verify", passport, "--trust", genesis, "--json"],
                       capture_output=True, text=True, cwd=work, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    v = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    if r.returncode != 0 or v.get("verdict") != "VALID":
        failures.append("passport did not verify offline: %s %s" % (r.stdout, r.stderr))
        return
    print("passport VALID offline for %s at checkpoint %s" % (v["jurisdiction"], v["checkpoint"]["height"]),
          flush=True)
    r = subprocess.run([c.cdl, "passport", "verify", passport, "--trust", genesis, "--jurisdiction", "US"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 1 or not r.stdout.startswith("INVALID"):
        failures.append("passport for US should be INVALID: %s %s" % (r.stdout, r.stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--deadline-seconds", type=float, default=1400,
                    help="give up, stop the cluster and fail after this long (below CTest's TIMEOUT, which would "
                         "kill this script and leave the nodes running)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cdl-cluster-test-")
    c = Cluster(os.path.abspath(args.repo), os.path.abspath(args.build), work)

    def give_up():
        print("FAILED: the test ran past its %.0f s deadline; stopping the cluster (kept in %s)" %
              (args.deadline_seconds, work), flush=True)
        c.ctl("stop", check=False)
        c.proxy.stop()
        os._exit(1)

    watchdog = threading.Timer(args.deadline_seconds, give_up)
    watchdog.daemon = True
    watchdog.start()
    failures = []
    try:
        c.start()
        print("cluster up:", c.nodes, flush=True)
        founder_key = os.path.join(c.dir, "reg-cn.key")
        keyfile = os.path.join(work, "park.key")
        subprocess.run([c.cdl, "keygen", "-o", keyfile], check=True, capture_output=True)
        rc, out, err = c.cdl_json(c.nodes[0], "member", "register", "--as", "reg-cn", "--key", founder_key,
                                  "--id", "park-x", "--role", "park", "--jurisdiction", "CN",
                                  "--member-key", keyfile + ".pub")
        assert rc == 0, "registering the park failed: %s" % err

        accepted = []
        lock = threading.Lock()
        stop = threading.Event()
        # The checks after each phase hold the submitter: with submissions
        # landing every few hundred ms, four sequential `cdl status` calls on a
        # loaded machine rarely saw one height (the faults happen under load).
        hold = threading.Event()
        idle = threading.Event()
        errors = []

        def submitter():
            # Registers enterprises continuously, round robin over the nodes,
            # retrying on another node when one is down.
            i = 0
            while not stop.is_set():
                if hold.is_set():
                    idle.set()
                    time.sleep(0.1)
                    continue
                idle.clear()
                i += 1
                member_key = os.path.join(work, "e%d.key" % i)
                subprocess.run([c.cdl, "keygen", "-o", member_key], capture_output=True)
                for attempt in range(8):
                    node = c.nodes[(i + attempt) % 4]
                    rc, out, err = c.cdl_json(node, "member", "register", "--as", "park-x", "--key", keyfile,
                                              "--id", "ent-%d" % i, "--role", "enterprise", "--jurisdiction",
                                              "CN", "--park", "park-x", "--member-key", member_key + ".pub",
                                              "--wait-seconds", "15", timeout=40)
                    if rc == 0 and out and out.get("status") == "ACCEPTED":
                        with lock:
                            accepted.append(out["record_id"])
                        break
                    if "already" in (err or "") or "ALREADY" in (err or ""):
                        break
                    time.sleep(0.5)
                time.sleep(0.05)

        t = threading.Thread(target=submitter, daemon=True)
        t.start()

        def converge(which, what, timeout=90):
            deadline = time.time() + timeout
            last = None
            while time.time() < deadline:
                st = [c.status(i) for i in which]
                if all(st):
                    key = {(s["height"], s["ledger_size"], s["ledger_root"]) for s in st}
                    last = st
                    if len(key) == 1:
                        return st[0]
                time.sleep(0.5)
            failures.append("%s: nodes did not converge: %s" % (what, last))
            print("FAILED: " + failures[-1], flush=True)
            return None

        # After every phase, every accepted record must be listed on every
        # node: one paged `cdl query` per node covers all of them (the listing
        # holds accepted records only), and identical ledger roots (converge)
        # cover their order. A random sample of the records accepted since the
        # previous phase, and at the end of older ones too (the wiped node
        # re-synced them all), is also read one by one with `cdl get` (body and
        # ACCEPTED receipt) on every node. Reading every record that way (one
        # CLI process per record and node, ~12,000 in all) took over 12 minutes
        # with make test's other tests running in parallel and hit the deadline.
        checked = set()
        sampler = random.Random(20261129)

        def listed_on(node):
            rc, out, err = c.cdl_json(node, "query", "--type", "member_registration", "--limit", "1000", "--all",
                                      timeout=120)
            if rc != 0 or not out:
                return None, err.strip()
            return {r["record_id"] for r in out.get("records", [])}, ""

        def check_all_have(what, everything=False):
            with lock:
                ids = list(accepted)
            for i, node in enumerate(c.nodes):
                listed, err = listed_on(node)
                if listed is None:
                    failures.append("%s: listing the records of node %d failed: %s" % (what, i + 1, err))
                    return
                missing = [rid for rid in ids if rid not in listed]
                if missing:
                    failures.append("%s: %d of %d accepted records are not listed on node %d, e.g. %s" %
                                    (what, len(missing), len(ids), i + 1, missing[:3]))
                    return
            fresh = [rid for rid in ids if rid not in checked]
            todo = sampler.sample(fresh, min(len(fresh), 150))
            if everything:
                older = [rid for rid in ids if rid in checked]
                todo += sampler.sample(older, min(len(older), 150))
            for n, rid in enumerate(todo):
                if n and n % 100 == 0:
                    print("%s: read %d of %d records back on all 4 nodes" % (what, n, len(todo)), flush=True)
                for i, node in enumerate(c.nodes):
                    rc, out, err = c.cdl_json(node, "get", rid, timeout=10)
                    if rc != 0 or not out or out.get("receipt", {}).get("status") != "ACCEPTED":
                        failures.append("%s: record %s missing or not ACCEPTED on node %d: %s" %
                                        (what, rid, i + 1, err.strip()))
                        return
            checked.update(fresh)
            print("%s: all %d accepted records listed on all 4 nodes; a sample of %d read back with cdl get on each" %
                  (what, len(ids), len(todo)), flush=True)

        def phase(name, action):
            time.sleep(3)
            before = len(accepted)
            action()
            time.sleep(4)
            idle.clear()
            hold.set()
            if not idle.wait(120):
                failures.append("%s: the submitter did not pause within 120 s" % name)
            st = converge(range(4), name)
            check_all_have(name)
            hold.clear()
            print("%s: converged at %s, %d records accepted during the phase" %
                  (name, st and (st["height"], st["ledger_size"]), len(accepted) - before), flush=True)

        def kill_restart(n):
            def act():
                c.ctl("kill", str(n))
                time.sleep(4)
                c.ctl("restart", str(n))
            return act

        def pause(n):
            def act():
                os.kill(c.pid(n), signal.SIGSTOP)
                time.sleep(5)
                os.kill(c.pid(n), signal.SIGCONT)
            return act

        phase("kill -9 node 4 and restart", kill_restart(4))
        phase("kill -9 node 1 and restart", kill_restart(1))
        phase("kill -9 node 2 and restart", kill_restart(2))
        phase("SIGSTOP/SIGCONT node 3", pause(3))

        def heights(which):
            return [(c.status(i) or {}).get("height", -1) for i in which]

        def progresses_without(n, what, seconds):
            # The other three (a quorum) keep committing while node n misbehaves.
            # A record submitted to one of them meanwhile is committed.
            others = [i for i in range(4) if i != n - 1]
            before = heights(others)
            time.sleep(seconds / 2)
            probe = "probe-%d-%d" % (n, int(time.time() * 1000))
            probe_key = os.path.join(work, probe + ".key")
            subprocess.run([c.cdl, "keygen", "-o", probe_key], check=True, capture_output=True)
            rc, out, err = c.cdl_json(c.nodes[others[0]], "member", "register", "--as", "park-x", "--key",
                                      keyfile, "--id", probe, "--role", "enterprise", "--jurisdiction", "CN",
                                      "--park", "park-x", "--member-key", probe_key + ".pub",
                                      "--wait-seconds", "20", timeout=40)
            if rc == 0 and out and out.get("status") == "ACCEPTED":
                with lock:
                    accepted.append(out["record_id"])
            else:
                failures.append("%s: a record submitted to node %d was not committed: %s" %
                                (what, others[0] + 1, (err or "").strip() or out))
            time.sleep(seconds / 2)
            after = heights(others)
            if not all(a > b >= 0 for a, b in zip(after, before)):
                failures.append("%s: the other validators stopped committing: heights %s -> %s" %
                                (what, before, after))
            else:
                print("%s: the other validators went from heights %s to %s" % (what, before, after), flush=True)

        def blackhole(n):
            def act():
                c.proxy.cut(n)
                progresses_without(n, "node %d cut off" % n, 10)
                c.proxy.heal(n)
            return act

        def byzantine(n):
            def act():
                c.ctl("kill", str(n))
                c.ctl("restart", str(n), extra_flags="--test-byzantine")
                progresses_without(n, "node %d Byzantine" % n, 12)
                c.ctl("kill", str(n))
                c.ctl("restart", str(n))
            return act

        def wipe(n):
            def act():
                c.ctl("kill", str(n))
                subprocess.run(["rm", "-rf", os.path.join(c.dir, "node%d" % n)], check=True)
                c.ctl("restart", str(n))
            return act

        phase("blackhole node 3 at the peer proxy, then heal", blackhole(3))
        phase("node 4 in Byzantine test mode, then honest again", byzantine(4))
        # The honest validators caught it equivocating: the same Evidence
        # records (one per offence) are on every ledger.
        evidence = []
        for i, node in enumerate(c.nodes):
            rc, out, err = c.cdl_json(node, "query", "--type", "evidence", "--all", timeout=30)
            evidence.append(sorted(r["record_id"] for r in (out or {}).get("records", [])) if rc == 0 else None)
        if not evidence[0] or any(e != evidence[0] for e in evidence):
            failures.append("Byzantine node 4: expected the same equivocation evidence on every node, got %s" %
                            [None if e is None else len(e) for e in evidence])
        else:
            print("Byzantine node 4: %d evidence records, the same on all 4 nodes" % len(evidence[0]), flush=True)
        phase("wipe node 2's data dir and restart (block sync from genesis)", wipe(2))
        stop.set()
        t.join(timeout=60)
        converge(range(4), "final")
        check_all_have("final", everything=True)
        if len(accepted) < 10:
            failures.append("only %d records were accepted during the run" % len(accepted))
        passport = certify_and_export(c, work, keyfile, failures)
    except Exception as e:  # noqa: BLE001
        failures.append("error: %r" % e)
        passport = None
    finally:
        watchdog.cancel()
        c.ctl("stop", check=False)
        c.proxy.stop()
    try:
        if passport and not failures:
            verify_offline(c, work, passport, failures)
    finally:
        if failures:
            for n in range(1, 5):
                log = os.path.join(c.dir, "node%d.log" % n)
                if os.path.exists(log):
                    print("--- tail of node%d.log" % n)
                    with open(log) as f:
                        print("".join(f.readlines()[-15:]))
        if not args.keep and not failures:
            subprocess.run(["rm", "-rf", work])
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("cluster fault test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
