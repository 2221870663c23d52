#!/usr/bin/env bash
# A 3-member etcd cluster on loopback, the baseline `make bench` compares cdl with.
#
#   bench/etcd-cluster.sh start DIR BASE_PORT
#   bench/etcd-cluster.sh stop DIR
#
# Member N (1-3) serves clients on 127.0.0.1:BASE_PORT+N and its peers on
# 127.0.0.1:BASE_PORT+100+N-1 (the same layout as deploy/local-cluster.sh, so
# `deploy/cluster-ports.py free` finds a free BASE_PORT). DIR holds etcd<N>/
# (data, default fsync behaviour), etcd<N>.log, etcd<N>.pid and endpoints.txt
# (host:port,host:port,host:port). `start` returns once `etcdctl endpoint
# health` is OK for all three; if it fails, whatever it started is stopped.
# `stop` kills the members and removes their data dirs.
set -euo pipefail

usage() { echo "usage: bench/etcd-cluster.sh start DIR BASE_PORT | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

stop_members() {
  local n p
  for n in 1 2 3; do
    p=$(cat "$dir/etcd$n.pid" 2>/dev/null || true)
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
  done
  for n in 1 2 3; do
    p=$(cat "$dir/etcd$n.pid" 2>/dev/null || true)
    [ -z "$p" ] && continue
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    rm -f "$dir/etcd$n.pid"
  done
  rm -rf "$dir/etcd1" "$dir/etcd2" "$dir/etcd3"
}

case "$cmd" in
  start)
    base=${3:-}
    [[ "$base" =~ ^[0-9]+$ ]] || usage
    for tool in etcd etcdctl; do
      if ! command -v "$tool" >/dev/null 2>&1; then
        echo "etcd-cluster: $tool not found (Debian etcd-server/etcd-client); run make deps" >&2
        exit 1
      fi
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    client() { echo "127.0.0.1:$((base + $1))"; }
    peer() { echo "127.0.0.1:$((base + 100 + $1 - 1))"; }
    initial="etcd1=http://$(peer 1),etcd2=http://$(peer 2),etcd3=http://$(peer 3)"
    # ETCD_* settings from the environment must not change what is measured.
    for v in $(compgen -e | grep '^ETCD' || true); do unset "$v"; done
    trap 'stop_members; exit 1' ERR INT TERM
    for n in 1 2 3; do
      rm -rf "$dir/etcd$n"
      etcd --name "etcd$n" --data-dir "$dir/etcd$n" \
        --listen-client-urls "http://$(client "$n")" --advertise-client-urls "http://$(client "$n")" \
        --listen-peer-urls "http://$(peer "$n")" --initial-advertise-peer-urls "http://$(peer "$n")" \
        --initial-cluster "$initial" --initial-cluster-token "cdl-bench-$base" \
        --initial-cluster-state new --logger zap --log-outputs stderr --log-level warn \
        > "$dir/etcd$n.log" 2>&1 &
      echo $! > "$dir/etcd$n.pid"
    done
    endpoints="$(client 1),$(client 2),$(client 3)"
    echo "$endpoints" > "$dir/endpoints.txt"
    deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
      if ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --dial-timeout 1s --command-timeout 2s \
           endpoint health >/dev/null 2>&1; then
        trap - ERR INT TERM
        echo "etcd-cluster: 3 members healthy; clients: $endpoints"
        exit 0
      fi
      for n in 1 2 3; do
        if ! kill -0 "$(cat "$dir/etcd$n.pid")" 2>/dev/null; then
          echo "etcd-cluster: member $n exited; last log lines:" >&2
          tail -5 "$dir/etcd$n.log" >&2
          stop_members
          exit 1
        fi
      done
      sleep 0.1
    done
    echo "etcd-cluster: not healthy within 30 s:" >&2
    ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --dial-timeout 1s endpoint health >&2 || true
    stop_members
    exit 1
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd)
    stop_members
    echo "etcd-cluster: stopped"
    ;;
  *) usage ;;
esac
