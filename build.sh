#!/usr/bin/env bash
# The project's one entry point for developers and CI.
#   ./build.sh test     install what the tests need (redis-server, clang, zlib), build, run every test, then
#                       publish the sample with Native AOT and run its end-to-end tests on the native binary
#   ./build.sh sample   run samples/BlogApi on the embedded store
#   ./build.sh pack     make the Caching.Runtime package in artifacts/packages
#   ./build.sh bench    invalidation benchmarks (1,000,000 keys, one node and a cluster) -> docs/benchmarks/
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Redis tests run a real redis-server (and redis-cli for clusters) from Debian's packages.
ensure_redis() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return
  fi
  echo "build.sh: installing redis-server from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
  command -v redis-server >/dev/null 2>&1 || { echo "build.sh: redis-server could not be installed" >&2; exit 1; }
}

# Native AOT publishing (a package consumer test, the sample's AOT check) links with clang and zlib; the sample's
# AOT check (scripts/aot-sample.sh) also uses curl and python3.
ensure_native_toolchain() {
  local missing=()
  command -v clang >/dev/null 2>&1 || missing+=(clang)
  [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  echo "build.sh: installing ${missing[*]} from Debian's packages (Native AOT)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  command -v clang >/dev/null 2>&1 && [ -e /usr/include/zlib.h ] && command -v curl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 \
    || { echo "build.sh: ${missing[*]} could not be installed" >&2; exit 1; }
}

# Prints one closing line, "Tests: N passed, N failed, N skipped", summed over the TRX files of this run.
summarize() {
  local dir=$1 passed=0 failed=0 total=0 executed=0 counters
  for trx in "$dir"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
    failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
    total=$((total + $(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")))
    executed=$((executed + $(sed -E 's/.* executed="([0-9]+)".*/\1/' <<<"$counters")))
  done
  echo "Tests: ${passed} passed, ${failed} failed, $((total - executed)) skipped"
}

run_tests() {
  ensure_redis
  ensure_native_toolchain
  local results
  results="$(pwd)/artifacts/test-results"
  rm -rf "$results"
  dotnet build Caching.sln -c Release
  local status=0
  dotnet test Caching.sln -c Release --no-build --results-directory "$results" --logger "trx" --logger "console;verbosity=normal" "$@" || status=$?
  # The sample published with Native AOT (zero warnings), its start-up time, and its end-to-end tests run
  # against the native executable.
  if [ $# -eq 0 ]; then
    TEST_RESULTS_DIR="$results" bash scripts/aot-sample.sh || status=$?
  fi
  summarize "$results"
  return $status
}

case "${1:-test}" in
  test) shift || true; run_tests "$@" ;;
  sample) shift || true; dotnet run --project samples/BlogApi "$@" ;;
  pack) dotnet pack src/Caching.Runtime/Caching.Runtime.csproj -c Release -o artifacts/packages ;;
  bench)
    shift || true
    ensure_redis
    dotnet run -c Release --project benchmarks/Caching.Benchmarks.Invalidation -- "$@"
    python3 scripts/chart.py docs/benchmarks/invalidation.json docs/benchmarks/invalidation.svg ;;
  *) echo "usage: ./build.sh [test|sample|pack|bench]" >&2; exit 2 ;;
esac
