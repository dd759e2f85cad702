#!/usr/bin/env bash
# The job list API over 100,000 jobs: seeds the jobs straight into the platform's own PostgreSQL (generate_series: five
# users, three accounts, the bench user master of one with three members), shows the query plans of the list's
# queries, then drives GET /api/v1/jobs with wrk (fixed connections: wrk2's constant rate is not available here)
# through Web's front door, scenario by scenario: first pages, filters, a name search, a page deep in the history.
# Prints achieved requests/s, p50 and p99, and the share of the machine's CPU wrk itself used.
#   bench/jobs-list/run.sh [seconds per scenario (15)] [connections (16)] [jobs (100000)]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
connections=${2:-16}
count=${3:-100000}
command -v wrk >/dev/null || { echo "wrk is needed: sudo apt-get install wrk" >&2; exit 1; }

source bench/common.sh
start_platform
sign_up read
auth="Authorization: Bearer $KEY"

register() { # email: signs up on the page like a person
  local jar="$WORK/cookies-$1" token
  token=$(curl -s -c "$jar" "$WEB/Account/Register" | grep -oE 'name="__RequestVerificationToken" type="hidden" value="[^"]+"' | sed 's/.*value="//;s/"$//')
  curl -s -b "$jar" -c "$jar" -o /dev/null -X POST "$WEB/Account/Register" \
    --data-urlencode "Input.Email=$1" --data-urlencode "Input.DisplayName=$1" \
    --data-urlencode "Input.Password=benchmark password 1" --data-urlencode "Input.ConfirmPassword=benchmark password 1" \
    --data-urlencode "__RequestVerificationToken=$token"
}
for n in 1 2 3 4; do register "member$n@example.test"; done

pid_file=$( (ls "$WORK"/data/postgres/postmaster.pid 2>/dev/null || true) | head -1)
home=$(dirname "$(dirname "$pid_file")")
pg_port=$(sed -n 4p "$pid_file")
psql_bin=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1); psql_bin=${psql_bin:-psql}
q() { PGPASSWORD=$(cat "$home/postgres.password") "$psql_bin" -h 127.0.0.1 -p "$pg_port" -U platform -d platform -X -q -At "$@"; }

started=$(date +%s.%N)
q <<SQL
-- The bench user's account gets members 1-3; member 4 keeps a personal account of their own (others' jobs).
INSERT INTO "Memberships" ("AccountId", "UserId", "Role", "JoinedAt")
SELECT b."CurrentAccountId", u."Id", 'Member', now()
FROM "AspNetUsers" b, "AspNetUsers" u
WHERE b."Email" = 'bench@example.test' AND u."Email" IN ('member1@example.test', 'member2@example.test', 'member3@example.test');

-- Jobs: 40% the bench user's, 30% its members' in its account, 30% member 4's elsewhere; over the last 90 days.
WITH people AS (
  SELECT array_agg("Id" ORDER BY "Email") AS ids, array_agg("CurrentAccountId" ORDER BY "Email") AS accounts FROM "AspNetUsers"
  WHERE "Email" IN ('bench@example.test', 'member1@example.test', 'member2@example.test', 'member3@example.test', 'member4@example.test')
), rows AS (
  SELECT i, CASE WHEN i % 10 < 4 THEN 1 WHEN i % 10 < 7 THEN 2 + i % 3 ELSE 5 END AS who FROM generate_series(1, $count) AS i
)
INSERT INTO "Jobs" ("Id", "AccountId", "OwnerUserId", "Name", "Type", "Command", "Options", "Datasets", "Priority", "Desired",
  "Observed", "Generation", "ObservedGeneration", "Backend", "SubmittedAt", "StartedAt", "FinishedAt", "UpdatedAt", "Reason")
SELECT gen_random_uuid(),
  CASE WHEN r.who = 5 THEN p.accounts[5] ELSE p.accounts[1] END,
  p.ids[r.who],
  (ARRAY['mnist', 'resnet50', 'bert-base', 'wide-deep', 'ctr-model', 'word2vec'])[1 + r.i % 6] || '-' || (r.i / 7) || (CASE WHEN r.i % 13 = 0 THEN '-sweep' ELSE '' END),
  CASE WHEN r.i % 5 = 0 THEN 'Evaluate' ELSE 'Train' END, ARRAY['python3', 'train.py'], '{"epochs": "3"}', ARRAY[]::text[], 0, 'Running',
  CASE WHEN r.i > $count - 60 THEN 'Running' WHEN r.i > $count - 300 THEN 'Queued' WHEN r.i % 9 = 0 THEN 'Failed' WHEN r.i % 17 = 0 THEN 'Stopped' ELSE 'Succeeded' END,
  1, 1, 'process',
  now() - interval '90 days' + (r.i::double precision / $count) * interval '90 days',
  now() - interval '90 days' + (r.i::double precision / $count) * interval '90 days' + interval '1 minute',
  CASE WHEN r.i > $count - 300 THEN NULL ELSE now() - interval '90 days' + (r.i::double precision / $count) * interval '90 days' + interval '20 minutes' END,
  now(), NULL
