# roomstream: every set-up step lives here so a fresh Debian 12 machine needs only these targets.
SWIFT        ?= swift
CONFIG       ?= Config/roomstream.json
FUZZ_SECONDS ?= 60
SHARED       ?= ../shared
# A test run still going after this long is hung (its tests take 25-40 s here, sanitizers
# included): scripts/bounded.sh prints every thread's stack and fails it, instead of holding
# CI to its limit with nothing to show.
TEST_BOUND_SECONDS     ?= 900
SANITIZE_BOUND_SECONDS ?= 1500
# Debian packages the build and the service need (later: libcurl4-openssl-dev, zlib1g-dev, ...).
RUN_PACKAGES  = ca-certificates pkg-config zlib1g-dev libsimdjson-dev libcurl4-openssl-dev libssl-dev libmaxminddb-dev
# What the tests need on top of that.
TEST_PACKAGES = $(RUN_PACKAGES) curl python3 python3-pip gzip haproxy gdb
BENCH_PACKAGES = $(RUN_PACKAGES) wrk nginx
# The browser tests: headless Chromium, its WebDriver, and a TURN server.
BROWSER_PACKAGES = $(TEST_PACKAGES) chromium chromium-driver coturn

.PHONY: run build test test-browser chaos sanitize sanitize-thread sanitize-address bench fuzz deps-run deps-test deps-bench clean

## make run: build a release binary and serve $(CONFIG) on port 8080 (local spool, local directory store).
run: deps-run build
	.build/release/roomstream serve --config $(CONFIG)

build: deps-run
	$(SWIFT) build -c release --product roomstream

## make test: install what tests need (apt, pip), build everything, start two independent S3
## servers on loopback (moto with SigV4 checked, and rclone serve s3 path-style and
## virtual-hosted) and run every test against them; then schemathesis against docs/openapi.yaml
## and a live server (no 5xx, every answer as documented). The tests' temporary files go to
## .build/test-tmp, and every data stream file they sealed, delivered or imported is checked
## against docs/room-record.schema.json afterwards.
test: deps-test
	$(SWIFT) build --build-tests
	rm -rf .build/test-tmp && mkdir -p .build/test-tmp
	TMPDIR=$(CURDIR)/.build/test-tmp scripts/with-s3-test-server.sh scripts/bounded.sh $(TEST_BOUND_SECONDS) $(SWIFT) test --skip-build
	python3 scripts/validate-records.py --tree .build/test-tmp
	scripts/schemathesis.sh .build/debug/roomstream

## make test-browser: the JavaScript SDK in headless Chromium (fake camera and microphone)
## against a live service: calls direct and through coturn (UDP, TCP), a page closed mid-call,
## the operator page (screenshots in .build/screenshots). docs/sdk.md.
test-browser: deps-browser
	$(SWIFT) build --product roomstream
	python3 scripts/browser-test.py .build/debug/roomstream --screenshots .build/screenshots

## make chaos: kill -9 the service 20 times under simulated load (ingest, seals, uploads to a
## directory and to rclone's S3 server) and check every file against the record of 202 answers.
chaos: deps-test
	$(SWIFT) build --product roomstream
	scripts/with-s3-test-server.sh python3 scripts/chaos.py --binary .build/debug/roomstream

## make sanitize: the whole test suite under ThreadSanitizer and AddressSanitizer.
sanitize: sanitize-thread sanitize-address

sanitize-thread: deps-test
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 scripts/with-s3-test-server.sh scripts/bounded.sh $(SANITIZE_BOUND_SECONDS) $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

sanitize-address: deps-test
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 scripts/with-s3-test-server.sh scripts/bounded.sh $(SANITIZE_BOUND_SECONDS) $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

## make bench: wrk against roomstream and nginx serving the same response; decode+apply against
## JSONDecoder; ingest over HTTP; memory per peer. Each figure with its baseline from the same run.
bench: deps-bench build
	$(SWIFT) build -c release --product roomstream-bench
	scripts/bench-http.sh
	SHARED=$(SHARED) scripts/bench-ingest.sh

## make fuzz: libFuzzer on the HTTP parser for FUZZ_SECONDS seconds.
fuzz: deps-run
	scripts/fuzz.sh $(FUZZ_SECONDS)

deps-run:
	@scripts/ensure-packages.sh $(RUN_PACKAGES)

deps-test:
	@scripts/ensure-packages.sh $(TEST_PACKAGES)
	@scripts/ensure-python-packages.sh

deps-browser:
	@scripts/ensure-packages.sh $(BROWSER_PACKAGES)
	@scripts/ensure-python-packages.sh

deps-bench:
	@scripts/ensure-packages.sh $(BENCH_PACKAGES)

clean:
	rm -rf .build .build-tsan .build-asan .build-fuzz
