#!/usr/bin/env bash
# A local 4-validator cdl cluster on loopback, all under one folder.
#
#   deploy/local-cluster.sh start|stop|status|kill N|restart N [--dir DIR]
#
# DIR (default ./cluster) holds genesis.json, the founder and validator keys,
# the cluster TLS CA and node certificates, node<N>/ data dirs, node<N>.log,
# and nodes.txt with the four client addresses (127.0.0.1:PORT, one a line).
# N is 1-4. `kill` sends SIGKILL. `start` returns once every node answers
# `cdl status`. cdl-node and cdl are taken from $PATH first, then from
# ${CDL_BUILD_DIR:-build}. Ports: CDL_CLUSTER_PORT (default 7400) + N for the
# client API, + 100 + N - 1 for the peer protocol, chosen when the cluster is
# created; later commands on DIR reuse them (from nodes.txt). Extra cdl-node
# flags: CDL_NODE_FLAGS for every node, CDL_NODE<N>_FLAGS for node N.
set -euo pipefail

cmd=${1:-}
shift || true
node_arg=""
dir=./cluster
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    [1-4]) node_arg=$1; shift ;;
    *) echo "local-cluster: unknown argument '$1' (usage: start|stop|status|kill N|restart N [--dir DIR])" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
build=${CDL_BUILD_DIR:-$here/build}
find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  for p in "$build/node/$1" "$build/cli/$1"; do [ -x "$p" ] && { echo "$p"; return; }; done
  echo "local-cluster: cannot find $1 on \$PATH or in $build (run make build)" >&2
  exit 1
}
NODE=$(find_bin cdl-node)
CDL=$(find_bin cdl)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# An existing cluster keeps the ports it was created with (nodes.txt), so
# `restart N` or `start` later need no CDL_CLUSTER_PORT.
if [ -s "$dir/nodes.txt" ]; then
  base=$(( $(head -1 "$dir/nodes.txt" | sed 's/.*://') - 1 ))
else
  base=${CDL_CLUSTER_PORT:-7400}
fi
client_port() { echo $((base + $1)); }

init() {
  [ -f "$dir/genesis.json" ] && return
  echo "local-cluster: creating genesis, keys and TLS certificates in $dir"
  "$CDL" genesis init --chain-id cdl-local -o "$dir" --validators 4 --base-port $((base + 100)) --tls \
    --founder reg-cn:regulator:CN:"China regulator" \
    --founder reg-eu:regulator:EU:"EU regulator" \
    --founder acc-cn:accreditor:CN:"China accreditation body" \
    --founder acc-eu:accreditor:EU:"EU accreditation body" >/dev/null
  : > "$dir/nodes.txt"
  for n in 1 2 3 4; do echo "127.0.0.1:$(client_port $n)" >> "$dir/nodes.txt"; done
}

pid_of() { [ -f "$dir/node$1.pid" ] && cat "$dir/node$1.pid" || true; }
# A zombie (killed, not yet reaped by whoever inherited it) counts as gone.
alive() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && alive "$p"; }
# SIGKILL is not instant: wait until the process is gone, so that a restart
# does not find the data dir's RocksDB LOCK still held.
kill_and_wait() {
  kill -KILL "$1" 2>/dev/null || true
  for _ in $(seq 100); do alive "$1" || return 0; sleep 0.1; done
  echo "local-cluster: pid $1 still alive 10 s after SIGKILL" >&2
  return 1
}

start_node() {
  local n=$1 k=$(( $1 - 1 ))
  local own="CDL_NODE${n}_FLAGS"
  if running "$n"; then return; fi
  "$NODE" --data-dir "$dir/node$n" --listen "127.0.0.1:$(client_port "$n")" \
    --genesis "$dir/genesis.json" --key "$dir/validator-$k.key" \
    --tls-ca "$dir/ca.pem" --tls-cert "$dir/validator-$k.crt" \
    ${CDL_NODE_FLAGS:-} ${!own:-} >> "$dir/node$n.log" 2>&1 &
  echo $! > "$dir/node$n.pid"
}

wait_ready() {
  local n=$1
  for _ in $(seq 300); do
    if "$CDL" --node "127.0.0.1:$(client_port "$n")" status >/dev/null 2>&1; then return 0; fi
    if ! running "$n"; then
      echo "local-cluster: node $n exited; last log lines:" >&2
      tail -5 "$dir/node$n.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "local-cluster: node $n did not answer within 30 s (see $dir/node$n.log)" >&2
  return 1
}

stop_node() {
  local n=$1 p
  p=$(pid_of "$n")
  [ -z "$p" ] && return
  if alive "$p"; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do alive "$p" || break; sleep 0.1; done
    if alive "$p"; then kill_and_wait "$p"; fi
  fi
  rm -f "$dir/node$n.pid"
}

need_n() { [ -n "$node_arg" ] || { echo "local-cluster: $cmd needs a node number 1-4" >&2; exit 2; }; }

case "$cmd" in
  start)
    init
    for n in 1 2 3 4; do start_node "$n"; done
    for n in 1 2 3 4; do wait_ready "$n"; done
    echo "local-cluster: 4 validators up; clients: $(paste -sd' ' "$dir/nodes.txt")"
    ;;
  stop)
    for n in 1 2 3 4; do stop_node "$n"; done
    echo "local-cluster: stopped"
    ;;
  status)
    for n in 1 2 3 4; do
      if running "$n"; then
        printf 'node %s pid %s: ' "$n" "$(pid_of "$n")"
        "$CDL" --node "127.0.0.1:$(client_port "$n")" status --json 2>/dev/null | tr -d '\n' || printf 'not answering'
        echo
      else
        echo "node $n: down"
      fi
    done
    ;;
  kill)
    need_n
    p=$(pid_of "$node_arg")
    [ -n "$p" ] && kill_and_wait "$p"
    rm -f "$dir/node$node_arg.pid"
    echo "local-cluster: node $node_arg killed (SIGKILL)"
    ;;
  restart)
    need_n
    stop_node "$node_arg"
    start_node "$node_arg"
    wait_ready "$node_arg"
    echo "local-cluster: node $node_arg restarted"
    ;;
  *)
    echo "usage: deploy/local-cluster.sh start|stop|status|kill N|restart N [--dir DIR]" >&2
    exit 2
    ;;
esac
