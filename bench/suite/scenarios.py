"""The scenarios measured (fan-out at a fixed rate, saturation, idle memory and connect storm, the broker hop) on
every server and transport, each one run of the load generator; run_suite writes their results.json."""

import datetime
import json
import os
import subprocess
import time

from suite import log
from suite.environment import machine, versions
from suite.processes import LOADGEN_CORE, nats_server, redis_server, server
from suite.variants import run_variants

TRANSPORTS = {'switchboard': ['ws', 'sse', 'poll'], 'nchan': ['ws', 'sse', 'poll'], 'node-ws': ['ws']}
DIALECT = {'switchboard': 'switchboard', 'nchan': 'nchan', 'node-ws': 'plain'}


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


def loadgen_command(build, srv, transport, args, timeout):
    # srv: the server the subscribers connect to (and whose RSS / CPU is reported).
    return ['taskset', '-c', LOADGEN_CORE, os.path.join(build, 'bench/switchboard-loadgen'),
            '--dialect', DIALECT[srv.name], '--transport', transport, '--port', str(srv.port),
            '--server-pid', str(srv.measured_pid()), '--timeout', str(timeout)] + [str(a) for a in args]


def loadgen_result(stdout, stderr):
    """The load generator's result: its last line of output, JSON."""
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {'error': 'no result', 'stderr': stderr[-500:]}


def run_loadgen(build, srv, transport, args, timeout):
    try:
        out = subprocess.run(loadgen_command(build, srv, transport, args, timeout), capture_output=True, text=True,
                             timeout=timeout + 15)
    except subprocess.TimeoutExpired:
        return {'error': 'loadgen timed out'}
    return loadgen_result(out.stdout, out.stderr)


def plan(quick):
    """(name, parameters, repetitions) per scenario; a fresh server for the idle / storm ones."""
    if quick:
        return {
            'fanout': [dict(subscribers=1000, rate=100, duration=3, runs=1)],
            'saturation': [dict(subscribers=1000, window=64, publishers=16, duration=3, runs=1)],
            'saturation_pipelined': [dict(subscribers=1000, window=64, pipeline=64, duration=3, runs=1)],
            'idle': [dict(subscribers=2000, runs=1)],
            'broker_hop': dict(subscribers=1000, rate=100, duration=3, runs=1,
                              saturation=dict(window=64, publishers=16, duration=3, runs=1),
                              saturation_pipelined=dict(window=64, pipeline=64, duration=3, runs=1)),
            'variants': dict(subscribers=1000, rate=100, window=64, publishers=16, pipeline=64, duration=3, runs=1),
        }
    return {
        'fanout': [dict(subscribers=1000, rate=100, duration=5, runs=3),
                   dict(subscribers=1000, rate=10, duration=5, runs=1),
                   dict(subscribers=10000, rate=10, duration=5, runs=1),
                   dict(subscribers=19000, rate=5, duration=5, runs=1)],
        'saturation': [dict(subscribers=1000, window=64, publishers=16, duration=5, runs=3)],
        'saturation_pipelined': [dict(subscribers=1000, window=64, pipeline=64, duration=5, runs=3)],
        'idle': [dict(subscribers=10000, runs=1), dict(subscribers=19000, runs=1)],
        'broker_hop': dict(subscribers=1000, rate=100, duration=5, runs=3,
                          saturation=dict(window=64, publishers=16, duration=5, runs=3),
                          saturation_pipelined=dict(window=64, pipeline=64, duration=5, runs=3)),
        'variants': dict(subscribers=1000, rate=100, window=64, publishers=16, pipeline=64, duration=5, runs=2),
    }


# The broker hop's setups: setup -> (its broker (None: the in-memory backplane), the node the subscribers use,
# the node the publisher uses (None: the same one)). A broker's nodes are named after it.
BROKERS = {'redis': redis_server, 'nats': nats_server}
BROKER_SETUPS = {'memory': (None, 'memory', None)}
for _b in BROKERS:
    BROKER_SETUPS[_b] = (_b, _b, None)
    BROKER_SETUPS[f'{_b}-2-nodes'] = (_b, f'{_b}-node-b', f'{_b}-node-a')


