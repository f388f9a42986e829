# The shopbench binary in a container, for load generators on Kubernetes
# (deploy/kubernetes/) or anywhere else. Build from the repository root:
#
#   docker build --build-arg GIT_REVISION=$(git rev-parse --short=12 HEAD) -t shopbench:latest .
#
# The image holds only the binary (mixes, migrations and the ClickHouse schema are compiled in);
# every server is given by URL (DATABASE_URL, REDIS_URL, CLICKHOUSE_URL, S3_ENDPOINT…).
FROM rust:1.95-bookworm AS build
WORKDIR /src
# libpq: the workload's PostgreSQL driver links it (scenarios/src/pq/).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY . .
ARG GIT_REVISION=unknown
ENV SHOPBENCH_GIT_REVISION=${GIT_REVISION}
RUN cargo build --release --locked --bin shopbench \
    && cp target/release/shopbench /usr/local/bin/shopbench

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/shopbench shopbench
COPY --from=build /usr/local/bin/shopbench /usr/local/bin/shopbench
USER shopbench
WORKDIR /home/shopbench
# No managed services in a container: their state would live here if one were started.
ENV SHOPBENCH_HOME=/home/shopbench/.shopbench
ENTRYPOINT ["shopbench"]
CMD ["--help"]
