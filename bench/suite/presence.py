"""The presence join storm: N WebSocket members join one topic's presence at the connect rate the load generator
reaches. With an event per join, every member hears of every member that joins after it: n(n-1)/2 join events,
each encoded once and queued to every member present. Beside it, the same N subscribers without presence, joins
batched into diffs (presence.batch_interval), and the default bound (presence.max_event_members: past 1,000
listeners, counts instead of events). Each run is a fresh server (its memory before the storm is the empty
server's). Prints a table; leaves the docs as they are."""

from suite import log
from suite.figures import fmt, get
from suite.processes import server
from suite.scenarios import loadgen

# (label, the server's environment, presence asked): how a storm's joins reach the members.
NONE = ('no presence', {}, False)
EVENTS = ('an event per join', {'SWITCHBOARD_PRESENCE_MAX_EVENT_MEMBERS': '0'}, True)
DIFFS = ('diffs every 100 ms', {'SWITCHBOARD_PRESENCE_MAX_EVENT_MEMBERS': '0',
                                'SWITCHBOARD_PRESENCE_BATCH_INTERVAL': '100ms'}, True)
BOUNDED = ('default: counts past 1,000', {}, True)

ROWS = [(1000, NONE), (1000, EVENTS), (1000, DIFFS), (2000, EVENTS), (2000, DIFFS), (5000, DIFFS), (5000, BOUNDED),
        (19000, NONE), (19000, BOUNDED)]
QUICK_ROWS = [(200, NONE), (200, EVENTS), (200, DIFFS), (200, BOUNDED)]


def run_presence(build, quick):
    rows = []
    for n, (label, env, presence) in QUICK_ROWS if quick else ROWS:
        s = server('switchboard', build, label='switchboard-presence', env=env)
        s.start()
        try:
            # An event per join through the load generator's one core: 5,000 members would take about a minute.
            res = loadgen(build, s, 'ws', ['--mode', 'idle', '--subscribers', n, '--settle', 0.5, '--drain', 300]
                          + (['--presence'] if presence else []), 330)
        finally:
            s.stop()
        rows.append((n, label, presence, res))
        log(label, n, 'members:', f'{fmt(get(res, "presence", "last_join_seconds"), 1)} s,',
            f'{fmt(get(res, "server_rss", "per_connection"))} B per connection')
    return rows


def presence_section(rows):
    L = ['## Presence: the join storm\n',
         'N WebSocket clients subscribe to one topic, with `presence: true` or without. "Told" is when the last '
         'member knew of every other: the last join event or diff, or the first counts naming all N. Server on '
         'core 0, load generator on core 1; a fresh server per row.\n',
         '| members | joins reach members as | connects/s | all told after (s) | joins received | counts events | '
         'server CPU (s) | server RSS per connection (B) |', '|---:|---|---:|---:|---:|---:|---:|---:|']
    for n, label, presence, res in rows:
        if 'error' in res:
            L.append(f'| {n:,} | {label} | error: {res["error"]} | | | | | |')
            continue
        joins = get(res, 'presence', 'joins')
        expected = get(res, 'presence', 'expected_joins')
        counts = get(res, 'presence', 'counts_events')
        L.append(f'| {n:,} | {label} | {fmt(get(res, "connect", "per_second"))} | '
                 f'{fmt(get(res, "presence", "last_join_seconds"), 1) if presence else "-"} | '
                 f'{f"{joins:,} (n(n-1)/2 = {expected:,})" if presence else "-"} | '
                 f'{f"{counts:,}" if presence else "-"} | '
                 f'{fmt(get(res, "presence" if presence else "connect", "server_cpu_seconds"), 2)} | '
                 f'{fmt(get(res, "server_rss", "per_connection"))} |')
    return L + ['']
