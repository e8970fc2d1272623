#!/usr/bin/env bash
# Scale benchmark (issue 11): fills a database through bulk SQL (50 users; N tickets, 3 history
# rows and 10 notification rows per ticket, of every channel and status, dated over three years),
# then serves it and measures the list and count endpoints with wrk -t2 -c16, then the workflow
# steps on fresh tickets (one request at a time, p50/p99 per step), then, server stopped, the
# worker's claim of a batch of due rows (bench/claim.rs, if built: cargo build --release --bench
# claim). Prints one table per engine and size (req/s, p50, p99), the fill time and the server's
# peak RSS. Figures measured on this machine: bench/RESULTS.md.
# Usage: bench/scale.sh [sqlite|postgres|both] [small|medium|full] [seconds] [migrations]
#   migrations: instead of serving, builds the schema of migration 0006, fills it, then times each
#   later migration's SQL (what `incident migrate` runs) on the populated database.
#   small: 1k tickets / 10k log rows; medium: 100k / 1M; full: 1M / 10M.
# BENCH_ROUNDS (1) repeats the measurements on the one fill; STEP_WORKFLOWS (100) workflows per
# round; CLAIM_ROWS (5000) due rows the claim bench adds and claims per round.
# BENCH_NO_BUILD=1 reuses target/release/incident ($CARGO_TARGET_DIR honoured); BENCH_BIN names
# another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${4:-serve}" = migrations ] || which wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
ENGINES=${1:-both}
SIZE=${2:-medium}
DURATION=${3:-10}
MODE=${4:-serve}
case $SIZE in
  small) TICKETS=1000 ;;
  medium) TICKETS=100000 ;;
  full) TICKETS=1000000 ;;
  *) echo "size: small, medium or full"; exit 1 ;;
esac
PG_ADMIN=${TEST_DATABASE_URL:-postgres://root@127.0.0.1:5432/postgres}
[ -n "${BENCH_NO_BUILD:-}" ] || [ "$MODE" = migrations ] || cargo build --release -q --bin incident
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/incident}
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

# The fill, written once with three engine-specific pieces: a number series, "a random point in
# the last three years" and the timestamp text.
fill_sql() {
  local series=$1 ago=$2 ts=$3 n=$TICKETS
  cat <<SQL
INSERT INTO users (username, password, email, first_name, last_name, is_active, date_joined)
  SELECT 'user' || x, 'unusable', 'user' || x || '@example.com', 'First' || x, 'Last' || x, TRUE, $(printf "$ts" "$(printf "$ago" 1100)")
  FROM ($(printf "$series" 47)) s;
INSERT INTO user_profiles (user_id, role, whatsapp_number, created_at, updated_at)
  SELECT id, CASE WHEN id % 5 = 0 THEN 'SUPPORT' ELSE 'CLIENT' END, '+3462' || (1000000 + id), date_joined, date_joined
  FROM users WHERE username LIKE 'user%';
INSERT INTO tickets (project_name, title, description, priority, category, status, created_by_id, created_at, updated_at, version)
  SELECT 'Project ' || (x % 40), 'Ticket ' || x || ' cannot log in', 'Steps to reproduce number ' || x || ': open the page and wait',
    CASE x % 3 WHEN 0 THEN 'HIGH' WHEN 1 THEN 'MEDIUM' ELSE 'LOW' END,
    CASE x % 4 WHEN 0 THEN 'BUG' WHEN 1 THEN 'PROBLEM' WHEN 2 THEN 'SERVICE_DOWN' ELSE 'NEW_FEATURE' END,
    CASE x % 6 WHEN 0 THEN 'NEW' WHEN 1 THEN 'OPENED' WHEN 2 THEN 'IN_PROGRESS' WHEN 3 THEN 'RESOLVED' WHEN 4 THEN 'WAITING_APPROVAL' ELSE 'CLOSED' END,
    CASE WHEN x % 50 = 0 THEN 2 ELSE 4 + (x % 47) END, $(printf "$ts" "$(printf "$ago" 1095)"), $(printf "$ts" "$(printf "$ago" 30)"), 3
  FROM ($(printf "$series" $n)) s;
INSERT INTO ticket_assignees (ticket_id, user_id)
  SELECT t.id, 3 FROM tickets t WHERE t.id % 3 = 0;
INSERT INTO ticket_history (ticket_id, changed_by_id, status_from, status_to, comment, timestamp)
  SELECT t.id, 1, 'NEW', 'OPENED', 'step ' || k.x, t.created_at
  FROM tickets t CROSS JOIN ($(printf "$series" 3)) k;
INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, status, sent_at, created_at,
    is_read, event, step, provider, provider_message_id, delivery_status, attempts, updated_at)
  SELECT t.id, 1 + ((t.id + k.x) % 50),
    CASE k.x % 3 WHEN 0 THEN 'SYSTEM' WHEN 1 THEN 'WHATSAPP' ELSE 'WHATSAPP' END,
    'Ticket ' || t.id, 'Ticket ' || t.id || ' moved on',
    CASE WHEN k.x % 3 = 0 THEN 'SENT' WHEN (t.id + k.x) % 50 = 0 THEN 'FAILED' ELSE 'SENT' END,
    t.created_at, t.created_at, (t.id + k.x) % 4 <> 0, 'ticket_opened', k.x, 'twilio', 'SM' || t.id || '_' || k.x,
    CASE WHEN k.x % 3 = 0 THEN NULL WHEN (t.id + k.x) % 50 = 0 THEN 'failed' ELSE 'delivered' END, 1, t.created_at
  FROM tickets t CROSS JOIN ($(printf "$series" 10)) k;
