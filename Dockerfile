# syntax=docker/dockerfile:1
# The FoxDB operator image: the `fox` binary on distroless (glibc, CA certificates, no shell, no
# package manager), run as the unprivileged user 65532 with `fox run` by default. Build it from
# the repository root:
#
#   docker build -t fox-operator:dev .
#
# Connections use rustls (no OpenSSL); SQLite is compiled in from C, hence the glibc `cc` base.
#
# Both base images are pinned by digest, so a rebuild starts from the exact bytes that were
# reviewed (the tag is for readers). To move to newer ones, review them, then replace each digest
# with what `docker buildx imagetools inspect <image:tag>` prints. The builder must be Rust 1.94 or
# later (the workspace's rust-version).

FROM rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS builder
WORKDIR /src
COPY . .
# The cache mounts keep crates.io downloads and compiled dependencies between builds; the binary
# is copied out of the cached target directory, which the final stage cannot see.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build -p fox-operator --bin fox --release --locked \
 && cp target/release/fox /fox

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
LABEL org.opencontainers.image.title="fox-operator" \
      org.opencontainers.image.description="FoxDB operator: declarative database schemas, migrations and replica routing" \
      org.opencontainers.image.source="https://github.com/foxdb/foxdb" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /fox /fox
USER 65532:65532
ENTRYPOINT ["/fox"]
CMD ["run"]
