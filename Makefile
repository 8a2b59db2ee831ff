# mcp-gatekeeper — `make demo` and `make test` do all set-up themselves.
CARGO ?= cargo
PYENV := target/pyenv

.PHONY: demo test deps build lint pyenv tsdeps conformance fmt clean fuzz bench bench-instructions
TSDIR := tests/ts

deps:
	@scripts/ensure-deps.sh

build: deps
	$(CARGO) build --workspace

## Builds, starts mock-mcp and the gatekeeper, plays the reference scenario, stops them.
demo: build pyenv
	@scripts/demo.sh

## A Python venv with the official MCP SDK and PyJWT, for the interop tests.
pyenv: deps
	@test -x $(PYENV)/bin/python || python3 -m venv $(PYENV)
	@$(PYENV)/bin/python -c 'import mcp, jwt' 2>/dev/null || \
		$(PYENV)/bin/pip install --quiet --disable-pip-version-check 'mcp>=1.9' 'pyjwt>=2.8'

## The official TypeScript MCP SDK (pinned in tests/ts/package-lock.json), for the interop tests.
$(TSDIR)/node_modules/.package-lock.json: $(TSDIR)/package.json $(TSDIR)/package-lock.json
	npm ci --prefix $(TSDIR) --no-audit --no-fund --loglevel=error
tsdeps: deps $(TSDIR)/node_modules/.package-lock.json

## Builds and runs the whole test suite (unit, integration, interop with the Python and
## TypeScript SDK clients).
test: deps pyenv tsdeps
	$(CARGO) build --workspace --all-targets
	GATEKEEPER_TEST_PYTHON=$(CURDIR)/$(PYENV)/bin/python GATEKEEPER_TEST_NODE=$$(command -v node) \
	GATEKEEPER_TEST_TS_DIR=$(CURDIR)/$(TSDIR) $(CARGO) test --workspace
	scripts/conformance.sh

## The official MCP conformance suite (pinned), direct and through the gatekeeper as a role
## with profile `none` and one with `safe_harbor`: every check's status must equal direct.
conformance: build
	@scripts/conformance.sh

## Load benchmark: direct vs nginx vs gatekeeper with wrk; writes benches/RESULTS.md.
bench: deps
	@scripts/bench.sh

## Instructions per request under callgrind (host noise does not move them); writes
## benches/INSTRUCTIONS.md.
bench-instructions: deps
	@scripts/bench-instructions.sh

## Fuzzes each target for FUZZ_SECONDS (CI runs a short pass; the corpora are in fuzz/corpus).
FUZZ_SECONDS ?= 15
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) check --lib --no-default-features

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
