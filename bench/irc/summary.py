#!/usr/bin/env python3
"""summary.py results.txt : the IRC benchmark's tables from ircload RESULT lines.

1. medians [min-max] per server and scenario (the same figures as the
   anchors' bench-summary.py), and
2. the issue's targets: each figure for every server, the best peer
   (ngircd, inspircd, ergo) and sockit's ratio to it, as a markdown table.
"""
import collections
import math
import statistics
import sys

PEERS = ["ngircd", "inspircd", "ergo"]
ORDER = ["sockit"] + PEERS

rows = collections.defaultdict(list)
warnings = []
for line in open(sys.argv[1]):
    if line.startswith("WARNING"):
        warnings.append(line.strip())
    if not line.startswith("RESULT "):
        continue
    kv = dict(tok.split("=", 1) for tok in line.split()[1:] if "=" in tok)
    rows[(kv.get("server"), kv.get("scenario"))].append(kv)


def num(x):
    try:
        v = float(x)
        return v if v >= 0 else math.nan   # ircload prints -1 when unknown
    except (TypeError, ValueError):
        return math.nan


def per_cpu(r):
    """deliveries per second of server CPU time: the rate a saturated
    server core would reach, less sensitive to a load generator or a shared
    machine that keeps the server below 100%."""
    d, c = num(r.get("delivered_per_s")), num(r.get("srv_cpu_pct"))
    return d / (c / 100) if c > 0 else math.nan


def med(runs, key, ok_only=True):
    if key == "per_cpu":
        vals = [per_cpu(r) for r in runs if not ok_only or r.get("status") == "ok"]
    else:
        vals = [num(r.get(key)) for r in runs if not ok_only or r.get("status") == "ok"]
    vals = [v for v in vals if not math.isnan(v)]
    if not vals:
        return math.nan, math.nan, math.nan, 0
    return statistics.median(vals), min(vals), max(vals), len(vals)


FLOOD = ["setup_s", "sent_per_s", "delivered_per_s", "p50_us", "p99_us", "max_us",
         "lost", "disconnects", "srv_cpu_pct", "gen_cpu_pct"]
IDLE = ["setup_s", "rss_before_kib", "rss_after_kib", "rss_per_client_b", "disconnects"]
HOLD = ["ready", "alive_end", "peak_server_fds", "rss_peak_kib"]

print("## medians [min-max] of runs with status=ok (n = ok runs / all runs)")
for (server, sc), runs in sorted(rows.items(), key=lambda x: (x[0][1], ORDER.index(x[0][0])
                                                              if x[0][0] in ORDER else -1)):
    mode = runs[0].get("mode")
    keys = IDLE if mode == "idle" else HOLD if mode == "hold" else FLOOD
    parts = []
    nok = 0
    for k in keys:
        m, lo, hi, nok = med(runs, k, ok_only=(mode != "hold"))
        parts.append(f"{k}={m:.0f}" + (f"[{lo:.0f}-{hi:.0f}]" if nok > 1 and lo != hi else ""))
    st = ",".join(sorted(set(r.get("status", "?") for r in runs)))
    print(f"{server:9s} scen={sc:3s} n={nok}/{len(runs)} status={st} " + " ".join(parts))
for w in warnings:
    print(w)

# (label, scenario, key, higher_is_better, scale, unit)
TARGETS = [
    ("fan-out deliveries/s, 1000 clients in 1 channel, 10 senders (w16)", "a", "delivered_per_s", True),
    ("fan-out deliveries/s, same, window 64", "a64", "delivered_per_s", True),
    ("deliveries/s, 100 channels x 10 clients, 100 senders (w16)", "B", "delivered_per_s", True),
    ("deliveries/s, 100 channels x 10 clients, 100 senders (w64)", "B64", "delivered_per_s", True),
    ("deliveries/s, 10 channels x 10 clients, 100 senders (w16)", "b", "delivered_per_s", True),
    ("deliveries/s, 10 channels x 10 clients, 100 senders (w64)", "b64", "delivered_per_s", True),
    ("deliveries per server CPU-second, fan-out (a)", "a", "per_cpu", True),
    ("deliveries per server CPU-second, fan-out (a64)", "a64", "per_cpu", True),
    ("deliveries per server CPU-second, 100 x 10 (B)", "B", "per_cpu", True),
    ("deliveries per server CPU-second, 100 x 10 (B64)", "B64", "per_cpu", True),
    ("deliveries per server CPU-second, 10 x 10 (b64)", "b64", "per_cpu", True),
    ("p99 delivery latency us, fan-out at 200 msg/s in (ar)", "ar", "p99_us", False),
    ("p50 delivery latency us, fan-out at 200 msg/s in (ar)", "ar", "p50_us", False),
    ("p99 delivery latency us, fan-out closed loop w16 (a)", "a", "p99_us", False),
    ("server bytes per idle registered client (10,000 held)", "c", "rss_per_client_b", False),
]

present = {k[0] for k in rows}
servers = sorted(s for s in present if s.startswith("sockit")) + [s for s in PEERS if s in present]
ours = next((s for s in servers if s.startswith("sockit")), None)   # the ratio's numerator
print()
print("## targets (medians; ratio = sockit / best peer, want >= 2 for rates, < 1 for latency, <= 0.5 for memory)")
print()
print("| figure | " + " | ".join(servers) + f" | best peer | {ours} / best |")
print("|---" * (len(servers) + 3) + "|")
for label, sc, key, higher in TARGETS:
    vals = {s: med(rows.get((s, sc), []), key)[0] for s in servers}
    if all(math.isnan(v) for v in vals.values()):
        continue
    peers = {s: v for s, v in vals.items() if s in PEERS and not math.isnan(v)}
    best = (max if higher else min)(peers.items(), key=lambda kv: kv[1]) if peers else None
    cells = ["-" if math.isnan(vals[s]) else f"{vals[s]:,.0f}" for s in servers]
    if best and ours and not math.isnan(vals[ours]) and best[1] > 0:
        ratio = f"{vals[ours] / best[1]:.2f}"
    else:
        ratio = "-"
    bestc = f"{best[0]} {best[1]:,.0f}" if best else "-"
    print(f"| {label} | " + " | ".join(cells) + f" | {bestc} | {ratio} |")
hold = [r for k, v in rows.items() if k[1] == "h" for r in v]
if hold:
    def iv(r, k):
        v = num(r.get(k))
        return 0 if math.isnan(v) else int(v)
    cells = "; ".join(f"{iv(r, 'ready')} registered, {iv(r, 'alive_end')} alive after the hold, "
                      f"server fds peak {iv(r, 'peak_server_fds')} (limit {r.get('server_fd_limit', '?')}), "
                      f"RSS peak {iv(r, 'rss_peak_kib') // 1024} MiB, {r.get('status')}" for r in hold)
    print(f"| 50,000 clients held at once (h) | {cells} |" + " |" * (len(servers) + 1))
