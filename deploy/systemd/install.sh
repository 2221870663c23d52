#!/usr/bin/env bash
# Installs one cdl validator as a systemd service on this machine.
#
#   deploy/systemd/install.sh --from DIR --validator K [--build BUILD_DIR] [--dry-run]
#
# DIR holds what `cdl genesis init --tls` wrote (genesis.json, ca.pem,
# validator-K.key, validator-K.crt) — or just those four files, copied to this
# machine over a trusted channel. K is this machine's validator number
# (validator-K in the genesis). BUILD_DIR (default ./build) holds the built
# node/cdl-node and cli/cdl.
#
# It creates the system user `cdl`, installs the binaries to /usr/local/bin,
# the genesis, CA certificate, node certificate and key to /etc/cdl (the key
# 0600, owned by cdl), /etc/cdl/node.json from node.example.json unless one
# exists, and the unit, then enables and starts cdl-node.service. With
# --dry-run it only prints the commands. Run as root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
from="" k="" build="$repo/build" dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --validator) k=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$from" ] || [ -z "$k" ]; then
  echo "install.sh: --from DIR and --validator K are required" >&2
  exit 2
fi
case "$k" in ''|*[!0-9]*) echo "install.sh: --validator takes a number, e.g. 0" >&2; exit 2 ;; esac

need=("$from/genesis.json" "$from/ca.pem" "$from/validator-$k.key" "$from/validator-$k.crt"
      "$build/node/cdl-node" "$build/cli/cdl")
for f in "${need[@]}"; do
  [ -f "$f" ] || { echo "install.sh: $f is missing" >&2; exit 1; }
done
if [ "$dry" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (or pass --dry-run to see the commands)" >&2
  exit 1
fi

run() {
  if [ "$dry" -eq 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi
}

# 1. The service user: no login, home = the data dir systemd creates.
if ! getent passwd cdl >/dev/null; then
  run useradd --system --user-group --home-dir /var/lib/cdl --no-create-home \
    --shell /usr/sbin/nologin --comment "cdl validator" cdl
fi
# 2. Binaries.
run install -m 0755 "$build/node/cdl-node" /usr/local/bin/cdl-node
run install -m 0755 "$build/cli/cdl" /usr/local/bin/cdl
# 3. Trust anchor, TLS and key. Only cdl (and root) can read the key.
run install -d -m 0750 -o root -g cdl /etc/cdl
run install -m 0644 -o root -g cdl "$from/genesis.json" /etc/cdl/genesis.json
run install -m 0644 -o root -g cdl "$from/ca.pem" /etc/cdl/ca.pem
run install -m 0644 -o root -g cdl "$from/validator-$k.crt" /etc/cdl/validator.crt
run install -m 0600 -o cdl -g cdl "$from/validator-$k.key" /etc/cdl/validator.key
# 4. Config (kept if present: it is the operator's).
if [ ! -f /etc/cdl/node.json ]; then
  run install -m 0640 -o root -g cdl "$here/node.example.json" /etc/cdl/node.json
fi
# 5. The unit.
run install -m 0644 "$here/cdl-node.service" /etc/systemd/system/cdl-node.service
run systemctl daemon-reload
run systemctl enable --now cdl-node.service
if [ "$dry" -eq 0 ]; then
  echo "install.sh: validator-$k installed; follow it with: journalctl -u cdl-node -f"
fi
