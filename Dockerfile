# ooda as a container image: built from source in the Rust image, run from Debian slim as the
# non-root user `ooda`, read-only root filesystem, state on a volume. See README.md ("As a
# container"). Not built by CI: the build machines have no Docker engine or registry.
#
#   docker build -t ooda .
#   docker run -d --name ooda --read-only --tmpfs /tmp \
#     -v ooda-data:/var/lib/ooda -p 127.0.0.1:9677:9677 ooda

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# Bakes the container's paths in as defaults, so `docker exec ooda ooda alerts list` needs no flags.
ENV OODA_DEFAULT_DATA_DIR=/var/lib/ooda \
    OODA_DEFAULT_CONFIG=/etc/ooda/ooda.toml
RUN cargo build --release --locked -p ooda \
 && ./target/release/ooda config example > /src/ooda.toml \
 && ./target/release/ooda config check /src/ooda.toml

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system ooda \
 && useradd --system --gid ooda --home-dir /var/lib/ooda --shell /usr/sbin/nologin ooda \
 && install -d -o ooda -g ooda -m 0750 /var/lib/ooda \
 && install -d -o root -g ooda -m 0750 /etc/ooda
COPY --from=build /src/target/release/ooda /usr/bin/ooda
COPY --from=build --chown=root:ooda --chmod=0640 /src/ooda.toml /etc/ooda/ooda.toml
USER ooda
VOLUME ["/var/lib/ooda"]
ENV OODA_DATA_DIR=/var/lib/ooda \
    OODA_CONFIG=/etc/ooda/ooda.toml
EXPOSE 9677
ENTRYPOINT ["/usr/bin/ooda"]
# Inside a container the API must listen beyond loopback to be published; set
# `[server] api_token` (mounted config) before publishing it anywhere but 127.0.0.1.
CMD ["up", "--listen", "0.0.0.0:9677"]