def run_broker_hop(build, p, results):
    """Scenario 6: the same fan-out on one node without a broker, on one node with Redis and with NATS, and on two
    nodes sharing each (publisher on node A, subscribers on node B), interleaved in the same run so the ratios
    compare neighbours. Returns {broker: why it was skipped} for the brokers not found."""
    skipped = {name: f'{kind.program} not found (bench/run installs it)' for name, kind in BROKERS.items()
               if not kind.available()}
    for name, why in skipped.items():
        log(f'{name} hop skipped: {why}')
    brokers = {name: kind() for name, kind in BROKERS.items() if name not in skipped}
    setups = [s for s, (b, _, _) in BROKER_SETUPS.items() if b is None or b in brokers]
    nodes = {}
    try:
        nodes['memory'] = server('switchboard', build, label='switchboard-memory')
        for name, b in brokers.items():
            b.start()
            for node in [name, f'{name}-node-a', f'{name}-node-b']:
                nodes[node] = server('switchboard', build, b.switchboard_args(), label=f'switchboard-{node}')
        for n in nodes.values():
            n.start()

        def one(setup, transport, kind, args, timeout, run):
            b, sub, pub = BROKER_SETUPS[setup]
            extra = ['--pub-port', nodes[pub].port] if pub else []
            cpu0, t0 = brokers[b].cpu_seconds() if b else None, time.time()
            res = loadgen(build, nodes[sub], transport, args + extra, timeout)
            cpu1, t1 = brokers[b].cpu_seconds() if b else None, time.time()
            if cpu0 is not None and cpu1 is not None and t1 > t0:
                res['broker_cpu'] = dict(seconds=cpu1 - cpu0, utilization=(cpu1 - cpu0) / (t1 - t0))
            results.append(dict(server='switchboard', transport=transport, scenario='broker_hop', setup=setup,
                                kind=kind, subscribers=p['subscribers'], run=run, result=res))
            log('broker hop', setup, transport, kind, summary(res))

        for r in range(p['runs']):
            for transport in ['ws', 'sse', 'poll']:
                for setup in setups:
                    one(setup, transport, 'fanout',
                        ['--subscribers', p['subscribers'], '--rate', p['rate'], '--duration', p['duration'],
                         '--drain', 5, '--settle', 0.5], p['duration'] + 80, r)
        sat = p['saturation']
        for r in range(sat['runs']):
            for setup in setups:
                one(setup, 'ws', 'saturation',
                    ['--subscribers', p['subscribers'], '--window', sat['window'], '--publishers', sat['publishers'],
                     '--duration', sat['duration'], '--drain', 5, '--settle', 0.5], sat['duration'] + 60, r)
        # A backend publishing over one keep-alive connection: through a broker each publish is answered later,
        # and the requests pipelined behind it must not wait for that answer to run.
        piped = p.get('saturation_pipelined')
        for r in range(piped['runs'] if piped else 0):
            for setup in setups:
                one(setup, 'ws', 'saturation_pipelined',
                    ['--subscribers', p['subscribers'], '--window', piped['window'], '--publishers', 1,
                     '--pipeline', piped['pipeline'], '--duration', piped['duration'], '--drain', 5, '--settle', 0.5],
                    piped['duration'] + 60, r)
    finally:
        for n in nodes.values():
            n.stop()
        for b in brokers.values():
            b.stop()
    return skipped


def run_suite(build, quick, out_dir, only=None):
    """Every scenario, or with only='variants' scenario 7 alone."""
    scenarios = plan(quick)
    results = []
    started = time.time()
    if only == 'variants':
        scenarios = {'variants': scenarios['variants']}
        run_variants(build, scenarios['variants'], results, loadgen)
        return finish(scenarios, results, started, {}, quick, build, out_dir)
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
                # The same load from one HTTP connection pipelining its publishes, as a backend on one keep-alive
                # connection sends them: what the server handles per loop turn decides how its fan-out batches.
                for p in scenarios.get('saturation_pipelined', []):
                    for r in range(p['runs']):
                        res = loadgen(build, srv, transport,
                                      ['--subscribers', p['subscribers'], '--window', p['window'],
                                       '--publishers', 1, '--pipeline', p['pipeline'],
                                       '--duration', p['duration'], '--drain', 5, '--settle', 0.5],
                                      timeout=p['duration'] + 60)
                        results.append(dict(server=name, transport=transport, scenario='saturation_pipelined',
                                            subscribers=p['subscribers'], window=p['window'], run=r, result=res))
                        log(name, transport, 'saturation, one pipelined publisher', summary(res))
            finally:
                srv.stop()
    broker_skipped = run_broker_hop(build, scenarios['broker_hop'], results)
    run_variants(build, scenarios['variants'], results, loadgen)
    return finish(scenarios, results, started, broker_skipped, quick, build, out_dir)


def finish(scenarios, results, started, broker_skipped, quick, build, out_dir):
    elapsed = time.time() - started
    doc = dict(machine=machine(), versions=versions(build), quick=quick, plan=scenarios,
               date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
               seconds=elapsed, results=results, broker_skipped=broker_skipped)
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
