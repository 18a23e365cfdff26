#!/usr/bin/env bash
# bench/bt/floor.sh - what one downloaded GiB costs this machine before any
# BitTorrent client code runs: the CPU floor under "CPU seconds per GiB".
#
# usage: bench/bt/floor.sh        (env: REPS=3, LEANEST=<a peer's CPU s/GiB>)
#
# Every byte a leecher gets is, at the least,
#   sent once over loopback TCP (by some peer, sendfile from the page cache)
#   and received once (recv into a user buffer),
#   hashed once (SHA-1, OpenSSL's EVP, as every client here),
#   written once into the page cache (16 KiB pwrites, pieces in random order,
#   into a fresh sparse file in /dev/shm, as the swarm yardstick's payloads).
# Each part is timed alone, CPU (user + system) of every process taking
# part, on 1 GiB; the printed floor is their sum: a client with no protocol,
# no bookkeeping and no re-reading at all.  With LEANEST set (the leanest
# peer's CPU per GiB in a swarm run), it also prints the half of it that the
# issue's target asks for.  Medians of REPS; loopback and /dev/shm only.
# Holds /tmp/sockit-bench.lock like the other heavy benchmarks.
set -euo pipefail
REPS=${REPS:-3}
LOCK=${LOCK:-/tmp/sockit-bench.lock}
if [ -z "${FLOOR_LOCKED:-}" ]; then
	export FLOOR_LOCKED=1
	exec flock -o "$LOCK" "$0" "$@"
fi
T=$(mktemp -d /dev/shm/sockit-floor.XXXXXX)
trap 'rm -rf "$T"' EXIT
head -c 1G /dev/urandom >"$T/src"

/usr/bin/python3 - "$T" "$REPS" "${LEANEST:-}" <<'EOF'
import os, random, socket, statistics, subprocess, sys, time

tmp, reps, leanest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
GIB = 1 << 30
BLK = 16384


def cpu_of(fn):
    """CPU seconds (user + system) of this process and its waited children."""
    a = os.times()
    fn()
    b = os.times()
    return sum(b[i] - a[i] for i in range(4))


def sha1():
    out = subprocess.run(["openssl", "speed", "-seconds", "3", "-bytes", "1048576",
                          "-evp", "sha1"], capture_output=True, text=True).stdout
    rate = [l for l in out.splitlines() if l.startswith("sha1")][-1].split()[-1]
    return GIB / (float(rate.rstrip("k")) * 1000)   # seconds of one core per GiB


def write():
    path = os.path.join(tmp, "dst")
    blk = os.urandom(BLK)
    pieces = list(range(GIB >> 20))
    random.shuffle(pieces)

    def run():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        os.ftruncate(fd, GIB)
        for p in pieces:
            for b in range(0, 1 << 20, BLK):
                os.pwrite(fd, blk, (p << 20) + b)
        os.close(fd)
    c = cpu_of(run)
    os.unlink(path)
    return c


def tcp():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    pid = os.fork()
    if pid == 0:  # the sender: sendfile from the page cache
        ls.close()
        s = socket.create_connection(("127.0.0.1", port))
        with open(os.path.join(tmp, "src"), "rb") as f:
            off = 0
            while off < GIB:
                off += os.sendfile(s.fileno(), f.fileno(), off, GIB - off)
        s.close()
        os._exit(0)

    def recv():
        c, _ = ls.accept()
        buf = bytearray(128 * 1024)
        n = 0
        while True:
            k = c.recv_into(buf)
            if k == 0:
                break
            n += k
        c.close()
        os.waitpid(pid, 0)
        assert n == GIB, n
    return cpu_of(recv)


rows = {"sha1": [], "write": [], "tcp": []}
for r in range(reps):
    rows["sha1"].append(sha1())
    rows["write"].append(write())
    rows["tcp"].append(tcp())
    print(f"rep {r + 1}: sha1 {rows['sha1'][-1]:.3f}, write {rows['write'][-1]:.3f}, "
          f"tcp {rows['tcp'][-1]:.3f} CPU s/GiB", file=sys.stderr)
m = {k: statistics.median(v) for k, v in rows.items()}
floor = sum(m.values())
print(f"# {time.strftime('%Y-%m-%dT%H:%M:%S')} {os.cpu_count()} cores; 1 GiB, medians of {reps}")
print("| part of each downloaded GiB | CPU s |")
print("|---|---|")
print(f"| SHA-1 (openssl speed -evp sha1, 1 MiB blocks) | {m['sha1']:.2f} |")
print(f"| write into /dev/shm (16 KiB pwrites, pieces in random order) | {m['write']:.2f} |")
print(f"| loopback TCP (sendfile -> recv, both ends) | {m['tcp']:.2f} |")
print(f"| **floor** | **{floor:.2f}** |")
if leanest:
    half = float(leanest) / 2
    print(f"| target: half of the leanest peer's {float(leanest):.2f} | {half:.2f} "
          f"(floor = {floor / half:.2f}x of it) |")
EOF
