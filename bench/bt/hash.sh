#!/usr/bin/env bash
# bench/bt/hash.sh - piece hashing throughput of `sockit bt` against
# `openssl speed -evp sha1` on one core times the cores used.
#
# usage: bench/bt/hash.sh            (env: SIZE=1G PIECE=1M REPS=3 THREADS=$(nproc)
#                                       SOCKIT_BIN=build-btbench/sockit)
#
# A random payload in /dev/shm (page cache, no disk), read once to warm it.
# Per repetition: `sockit bt create` with -j 1 and with -j THREADS (hashing
# the whole payload into a torrent), and `sockit bt seed --seed-time 0`
# (the resume check: every piece read back and verified; timed from its log
# lines "checking the data" to "N of N pieces verified on disk").  The
# yardstick is `openssl speed -evp sha1 -bytes PIECE` (one thread, same
# block size as a piece): sockit/openssl is printed for one thread and for
# THREADS threads (openssl's one-core rate x THREADS).  Medians of REPS.
# Holds /tmp/sockit-bench.lock like the other heavy benchmarks.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOCKIT_BIN=${SOCKIT_BIN:-$ROOT/build-btbench/sockit}
SIZE=${SIZE:-1G}
PIECE=${PIECE:-1M}
REPS=${REPS:-3}
THREADS=${THREADS:-$(nproc)}
LOCK=${LOCK:-/tmp/sockit-bench.lock}
if [ -z "${HASH_LOCKED:-}" ]; then
	export HASH_LOCKED=1
	exec flock -o "$LOCK" "$0" "$@"
fi
[ -x "$SOCKIT_BIN" ] || { echo "hash.sh: no $SOCKIT_BIN (build with CMAKE_BUILD_TYPE=Release)" >&2; exit 1; }

T=$(mktemp -d /dev/shm/sockit-hash.XXXXXX)
trap 'rm -rf "$T"' EXIT
head -c "$SIZE" /dev/urandom >"$T/payload"
cat "$T/payload" >/dev/null
bytes=$(stat -c %s "$T/payload")
piece_bytes=$(numfmt --from=iec "$PIECE")

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
ts() { # seconds of the first log line of $T/seed.log matching $1
	awk -v pat="$1" 'index($0, pat) { split($1, a, "T"); sub(/Z$/, "", a[2]); split(a[2], h, ":")
		printf "%.3f\n", h[1] * 3600 + h[2] * 60 + h[3]; exit }' "$T/seed.log"
}
rate() { awk -v b="$bytes" -v a="$1" -v z="$2" 'BEGIN { printf "%.0f\n", b / (z - a) / 1e6 }'; }

# openssl prints the last line as "sha1  <rate for each -bytes>k" in 1000s of bytes/s
ossl() {
	openssl speed -seconds 3 -bytes "$piece_bytes" -evp sha1 2>/dev/null |
		awk '/^sha1/ { v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000 / 1e6 }'
}

declare -a o1 c1 cn sn
for r in $(seq 1 "$REPS"); do
	o1+=("$(ossl)")
	t0=$(now); "$SOCKIT_BIN" bt create "$T/payload" -t http://127.0.0.1:6969/announce \
		-o "$T/p.torrent" -l "$PIECE" -j 1 -d -f 2>/dev/null; t1=$(now)
	c1+=("$(rate "$t0" "$t1")")
	t0=$(now); "$SOCKIT_BIN" bt create "$T/payload" -t http://127.0.0.1:6969/announce \
		-o "$T/p.torrent" -l "$PIECE" -j "$THREADS" -d -f 2>/dev/null; t1=$(now)
	cn+=("$(rate "$t0" "$t1")")
	# the check's own span, from the log's millisecond timestamps (the
	# process then seeds for "0 s", which ends on the next 1 s tick)
	"$SOCKIT_BIN" bt seed "$T/p.torrent" -d "$T" -l 127.0.0.1:0 \
		--seed-time 0 --no-progress 2>"$T/seed.log" || true
	t0=$(ts "checking the data"); t1=$(ts "pieces verified on disk")
	[ -n "$t0" ] && [ -n "$t1" ] || { cat "$T/seed.log" >&2; exit 1; }
	sn+=("$(rate "$t0" "$t1")")
	echo "rep $r: openssl 1 thread ${o1[-1]} MB/s; create -j 1 ${c1[-1]}, -j $THREADS ${cn[-1]}; seed check ${sn[-1]} MB/s" >&2
done

O=$(printf '%s\n' "${o1[@]}" | median)
C1=$(printf '%s\n' "${c1[@]}" | median)
CN=$(printf '%s\n' "${cn[@]}" | median)
SN=$(printf '%s\n' "${sn[@]}" | median)
echo "# $(date +%FT%T) $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); payload $SIZE, pieces $PIECE, medians of $REPS"
echo "| what | MB/s | openssl sha1 yardstick MB/s | ratio |"
echo "|---|---|---|---|"
awk -v o="$O" -v c1="$C1" -v cn="$CN" -v sn="$SN" -v n="$THREADS" 'BEGIN {
	printf "| bt create, 1 thread | %d | %d (1 core) | %.2f |\n", c1, o, c1 / o
	printf "| bt create, %d threads | %d | %d (1 core x %d) | %.2f |\n", n, cn, o * n, n, cn / (o * n)
	printf "| bt seed resume check | %d | %d (1 core x %d) | %.2f |\n", sn, o * n, n, sn / (o * n)
}'
