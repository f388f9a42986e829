#!/usr/bin/env bash
# The tests on a fresh Debian/Ubuntu machine: install what is missing, then run every test
# against real servers (the managed PostgreSQL, ClickHouse, ... under ./.shopbench, or
# DATABASE_URL / CLICKHOUSE_URL when set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export SHOPBENCH_REQUIRE_CLICKHOUSE=1
export SHOPBENCH_REQUIRE_SEARCH=1
exec cargo test --workspace "$@"
