#!/usr/bin/env bash
# ctest "bench" smoke test: the load generator against the bundled server, one short run per transport, must
# see every message (0 loss, 0 duplicates). Proves the two still speak the same protocol; measures nothing.
#   bench/smoke_test.sh SERVER LOADGEN
set -euo pipefail
server=$1
loadgen=$2
log=$(mktemp)
"$server" --listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT

# Block until the server logs its port (or 20 s pass): no polling loop, no sleep.
port=$(timeout 20 grep -m 1 -o 'listening on 127.0.0.1:[0-9]*' <(tail -n +1 -f "$log") | cut -d: -f2 || true)
[[ -n "$port" ]] || { echo "server did not report its port"; cat "$log"; exit 1; }

for transport in ws sse poll; do
  out=$("$loadgen" --port "$port" --transport "$transport" --subscribers 20 --rate 50 --duration 1)
  echo "$transport: $out" | cut -c1-300
  python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
lost, dup, delivered = r.get("lost", r.get("loss")), r.get("duplicates"), r.get("deliveries")
if lost != 0 or dup not in (0, None) or not delivered:
    sys.exit(f"unexpected result: lost={lost} duplicates={dup} deliveries={delivered}")
PY
done
