#!/bin/bash
# The before/after benchmark series of docs/benchmarks.md: both write paths on
# SQLite for two binaries, and both paths on PostgreSQL for the new one, one
# run after another (the machine should be otherwise quiet), then one table.
#
#   scripts/bench-series.sh NEW_BINARY BEFORE_BINARY [CODES] [OUT_DIR]
#
# CODES defaults to 1000000 (about 80 minutes on the 2-CPU machine); OUT_DIR
# (default /tmp/bench-series) receives one --json result per run and a log.
# PostgreSQL runs use fresh databases at $BENCH_PG (default
# postgres://postgres@127.0.0.1:5432) and are skipped if no server answers.
set -u
new=${1:?new binary}
old=${2:?before binary}
n=${3:-1000000}
out=${4:-/tmp/bench-series}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$out"
log() { echo "$(date +%T) $* (load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$out/log"; }
run() { # name binary args…
	local name=$1 bin=$2
	shift 2
	log "start $name"
	rm -rf "$out/data-$name"
	"$bin" bench --quiet --json --batches "$n" --queries 500 --data "$out/data-$name" "$@" >"$out/$name.json" 2>"$out/$name.err"
	log "end $name rc=$?"
	rm -rf "$out/data-$name"
}
pgrun() { # name args…
	local name=$1 db=agtrace_series_$1
	shift
	db=${db//-/_}
	psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || return
	run "$name" "$new" --db "$pg/$db?sslmode=disable" "$@"
	psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db"
}
run after-api "$new"
run after-bulk "$new" --bulk 500
run before-bulk "$old" --bulk 500 --workers 1
run before-api "$old" --workers 8
runs="before API=$out/before-api.json,after API=$out/after-api.json,before bulk=$out/before-bulk.json,after bulk=$out/after-bulk.json"
if pg_isready -q -d "$pg/postgres" 2>/dev/null; then
	pgrun pg-bulk --bulk 500 --workers 2
	pgrun pg-api
	runs="$runs,PostgreSQL bulk=$out/pg-bulk.json,PostgreSQL API=$out/pg-api.json"
fi
log "done"
"$new" bench --summary "$runs"