FROM rows r, people p;
UPDATE "Jobs" SET "StartedAt" = NULL WHERE "Observed" = 'Queued';
INSERT INTO "JobReplicas" ("JobId", "Role", "Index", "Cpus", "Gpus", "MemoryMiB", "Observed", "LogBytes")
SELECT "Id", 'Trainer', 0, 1, 0, 1024, CASE WHEN "Observed" IN ('Queued') THEN 'Pending' WHEN "Observed" = 'Running' THEN 'Running' ELSE 'Succeeded' END, 0 FROM "Jobs";
ANALYZE "Jobs"; ANALYZE "JobReplicas"; ANALYZE "Memberships";
SQL
printf "seeded %s jobs (and as many replicas) in %.1f s\n" "$(q -c 'SELECT count(*) FROM "Jobs"')" "$(echo "$(date +%s.%N) - $started" | bc)"

user=$(q -c "SELECT \"Id\" FROM \"AspNetUsers\" WHERE \"Email\" = 'bench@example.test'")
account=$(q -c "SELECT \"CurrentAccountId\" FROM \"AspNetUsers\" WHERE \"Email\" = 'bench@example.test'")
echo "query plans (the list's queries as the API sends them, 51 rows for a page of 50):"
plan() { echo "-- $1"; q -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $2" | grep -E "Index|Seq Scan|Sort|Execution|Bitmap|Rows Removed" | sed 's/^/   /'; }
plan "mine, first page" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = ANY(ARRAY['$account']::uuid[]) AND j.\"OwnerUserId\" = '$user' ORDER BY j.\"SubmittedAt\" DESC, j.\"Id\" DESC LIMIT 51"
plan "account scope, first page (one account: an equality)" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = '$account' ORDER BY j.\"SubmittedAt\" DESC, j.\"Id\" DESC LIMIT 51"
plan "the same as an IN list (what the list no longer sends)" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = ANY(ARRAY['$account']::uuid[]) ORDER BY j.\"SubmittedAt\" DESC, j.\"Id\" DESC LIMIT 51"
plan "mine, status=running" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = ANY(ARRAY['$account']::uuid[]) AND j.\"OwnerUserId\" = '$user' AND j.\"Observed\" = ANY(ARRAY['Running']) ORDER BY j.\"SubmittedAt\" DESC, j.\"Id\" DESC LIMIT 51"
plan "mine, q=sweep" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = ANY(ARRAY['$account']::uuid[]) AND j.\"OwnerUserId\" = '$user' AND j.\"Name\" ILIKE '%sweep%' ORDER BY j.\"SubmittedAt\" DESC, j.\"Id\" DESC LIMIT 51"
plan "mine, deep cursor (60 days back)" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = ANY(ARRAY['$account']::uuid[]) AND j.\"OwnerUserId\" = '$user' AND (j.\"SubmittedAt\", j.\"Id\") < (now() - interval '60 days', 'ffffffff-ffff-ffff-ffff-ffffffffffff') ORDER BY j.\"SubmittedAt\" DESC, j.\"Id\" DESC LIMIT 51"
plan "mine, sort=name" "SELECT * FROM \"Jobs\" j WHERE j.\"AccountId\" = ANY(ARRAY['$account']::uuid[]) AND j.\"OwnerUserId\" = '$user' ORDER BY j.\"Name\", j.\"Id\" LIMIT 51"

deep=$(date -u -d '60 days ago' +%Y-%m-%dT%H:%M:%SZ)
cursor=$(curl -s -H "$auth" "$WEB/api/v1/jobs?pageSize=1&to=$deep" | python3 -c 'import sys,json; print(json.load(sys.stdin)["next"])')
declare -a names=("first page (mine)" "first page, scope=account" "status=failed" "status=running,queued" "q=sweep" "deep cursor (60 days back)" "sort=name" "from/to (one week)")
declare -a urls=("" "scope=account" "status=failed" "status=running,queued" "q=sweep" "after=$cursor" "sort=name" "from=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)&to=$(date -u -d '23 days ago' +%Y-%m-%dT%H:%M:%SZ)")
for u in "${urls[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$WEB/api/v1/jobs?$u")
  [ "$code" = 200 ] || { echo "GET /api/v1/jobs?$u answered $code"; exit 1; }
done

ticks=$(getconf CLK_TCK); cores=$(nproc)
run() { # query -> "rps p50_ms p99_ms wrk_cpu_percent_of_machine"
  wrk -t1 -c"$connections" -d"${duration}s" --latency -H "$auth" "$WEB/api/v1/jobs?$1" >"$WORK/wrk.out" &
  local pid=$!
  local cpu=0 t
  while kill -0 "$pid" 2>/dev/null; do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo "$cpu"); cpu=$t; sleep 0.5
  done
  wait "$pid"
  awk -v cpu="$cpu" -v hz="$ticks" -v d="$duration" -v cores="$cores" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { if (bad) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 }
      printf "%.0f %.2f %.2f %.0f\n", rps, p50, p99, 100 * cpu / hz / d / cores }' "$WORK/wrk.out"
}

wrk -t1 -c"$connections" -d5s -H "$auth" "$WEB/api/v1/jobs" >/dev/null   # warm up (JIT, pools, caches)
printf "\nGET /api/v1/jobs over %s jobs, %d connections, %d s per scenario, through the front door (Web -> Api)\n" "$count" "$connections" "$duration"
printf "%-30s %8s %8s %8s %10s\n" scenario "req/s" "p50 ms" "p99 ms" "wrk CPU %"
for i in "${!urls[@]}"; do
  read -r rps p50 p99 cpu < <(run "${urls[$i]}")
  printf "%-30s %8s %8s %8s %10s\n" "${names[$i]}" "$rps" "$p50" "$p99" "$cpu"
done
echo "(wrk CPU %: wrk's own user+system time over the run, as a share of all $cores cores)"
