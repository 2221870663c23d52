#!/usr/bin/env bash
# make bench: drives cdl and, for comparison, etcd with cdl-bench at several
# client counts, everything on loopback with fsync on:
#   1. a single --dev validator (real signatures);
#   2. the 4-validator mTLS cluster of deploy/local-cluster.sh (every validator
#      verifies every ECDSA signature);
#   3. a 3-member etcd cluster (bench/etcd-cluster.sh) given the same number of
#      concurrent clients, the same number of writes and values of the size of
#      a signed cdl record (unsigned puts through etcd's HTTP/JSON gateway);
#   4. offline passport verification (passport-bench);
# then a summary table and the cdl/etcd throughput ratio (the last line).
# Each system runs alone: the previous one is stopped first. Whatever was
# started is stopped on exit. etcd is required (make deps installs it).
#   CDL_BENCH_RECORDS  records/puts per run (default 30000)
#   CDL_BENCH_CLIENTS  client counts (default "64 256")
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-build}" && pwd)
NODE="$BUILD_DIR/node/cdl-node"
CDL="$BUILD_DIR/cli/cdl"
BENCH="$BUILD_DIR/bench/cdl-bench"
RECORDS=${CDL_BENCH_RECORDS:-30000}
case "$RECORDS" in
  ''|*[!0-9]*|0) echo "make bench: CDL_BENCH_RECORDS must be a positive number (got \"$RECORDS\")" >&2; exit 2 ;;
esac
CLIENTS=${CDL_BENCH_CLIENTS:-64 256}

for tool in etcd etcdctl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make bench: $tool not found; the benchmark compares cdl with etcd: run make deps" >&2
    exit 1
  fi
