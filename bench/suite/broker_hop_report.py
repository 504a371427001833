"""Scenario 6's part of the page (and its plot): the same fan-out without a broker, through Redis and through NATS,
on one node and across two."""

import os
import statistics

from suite.figures import fmt, med, ratio
from suite.processes import LOADGEN_CORE, SERVER_CORE
from suite.scenarios import BROKER_SETUPS
from suite.svg import svg_bars


def broker_hop_section(doc, img_dir):
    p = doc['plan'].get('broker_hop')
    if p is None:
        return []  # results from before the broker hop existed
    L = ['## The broker hop (scenario 6)\n']
    results = [r for r in doc['results'] if r['scenario'] == 'broker_hop']
    setups = [s for s in BROKER_SETUPS if any(r['setup'] == s for r in results)]
    skipped = [f'{b}: {why}' for b, why in (doc.get('broker_skipped') or {}).items()]
    if skipped:
        L.append(f'Not measured in this run: {"; ".join(skipped)}.\n')
    fanout_lines, figures, behind = fanout_table(results, p, setups)
    write_plot(figures, p, img_dir, setups)
    return (L + setups_text(results, p, doc['versions']) + fanout_lines + behind_note(behind, p)
            + added_table(figures, behind, setups) + saturation_table(results, p, setups, 'saturation')
            + saturation_table(results, p, setups, 'saturation_pipelined'))


def rows_of(results, setup, transport, kind):
    return [r['result'] for r in results if r['setup'] == setup and r['transport'] == transport
            and r['kind'] == kind and 'error' not in r['result']]


def setups_text(results, p, versions):
    loads = [x for r in results for x in (r['result'].get('loadavg') or []) if x is not None]
    load_text = (f'1-minute load average during this section: min {min(loads):.1f}, median '
                 f'{statistics.median(loads):.1f}, max {max(loads):.1f}.' if loads else '')
    runs = 'one run each (--quick)' if p['runs'] == 1 else f'medians of {p["runs"]} runs'
    return [
        f'The cost of sharing topics through a broker: the same {p["subscribers"]:,} subscribers x {p["rate"]} msg/s '
        f'fan-out ({p["duration"]} s of publishing, {runs}) on each setup, interleaved per transport so the ratios '
        f'compare neighbours in time. {load_text}\n',
        f'- `memory`: one switchboard node, no broker (the in-memory backplane).\n'
        f'- `redis`: one node with `--redis`: a publish runs the Redis script (next offset, history append, '
        f'PUBLISH) and the node delivers what comes back on its Redis subscription.\n'
        f'- `nats`: one node with `--nats`: a publish is a JetStream publish with its acknowledgement (the stream '
        f'assigns the sequence the offset comes from, and keeps the history) and the node delivers what comes back '
        f'on its subscription to the topic\'s subject.\n'
        f'- `redis-2-nodes`, `nats-2-nodes`: the publisher POSTs to node A, the subscribers are on node B, both on '
        f'the same broker; the server CPU shown is node B\'s (node A only takes the publishes).\n'
        f'- Redis {versions.get("redis", "")} with **no persistence** (`--save "" --appendonly no`; a deployment '
        f'with AOF `everysec` pays a little more); NATS {versions.get("nats", "")} with JetStream file storage in '
        f'a temp dir (nats-server syncs it every 2 minutes, so the disk is not on the publish path). Both started '
        f'by the bench on free loopback ports, pinned to core {LOADGEN_CORE} with the load generator so that core '
        f'{SERVER_CORE} stays the servers\'. Every switchboard node runs on core {SERVER_CORE}. `broker CPU` is '
        f'the broker\'s share of one core over the whole load generator run (connect, publish, drain).\n']


def fanout_table(results, p, setups):
    """The fan-out table's lines, its latency figures per (transport, setup), and the runs whose publisher fell
    behind: a fixed-rate run whose publisher could not keep the rate measured another load."""
    L = [f'### Fan-out, {p["subscribers"]:,} x {p["rate"]}/s\n',
         '| transport | setup | published msg/s | deliveries/s | p50 | p90 | p99 | max (ms) | lost | server CPU | '
         'loadgen CPU | broker CPU |',
         '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    figures = {}
    behind = set()
    for t in ['ws', 'sse', 'poll']:
        for setup in setups:
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
                     f'{fmt(med(rs, "broker_cpu", "utilization"), 2)} |')
    return L + [''], figures, behind


