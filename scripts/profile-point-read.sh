#!/usr/bin/env bash
# User-space instructions per operation, shopbench's `point-read` mix beside pgbench on the same
# four statements (BEGIN and the tenant's set_config in one pipeline, the primary-key read,
# COMMIT; -M prepared, as the application role), 8 connections on 2 client threads, closed loop.
#
# Instruction counts (callgrind) repeat from run to run on a noisy machine where throughput and
# CPU time do not, so this is how a change to the engine's hot path is judged before
# `cargo bench --bench parity` measures its time. Each side runs under valgrind with
# instrumentation off; a 10 s window in the steady state is switched on with callgrind_control,
# and the window's instructions are divided by the transactions it saw (PQpipelineSync's call
# count: one per transaction on both sides). Startup (connections, the model) is outside it.
#
# Needs: the managed services up and seeded (`shopbench up`, `schema apply`, `seed --scale tiny`),
# `cargo build --release`, valgrind and python3. Run from the checkout; about two minutes.
# Usage: scripts/profile-point-read.sh [OUTDIR]   (callgrind files kept in OUTDIR)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-$(mktemp -d -t shopbench-profile.XXXX)}
mkdir -p "$out"
bin=${CARGO_TARGET_DIR:-target}/release/shopbench
state=${SHOPBENCH_HOME:-.shopbench}/state.json
for need in valgrind callgrind_control callgrind_annotate python3; do
    command -v "$need" >/dev/null || { echo "profile: $need is not installed (apt-get install -y valgrind python3)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "profile: $bin not found: run 'cargo build --release' first" >&2; exit 2; }
[ -f "$state" ] || { echo "profile: no managed services in $state: run 'shopbench up', 'schema apply', 'seed --scale tiny' first" >&2; exit 2; }

read -r port password app_password bindir < <(python3 -c "
import json, sys
p = json.load(open(sys.argv[1]))['postgres']
print(p['port'], p['password'], p['app_password'], p['bindir'])" "$state")
admin="postgres://shopbench:$password@127.0.0.1:$port/shopbench"
app="postgres://shopbench_app:$app_password@127.0.0.1:$port/shopbench"
read -r tenant product < <(psql "$admin" -Atc "SELECT tenant_id, id FROM shop.products LIMIT 1" | tr '|' ' ')
[ -n "${product:-}" ] || { echo "profile: no products: run 'shopbench seed --scale tiny' first" >&2; exit 2; }

cat > "$out/read.sql" <<EOF
\\startpipeline
BEGIN;
SELECT set_config('app.tenant_id', '$tenant', true);
\\endpipeline
SELECT id, name, sku FROM shop.products WHERE tenant_id = '$tenant' AND id = '$product';
COMMIT;
EOF

# window NAME WAIT_S COMMAND...: instrumentation on for 10 s after WAIT_S seconds.
window() {
    local name=$1 wait=$2
    shift 2
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$name.cg" "$@" \
        >"$out/$name.log" 2>&1 &
    local pid=$!
    sleep "$wait"
    callgrind_control -i on "$pid" >/dev/null 2>&1
    sleep 10
    callgrind_control -i off "$pid" >/dev/null 2>&1
    wait "$pid"
}

window pgbench 8 "$bindir/pgbench" -n -M prepared -c 8 -j 2 -T 25 -f "$out/read.sql" "$app"
window shopbench 15 "$bin" run --mix point-read --users 8 --client-threads 2 --warmup 2s \
    --duration 35s --out "$out/run"

python3 - "$out" <<'EOF'
import collections, re, subprocess, sys

out = sys.argv[1]

def annotate(name, *flags):
    return subprocess.run(["callgrind_annotate", "--auto=no", *flags, f"{out}/{name}.cg"],
                          capture_output=True, text=True, check=True).stdout.splitlines()

def category(where):
    if "libpq" in where: return "libpq"
    if "malloc" in where or "arena.c" in where: return "malloc/free"
    if "memmove" in where or "memset" in where: return "memcpy/memset"
    if "libc.so" in where or "libm.so" in where: return "libc, other"
    if "tokio" in where or "mio-" in where: return "tokio"
    if "deadpool" in where: return "pool (deadpool)"
    if "hdrhistogram" in where or "recorder.rs" in where: return "recording"
    if "/pq/" in where: return "driver (scenarios/src/pq)"
    if "pgbench" in where: return "pgbench"
    return "engine and the rest"

for name in ("pgbench", "shopbench"):
    transactions = next(int(m.group(1).replace(",", ""))
                        for line in annotate(name, "--tree=caller")
                        if (m := re.search(r"< \?\?\?:PQpipelineSync \(([\d,]+)x\)", line)))
    costs = collections.Counter()
    for line in annotate(name, "--threshold=100"):
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            costs[category(m.group(2))] += int(m.group(1).replace(",", ""))
    total = sum(costs.values())
    print(f"{name}: {total / transactions:,.0f} instructions per transaction "
          f"({transactions:,} transactions in the window)")
    for what, n in costs.most_common():
        print(f"  {n / transactions:>8,.0f}  {what}")
print("(shopbench's figure includes its once-a-second histogram merges, which weigh more per "
      "operation the slower valgrind runs it)")
EOF
echo "callgrind files: $out"
