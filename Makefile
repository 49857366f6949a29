# Rapport — build, run and test.
#
#   make dev     the whole system on this machine (http://127.0.0.1:8080)
#   make test    every test, starting and stopping what they need
#
# Everything below installs what it needs from go.mod and package.json.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS := $(notdir $(wildcard functions/*))
WITH_DYNAMODB := infra/scripts/with-dynamodb.sh
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# npm tools, pinned by package-lock.json. The stamp makes a second run free.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## install the pinned Go modules and npm tools
	go mod download

.PHONY: dev
dev: deps ## run the whole system locally on 127.0.0.1:8080, first seeding 90 days of demo data into an empty table (RAPPORT_DEMO=0 starts empty; PORT overrides; RAPPORT_CLOCK=2026-03-02T08:00:00Z freezes its clock there)
	go build -o .rapport/bin/rapport-local ./infra/local/cmd/rapport-local
	exec .rapport/bin/rapport-local

.PHONY: demo
demo: deps ## delete the local data (DynamoDB, outbox), then run make dev, which seeds the demo again; refuses while a stack runs
	go build -o .rapport/bin/rapport-local ./infra/local/cmd/rapport-local
	.rapport/bin/rapport-local reset
	exec .rapport/bin/rapport-local

# USER is also the login name in every shell's environment: only a USER
# given on make's command line names the token's person.
.PHONY: token
token: ## print a bearer token for the running local stack: make -s token ROLE=agent|manager|admin [USER=agent-2]
	@go run ./infra/local/cmd/rapport-local token -role "$(ROLE)" -user "$(if $(filter command line,$(origin USER)),$(USER))"

.PHONY: recompute
recompute: ## compare a day's rollups with their recomputation from the event journal, on the running local stack: make -s recompute DAY=2026-12-01 [TEAM=support] [REPAIR=1]
	@go run ./infra/local/cmd/rapport-local recompute -day "$(DAY)" -team "$(TEAM)" $(if $(REPAIR),-repair)

.PHONY: clock
clock: ## show or move the local stack's frozen clock: make -s clock [ADVANCE=90m|36h|7d | SET=2026-03-09T08:00:00Z]
	@go run ./infra/local/cmd/rapport-local clock -advance "$(ADVANCE)" -set "$(SET)"

