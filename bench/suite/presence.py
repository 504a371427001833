"""The presence join storm: N WebSocket members join one topic's presence at the connect rate the load generator
reaches, and every member hears of every member that joins after it: n(n-1)/2 join events, each encoded once and
queued to every member present. Beside it, the same N subscribers without presence. Each run is a fresh server
(its memory before the storm is the empty server's). Prints a table; leaves the docs as they are."""

from suite import log
from suite.figures import fmt, get
from suite.processes import server
from suite.scenarios import loadgen

SIZES = [1000, 2000, 5000]
QUICK_SIZES = [200]


def run_presence(build, quick):
    rows = []
    for n in QUICK_SIZES if quick else SIZES:
        for presence in (False, True):
            s = server('switchboard', build, label='switchboard-presence')
            s.start()
            try:
                # n(n-1)/2 events through the load generator's one core: 5,000 members take about a minute.
                res = loadgen(build, s, 'ws', ['--mode', 'idle', '--subscribers', n, '--settle', 0.5, '--drain', 300]
                              + (['--presence'] if presence else []), 330)
            finally:
                s.stop()
            rows.append((n, presence, res))
            log('presence' if presence else 'no presence', n, 'members:',
                f'{fmt(get(res, "presence", "last_join_seconds"), 1)} s,',
                f'{fmt(get(res, "server_rss", "per_connection"))} B per connection')
    return rows


def presence_section(rows):
    L = ['## Presence: the join storm\n',
         'N WebSocket clients subscribe to one topic, with `presence: true` or without; every member receives a '
         'join event for each member that joins after it. Server on core 0, load generator on core 1; a fresh '
         'server per row.\n',
         '| members | presence | connects/s | all joins received after (s) | join events | server CPU (s) | '
         'server RSS per connection (B) |', '|---:|---|---:|---:|---:|---:|---:|']
    for n, presence, res in rows:
        if 'error' in res:
            L.append(f'| {n:,} | {"yes" if presence else "no"} | error: {res["error"]} | | | | |')
            continue
        joins = get(res, 'presence', 'joins')
        expected = get(res, 'presence', 'expected_joins')
        L.append(f'| {n:,} | {"yes" if presence else "no"} | {fmt(get(res, "connect", "per_second"))} | '
                 f'{fmt(get(res, "presence", "last_join_seconds"), 1) if presence else "-"} | '
                 f'{f"{joins:,} of {expected:,}" if presence else "-"} | '
                 f'{fmt(get(res, "presence" if presence else "connect", "server_cpu_seconds"), 2)} | '
                 f'{fmt(get(res, "server_rss", "per_connection"))} |')
    return L + ['']
