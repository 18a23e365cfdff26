#!/usr/bin/env bash
# bench/irc/bench.sh - `sockit ircd` against ngIRCd, InspIRCd and Ergo under
# the shared IRC load generator (../shared/bench/irc/ircload), in one run.
#
# usage: bench/irc/bench.sh            (`make bench-irc` runs it)
# env:   SERVERS="sockit ngircd inspircd ergo"   (unavailable ones are skipped)
#        SCENARIOS="a a64 ar b b64 B c h"   REPS=3
#        (sockit_uring, sockit_epoll, sockit_poll: sockit on that loop backend,
#        via SOCKIT_BACKEND; plain "sockit" uses the library's default)
#        BUILD_DIR=build  OUT=/tmp/sockit-bench-irc/<time>  SERVER_CPU=0  CLIENT_CPU=1
#        IRC_SHARED=../shared/bench/irc  (ircload.c, anchors' configs and
#        start/stop scripts)  ERGO_BIN=/tmp/ergo-bin/ergo
#
# Scenarios (a..c are the anchors' own, see ../shared/bench/irc/bench-anchors.sh):
#   a   fan-out: 1000 clients in 1 channel, 10 senders, 10 s, closed loop window 16
#   a64 the same with window 64
#   ar  the same population at a fixed 20 msg/s per sender (~200k deliveries/s,
#       a load every server sustains): the delivery latency comparison
#   b   100 clients in 10 channels of 10, 100 senders, window 16
#   b64 the same with window 64
#   B   the issue's case: 100 channels of 10 clients (1000 clients), 100 senders,
#       window 16
#   c   idle: 10000 registered clients held 10 s; server RSS growth per client
#   h   hold: 50,000 registered clients at once (sockit only: the anchors'
#       configured limits are below that), HOLD_GENS=4 ircload processes of
#       12,500 (a process may have 20000 descriptors here) alternating between
#       the server addresses 127.0.0.1 and 127.0.0.2 (one source/destination
#       pair has only ~28k ephemeral ports), held 30 s; first repetition only
#
# Every run starts a fresh server process pinned to CPU $SERVER_CPU; the load
# generator is pinned to CPU $CLIENT_CPU.  Within a repetition the servers
# take turns on each scenario, so ratios compare runs minutes apart; each
# repetition holds /tmp/sockit-bench.lock once (~7-8 min).  Only the PIDs
# started here are stopped (the anchors through their stop script).
# Results: $OUT/results.txt (ircload RESULT lines), $OUT/*.log, and the
# summary printed at the end (bench/irc/summary.py).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
BUILD_DIR=${BUILD_DIR:-build}
OUT=${OUT:-/tmp/sockit-bench-irc/$(date +%Y%m%d-%H%M%S)}
REPS=${REPS:-3}
SCENARIOS=${SCENARIOS:-a a64 ar b b64 B c h}
SERVERS=${SERVERS:-sockit ngircd inspircd ergo}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
IRC_SHARED=${IRC_SHARED:-$ROOT/../shared/bench/irc}
ERGO_BIN=${ERGO_BIN:-/tmp/ergo-bin/ergo}
CONF=$ROOT/bench/irc/sockit-bench.conf
SOCKIT_PORT=16670
LOCK=/tmp/sockit-bench.lock
export ERGO_BIN

die() { echo "bench.sh: $*" >&2; exit 2; }
[ -f "$IRC_SHARED/ircload.c" ] || die "no load generator at $IRC_SHARED (expected ../shared beside the repo)"
command -v taskset >/dev/null || die "taskset (util-linux) missing"
mkdir -p "$OUT" "$BUILD_DIR/bench"

# The load generator is built from the shared source into the build tree.
IRCLOAD=$(cd "$BUILD_DIR/bench" && pwd)/ircload
if [ ! -x "$IRCLOAD" ] || [ "$IRC_SHARED/ircload.c" -nt "$IRCLOAD" ]; then
	cc -O2 -o "$IRCLOAD" "$IRC_SHARED/ircload.c" || die "cannot build ircload"
fi

declare -A PORT=([sockit]=$SOCKIT_PORT [ngircd]=16667 [inspircd]=16668 [ergo]=16669)
# Clients connecting or registering at once during setup (see the anchors'
# README: ngIRCd's listen backlog is 10; InspIRCd registers once a second).
declare -A PENDING=([sockit]=1000 [ngircd]=8 [inspircd]=1000 [ergo]=1000)

# As many descriptors as the 50,000-client hold needs, for sockit and
# ircload, where the hard limit may be raised (it may not on the project's
# machines: 20000 there); the anchors keep the 20000 their scripts were
# written for.
ulimit -Hn 200000 2>/dev/null
ulimit -Sn "$(ulimit -Hn)"

