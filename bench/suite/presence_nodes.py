"""Presence across two nodes (issue 18): per broker (Redis, NATS), two switchboard nodes share it; the join storm
is split between them (one load generator a node, both at once, one topic), then node B is killed (SIGKILL) while
its members are present, and a member on node A watches the counts until B's members have left. A killed node
tells nobody: the others find its members gone after the configured expiry (plus up to a third of it), so that is
what the kill measures. Prints a table; leaves the docs as they are."""

import concurrent.futures
import http.client
import json
import os
import random
import subprocess
import tempfile
import time
import urllib.parse

from suite import log
from suite.counts_watcher import counts_watcher
from suite.figures import fmt, get
from suite.processes import server, terminate
from suite.scenarios import BROKERS, loadavg, loadgen_command, loadgen_result

EXPIRY = 10  # seconds: {redis,nats}.presence_expiry, short so that the kill is measured in seconds
# Members in all, half a node. Quick: 1,100 a node, just past presence.max_event_members, since a member of a split
# storm is told by the counts, which a node's members get only past that bound.
MEMBERS, QUICK_MEMBERS = 19000, 2200
# Where the leaves come within (expiry - a third, expiry + a third) after a kill depends on where in node B's refresh
# (Redis) or heartbeat (NATS) period it lands: several runs, each killing after a random part of that period.
RUNS, QUICK_RUNS = 3, 1
STORM_SECONDS = 120  # bound on a node's storm until its members are told
HOLD_SECONDS = 60    # the members stay this long after being told (the kill and the leaves fit in it)


def run_presence_nodes(build, quick):
    n = QUICK_MEMBERS if quick else MEMBERS
    rows = []
    for run in range(QUICK_RUNS if quick else RUNS):
        for name, kind in BROKERS.items():
            if not kind.available():
                rows.append((name, n, {'error': f'{kind.program} not found (bench/run installs it)'}))
            else:
                rows.append((name, n, split_storm_and_kill(build, kind(), n)))
            row = rows[-1][2]
            log('presence on two nodes,', name, f'run {run + 1}:',
                row.get('error') or f'counts {row["counts_before"]} before the kill, leaves sent on A '
                                    f'{fmt(row["left_seconds"], 1)} s after it, seen by its members '
                                    f'{fmt(row["leaves_seconds"], 1)} s')
    return rows


