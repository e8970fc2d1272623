# The incident server: a release build, then a slim runtime that runs it as a non-root user.
# Data (the SQLite file and its development key; attachments live in the database) is in /data.
# Stop with a timeout above SHUTDOWN_GRACE (20s): `docker run --stop-timeout 25`, or compose's
# stop_grace_period.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin incident

FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 incident \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin incident \
    && mkdir -p /data \
    && chown incident:incident /data
COPY --from=build /src/target/release/incident /usr/local/bin/incident
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite:///data/incident.db \
    LOG_FORMAT=json \
    SHUTDOWN_GRACE=20s
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
# No curl in the image: bash asks /healthz over /dev/tcp.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["incident"]
CMD ["serve"]
