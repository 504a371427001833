"""The benchmarks page: docs/benchmarks.md and its plots in docs/benchmarks/, written from a results.json. Each
section of the page is one function returning its lines; the broker hop's is in broker_hop_report.py."""

import os
import statistics

from suite import BENCH, log
from suite.figures import fanout_ms, fmt, get, med, median, pick, ratio
from suite.broker_hop_report import broker_hop_section
from suite.svg import svg_bars
from suite.variants import variants_section

SERVERS = ['switchboard', 'nchan', 'node-ws']
SERIES = [('switchboard', t) for t in ['ws', 'sse', 'poll']] + [('nchan', t) for t in ['ws', 'sse', 'poll']] + \
    [('node-ws', 'ws')]
COLORS = {'switchboard': '#2b6cb0', 'nchan': '#c05621', 'node-ws': '#2f855a'}


def write_report(doc, docs_dir):
    results = doc['results']
    plan_ = doc['plan']
    img_dir = os.path.join(docs_dir, 'benchmarks')
    os.makedirs(img_dir, exist_ok=True)
    fan = plan_['fanout'][0]
    sat = plan_['saturation'][0]
    big = max(plan_['idle'], key=lambda p: p['subscribers'])['subscribers']
    rows = headline_rows(results, plan_, fan, big)
    write_plots(rows, fan, sat, big, img_dir)

    L = (intro(doc) + machine_section(doc) + method_section(sat) + headline_section(rows, fan, big)
         + ratios_section(rows) + targets_section(rows, fan, big) + fanout_section(results, plan_)
         + saturation_section(rows) + pipelined_section(results, plan_) + idle_section(rows, plan_)
         + wire_section(rows, fan)
         + broker_hop_section(doc, img_dir) + variants_section(doc) + errors_section(results) + notes())
    with open(os.path.join(docs_dir, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(L).rstrip('\n') + '\n')  # bench/NOTES.md ends the page with its own newline
    log('wrote', os.path.join(docs_dir, 'benchmarks.md'))


def headline_rows(results, plan_, fan, big):
    """The figures per server and transport that the headline, ratios and targets compare: the first fan-out
    (fan), the saturation runs, and the idle runs at every size (big: the largest)."""
    rows = {}
    for s, t in SERIES:
        f = pick(results, s, t, 'fanout', subscribers=fan['subscribers'], rate=fan['rate'])
        sa = pick(results, s, t, 'saturation')
        idle = {p['subscribers']: pick(results, s, t, 'idle', subscribers=p['subscribers']) for p in plan_['idle']}
        rows[(s, t)] = dict(
            sat=sa,
            sat_dps=med(sa, 'deliveries_per_second'), sat_p50=med(sa, 'latency_ms', 'p50'),
            sat_p99=med(sa, 'latency_ms', 'p99'),
            p50=med(f, 'latency_ms', 'p50'), p90=med(f, 'latency_ms', 'p90'), p99=med(f, 'latency_ms', 'p99'),
            max=med(f, 'latency_ms', 'max'), lost=med(f, 'lost'),
            wire_down=med(f, 'wire_bytes', 'server_to_subscriber_per_delivery'),
            wire_up=med(f, 'wire_bytes', 'subscriber_to_server_per_delivery'),
            wire_pub=med(f, 'wire_bytes', 'publisher_per_delivery'),
            fan_ms=median([fanout_ms(r) for r in f]),
        )
        for n, rs in idle.items():
            rows[(s, t)][f'rss_{n}'] = med(rs, 'server_rss', 'per_connection')
            rows[(s, t)][f'storm_{n}'] = med(rs, 'connect', 'per_second')
            rows[(s, t)][f'held_{n}'] = med(rs, 'subscribed')
        rows[(s, t)]['rss'] = rows[(s, t)].get(f'rss_{big}')
        rows[(s, t)]['storm'] = rows[(s, t)].get(f'storm_{big}')
    return rows


def write_plots(rows, fan, sat, big, img_dir):
    def grouped(metric):
        return [(t, [(s, rows[(s, t)][metric], COLORS[s]) for s in SERVERS if (s, t) in rows])
                for t in ['ws', 'sse', 'poll']]
    with open(os.path.join(img_dir, 'saturation.svg'), 'w') as f:
        f.write(svg_bars(f'Saturation: deliveries/s, {sat["subscribers"]:,} subscribers, window {sat["window"]}',
                         grouped('sat_dps'), 'deliveries per second (higher is better)'))
    lat_rows = [(f'{s} {t}', [(p, rows[(s, t)][p], c) for p, c in
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
                               for s in SERVERS if (s, t) in rows])
                          for t in ['ws', 'sse', 'poll']],
                         'bytes (application bytes at the client sockets; lower is better)'))


