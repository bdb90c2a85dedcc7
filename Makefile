# rosh — build, run and test.
#
#   make run     build rosh and open its console
#   make test    install what the tests need (when missing) and run every test
#   make bench   benchmarks (codec, automaton, console script execution,
#                iperf3 through a rosh↔rosh PPPoE tunnel against a plain veth …),
#                one package at a time so that they do not disturb each other
#   make fuzz    run every fuzz target for FUZZTIME each
#   make install the binary in $(SBINDIR), the systemd unit rosh.service, and
#                /var/lib/rosh for the configuration; then
#                `systemctl enable --now rosh` and `rosh` to attach

GO       ?= go
BIN      := bin/rosh
FUZZTIME ?= 30s
# Debian packages the tests use: libpcap for the pcap link, tshark to check
# that what rosh emits decodes cleanly, tcpdump for captures, iperf3 and
# ping for traffic through tunnels, iproute2 for namespaces and veths,
# ethtool to turn veth offloads off for the throughput benchmark,
# freeradius and freeradius-utils (radclient) for the RADIUS tests, systemd
# for systemd-analyze verify of the unit, curl to drive the REST API,
# prometheus for promtool to check the metrics.
PKGS     := libpcap-dev tshark tcpdump iperf3 iputils-ping iproute2 ethtool freeradius freeradius-utils systemd curl prometheus

.PHONY: all build run test deps vet fmt-check bench fuzz fuzz-ci clean install install-files soak loss

# make install: DESTDIR stages the files elsewhere (packaging, the test of
# the unit); without it, systemd is told to reload its units.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= /etc/systemd/system
STATEDIR ?= /var/lib/rosh

all: build

build:
	$(GO) build -o $(BIN) ./cmd/rosh

# The lab: an access concentrator and a client router in two network
# namespaces; the console opened is the client router's (needs root).
run: build
	./$(BIN) lab

install: build install-files

# install-files installs what is built, without building (the test of the
# unit stages its own binary).
install-files:
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/rosh
	sed -e 's#/usr/local/sbin/rosh#$(SBINDIR)/rosh#' -e 's#/var/lib/rosh/#$(STATEDIR)/#' dist/rosh.service > rosh.service.tmp
	install -D -m 0644 rosh.service.tmp $(DESTDIR)$(UNITDIR)/rosh.service
	rm -f rosh.service.tmp
	install -d -m 0700 $(DESTDIR)$(STATEDIR)
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "installed: $(SBINDIR)/rosh, $(UNITDIR)/rosh.service; start it with: systemctl enable --now rosh"

deps:
	@missing=""; for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# -p 1: one package at a time. The timing tests (a flood answered within
# 1 s, keepalive limits) must not share the 2 cores with another
# package's namespaces, iperf3 runs and rosh processes.
test: deps fmt-check vet
	$(GO) test -p 1 -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory fuzz-ci

# The micro-benchmarks, then the scale run (bench/, a few minutes, root):
# a rosh AC against 1,000 and 10,000 emulated subscribers, and one table
# of every figure, the micro-benchmarks' summarised in it.
bench: deps
	@mkdir -p var
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./... | tee var/bench-micro.txt
	cd bench && $(GO) test -tags scale -count=1 -run '^TestScale$$' -timeout 20m -args -micro $(CURDIR)/var/bench-micro.txt

