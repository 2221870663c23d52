#!/usr/bin/env bash
# make bench: starts a single --dev validator (fsync on, real signatures) on a
# free loopback port and drives it with cdl-bench at several client counts.
set -euo pipefail
BUILD_DIR=${1:-build}
NODE="$BUILD_DIR/node/cdl-node"
BENCH="$BUILD_DIR/bench/cdl-bench"
RECORDS=${CDL_BENCH_RECORDS:-30000}
work=$(mktemp -d /tmp/cdl-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$NODE" --dev --data-dir "$work/node" --listen "127.0.0.1:$port" --log-level warn &
pid=$!
for _ in $(seq 100); do [ -f "$work/node/founder.key" ] && break; sleep 0.1; done
sleep 0.5
echo "== single validator (--dev), fsync on, ECDSA P-256 records =="
for clients in 64 256; do
  "$BENCH" --node "127.0.0.1:$port" --founder-key "$work/node/founder.key" \
    --records "$RECORDS" --clients "$clients" --authors 64
done
echo "peak resident memory of cdl-node: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
echo "disk used per record: $(du -sb "$work/node/db" | awk -v n=$((RECORDS * 2)) '{printf "%.0f bytes", $1 / n}')"
echo
"$BUILD_DIR/bench/passport-bench" 500
