#!/usr/bin/env bash
# ctest "bench" smoke test for the report half of bench/run: renders the benchmarks page and its plots from a
# stored result of a real run (bench/testdata/results.json) into a temporary folder, and checks that every
# section and plot is there with figures in it. Measures nothing; keeps bench/suite's report from rotting.
#   bench/report_smoke.sh
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$bench/suite" --report "$bench/testdata/results.json" --docs "$work" >/dev/null
page="$work/benchmarks.md"
for section in "## Machine and versions" "## Headline: switchboard against its peers" "## Ratios" \
  "## Against the targets" "## Fan-out at a fixed rate" "## Saturation" "## Idle connections and connect storm" \
  "## Wire cost" "## The broker hop" "## Where the time and the bytes go"; do
  grep -qF "$section" "$page" || { echo "the page has no section '$section'"; exit 1; }
done
for plot in saturation latency memory wire broker_hop; do
  grep -q "<svg" "$work/benchmarks/$plot.svg" || { echo "no plot $plot.svg"; exit 1; }
  grep -qF "benchmarks/$plot.svg" "$page" || { echo "the page does not embed $plot.svg"; exit 1; }
done
# Every server and transport has a saturation figure in the headline table (not n/a).
for series in "switchboard ws" "switchboard sse" "switchboard poll" "nchan ws" "nchan sse" "nchan poll" "node-ws ws"; do
  grep -qE "^\| $series \| [0-9]" "$page" || { echo "no headline figures for $series"; exit 1; }
done
echo "report rendered: $(wc -l <"$page") lines, $(ls "$work/benchmarks" | wc -l) plots"
