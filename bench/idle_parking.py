#!/usr/bin/env python3
"""Idle memory per connection with parking (io.park_idle) on and off, the connections opened at once or in waves.

    python3 bench/idle_parking.py --build build-bench --connections 10000 --waves 10 [--parking on|off]

For each transport (ws, sse; poll on request: a waiting poll parks its departure watch) and io.park_idle
(on, off): a fresh switchboard-server pinned to core 0, then
--connections idle subscribers of switchboard-loadgen (--mode idle --hold, on core 1):
  - storm: one load generator opens them all, 1,000 connecting at once (bench/run's idle scenario);
  - waves: --waves load generators one after the other, each started once the previous one's connections are
    parked (switchboard_connections_parked in GET /metrics) or, with parking off, --settle seconds later.
A parked connection gives back Asio's reactor entry and its pending wait, but Asio keeps reactor entries in a
pool for the next socket and malloc keeps freed blocks for the next allocation: what a storm freed is only
reused by later connections. Waves show the cost of a connection on a server whose idle clients arrived over
time, which is what a long-running server holds. Each load generator publishes one message before it connects
(its warm-up): for polls, that message answers every poll of the earlier waves, so their waves also measure the
memory a fan-out to every waiting poll leaves behind (docs/benchmarks.md, "the waves were fan-outs").

--source-net 127.100.200 has the clients connect from 127.100.200.1 and .2, so that each one's address is spelled
in 19 characters or more, as a public IPv4 one is ("203.0.113.195:54321"); from 127.0.0.x it fits 15.

Reports, per run, the server's VmRSS growth (and its anonymous part, RssAnon) divided by the connections once
every one is parked (or, with parking off, subscribed and settled), one JSON object per line.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from h2_sse import metric, server, wait_for  # noqa: E402
from suite.processes import LOADGEN_CORE, terminate  # noqa: E402
from tls_idle import vm_rss  # noqa: E402

PARKED = 'switchboard_connections_parked'


def rss_anon(pid):
    """The anonymous part of the server's RSS (its heap, stacks, Asio's pools): VmRSS less the pages of files (the
    binary's and the libraries' code, first run by the first connections and then held once, whatever the count)."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('RssAnon:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('no RssAnon')


def start_wave(args, port, transport, count, out_path):
    """A load generator holding `count` idle subscribers; returns once its result (printed before the hold) is out."""
    gen = subprocess.Popen(['taskset', '-c', LOADGEN_CORE, os.path.join(args.build, 'bench/switchboard-loadgen'),
                            '--transport', transport, '--port', str(port), '--topic', 'idle', '--mode', 'idle',
                            '--subscribers', str(count), '--connect-concurrency', '1000', '--settle', '0',
                            '--hold', '600', '--source-net', args.source_net, '--out', out_path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(out_path) and os.path.getsize(out_path) > 0 or gen.poll() is not None, 120,
             'a wave to connect')
    if gen.poll() is not None:
        raise RuntimeError(f'the load generator exited with {gen.returncode}')
    return gen


def run(args, transport, park, waves, tmp):
    env = dict(os.environ, SWITCHBOARD_IO_PARK_IDLE='true' if park else 'false')
    # Polls held past the waves, so that every one still waits when the memory is read.
    srv = server(os.path.join(args.build, 'examples/server/switchboard-server'),
                 ['--max-connections-per-address', '1000000', '--poll-hold', '5m'], env)
    gens = []
    try:
        before = vm_rss(srv.proc.pid)
        anon_before = rss_anon(srv.proc.pid)
        per_wave = args.connections // waves
        for w in range(waves):
            gens.append(start_wave(args, srv.port, transport, per_wave,
                                   os.path.join(tmp, f'wave-{transport}-{park}-{waves}-{w}.json')))
            held = per_wave * (w + 1)
            if park:
                wait_for(lambda: metric(srv.port, PARKED) >= held, 60, 'the wave to park')
            else:
                time.sleep(args.settle)  # nothing to wait for: subscribed, and no tick changes anything
        after = vm_rss(srv.proc.pid)
        anon_after = rss_anon(srv.proc.pid)
        return dict(transport=transport, park_idle=park, connections=per_wave * waves, waves=waves,
                    source_net=args.source_net,
                    bytes_per_connection=round((after - before) / (per_wave * waves)),
                    anon_bytes_per_connection=round((anon_after - anon_before) / (per_wave * waves)),
                    parked=metric(srv.port, PARKED))
    finally:
        for g in gens:
            g.send_signal(signal.SIGTERM)
        for g in gens:
            terminate(g)
        srv.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--build', default='build-bench')
    p.add_argument('--connections', type=int, default=10000)
    p.add_argument('--waves', type=int, default=10)
    p.add_argument('--transports', default='ws,sse')
    p.add_argument('--settle', type=float, default=3.0, help='seconds after a wave, with parking off')
    p.add_argument('--parking', choices=('on', 'off', 'both'), default='both', help='io.park_idle in the runs')
    p.add_argument('--source-net', default='127.0.0', help='the clients\' addresses: 127.100.200 spells them long')
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        for transport in args.transports.split(','):
            for park in {'on': (True,), 'off': (False,), 'both': (True, False)}[args.parking]:
                for waves in (1, args.waves):
                    print(json.dumps(run(args, transport, park, waves, tmp)), flush=True)


if __name__ == '__main__':
    sys.exit(main())
