#!/usr/bin/env python3
"""switchboard's benchmark suite: runs the scenarios against switchboard, Nchan and a Node `ws` server with the same
load generator, then writes docs/benchmarks.md and the SVG plots in docs/benchmarks/.

Called by bench/run (which installs the peers and builds); standard library only.

  suite.py --build DIR [--quick] [--out RESULTS_DIR]
  suite.py --report RESULTS_DIR/results.json      # re-render the page from saved results
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
SERVER_CORE = '0'
LOADGEN_CORE = '1'

# Ports on 127.0.0.1; each server gets its own. The Redis hop adds three switchboard nodes (Redis' own port is
# whatever the kernel gives: see redis_server).
PORTS = {'switchboard': 18080, 'nchan': 18081, 'node-ws': 18082}
REDIS_HOP_PORTS = {'memory': 18083, 'redis': 18084, 'node-a': 18085, 'node-b': 18086}
TRANSPORTS = {'switchboard': ['ws', 'sse', 'poll'], 'nchan': ['ws', 'sse', 'poll'], 'node-ws': ['ws']}
DIALECT = {'switchboard': 'switchboard', 'nchan': 'nchan', 'node-ws': 'plain'}


def log(*args):
    print('[bench]', *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Servers: started pinned to one core, stopped by their own PID only.

def terminate(proc):
    """SIGTERM the process the bench started (by its PID), SIGKILL it if it has not gone within 8 s."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class server:
    def __init__(self, name, build, port=None, extra=(), label=None):
        self.name = name
        self.build = build
        self.port = port or PORTS[name]
        self.extra = list(extra)  # more switchboard-server arguments (--redis URL)
        self.label = label or name
        self.proc = None
        self.tmp = None

    def command(self):
        if self.name == 'switchboard':
            return [os.path.join(self.build, 'examples/server/switchboard-server'),
                    '--listen', f'127.0.0.1:{self.port}', '--log-level', 'warn'] + self.extra
        if self.name == 'nchan':
            self.tmp = tempfile.mkdtemp(prefix='switchboard-bench-nchan.')
            with open(os.path.join(BENCH, 'peers/nchan.conf.in')) as f:
                conf = f.read().replace('@DIR@', self.tmp).replace('@PORT@', str(self.port))
            with open(os.path.join(self.tmp, 'nginx.conf'), 'w') as f:
                f.write(conf)
            return ['nginx', '-c', os.path.join(self.tmp, 'nginx.conf'), '-p', self.tmp]
        return ['node', os.path.join(BENCH, 'peers/ws_server.js'), '127.0.0.1', str(self.port)]

    def start(self):
        self.log = open(os.path.join(tempfile.gettempdir(), f'switchboard-bench-{self.label}.log'), 'w')
        self.proc = subprocess.Popen(['taskset', '-c', SERVER_CORE] + self.command(),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.label} exited at start (see {self.log.name})')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f'{self.label} did not listen on {self.port}')
        time.sleep(0.2)

    def measured_pid(self):
        """The process that serves connections: nginx's single worker, else the server itself."""
        if self.name != 'nchan':
            return self.proc.pid
        for _ in range(50):
            try:
                with open(f'/proc/{self.proc.pid}/task/{self.proc.pid}/children') as f:
                    children = f.read().split()
                if children:
                    return int(children[0])
            except OSError:
                pass
            time.sleep(0.05)
        return self.proc.pid

    def stop(self):
        terminate(self.proc)
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


