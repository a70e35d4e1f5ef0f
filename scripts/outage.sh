#!/usr/bin/env bash
# Database outage under load (issue 14; docs/resilience.md, docs/benchmarks.md). Builds the sample, runs it on the
# in-process store with a fresh database (connection pooling off, so that every query opens the file), and runs
# scripts/outage-load.py against it: warm reads and a few edits, the database files moved away for 30 s while the
# live stats and the report expire. Writes docs/benchmarks/outage.json.
#   bash scripts/outage.sh [--outage-seconds 30] [--duration 100]   (extra arguments go to outage-load.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build -c Release samples/BlogApi -v q -nologo >/dev/null
work=$(mktemp -d)
app_pid=""
cleanup() { if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
db="$work/blog.db"
(cd samples/BlogApi && exec dotnet bin/Release/net10.0/BlogApi.dll --urls "http://127.0.0.1:$port" \
  "--ConnectionStrings:Blog=Data Source=$db;Pooling=False" --Logging:LogLevel:Default=Warning) >"$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 600); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log" >&2; exit 1; }
  sleep 0.1
done
mkdir -p docs/benchmarks
python3 scripts/outage-load.py --base "http://127.0.0.1:$port" --db "$db" --out docs/benchmarks/outage.json "$@"
echo "app log: $(grep -c 'stale' "$work/app.log" || true) lines about stale answers; first of them:"
grep -m 3 -i 'stale' "$work/app.log" || true
