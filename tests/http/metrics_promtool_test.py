#!/usr/bin/env python3
"""cdl-node's /metrics passes `promtool check metrics`, idle and busy.

Starts a real `cdl-node --dev` (free ports, temporary data dir) with its HTTP
gateway, checks /healthz and /readyz, fetches /metrics from the idle node and
runs `promtool check metrics` on it (at least 10 metric families required),
then registers a member and submits a rejected record through the real `cdl`
CLI and checks /metrics again (histograms and labelled families now carry
samples). A missing promtool FAILS the test: it comes from Debian's
`prometheus` package (deploy/install-deps.sh installs it).

Usage: metrics_promtool_test.py --node PATH/cdl-node --cdl PATH/cdl [--promtool PATH]
Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cdltest import Failure, check, free_port, die_with_parent  # noqa: E402

MIN_FAMILIES = 10


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def promtool_check(promtool, text, what):
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "promtool check metrics (%s) exited %d:\n%s%s"
          % (what, p.returncode, p.stdout, p.stderr))
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    check(len(families) >= MIN_FAMILIES, "%s: %d metric families, expected at least %d"
          % (what, len(families), MIN_FAMILIES))
    print("promtool check metrics (%s): OK, %d families" % (what, len(families)))
    return families


def sample(text, prefix):
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--cdl", required=True)
    parser.add_argument("--promtool", default=shutil.which("promtool") or "/usr/bin/promtool")
    args = parser.parse_args()
    if not os.path.exists(args.promtool):
        print("FAILED: promtool not found (%s): install Debian's prometheus package "
              "(deploy/install-deps.sh does)" % args.promtool, file=sys.stderr)
        return 1

    work = tempfile.mkdtemp(prefix="cdl_promtool_")
    data = os.path.join(work, "dev")
    rpc = "127.0.0.1:%d" % free_port()
    http = "http://127.0.0.1:%d" % free_port()
    log_path = os.path.join(work, "node.log")
    log = open(log_path, "ab")
    node = subprocess.Popen([args.node, "--dev", "--data-dir", data, "--listen", rpc,
                             "--http", http[len("http://"):]],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)
    log.close()
    env = dict(os.environ, CDL_NODE=rpc)

    def cdl(*argv, expect=0):
        p = subprocess.run([args.cdl] + list(argv), capture_output=True, text=True, env=env,
                           timeout=60, stdin=subprocess.DEVNULL)
        check(p.returncode == expect, "`cdl %s` exited %d:\n%s%s"
              % (" ".join(argv), p.returncode, p.stdout, p.stderr))
        return p.stdout

    try:
        deadline = time.time() + 30
        while True:
            check(node.poll() is None, "cdl-node exited %s" % node.returncode)
            try:
                if fetch(http + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            check(time.time() < deadline, "/healthz did not answer within 30 s")
            time.sleep(0.1)
        status, _, body = fetch(http + "/readyz")
        check(status == 200 and json.loads(body)["ready"] is True, "readyz: %d %s" % (status, body))

        status, content_type, idle = fetch(http + "/metrics")
        check(status == 200, "/metrics answered %d" % status)
        check(content_type.startswith("text/plain; version=0.0.4"), "content type %r" % content_type)
        families = promtool_check(args.promtool, idle, "idle --dev node")
        for name in ("cdl_commit_height", "cdl_ledger_size", "cdl_certified_height",
                     "cdl_blocks_committed_total", "cdl_block_records", "cdl_records_total",
                     "cdl_rejected_records_total", "cdl_submit_to_commit_seconds",
                     "cdl_mempool_records", "cdl_consensus_round", "cdl_peer_connections",
                     "cdl_rocksdb_sst_files_bytes", "cdl_http_requests_total",
                     "process_start_time_seconds"):
            check(name in families, "family %s missing" % name)

        # Activity: one accepted registration, then the same member again (REJECTED).
        cdl("keygen", "-o", os.path.join(work, "park.key"))
        register = ["member", "register", "--as", "dev-regulator",
                    "--key", os.path.join(data, "founder.key"), "--id", "park-a", "--role", "park",
                    "--jurisdiction", "CN", "--member-key", os.path.join(work, "park.key.pub")]
        cdl(*register)
        cdl(*register, expect=1)
        status, _, busy = fetch(http + "/metrics")
        check(status == 200, "/metrics answered %d" % status)
        promtool_check(args.promtool, busy, "after an accepted and a rejected record")
        check(sample(busy, "cdl_ledger_size ") == 1, "ledger size 1")
        check(sample(busy, 'cdl_records_total{status="rejected"} ') == 1, "one rejected record")
        check(sample(busy, "cdl_submit_to_commit_seconds_count ") == 2, "two latencies observed")
        check(any(l.startswith("cdl_rejected_records_total{code=") for l in busy.splitlines()),
              "rejected records by code")

        node.send_signal(signal.SIGTERM)
        check(node.wait(timeout=30) == 0, "cdl-node exited %s on SIGTERM" % node.returncode)
        print("metrics promtool test passed")
        return 0
    except (Failure, subprocess.TimeoutExpired, OSError, ValueError) as e:
        print("FAILED: %s" % e, file=sys.stderr)
        with open(log_path, errors="replace") as f:
            print("node log:\n" + "".join(f.readlines()[-20:]), file=sys.stderr)
        return 1
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
