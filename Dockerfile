# syntax=docker/dockerfile:1
# The FoxDB operator image: the `fox` binary on distroless (glibc, CA certificates, no shell, no
# package manager), run as the unprivileged user 65532 with `fox run` by default. Build it from
# the repository root:
#
#   docker build -t fox-operator:dev .
#
# Connections use rustls (no OpenSSL); SQLite is compiled in from C, hence the glibc `cc` base.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep crates.io downloads and compiled dependencies between builds; the binary
# is copied out of the cached target directory, which the final stage cannot see.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build -p fox-operator --bin fox --release --locked \
 && cp target/release/fox /fox

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="fox-operator" \
      org.opencontainers.image.description="FoxDB operator: declarative database schemas, migrations and replica routing" \
      org.opencontainers.image.source="https://github.com/foxdb/foxdb" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /fox /fox
USER 65532:65532
ENTRYPOINT ["/fox"]
CMD ["run"]