class redis_server:
    """The bench's own redis-server for the Redis hop: a free loopback port, its own temp dir, no persistence
    (`--save "" --appendonly no`: the hop is measured, not the disk; a deployment that persists pays more), pinned
    to the load generator's core so the switchboard core stays the server's alone. Stopped by its PID."""

    def __init__(self):
        self.proc = None
        self.tmp = None
        self.port = None

    @staticmethod
    def available():
        return shutil.which('redis-server') is not None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix='switchboard-bench-redis.')
        # The port was free a moment ago; another process may take it before Redis binds it, so try a few.
        for attempt in range(3):
            try:
                return self.try_start()
            except RuntimeError:
                self.stop_process()
                if attempt == 2:
                    raise

    def try_start(self):
        with socket.socket() as s:  # a free port from the kernel
            s.bind(('127.0.0.1', 0))
            self.port = s.getsockname()[1]
        self.log = open(os.path.join(self.tmp, 'redis.log'), 'w')
        self.proc = subprocess.Popen(
            ['taskset', '-c', LOADGEN_CORE, 'redis-server', '--port', str(self.port), '--bind', '127.0.0.1',
             '--dir', self.tmp, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'redis-server exited at start (see {self.log.name})')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5) as c:
                    c.sendall(b'PING\r\n')
                    if c.recv(64).startswith(b'+PONG'):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f'redis-server did not answer on {self.port}')

    def url(self):
        return f'redis://127.0.0.1:{self.port}/0'

    def cpu_seconds(self):
        """utime + stime of redis-server so far (it shares the load generator's core: report its share)."""
        try:
            with open(f'/proc/{self.proc.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        except (OSError, IndexError, ValueError):
            return None

    def stop_process(self):
        terminate(self.proc)
        self.proc = None

    def stop(self):
        self.stop_process()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def loadavg():
    try:
        with open('/proc/loadavg') as f:
            return float(f.read().split()[0])
    except OSError:
        return None


def loadgen(build, srv, transport, args, timeout):
    load = loadavg()
    res = run_loadgen(build, srv, transport, args, timeout)
    # Other work on the machine skews everything: record the 1-minute load average around every run.
    res['loadavg'] = [load, loadavg()]
    return res


def run_loadgen(build, srv, transport, args, timeout):
    # srv: the server the subscribers connect to (and whose RSS / CPU is reported).
    cmd = ['taskset', '-c', LOADGEN_CORE, os.path.join(build, 'bench/switchboard-loadgen'),
           '--dialect', DIALECT[srv.name], '--transport', transport, '--port', str(srv.port),
           '--server-pid', str(srv.measured_pid()), '--timeout', str(timeout)] + [str(a) for a in args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 15)
    except subprocess.TimeoutExpired:
        return {'error': 'loadgen timed out'}
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {'error': 'no result', 'stderr': out.stderr[-500:]}


# ---------------------------------------------------------------------------------------------------------------
# Scenarios

def plan(quick):
    """(name, parameters, repetitions) per scenario; a fresh server for the idle / storm ones."""
    if quick:
        return {
            'fanout': [dict(subscribers=1000, rate=100, duration=3, runs=1)],
            'saturation': [dict(subscribers=1000, window=64, publishers=16, duration=3, runs=1)],
            'idle': [dict(subscribers=2000, runs=1)],
            'redis_hop': dict(subscribers=1000, rate=100, duration=3, runs=1,
                              saturation=dict(window=64, publishers=16, duration=3, runs=1)),
        }
    return {
        'fanout': [dict(subscribers=1000, rate=100, duration=5, runs=3),
                   dict(subscribers=1000, rate=10, duration=5, runs=1),
                   dict(subscribers=10000, rate=10, duration=5, runs=1),
                   dict(subscribers=19000, rate=5, duration=5, runs=1)],
        'saturation': [dict(subscribers=1000, window=64, publishers=16, duration=5, runs=3)],
        'idle': [dict(subscribers=10000, runs=1), dict(subscribers=19000, runs=1)],
        'redis_hop': dict(subscribers=1000, rate=100, duration=5, runs=3,
                          saturation=dict(window=64, publishers=16, duration=5, runs=3)),
    }


# The Redis hop's setups: (the node the subscribers use, the node the publisher uses; None: the same one).
REDIS_SETUPS = {'memory': ('memory', None), 'redis': ('redis', None), 'redis-2-nodes': ('node-b', 'node-a')}


def run_redis_hop(build, p, results):
    """Scenario 6: the same fan-out on one node without Redis, on one node with Redis, and on two nodes sharing
    that Redis (publisher on node A, subscribers on node B), interleaved in the same run so the ratios compare
    neighbours. Returns why it was skipped, or None."""
    if not redis_server.available():
        log('redis-server not found: the Redis hop is skipped (bench/run installs it)')
        return 'redis-server not found (bench/run installs it)'
    rds = redis_server()
    nodes = {}
    try:
        rds.start()
        redis_arg = ['--redis', rds.url()]
        nodes = {'memory': server('switchboard', build, REDIS_HOP_PORTS['memory'], label='switchboard-memory'),
                 'redis': server('switchboard', build, REDIS_HOP_PORTS['redis'], redis_arg, label='switchboard-redis'),
                 'node-a': server('switchboard', build, REDIS_HOP_PORTS['node-a'], redis_arg, label='switchboard-node-a'),
                 'node-b': server('switchboard', build, REDIS_HOP_PORTS['node-b'], redis_arg, label='switchboard-node-b')}
        for n in nodes.values():
            n.start()

        def one(setup, transport, kind, args, timeout, run):
            sub, pub = REDIS_SETUPS[setup]
            extra = ['--pub-port', nodes[pub].port] if pub else []
            cpu0, t0 = rds.cpu_seconds(), time.time()
            res = loadgen(build, nodes[sub], transport, args + extra, timeout)
            cpu1, t1 = rds.cpu_seconds(), time.time()
            if cpu0 is not None and cpu1 is not None and t1 > t0:
                res['redis_cpu'] = dict(seconds=cpu1 - cpu0, utilization=(cpu1 - cpu0) / (t1 - t0))
            results.append(dict(server='switchboard', transport=transport, scenario='redis_hop', setup=setup,
                                kind=kind, subscribers=p['subscribers'], run=run, result=res))
            log('redis hop', setup, transport, kind, summary(res))

        for r in range(p['runs']):
            for transport in ['ws', 'sse', 'poll']:
                for setup in REDIS_SETUPS:
                    one(setup, transport, 'fanout',
                        ['--subscribers', p['subscribers'], '--rate', p['rate'], '--duration', p['duration'],
                         '--drain', 5, '--settle', 0.5], p['duration'] + 80, r)
        sat = p['saturation']
        for r in range(sat['runs']):
            for setup in REDIS_SETUPS:
                one(setup, 'ws', 'saturation',
                    ['--subscribers', p['subscribers'], '--window', sat['window'], '--publishers', sat['publishers'],
                     '--duration', sat['duration'], '--drain', 5, '--settle', 0.5], sat['duration'] + 60, r)
    finally:
        for n in nodes.values():
            n.stop()
        rds.stop()
    return None


def run_suite(build, quick, out_dir):
    scenarios = plan(quick)
    results = []
    started = time.time()
    for name in ['switchboard', 'nchan', 'node-ws']:
        srv = server(name, build)
        for transport in TRANSPORTS[name]:
            # Idle memory and connect storm: a fresh server each time, so the RSS delta is this run's alone.
            for p in scenarios['idle']:
                for r in range(p['runs']):
                    srv.start()
                    try:
                        res = loadgen(build, srv, transport,
                                      ['--mode', 'idle', '--subscribers', p['subscribers'], '--settle', 1,
                                       '--connect-concurrency', 1000], timeout=90)
                    finally:
                        srv.stop()
                    results.append(dict(server=name, transport=transport, scenario='idle',
                                        subscribers=p['subscribers'], run=r, result=res))
                    log(name, transport, 'idle', p['subscribers'], summary(res))
            srv.start()
            try:
                for p in scenarios['fanout']:
                    for r in range(p['runs']):
                        res = loadgen(build, srv, transport,
                                      ['--subscribers', p['subscribers'], '--rate', p['rate'],
                                       '--duration', p['duration'], '--drain', 5, '--settle', 0.5],
                                      timeout=p['duration'] + 80)
                        results.append(dict(server=name, transport=transport, scenario='fanout',
                                            subscribers=p['subscribers'], rate=p['rate'], run=r, result=res))
                        log(name, transport, 'fanout', p['subscribers'], p['rate'], summary(res))
                for p in scenarios['saturation']:
                    for r in range(p['runs']):
                        res = loadgen(build, srv, transport,
                                      ['--subscribers', p['subscribers'], '--window', p['window'],
                                       '--publishers', p['publishers'],
                                       '--duration', p['duration'], '--drain', 5, '--settle', 0.5],
                                      timeout=p['duration'] + 60)
                        results.append(dict(server=name, transport=transport, scenario='saturation',
                                            subscribers=p['subscribers'], window=p['window'], run=r, result=res))
                        log(name, transport, 'saturation', summary(res))
            finally:
                srv.stop()
    redis_skipped = run_redis_hop(build, scenarios['redis_hop'], results)
    elapsed = time.time() - started
    doc = dict(machine=machine(), versions=versions(build), quick=quick, plan=scenarios,
               date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
               seconds=elapsed, results=results, redis_skipped=redis_skipped)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, 'results.json')
    with open(path, 'w') as f:
        json.dump(doc, f, indent=1)
    log(f'results in {path} ({elapsed:.0f} s)')
    return doc