def behind_note(behind, p):
    if not behind:
        return []
    return [f'**(behind)**: the publisher (4 connections, one POST in flight on each) could not keep '
            f'{p["rate"]} msg/s because the node answered its POSTs late; what was still due when publishing '
            'stopped was never sent. That run measured a lighter load than its neighbours, so its ratios below '
            'are marked as not comparable.\n']


def added_table(figures, behind, setups):
    L = ['### What the hop adds (through the broker / without, same run)\n',
         '| transport | setup | p50 | p99 | max | p50 added | p99 added |',
         '|---|---|---:|---:|---:|---:|---:|']

    def added(a, b):
        return 'n/a' if a is None or b is None else f'{a - b:+,.2f} ms'
    for t in ['ws', 'sse', 'poll']:
        base = figures[(t, 'memory')]
        for setup in setups[1:]:
            f = figures[(t, setup)]
            if (t, 'memory') in behind or (t, setup) in behind:
                L.append(f'| {t} | {setup} | not comparable (publisher behind) | | | | |')
                continue
            L.append(f'| {t} | {setup} | {ratio(f["p50"], base["p50"])} | {ratio(f["p99"], base["p99"])} | '
                     f'{ratio(f["max"], base["max"])} | {added(f["p50"], base["p50"])} | '
                     f'{added(f["p99"], base["p99"])} |')
    return L + ['', '![broker hop](benchmarks/broker_hop.svg)\n']


def saturation_table(results, p, setups, kind):
    sat = p.get(kind)
    if sat is None:
        return []  # results from before this publisher shape was measured
    publisher = (f'{sat["publishers"]} HTTP publisher connections' if kind == 'saturation' else
                 f'one HTTP publisher connection pipelining {sat["pipeline"]} requests')
    L = [f'### Saturation through each broker, WebSocket, {p["subscribers"]:,} subscribers, window {sat["window"]}, '
         f'{publisher}\n',
         '| setup | deliveries/s | against memory | publishes/s | p50 | p99 | max (ms) | lost | server CPU | '
         'loadgen CPU | broker CPU |',
         '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    base_dps = med(rows_of(results, 'memory', 'ws', kind), 'deliveries_per_second')
    for setup in setups:
        rs = rows_of(results, setup, 'ws', kind)
        dps = med(rs, 'deliveries_per_second')
        L.append(f'| {setup} | {fmt(dps)} | {ratio(dps, base_dps)} | '
                 f'{fmt(med(rs, "publish", "messages_per_second"))} | '
                 f'{fmt(med(rs, "latency_ms", "p50"), 2)} | {fmt(med(rs, "latency_ms", "p99"), 2)} | '
                 f'{fmt(med(rs, "latency_ms", "max"), 1)} | {fmt(med(rs, "lost"))} | '
                 f'{fmt(med(rs, "server_cpu", "utilization"), 2)} | {fmt(med(rs, "loadgen_cpu", "utilization"), 2)} | '
                 f'{fmt(med(rs, "broker_cpu", "utilization"), 2)} |')
    return L + ['',
                'At saturation the load generator and the broker share core 1: a loadgen CPU near 1.0 there means '
                'the figure is a floor for switchboard with that broker, not its ceiling.\n']


def write_plot(figures, p, img_dir, setups):
    shades = {'memory': '#90cdf4', 'redis': '#4299e1', 'redis-2-nodes': '#2a4365', 'nats': '#f6ad55',
              'nats-2-nodes': '#9c4221'}
    bars = [(f'{t} {setup}', [(k, figures[(t, setup)][k], c) for k, c in
                              [('p50', '#9ae6b4'), ('p99', shades[setup])]])
            for t in ['ws', 'sse', 'poll'] for setup in setups]
    with open(os.path.join(img_dir, 'broker_hop.svg'), 'w') as f:
        f.write(svg_bars(f'The broker hop: delivery latency, {p["subscribers"]:,} subscribers x {p["rate"]} msg/s',
                         bars, 'milliseconds (lower is better)', log_scale=True, value_fmt=lambda v: f'{v:,.2f} ms'))
