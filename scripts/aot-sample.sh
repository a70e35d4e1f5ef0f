#!/usr/bin/env bash
# Native AOT for samples/BlogApi (issue 8). Publishes the sample as a native executable to artifacts/blogapi-aot,
# prints its size, the publish time and the number of publish warnings (any warning fails the script), measures
# its start-up time next to the JIT build's (dotnet BlogApi.dll), then runs the sample's end-to-end tests
# (tests/BlogApi.Tests, embedded store and redis-server) against the native executable. The controller tests
# (trait Needs=Mvc) are filtered out: MVC is not supported under Native AOT, so the AOT build has no controller.
#   bash scripts/aot-sample.sh
# Exits non-zero on any failure. Installs clang and zlib1g-dev (Native AOT's linker and zlib) and redis-server
# (for the tests) from Debian's packages when missing, with sudo unless run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

out=artifacts/blogapi-aot
publish_log=artifacts/blogapi-aot-publish.log
runs=5

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "aot-sample: installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  command -v clang >/dev/null 2>&1 && [ -f /usr/include/zlib.h ] && command -v redis-server >/dev/null 2>&1 \
    || { echo "aot-sample: clang, zlib1g-dev or redis-server could not be installed" >&2; exit 1; }
fi

# The JIT build of the sample (for the comparison) and the tests, which run with --no-build below.
echo "aot-sample: building tests/BlogApi.Tests and the sample (Release)"
dotnet build tests/BlogApi.Tests -c Release -v:q -nologo >/dev/null || { dotnet build tests/BlogApi.Tests -c Release -v:q -nologo; exit 1; }

# A clean native compile every time, so that every trim and AOT warning is reported again (an incremental publish
# that skips the compiler would report none).
rm -rf "$out" samples/BlogApi/obj/Release/net10.0/linux-x64 samples/BlogApi/bin/Release/net10.0/linux-x64
mkdir -p artifacts
echo "aot-sample: dotnet publish samples/BlogApi -c Release -r linux-x64 -p:PublishAot=true -o $out"
started=$(date +%s%N)
if ! dotnet publish samples/BlogApi -c Release -r linux-x64 -p:PublishAot=true -o "$out" >"$publish_log" 2>&1; then
  tail -n 40 "$publish_log"
  echo "aot-sample: publish failed (log: $publish_log)" >&2
  exit 1
fi
publish_ms=$(( ($(date +%s%N) - started) / 1000000 ))
warnings=$(grep -E 'warning [A-Z]+[0-9]+' "$publish_log" | sort -u || true)
warning_count=$(grep -c . <<<"$warnings" || true)
binary="$PWD/$out/BlogApi"
[ -x "$binary" ] || { echo "aot-sample: no executable at $binary" >&2; exit 1; }
bytes=$(stat -c %s "$binary")
runtime_bytes=$(( bytes + $(stat -c %s "$out/libe_sqlite3.so") ))
echo
echo "publish time:     $(awk -v ms="$publish_ms" 'BEGIN { printf "%.1f s", ms / 1000 }')"
echo "native binary:    $out/BlogApi, $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1048576 }'))"
echo "                  with libe_sqlite3.so, which it loads at run time: $runtime_bytes bytes ($(awk -v b="$runtime_bytes" 'BEGIN { printf "%.1f MB", b / 1048576 }'))"
echo "publish warnings: $warning_count"
if [ "$warning_count" -ne 0 ]; then
  echo "$warnings"
  echo "aot-sample: the publish must have no warnings (log: $publish_log)" >&2
  exit 1
fi

# Start-up: process start to the first successful GET /health, in ms. The app is run from its own folder (its
# content root, where appsettings.json is), on the in-process store, with the database file given.
work=$(mktemp -d)
app_pid=""
cleanup() { if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

startup_ms() { # database-file directory command...
  local db=$1 dir=$2; shift 2
  local port t0 t1
  port=$(free_port)
  t0=$(date +%s%N)
  (cd "$dir" && exec "$@" --urls "http://127.0.0.1:$port" "--ConnectionStrings:Blog=Data Source=$db") >"$work/run.log" 2>&1 &
  app_pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do
    if ! kill -0 "$app_pid" 2>/dev/null; then
      cat "$work/run.log" >&2
      echo "aot-sample: the sample exited before answering /health" >&2
      return 1
    fi
    if [ $(( ($(date +%s%N) - t0) / 1000000000 )) -ge 60 ]; then
      kill "$app_pid" 2>/dev/null || true
      echo "aot-sample: no answer from /health in 60 s" >&2
      return 1
    fi
    sleep 0.005
  done
  t1=$(date +%s%N)
  kill "$app_pid"
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
  echo $(( (t1 - t0) / 1000000 ))
}

median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One seeded database, copied before each "existing database" run (so no run sees another's writes). Its -wal
# and -shm files are copied with it: the database is in WAL mode and may not be checkpointed at exit.
startup_ms "$work/seeded.db" "$PWD/$out" "$binary" >/dev/null
copy_seeded() { local f; for f in "$work"/seeded.db*; do cp "$f" "$work/run.db${f#"$work"/seeded.db}"; done; }

measure() { # label directory command...
  local label=$1 dir=$2; shift 2
  local fresh=() existing=() i
  for i in $(seq 1 "$runs"); do
    rm -f "$work"/run.db*
    fresh+=("$(startup_ms "$work/run.db" "$dir" "$@")")
    rm -f "$work"/run.db*
    copy_seeded
    existing+=("$(startup_ms "$work/run.db" "$dir" "$@")")
  done
  printf '%-21s %9s ms %14s ms    runs: new %s; existing %s\n' "$label" \
    "$(median <<<"${fresh[*]}")" "$(median <<<"${existing[*]}")" "${fresh[*]}" "${existing[*]}"
}

echo
echo "start-up: process start to the first successful GET /health, median of $runs runs, in ms"
echo "  new database:      no database file; the sample creates the schema and seeds 2,412 rows before it listens"
echo "  existing database: a fresh copy of an already seeded database"
printf '%-21s %12s %17s\n' "" "new database" "existing database"
measure "native (Native AOT)" "$PWD/$out" "$binary"
measure "dotnet BlogApi.dll" "$PWD/samples/BlogApi/bin/Release/net10.0" dotnet "$PWD/samples/BlogApi/bin/Release/net10.0/BlogApi.dll"

echo
echo "aot-sample: BLOGAPI_EXECUTABLE=$binary dotnet test tests/BlogApi.Tests -c Release --no-build --filter \"Needs!=Mvc\""
# TEST_RESULTS_DIR (set by ./build.sh test): also write a TRX file there, counted in the run's closing line.
results=()
if [ -n "${TEST_RESULTS_DIR:-}" ]; then
  results=(--results-directory "$TEST_RESULTS_DIR" --logger "trx;LogFileName=blogapi-native-aot.trx")
fi
BLOGAPI_EXECUTABLE="$binary" dotnet test tests/BlogApi.Tests -c Release --no-build --filter "Needs!=Mvc" "${results[@]}"
echo "aot-sample: done"
