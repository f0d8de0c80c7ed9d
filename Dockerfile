# syntax=docker/dockerfile:1
# Multi-stage build: a full Rust toolchain to build, a slim Debian runtime to run.
#   docker build -t csms .
#   docker run -p 8080:8080 -p 9000:9000 -e CSMS_API_LISTEN=0.0.0.0:8080 csms

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p csms -p simulator \
 && cp target/release/csms target/release/csms-sim /usr/local/bin/

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/csms --create-home csms
COPY --from=build /usr/local/bin/csms /usr/local/bin/csms-sim /usr/local/bin/
USER csms
WORKDIR /var/lib/csms
ENV CSMS_API_LISTEN=0.0.0.0:8080 \
    CSMS_OCPP_LISTEN=0.0.0.0:9000 \
    CSMS_DATABASE_URL=sqlite:///var/lib/csms/csms.db?mode=rwc
EXPOSE 8080 9000
VOLUME ["/var/lib/csms"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["csms", "health"]
ENTRYPOINT ["csms"]
CMD ["serve"]
