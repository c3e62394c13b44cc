# FoxDB developer commands. `make demo` runs the main job on embedded SQLite; `make test` runs
SHELL := /bin/bash
# every test against real servers (started by e2e/services.sh when missing).

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
FOX := $(TARGET_DIR)/debug/fox
DEMO_DB ?= $(TARGET_DIR)/demo/blog.sqlite
REPOSITORY := https://github.com/foxdb/foxdb
# For `make docs`: a page's links that climb out of the site (`../` as deep as the page, then a
# repository path) go to the file on GitHub, its `.md` name restored where mdBook wrote `.html`.
export REPOSITORY_LINKS := BEGIN { $$up = shift; $$root = shift } s{href="\Q$$up\E/([^"\#]*)}{my $$p = $$1; (my $$md = $$p) =~ s/\.html$$/.md/; $$p = $$md if $$p =~ /\.html$$/ && -e "$$root/$$md"; qq{href="$(REPOSITORY)/blob/main/$$p}}ge

.PHONY: docs demo demo-mongo build test test-rust services crds crds-check chart-check client-deps-check lint fmt fuzz clean bench bench-instructions bench-bulk-insert bench-migrate bench-realtime bench-routing

## demo: validate the blog example, plan it, apply it to embedded SQLite, run its versioned
## migrations, show the re-plan is empty
demo: build
	$(FOX) validate -f examples/blog/
	rm -f $(DEMO_DB) && mkdir -p $(dir $(DEMO_DB))
	$(FOX) plan -f examples/blog/ --database sqlite://$(DEMO_DB)
	$(FOX) apply -f examples/blog/ --database sqlite://$(DEMO_DB)
	$(FOX) migrate up -f examples/blog/20-migrations.yaml --database sqlite://$(DEMO_DB)
	$(FOX) plan -f examples/blog/ --database sqlite://$(DEMO_DB) --detailed-exitcode

## demo-mongo: the blog on MongoDB (nx-27017 or mongod on 127.0.0.1:27017, `make services`):
## validate, plan, apply, run its migrations, show the re-plan is empty. Re-running is a no-op.
DEMO_MONGO_URL ?= mongodb://127.0.0.1:27017/fox_demo_blog
demo-mongo: build
	$(FOX) validate -f examples/blog-mongo/
	$(FOX) plan -f examples/blog-mongo/ --database $(DEMO_MONGO_URL)
	$(FOX) apply -f examples/blog-mongo/ --database $(DEMO_MONGO_URL)
	$(FOX) migrate up -f examples/blog-mongo/20-migrations.yaml --database $(DEMO_MONGO_URL)
	$(FOX) plan -f examples/blog-mongo/ --database $(DEMO_MONGO_URL) --detailed-exitcode

## build: build the fox binary
build:
	$(CARGO) build -p fox-operator --bin fox

## test: start missing services, run every Rust test, check the generated CRDs, the Helm chart and
## that the client builds no Kubernetes crate
test: services test-rust crds-check chart-check client-deps-check

# The default workspace members: everything but bench/ (linted by `make lint`, run by `make bench`).
test-rust:
	$(CARGO) test --all-targets
	# The client's tests again with PostgreSQL on its other driver (sqlx).
	CARGO=$(CARGO) bash e2e/client-tests-on-sqlx.sh
	$(CARGO) test --doc
	# foxdb with one engine compiled in: a compiled-out engine is refused with its feature.
	$(CARGO) test -p foxdb --no-default-features --features sqlite --lib
	# fox-crds without `kubernetes`: the vocabulary the client builds on (integration tests need the feature).
	$(CARGO) test -p fox-crds --no-default-features

## services: make sure PostgreSQL, MariaDB, Redis and a MongoDB-wire server run on 127.0.0.1
services:
	bash e2e/services.sh

## client-deps-check: application services pay for no Kubernetes crate (foxdb uses fox-crds without `kubernetes`)
client-deps-check:
	@tree=$$($(CARGO) tree -p foxdb -e normal --prefix none) || exit 1; \
	found=$$(echo "$$tree" | grep -E '^(kube|kube-[a-z]+|k8s-openapi|schemars) ' | cut -d' ' -f1,2 | sort -u); \
	if [ -n "$$found" ]; then echo "foxdb depends on Kubernetes crates:"; echo "$$found"; \
	  $(CARGO) tree -p foxdb -e normal -i $$(echo "$$found" | head -n1 | cut -d' ' -f1); exit 1; fi; \
	echo "foxdb builds no kube, k8s-openapi or schemars"

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

# 200 timed runs per workload and peer in each of 5 rounds: one-row times on this kind of machine
# move by 30 % between runs of 30.
BENCH_CLIENT_ARGS ?= --runs 200 --warmup 20

## bench: foxdb vs raw sqlx, SeaORM, Diesel, TypeORM (PostgreSQL) and raw sqlx (MariaDB, SQLite); query cache and replica routing;
## a two-database transfer with two-phase commit vs two local transactions; audit write cost; event appends/s; release build
bench: services
	bash bench/typeorm/install.sh
	$(CARGO) run --release -p fox-bench --bin bench-client -- $(BENCH_CLIENT_ARGS)
	$(CARGO) run --release -p fox-bench --bin bench-cache
	$(CARGO) run --release -p fox-bench --bin bench-distributed
	$(CARGO) run --release -p fox-bench --bin bench-audit
	$(CARGO) run --release -p fox-bench --bin bench-events
	$(CARGO) run --release -p fox-bench --bin bench-tenancy

## bench-instructions: client instructions per operation (valgrind callgrind) of foxdb, raw sqlx on a
## bare connection and a pool, raw tokio-postgres, SeaORM and Diesel on PostgreSQL, with ratios to raw
## sqlx; a few minutes (release build). BENCH_INSTRUCTIONS_ARGS='--engines postgres,mysql,sqlite' adds
## foxdb vs raw sqlx on MariaDB and SQLite; '--keep DIR' keeps the dumps for callgrind_annotate
bench-instructions: services
	@command -v valgrind >/dev/null || (apt-get update && apt-get install -y valgrind)
	$(CARGO) build --release -p fox-bench --no-default-features --bin bench-instructions
	$(TARGET_DIR)/release/bench-instructions $(BENCH_INSTRUCTIONS_ARGS)

## bench-bulk-insert: insert_many of 10,000 rows on PostgreSQL, foxdb's COPY path against the multi-row
## INSERT it ran before and raw sqlx doing either: interleaved wall-clock rounds and client instructions
## per insert (valgrind callgrind); a few minutes (release build). BENCH_BULK_INSERT_ARGS='--rows 1000'
bench-bulk-insert: services
	@command -v valgrind >/dev/null || (apt-get update && apt-get install -y valgrind)
	$(CARGO) build --release -p fox-bench --no-default-features --bin bench-bulk-insert
	$(TARGET_DIR)/release/bench-bulk-insert $(BENCH_BULK_INSERT_ARGS)

## bench-routing: client instructions per read (valgrind callgrind) and wall-clock time through the
## replica router vs a direct connection to the replica, both targets in one process in interleaved
## rounds, on a PostgreSQL primary/replica pair of its own (release build); five counted runs and
## their medians. BENCH_ROUTING_ARGS='--runs 7 --rounds 15 --keep DIR' sets runs and rounds and keeps
## the dumps for callgrind_annotate
bench-routing: services
	@command -v valgrind >/dev/null || (apt-get update && apt-get install -y valgrind)
	$(CARGO) build --release -p fox-bench --no-default-features --bin bench-routing
	$(TARGET_DIR)/release/bench-routing $(BENCH_ROUTING_ARGS)

## bench-migrate: the schema engine on 200 and 2,000 generated tables per engine vs raw DDL
## (release build; BENCH_MIGRATE_ARGS='--tables 200 --runs 3' for a shorter run, `--help` for all)
bench-migrate: services
	$(CARGO) run --release -p fox-bench --bin bench-migrate -- $(BENCH_MIGRATE_ARGS)

## bench-realtime: commit → callback latency and throughput per engine next to raw LISTEN/NOTIFY, the
## gateway with 1,000 WebSocket clients, and the write cost of capture (release build)
bench-realtime: services
	$(CARGO) run --release -p fox-bench-realtime --bin bench-realtime

## docs: the documentation site (mdBook, with search) from docs/ into $(TARGET_DIR)/book; any
## warning fails it, and so does a dead internal link or anchor in the built site. Installs mdBook
## with cargo when it is missing.
docs:
	@command -v mdbook >/dev/null || $(CARGO) install mdbook --locked --no-default-features --features search
	@out=$$(mdbook build --dest-dir $(TARGET_DIR)/book 2>&1); status=$$?; echo "$$out"; \
	  if [ $$status -ne 0 ] || echo "$$out" | grep -q WARN; then echo "make docs: mdBook failed or warned"; exit 1; fi
	@# Links out of the site (to examples/, client/, SECURITY.md...) go to the repository on GitHub,
	@# where mdBook's `.md` → `.html` rewrite is undone.
	@cd $(TARGET_DIR)/book && for page in $$(find . -name '*.html'); do \
	  up=$$(dirname "$$page" | sed 's#[^/][^/]*#..#g'); \
	  perl -pi -e "$$REPOSITORY_LINKS" "$$up" "$(CURDIR)" "$$page" || exit 1; \
	done
	FOX_DOCS_SITE=$(TARGET_DIR)/book $(CARGO) test -q -p fox-operator --test docs_links -- \
	  --ignored --exact the_built_site_has_no_dead_internal_link
	@echo "site: $(TARGET_DIR)/book/index.html"

## lint: formatting and clippy with warnings as errors; foxdb builds with each engine alone and
## fox-crds without its `kubernetes` feature
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p fox-crds --no-default-features --all-targets -- -D warnings
	$(CARGO) clippy -p fox-bench --no-default-features --all-targets -- -D warnings
	$(CARGO) clippy -p foxdb --no-default-features --features postgres -- -D warnings
	$(CARGO) clippy -p foxdb --no-default-features --features mysql -- -D warnings
	$(CARGO) clippy -p foxdb --no-default-features --features sqlite -- -D warnings

fmt:
	$(CARGO) fmt --all

## fuzz: libFuzzer runs of the fuzz targets in fuzz/ (its own workspace), FUZZ_SECONDS each
## (default 600): the manifest reader seeded with every example manifest, then plan, apply and
## re-plan of generated schemas on SQLite. cargo-fuzz wants nightly; RUSTC_BOOTSTRAP=1 lets the
## stable toolchain build it. Crashes land in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 600
FUZZ_FLAGS ?= -O -a -s none
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	mkdir -p fuzz/corpus/manifest fuzz/corpus/plan_sqlite
	cp examples/*/*.yaml operator/tests/fixtures/*.yaml fuzz/corpus/manifest/
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $(FUZZ_FLAGS) manifest -- \
	  -max_total_time=$(FUZZ_SECONDS) -dict=manifest.dict -max_len=16384
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $(FUZZ_FLAGS) plan_sqlite -- \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=512

clean:
	$(CARGO) clean
