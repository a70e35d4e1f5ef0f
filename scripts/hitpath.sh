#!/usr/bin/env bash
# In-process hit-path benchmarks (issue 7): BenchmarkDotNet over TestServer, six variants in one run, and the
# endpoint's request delegate alone against a floor delegate; then the chart. Copies the reports to docs/benchmarks/hitpath-bdn.{md,csv} and redraws docs/benchmarks/hitpath.svg
# (which also reads docs/benchmarks/load.md from scripts/load.sh).
#   bash scripts/hitpath.sh            # the benchmark and the chart
#   bash scripts/hitpath.sh --profile  # also one EventPipe CPU profile of the generated endpoint, summarized
set -euo pipefail
cd "$(dirname "$0")/.."
project=benchmarks/Caching.Benchmarks.HitPath
results=$project/BenchmarkDotNet.Artifacts/results
rm -rf "$results"
dotnet run -c Release --project "$project" -- --filter '*'
cp "$results/HitPathBenchmarks-report-github.md" docs/benchmarks/hitpath-bdn.md
cp "$results/HitPathBenchmarks-report.csv" docs/benchmarks/hitpath-bdn.csv
cp "$results/HitPathDelegateBenchmarks-report-github.md" docs/benchmarks/hitpath-delegate-bdn.md
python3 scripts/hitpath-chart.py
if [ "${1:-}" = "--profile" ]; then
  dotnet run -c Release --project "$project" -- --filter '*Generated*' --profiler EP
  trace=$(ls -t "$project"/BenchmarkDotNet.Artifacts/*.speedscope.json | head -1)
  python3 scripts/profile-summary.py "$trace" --top 30 Caching.Runtime Routing TestHost AspNetCore System.Net.Http | tee docs/benchmarks/hitpath-profile.txt
fi
