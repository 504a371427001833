#!/usr/bin/env python3
"""SSE over HTTP/2 beside SSE over HTTP/1.1, both driven by h2load (Debian nghttp2-client): bench/loadgen has no
HTTP/2 client, so both sides use the same tool and only the protocol differs.

    python3 bench/h2_sse.py --server build-bench/examples/server/switchboard-server [--streams 2000] [--smoke]

For each protocol, a fresh switchboard-server (core 0, listening on 127.0.0.1:0, its port read from its log;
h2load on core 1):
  idle      N SSE subscribers held (HTTP/1.1: N connections; HTTP/2: N streams, 1 per connection, then 100 per
            connection, the server's default max_concurrent_streams): the server's VmRSS growth / N.
  connects  N connections at once, each with one request (GET /healthz) and its answer: N / h2load's time.
  saturation  N SSE subscribers on one topic and one h2load publisher over HTTP/2 in both runs (16 POST /publish
            in flight) for D s:
            deliveries/s from the server's switchboard_deliveries_total; switchboard_slow_consumers_total must
            stay 0 (the subscribers kept up).
Prints one JSON object per protocol. --smoke: 50 subscribers, 1 s, for the ctest smoke test (measures nothing,
fails unless every subscriber was held, every connection answered and some deliveries made).
  fanout    (not with --smoke) 1,000 SSE subscribers x 100 msg/s for D s, HTTP/1.1 then HTTP/2 (100 streams per
            connection) on one server: latency p50/p90/p99/max from bench/h2_fanout.mjs (Node's own http and http2
            clients: h2load reports no per-message latency).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from suite.processes import LOADGEN_CORE, SERVER_CORE, terminate  # noqa: E402
from tls_idle import vm_rss  # noqa: E402


class server:
    """switchboard-server on 127.0.0.1:0, pinned to the server's core; stopped by its own PID."""

    def __init__(self, path, args=(), env=None):
        self.log = tempfile.NamedTemporaryFile('w+', prefix='switchboard-h2-sse.', suffix='.log')
        self.proc = subprocess.Popen(['taskset', '-c', SERVER_CORE, path, '--listen', '127.0.0.1:0'] + list(args),
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.port = None
        deadline = time.time() + 20
        while self.port is None and time.time() < deadline and self.proc.poll() is None:
            with open(self.log.name) as f:
                m = re.search(r'listening on 127\.0\.0\.1:(\d+)', f.read())
            self.port = int(m.group(1)) if m else None
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError('the server did not report its port')

    def stop(self):
        terminate(self.proc)
        self.log.close()


def metric(port, name, labels=''):
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'^' + re.escape(name + labels) + r' (\d+)', text, re.M)
    return int(m.group(1)) if m else 0


def wait_for(pred, deadline_s, what):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError(f'{what}: not within {deadline_s} s')


def h2load(proto, args):
    return ['taskset', '-c', LOADGEN_CORE, 'h2load'] + (['--h1'] if proto == 'h1' else []) + args