SQL
}

# Times migrations 0007 onward on a database filled at the schema of 0006: the files' SQL run by
# sqlite3 / psql, one transaction each, as sqlx runs them.
time_migrations() {
  local engine=$1 url=$2 f
  local three="INSERT INTO users (username, password, date_joined) VALUES ('admin', 'x', CURRENT_TIMESTAMP), ('client', 'x', CURRENT_TIMESTAMP), ('dev', 'x', CURRENT_TIMESTAMP);"
  local run
  if [ "$engine" = sqlite ]; then run() { sqlite3 "$WORK/scale.db"; }; else run() { psql -q -v ON_ERROR_STOP=1 "$url"; }; fi
  for f in migrations/$engine/000[1-6]_*.sql; do run < "$f" >/dev/null; done
  echo "$three" | run >/dev/null
  local started=$(date +%s)
  if [ "$engine" = sqlite ]; then
    fill_sql "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %s) SELECT x FROM c" \
      "datetime('now', '-' || (abs(random()) %% (%s * 86400)) || ' seconds')" "strftime('%%Y-%%m-%%dT%%H:%%M:%%S+00:00', %s)" > "$WORK/fill.sql"
    { echo "PRAGMA journal_mode=WAL; BEGIN;"; cat "$WORK/fill.sql"; echo "COMMIT; ANALYZE;"; } | run >/dev/null
  else
    fill_sql "SELECT generate_series(1, %s) AS x" "now() - (random() * %s) * interval '1 day'" "%s" > "$WORK/fill.sql"
    { echo "BEGIN;"; cat "$WORK/fill.sql"; echo "COMMIT; ANALYZE;"; } | run
  fi
  echo "$engine, size $SIZE: $TICKETS tickets, $((TICKETS * 10)) log rows at migration 0006 (filled in $(( $(date +%s) - started ))s)"
  for f in migrations/$engine/000[7-9]_*.sql migrations/$engine/00[1-9][0-9]_*.sql; do
    [ -f "$f" ] || continue
    local t0=$(date +%s.%N)
    { echo "BEGIN;"; cat "$f"; echo "COMMIT;"; } | run >/dev/null
    printf '%-50s %8.1f s\n' "$(basename "$f")" "$(echo "$(date +%s.%N) - $t0" | bc)"
  done
}

