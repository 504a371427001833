"""Scenario 7: switchboard against itself with one setting changed, so what a setting buys is measured in one run:
the io_uring send batch against one sendmsg per connection, and one event loop against two. Each variant is its
own server, started once; the runs interleave the variants so that machine noise falls on all of them alike. The
figure compared is server CPU per delivery (the server's CPU seconds over the deliveries the load generator
counted), beside deliveries/s and latency."""

from suite import log
from suite.figures import fmt, get, med
from suite.processes import SERVER_CORE, server

# variant -> (switchboard-server arguments, the cores it may run on, what it is)
VARIANTS = {
    'default': ([], SERVER_CORE, 'one loop, io_uring send batch (the defaults)'),
    'sendmsg': (['--io-uring', 'false'], SERVER_CORE, 'one loop, one `sendmsg` per connection (`io.uring: false`)'),
    'threads-2-one-core': (['--threads', '2'], SERVER_CORE,
                           'two loops on the server\'s one core: the cost of the cross-loop hop alone'),
    'threads-2': (['--threads', '2'], f'{SERVER_CORE},1',
                  'two loops on both cores (the second shared with the load generator)'),
}

# shape -> (transport, load generator arguments but the sizes)
SHAPES = {
    'fanout ws': ('ws', ['--rate', 'rate']),
    'fanout sse': ('sse', ['--rate', 'rate']),
    'fanout poll': ('poll', ['--rate', 'rate']),
    'saturation ws, 16 HTTP publishers': ('ws', ['--window', 'window', '--publishers', 'publishers']),
    'saturation ws, 1 pipelined HTTP publisher': ('ws', ['--window', 'window', '--publishers', 1,
                                                         '--pipeline', 'pipeline']),
    'saturation ws, 1 WebSocket publisher': ('ws', ['--window', 'window', '--publishers', 1, '--publisher', 'ws']),
}


def run_variants(build, p, results, loadgen):
    servers = {v: server('switchboard', build, args, label=f'switchboard-{v}', cores=cores)
               for v, (args, cores, _) in VARIANTS.items()}
    try:
        for s in servers.values():
            s.start()
        for r in range(p['runs']):
            for shape, (transport, args) in SHAPES.items():
                args = [p.get(a, a) if isinstance(a, str) else a for a in args]
                for v, s in servers.items():
                    res = loadgen(build, s, transport,
                                  ['--subscribers', p['subscribers'], '--duration', p['duration'], '--drain', 5,
                                   '--settle', 0.5] + args, p['duration'] + 60)
                    results.append(dict(server='switchboard', transport=transport, scenario='variant', variant=v,
                                        shape=shape, subscribers=p['subscribers'], run=r, result=res))
                    log('variant', v, shape, f'{fmt(us_per_delivery(res), 2)} us/delivery',
                        f'deliveries/s={fmt(get(res, "deliveries_per_second"))}')
    finally:
        for s in servers.values():
            s.stop()


def us_per_delivery(res):
    cpu, n = get(res, 'server_cpu', 'seconds'), get(res, 'deliveries')
    return None if cpu is None or not n else 1e6 * cpu / n


def variants_section(doc):
    p = doc['plan'].get('variants')
    rows = [r for r in doc['results'] if r['scenario'] == 'variant' and 'error' not in r['result']]
    if not p or not rows:
        return []
    L = ['## Settings compared (scenario 7)\n',
         f'switchboard against itself, {p["subscribers"]:,} subscribers, each variant its own server and the runs '
         f'interleaved ({p["runs"]} of each; medians). Fan-out at {p["rate"]} msg/s; saturation with '
         f'{p["window"]} publishes in flight. CPU per delivery is the server process\'s CPU time (every thread) '
         'over the deliveries counted.\n']
    for v, (_, cores, what) in VARIANTS.items():
        L.append(f'- `{v}`: {what}; cores {cores}.')
    L += ['', '| shape | variant | server CPU per delivery (us) | deliveries/s | p50 | p99 (ms) | lost | '
          'server CPU |', '|---|---|---:|---:|---:|---:|---:|---:|']
    for shape in SHAPES:
        for v in VARIANTS:
            rs = [r['result'] for r in rows if r['variant'] == v and r['shape'] == shape]
            if not rs:
                continue
            cpu = med([dict(x=us_per_delivery(r)) for r in rs], 'x')
            L.append(f'| {shape} | {v} | {fmt(cpu, 2)} | {fmt(med(rs, "deliveries_per_second"))} | '
                     f'{fmt(med(rs, "latency_ms", "p50"), 2)} | {fmt(med(rs, "latency_ms", "p99"), 2)} | '
                     f'{fmt(med(rs, "lost"))} | {fmt(med(rs, "server_cpu", "utilization"), 2)} |')
    return L + ['']
