# Builds the quartzdb binary and runs it with its data directory on a volume.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin quartzdb

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/quartzdb quartzdb && mkdir -p /var/lib/quartzdb && chown quartzdb /var/lib/quartzdb
COPY --from=build /src/target/release/quartzdb /usr/local/bin/quartzdb
USER quartzdb
# Connections arrive from the container network, not loopback: trust them, and publish the port
# on the host's loopback only (see docker-compose.yml) until QuartzDB has passwords.
ENV QUARTZDB_DATA_DIR=/var/lib/quartzdb/data \
    QUARTZDB_LISTEN=0.0.0.0:5433 \
    QUARTZDB_ALLOW_REMOTE=true
VOLUME /var/lib/quartzdb
EXPOSE 5433
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/quartzdb"]
