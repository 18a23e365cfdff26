#!/usr/bin/env bash
# bench/run.sh - sockit's echo server against libuv, libevent and a bare
# epoll loop, with the shared yardstick in ../shared/bench/loop.
#
# usage: bench/run.sh            (from anywhere; `make bench` runs it)
# env:   BUILD_DIR=build         the Release tree holding bench/echo_sockit
#        BACKENDS="uring epoll poll"   sockit backends to measure (those
#                                that this machine lacks are skipped)
#        OTHERS="uv ev epoll"    the reference servers
#        LOOP_DIR=../shared/bench/loop
#        REPS SECS WARM IDLE_CONNS ... passed through to bench.sh
#
# sockit runs once per loop backend: build/bench/echo_sockit_<backend> is a
# two-line wrapper that sets SOCKIT_BACKEND and execs echo_sockit (exec, so
# the PID bench.sh measures is the server's own).  After bench.sh's summary
# this prints a derived table with every figure as a ratio to libuv.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build}
BACKENDS=${BACKENDS:-"uring epoll poll"}
OTHERS=${OTHERS:-"uv ev epoll"}
LOOP_DIR=${LOOP_DIR:-$ROOT/../shared/bench/loop}

if [ ! -f "$LOOP_DIR/bench.sh" ]; then
	echo "bench/run.sh: no yardstick at $LOOP_DIR (expected ../shared beside the repo)" >&2
	exit 1
fi
bash scripts/deps.sh build bench

if [ ! -x "$BUILD_DIR/bench/echo_sockit" ] || [ ! -x "$BUILD_DIR/sockit" ]; then
	cmake -S . -B "$BUILD_DIR" --log-level=WARNING -DCMAKE_BUILD_TYPE=Release
	cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target echo_sockit sockit_bin
fi
bindir=$(cd "$BUILD_DIR/bench" && pwd)

servers=""
for be in $BACKENDS; do
	# `sockit version` makes a loop: it names the backend it really got.
	if ! SOCKIT_BACKEND=$be "$BUILD_DIR/sockit" version 2>/dev/null | grep -q "backend: $be,"; then
		echo "bench/run.sh: backend $be not available here, skipped" >&2
		continue
	fi
	w=$bindir/echo_sockit_$be
	printf '#!/bin/sh\nSOCKIT_BACKEND=%s exec %s "$@"\n' "$be" "$bindir/echo_sockit" >"$w"
	chmod +x "$w"
	export "ECHO_sockit_$be=$w"
	servers="$servers sockit_$be"
done
[ -n "$servers" ] || { echo "bench/run.sh: no sockit backend available" >&2; exit 1; }

export SERVERS="${servers# } $OTHERS"
echo "bench/run.sh: servers: $SERVERS" >&2
log=$(mktemp /tmp/sockit-bench-run.XXXXXX)
trap 'rm -f "$log"' EXIT
bash "$LOOP_DIR/bench.sh" | tee "$log"

raw=$(sed -n 's/^raw: \([^ ]*\) .*/\1/p' "$log" | tail -1)
[ -f "$raw" ] || { echo "bench/run.sh: raw results not found" >&2; exit 1; }

echo
echo "## Derived: each figure and its ratio to libuv (uv = 1.00)"
echo
python3 - "$raw" <<'EOF'
import statistics, sys
from collections import defaultdict

rows = defaultdict(list)          # (server, mode, conns) -> [kv]
servers = []
for line in open(sys.argv[1]):
    if line.startswith("#") or "RESULT" not in line or "FAILED" in line:
        continue
    kv = dict(t.split("=", 1) for t in line.replace("RESULT ", "").split() if "=" in t)
    if kv["server"] not in servers:
        servers.append(kv["server"])
    rows[(kv["server"], kv["mode"], int(kv["conns"]))].append(kv)

def f(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None

def med(server, mode, conns, fn):
    vals = [fn(kv) for kv in rows.get((server, mode, conns), [])]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None

def per(num, den, scale=1e6):
    def g(kv):
        n, d = f(kv.get(num)), f(kv.get(den))
        return n / 100.0 / d * scale if n is not None and d else None
    return g

def num(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"

field = lambda k: (lambda kv: f(kv.get(k)))
order = {"pingpong": 0, "stream": 1, "connect": 2, "idle": 3}
cases = sorted({(m, c) for (_, m, c) in rows}, key=lambda k: (order.get(k[0], 9), k[1]))
metrics = []
for m, c in cases:
    if m == "pingpong":
        metrics.append((f"server CPU us per round trip, pingpong C={c}", "lower", m, c, per("server_cpu_pct", "rt_per_s")))
    if m == "stream":
        metrics.append((f"MB/s, stream C={c}", "higher", m, c, field("mb_per_s")))
        metrics.append((f"server CPU us per MB, stream C={c}", "lower", m, c, per("server_cpu_pct", "mb_per_s")))
    if m == "connect":
        metrics.append((f"conn/s, connect C={c}", "higher", m, c, field("conn_per_s")))
    if m == "idle":
        metrics.append((f"bytes per idle conn, C={c}", "lower", m, c, field("per_conn_bytes")))

print("| metric | better | " + " | ".join(servers) + " |")
print("|---|---|" + "---|" * len(servers))
for name, better, m, c, fn in metrics:
    base = med("uv", m, c, fn)
    cells = []
    for s in servers:
        v = med(s, m, c, fn)
        if v is None:
            cells.append("-")
        elif base:
            cells.append(f"{num(v)} ({v / base:.2f}x)")
        else:
            cells.append(num(v))
    print(f"| {name} | {better} | " + " | ".join(cells) + " |")
EOF
