"""The figures the page shows, drawn from the load generator's results: medians over runs, formatted."""

import statistics


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
