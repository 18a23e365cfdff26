# tests/integration/cat_lib.sh - shared helpers of the test_cat_*.sh
# scripts (sourced, not a test itself).  Everything is bounded in time:
# every command runs under `timeout`, every wait has a deadline, and only
# the PIDs started here are ever killed.
set -uo pipefail
BIN=${SK_BIN:?SK_BIN must point at the sockit binary}
export SOCKIT_LOG_TIME=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sk_cat_test.XXXXXX")
bg_pids=()
passed=0
failed=0

cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${held_fds[@]}"; do
		eval "exec $p>&-"
	done
	for p in "${bg_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

# not_ok MSG [FILE...]: a failure, with the files that explain it.
not_ok() {
	local msg=$1 f
	shift
	failed=$((failed + 1))
	echo "FAIL - $msg"
	for f in "$@"; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; head -c 4000 "$f"; echo; }
	done
}

# check COND_STATUS MSG FILES...: ok if the previous test expression held.
check() {
	local st=$1 msg=$2
	shift 2
	if [ "$st" -eq 0 ]; then ok "$msg"; else not_ok "$msg" "$@"; fi
}

finish() {
	local f
	# Servers stopped by a signal exit cleanly too: under the sanitizers
	# their reports (leaks included) land in their .err files.
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	bg_pids=()
	for f in "$tmp"/*.err; do
		[ -e "$f" ] || continue
		if grep -Eq 'Sanitizer|runtime error:' "$f"; then
			not_ok "sanitizer report in $(basename "$f")" "$f"
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# wait_until SECS CMD...: run CMD every 20 ms until it succeeds; 1 if the
# deadline passes first.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.02
	done
	return 0
}

# Descriptors the script holds open (FIFO write ends): children must not
# inherit them, or the reader at the other end never sees end of file.
held_fds=()

# clean CMD...: exec CMD without the held descriptors.
clean() {
	local fd
	for fd in "${held_fds[@]}"; do
		eval "exec $fd>&-"
	done
	exec "$@"
}

# bg NAME CMD...: start CMD in the background with stdin from $BG_IN
# (default /dev/null); output in $tmp/NAME.out and .err.  Sets BG_PID.
bg() {
	local name=$1
	shift
	# Empty the files here: the child truncates them only when it runs,
	# and a wait must never read the previous run's lines.
	: >"$tmp/$name.out"
	: >"$tmp/$name.err"
	(clean "$@") <"${BG_IN:-/dev/null}" >>"$tmp/$name.out" 2>>"$tmp/$name.err" &
	BG_PID=$!
	bg_pids+=("$BG_PID")
}

# hold_fifo NAME: make $tmp/NAME.fifo and keep it open for writing (not
# blocking: read-write); the descriptor is in HOLD_FD.  A reader sees end of
# file after release HOLD_FD.
hold_fifo() {
	rm -f "$tmp/$1.fifo"
	mkfifo "$tmp/$1.fifo"
	exec {HOLD_FD}<>"$tmp/$1.fifo"
	held_fds+=("$HOLD_FD")
}

release() {
	local fd=$1 i
	eval "exec $fd>&-"
	for i in "${!held_fds[@]}"; do
		[ "${held_fds[$i]}" = "$fd" ] && unset 'held_fds[i]'
	done
	held_fds=("${held_fds[@]}")
}

# port_of NAME: the port in the "listening on ADDR:PORT" line of a
# `sockit cat -v` started with bg NAME.
port_of() {
	sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' "$tmp/$1.err" | head -n 1
}

has_port() { [ -n "$(port_of "$1")" ]; }

# listen NAME ARGS...: `sockit cat -v ARGS` in the background; waits for its
# listening line and sets PORT and BG_PID (1 if it never listened).
listen() {
	local name=$1
	shift
	bg "$name" timeout 60 "$BIN" cat -v "$@"
	PORT=
	wait_until 10 has_port "$name" || return 1
	PORT=$(port_of "$name")
}

# wait_exit PID SECS: wait for a background PID to end; sets RC (124 if it
# had to be killed).
wait_exit() {
	local pid=$1 secs=$2
	if wait_until "$secs" eval "! kill -0 $pid"; then
		wait "$pid"
		RC=$?
	else
		kill "$pid" 2>/dev/null
		wait "$pid"
		RC=124
	fi
}

# A random high port; callers retry when a tool cannot bind it.
random_port() { echo $((20000 + RANDOM % 40000)); }

# tcp_listening PORT / udp_bound PORT: is something on 127.0.0.1:PORT?
tcp_listening() { ss -Hltn "sport = :$1" | grep -q .; }
tcp_port_used() { ss -Htan "sport = :$1" | grep -q .; }
udp_bound() { ss -Hlun "sport = :$1" | grep -q .; }

# run NAME CMD...: run CMD in the foreground under a timeout; RC is its
# exit status, output in $tmp/NAME.out/.err.
run() {
	local name=$1
	shift
	RC=0
	(clean timeout 30 "$@") >"$tmp/$name.out" 2>"$tmp/$name.err" || RC=$?
}
