# Entry points: make demo, make test, make bench, make lint.
# Binaries built from the Go module proxy (Traefik, etcd, kube-apiserver) are cached by
# version under .cache/ (git-ignored); the first run builds them.
CACHE ?= $(CURDIR)/.cache
include scripts/versions
GO ?= go
MODULES := . provider demo cmd/storeaffinity
# Modules outside the workspace (their requirements must not reach the others).
STANDALONE_MODULES := demo/compose
export STOREAFFINITY_CACHE := $(CACHE)

.PHONY: demo test test-unit test-e2e tools bench bench-metrics bench-scale bench-yaegi bench-handoff profile wrk lint release

## demo: 3 replicas behind Traefik with both plugins, a fleet of stores, a live scale to 4.
## HOLD=1 keeps it running afterwards.
demo:
	cd demo && $(GO) run ./cmd/demo $(if $(HOLD),-hold)

## test: everything CI runs: lint, unit tests, the same behaviour under Yaegi, the
## end-to-end suite through real Traefik, etcd and kube-apiserver.
test: lint test-unit test-e2e

# lint vets every module once; the test targets only run the tests.
# The fast suites run twice under the race detector: a second run in one process finds
# what the first left behind in the plugin's package-level state.
test-unit:
	$(GO) test -race -count=2 ./...
	cd provider && $(GO) test -race -count=2 ./...
	cd cmd/storeaffinity && $(GO) test -race -count=2 ./...
	# The behaviour suite under Yaegi, as Traefik interprets the plugin: no Traefik needed.
	# Twice, without the race detector: it reports Yaegi v0.16.1's own lazily filled
	# type caches (interp.(*itype).refType), not the plugin's code.
	cd demo && $(GO) test -count=2 ./e2e/yaegi/

tools:
	@scripts/install-traefik.sh "$(CACHE)" >/dev/null
	@scripts/install-kube.sh "$(CACHE)" >/dev/null
	@scripts/install-helm.sh "$(CACHE)" >/dev/null
	@scripts/install-stompclient.sh "$(CACHE)" >/dev/null
	@scripts/install-docker.sh "$(CACHE)" >/dev/null
	@scripts/install-compose.sh "$(CACHE)" >/dev/null
	@scripts/install-promtool.sh "$(CACHE)" >/dev/null

test-e2e: tools
	# The demo and the end-to-end suite (demo/e2e) are one harness module. One package
	# at a time: the chaos, outage and rebalancing tests time their bounds.
	cd demo && $(GO) test -count=1 -p 1 -timeout 30m $$($(GO) list ./... | grep -v /e2e/yaegi$$)
	cd demo/compose && GOWORK=off $(GO) test -count=1 ./...

## bench: every chain through real Traefik with wrk (req/s, p50, p99, CPU per request
## against a do-nothing plugin), WebSockets, SSE and memory; writes BENCHMARKS.md.
bench: tools wrk bench-handoff
	cd demo && $(GO) run ./tools/bench -rounds 9 -duration 3s -out ../BENCHMARKS.md

## bench-metrics: what the middleware's counting for the metrics costs: the stateful and
## stateless chains against the same ones without it; writes its section of BENCHMARKS.md.
bench-metrics: wrk
	@scripts/install-traefik.sh "$(CACHE)" >/dev/null
	cd demo && $(GO) run ./tools/bench -rounds 9 -duration 3s -only floor,ours-stateful-3,ours-stateful-3-nometrics,ours-stateless-3,ours-stateless-3-nometrics -out ../BENCHMARKS.md

## profile: Traefik's CPU and allocation profiles under stateful and stateless load,
## with the top costs under the interpreter.
profile: tools wrk
	cd demo && $(GO) run ./tools/bench -profile -duration 12s

## bench-yaegi: the diagnostic loop benchmark, compiled and under Yaegi.
bench-yaegi:
	cd demo && $(GO) test -run '^$$' -bench 'ServeHTTP|InterpretedConstructs' -benchtime 20000x ./e2e/yaegi/

## bench-handoff: a change of members under Yaegi with 10,000 and 100,000 live stores
## held open: New's time, the change's CPU, when the last moved store ends.
bench-handoff:
	cd demo && $(GO) test -run '^$$' -bench Handoff -benchtime 1x -timeout 20m ./e2e/yaegi/

## bench-scale: the Commerce StatefulSet 3 -> 6 -> 3 and a rolling update under 1,000
## stores' STOMP sessions and REST calls, through Traefik and a real kube-apiserver;
## writes its table into BENCHMARKS.md.
bench-scale: tools
	cd demo && STOREAFFINITY_SCALE=full STOREAFFINITY_SCALE_REPORT=$(CURDIR)/BENCHMARKS.md $(GO) test -count=1 -v -timeout 30m -run TestScaleUnderLoad ./e2e/kubernetes/

wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

## lint: gofmt, go vet and golangci-lint over every module.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	for m in $(STANDALONE_MODULES); do (cd $$m && GOWORK=off $(GO) vet ./...) || exit 1; done
	@test -x $(CACHE)/bin/golangci-lint || { echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(CACHE)/bin..."; GOWORK=off GOBIN=$(CACHE)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); }
	for m in $(MODULES); do (cd $$m && PATH=$(CACHE)/bin:$$PATH golangci-lint run ./...) || exit 1; done
	for m in $(STANDALONE_MODULES); do (cd $$m && GOWORK=off PATH=$(CACHE)/bin:$$PATH golangci-lint run ./...) || exit 1; done

## release: build and check the two publishable trees of VERSION (vX.Y.Z) from a clean
## checkout, and print the commands that push and tag them. It pushes nothing.
release:
	@scripts/release.sh "$(VERSION)"
