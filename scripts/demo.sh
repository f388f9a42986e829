#!/usr/bin/env bash
# The demo on a fresh Debian/Ubuntu machine: install what is missing, then `shopbench demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
exec cargo run --release -- demo "$@"