def intro(doc):
    return ['# Benchmarks\n',
            'switchboard against Nchan and a Node `ws` broadcast server, with the same load generator, the same '
            'payloads, and each server pinned to the same core. Generated by `bench/run'
            + (' --quick' if doc['quick'] else '') + '`; rerun it to check the figures on your machine.\n']


def machine_section(doc):
    m = doc['machine']
    v = doc['versions']
    runs_note = ('one run each (--quick)' if doc['quick'] else
                 'medians of 3 runs for the 1k x 100/s fan-out and saturation, one run for the others')
    L = ['## Machine and versions\n',
         f'- {m["nproc"]} cores, {m["cpu"]}, Linux {m["kernel"]}; run {doc["date"]}, suite took '
         f'{doc["seconds"]:.0f} s ({runs_note}).',
         f'- switchboard {v["switchboard"]}; Nchan {v["nchan"]} on nginx {v["nginx"]} (worker_processes 1); '
         f'Node {v["node"]} with ws {v["ws"]}; Boost {v["boost"]}.\n']
    loads = [x for r in doc['results'] for x in (r['result'].get('loadavg') or []) if x is not None]
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
    return L


def method_section(sat):
    return ['## Method\n',
            '- Servers run with `taskset -c 0`, the load generator (`bench/loadgen`, one thread) with `taskset -c 1`, '
            'on loopback. Subscribers all join one topic; a publisher POSTs 100-byte JSON payloads '
            '(`{"seq":N,"ts":T,"pad":"..."}`) over HTTP to every server (4 keep-alive connections at a fixed rate, 16 '
            'closed-loop). The payload carries the publisher\'s `steady_clock` time; latency is measured when a '
            'subscriber reads it (same machine, same clock).\n'
            '- The load generator has its own client code (HTTP/1.1, WebSocket upgrade and frame reader, SSE reader, '
            'long-poll loop); it shares nothing with switchboard\'s transports. Its own CPU use is reported with every '
            'run; so is the server\'s (`/proc/PID/stat`).\n'
            '- **Loss**: each subscriber records the seqs it got (a bitset); loss is every acknowledged publish a '
            'ready subscriber did not get within the 5 s drain after publishing stops. Duplicates are counted apart.\n'
            '- **Fan-out**: N subscribers, a fixed publish rate for the run time. **Saturation**: closed loop, the '
            f'publisher keeps at most {sat["window"]} messages\' worth of deliveries outstanding '
            f'({sat["window"]} x {sat["subscribers"]:,}); deliveries/s and the latency at that load. '
            '**Idle memory**: server VmRSS (`/proc/PID/status`; nginx: its worker) before and after N idle '
            'subscribers, on a fresh server, divided by N. **Connect storm**: the same run, subscribers set up 1,000 '
            'at a time; connections per second until all are subscribed (WebSocket: upgrade and, for switchboard, the '
            'subscribe ack; SSE: the response head, and switchboard\'s `subscribed` event; long polling: connected and '
            'request sent). **Wire cost**: application bytes read and written at the subscribers\' sockets during the '
            'fan-out run, per delivery (TCP/IP headers not included).\n'
            '- Past 9,000 subscribers the load generator binds round-robin to 127.0.0.1..127.0.0.K (switchboard allows '
            '10,000 connections per address by default).\n']


