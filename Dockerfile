# Builds the quartzdb binary and runs it with its data directory on a volume.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin quartzdb

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/quartzdb quartzdb && mkdir -p /var/lib/quartzdb && chown quartzdb /var/lib/quartzdb
COPY --from=build /src/target/release/quartzdb /usr/local/bin/quartzdb
USER quartzdb
ENV QUARTZDB_DATA_DIR=/var/lib/quartzdb/data \
    QUARTZDB_LISTEN=0.0.0.0:5433
VOLUME /var/lib/quartzdb
EXPOSE 5433
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/quartzdb"]
