"""The command line of the benchmark suite (see __init__.py): measure and write the page, or re-render it from a
saved results.json."""

import argparse
import json
import os
import sys
import time

# `python3 bench/suite` puts bench/suite/ itself first on the path; the modules import each other as the package
# `suite`, so it is bench/ that must be there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from suite import ROOT  # noqa: E402
from suite.report import write_report  # noqa: E402
from suite.scenarios import run_suite  # noqa: E402
from suite.presence import presence_section, run_presence  # noqa: E402
from suite.presence_nodes import presence_nodes_section, run_presence_nodes  # noqa: E402
from suite.variants import variants_section  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build-bench'))
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--out', default=None)
    ap.add_argument('--report', default=None, help='re-render docs from a results.json')
    ap.add_argument('--docs', default=os.path.join(ROOT, 'docs'))
    ap.add_argument('--variants', action='store_true',
                    help='scenario 7 alone (settings compared); prints its table, leaves the docs as they are')
    ap.add_argument('--presence', action='store_true',
                    help='the presence join storm alone; prints its table, leaves the docs as they are')
    ap.add_argument('--presence-nodes', action='store_true',
                    help='presence across two nodes on Redis and on NATS, a node killed; prints its table')
    a = ap.parse_args()
    if a.presence_nodes:
        print('\n'.join(presence_nodes_section(run_presence_nodes(a.build, a.quick))))
        return
    if a.presence:
        print('\n'.join(presence_section(run_presence(a.build, a.quick))))
        return
    if a.variants:
        out = a.out or os.path.join(a.build, 'bench-results', time.strftime('%Y%m%d-%H%M%S') + '-variants')
        print('\n'.join(variants_section(run_suite(a.build, a.quick, out, only='variants'))))
        return
    if a.report:
        with open(a.report) as f:
            doc = json.load(f)
    else:
        out = a.out or os.path.join(a.build, 'bench-results', time.strftime('%Y%m%d-%H%M%S'))
        doc = run_suite(a.build, a.quick, out)
    write_report(doc, a.docs)


main()
