"""Shared helpers of the end-to-end tests that drive a real `cdl-node` with the
real `cdl` CLI (standard library only).

  Failure, check      a failed expectation and the assertion that raises it
  free_port, date_in  a free loopback port; a date N days from today (UTC)
  die_with_parent     preexec_fn: the child is SIGKILLed when the test dies
  GenesisNode         one validator started from a `cdl genesis init` folder
  Cdl                 runs `cdl`, checks exit codes and one-line errors
  GenesisTest         base of a scenario: work folder, node, keys, steps
  run_main            argument parsing, signals, PASS/FAIL, cleanup
"""

import argparse
import ctypes
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

RPC_TIMEOUT_S = 60
READY_TIMEOUT_S = 30


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """Runs in the node's child process: SIGKILL it if this script dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def date_in(days):
    """A date `days` from today (UTC), as `cdl` accepts it."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return (today + datetime.timedelta(days=days)).isoformat()


class GenesisNode:
    """Validator 0 of a genesis folder written by `cdl genesis init`."""

    def __init__(self, binary, net_dir, port, log_path):
        self.binary = binary
        self.net_dir = net_dir
        self.address = "127.0.0.1:%d" % port
        self.log_path = log_path
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--data-dir", os.path.join(self.net_dir, "node"),
                 "--listen", self.address,
                 "--genesis", os.path.join(self.net_dir, "genesis.json"),
                 "--key", os.path.join(self.net_dir, "validator-0.key")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

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
        """Runs `cdl ARGS`; node=False for offline commands (the node
        address then answers nobody, so nothing can be fetched)."""
        cmd = [self.binary] + list(args)
        env = dict(os.environ)
        env["CDL_NODE"] = self.node if node else "127.0.0.1:1"
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


class GenesisTest:
    """A scenario on one validator of its own genesis, in a work folder.
    Founders' keys live in the genesis folder, other members' in work."""

    def __init__(self, args, prefix):
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.net = os.path.join(self.work, "net")
        self.node = GenesisNode(args.node, self.net, free_port(),
                                os.path.join(self.work, "node.log"))
        self.cdl = Cdl(args.cdl, self.node.address)
        self.step_no = 0
        self.ids = {}

    def path(self, name):
        return os.path.join(self.work, name)

    def key(self, member):
        founder = os.path.join(self.net, member + ".key")
        return founder if os.path.exists(founder) else self.path(member + ".key")

    def signer(self, member):
        return ["--as", member, "--key", self.key(member)]

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

    def accepted(self, receipt, what):
        check(receipt.get("status") == "ACCEPTED" and
              receipt.get("code") == "NONE" and
              len(receipt.get("record_id", "")) == 64,
              "%s: expected ACCEPTED, got %r" % (what, receipt))
        return receipt["record_id"]


def run_main(make_test, description, extra_args=()):
    """Parses --node, --cdl, --keep (and `extra_args`: (flag, help) pairs),
    runs make_test(args).run() with the node killed on any exit, prints PASS
    or FAIL with the node's log, and returns the exit code."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--node", required=True, help="cdl-node binary")
    parser.add_argument("--cdl", required=True, help="cdl binary")
    for flag, text in extra_args:
        parser.add_argument(flag, help=text)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder")
    args = parser.parse_args()
    test = make_test(args)

    def on_signal(signum, frame):
        test.node.stop_hard()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ok = False
    try:
        test.run()
        ok = True
        print("PASS: %d steps" % test.step_no)
    except Failure as e:
        print("FAIL at step %d: %s" % (test.step_no, e), file=sys.stderr)
        print("node log (tail):\n%s" % test.node.log_tail(), file=sys.stderr)
    except subprocess.TimeoutExpired as e:
        print("FAIL at step %d: timed out: %s" % (test.step_no, e),
              file=sys.stderr)
    finally:
        test.node.stop_hard()
        if ok and not args.keep:
            shutil.rmtree(test.work, ignore_errors=True)
        else:
            print("work folder kept: %s" % test.work, file=sys.stderr)
    return 0 if ok else 1
