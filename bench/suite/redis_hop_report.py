"""Scenario 6's part of the page (and its plot): the same fan-out without Redis, with it, and across two nodes."""

import os
import statistics

from suite.figures import fmt, med, ratio
from suite.processes import LOADGEN_CORE, SERVER_CORE
from suite.scenarios import REDIS_SETUPS
from suite.svg import svg_bars


def redis_hop_section(doc, img_dir):
    p = doc['plan'].get('redis_hop')
    if p is None:
        return []  # results from before the Redis hop existed
    L = ['## The Redis hop (scenario 6)\n']
    if doc.get('redis_skipped'):
        return L + [f'Not measured in this run: {doc["redis_skipped"]}.\n']
    results = [r for r in doc['results'] if r['scenario'] == 'redis_hop']
    fanout_lines, figures, behind = fanout_table(results, p)
    write_plot(figures, p, img_dir)
    return (L + setups_text(results, p, doc['versions']) + fanout_lines + behind_note(behind, p)
            + added_table(figures, behind) + saturation_table(results, p))


def rows_of(results, setup, transport, kind):
    return [r['result'] for r in results if r['setup'] == setup and r['transport'] == transport
            and r['kind'] == kind and 'error' not in r['result']]


def setups_text(results, p, versions):
    loads = [x for r in results for x in (r['result'].get('loadavg') or []) if x is not None]
    load_text = (f'1-minute load average during this section: min {min(loads):.1f}, median '
                 f'{statistics.median(loads):.1f}, max {max(loads):.1f}.' if loads else '')
    runs = 'one run each (--quick)' if p['runs'] == 1 else f'medians of {p["runs"]} runs'
    return [
        f'The cost of sharing topics through Redis: the same {p["subscribers"]:,} subscribers x {p["rate"]} msg/s '
        f'fan-out ({p["duration"]} s of publishing, {runs}) on three setups, interleaved per transport so the ratios '
        f'compare neighbours in time. {load_text}\n',
        f'- `memory`: one switchboard node, no `--redis` (the in-memory backplane).\n'
        f'- `redis`: one node with `--redis`: a publish runs the Redis script (next offset, history append, '
        f'PUBLISH) and the node delivers what comes back on its Redis subscription.\n'
        f'- `redis-2-nodes`: the publisher POSTs to node A, the subscribers are on node B, both on the same Redis; '
        f'the server CPU shown is node B\'s (node A only takes the publishes).\n'
        f'- Redis {versions.get("redis", "")}: started by the bench on a free loopback port with its own '
        f'temp dir and **no persistence** (`--save "" --appendonly no`; a deployment with AOF `everysec` pays a '
        f'little more), pinned to core {LOADGEN_CORE} with the load generator so that core {SERVER_CORE} stays the '
        f'servers\'. Every switchboard node runs on core {SERVER_CORE}. `redis CPU` is redis-server\'s share of '
        f'one core over the whole load generator run (connect, publish, drain).\n']


def fanout_table(results, p):
    """The fan-out table's lines, its latency figures per (transport, setup), and the runs whose publisher fell
    behind: a fixed-rate run whose publisher could not keep the rate measured another load."""
    L = [f'### Fan-out, {p["subscribers"]:,} x {p["rate"]}/s\n',
         '| transport | setup | published msg/s | deliveries/s | p50 | p90 | p99 | max (ms) | lost | server CPU | '
         'loadgen CPU | redis CPU |',
         '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    figures = {}
    behind = set()
    for t in ['ws', 'sse', 'poll']:
        for setup in REDIS_SETUPS:
            rs = rows_of(results, setup, t, 'fanout')
            f = figures[(t, setup)] = {k: med(rs, 'latency_ms', k) for k in ['p50', 'p90', 'p99', 'max']}
            rate = med(rs, 'publish', 'messages_per_second')
            if rate is not None and rate < 0.95 * p['rate']:
                behind.add((t, setup))
            L.append(f'| {t} | {setup} | {fmt(rate, 1)}{" (behind)" if (t, setup) in behind else ""} | '
                     f'{fmt(med(rs, "deliveries_per_second"))} | {fmt(f["p50"], 2)} | '
                     f'{fmt(f["p90"], 2)} | {fmt(f["p99"], 2)} | {fmt(f["max"], 1)} | {fmt(med(rs, "lost"))} | '
                     f'{fmt(med(rs, "server_cpu", "utilization"), 2)} | '
                     f'{fmt(med(rs, "loadgen_cpu", "utilization"), 2)} | '
                     f'{fmt(med(rs, "redis_cpu", "utilization"), 2)} |')
    return L + [''], figures, behind


def behind_note(behind, p):
    if not behind:
        return []
    return [f'**(behind)**: the publisher (4 connections, one POST in flight on each) could not keep '
            f'{p["rate"]} msg/s because the node answered its POSTs late; what was still due when publishing '
            'stopped was never sent. That run measured a lighter load than its neighbours, so its ratios below '
            'are marked as not comparable.\n']


def added_table(figures, behind):
    L = ['### What the hop adds (with Redis / without, same run)\n',
         '| transport | setup | p50 | p99 | max | p50 added | p99 added |',
         '|---|---|---:|---:|---:|---:|---:|']

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
    return L + ['', '![redis hop](benchmarks/redis_hop.svg)\n']


def saturation_table(results, p):
    sat = p['saturation']
    L = [f'### Saturation with Redis, WebSocket, {p["subscribers"]:,} subscribers, window {sat["window"]}\n',
         '| setup | deliveries/s | against memory | publishes/s | p50 | p99 | max (ms) | lost | server CPU | '
         'loadgen CPU | redis CPU |',
         '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    base_dps = med(rows_of(results, 'memory', 'ws', 'saturation'), 'deliveries_per_second')
    for setup in REDIS_SETUPS:
        rs = rows_of(results, setup, 'ws', 'saturation')
        dps = med(rs, 'deliveries_per_second')
        L.append(f'| {setup} | {fmt(dps)} | {ratio(dps, base_dps)} | '
                 f'{fmt(med(rs, "publish", "messages_per_second"))} | '
                 f'{fmt(med(rs, "latency_ms", "p50"), 2)} | {fmt(med(rs, "latency_ms", "p99"), 2)} | '
                 f'{fmt(med(rs, "latency_ms", "max"), 1)} | {fmt(med(rs, "lost"))} | '
                 f'{fmt(med(rs, "server_cpu", "utilization"), 2)} | {fmt(med(rs, "loadgen_cpu", "utilization"), 2)} | '
                 f'{fmt(med(rs, "redis_cpu", "utilization"), 2)} |')
    return L + ['',
                'At saturation the load generator and redis-server share core 1: a loadgen CPU near 1.0 there means '
                'the figure is a floor for switchboard with Redis, not its ceiling.\n']


def write_plot(figures, p, img_dir):
    shades = {'memory': '#90cdf4', 'redis': '#4299e1', 'redis-2-nodes': '#2a4365'}
    bars = [(f'{t} {setup}', [(k, figures[(t, setup)][k], c) for k, c in
                              [('p50', '#9ae6b4'), ('p99', shades[setup])]])
            for t in ['ws', 'sse', 'poll'] for setup in REDIS_SETUPS]
    with open(os.path.join(img_dir, 'redis_hop.svg'), 'w') as f:
        f.write(svg_bars(f'The Redis hop: delivery latency, {p["subscribers"]:,} subscribers x {p["rate"]} msg/s',
                         bars, 'milliseconds (lower is better)', log_scale=True, value_fmt=lambda v: f'{v:,.2f} ms'))