def subscribers(proto, port, n, topic, per_connection):
    """h2load holding n SSE subscribers (their answers never end), per_connection streams on each connection
    (HTTP/1.1: 1): stopped by terminate()."""
    c = max(1, n // per_connection)
    args = ['-n', str(n), '-c', str(c), '-m', str(n // c)]
    return subprocess.Popen(h2load(proto, args + ['-H', 'accept: text/event-stream',
                                                  f'http://127.0.0.1:{port}/sse?topic={topic}']),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sse_held(port):
    return metric(port, 'switchboard_connections', '{transport="sse"}')


def idle(proto, port, pid, n, per_connection):
    before = vm_rss(pid)
    subs = subscribers(proto, port, n, 'idle', per_connection)
    try:
        wait_for(lambda: sse_held(port) >= n, 60, f'{n} idle {proto} subscribers')
        time.sleep(1)  # let the server settle (its first keepalive tick is what frees the queues' blocks)
        after = vm_rss(pid)
        held = sse_held(port)
    finally:
        terminate(subs)
    wait_for(lambda: sse_held(port) == 0, 30, 'the idle subscribers gone')
    return {'held': held, 'rss_per_subscriber': round((after - before) / n)}


def connects(proto, port, n):
    out = subprocess.run(h2load(proto, ['-n', str(n), '-c', str(n), '-m', '1',
                                        f'http://127.0.0.1:{port}/healthz']),
                         capture_output=True, text=True, timeout=120).stdout
    # h2load picks the unit: "finished in 1.2s", "12.3ms", or "812.34us" on a fast machine.
    m = re.search(r'finished in ([\d.]+)(us|ms|s)\b', out)
    ok = re.search(r'(\d+) succeeded', out)
    if not m or not ok:
        raise RuntimeError(f'h2load printed no timing:\n{out}')
    seconds = float(m.group(1)) / {'us': 1e6, 'ms': 1e3, 's': 1}[m.group(2)]
    return {'connections': n, 'succeeded': int(ok.group(1)), 'connects_per_s': round(n / seconds)}


def saturation(proto, port, n, duration, per_connection):
    subs = subscribers(proto, port, n, 'sat', per_connection)
    body = tempfile.NamedTemporaryFile('w', suffix='.json', delete=False)
    body.write(json.dumps({'payload': 'x' * 80}))  # ~100 bytes, as the suite's messages
    body.close()
    try:
        wait_for(lambda: sse_held(port) >= n, 60, f'{n} {proto} subscribers')
        d0, s0, t0 = metric(port, 'switchboard_deliveries_total'), metric(port, 'switchboard_slow_consumers_total'), time.time()
        # The publisher speaks HTTP/2 in both runs: only the subscribers' protocol differs.
        pub = subprocess.run(h2load('h2', ['-D', str(duration), '-c', '1', '-m', '16', '-d', body.name,
                                            '-H', 'content-type: application/json',
                                            f'http://127.0.0.1:{port}/publish?topic=sat']),
                             capture_output=True, text=True, timeout=duration + 60)
        d1, s1, t1 = metric(port, 'switchboard_deliveries_total'), metric(port, 'switchboard_slow_consumers_total'), time.time()
        ok = re.search(r'(\d+) succeeded', pub.stdout)
        return {'subscribers': n, 'deliveries_per_s': round((d1 - d0) / (t1 - t0)),
                'publishes': int(ok.group(1)) if ok else 0, 'slow_consumers': s1 - s0}
    finally:
        terminate(subs)
        os.unlink(body.name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', required=True, help='the switchboard-server binary')
    ap.add_argument('--streams', type=int, default=2000)
    ap.add_argument('--duration', type=int, default=10)
    ap.add_argument('--smoke', action='store_true')
    a = ap.parse_args()
    n, duration = (50, 1) if a.smoke else (a.streams, a.duration)
    # HTTP/1.1: one subscriber per connection; HTTP/2: one stream per connection (the protocol's own cost), and
    # 100 streams per connection (a browser's tabs sharing one connection: the server's default
    # max_concurrent_streams).
    for proto, per_connection in (('h1', 1), ('h2', 1), ('h2', 100)):
        srv = server(a.server)
        try:
            pid = srv.proc.pid
            result = {'protocol': proto, 'streams_per_connection': per_connection,
                      'idle': idle(proto, srv.port, pid, n, per_connection),
                      'connects': connects(proto, srv.port, n),
                      'saturation': saturation(proto, srv.port, min(n, 1000), duration, per_connection)}
        finally:
            srv.stop()
        print(json.dumps(result), flush=True)
        if a.smoke and (result['idle']['held'] != n or result['connects']['succeeded'] != n or
                        result['saturation']['slow_consumers'] != 0 or result['saturation']['deliveries_per_s'] == 0):
            sys.exit(f'unexpected result over {proto}')
    if not a.smoke:
        fanout(a.server, duration)


def fanout(binary, duration):
    """The 1,000 x 100/s fan-out latency, HTTP/1.1 then HTTP/2 (100 streams per connection) on one server: h2load
    reports no per-message latency, so bench/h2_fanout.mjs (Node's own clients, on core 1) reads it."""
    srv = server(binary)
    try:
        out = subprocess.run(['taskset', '-c', LOADGEN_CORE, 'node', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                                  'h2_fanout.mjs'),
                              '--port', str(srv.port), '--subscribers', '1000', '--per-connection', '100',
                              '--rate', '100', '--duration', str(duration)],
                             capture_output=True, text=True, timeout=duration * 2 + 180)
    finally:
        srv.stop()
    for line in out.stdout.splitlines():
        print(json.dumps({'fanout': json.loads(line)}), flush=True)
    if out.returncode != 0:
        sys.exit(f'h2_fanout.mjs failed: {out.stderr[-500:]}')


if __name__ == '__main__':
    main()
