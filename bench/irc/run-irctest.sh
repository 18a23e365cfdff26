#!/usr/bin/env bash
# bench/irc/run-irctest.sh - the irctest conformance suite against `sockit ircd`.
#
# usage: bench/irc/run-irctest.sh [extra pytest args...]
#        e.g. bench/irc/run-irctest.sh -k 'JoinTestCase or TopicTestCase'
#
# Starts build/sockit ircd with bench/irc/sockit-irctest.conf on
# 127.0.0.1:$PORT, runs ../shared/bench/irc/run-irctest.sh against it (the
# same runner, selection and summary as for the anchors ngIRCd, InspIRCd and
# Ergo), stops the server by its PID and prints the per-file table.  Then
# each failed test runs again alone on a fresh server (RERUN_FAILED=0: not),
# which tells a failure of the server from one that the shared server
# caused (LUSERS maxima, WHOWAS history).  Exit status: 0, or 1 when the
# server did not start or died during the run.
#
# Needs an unpacked progval/irctest in $IRCTEST_DIR (default /tmp/irctest;
# it is fetched code, never committed here) adapted by
# bench/irc/irctest-adapt.py, and Debian's python3-pytest (see
# bench/README.md, "IRC server").
#
# env: BUILD_DIR=build   tree holding the sockit binary (built if missing)
#      PORT=16670        sockit's irctest port (the anchors use 16667-16669)
#      CONF=bench/irc/sockit-irctest.conf
#      IRCTEST_DIR, IRCTEST_OUT, IRCTEST_TIMEOUT   passed to the runner
#      RERUN_FAILED=1    re-run each failure alone (IRCTEST_OUT/isolated.txt)
#      IRC_SHARED=../shared/bench/irc
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build}
PORT=${PORT:-16670}
CONF=${CONF:-$ROOT/bench/irc/sockit-irctest.conf}
IRC_SHARED=${IRC_SHARED:-$ROOT/../shared/bench/irc}
export IRCTEST_DIR=${IRCTEST_DIR:-/tmp/irctest}
export IRCTEST_OUT=${IRCTEST_OUT:-/tmp/irctest-runs/sockit-$(date +%Y%m%d-%H%M%S)}

die() { echo "run-irctest.sh: $*" >&2; exit 2; }
[ -x "$IRC_SHARED/run-irctest.sh" ] || die "no runner at $IRC_SHARED/run-irctest.sh"
[ -f "$IRCTEST_DIR/conftest.py" ] ||
	die "no irctest in $IRCTEST_DIR (unpack progval/irctest there, then run bench/irc/irctest-adapt.py)"
python3 "$ROOT/bench/irc/irctest-adapt.py" "$IRCTEST_DIR" >/dev/null ||
	die "could not adapt $IRCTEST_DIR/conftest.py"

if [ ! -x "$BUILD_DIR/sockit" ]; then
	cmake -S . -B "$BUILD_DIR" --log-level=WARNING -DCMAKE_BUILD_TYPE=Release
	cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target sockit_bin
fi
SOCKIT=$(cd "$BUILD_DIR" && pwd)/sockit

if ss -Hltn "sport = :$PORT" | grep -q .; then
	die "port $PORT already in use"
fi
mkdir -p "$IRCTEST_OUT"
# irctest keeps a port registry in $TMPDIR/irctest_ports.json; a private
# TMPDIR keeps two irctest runs (say, sockit's and an anchor's) apart.
export TMPDIR=$IRCTEST_OUT/tmp
mkdir -p "$TMPDIR"

PID=""
start_server() { # log file
	"$SOCKIT" ircd -c "$CONF" --listen "127.0.0.1:$PORT" >"$1" 2>&1 </dev/null &
	PID=$!
	for _ in $(seq 1 100); do   # bounded wait for the listener: 10 s
		kill -0 "$PID" 2>/dev/null || break
		if ss -Hltn "sport = :$PORT" | grep -q .; then return 0; fi
		sleep 0.1
	done
	echo "sockit ircd did not listen on 127.0.0.1:$PORT; log:" >&2
	tail -20 "$1" >&2
	return 1
}
stop_server() {
	[ -n "$PID" ] || return 0
	if kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID"
		for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
	fi
	wait "$PID" 2>/dev/null || true
	PID=""
}
trap stop_server EXIT

start_server "$IRCTEST_OUT/server.log" || exit 1
echo "sockit ircd pid $PID on 127.0.0.1:$PORT (log $IRCTEST_OUT/server.log), results in $IRCTEST_OUT"
rc=0
"$IRC_SHARED/run-irctest.sh" 127.0.0.1 "$PORT" "$@" || rc=$?
if ! kill -0 "$PID" 2>/dev/null; then
	echo "run-irctest.sh: sockit ircd (pid $PID) DIED during the run; see $IRCTEST_OUT/server.log" >&2
	exit 1
fi
stop_server

# One server serves every test, so LUSERS maximum counts and WHOWAS history
# carry over from earlier tests (see ../shared/bench/irc/README.md).  With
# RERUN_FAILED=1 (the default) each failed test runs again alone on a fresh
# server: "isolated PASS" marks a failure that comes from the shared server.
if [ "${RERUN_FAILED:-1}" = 1 ] && [ -f "$IRCTEST_OUT/junit.xml" ]; then
	python3 - "$IRCTEST_OUT/junit.xml" >"$IRCTEST_OUT/failed.txt" <<'PY'
import sys, xml.etree.ElementTree as ET
seen = set()
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    if any(ch.tag in ("failure", "error") for ch in tc):
        key = (tc.get("classname").split(".")[-1], tc.get("name").split("[")[0])
        if key not in seen:
            seen.add(key)
            print(*key)
PY
	: >"$IRCTEST_OUT/isolated.txt"
	n=0
	while read -r cls test; do
		n=$((n + 1))
		d=$IRCTEST_OUT/isolated/$n
		mkdir -p "$d"
		start_server "$d/server.log" || break
		IRCTEST_OUT=$d "$IRC_SHARED/run-irctest.sh" 127.0.0.1 "$PORT" -k "$cls and $test" \
			>"$d/run.txt" 2>&1 </dev/null || true
		stop_server
		tot=$(tail -1 "$d/run.txt")
		case $tot in
		*" 0 failed"*) v=PASS ;;
		*) v=FAIL ;;
		esac
		echo "$cls.$test isolated $v ($tot)" | tee -a "$IRCTEST_OUT/isolated.txt"
	done <"$IRCTEST_OUT/failed.txt"
fi
exit $rc
