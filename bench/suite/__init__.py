"""switchboard's benchmark suite: runs the scenarios against switchboard, Nchan and a Node `ws` server with the same
load generator, then writes docs/benchmarks.md and the SVG plots in docs/benchmarks/.

Called by bench/run (which installs the peers and builds); standard library only. Run the folder itself:

  python3 bench/suite --build DIR [--quick] [--out RESULTS_DIR]
  python3 bench/suite --report RESULTS_DIR/results.json      # re-render the page from saved results

processes.py starts and stops the servers under test, scenarios.py runs the load generator against them,
variants.py compares switchboard with itself (one setting changed), environment.py records the machine, report.py
(with figures.py, svg.py, broker_hop_report.py) writes the page.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, 'bench')


def log(*args):
    print('[bench]', *args, file=sys.stderr, flush=True)