# fuzz-ci (part of make test): every native fuzz target, found with grep
# so that a new one is picked up, fuzzed for FUZZCITIME. Each package's
# instrumented test binary is built once; the targets then run two at a
# time with one worker each — the two cores' worth of fuzzing that one
# target with two workers gets, in half the wall time. The fuzz cache is
# go test's own, so `make fuzz` and fuzz-ci grow one corpus. A crasher is
# written to the package's testdata/fuzz/FuzzName/ and fails the step:
# fix the bug and commit the file, it then runs in every `go test`. Go's
# fuzzer says "context deadline exceeded" when FUZZCITIME ends before it
# has replayed the corpus (seen at load average 30): no crasher, no failure.
FUZZCITIME ?= 10s
fuzz-ci:
	@set -e; start=$$(date +%s); bins=$$(mktemp -d); trap 'rm -rf "$$bins"' EXIT; \
	cache=$$($(GO) env GOCACHE)/fuzz; \
	targets=$$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | xargs grep -L '^//go:build' | sort | \
		while read -r f; do grep -oE '^func Fuzz[A-Za-z0-9_]+' "$$f" | sed "s|^func |$$(dirname "$$f") |"; done); \
	for dir in $$(echo "$$targets" | cut -d' ' -f1 | sort -u); do \
		$(GO) test -c -fuzz . -o "$$bins/$$(echo $$dir | tr ./ _).test" $$dir; \
		echo "$$dir $$($(GO) list $$dir)" >>"$$bins/pkgs"; \
	done; \
	echo "$$targets" | BINS="$$bins" CACHE="$$cache" T="$(FUZZCITIME)" xargs -P 2 -L 1 sh -c ' \
		pkg=$$(grep "^$$0 " "$$BINS/pkgs" | cut -d" " -f2); \
		out=$$(cd "$$0" && "$$BINS/$$(echo $$0 | tr ./ _).test" -test.run "^\$$" -test.fuzz "^$$1\$$" \
			-test.fuzztime "$$T" -test.parallel 1 -test.fuzzcachedir "$$CACHE/$$pkg" 2>&1) || { \
			if echo "$$out" | grep -q "context deadline exceeded" && ! echo "$$out" | grep -q "Failing input"; then \
				echo "== $$pkg $$1: fuzztime ran out before the corpus was replayed (a loaded machine): no crasher"; exit 0; fi; \
			printf "== FAIL %s %s\n%s\n" "$$pkg" "$$1" "$$out"; exit 255; }; \
		echo "$$out" | grep -oE "execs: [0-9]+ \([0-9]+/sec\), new interesting: [0-9]+ \(total: [0-9]+\)" | tail -1 | \
			sed "s|^|== $$pkg $$1: |"'; \
	echo "fuzz-ci: $$(echo "$$targets" | wc -l) targets × $(FUZZCITIME) in $$(( $$(date +%s) - start )) s"

fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin var

# make loss: 50 emulated subscribers through a relay that loses 20% of the
# frames and delays them 50 ms each way (nstest/impair), then a dead line
# for 3 × keepalive-timeout. Needs root; about 80 s. `make test` runs it
# too; this target runs it alone, verbose, with its figures.
loss: deps
	$(GO) test -count=1 -v -run '^TestLossAndDelay$$' -timeout 10m ./cmd/rosh

# make soak: 1,000 emulated subscribers on a rosh access concentrator for
# SOAK (default 10m; SOAK=1m for a short run), a random 10% hung up and
# redialed every minute; the AC's goroutines, file descriptors, TUN devices
# and memory must come back to their baseline. Needs root; not part of
# `make test`.
SOAK ?= 10m
soak: deps
	SOAK=$(SOAK) $(GO) test -tags soak -count=1 -v -run '^TestSoak$$' -timeout 60m ./cmd/rosh

# make interop: rosh against real peers — Debian's pppd 2.4.9 and rp-pppoe
# in qemu guests (../shared/peers, see its README.md) — as client and as
# server, PAP/CHAP/MS-CHAPv1/MS-CHAPv2, with ping through the sessions.
# Needs root; about 7 minutes; builds the guest image first when it is
# missing. Not part of `make test`. INTEROP_PING=0 skips the traffic
# checks; INTEROP_ARTIFACTS=dir keeps console logs and pcaps.
PEERS_DIR   ?= $(abspath ../shared/peers)
PEERS_CACHE ?= /tmp/peers-cache

.PHONY: interop
interop: deps
	@if [ ! -f $(PEERS_CACHE)/vmlinuz ] || [ ! -f $(PEERS_CACHE)/initramfs.cpio.gz ]; then \
		PEERS_CACHE=$(PEERS_CACHE) $(PEERS_DIR)/setup.sh; \
	fi
	PEERS_DIR=$(PEERS_DIR) PEERS_CACHE=$(PEERS_CACHE) $(GO) test -tags interop -count=1 -v -timeout 60m ./interop/
