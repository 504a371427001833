#!/usr/bin/env bash
# ctest "bench" smoke test: the load generator against the bundled server, one short run per transport, must
# see every message (0 loss, 0 duplicates). Proves the two still speak the same protocol; measures nothing.
# When redis-server is installed (tests/install-deps --tests installs it) it also runs the Redis hop's 2-node
# setup once: publisher on node A (--pub-port), subscribers on node B, both on the same Redis.
#   bench/smoke_test.sh SERVER LOADGEN
set -euo pipefail
server=$1
loadgen=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a server logging to $work/$1.log (more arguments go to the server); sets $port once it listens.
# Blocks until the server logs its port (or 20 s pass): no polling loop, no sleep. The log is made before the
# server starts: its redirection happens in the background job, and a tail that came first found no file and quit.
start_server() {
  local name=$1; shift
  : >"$work/$name.log"
  "$server" --listen 127.0.0.1:0 "$@" >>"$work/$name.log" 2>&1 &
  pids+=($!)
  port=$(timeout 20 grep -m 1 -o 'listening on 127.0.0.1:[0-9]*' <(tail -n +1 -f "$work/$name.log") | cut -d: -f2 || true)
  [[ -n "$port" ]] || { echo "$name did not report its port"; cat "$work/$name.log"; exit 1; }
}

check() {
  python3 - "$1" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
lost, dup, delivered = r.get("lost", r.get("loss")), r.get("duplicates"), r.get("deliveries")
if lost != 0 or dup not in (0, None) or not delivered:
    sys.exit(f"unexpected result: lost={lost} duplicates={dup} deliveries={delivered}")
PY
}

start_server memory
for transport in ws sse poll; do
  out=$("$loadgen" --port "$port" --transport "$transport" --subscribers 20 --rate 50 --duration 1)
  echo "$transport: $out" | cut -c1-300
  check "$out"
done
# One publisher connection pipelining its HTTP publishes, closed-loop (the suite's second saturation shape).
out=$("$loadgen" --port "$port" --transport ws --subscribers 20 --window 16 --publishers 1 --pipeline 16 --duration 1)
echo "pipelined: $out" | cut -c1-300
check "$out"

# SSE over HTTP/2 beside HTTP/1.1 (bench/h2_sse.py, driven by h2load from nghttp2-client): 50 subscribers, 1 s.
if command -v h2load >/dev/null; then
  python3 "$(dirname "$0")/h2_sse.py" --server "$server" --smoke | cut -c1-300
else
  echo "h2load not installed: SSE over HTTP/2 not checked (tests/install-deps installs nghttp2-client)"
fi

if ! command -v redis-server >/dev/null; then
  echo "redis-server not installed: Redis hop not checked (tests/install-deps --tests installs it)"
  exit 0
fi
# A free port from the kernel; should another process take it before Redis binds it, try again.
for attempt in 1 2 3; do
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  : >"$work/redis.log"  # before the tail below, as in start_server
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no --daemonize no \
    >>"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=($redis_pid)
  # redis-server logs "Ready to accept connections" once it listens.
  if timeout 20 grep -q -m 1 'Ready to accept connections' <(tail -n +1 -f "$work/redis.log"); then break; fi
  kill "$redis_pid" 2>/dev/null || true
  if [[ $attempt == 3 ]]; then echo "redis-server did not start"; cat "$work/redis.log"; exit 1; fi
done
start_server node-a --redis "redis://127.0.0.1:$redis_port/0"
node_a=$port
start_server node-b --redis "redis://127.0.0.1:$redis_port/0"
out=$("$loadgen" --port "$port" --pub-port "$node_a" --transport ws --subscribers 20 --rate 50 --duration 1)
echo "ws across Redis: $out" | cut -c1-300
check "$out"
