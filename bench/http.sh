#!/usr/bin/env bash
# Load benchmark of the read and auth paths with wrk (apt-get install -y wrk): login, profiles,
# ticket detail and ticket list, 64 connections, on SQLite and PostgreSQL. Prints requests/s,
# p50/p99 latency and the server's peak RSS. Usage: bench/http.sh [sqlite|postgres|both] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
which wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
ENGINES=${1:-both}
DURATION=${2:-10}
CONNS=64
THREADS=2
PG_ADMIN=${TEST_DATABASE_URL:-postgres://root@127.0.0.1:5432/postgres}
# BENCH_NO_BUILD=1 reuses an existing target/release/incident.
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -q
BIN=target/release/incident
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

run_engine() {
  local engine=$1 port=$2 url
  if [ "$engine" = sqlite ]; then
    url="sqlite://$WORK/bench.db"
  else
    local name="incident_bench_$$"
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $name" -qc "CREATE DATABASE $name"
    url="${PG_ADMIN%/*}/$name"
  fi
  export DATABASE_URL=$url SECRET_KEY=bench-secret-key-0123456789 PORT=$port RUST_LOG=warn \
         NOTIFY_WORKER=false DATABASE_MAX_CONNECTIONS=${BENCH_POOL:-16} METRICS_ADDR=off
  # The setup below creates 40 tickets as one client at once.
  export TICKET_CREATE_RATE=off
  echo "bench-password" | $BIN create-user --username admin --role ADMIN --password-stdin >/dev/null
  echo "bench-password" | $BIN create-user --username client --role CLIENT --password-stdin >/dev/null
  $BIN serve & SERVER=$!
  until curl -s -o /dev/null "localhost:$port/healthz"; do sleep 0.1; done
  local base="http://127.0.0.1:$port"
  local admin client
  admin=$(curl -s -X POST "$base/api/auth/login/" -H 'content-type: application/json' -d '{"username":"admin","password":"bench-password"}' | json '["access"]')
  client=$(curl -s -X POST "$base/api/auth/login/" -H 'content-type: application/json' -d '{"username":"client","password":"bench-password"}' | json '["access"]')
  local id
  for i in $(seq 1 40); do
    id=$(curl -s -X POST "$base/api/tickets/" -H "Authorization: Bearer $client" -H 'content-type: application/json' \
      -d "{\"title\":\"Bench ticket $i\",\"description\":\"Something is broken, number $i\",\"priority\":\"HIGH\"}" | json '["id"]')
  done
  curl -s -X POST "$base/api/tickets/$id/open_ticket/" -H "Authorization: Bearer $admin" >/dev/null
  curl -s -X POST "$base/api/tickets/$id/add_comment/" -H "Authorization: Bearer $admin" -H 'content-type: application/json' -d '{"comment":"looking into it"}' >/dev/null

  cat > "$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body   = '{"username":"client","password":"bench-password"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  report() {
    local label=$1; shift
    local out
    out=$(wrk -t$THREADS -c$CONNS -d${DURATION}s --latency "$@")
    local rps p50 p99 non2xx
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    printf '%-9s %-34s %10s req/s   p50 %8s   p99 %8s   %s\n' "$engine" "$label" "$rps" "$p50" "$p99" "${non2xx:+non-2xx: $non2xx}"
  }
  report "POST /api/auth/login/" -s "$WORK/login.lua" "$base/api/auth/login/"
  report "GET /api/profiles/ (auth)" -H "Authorization: Bearer $client" "$base/api/profiles/"
  report "GET /api/tickets/{id}/" -H "Authorization: Bearer $admin" "$base/api/tickets/$id/"
  report "GET /api/tickets/ (20 of 40)" -H "Authorization: Bearer $admin" "$base/api/tickets/"
  printf '%-9s %-34s %s\n' "$engine" "server peak RSS" "$(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  if [ "$engine" = postgres ]; then psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS incident_bench_$$ WITH (FORCE)"; fi
}

echo "wrk -t$THREADS -c$CONNS -d${DURATION}s, server and load generator on this $(nproc)-core machine"
case $ENGINES in
  sqlite) run_engine sqlite 18181 ;;
  postgres) run_engine postgres 18182 ;;
  *) run_engine sqlite 18181; run_engine postgres 18182 ;;
esac