avail=()
for s in $SERVERS; do
	case $s in
	sockit|sockit_uring|sockit_epoll|sockit_poll)
		PORT[$s]=$SOCKIT_PORT; PENDING[$s]=1000
		if [ ! -x "$BUILD_DIR/sockit" ]; then
			cmake -S . -B "$BUILD_DIR" --log-level=WARNING -DCMAKE_BUILD_TYPE=Release &&
				cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target sockit_bin
		fi
		if "$BUILD_DIR/sockit" ircd --help >/dev/null 2>&1; then avail+=("$s")
		else echo "bench.sh: $BUILD_DIR/sockit has no working 'ircd'; skipped" >&2; fi ;;
	ngircd)   command -v ngircd >/dev/null && avail+=(ngircd) ||
			echo "bench.sh: ngircd not installed (apt-get install ngircd); skipped" >&2 ;;
	inspircd) command -v inspircd >/dev/null && avail+=(inspircd) ||
			echo "bench.sh: inspircd not installed (apt-get install inspircd); skipped" >&2 ;;
	ergo)     [ -x "$ERGO_BIN" ] && avail+=(ergo) ||
			echo "bench.sh: no Ergo at $ERGO_BIN (see bench/README.md); skipped" >&2 ;;
	*) die "unknown server $s" ;;
	esac
done
[ ${#avail[@]} -gt 0 ] || die "no server to measure"
SOCKIT=$(cd "$BUILD_DIR" 2>/dev/null && pwd)/sockit

SPID=""
start_server() { # name [extra listen addr] -> sets SPID
	local s=$1 a
	SPID=""
	if [[ $s = sockit* ]]; then
		local args=(ircd -c "$CONF") be=${s#sockit} SOCKIT_BACKEND=${SOCKIT_BACKEND:-}
		be=${be#_}
		for a in 127.0.0.1 "${@:2}"; do args+=(--listen "$a:$SOCKIT_PORT"); done
		ss -Hltn "sport = :$SOCKIT_PORT" | grep -q . && { echo "port $SOCKIT_PORT busy" >&2; return 1; }
		[ -n "$be" ] && export SOCKIT_BACKEND=$be   # sockit_<backend>; else the caller's
		taskset -c "$SERVER_CPU" "$SOCKIT" "${args[@]}" >"$OUT/$s-server.log" 2>&1 </dev/null 9>&- &
		SPID=$!
		for _ in $(seq 1 100); do
			kill -0 "$SPID" 2>/dev/null || break
			ss -Hltn "sport = :$SOCKIT_PORT" | grep -q . && return 0
			sleep 0.1
		done
		echo "sockit ircd did not start; log:" >&2; tail -5 "$OUT/$s-server.log" >&2
		stop_server "$s"
		return 1
	fi
	"$IRC_SHARED/stop-anchor.sh" "$s" >/dev/null 2>&1 || true
	SPID=$( (ulimit -n 20000; taskset -c "$SERVER_CPU" "$IRC_SHARED/start-anchor.sh" "$s") 9>&-) || return 1
}
stop_server() { # name
	local s=$1
	if [[ $s = sockit* ]]; then
		[ -n "$SPID" ] || return 0
		if kill -0 "$SPID" 2>/dev/null; then
			kill -TERM "$SPID"
			for _ in $(seq 1 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$SPID" 2>/dev/null && kill -KILL "$SPID"
		fi
		wait "$SPID" 2>/dev/null
	else
		"$IRC_SHARED/stop-anchor.sh" "$s" >/dev/null 2>&1
	fi
	SPID=""
}
trap 'stop_server sockit' EXIT

scenario_args() { # server scenario
	local p=${PENDING[$1]}
	case $2 in
	a)   echo "-m flood -n 1000 -c 1 -s 10 -t 10 -C 2000 -b $p -w 16" ;;
	a64) echo "-m flood -n 1000 -c 1 -s 10 -t 10 -C 2000 -b $p -w 64" ;;
	ar)  echo "-m flood -n 1000 -c 1 -s 10 -t 10 -C 2000 -b $p -w 1000 -r 20" ;;
	b)   echo "-m flood -n 100 -c 10 -s 100 -t 10 -C 2000 -b $p -w 16" ;;
	b64) echo "-m flood -n 100 -c 10 -s 100 -t 10 -C 2000 -b $p -w 64" ;;
	B)   echo "-m flood -n 1000 -c 100 -s 100 -t 10 -C 2000 -b $p -w 16" ;;
	B64) echo "-m flood -n 1000 -c 100 -s 100 -t 10 -C 2000 -b $p -w 64" ;;
	c)   echo "-m idle -n 10000 -t 10 -C 2000 -b $p -T 180" ;;
	*)   return 1 ;;
	esac
}

