#!/usr/bin/env python3
"""End-to-end test of `cdl watch` against a real `cdl-node`.

Creates a one-validator chain with `cdl genesis init` (founders reg-cn, CN,
and reg-eu, EU), then, only through the command line:
  - runs `cdl watch --format json` as a subprocess from the next block and
    submits records with the CLI (a park, an enterprise, an EU certifier, a
    disclosure, a rejected registration): each appears once, in commit order,
    with height, index, type, record id, author and status matching the
    receipts the CLI printed;
  - replays history with `--from-height 1`, unfiltered and filtered by type,
    member and jurisdiction, and in text format;
  - kills the node under a running watch: the watch says on stderr that it
    lost the stream and resumes from the right height once the node is back,
    with nothing lost or repeated;
  - ends every watch with SIGINT (exit 0) and checks a bad flag (exit 2).

Usage: watch_cli_test.py --node PATH/cdl-node --cdl PATH/cdl [--keep]
Standard library only.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from cdltest import (Failure, GenesisTest, check, die_with_parent,  # noqa: E402
                     free_port, run_main)

CHAIN_ID = "watch-e2e"
LINE_TIMEOUT_S = 20


class Watch:
    """`cdl watch ARGS` running in the background; its stdout lines and
    stderr text are collected by threads."""

    def __init__(self, binary, node, *args):
        env = dict(os.environ)
        env["CDL_NODE"] = node
        self.cmd = [binary, "watch"] + list(args)
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, env=env,
            preexec_fn=die_with_parent)
        self.lines = queue.Queue()
        self.err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def take(self, n, timeout=LINE_TIMEOUT_S):
        """The next `n` lines; fails if they do not come in time."""
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            left = deadline - time.time()
            try:
                out.append(self.lines.get(timeout=max(left, 0.01)))
            except queue.Empty:
                raise Failure("`%s` printed %d of %d lines within %d s: %r; "
                               "stderr: %r" % (" ".join(self.cmd[1:]), len(out),
                                               n, timeout, out, self.err))
        return out

    def quiet(self, seconds):
        """Fails if a line comes within `seconds`."""
        try:
            line = self.lines.get(timeout=seconds)
        except queue.Empty:
            return
        raise Failure("`%s` printed an unexpected line: %r"
                       % (" ".join(self.cmd[1:]), line))

    def interrupt(self):
        """SIGINT; returns the exit code."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("`%s` did not end within 10 s of SIGINT"
                           % " ".join(self.cmd[1:]))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Test(GenesisTest):
    def __init__(self, args):
        super().__init__(args, "cdl_watch_e2e_")
        self.watches = []
        self.receipts = []  # (receipt, type) of every record submitted, in order

    def watch(self, *args):
        w = Watch(self.cdl.binary, self.node.address, *args)
        self.watches.append(w)
        return w

    def run(self):
        try:
            self.genesis()
            self.live()
            self.replay()
            self.resume_after_node_restart()
            self.bad_flags()
        finally:
            for w in self.watches:
                w.kill()

    def genesis(self):
        self.step("genesis with founders reg-cn (CN) and reg-eu (EU); start cdl-node")
        self.cdl.run("genesis", "init", "--chain-id", CHAIN_ID, "-o", self.net,
                     "--validators", "1", "--base-port", str(free_port()),
                     "--founder", "reg-cn:regulator:CN:China regulator",
                     "--founder", "reg-eu:regulator:EU:EU regulator", node=False)
        self.node.start()
        status = self.wait_ready()
        check(status["chain_id"] == CHAIN_ID, "chain id: %r" % status)
        for name in ("park-a", "ent-1", "cert-eu", "cert-x"):
            self.cdl.json("keygen", "-o", self.path(name + ".key"), node=False)

    def register(self, author, member, role, jurisdiction, park=None, expect=0):
        args = ["member", "register", *self.signer(author), "--id", member,
                "--role", role, "--jurisdiction", jurisdiction, "--name", member,
                "--member-key", self.path(member + ".key.pub")]
        if park:
            args += ["--park", park]
        r = self.cdl.json(*args, expect=expect)
        self.receipts.append((r, "member_registration"))
        return r

    def expect_lines(self, lines, receipts):
        """Each JSON line matches the receipt at the same position."""
        records = [json.loads(line) for line in lines]
        check(len(records) == len(receipts), "%d lines for %d receipts"
              % (len(records), len(receipts)))
        for rec, (receipt, kind) in zip(records, receipts):
            want = {"height": receipt["height"], "index": receipt["index"],
                    "record_id": receipt["record_id"], "type": kind,
                    "author": receipt["author"], "status": receipt["status"],
                    "sequence": receipt["sequence"]}
            got = {k: rec.get(k) for k in want}
            check(got == want, "watch printed %r, the receipt says %r"
                  % (rec, want))
            check(rec["block_time"].endswith("Z") and rec["block_time_ms"] > 0,
                  "block time: %r" % rec)
            if receipt["status"] == "ACCEPTED":
                check(rec["ledger_index"] == receipt["ledger_index"], "%r" % rec)
            else:
                check(rec["code"] == receipt["code"] and rec["message"],
                      "rejection: %r" % rec)
        heights = [(r["height"], r["index"]) for r in records]
        check(heights == sorted(set(heights)), "out of order or repeated: %r"
              % heights)
        return records

    def live(self):
        self.step("`cdl watch --format json` from the next block; submit five records")
        start = self.cdl.json("status")["height"]
        w = self.watch("--format", "json", "--from-height", str(start + 1))
        w.quiet(0.5)
        self.register("reg-cn", "park-a", "park", "CN")
        self.register("park-a", "ent-1", "enterprise", "CN", park="park-a")
        self.register("reg-eu", "cert-eu", "certifier", "EU")
        r = self.cdl.json("disclose", *self.signer("ent-1"), "--file",
                          os.path.join(HERE, "testdata", "disclosure.json"))
        self.accepted(r, "disclosure")
        self.receipts.append((r, "disclosure"))
        # A park may not register certifiers: committed, but REJECTED.
        r = self.register("park-a", "cert-x", "certifier", "CN", expect=1)
        check(r["status"] == "REJECTED", "receipt: %r" % r)
        self.expect_lines(w.take(5), self.receipts)
        w.quiet(0.5)
        self.step("SIGINT ends `cdl watch` with exit 0")
        code = w.interrupt()
        check(code == 0, "exit code %d after SIGINT; stderr %r" % (code, w.err))

        self.step("`cdl watch` without --from-height starts at the next block")
        w = self.watch("--format", "json")
        first = None
        for attempt in range(10):  # until the watch certainly runs
            name = "p%d" % attempt
            self.cdl.json("keygen", "-o", self.path(name + ".key"), node=False)
            self.register("reg-cn", name, "park", "CN")
            try:
                first = w.take(1, timeout=2)[0]
                break
            except Failure:
                continue
        check(first is not None, "the default watch printed nothing")
        rec = json.loads(first)
        index = [r["record_id"] for r, _ in self.receipts].index(rec["record_id"])
        check(index >= 5, "the default watch replayed history: %r" % rec)
        w.take(len(self.receipts) - index - 1)
        check(w.interrupt() == 0, "exit code after SIGINT")

    def replay(self):
        self.step("--from-height 1 replays the whole ledger in order")
        w = self.watch("--format", "json", "--from-height", "1")
        self.expect_lines(w.take(len(self.receipts)), self.receipts)
        w.quiet(0.5)
        check(w.interrupt() == 0, "exit code after SIGINT")

        cases = [
            (["--type", "disclosure"], lambda r, k: k == "disclosure"),
            (["--member", "ent-1"],  # its registration (subject) and disclosure
             lambda r, k: r["author"] == "ent-1" or
             (k == "member_registration" and r["record_id"] == self.receipts[1][0]["record_id"])),
            (["--jurisdiction", "EU"], lambda r, k: r["author"] == "reg-eu"),
            (["--accepted-only", "--member", "park-a"],
             lambda r, k: r["status"] == "ACCEPTED" and
             (r["author"] == "park-a" or r["record_id"] == self.receipts[0][0]["record_id"])),
        ]
        for flags, keep in cases:
            self.step("--from-height 1 %s" % " ".join(flags))
            want = [(r, k) for r, k in self.receipts if keep(r, k)]
            w = self.watch("--format", "json", "--from-height", "1", *flags)
            self.expect_lines(w.take(len(want)), want)
            w.quiet(0.5)
            check(w.interrupt() == 0, "exit code after SIGINT")

        self.step("text format: height index type id author status")
        w = self.watch("--from-height", "1", "--type", "disclosure")
        line = w.take(1)[0]
        r = self.receipts[3][0]
        check(line == "%d %d disclosure %s ent-1 ACCEPTED"
              % (r["height"], r["index"], r["record_id"]), "text line: %r" % line)
        check(w.interrupt() == 0, "exit code after SIGINT")

    def resume_after_node_restart(self):
        self.step("kill -9 the node under a running watch; restart it; the watch resumes")
        w = self.watch("--format", "json", "--from-height", "1")
        w.take(len(self.receipts))
        next_height = self.receipts[-1][0]["height"] + 1
        self.node.stop_hard()
        deadline = time.time() + LINE_TIMEOUT_S
        while not any("resuming from height %d" % next_height in e for e in w.err):
            check(time.time() < deadline, "no resume notice on stderr: %r" % w.err)
            time.sleep(0.1)
        check(all(e.startswith("cdl watch: stream from ") for e in w.err),
              "stderr: %r" % w.err)
        check(w.proc.poll() is None, "the watch ended when the node went away")
        self.node.start()
        self.wait_ready()
        self.cdl.json("keygen", "-o", self.path("park-z.key"), node=False)
        self.register("reg-cn", "park-z", "park", "CN")
        self.expect_lines(w.take(1), self.receipts[-1:])
        w.quiet(1.0)
        check(w.interrupt() == 0, "exit code after SIGINT")

    def bad_flags(self):
        self.step("a bad --format is a usage error (exit 2)")
        self.cdl.run("watch", "--format", "xml", expect=2)
        self.cdl.run("watch", "--type", "nonsense", expect=2)


def main():
    return run_main(Test, __doc__.splitlines()[0], ())


if __name__ == "__main__":
    sys.exit(main())
