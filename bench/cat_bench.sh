#!/usr/bin/env bash
# bench/cat_bench.sh - stream 1 GiB over loopback TCP with `sockit cat` ->
# `sockit cat`, ncat -> ncat and socat -> socat, in one run, and report
# throughput and CPU seconds per GiB (sender + receiver).
#
# usage: bench/cat_bench.sh          (after a Release build in build/)
# env:   SK_BIN=build/sockit  REPS=3 (median of)  SIZE_MB=1024
#        SEND_CPU=0 RECV_CPU=1  (taskset cores)  BACKENDS="default epoll"
#        TOOLS="sockit ncat socat"
#
# Each run: the receiver listens on 127.0.0.1 and writes to /dev/null; the
# sender reads a sparse SIZE_MB file (zeros from the page cache, no disk)
# as its standard input and sends it, half-closes, and both end.  The
# sender is pinned to SEND_CPU, the receiver to RECV_CPU.  Wall time runs
# from the sender's start to the receiver's exit; CPU is user+system of
# both processes from /usr/bin/time.  Each tool is first checked once to
# deliver exactly SIZE_MB MiB (into a file, untimed).
#
# Tools as people run them, with their defaults: ncat with --send-only /
# --recv-only (otherwise the receiver's empty stdin ends the session), socat
# with -u (one direction; its -t would cut a bidirectional session short).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SK_BIN:-$ROOT/build/sockit}
REPS=${REPS:-3}
SIZE_MB=${SIZE_MB:-1024}
SEND_CPU=${SEND_CPU:-0}
RECV_CPU=${RECV_CPU:-1}
BACKENDS=${BACKENDS:-"default epoll"}
TOOLS=${TOOLS:-"sockit ncat socat"}

for t in taskset /usr/bin/time ss; do
	command -v "$t" >/dev/null || { echo "cat_bench: $t is missing" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "cat_bench: no sockit binary at $BIN (build first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sk_cat_bench.XXXXXX")
rpid=
trap '[ -n "$rpid" ] && kill "$rpid" 2>/dev/null; rm -rf "$tmp"' EXIT
data=$tmp/data
truncate -s "${SIZE_MB}M" "$data"
bytes=$((SIZE_MB << 20))

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		# any state: a client's port or a TIME-WAIT can hold it too
		ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# recv_cmd/send_cmd TOOL PORT: the command lines being compared.
recv_cmd() {
	case $1 in
	sockit*) echo "$BIN cat -l 127.0.0.1 $2" ;;
	ncat) echo "ncat --recv-only -l 127.0.0.1 $2" ;;
	socat) echo "socat -u TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr STDOUT" ;;
	esac
}
send_cmd() {
	case $1 in
	sockit*) echo "$BIN cat 127.0.0.1 $2" ;;
	ncat) echo "ncat --send-only 127.0.0.1 $2" ;;
	socat) echo "socat -u STDIN TCP:127.0.0.1:$2" ;;
	esac
}

# wait_listen PORT PID: until PORT listens (0), or PID is gone or 10 s
# passed (1: the caller tries another port).
wait_listen() {
	local i
	for i in $(seq 1 500); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# start_recv TOOL FILE ARGS...: the receiver in the background on a free
# port (retried if it cannot listen); sets port and rpid.
start_recv() {
	local tool=$1 try
	shift
	for try in 1 2 3 4 5; do
		port=$(free_port)
		# shellcheck disable=SC2046
		env $(backend_env "$tool") "$@" $(recv_cmd "$tool" "$port") </dev/null \
			>"$rout" 2>"$tmp/recv.err" &
		rpid=$!
		wait_listen "$port" "$rpid" && return 0
		kill "$rpid" 2>/dev/null || true
		wait "$rpid" 2>/dev/null || true
	done
	echo "cat_bench: $tool never listened" >&2
	cat "$tmp/recv.err" >&2
	exit 1
}

backend_env() { # TOOL -> env assignment for the loop backend
	case $1 in
	sockit-*) echo "SOCKIT_BACKEND=${1#sockit-}" ;;
	*) echo "SOCKIT_BACKEND=" ;;
	esac
}