.PHONY: build
build: ## build every Lambda into dist/NAME/bootstrap (linux/arm64)
	@for f in $(FUNCTIONS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o dist/$$f/bootstrap ./functions/$$f || exit 1; \
	done

.PHONY: sizes
sizes: build ## print each function's binary and zipped size
	@for f in $(FUNCTIONS); do \
		(cd dist/$$f && rm -f ../$$f.zip && zip -q -9 ../$$f.zip bootstrap); \
		printf '%-10s %8d bytes binary  %8d bytes zipped\n' $$f $$(stat -c %s dist/$$f/bootstrap) $$(stat -c %s dist/$$f.zip); \
	done

# Each test binary that checks answers against docs/openapi.json adds its
# count here (shared/httpapi/openapitest), so make test can print the total.
OPENAPI_TALLY := $(CURDIR)/.rapport/openapi-tally

.PHONY: test
test: deps ## run every test: unit, store and handlers on dynoxide, fuzz seeds, CDK assertions, browser
	go vet ./...
	@mkdir -p .rapport && rm -f $(OPENAPI_TALLY)
	RAPPORT_OPENAPI_TALLY=$(OPENAPI_TALLY) $(WITH_DYNAMODB) dynoxide -- go test -count=1 ./...
	@awk '{n += $$2} END {printf "openapi: %d responses validated against docs/openapi.json\n", n}' $(OPENAPI_TALLY)
	$(MAKE) --no-print-directory test-cdk
	$(MAKE) --no-print-directory test-browser

.PHONY: test-faults
test-faults: deps ## replay the demo workload while the relay and every consumer fail 30% of invocations, sweeps die mid-batch and publishes lose their acknowledgement; check nothing lost or doubled
	RAPPORT_FAULTS=1 $(WITH_DYNAMODB) dynoxide -- go test -count=1 -run TestFaultRun -v -timeout 20m ./infra/local/faults/ | grep -E '^(  ok|  FAIL|fault run|--- |ok|FAIL|panic)'

.PHONY: test-browser
test-browser: deps $(CHROMIUM) ## drive the demo contact form in headless Chromium against the local stack
	CHROMIUM=$(CHROMIUM) node --test infra/local/e2e/

# Debian's Chromium for the browser tests; playwright-core drives it.
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

.PHONY: test-ddblocal
test-ddblocal: deps ## run the store and relay tests against the official DynamoDB Local
	$(WITH_DYNAMODB) ddblocal -- go test -count=1 ./shared/dynamo/... ./shared/relay/...

.PHONY: test-cdk
test-cdk: deps ## run the CDK assertion tests (infra/cdk)
	cd infra/cdk && go vet ./... && go test -count=1 ./...

# The latency guards and the write-growth matrix are fixed work, not b.N
# iterations; bench runs the in-process guard on dynoxide (the server of
# make dev and make test), bench-latency the slower rest. The freshness
# benchmark (a posted lead until the day's scorecard counts it) runs a
# fixed 30 leads, so its median rests on more than a second's worth.
LATENCY_BENCH := NewLeadLatency|WriteGrowth|LeadToScorecard

.PHONY: bench
bench: deps ## print one table of measured figures: DynamoDB cost per operation, HTTP load, cold starts, sizes, latency growth, event-to-scorecard freshness (about 5 minutes)
	@mkdir -p .rapport/bench && rm -f .rapport/bench/*.txt
	@$(MAKE) -s --no-print-directory sizes > .rapport/bench/sizes.txt
	$(WITH_DYNAMODB) dynoxide -- go test -run '^$$' -bench 'CaptureCost/(baseline|new-lead|duplicate)|TimerCost/idle-sweep|OpCosts' -benchtime 200x ./shared/dynamo/ > .rapport/bench/ops.txt
	$(WITH_DYNAMODB) dynoxide -- go test -run '^$$' -bench 'ScorecardReadCost' -benchtime 20x ./shared/httpapi/ > .rapport/bench/scorecard.txt
	RAPPORT_BENCH_LEADS=20000 $(WITH_DYNAMODB) dynoxide -- go test -run '^$$' -bench 'NewLeadLatency$$' -benchtime 1x -timeout 30m ./infra/local/ > .rapport/bench/latency.txt
	go test -run '^$$' -bench 'FormLoad' -benchtime 1x -timeout 10m ./infra/local/ > .rapport/bench/load.txt
	go test -run '^$$' -bench 'ColdStart' -benchtime 1x -timeout 20m ./infra/bench/ > .rapport/bench/coldstart.txt
	$(WITH_DYNAMODB) dynoxide -- go test -run '^$$' -bench 'LeadToScorecard$$' -benchtime 30x ./infra/local/ > .rapport/bench/freshness.txt
	@echo
	@go run ./infra/bench/benchtable .rapport/bench/*.txt | tee .rapport/bench/table.txt

.PHONY: bench-all
bench-all: deps ## run every benchmark in the module, each as go test prints it
	$(WITH_DYNAMODB) dynoxide -- go test -run '^$$' -bench . -skip '$(LATENCY_BENCH)|BenchmarkSweep10000|FormLoad|ColdStart' -benchmem ./...

.PHONY: bench-latency
bench-latency: deps ## the latency guard over HTTP on the make dev stack, and in process on DynamoDB Local
	go test -run '^$$' -bench 'NewLeadLatencyHTTP$$' -benchtime 1x -timeout 60m ./infra/local/
	$(WITH_DYNAMODB) ddblocal -- go test -run '^$$' -bench 'NewLeadLatency$$' -benchtime 1x -timeout 60m ./infra/local/

.PHONY: bench-sweep
bench-sweep: deps ## time one sweep of 10,000 due timers on each local DynamoDB server (several minutes)
	$(WITH_DYNAMODB) dynoxide -- go test -run '^$$' -bench 'Sweep10000' -benchtime 1x -timeout 30m ./shared/dynamo/
	$(WITH_DYNAMODB) ddblocal -- go test -run '^$$' -bench 'Sweep10000' -benchtime 1x -timeout 30m ./shared/dynamo/

# STAGE picks the deployment: dev (default; may be destroyed) or prod (keeps
# its table and user pool). Each is its own stack, Rapport-$(STAGE).
STAGE ?= dev

.PHONY: synth
synth: build ## synthesize STAGE's CloudFormation template into infra/cdk/cdk.out, offline: make synth STAGE=dev|prod
	cd infra/cdk && go run . -stage "$(STAGE)"

.PHONY: deploy
deploy: build deps ## deploy STAGE to the AWS account in your environment: make deploy STAGE=dev|prod (needs credentials; never in CI)
	npx cdk deploy -c rapport:stage="$(STAGE)" $(CDK_ARGS) "Rapport-$(STAGE)"

.PHONY: fmt
fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')

.PHONY: clean
clean: ## remove build output (keeps the local stack's data in .rapport/)
	rm -rf dist infra/cdk/cdk.out
