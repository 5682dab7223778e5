# fleetdeck — build, demo, test, bench.
# Needs only Go and git; everything else is built from the Go module proxy
# into $XDG_CACHE_HOME/fleetdeck (default ~/.cache/fleetdeck), once.

GO        ?= go
# go.mod's toolchain line (a Go release without the standard library's known
# vulnerabilities) is honoured even where the installed Go defaults to
# GOTOOLCHAIN=local; the toolchain comes from the Go module proxy, once.
export GOTOOLCHAIN ?= auto
BIN       := bin/fleetdeck
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/fleetdeck/fleetdeck/cli.Version=$(VERSION)
DEMO_DIR  ?=
DEMO_ARGS := $(if $(DEMO_DIR),--dir $(DEMO_DIR))
# Integration test packages start one sandbox fleet each; two packages at a
# time keeps a 2-core machine responsive.
TEST_P    ?= 2
TEST_TIMEOUT ?= 40m

.PHONY: all build demo demo-down demo-fg prepare test test-deps test-unit fuzz vulncheck vet fmt-check bench clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# Build the sandbox's control-plane binaries (cached; shows progress).
prepare: build
	$(BIN) demo prepare

# Start the three-cluster sandbox fleet (or reuse the running one), then open
# the terminal UI on it; quitting the UI leaves the fleet running and
# `make demo-down` stops it. Without a terminal it only starts the fleet and
# prints how to use it.
demo: build
	$(BIN) demo up $(DEMO_ARGS)
	@if [ -t 0 ] && [ -t 1 ]; then \
		eval "$$($(BIN) demo env $(DEMO_ARGS))" && exec $(BIN) --config "$$FLEETDECK_CONFIG"; \
	else \
		echo; echo "Not a terminal: the UI was not opened. In a terminal run: eval \"\$$($(BIN) demo env $(DEMO_ARGS))\" && $(BIN)"; \
	fi

demo-down: build
	$(BIN) demo down $(DEMO_ARGS)

# Run a sandbox owned by this process: the UI opens on it and quitting stops it.
demo-fg: build
	$(BIN) demo $(DEMO_ARGS)

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The terminal end-to-end tests drive the UI in tmux (Debian's package):
# installed when missing and this is root on a Debian-like machine.
test-deps:
	@command -v tmux >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing tmux for the terminal end-to-end tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; \
		else echo "tmux is missing: the terminal end-to-end tests will be skipped (apt-get install tmux)"; fi; }

# Unit and integration tests (integration tests run against real local
# control planes; binaries are built first, with progress).
test: fmt-check vet test-deps prepare
	$(GO) test -p $(TEST_P) -timeout $(TEST_TIMEOUT) ./...
	FUZZTIME=$(FUZZTIME_CI) .ci/fuzz
	.ci/vulncheck

# Every fuzz target for FUZZTIME each (make test runs them for FUZZTIME_CI).
FUZZTIME    ?= 60s
FUZZTIME_CI ?= 3s
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

# govulncheck with the Go vulnerability database built offline (see .ci/vulncheck).
vulncheck:
	.ci/vulncheck

# Only the fast tests (no sandbox fleet).
test-unit:
	$(GO) test -short ./...

# Benchmarks, and the timed comparisons with kubectl (FLEETDECK_PERF=1), which
# are never part of `make test`: timings flake on a busy machine.
bench: prepare
	FLEETDECK_PERF=1 $(GO) test -run 'TestKeyLatencyLargeFleet|TestKeyLatencyWhileStreaming|TestRealSyncVsKubectl' -bench . -benchmem -timeout 60m ./...

clean:
	rm -rf bin
