# Shared set-up of the wrk benchmarks (sourced by scripts/load.sh, http-efficiency.sh, cold-misses.sh): installs
# wrk and Redis from Debian's packages when missing, builds the load app, starts a private redis-server on a free
# loopback port ($redis_port) and stops it, and the app, on exit.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v wrk >/dev/null || ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk redis-server redis-tools >/dev/null
fi
dotnet build -c Release benchmarks/Caching.Benchmarks.Load >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no >/dev/null &
redis_pid=$!
app_pid=""
cleanup() { [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true; kill "$redis_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# start_app PORT [ARGS...]: the load app on 127.0.0.1:PORT, waited for until it answers.
start_app() {
  local port=$1; shift
  dotnet benchmarks/Caching.Benchmarks.Load/bin/Release/net10.0/Caching.Benchmarks.Load.dll --urls "http://127.0.0.1:$port" "$@" >/dev/null 2>&1 &
  app_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/nocache/posts/1" >/dev/null && return; sleep 0.1; done
}
stop_app() { kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""; }
