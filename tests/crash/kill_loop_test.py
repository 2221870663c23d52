#!/usr/bin/env python3
"""Crash consistency: kill -9 a node in the middle of writes, many times.

One real `cdl-node --dev` (RocksDB on disk, fsync on) takes disclosures from
WRITERS parks at once, each through the real `cdl` CLI waiting for its
receipt. At a random moment the node is killed with SIGKILL, restarted on the
same data, and after every restart the test checks that:
  - the node opens its database and serves again (within READY_TIMEOUT_S),
  - every record whose submit returned ACCEPTED before any kill is still on
    the ledger as ACCEPTED (one `cdl query --all` against the set),
  - height and ledger size never went backwards,
  - a record can be submitted and accepted again (writers continue with the
    sequence the node reports).
Prints the number of kills and of records checked.

Usage: kill_loop_test.py --node PATH/cdl-node --cdl PATH/cdl [--kills 50] [--keep]
Standard library only.
"""

import argparse
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

READY_TIMEOUT_S = 60
WRITERS = 6


class Failure(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Harness:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="cdl_kill_loop_")
        self.data = os.path.join(self.work, "node")
        self.address = "127.0.0.1:%d" % free_port()
        self.log = os.path.join(self.work, "node.log")
        self.proc = None
        self.lock = threading.Lock()
        self.accepted = set()   # record ids whose submit printed ACCEPTED
        self.stop_writers = threading.Event()
        self.period_no = {}     # writer -> next period index

    def cdl(self, *args, timeout=60):
        env = dict(os.environ, CDL_NODE=self.address)
        return subprocess.run([self.args.cdl] + list(args), capture_output=True, text=True, env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.args.node, "--dev", "--data-dir", self.data, "--listen",
                                          self.address, "--log-level", "warn"],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=die_with_parent)
        deadline = time.time() + READY_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure("node exited with %d on start:\n%s" % (self.proc.returncode, self.tail()))
            p = self.cdl("status", "--json", timeout=10)
            if p.returncode == 0:
                return json.loads(p.stdout)
            time.sleep(0.1)
        raise Failure("node not ready within %ds:\n%s" % (READY_TIMEOUT_S, self.tail()))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def tail(self, n=20):
        with open(self.log, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def setup_writers(self):
        founder = os.path.join(self.data, "founder.key")
        for w in range(WRITERS):
            key = os.path.join(self.work, "park%d.key" % w)
            self.cdl("keygen", "-o", key)
            p = self.cdl("member", "register", "--as", "dev-regulator", "--key", founder, "--id", "park-%d" % w,
                         "--role", "park", "--jurisdiction", "CN", "--member-key", key + ".pub", "--json")
            if p.returncode != 0:
                raise Failure("registering park-%d: %s" % (w, p.stderr))
            self.accepted.add(json.loads(p.stdout)["record_id"])
            self.period_no[w] = 0

    def writer(self, w):
        key = os.path.join(self.work, "park%d.key" % w)
        doc = os.path.join(self.work, "disclosure%d.json" % w)
        while not self.stop_writers.is_set():
            i = self.period_no[w]
            with open(doc, "w") as f:
                json.dump({"period": "%d-%02d" % (2000 + i // 12, i % 12 + 1), "scope1_tco2e": "%d.5" % (w * 1000 + i),
                           "scope2_location_tco2e": "3", "energy_mwh": "10",
                           "methodology": "ISO 14064-1:2018"}, f)
            p = self.cdl("disclose", "--as", "park-%d" % w, "--key", key, "--file", doc, "--json", timeout=60)
            if p.returncode == 0:
                receipt = json.loads(p.stdout)
                if receipt.get("status") == "ACCEPTED":
                    with self.lock:
                        self.accepted.add(receipt["record_id"])
                self.period_no[w] = i + 1
            elif p.returncode == 1:
                self.period_no[w] = i + 1  # rejected (e.g. duplicate period after a lost reply): move on
            else:
                time.sleep(0.05)  # node down: retry the same period

    def ledger_ids(self):
        p = self.cdl("query", "--all", "--json", timeout=120)
        if p.returncode != 0:
            raise Failure("query --all failed: %s" % p.stderr)
        out = json.loads(p.stdout)
        records = out["records"] if isinstance(out, dict) else out
        return {r["record_id"] for r in records}

    def run(self):
        status = self.start()
        self.setup_writers()
        threads = [threading.Thread(target=self.writer, args=(w,), daemon=True) for w in range(WRITERS)]
        for t in threads:
            t.start()
        rng = random.Random(20261127)
        last_height, last_size = status["height"], status["ledger_size"]
        checked = 0
        for kill in range(1, self.args.kills + 1):
            time.sleep(rng.uniform(0.2, 1.2))
            with self.lock:
                before = set(self.accepted)
            self.kill()
            status = self.start()
            if status["height"] < last_height or status["ledger_size"] < last_size:
                raise Failure("kill %d: height/ledger size went back from %d/%d to %d/%d" % (
                    kill, last_height, last_size, status["height"], status["ledger_size"]))
            on_ledger = self.ledger_ids()
            missing = before - on_ledger
            if missing:
                raise Failure("kill %d: %d ACCEPTED records lost, e.g. %s" % (kill, len(missing), sorted(missing)[:3]))
            checked += len(before)
            last_height, last_size = status["height"], status["ledger_size"]
            print("kill %2d: restarted at height %d, ledger size %d; all %d accepted records present" % (
                kill, status["height"], status["ledger_size"], len(before)), flush=True)
        # The node still takes writes after the last restart.
        time.sleep(1.0)
        self.stop_writers.set()
        for t in threads:
            t.join(timeout=90)
        final = self.ledger_ids()
        missing = self.accepted - final
        if missing:
            raise Failure("after the loop: %d ACCEPTED records missing" % len(missing))
        if len(self.accepted) < self.args.kills:
            raise Failure("only %d records were accepted over %d kills: the writes did not make progress" % (
                len(self.accepted), self.args.kills))
        print("kill loop passed: %d kills, %d accepted records, %d record checks after restarts" % (
            self.args.kills, len(self.accepted), checked + len(self.accepted)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", required=True)
    parser.add_argument("--cdl", required=True)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    h = Harness(args)
    ok = False
    try:
        h.run()
        ok = True
    except Failure as e:
        print("FAILED: %s" % e)
        print("--- node log tail:\n" + h.tail(30))
    finally:
        h.stop_writers.set()
        if h.proc and h.proc.poll() is None:
            h.proc.kill()
        if ok and not args.keep:
            shutil.rmtree(h.work, ignore_errors=True)
        else:
            print("work folder kept: %s" % h.work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
