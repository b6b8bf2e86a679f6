#!/usr/bin/env bash
# The public scan page under load (docs/benchmarks.md, "Public scan page"):
# wrk with random codes against /q/{code}, and in the same run a bare Go
# handler serving a fixed 1 KB page (the ceiling). Needs wrk (apt install
# wrk) and a data directory with codes (agtrace demo or agtrace bench).
#
#   scripts/bench-public.sh DATA_DIR [DB_URL]
#
# Env: CONNS (64), SECS (30), HOT (0: every request a random code; 90: 90 %
# of requests repeat a hot set of 100 codes with If-None-Match; "0 90":
# both in turn on the same warmed server), CODES
# (200000: how many codes are drawn from), WARM (1: view every drawn code
# once before measuring — a running server's state; 0: measure cold),
# PAGE_MEMORY (1024: MiB of pages the server keeps in memory), PROFILE (a
# file prefix: the server's CPU profile over each scan-page run, PROFILE.HOT,
# PROFILE.HOT.ROUND when ROUNDS > 1),
# SERVE_LOG (a file: the server's log is kept there; by default it goes with
# the temporary directory), ROUNDS (1: how many times the ceiling and scan
# page runs are repeated on the same warmed server; compare medians, the
# ceiling alone moves by a fifth between runs on a shared VM), PROBE (a file
# prefix: during each scan-page run scripts/probe sends a request every 10 ms
# and writes each second's median and slowest answer to PROBE.HOT[.ROUND],
# to see when the tail happens).
set -euo pipefail
DATA=${1:?data directory}
DBURL=${2:-}
CONNS=${CONNS:-64} SECS=${SECS:-30} ROUNDS=${ROUNDS:-1} HOT=${HOT:-0} CODES=${CODES:-200000} WARM=${WARM:-1} PAGE_MEMORY=${PAGE_MEMORY:-1024}
BIN=${BIN:-bin/agtrace}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# the codes to ask for, with their label tokens (the full page)
dbflag=(--data "$DATA"); [ -n "$DBURL" ] && dbflag+=(--db "$DBURL")
go run ./scripts/labelurls "${dbflag[@]}" --limit "$CODES" > "$WORK/paths.txt"
echo "$(wc -l < "$WORK/paths.txt") codes"


"$BIN" serve "${dbflag[@]}" --addr 127.0.0.1:18080 --public-url http://127.0.0.1:18080 --trusted-proxies 127.0.0.1/32 --monitor-every 0 --page-memory "$PAGE_MEMORY" --metrics-token bench 2>"${SERVE_LOG:-$WORK/serve.log}" &
go build -o "$WORK/ceiling" ./scripts/ceiling
[ -n "${PROBE:-}" ] && go build -o "$WORK/probe" ./scripts/probe
"$WORK/ceiling" --addr 127.0.0.1:18081 &
for _ in $(seq 1 60); do curl -fs http://127.0.0.1:18080/healthz >/dev/null && curl -fs http://127.0.0.1:18081/ >/dev/null && break; sleep 0.5; done

# the server's start-up work: the ledger's in-memory tree is built from
# every leaf on the first checkpoint (about a minute at 1.3 million leaves)
t0=$(date +%s)
until [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:18080/ledger/checkpoint)" = 200 ]; do sleep 1; done
echo "ledger tree loaded in $(( $(date +%s) - t0 )) s"

if [ "$WARM" = 1 ]; then
  go run ./scripts/warm --url http://127.0.0.1:18080 --conns 16 < "$WORK/paths.txt"
  sleep 2 # the last pages written to the store
  curl -s -H "Authorization: Bearer bench" http://127.0.0.1:18080/metrics | grep -E '^agtrace_scan_pages_memory_(pages|bytes) '
fi

# the hot set: 100 codes with the ETag a shopper's browser would hold
: > "$WORK/hot.txt"
if [ "$HOT" != 0 ]; then
  head -100 "$WORK/paths.txt" | while read -r p; do
    e=$(curl -s -o /dev/null -D - -H 'X-Forwarded-For: 10.9.9.9' "http://127.0.0.1:18080$p" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
    [ -n "$e" ] && printf '%s\t%s\n' "$p" "$e" >> "$WORK/hot.txt"
  done
  echo "$(wc -l < "$WORK/hot.txt") hot codes with ETags"
fi

lua() { # the request script for a hot share of $1 %
cat > "$WORK/scan.lua" <<LUA
local paths = {}
for line in io.lines("$WORK/paths.txt") do paths[#paths + 1] = line end
local hot, etags, hotpaths = $1, {}, {}
for line in io.lines("$WORK/hot.txt") do
  local p, e = line:match("^(%S+)\t(.+)$")
  if p then hotpaths[#hotpaths + 1] = p; etags[p] = e end
end
math.randomseed(os.time())
request = function()
  local p
  if hot > 0 and #hotpaths > 0 and math.random(100) <= hot then p = hotpaths[math.random(#hotpaths)] else p = paths[math.random(#paths)] end
  -- each request from another shopper's address (the server trusts the loopback proxy)
  local h = { ["X-Forwarded-For"] = "10." .. math.random(0,255) .. "." .. math.random(0,255) .. "." .. math.random(1,254),
              ["Accept-Encoding"] = "gzip" }
  if hot > 0 and etags[p] then h["If-None-Match"] = etags[p] end
  return wrk.format("GET", p, h)
end
LUA
}

# The ceiling gets the same requests from the same Lua script (random paths,
# headers): both runs pay wrk's per-request Lua cost, so the ratio compares
# the servers, not the load generators.
for round in $(seq 1 "$ROUNDS"); do
for hot in $HOT; do
  [ "$ROUNDS" = 1 ] || echo "== round $round"
  lua "$hot"
  echo "== ceiling: bare net/http, fixed 1 KB page (same requests, hot $hot %)"
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/scan.lua" http://127.0.0.1:18081 | grep -E "Requests/sec|99%|Non-2xx|Socket errors|Latency "
  echo "== /q/{code} (hot $hot %)"
  if [ -n "${PROFILE:-}" ]; then
    (sleep 2; curl -s -H "Authorization: Bearer bench" -o "$PROFILE.$hot$([ "$ROUNDS" = 1 ] || echo ".$round")" "http://127.0.0.1:18080/debug/pprof/profile?seconds=$((SECS - 4))") &
  fi
  if [ -n "${PROBE:-}" ]; then
    "$WORK/probe" --secs "$SECS" < "$WORK/paths.txt" > "$PROBE.$hot$([ "$ROUNDS" = 1 ] || echo ".$round")" &
  fi
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/scan.lua" http://127.0.0.1:18080 | grep -E "Requests/sec|99%|Non-2xx|Socket errors|Latency "
  curl -s -H "Authorization: Bearer bench" http://127.0.0.1:18080/metrics | grep -E '^agtrace_scan_pages_'
done
done
