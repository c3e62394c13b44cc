# FoxDB developer commands. `make demo` runs the main job on embedded SQLite; `make test` runs
SHELL := /bin/bash
# every test against real servers (started by e2e/services.sh when missing).

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
FOX := $(TARGET_DIR)/debug/fox
DEMO_DB ?= $(TARGET_DIR)/demo/blog.sqlite

.PHONY: demo build test test-rust services crds crds-check chart-check lint fmt clean bench bench-migrate

## demo: validate the blog example, plan it, apply it to embedded SQLite, show the re-plan is empty
demo: build
	$(FOX) validate -f examples/blog/
	rm -f $(DEMO_DB) && mkdir -p $(dir $(DEMO_DB))
	$(FOX) plan -f examples/blog/ --database sqlite://$(DEMO_DB)
	$(FOX) apply -f examples/blog/ --database sqlite://$(DEMO_DB)
	$(FOX) plan -f examples/blog/ --database sqlite://$(DEMO_DB) --detailed-exitcode

## build: build the fox binary
build:
	$(CARGO) build -p fox-operator --bin fox

## test: start missing services, run every Rust test, check the generated CRDs and the Helm chart
test: services test-rust crds-check chart-check

# The default workspace members: everything but bench/ (linted by `make lint`, run by `make bench`).
test-rust:
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	# foxdb with one engine compiled in: a compiled-out engine is refused with its feature.
	$(CARGO) test -p foxdb --no-default-features --features sqlite --lib

## services: make sure PostgreSQL, MariaDB, Redis and a MongoDB-wire server run on 127.0.0.1
services:
	bash e2e/services.sh

## crds: regenerate crds/*.yaml and the Helm chart's copies from the Rust types
crds: build
	$(FOX) crds --write

## crds-check: committed CRDs equal the generated ones and pass kubernetes-validate --strict
crds-check: build
	$(FOX) crds | diff -u - <(cat crds/*.yaml)
	@command -v kubernetes-validate >/dev/null || python3 -m pip install --quiet kubernetes-validate
	kubernetes-validate --strict --quiet crds/*.yaml

## chart-check: lint and render the Helm chart, validate its manifests and values (no helm binary)
chart-check:
	bash e2e/chart/check.sh

## bench: foxdb vs raw sqlx, SeaORM, Diesel, TypeORM (PostgreSQL) and raw sqlx (MariaDB, SQLite), release build
bench: services
	bash bench/typeorm/install.sh
	$(CARGO) run --release -p fox-bench --bin bench-client

## bench-migrate: the schema engine on 200 generated tables per engine vs raw DDL (release build)
bench-migrate: services
	$(CARGO) run --release -p fox-bench --bin bench-migrate

## lint: formatting and clippy with warnings as errors; foxdb builds with each engine alone
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p foxdb --no-default-features --features postgres -- -D warnings
	$(CARGO) clippy -p foxdb --no-default-features --features mysql -- -D warnings
	$(CARGO) clippy -p foxdb --no-default-features --features sqlite -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