def split_storm_and_kill(build, broker, n):
    topic = f'presence-nodes-{broker.name}-{os.getpid()}'
    # The presence settings are the defaults (the one-node storm's bounded row) but for the expiry.
    env = {f'SWITCHBOARD_{broker.name.upper()}_PRESENCE_EXPIRY': f'{EXPIRY}s'}
    nodes, gens, watcher = [], [], None
    try:
        broker.start()
        nodes = [server('switchboard', build, broker.switchboard_args(), env=env,
                        label=f'switchboard-{broker.name}-node-{x}') for x in 'ab']
        for s in nodes:
            s.start()
        row = {'loadavg': [loadavg()]}
        broker_cpu = broker.cpu_seconds()
        gens = [storm(build, s, n // 2, n, topic) for s in nodes]
        row['nodes'] = told(gens)
        row['broker_cpu_seconds'] = broker.cpu_seconds() - broker_cpu
        if any('error' in r or (get(r, 'presence', 'members_told_all') or 0) < r['subscribed'] for r in row['nodes']):
            return dict(row, error='a storm was not told')

        present_on_a = row['nodes'][0]['subscribed'] + 1  # node A's members and the watcher
        watcher = counts_watcher(nodes[0].port, topic)
        watcher.start()
        before = watcher.first_after(0, lambda c: c >= n + 1, 5)
        time.sleep(random.uniform(0, EXPIRY / 3))
        killed = time.monotonic()
        nodes[1].proc.kill()
        left = counts_fell(nodes[0].port, topic, present_on_a, killed + 2 * EXPIRY)
        gone = watcher.first_after(killed, lambda c: c <= present_on_a, 2 * EXPIRY)
        row['loadavg'].append(loadavg())
        row.update(counts_before=before and before[1], left_seconds=left and left - killed,
                   leaves_seconds=gone and gone[0] - killed)
        return row
    except (RuntimeError, OSError, ValueError) as e:
        return {'error': str(e)}
    finally:
        if watcher:
            watcher.stop()
        for g in gens:
            terminate(g)
        for s in nodes:
            s.stop()
        broker.stop()


def counts_fell(port, topic, present, deadline):
    """When node A's counts (`GET /presence?topic=T&stats=1`, polled every 100 ms) fell to `present`: the leaves
    sent, which is what the expiry bounds. Its members past presence.max_event_members see them later, with the
    next counts event (presence.counts_interval after the change)."""
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=2)
        try:
            conn.request('GET', f'/presence?topic={urllib.parse.quote(topic)}&stats=1')
            if json.load(conn.getresponse())['clients'] <= present:
                return time.monotonic()
        finally:
            conn.close()
        time.sleep(0.1)
    return None


def storm(build, node, members, total, topic):
    """Starts one node's share of the storm; its members stay present until terminated, or HOLD_SECONDS after the
    result (the load generator prints it before its hold)."""
    args = ['--mode', 'idle', '--subscribers', members, '--presence', '--presence-total', total, '--topic', topic,
            '--settle', 0.5, '--drain', STORM_SECONDS, '--hold', HOLD_SECONDS]
    with open(os.path.join(tempfile.gettempdir(), f'switchboard-bench-loadgen-{node.label}.log'), 'w') as log_file:
        return subprocess.Popen(loadgen_command(build, node, 'ws', args, STORM_SECONDS + HOLD_SECONDS + 30),
                                stdout=subprocess.PIPE, stderr=log_file, text=True)


def told(gens):
    """Each storm's result, read as it comes (both storms run at once), or an error once the storm bound is over."""
    with concurrent.futures.ThreadPoolExecutor(len(gens)) as pool:
        lines = [pool.submit(g.stdout.readline) for g in gens]
        results = []
        for g, line in zip(gens, lines):
            try:
                results.append(loadgen_result(line.result(timeout=STORM_SECONDS + 15), ''))
            except concurrent.futures.TimeoutError:
                terminate(g)  # ends its readline
                results.append({'error': 'loadgen timed out'})
        return results


def presence_nodes_section(rows):
    L = ['## Presence across two nodes: the split storm and a node killed\n',
         'N WebSocket members join one topic, half through node A and half through node B, both storms at once; '
         '"told" is when every member of the node had counts naming all N. Then, after a random part of a third of '
         'the expiry, node B is killed (SIGKILL) and an SSE member on node A times the counts falling to node A\'s '
         'members; node A\'s counts polled every 100 ms say when the leaves were sent. Nodes on core 0, load '
         'generators and broker on core 1; a fresh broker and nodes per row; presence expiry '
         f'{EXPIRY} s, the leaves promised within {fmt(EXPIRY * 4 / 3, 1)} s.\n',
         '| broker | members (total / per node) | connects/s (A / B) | all told after (s) (A / B) | '
         'server CPU (s) (A / B) | server RSS per connection (B) (A / B) | broker CPU (s) | '
         'kill -> leaves sent on A (s) | kill -> leaves seen by A\'s members (s) | expiry (s) |',
         '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for broker, n, row in rows:
        if 'error' in row:
            L.append(f'| {broker} | {n:,} | error: {row["error"]} | | | | | | | |')
            continue
        a, b = row['nodes']

        def both(*path, digits=0):
            return f'{fmt(get(a, *path), digits)} / {fmt(get(b, *path), digits)}'

        L.append(f'| {broker} | {n:,} / {a["subscribed"]:,} | {both("connect", "per_second")} | '
                 f'{both("presence", "last_join_seconds", digits=1)} | '
                 f'{both("presence", "server_cpu_seconds", digits=2)} | '
                 f'{both("server_rss", "per_connection")} | {fmt(row["broker_cpu_seconds"], 2)} | '
                 f'{fmt(row["left_seconds"], 1)} | {fmt(row["leaves_seconds"], 1)} | {EXPIRY} |')
    loads = [x for _, _, row in rows for x in row.get('loadavg', []) if x is not None]
    if loads:
        L.append(f'\nLoad average (1 min) around the runs: {min(loads):.2f} to {max(loads):.2f}.')
    return L + ['']