# The 50,000-client hold: HOLD_GENS generators (a process may have at most
# `ulimit -Hn` descriptors: 20000 on the project's machines), alternating
# between the server addresses 127.0.0.1 and 127.0.0.2 (one source and
# destination address pair has only ~28k ephemeral ports).
HOLD_N=${HOLD_N:-50000}
HOLD_GENS=${HOLD_GENS:-4}
tree_pids() { # pid: it and its descendants (a server may fork workers)
	local p
	echo "$1"
	for p in $(pgrep -P "$1" 2>/dev/null); do tree_pids "$p"; done
}
hold_run() { # server rep
	local s=$1 rep=$2 per=$((HOLD_N / HOLD_GENS)) peak=0 rsspk=0 n r p g gens=() lim
	start_server "$s" 127.0.0.2 || { echo "start $s failed" >&2; return 1; }
	lim=$(awk '/^Max open files/ {print $4}' /proc/"$SPID"/limits)
	echo "== $s scenario=h rep=$rep pid=$SPID (fd limit $lim):" \
		"$HOLD_GENS x ircload -m idle -n $per -t 30" >&2
	for g in $(seq 1 "$HOLD_GENS"); do
		taskset -c "$CLIENT_CPU" timeout 400 "$IRCLOAD" -h "127.0.0.$(((g - 1) % 2 + 1))" \
			-p "$SOCKIT_PORT" -x "$s" -P "$SPID" -m idle -n "$per" -t 30 -C 2000 -b 1000 -T 150 \
			>"$OUT/$s-h-$rep-$g.out" 2>"$OUT/$s-h-$rep-$g.log" 9>&- &
		gens+=($!)
	done
	# sample the server's descriptors and RSS (with any worker processes)
	# while the generators run
	while :; do
		n=0
		for p in "${gens[@]}"; do kill -0 "$p" 2>/dev/null && n=1; done
		[ $n = 1 ] || break
		n=0; r=0
		for p in $(tree_pids "$SPID"); do
			n=$((n + $(ls /proc/"$p"/fd 2>/dev/null | wc -l)))
			r=$((r + $(awk '/^VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null || echo 0)))
		done
		[ "$n" -gt "$peak" ] && peak=$n
		[ "$r" -gt "$rsspk" ] && rsspk=$r
		sleep 1
	done
	wait "${gens[@]}" 2>/dev/null
	local alive=0 ready=0 st=ok l v
	for g in $(seq 1 "$HOLD_GENS"); do
		l=$(grep '^RESULT ' "$OUT/$s-h-$rep-$g.out" | tail -1)
		if [ -z "$l" ]; then
			st="gen$g:$(tail -1 "$OUT/$s-h-$rep-$g.log" | tr -c 'a-zA-Z0-9_\n' _ | cut -c1-60)"
			continue
		fi
		v=$(sed -n 's/.* ready=\([0-9]*\).*/\1/p' <<<"$l")
		ready=$((ready + ${v:-0}))
		v=$(sed -n 's/.* alive_end=\([0-9]*\).*/\1/p' <<<"$l")   # none after a setup timeout
		alive=$((alive + ${v:-0}))
		v=$(sed -n 's/.* status=\([a-z_]*\).*/\1/p' <<<"$l")
		[ "$v" = ok ] || st="gen$g:$v"
	done
	kill -0 "$SPID" 2>/dev/null || st=server_died
	echo "RESULT scenario=h rep=$rep mode=hold server=$s clients=$((HOLD_GENS * per)) ready=$ready" \
		"alive_end=$alive peak_server_fds=$peak rss_peak_kib=$rsspk server_fd_limit=$lim status=$st" |
		tee -a "$OUT/results.txt"
	stop_server "$s"
}

one_run() { # server scenario rep
	local s=$1 sc=$2 rep=$3 args
	if [ "$sc" = h ]; then
		[ "$s" = sockit ] || [ -n "${HOLD_ALL:-}" ] || return 0
		[ "$rep" = 1 ] || return 0     # a capacity check: once per run
		hold_run "$s" "$rep"
		return
	fi
	args=$(scenario_args "$s" "$sc") || { echo "unknown scenario $sc" >&2; return 1; }
	start_server "$s" || { echo "start $s failed" >&2; return 1; }
	sleep 1
	echo "== $s scenario=$sc rep=$rep pid=$SPID: ircload $args" >&2
	# shellcheck disable=SC2086
	taskset -c "$CLIENT_CPU" timeout 300 "$IRCLOAD" -p "${PORT[$s]}" -x "$s" -P "$SPID" $args \
		2>"$OUT/$s-$sc-$rep.log" 9>&- |
		sed "s/^RESULT /RESULT scenario=$sc rep=$rep /" | tee -a "$OUT/results.txt"
	kill -0 "$SPID" 2>/dev/null ||
		echo "WARNING: $s (pid $SPID) died during scenario $sc rep $rep" | tee -a "$OUT/results.txt"
	stop_server "$s"
}

{
	echo "# bench/irc/bench.sh $(date -u +%FT%TZ) commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
	echo "# servers: ${avail[*]}  scenarios: $SCENARIOS  reps: $REPS  cpus: server $SERVER_CPU, load $CLIENT_CPU"
} >>"$OUT/results.txt"
exec 9>>"$LOCK"
for rep in $(seq 1 "$REPS"); do
	echo "bench.sh: repetition $rep/$REPS: waiting for $LOCK" >&2
	flock 9
	for sc in $SCENARIOS; do
		for s in "${avail[@]}"; do one_run "$s" "$sc" "$rep"; done
	done
	flock -u 9
done
exec 9>&-
echo
python3 "$ROOT/bench/irc/summary.py" "$OUT/results.txt"