def summary(res):
    if 'error' in res:
        return 'ERROR ' + json.dumps(res)[:300]
    s = f"subscribed={res.get('subscribed')} connect/s={res.get('connect', {}).get('per_second', 0):.0f}"
    if 'server_rss' in res:
        s += f" rss/conn={res['server_rss']['per_connection']:.0f}"
    if 'deliveries' in res:
        lat = res['latency_ms']
        s += (f" deliveries/s={res['deliveries_per_second']:.0f} lost={res['lost']} p50={lat['p50']:.2f}"
              f" p99={lat['p99']:.2f} max={lat['max']:.1f} ms loadgen_cpu={res['loadgen_cpu']['utilization']:.2f}"
              f" server_cpu={res.get('server_cpu', {}).get('utilization', 0):.2f}")
    if res.get('errors'):
        s += ' errors=' + '; '.join(res['errors'][:3])
    return s


def machine():
    model = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(nproc=os.cpu_count(), cpu=model, kernel=platform.release())


def command_output(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return 'unknown'


def versions(build):
    commit = command_output(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
    dirty = command_output(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])
    ws = 'unknown'
    try:
        with open(os.path.join(BENCH, 'peers/node_modules/ws/package.json')) as f:
            ws = json.load(f)['version']
    except OSError:
        pass
    return {
        'switchboard': f"{commit}{' + uncommitted changes' if dirty else ''} (Release, GCC)",
        'nginx': command_output(['nginx', '-v']).replace('nginx version: ', ''),
        'nchan': command_output(['dpkg-query', '-W', '-f=${Version}', 'libnginx-mod-nchan']),
        'node': command_output(['node', '--version']),
        'ws': ws,
        'boost': '1.81',
        'redis': command_output(['redis-server', '--version']).split(' sha=')[0].replace('Redis server v=', ''),
    }


# ---------------------------------------------------------------------------------------------------------------
# Report

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def pick(results, server, transport, scenario, **match):
    rows = [r for r in results if r['server'] == server and r['transport'] == transport
            and r['scenario'] == scenario and all(r.get(k) == v for k, v in match.items())
            and 'error' not in r['result']]
    return [r['result'] for r in rows]


def get(res, *path):
    for p in path:
        if not isinstance(res, dict) or p not in res:
            return None
        res = res[p]
    return res


def med(rows, *path):
    return median([get(r, *path) for r in rows])


def fanout_ms(res):
    """Server CPU per published message, in ms: the time one core needs to fan a message out to every
    subscriber. The last subscriber waits at least that long, so it is the floor under the fan-out's p99."""
    cpu, n = get(res, 'server_cpu', 'seconds'), get(res, 'publish', 'published')
    return None if cpu is None or not n else 1000 * cpu / n


def fmt(v, digits=0, unit=''):
    if v is None:
        return 'n/a'
    if isinstance(v, float) and digits == 0 and abs(v) >= 1000:
        return f'{v:,.0f}{unit}'
    return f'{v:,.{digits}f}{unit}'


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return 'n/a'
    return f'{a / b:.{digits}f}x'


SERIES = [('switchboard', t) for t in ['ws', 'sse', 'poll']] + [('nchan', t) for t in ['ws', 'sse', 'poll']] + \
    [('node-ws', 'ws')]
COLORS = {'switchboard': '#2b6cb0', 'nchan': '#c05621', 'node-ws': '#2f855a'}


def svg_bars(title, rows, unit, log_scale=False, value_fmt=lambda v: f'{v:,.0f}'):
    """Horizontal bars. rows: [(label, [(series_label, value, color)])]; one group per row."""
    import math
    bar_h, gap, left, width = 16, 10, 170, 460
    n_bars = sum(len(r[1]) for r in rows)
    height = 50 + n_bars * bar_h + len(rows) * gap + 30
    values = [v for _, bars in rows for _, v, _ in bars if v]
    vmax = max(values) if values else 1
    vmin = min(values) if values else 1

    def scale(v):
        if not v or v <= 0:
            return 0
        if log_scale:
            lo = math.log10(max(vmin / 2, 1e-9))
            return width * (math.log10(v) - lo) / (math.log10(vmax) - lo + 1e-9)
        return width * v / vmax

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 130}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{title}</text>',
           f'<text x="10" y="38" fill="#555">{unit}{" (log scale)" if log_scale else ""}</text>']
    y = 50
    for label, bars in rows:
        out.append(f'<text x="10" y="{y + bar_h * len(bars) / 2 + 4:.0f}">{label}</text>')
        for series_label, v, color in bars:
            w = scale(v)
            out.append(f'<rect x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h - 3}" fill="{color}"/>')
            text = 'n/a' if v is None else value_fmt(v)
            out.append(f'<text x="{left + max(w, 1) + 4:.1f}" y="{y + bar_h - 5}" fill="#222">'
                       f'{series_label} {text}</text>')
            y += bar_h
        y += gap
    out.append('</svg>')
    return '\n'.join(out)