# check TOOL: one untimed transfer, counted by wc -c through a FIFO.
check() {
	local tool=$1 got wpid
	rm -f "$tmp/count.fifo"
	mkfifo "$tmp/count.fifo"
	wc -c <"$tmp/count.fifo" >"$tmp/count" &
	wpid=$!
	rout=$tmp/count.fifo
	start_recv "$tool"
	# shellcheck disable=SC2046
	env $(backend_env "$tool") $(send_cmd "$tool" "$port") <"$data" >/dev/null 2>"$tmp/chk.err"
	wait "$rpid" || true
	rpid=
	wait "$wpid"
	got=$(tr -d ' ' <"$tmp/count")
	if [ "$got" != "$bytes" ]; then
		echo "cat_bench: $tool delivered $got bytes, not $bytes" >&2
		cat "$tmp/chk.err" "$tmp/recv.err" >&2
		exit 1
	fi
}

# once TOOL: one timed transfer; prints "wall cpu".
once() {
	local tool=$1 t0 t1
	rout=/dev/null
	start_recv "$tool" /usr/bin/time -f '%e %U %S' -o "$tmp/recv.time" taskset -c "$RECV_CPU"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2046
	env $(backend_env "$tool") /usr/bin/time -f '%e %U %S' -o "$tmp/send.time" \
		taskset -c "$SEND_CPU" $(send_cmd "$tool" "$port") <"$data" >/dev/null 2>"$tmp/send.err"
	wait "$rpid"
	t1=$(date +%s.%N)
	rpid=
	awk -v t0="$t0" -v t1="$t1" 'NR == FNR { rc = $2 + $3; next } { sc = $2 + $3 }
		END { printf "%.4f %.4f\n", t1 - t0, rc + sc }' "$tmp/recv.time" "$tmp/send.time"
}

tools=()
for t in $TOOLS; do
	if [ "$t" = sockit ]; then
		for be in $BACKENDS; do
			[ "$be" = default ] && tools+=(sockit) || tools+=("sockit-$be")
		done
	elif command -v "$t" >/dev/null; then
		tools+=("$t")
	else
		echo "cat_bench: $t not installed, skipped (apt-get install $t)" >&2
	fi
done

for t in "${tools[@]}"; do
	check "$t"
done

results=$tmp/results
: >"$results"
for r in $(seq 1 "$REPS"); do
	for t in "${tools[@]}"; do # interleaved, so drift hits every tool alike
		once "$t" >"$tmp/one"
		echo "$t $(cat "$tmp/one")" >>"$results"
	done
done

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -r), $(nproc) cores, $SIZE_MB MiB x $REPS," \
	"sender on CPU $SEND_CPU, receiver on CPU $RECV_CPU"
echo "# $("$BIN" version)"
command -v ncat >/dev/null && echo "# $(ncat --version 2>&1 | head -n 1)"
command -v socat >/dev/null && echo "# $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')"
echo
awk -v mb="$SIZE_MB" '
	{ wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " $3; if (!seen[$1]++) order[n++] = $1 }
	function median(s,   a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
	}
	END {
		for (i = 0; i < n; i++) {
			t = order[i]; w[t] = median(wall[t]); c[t] = median(cpu[t])
			mbs[t] = mb * 1048576 / 1e6 / w[t]; cg[t] = c[t] / (mb / 1024)
		}
		printf "| tool | MB/s | CPU s per GiB | vs ncat (MB/s) | vs socat (MB/s) |\n"
		printf "|---|---|---|---|---|\n"
		for (i = 0; i < n; i++) {
			t = order[i]
			vn = ("ncat" in mbs) ? sprintf("%.2fx", mbs[t] / mbs["ncat"]) : "-"
			vs = ("socat" in mbs) ? sprintf("%.2fx", mbs[t] / mbs["socat"]) : "-"
			printf "| %s | %.0f | %.3f | %s | %s |\n", t, mbs[t], cg[t], vn, vs
		}
	}' "$results"
