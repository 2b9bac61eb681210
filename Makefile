# The short commands a person types. Each target installs what it needs first.
.PHONY: setup pg-install verify analysis test lint bench

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# PostgreSQL's server binaries (initdb, pg_ctl) for the throwaway scratch cluster.
setup:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries: found"; \
	else \
		echo "Installing PostgreSQL (Debian/Ubuntu)"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

# Server binaries of another PostgreSQL major (14 to 18) into .pg/<major>/, from npm; then
# `cargo xtask verify --pg 17`, or XTASK_PG=17 for the tests too.
pg-install:
	@test -n "$(MAJOR)" || { echo "usage: make pg-install MAJOR=17" >&2; exit 2; }
	.ci/install-pg $(MAJOR)

verify: setup
	$(CARGO) xtask verify

# The history's analysis, committed beside the plan; CI checks that it is current.
analysis: setup
	$(CARGO) xtask analyze --output docs/history-analysis.md

test: setup
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Not part of CI: minutes of work. migra is timed too when it is on PATH (MIGRA=path/to/migra
# otherwise); the figures also go to bench.json.
bench: setup
	$(CARGO) run --release --package xtask -- bench --output bench.json $(if $(MIGRA),--migra $(MIGRA))