def redis_hop_section(doc, img_dir):
    """Scenario 6's part of the page (and its plot): the same fan-out without Redis, with it, and across two nodes."""
    p = doc['plan'].get('redis_hop')
    if p is None:
        return []  # results from before the Redis hop existed
    L = ['## The Redis hop (scenario 6)\n']
    if doc.get('redis_skipped'):
        return L + [f'Not measured in this run: {doc["redis_skipped"]}.\n']
    results = [r for r in doc['results'] if r['scenario'] == 'redis_hop']
    sat = p['saturation']

    def rows_of(setup, transport, kind):
        return [r['result'] for r in results if r['setup'] == setup and r['transport'] == transport
                and r['kind'] == kind and 'error' not in r['result']]

    loads = [x for r in results for x in (r['result'].get('loadavg') or []) if x is not None]
    load_text = (f'1-minute load average during this section: min {min(loads):.1f}, median '
                 f'{statistics.median(loads):.1f}, max {max(loads):.1f}.' if loads else '')
    runs = 'one run each (--quick)' if p['runs'] == 1 else f'medians of {p["runs"]} runs'
    L.append(
        f'The cost of sharing topics through Redis: the same {p["subscribers"]:,} subscribers x {p["rate"]} msg/s '
        f'fan-out ({p["duration"]} s of publishing, {runs}) on three setups, interleaved per transport so the ratios '
        f'compare neighbours in time. {load_text}\n')
    L.append(
        f'- `memory`: one switchboard node, no `--redis` (the in-memory backplane).\n'
        f'- `redis`: one node with `--redis`: a publish runs the Redis script (next offset, history append, '
        f'PUBLISH) and the node delivers what comes back on its Redis subscription.\n'
        f'- `redis-2-nodes`: the publisher POSTs to node A, the subscribers are on node B, both on the same Redis; '
        f'the server CPU shown is node B\'s (node A only takes the publishes).\n'
        f'- Redis {doc["versions"].get("redis", "")}: started by the bench on a free loopback port with its own '
        f'temp dir and **no persistence** (`--save "" --appendonly no`; a deployment with AOF `everysec` pays a '
        f'little more), pinned to core {LOADGEN_CORE} with the load generator so that core {SERVER_CORE} stays the '
        f'servers\'. Every switchboard node runs on core {SERVER_CORE}. `redis CPU` is redis-server\'s share of '
        f'one core over the whole load generator run (connect, publish, drain).\n')

    L.append(f'### Fan-out, {p["subscribers"]:,} x {p["rate"]}/s\n')
    L.append('| transport | setup | published msg/s | deliveries/s | p50 | p90 | p99 | max (ms) | lost | server CPU | '
             'loadgen CPU | redis CPU |')
    L.append('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    figures = {}
    behind = set()  # a fixed-rate run whose publisher could not keep the rate measured another load
    for t in ['ws', 'sse', 'poll']:
        for setup in REDIS_SETUPS:
            rs = rows_of(setup, t, 'fanout')
            f = figures[(t, setup)] = {k: med(rs, 'latency_ms', k) for k in ['p50', 'p90', 'p99', 'max']}
            rate = med(rs, 'publish', 'messages_per_second')
            if rate is not None and rate < 0.95 * p['rate']:
                behind.add((t, setup))
            L.append(f'| {t} | {setup} | {fmt(rate, 1)}{" (behind)" if (t, setup) in behind else ""} | '
                     f'{fmt(med(rs, "deliveries_per_second"))} | {fmt(f["p50"], 2)} | '
                     f'{fmt(f["p90"], 2)} | {fmt(f["p99"], 2)} | {fmt(f["max"], 1)} | {fmt(med(rs, "lost"))} | '
                     f'{fmt(med(rs, "server_cpu", "utilization"), 2)} | '
                     f'{fmt(med(rs, "loadgen_cpu", "utilization"), 2)} | {fmt(med(rs, "redis_cpu", "utilization"), 2)} |')
    L.append('')
    if behind:
        L.append(f'**(behind)**: the publisher (4 connections, one POST in flight on each) could not keep '
                 f'{p["rate"]} msg/s because the node answered its POSTs late; what was still due when publishing '
                 'stopped was never sent. That run measured a lighter load than its neighbours, so its ratios below '
                 'are marked as not comparable.\n')
    L.append('### What the hop adds (with Redis / without, same run)\n')
    L.append('| transport | setup | p50 | p99 | max | p50 added | p99 added |')
    L.append('|---|---|---:|---:|---:|---:|---:|')

    def added(a, b):
        return 'n/a' if a is None or b is None else f'{a - b:+,.2f} ms'
    for t in ['ws', 'sse', 'poll']:
        base = figures[(t, 'memory')]
        for setup in ['redis', 'redis-2-nodes']:
            f = figures[(t, setup)]
            if (t, 'memory') in behind or (t, setup) in behind:
                L.append(f'| {t} | {setup} | not comparable (publisher behind) | | | | |')
                continue
            L.append(f'| {t} | {setup} | {ratio(f["p50"], base["p50"])} | {ratio(f["p99"], base["p99"])} | '
                     f'{ratio(f["max"], base["max"])} | {added(f["p50"], base["p50"])} | '
                     f'{added(f["p99"], base["p99"])} |')
    L.append('')
    L.append(f'![redis hop](benchmarks/redis_hop.svg)\n')

    L.append(f'### Saturation with Redis, WebSocket, {p["subscribers"]:,} subscribers, window {sat["window"]}\n')
    L.append('| setup | deliveries/s | against memory | publishes/s | p50 | p99 | max (ms) | lost | server CPU | '
             'loadgen CPU | redis CPU |')
    L.append('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    base_dps = med(rows_of('memory', 'ws', 'saturation'), 'deliveries_per_second')
    for setup in REDIS_SETUPS:
        rs = rows_of(setup, 'ws', 'saturation')
        dps = med(rs, 'deliveries_per_second')
        L.append(f'| {setup} | {fmt(dps)} | {ratio(dps, base_dps)} | {fmt(med(rs, "publish", "messages_per_second"))} | '
                 f'{fmt(med(rs, "latency_ms", "p50"), 2)} | {fmt(med(rs, "latency_ms", "p99"), 2)} | '
                 f'{fmt(med(rs, "latency_ms", "max"), 1)} | {fmt(med(rs, "lost"))} | '
                 f'{fmt(med(rs, "server_cpu", "utilization"), 2)} | {fmt(med(rs, "loadgen_cpu", "utilization"), 2)} | '
                 f'{fmt(med(rs, "redis_cpu", "utilization"), 2)} |')
    L.append('')
    L.append('At saturation the load generator and redis-server share core 1: a loadgen CPU near 1.0 there means the '
             'figure is a floor for switchboard with Redis, not its ceiling.\n')

    shades = {'memory': '#90cdf4', 'redis': '#4299e1', 'redis-2-nodes': '#2a4365'}
    bars = [(f'{t} {setup}', [(k, figures[(t, setup)][k], c) for k, c in
                              [('p50', '#9ae6b4'), ('p99', shades[setup])]])
            for t in ['ws', 'sse', 'poll'] for setup in REDIS_SETUPS]
    with open(os.path.join(img_dir, 'redis_hop.svg'), 'w') as f:
        f.write(svg_bars(f'The Redis hop: delivery latency, {p["subscribers"]:,} subscribers x {p["rate"]} msg/s',
                         bars, 'milliseconds (lower is better)', log_scale=True, value_fmt=lambda v: f'{v:,.2f} ms'))
    return L


def write_report(doc, docs_dir):
    results = doc['results']
    quick = doc['quick']
    plan_ = doc['plan']
    img_dir = os.path.join(docs_dir, 'benchmarks')
    os.makedirs(img_dir, exist_ok=True)
    fan = plan_['fanout'][0]
    sat = plan_['saturation'][0]

    # Headline figures per series.
    rows = {}
    for s, t in SERIES:
        f = pick(results, s, t, 'fanout', subscribers=fan['subscribers'], rate=fan['rate'])
        sa = pick(results, s, t, 'saturation')
        idle = {p['subscribers']: pick(results, s, t, 'idle', subscribers=p['subscribers']) for p in plan_['idle']}
        rows[(s, t)] = dict(
            fan=f, sat=sa, idle=idle,
            sat_dps=med(sa, 'deliveries_per_second'), sat_p50=med(sa, 'latency_ms', 'p50'),
            sat_p99=med(sa, 'latency_ms', 'p99'), sat_lost=med(sa, 'lost'),
            sat_lg=med(sa, 'loadgen_cpu', 'utilization'), sat_srv=med(sa, 'server_cpu', 'utilization'),
            p50=med(f, 'latency_ms', 'p50'), p90=med(f, 'latency_ms', 'p90'), p99=med(f, 'latency_ms', 'p99'),
            max=med(f, 'latency_ms', 'max'), lost=med(f, 'lost'),
            wire_down=med(f, 'wire_bytes', 'server_to_subscriber_per_delivery'),
            wire_up=med(f, 'wire_bytes', 'subscriber_to_server_per_delivery'),
            wire_pub=med(f, 'wire_bytes', 'publisher_per_delivery'),
            fan_srv=med(f, 'server_cpu', 'utilization'), fan_lg=med(f, 'loadgen_cpu', 'utilization'),
            fan_ms=median([fanout_ms(r) for r in f]),
        )
        big = max(plan_['idle'], key=lambda p: p['subscribers'])['subscribers']
        for n, rs in idle.items():
            rows[(s, t)][f'rss_{n}'] = med(rs, 'server_rss', 'per_connection')
            rows[(s, t)][f'storm_{n}'] = med(rs, 'connect', 'per_second')
            rows[(s, t)][f'held_{n}'] = med(rs, 'subscribed')
        rows[(s, t)]['rss'] = rows[(s, t)].get(f'rss_{big}')
        rows[(s, t)]['storm'] = rows[(s, t)].get(f'storm_{big}')
    big = max(plan_['idle'], key=lambda p: p['subscribers'])['subscribers']

    def label(s, t):
        return f'{s} {t}'

    # Plots.
    def grouped(metric):
        return [(t, [(s, rows[(s, t)][metric], COLORS[s]) for s in ['switchboard', 'nchan', 'node-ws']
                     if (s, t) in rows])
                for t in ['ws', 'sse', 'poll']]
    with open(os.path.join(img_dir, 'saturation.svg'), 'w') as f:
        f.write(svg_bars(f'Saturation: deliveries/s, {sat["subscribers"]:,} subscribers, window {sat["window"]}',
                         grouped('sat_dps'), 'deliveries per second (higher is better)'))
    lat_rows = [(label(s, t), [(p, rows[(s, t)][p], c) for p, c in
                               [('p50', '#90cdf4'), ('p90', '#4299e1'), ('p99', '#2a4365')]])
                for s, t in SERIES]
    with open(os.path.join(img_dir, 'latency.svg'), 'w') as f:
        f.write(svg_bars(f'Delivery latency, {fan["subscribers"]:,} subscribers x {fan["rate"]} msg/s', lat_rows,
                         'milliseconds (lower is better)', log_scale=True, value_fmt=lambda v: f'{v:,.2f} ms'))
    with open(os.path.join(img_dir, 'memory.svg'), 'w') as f:
        f.write(svg_bars(f'Server memory per idle connection ({big:,} subscribers)', grouped('rss'),
                         'bytes of server RSS per connection (lower is better)'))
    with open(os.path.join(img_dir, 'wire.svg'), 'w') as f:
        f.write(svg_bars('Bytes on the wire per delivered message (server to subscriber + subscriber to server)',
                         [(t, [(s, (rows[(s, t)]['wire_down'] or 0) + (rows[(s, t)]['wire_up'] or 0), COLORS[s])
                               for s in ['switchboard', 'nchan', 'node-ws'] if (s, t) in rows])
                          for t in ['ws', 'sse', 'poll']],
                         'bytes (application bytes at the client sockets; lower is better)'))

    m = doc['machine']
    v = doc['versions']
    runs_note = 'one run each (--quick)' if quick else 'medians of 3 runs for the 1k x 100/s fan-out and saturation, one run for the others'
    L = []
    L.append('# Benchmarks\n')
    L.append('switchboard against Nchan and a Node `ws` broadcast server, with the same load generator, the same '
             'payloads, and each server pinned to the same core. Generated by `bench/run'
             + (' --quick' if quick else '') + '`; rerun it to check the figures on your machine.\n')
    L.append('## Machine and versions\n')
    L.append(f'- {m["nproc"]} cores, {m["cpu"]}, Linux {m["kernel"]}; run {doc["date"]}, suite took '
             f'{doc["seconds"]:.0f} s ({runs_note}).')
    L.append(f'- switchboard {v["switchboard"]}; Nchan {v["nchan"]} on nginx {v["nginx"]} (worker_processes 1); '
             f'Node {v["node"]} with ws {v["ws"]}; Boost {v["boost"]}.\n')
    loads = [x for r in results for x in (r['result'].get('loadavg') or []) if x is not None]
    if loads:
        lo, mid, hi = min(loads), statistics.median(loads), max(loads)
        L.append(f'1-minute load average around the runs: min {lo:.1f}, median {mid:.1f}, max {hi:.1f} '
                 f'(2 cores: the server and the load generator use one each; more than ~2.5 means other work shared '
                 f'the cores).\n')
        if hi > 2.5:
            L.append(f'> **Warning: this machine was shared while the suite ran** (load average up to {hi:.1f} on '
                     f'{m["nproc"]} cores): other processes took CPU from the pinned server and load generator, so '
                     'absolute figures and latencies are pessimistic and noisy. Rerun on an idle machine before '
                     'quoting them; ratios from the same run are less affected.\n')
    L.append('## Method\n')
    L.append(
        '- Servers run with `taskset -c 0`, the load generator (`bench/loadgen`, one thread) with `taskset -c 1`, '
        'on loopback. Subscribers all join one topic; a publisher POSTs 100-byte JSON payloads '
        '(`{"seq":N,"ts":T,"pad":"..."}`) over HTTP to every server (4 keep-alive connections at a fixed rate, 16 '
        'closed-loop). The payload carries the publisher\'s `steady_clock` time; latency is measured when a '
        'subscriber reads it (same machine, same clock).\n'
        '- The load generator has its own client code (HTTP/1.1, WebSocket upgrade and frame reader, SSE reader, '
        'long-poll loop); it shares nothing with switchboard\'s transports. Its own CPU use is reported with every '
        'run; so is the server\'s (`/proc/PID/stat`).\n'
        '- **Loss**: each subscriber records the seqs it got (a bitset); loss is every acknowledged publish a ready '
        'subscriber did not get within the 5 s drain after publishing stops. Duplicates are counted apart.\n'
        '- **Fan-out**: N subscribers, a fixed publish rate for the run time. **Saturation**: closed loop, the '
        f'publisher keeps at most {sat["window"]} messages\' worth of deliveries outstanding '
        f'({sat["window"]} x {sat["subscribers"]:,}); deliveries/s and the latency at that load. '
        '**Idle memory**: server VmRSS (`/proc/PID/status`; nginx: its worker) before and after N idle '
        'subscribers, on a fresh server, divided by N. **Connect storm**: the same run, subscribers set up 1,000 at '
        'a time; connections per second until all are subscribed (WebSocket: upgrade and, for switchboard, the '
        'subscribe ack; SSE: the response head, and switchboard\'s `subscribed` event; long polling: connected and '
        'request sent). **Wire cost**: application bytes read and written at the subscribers\' sockets during the '
        'fan-out run, per delivery (TCP/IP headers not included).\n'
        '- Past 9,000 subscribers the load generator binds round-robin to 127.0.0.1..127.0.0.K (switchboard allows '
        '10,000 connections per address by default).\n')

    L.append('## Headline: switchboard against its peers\n')
    L.append(f'| server / transport | saturation deliveries/s | latency at saturation p50 / p99 | '
             f'{fan["subscribers"]:,} x {fan["rate"]}/s p50 / p99 / max | loss | idle B/conn ({big:,}) | '
             f'connects/s ({big:,}) | wire B/delivery (down + up) |')
    L.append('|---|---:|---:|---:|---:|---:|---:|---:|')
    for s, t in SERIES:
        r = rows[(s, t)]
        L.append(f'| {s} {t} | {fmt(r["sat_dps"])} | {fmt(r["sat_p50"], 1)} / {fmt(r["sat_p99"], 1)} ms | '
                 f'{fmt(r["p50"], 2)} / {fmt(r["p99"], 2)} / {fmt(r["max"], 1)} ms | {fmt(r["lost"])} | '
                 f'{fmt(r["rss"])} | {fmt(r["storm"])} | {fmt(r["wire_down"])} + {fmt(r["wire_up"])} |')
    L.append('')
    L.append('![saturation](benchmarks/saturation.svg)\n')
    L.append('![latency](benchmarks/latency.svg)\n')
    L.append('![memory](benchmarks/memory.svg)\n')
    L.append('![wire](benchmarks/wire.svg)\n')

    L.append('## Ratios (switchboard / peer, same run)\n')
    L.append('Throughput: higher is better for switchboard; latency and memory: lower is better.\n')
    L.append('| transport | peer | saturation deliveries/s | p99 at fan-out | idle memory per connection | connects/s |')
    L.append('|---|---|---:|---:|---:|---:|')
    for t in ['ws', 'sse', 'poll']:
        sb = rows[('switchboard', t)]
        for peer in ['nchan', 'node-ws']:
            if (peer, t) not in rows:
                continue
            p = rows[(peer, t)]
            L.append(f'| {t} | {peer} | {ratio(sb["sat_dps"], p["sat_dps"])} | {ratio(sb["p99"], p["p99"])} | '
                     f'{ratio(sb["rss"], p["rss"])} | {ratio(sb["storm"], p["storm"])} |')
    L.append('')

    # Targets of issue 7.
    n_ws_p99 = rows[('nchan', 'ws')]['p99']
    L.append('## Against the targets\n')
    L.append('| target | measured | met? |')
    L.append('|---|---|---|')

    def target(text, measured, ok):
        L.append(f'| {text} | {measured} | {"yes" if ok else "**no**" if ok is False else "n/a"} |')

    def ge(a, b, k):
        return None if a is None or b is None else a >= k * b

    for t, k in [('ws', 13), ('sse', 10), ('poll', 10)]:
        sb, p = rows[('switchboard', t)]['sat_dps'], rows[('nchan', t)]['sat_dps']
        target(f'saturation {t} >= {k}x Nchan {t}', ratio(sb, p, 1), ge(sb, p, k))
    sb, p = rows[('switchboard', 'ws')]['sat_dps'], rows[('node-ws', 'ws')]['sat_dps']
    target('saturation ws >= 15x Node ws', ratio(sb, p, 1), ge(sb, p, 15))
    for t in ['ws', 'sse', 'poll']:
        v_ = rows[('switchboard', t)]['p99']
        target(f'p99 {t} at {fan["subscribers"]:,} x {fan["rate"]}/s <= 1/3 of Nchan ws p99 ({fmt(n_ws_p99, 1)} ms)',
               f'{fmt(v_, 2)} ms (fan-out floor {fmt(rows[("switchboard", t)]["fan_ms"], 2)} ms; Nchan ws '
               f'{fmt(rows[("nchan", "ws")]["fan_ms"], 2)} ms)',
               None if v_ is None or n_ws_p99 is None else v_ <= n_ws_p99 / 3)
    for t, lim in [('ws', 3584), ('sse', 1024), ('poll', 1024)]:
        v_ = rows[('switchboard', t)]['rss']
        target(f'idle memory {t} <= {lim:,} B per connection ({big:,} connections)', f'{fmt(v_)} B',
               None if v_ is None else v_ <= lim)
    held = rows[('switchboard', 'poll')].get('held_19000')
    if held is not None:
        target('19,000 long-poll clients held', f'{fmt(held)} subscribed', held >= 19000)
    else:
        target('19,000 long-poll clients held and served with 0 loss', 'not run in --quick', None)
    L.append('')

    # Full fan-out matrix.
    L.append('## Fan-out at a fixed rate\n')
    L.append('`fan-out ms` is the server\'s CPU time per published message (server CPU seconds / messages): one '
             'core needs that long to write a message to every subscriber, so the last one waits at least that '
             'long, whatever the server: the floor under p99. For long polling it also counts taking each '
             'client\'s next poll, which comes after the answers, so there it is above the floor.\n')
    L.append('| server / transport | subscribers x msg/s | deliveries/s | p50 | p90 | p99 | max (ms) | lost | '
             'server CPU | fan-out ms | loadgen CPU |')
    L.append('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for p_ in plan_['fanout']:
        for s, t in SERIES:
            rs = pick(results, s, t, 'fanout', subscribers=p_['subscribers'], rate=p_['rate'])
            if not rs:
                continue
            if not med(rs, 'deliveries_per_second') and any(get(r, 'errors') for r in rs):
                # The server could not hold the subscribers (see the errors below): no figure to show.
                L.append(f'| {s} {t} | {p_["subscribers"]:,} x {p_["rate"]} | failed: '
                         f'{fmt(med(rs, "subscribed"))} subscribed, see the errors below | | | | | | | | |')
                continue
            L.append(f'| {s} {t} | {p_["subscribers"]:,} x {p_["rate"]} | {fmt(med(rs, "deliveries_per_second"))} | '
                     f'{fmt(med(rs, "latency_ms", "p50"), 2)} | {fmt(med(rs, "latency_ms", "p90"), 2)} | '
                     f'{fmt(med(rs, "latency_ms", "p99"), 2)} | {fmt(med(rs, "latency_ms", "max"), 1)} | '
                     f'{fmt(med(rs, "lost"))} | {fmt(med(rs, "server_cpu", "utilization"), 2)} | '
                     f'{fmt(median([fanout_ms(r) for r in rs]), 2)} | '
                     f'{fmt(med(rs, "loadgen_cpu", "utilization"), 2)} |')
    L.append('')
    L.append('## Saturation\n')
    L.append('| server / transport | deliveries/s | publishes/s | p50 | p99 | max (ms) | lost | server CPU | '
             'loadgen CPU |')
    L.append('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for s, t in SERIES:
        rs = rows[(s, t)]['sat']
        L.append(f'| {s} {t} | {fmt(med(rs, "deliveries_per_second"))} | '
                 f'{fmt(med(rs, "publish", "messages_per_second"))} | {fmt(med(rs, "latency_ms", "p50"), 2)} | '
                 f'{fmt(med(rs, "latency_ms", "p99"), 2)} | {fmt(med(rs, "latency_ms", "max"), 1)} | '
                 f'{fmt(med(rs, "lost"))} | {fmt(med(rs, "server_cpu", "utilization"), 2)} | '
                 f'{fmt(med(rs, "loadgen_cpu", "utilization"), 2)} |')
    L.append('')
    L.append('## Idle connections and connect storm\n')
    L.append('| server / transport | idle subscribers | held | server RSS per connection (B) | connects/s |')
    L.append('|---|---:|---:|---:|---:|')
    for p_ in plan_['idle']:
        n = p_['subscribers']
        for s, t in SERIES:
            r = rows[(s, t)]
            L.append(f'| {s} {t} | {n:,} | {fmt(r.get(f"held_{n}"))} | {fmt(r.get(f"rss_{n}"))} | '
                     f'{fmt(r.get(f"storm_{n}"))} |')
    L.append('')
    L.append('## Wire cost\n')
    L.append(f'Application bytes per delivered message in the {fan["subscribers"]:,} x {fan["rate"]}/s fan-out '
             '(the publisher\'s bytes are shared by all deliveries of a message). The payload is 100 bytes.\n')
    L.append('| server / transport | server to subscriber | subscriber to server | publisher (per delivery) |')
    L.append('|---|---:|---:|---:|')
    for s, t in SERIES:
        r = rows[(s, t)]
        L.append(f'| {s} {t} | {fmt(r["wire_down"], 1)} | {fmt(r["wire_up"], 1)} | {fmt(r["wire_pub"], 2)} |')
    L.append('')
    L += redis_hop_section(doc, img_dir)
    errors = [(r['server'], r['transport'], r['scenario'] + (f' {r["setup"]} {r["kind"]}' if 'setup' in r else ''),
               r['result'].get('error') or '; '.join(r['result'].get('errors', [])[:2]))
              for r in results if 'error' in r['result'] or r['result'].get('errors')]
    if errors:
        L.append('## Errors seen by the load generator\n')
        for s, t, sc, e in errors:
            L.append(f'- {s} {t} {sc}: {e[:300]}')
        L.append('')
    notes_path = os.path.join(BENCH, 'NOTES.md')
    if os.path.exists(notes_path):
        with open(notes_path) as f:
            L.append(f.read())
    with open(os.path.join(docs_dir, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(L) + '\n')
    log('wrote', os.path.join(docs_dir, 'benchmarks.md'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build-bench'))
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--out', default=None)
    ap.add_argument('--report', default=None, help='re-render docs from a results.json')
    ap.add_argument('--docs', default=os.path.join(ROOT, 'docs'))
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            doc = json.load(f)
    else:
        out = a.out or os.path.join(a.build, 'bench-results', time.strftime('%Y%m%d-%H%M%S'))
        doc = run_suite(a.build, a.quick, out)
    write_report(doc, a.docs)


if __name__ == '__main__':
    main()