def headline_section(rows, fan, big):
    L = ['## Headline: switchboard against its peers\n',
         f'| server / transport | saturation deliveries/s | latency at saturation p50 / p99 | '
         f'{fan["subscribers"]:,} x {fan["rate"]}/s p50 / p99 / max | loss | idle B/conn ({big:,}) | '
         f'connects/s ({big:,}) | wire B/delivery (down + up) |',
         '|---|---:|---:|---:|---:|---:|---:|---:|']
    for s, t in SERIES:
        r = rows[(s, t)]
        L.append(f'| {s} {t} | {fmt(r["sat_dps"])} | {fmt(r["sat_p50"], 1)} / {fmt(r["sat_p99"], 1)} ms | '
                 f'{fmt(r["p50"], 2)} / {fmt(r["p99"], 2)} / {fmt(r["max"], 1)} ms | {fmt(r["lost"])} | '
                 f'{fmt(r["rss"])} | {fmt(r["storm"])} | {fmt(r["wire_down"])} + {fmt(r["wire_up"])} |')
    return L + ['',
                '![saturation](benchmarks/saturation.svg)\n',
                '![latency](benchmarks/latency.svg)\n',
                '![memory](benchmarks/memory.svg)\n',
                '![wire](benchmarks/wire.svg)\n']


def ratios_section(rows):
    L = ['## Ratios (switchboard / peer, same run)\n',
         'Throughput: higher is better for switchboard; latency and memory: lower is better.\n',
         '| transport | peer | saturation deliveries/s | p99 at fan-out | idle memory per connection | connects/s |',
         '|---|---|---:|---:|---:|---:|']
    for t in ['ws', 'sse', 'poll']:
        sb = rows[('switchboard', t)]
        for peer in ['nchan', 'node-ws']:
            if (peer, t) not in rows:
                continue
            p = rows[(peer, t)]
            L.append(f'| {t} | {peer} | {ratio(sb["sat_dps"], p["sat_dps"])} | {ratio(sb["p99"], p["p99"])} | '
                     f'{ratio(sb["rss"], p["rss"])} | {ratio(sb["storm"], p["storm"])} |')
    return L + ['']


def targets_section(rows, fan, big):
    """The targets of issue 7, each with what was measured and whether it was met."""
    n_ws_p99 = rows[('nchan', 'ws')]['p99']
    L = ['## Against the targets\n',
         '| target | measured | met? |',
         '|---|---|---|']

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
    return L + ['']