done
for bin in "$NODE" "$CDL" "$BENCH"; do
  [ -x "$bin" ] || { echo "make bench: $bin missing (run make build)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/cdl-bench.XXXXXX)
pid=""
cluster_up=""
etcd_up=""
# local-cluster.sh takes cdl-node and cdl from $PATH first: make it this build's.
cluster() { PATH="$BUILD_DIR/node:$BUILD_DIR/cli:$PATH" CDL_BUILD_DIR="$BUILD_DIR" \
  CDL_CLUSTER_PORT="$cluster_base" bash "$here/deploy/local-cluster.sh" "$@" --dir "$work/cluster"; }
stop_single() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
cleanup() {
  stop_single
  if [ -n "$cluster_up" ]; then cluster stop >/dev/null 2>&1 || true; fi
  if [ -n "$etcd_up" ]; then bash "$here/bench/etcd-cluster.sh" stop "$work/etcd" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU time (user + system) the given processes have used so far, in
# microseconds; empty if one of them is gone (its time is lost with it).
cpu_us() {  # PID...
  local total=0 p t
  for p in "$@"; do
    # The process name (field 2) has no spaces for cdl-node and etcd.
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || return 0
    total=$((total + t))
  done
  echo $((total * 1000000 / $(getconf CLK_TCK)))
}
# Runs cdl-bench and records how much CPU the servers (PIDs in $servers) spent
# per record in $work/NAME.cpu ("n/a" if a server exited meanwhile): the
# figure that decides throughput on a machine whose cores are all busy.
run_bench() {  # NAME cdl-bench-args...
  local name=$1 before after per_record=n/a
  shift
  before=$(cpu_us $servers)
  "$BENCH" "$@" --json "$work/$name.json"
  after=$(cpu_us $servers)
  if [ -n "$before" ] && [ -n "$after" ]; then per_record=$(( (after - before) / RECORDS )); fi
  echo "$per_record" > "$work/$name.cpu"
  echo "server CPU: $per_record us per record (all server processes together)"
}

disk_per_record() {  # DIR RECORDS
  du -sb "$1" | awk -v n="$2" '{printf "%.0f bytes", $1 / n}'
}

echo "== single validator (--dev), fsync on, ECDSA P-256 records =="
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# No HTTP gateway: it is not measured, and --dev's default port may be taken.
http_off=()
if "$NODE" --help 2>&1 | grep -q -- '--http '; then http_off=(--http off); fi
"$NODE" --dev --data-dir "$work/node" --listen "127.0.0.1:$port" --log-level warn "${http_off[@]}" &
pid=$!
for _ in $(seq 300); do
  [ -f "$work/node/founder.key" ] && "$CDL" --node "127.0.0.1:$port" status >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "make bench: cdl-node --dev exited" >&2; exit 1; }
  sleep 0.1
done
servers=$pid
for clients in $CLIENTS; do
  run_bench "single-$clients" --node "127.0.0.1:$port" --founder-key "$work/node/founder.key" \
    --records "$RECORDS" --clients "$clients" --authors 64
done
echo "peak resident memory of cdl-node: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
n_single=0
for clients in $CLIENTS; do n_single=$((n_single + RECORDS)); done
echo "disk used per record: $(disk_per_record "$work/node/db" "$n_single")"
stop_single
echo

echo "== 4-validator cluster (deploy/local-cluster.sh: mTLS, fsync on, every validator verifies every signature) =="
cluster_base=$(python3 "$here/deploy/cluster-ports.py" free)
cluster_up=1
cluster start
servers=$(cat "$work"/cluster/node[1-4].pid)
for clients in $CLIENTS; do
  run_bench "cluster-$clients" --cluster "$work/cluster" --founder-key "$work/cluster/reg-cn.key" \
    --records "$RECORDS" --clients "$clients" --authors 64
done
for n in 1 2 3 4; do
  echo "peak resident memory of validator $n: $(grep VmHWM "/proc/$(cat "$work/cluster/node$n.pid")/status" | awk '{print $2, $3}')"
done
echo "disk used per record (validator 1): $(disk_per_record "$work/cluster/node1" "$n_single")"
cluster stop
cluster_up=""
echo

echo "== etcd 3-member cluster (bench/etcd-cluster.sh: Raft, fsync on, HTTP/JSON gateway puts) =="
etcd_base=$(python3 "$here/deploy/cluster-ports.py" free)
etcd_up=1
bash "$here/bench/etcd-cluster.sh" start "$work/etcd" "$etcd_base"
servers=$(cat "$work"/etcd/etcd[1-3].pid)
for clients in $CLIENTS; do
  run_bench "etcd-$clients" --etcd "$(cat "$work/etcd/endpoints.txt")" \
    --records "$RECORDS" --clients "$clients" --authors 64
done
bash "$here/bench/etcd-cluster.sh" stop "$work/etcd"
etcd_up=""
echo

if [ -x "$BUILD_DIR/bench/passport-bench" ]; then
  "$BUILD_DIR/bench/passport-bench" 500
else
  echo "passport-bench: not built in $BUILD_DIR (it needs CDL_BUILD_TESTS=ON); skipped"
fi
echo

echo "== summary ($RECORDS records per run; loopback, one shared 2-core machine: figures are indicative) =="
# shellcheck disable=SC2086  # one argument per client count
python3 - "$work" $CLIENTS <<'EOF'
import json, sys
work, clients = sys.argv[1], sys.argv[2:]
def load(name):
    with open(f"{work}/{name}.json") as f:
        r = json.load(f)
    with open(f"{work}/{name}.cpu") as f:
        r["cpu_us"] = f.read().strip()
    return r
systems = [("single", "cdl 1 validator (--dev)"), ("cluster", "cdl 4-validator BFT"), ("etcd", "etcd 3-node Raft")]
print(f"{'system':<26} {'clients':>7} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>6} {'failed':>6} "
      f"{'server CPU us/rec':>17}")
for key, label in systems:
    for c in clients:
        r = load(f"{key}-{c}")
        print(f"{label:<26} {c:>7} {r['records_per_s']:>10.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
              f"{r['record_bytes']:>6.0f} {r['failed']:>6} {r['cpu_us']:>17}")
best_cdl = best_etcd = 0.0
for c in clients:
    x, y = load(f"cluster-{c}")["records_per_s"], load(f"etcd-{c}")["records_per_s"]
    best_cdl, best_etcd = max(best_cdl, x), max(best_etcd, y)
    print(f"{c} clients: cdl 4-validator BFT (fsync, ECDSA-signed records verified): {x:.0f}/s  vs  "
          f"etcd 3-node Raft (fsync, unsigned puts): {y:.0f}/s  ->  ratio X/Y = {x / y if y else 0:.2f}")
# The last line: best cdl cluster throughput over the best etcd one (over the client counts).
print(f"cdl/etcd throughput ratio: {best_cdl / best_etcd if best_etcd else 0:.2f} "
      f"(cdl {best_cdl:.0f} records/s, etcd {best_etcd:.0f} writes/s)")
EOF