# Workflow steps on fresh tickets among the filled ones, one request at a time on one keep-alive
# connection (as a person clicks): create (client), open_ticket and assign (admin), start_work and
# finish_work (developer), approve (client); each step writes its history and notification rows.
# Prints p50 and p99 per step and over all steps.
steps() {
  python3 - "$@" "${STEP_WORKFLOWS:-100}" <<'PY'
import http.client, json, math, sys, time
port, admin, client, dev, dev_id, n = sys.argv[1:5] + [int(sys.argv[5]), int(sys.argv[6])]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def call(token, method, path, body):
    started = time.perf_counter()
    conn.request(method, path, json.dumps(body), {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse(); data = r.read()
    took = (time.perf_counter() - started) * 1000
    if r.status >= 300: sys.exit(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data), took
names = ["create", "open_ticket", "assign", "start_work", "finish_work", "approve"]
took = {k: [] for k in names}
for i in range(n):
    t, ms = call(client, "POST", "/api/tickets/", {"title": f"Bench step {i}", "description": "The login form fails on submit",
        "priority": "HIGH", "category": "BUG", "project_name": "Bench"})
    took["create"].append(ms)
    for name, token, body in [("open_ticket", admin, {}), ("assign", admin, {"assigned_to": [dev_id]}),
                              ("start_work", dev, {}), ("finish_work", dev, {"comment": "Fixed the login form"}), ("approve", client, {})]:
        took[name].append(call(token, "POST", f"/api/tickets/{t['id']}/{name}/", body)[1])
def pct(v, q):
    v = sorted(v); return v[max(1, math.ceil(q * len(v))) - 1]
for name in names + ["all steps"]:
    v = sum(took.values(), []) if name == "all steps" else took[name]
    print(f"{'workflow step ' + name + f' ({n} sequential)':<58} {'':>10} {pct(v, .5):>8.2f}ms {pct(v, .99):>8.2f}ms")
PY
}

# The worker's claim at this size (bench/claim.rs), when its binary is built.
claim() {
  local bin
  bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/claim-* 2>/dev/null | grep -v '\.d$' | head -1) || true
  if [ -z "$bin" ]; then echo "(claim: build it with cargo build --release --bench claim)"; return; fi
  "$bin" --bench "$1" "${CLAIM_ROWS:-5000}"
}

run_engine() {
  local engine=$1 port=$2 url started
  if [ "$engine" = sqlite ]; then
    url="sqlite://$WORK/scale.db"
  else
    local name="incident_scale_$$"
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $name" 2>/dev/null; psql "$PG_ADMIN" -qc "CREATE DATABASE $name"
    url="${PG_ADMIN%/*}/$name"
  fi
  if [ "$MODE" = migrations ]; then
    time_migrations "$engine" "$url"
    [ "$engine" = postgres ] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS incident_scale_$$ WITH (FORCE)"
    return
  fi
  export DATABASE_URL=$url SECRET_KEY=bench-secret-key-0123456789 PORT=$port RUST_LOG=warn NOTIFY_WORKER=false \
    TICKET_CREATE_RATE=off COMMENT_RATE=off
  for u in admin:ADMIN client:CLIENT dev:SUPPORT; do
    echo "bench-password" | $BIN create-user --username "${u%:*}" --role "${u#*:}" --password-stdin >/dev/null 2>&1
  done
  started=$(date +%s)
  if [ "$engine" = sqlite ]; then
    fill_sql "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %s) SELECT x FROM c" \
      "datetime('now', '-' || (abs(random()) %% (%s * 86400)) || ' seconds')" "strftime('%%Y-%%m-%%dT%%H:%%M:%%S+00:00', %s)" \
      | sed 's/^INSERT INTO/INSERT INTO/' > "$WORK/fill.sql"
    { echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; BEGIN;"; cat "$WORK/fill.sql"; echo "COMMIT; ANALYZE;"; } \
      | sqlite3 "$WORK/scale.db" >/dev/null
  else
    fill_sql "SELECT generate_series(1, %s) AS x" "now() - (random() * %s) * interval '1 day'" "%s" > "$WORK/fill.sql"
    # The counters' statement-level triggers keep `notification_counts` exact through the fill.
    { echo "BEGIN;"; cat "$WORK/fill.sql"
      echo "COMMIT; ANALYZE;"; } | psql -q -v ON_ERROR_STOP=1 "$url"
  fi
  local filled=$(( $(date +%s) - started ))
  $BIN serve >/dev/null 2>&1 & SERVER=$!
  until curl -s -o /dev/null "localhost:$port/healthz"; do sleep 0.1; done
  local base="http://127.0.0.1:$port" admin client dev dev_id
  login() { curl -s -X POST "$base/api/auth/login/" -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"bench-password\"}"; }
  admin=$(login admin | json '["access"]'); client=$(login client | json '["access"]')
  dev=$(login dev); dev_id=$(echo "$dev" | json '["user"]["id"]'); dev=$(echo "$dev" | json '["access"]')
  echo
  echo "$engine, size $SIZE: $TICKETS tickets, $((TICKETS * 3)) history rows, $((TICKETS * 10)) log rows (filled in ${filled}s); wrk -t2 -c16 -d${DURATION}s"
  printf '%-58s %10s %10s %10s\n' request req/s p50 p99
  report() {
    local label=$1 token=$2 path=$3 out
    out=$(wrk -t2 -c16 -d${DURATION}s --timeout 30s --latency -H "Authorization: Bearer $token" "$base$path")
    printf '%-58s %10s %10s %10s %s\n' "$label" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
      "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
      "$(echo "$out" | awk '/Non-2xx/ {print "non-2xx: " $5}')"
  }
  for round in $(seq "${BENCH_ROUNDS:-1}"); do
    echo "round $round of ${BENCH_ROUNDS:-1} (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    report "notifications ?notification_type=WHATSAPP (admin)" "$admin" "/api/notifications/?notification_type=WHATSAPP"
    report "notifications ?notification_type=WHATSAPP&status=FAILED" "$admin" "/api/notifications/?notification_type=WHATSAPP&status=FAILED"
    report "notifications/stats/ (admin)" "$admin" "/api/notifications/stats/"
    report "notifications/unread_count/ (admin)" "$admin" "/api/notifications/unread_count/"
    report "notifications ?notification_type=WHATSAPP&ticket= (admin)" "$admin" "/api/notifications/?notification_type=WHATSAPP&ticket=$((TICKETS / 2))"
    report "notifications ?notification_type=WHATSAPP&recipient= (admin)" "$admin" "/api/notifications/?notification_type=WHATSAPP&recipient=10"
    report "notifications ?notification_type=WHATSAPP&delivery_status=failed" "$admin" "/api/notifications/?notification_type=WHATSAPP&delivery_status=failed"
    report "notifications/unread/ (admin)" "$admin" "/api/notifications/unread/"
    report "notifications/unread_count/ (a client)" "$client" "/api/notifications/unread_count/"
    report "tickets/ page 1 (admin)" "$admin" "/api/tickets/"
    report "tickets/ page 50 (admin)" "$admin" "/api/tickets/?page=50"
    report "tickets/?status=OPENED&priority=MEDIUM (admin)" "$admin" "/api/tickets/?status=OPENED&priority=MEDIUM"
    report "tickets/?ordering=-priority&page=50 (admin)" "$admin" "/api/tickets/?ordering=-priority&page=50"
    report "tickets/?search=4242 cannot (admin, a few match)" "$admin" "/api/tickets/?search=4242%20cannot"
    report "tickets/?search=project 17 (admin, 1 in 40 match)" "$admin" "/api/tickets/?search=project%2017"
    report "tickets/?search=reproduce (admin, every ticket matches)" "$admin" "/api/tickets/?search=reproduce"
    report "tickets/ (a client's own)" "$client" "/api/tickets/"
    report "tickets/ (a developer's)" "$dev" "/api/tickets/"
    report "tickets/{id}/ (admin)" "$admin" "/api/tickets/$((TICKETS / 2))/"
    steps "$port" "$admin" "$client" "$dev" "$dev_id"
  done
  printf '%-58s %s\n' "server peak RSS" "$(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
  for round in $(seq "${BENCH_ROUNDS:-1}"); do claim "$url"; done
  if [ "$engine" = postgres ]; then psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS incident_scale_$$ WITH (FORCE)"; fi
}

echo "server and load generator on this $(nproc)-core machine (shared: figures are indicative)"
case $ENGINES in
  sqlite) run_engine sqlite 18191 ;;
  postgres) run_engine postgres 18192 ;;
  *) run_engine sqlite 18191; run_engine postgres 18192 ;;
esac
