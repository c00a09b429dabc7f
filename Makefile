# Lockstep: `make serve` and `make test` are the two commands a newcomer needs.
# Both install whatever is missing first (.ci/install) and are quick when all is installed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The browser bundle is built for size; native release builds (the CLI, benchmarks) for speed.
WASM_ENV := CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=true \
            CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort
# Trunk finds wasm-opt (binaryen from npm, installed into app/node_modules by .ci/install) on PATH.
TRUNK := PATH="$(CURDIR)/app/node_modules/.bin:$$PATH" $(WASM_ENV) trunk

.PHONY: help serve test dist tools tools-test self-contained listings fmt clippy unit wasm-unit check conformance differential e2e bench

help:
	@echo "make serve   build and serve the app on http://127.0.0.1:8080"
	@echo "make test    every check: listings, fmt, clippy, native tests, conformance, lesson proofs, WASM build, browser tests"
	@echo "make dist    build the static site into dist/"
	@echo "make bench   print size and speed budgets"

tools:
	@.ci/install build

tools-test:
	@.ci/install test

serve: tools
	$(TRUNK) serve --release --offline

dist: tools
	$(TRUNK) build --release --offline

# Nothing the repository holds may read or cite a path beside it: a clone alone must pass.
self-contained:
	@if git grep -nI -e '\.\./shared' -e '\.\./\.\./shared' -e 'SEMANTICS\.md' -- ':!Makefile'; then \
		echo "these lines reach outside the repository"; exit 1; fi

# Every lesson's code listings, bug and fixes, and the studio's blank lesson's, parse in their own
# language (gofmt -e, Python's ast.parse, Elixir's Code.string_to_quoted/1); lessons/README.md
# documents how fragments are wrapped.
listings:
	python3 tests/listings/check.py lessons app/src/pages/studio/blank.toml

fmt:
	cargo fmt --all --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

# The seeded-schedule test again, compiled to WASM and run under Node (wasm-bindgen-test-runner
# comes with wasm-bindgen-cli): a seed picks the same schedule natively and in the browser; and
# the browser's JSON reader fills in every lesson as serde_json does; and share links go through
# the browser's own compression streams (Node has the same).
wasm-unit:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p lockstep-worker --target wasm32-unknown-unknown --test seeded
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p lockstep-lessons --features browser-json --target wasm32-unknown-unknown --lib
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p lockstep-app --target wasm32-unknown-unknown --test link

# Every lesson: the explorer finds the bug and proves every real fix (also pinned in tests/tests/lessons/).
check:
	cargo run -q --release --bin lockstep -- check lessons/

# PostgreSQL's own isolation specs on the engine, against their expected output.
conformance:
	cargo test -q -p lockstep-tests --test conformance -- --nocapture

# The same specs, pinned regressions and a fixed-seed batch of generated scenarios on a real
# PostgreSQL (installed from Debian if missing, run privately, always stopped) and on the engine.
differential:
	tests/pg/install.sh
	tests/pg/start.sh >/dev/null
	status=0; LOCKSTEP_PG="$$(cat target/pg/conninfo)" cargo test -q -p lockstep-tests --test differential -- --nocapture || status=$$?; tests/pg/stop.sh; exit $$status

# Figures, never pass/fail: engine steps/s, explorer states/s against Stateright, then the page's
# budgets (gzipped size, time to the first interactive lesson, p95 of one Step in Chromium).
bench:
	@.ci/install bench
	cargo bench -q -p lockstep-engine --bench steps
	cargo bench -q -p lockstep-engine --bench explore
	$(TRUNK) build --release --offline
	@echo "what is in the lesson page's .wasm (before wasm-opt, which keeps the proportions):"
	twiggy top -n 25 target/wasm32-unknown-unknown/release/lockstep-lesson.wasm
	@echo "the same, by crate and module:"
	twiggy top -n 100000 -f csv target/wasm32-unknown-unknown/release/lockstep-lesson.wasm | node tests/e2e/bench/by-crate.js
	cd tests/e2e && npm run -s bench

e2e:
	cd tests/e2e && npm test

test: tools-test
	$(MAKE) --no-print-directory self-contained
	$(MAKE) --no-print-directory listings
	$(MAKE) --no-print-directory fmt
	$(MAKE) --no-print-directory clippy
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory wasm-unit
	$(MAKE) --no-print-directory conformance
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory differential
	$(TRUNK) build --release --offline
	$(MAKE) --no-print-directory e2e