def fanout_section(results, plan_):
    """Every fan-out size and rate of the plan, not only the headline's."""
    L = ['## Fan-out at a fixed rate\n',
         '`fan-out ms` is the server\'s CPU time per published message (server CPU seconds / messages): one '
         'core needs that long to write a message to every subscriber, so the last one waits at least that '
         'long, whatever the server: the floor under p99. For long polling it also counts taking each '
         'client\'s next poll, which comes after the answers, so there it is above the floor.\n',
         '| server / transport | subscribers x msg/s | deliveries/s | p50 | p90 | p99 | max (ms) | lost | '
         'server CPU | fan-out ms | loadgen CPU |',
         '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
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
    return L + ['']


def saturation_section(rows):
    L = ['## Saturation\n',
         '| server / transport | deliveries/s | publishes/s | p50 | p99 | max (ms) | lost | server CPU | '
         'loadgen CPU |',
         '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for s, t in SERIES:
        L.append(saturation_row(f'{s} {t}', rows[(s, t)]['sat']))
    return L + ['']


def saturation_row(label, rs):
    return (f'| {label} | {fmt(med(rs, "deliveries_per_second"))} | '
            f'{fmt(med(rs, "publish", "messages_per_second"))} | {fmt(med(rs, "latency_ms", "p50"), 2)} | '
            f'{fmt(med(rs, "latency_ms", "p99"), 2)} | {fmt(med(rs, "latency_ms", "max"), 1)} | '
            f'{fmt(med(rs, "lost"))} | {fmt(med(rs, "server_cpu", "utilization"), 2)} | '
            f'{fmt(med(rs, "loadgen_cpu", "utilization"), 2)} |')


def pipelined_section(results, plan_):
    """Saturation with one publisher connection pipelining its HTTP publishes (absent from older results)."""
    if not plan_.get('saturation_pipelined'):
        return []
    p = plan_['saturation_pipelined'][0]
    L = ['### Saturation, one publisher connection\n',
         f'The same load as `POST /publish` requests pipelined on one keep-alive connection ({p["pipeline"]} in '
         'flight), as a backend publishing over one connection sends them: the server must handle every request it '
         'has read before the loop turn\'s flush for their fan-out to share writes.\n',
         '| server / transport | deliveries/s | publishes/s | p50 | p99 | max (ms) | lost | server CPU | '
         'loadgen CPU |',
         '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for s, t in SERIES:
        L.append(saturation_row(f'{s} {t}', pick(results, s, t, 'saturation_pipelined')))
    return L + ['']


def idle_section(rows, plan_):
    L = ['## Idle connections and connect storm\n',
         '| server / transport | idle subscribers | held | server RSS per connection (B) | connects/s |',
         '|---|---:|---:|---:|---:|']
    for p_ in plan_['idle']:
        n = p_['subscribers']
        for s, t in SERIES:
            r = rows[(s, t)]
            L.append(f'| {s} {t} | {n:,} | {fmt(r.get(f"held_{n}"))} | {fmt(r.get(f"rss_{n}"))} | '
                     f'{fmt(r.get(f"storm_{n}"))} |')
    return L + ['', 'Plain connections, opened 1,000 at a time. Over TLS and HTTP/2 they are measured apart, with '
                'clients of their own: `bench/run --tls` (see [Idle TLS connections](#idle-tls-connections)) and '
                '`bench/run --http2` (see [SSE over HTTP/2](#sse-over-http2)). `bench/run --parking` measures '
                '10,000 in a storm and in waves ([Parking idle streams](#parking-idle-streams)).', '']


def wire_section(rows, fan):
    L = ['## Wire cost\n',
         f'Application bytes per delivered message in the {fan["subscribers"]:,} x {fan["rate"]}/s fan-out '
         '(the publisher\'s bytes are shared by all deliveries of a message). The payload is 100 bytes.\n',
         '| server / transport | server to subscriber | subscriber to server | publisher (per delivery) |',
         '|---|---:|---:|---:|']
    for s, t in SERIES:
        r = rows[(s, t)]
        L.append(f'| {s} {t} | {fmt(r["wire_down"], 1)} | {fmt(r["wire_up"], 1)} | {fmt(r["wire_pub"], 2)} |')
    return L + ['', 'These are 100-byte payloads that change completely. For a ~1 KB JSON document that changes a '
                'little from one message to the next (prices, a dashboard), [Compression](#compression) measures '
                'the frames: plain, compressed once per message (permessage-deflate, shared), and as a delta '
                'against the previous version (`delta: true`, shared); tests/browser/compression.test.mjs and '
                'delta.test.mjs check on real sockets that a compressed or delta subscriber reads under a third (a '
                'quarter) of the plain subscriber\'s bytes.', '']


def errors_section(results):
    errors = [(r['server'], r['transport'], r['scenario'] + (f' {r["setup"]} {r["kind"]}' if 'setup' in r else ''),
               r['result'].get('error') or '; '.join(r['result'].get('errors', [])[:2]))
              for r in results if 'error' in r['result'] or r['result'].get('errors')]
    if not errors:
        return []
    return (['## Errors seen by the load generator\n']
            + [f'- {s} {t} {sc}: {e[:300]}' for s, t, sc, e in errors]
            + [''])


def notes():
    """bench/NOTES.md, the hand-written analysis, closes the page."""
    notes_path = os.path.join(BENCH, 'NOTES.md')
    if not os.path.exists(notes_path):
        return []
    with open(notes_path) as f:
        return [f.read()]
