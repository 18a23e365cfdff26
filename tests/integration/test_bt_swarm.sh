#!/usr/bin/env bash
# tests/integration/test_bt_swarm.sh - sockit peers swarming on loopback
# with the built-in tracker, every peer on its own 127.0.0.x address:
#
#   1. 1 seeder (upload-limited, so the leechers must trade among
#      themselves) + 4 leechers: every copy byte for byte equal, and the
#      leechers uploaded to each other;
#   2. resume: a rate-limited leecher is stopped with SIGTERM (exit 3) and
#      later killed with SIGKILL mid-download; each restart re-checks the
#      disk, keeps the verified pieces and fetches only the others
#      (pieces fetched + pieces verified at start = all pieces);
#   3. a seeder that corrupts every block it uploads (the test-only
#      --corrupt-uploads) next to a slow honest one: the leecher bans the
#      bad one, never the honest one, and completes with correct data;
#   4. a multi-file torrent (subdirectories, an empty file) over a UDP
#      tracker (BEP 15), 1 seeder + 2 leechers, trees compared; one of
#      them download-limited (the limit holds) with an --on-complete hook;
#   5. IPv6: tracker and two peers on ::1;
#   6. exit codes: usage 2, missing torrent 1, `seed` of missing data 4.
#
# Every wait is bounded; the whole script takes well under a minute.
# Run by ctest with SK_BIN=path/to/sockit; SK_BT_KEEP=DIR keeps the logs.
set -euo pipefail
BIN=${SK_BIN:?SK_BIN must point at the sockit binary}
tmp=$(mktemp -d /tmp/sk-bt-swarm.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${SK_BT_KEEP:-}" ] && cp "$tmp"/*.err "$SK_BT_KEEP"/ 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
passed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
	echo "FAIL - $*" >&2
	for f in "$tmp"/*.err; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; tail -n 15 "$f"; } >&2
	done
	echo "$passed passed, 1 failed"
	exit 1
}

# start NAME ARGS... : run sockit in the background, stderr in NAME.err
start() {
	local name=$1; shift
	"$BIN" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	local pid=$!
	pids+=("$pid")
	eval "pid_$name=$pid"
}

# wait_log NAME REGEX SECONDS
wait_log() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -Eq "$2" "$tmp/$1.err" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "$1: no '$2' within $3 s"
}

# stop NAME SIGNAL EXPECTED_EXIT ("-": do not check, for SIGKILL)
stop() {
	local pid rc=0 i
	eval "pid=\$pid_$1"
	[ "$2" = KILL ] && disown "$pid" 2>/dev/null
	kill "-$2" "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 did not exit after SIG$2"
	[ "$3" = - ] && return 0 # disowned: no status to collect
	wait "$pid" || rc=$?
	[ "$rc" = "$3" ] || fail "$1 exited with $rc after SIG$2, expected $3"
}

# the payload bytes: random, reproducible files of the given sizes
mkpayload() { head -c "$2" /dev/urandom >"$1"; }

# The tracker, HTTP and UDP on one port.
start tracker bt tracker --listen 127.0.0.1:0 --udp --interval 5
for ((i = 0; i < 100; i++)); do [ -s "$tmp/tracker.out" ] && break; sleep 0.05; done
HTTP=$(sed -n 1p "$tmp/tracker.out")
UDP=$(sed -n 2p "$tmp/tracker.out")
case $HTTP in http://127.0.0.1:*/announce) ;; *) fail "tracker URL: '$HTTP'" ;; esac
case $UDP in udp://127.0.0.1:*/announce) ;; *) fail "tracker UDP URL: '$UDP'" ;; esac
ok "tracker at $HTTP"

common=(--progress-interval 1 --max-peers 20)

# ---- 1. one seeder, four leechers ---------------------------------------------------
mkdir -p "$tmp/s1"
mkpayload "$tmp/s1/data.bin" $((6 * 1024 * 1024 + 12345))
"$BIN" bt create "$tmp/s1/data.bin" -t "$HTTP" -o "$tmp/one.torrent" \
	--piece-size 65536 >/dev/null 2>&1 || fail "bt create"
start seed1 bt seed "$tmp/one.torrent" -d "$tmp/s1" --listen 127.0.0.2:0 \
	--max-upload-rate 8M "${common[@]}"
wait_log seed1 'listening on' 10
for k in 1 2 3 4; do
	start "leech$k" bt get "$tmp/one.torrent" -d "$tmp/l$k" \
		--listen "127.0.0.$((2 + k)):0" "${common[@]}"
done
for k in 1 2 3 4; do wait_log "leech$k" 'download complete' 30; done
for k in 1 2 3 4; do
	cmp -s "$tmp/s1/data.bin" "$tmp/l$k/data.bin" || fail "leecher $k: copy differs"
done
ok "4 leechers got identical copies"
for k in 1 2 3 4; do stop "leech$k" TERM 0; done
up=0
for k in 1 2 3 4; do
	n=$(sed -nE 's/.*uploaded ([0-9]+) bytes.*/\1/p' "$tmp/leech$k.err" | tail -1)
	up=$((up + ${n:-0}))
done
[ "$up" -gt 0 ] || fail "the leechers uploaded nothing to each other"
ok "leechers traded among themselves ($up bytes)"
grep -q 'bad' "$tmp/leech1.err" && ! grep -q ' 0 bad' "$tmp/leech1.err" &&
	fail "unexpected bad pieces"
ok "SIGTERM after completion exits 0"

# ---- 2. resume after SIGTERM and after SIGKILL --------------------------------------
npieces=$(( (6 * 1024 * 1024 + 12345 + 65535) / 65536 ))
# percent of the progress line, 0 if none yet
pct() { { sed -nE 's/.*\(([0-9]+)%\).*/\1/p' "$tmp/$1.err" 2>/dev/null || :; } | tail -1; }
wait_pct() {
	local i p
	for ((i = 0; i < $3 * 20; i++)); do
		p=$(pct "$1"); [ "${p:-0}" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "$1 did not reach $2%"
}
start resume1 bt get "$tmp/one.torrent" -d "$tmp/r" --listen 127.0.0.7:0 \
	--max-download-rate 2M "${common[@]}"
wait_pct resume1 15 15
stop resume1 TERM 3
ok "SIGTERM before completion exits 3"
cp "$tmp/resume1.err" "$tmp/resume1.log"
start resume2 bt get "$tmp/one.torrent" -d "$tmp/r" --listen 127.0.0.7:0 \
	--max-download-rate 2M "${common[@]}"
wait_log resume2 'resume: [0-9]+ of' 15
v2=$(sed -nE 's/.*resume: ([0-9]+) of.*/\1/p' "$tmp/resume2.err")
[ "$v2" -gt 0 ] || fail "nothing kept after SIGTERM"
# wait for more progress than what was kept, then crash it
wait_pct resume2 $(( v2 * 100 / npieces + 15 )) 15
stop resume2 KILL -
start resume3 bt get "$tmp/one.torrent" -d "$tmp/r" --listen 127.0.0.7:0 "${common[@]}"
wait_log resume3 'download complete' 30
v3=$(sed -nE 's/.*resume: ([0-9]+) of.*/\1/p' "$tmp/resume3.err")
f3=$(sed -nE 's/.*complete: ([0-9]+) pieces fetched.*/\1/p' "$tmp/resume3.err")
[ "$v3" -gt "$v2" ] || fail "SIGKILL lost verified pieces ($v3 <= $v2)"
[ $((v3 + f3)) -eq "$npieces" ] ||
	fail "restart fetched $f3 pieces with $v3 verified: not $npieces in all"
cmp -s "$tmp/s1/data.bin" "$tmp/r/data.bin" || fail "resumed copy differs"
ok "resume: $v2 then $v3 of $npieces pieces kept, only $f3 fetched, copy identical"
stop resume3 TERM 0
stop seed1 TERM 0

# ---- 3. a peer that serves corrupted data ---------------------------------------------
mkdir -p "$tmp/s2"
mkpayload "$tmp/s2/bad.bin" $((3 * 1024 * 1024))
"$BIN" bt create "$tmp/s2/bad.bin" -t "$HTTP" -o "$tmp/bad.torrent" \
	--piece-size 32768 >/dev/null 2>&1 || fail "bt create"
start honest bt seed "$tmp/bad.torrent" -d "$tmp/s2" --listen 127.0.0.2:0 \
	--max-upload-rate 600K "${common[@]}"
start evil bt seed "$tmp/bad.torrent" -d "$tmp/s2" --listen 127.0.0.9:0 \
	--corrupt-uploads "${common[@]}"
wait_log honest 'listening on' 10
wait_log evil 'listening on' 10
start victim bt get "$tmp/bad.torrent" -d "$tmp/v" --listen 127.0.0.10:0 "${common[@]}"
wait_log victim 'download complete' 40
grep -q 'banned 127.0.0.9:' "$tmp/victim.err" || fail "the corrupting peer was not banned"
grep -q 'banned 127.0.0.2:' "$tmp/victim.err" && fail "the honest peer was banned"
grep -Eq 'failed its hash check' "$tmp/victim.err" || fail "no hash failure seen"
cmp -s "$tmp/s2/bad.bin" "$tmp/v/bad.bin" || fail "copy differs after bad data"
ok "corrupting peer detected and banned, download correct"
stop victim TERM 0
stop honest TERM 0
stop evil TERM 0

# ---- 4. multi-file torrent over the UDP tracker ------------------------------------------
mkdir -p "$tmp/s3/tree/sub/deeper" "$tmp/s3/tree/other"
mkpayload "$tmp/s3/tree/a.bin" 100001
mkpayload "$tmp/s3/tree/sub/b.bin" 777777
: >"$tmp/s3/tree/sub/empty"
mkpayload "$tmp/s3/tree/sub/deeper/c.bin" 5
mkpayload "$tmp/s3/tree/other/d.bin" 1234567
"$BIN" bt create "$tmp/s3/tree" -t "$UDP" -o "$tmp/multi.torrent" \
	--piece-size 32768 >/dev/null 2>&1 || fail "bt create (multi)"
start mseed bt seed "$tmp/multi.torrent" -d "$tmp/s3" --listen 127.0.0.2:0 "${common[@]}"
wait_log mseed 'listening on' 10
start m1 bt get "$tmp/multi.torrent" -d "$tmp/m1" --listen 127.0.0.3:0 "${common[@]}"
start m2 bt get "$tmp/multi.torrent" -d "$tmp/m2" --listen 127.0.0.4:0 "${common[@]}" \
	--max-download-rate 1M --on-complete 'echo "$SOCKIT_BT_NAME" >"$SOCKIT_BT_DIR/DONE"'
wait_log m1 'download complete' 30
wait_log m2 'download complete' 30
# 2.0 MiB at 1 MiB/s cannot take much less than 2 s
t2=$(sed -nE 's/.*download complete:.* ([0-9.]+) s$/\1/p' "$tmp/m2.err")
awk -v t="$t2" 'BEGIN { exit !(t >= 1.3) }' || fail "rate limit: 2 MiB in $t2 s at 1 MiB/s"
for ((i = 0; i < 40; i++)); do [ -s "$tmp/m2/DONE" ] && break; sleep 0.05; done
[ "$(cat "$tmp/m2/DONE" 2>/dev/null)" = tree ] || fail "--on-complete did not run"
ok "download rate limit held (2 MiB in $t2 s), --on-complete ran"
diff -r "$tmp/s3/tree" "$tmp/m1/tree" >/dev/null || fail "multi-file copy 1 differs"
diff -r "$tmp/s3/tree" "$tmp/m2/tree" >/dev/null || fail "multi-file copy 2 differs"
[ -f "$tmp/m1/tree/sub/empty" ] || fail "empty file not created"
ok "multi-file torrent over UDP tracker: trees identical"
stop m1 TERM 0
stop m2 TERM 0
stop mseed TERM 0

# ---- 5. IPv6 -------------------------------------------------------------------------------
if $(command -v python3 || echo false) -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	start tracker6 bt tracker --listen '[::1]:0'
	for ((i = 0; i < 100; i++)); do [ -s "$tmp/tracker6.out" ] && break; sleep 0.05; done
	HTTP6=$(sed -n 1p "$tmp/tracker6.out")
	"$BIN" bt create "$tmp/s2/bad.bin" -t "$HTTP6" -o "$tmp/v6.torrent" \
		--piece-size 65536 >/dev/null 2>&1 || fail "bt create (v6)"
	start seed6 bt seed "$tmp/v6.torrent" -d "$tmp/s2" --listen '[::1]:0' "${common[@]}"
	wait_log seed6 'listening on' 10
	start get6 bt get "$tmp/v6.torrent" -d "$tmp/g6" --listen '[::1]:0' "${common[@]}"
	wait_log get6 'download complete' 30
	cmp -s "$tmp/s2/bad.bin" "$tmp/g6/bad.bin" || fail "IPv6 copy differs"
	ok "IPv6: two peers on ::1 through an IPv6 tracker"
	stop get6 TERM 0
	stop seed6 TERM 0
	stop tracker6 TERM 0
else
	ok "# SKIP IPv6 (no ::1)"
fi

# ---- 6. exit codes --------------------------------------------------------------------------
rc=0; "$BIN" bt get --bogus x >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "bad option: exit $rc, expected 2"
rc=0; "$BIN" bt get "$tmp/nope.torrent" --listen 127.0.0.2:0 >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "missing torrent: exit $rc, expected 1"
rc=0; "$BIN" bt seed "$tmp/one.torrent" -d "$tmp/empty" --listen 127.0.0.2:0 \
	>/dev/null 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "seed of missing data: exit $rc, expected 4"
truncate -s 100000 "$tmp/l1/data.bin"
rc=0; "$BIN" bt seed "$tmp/one.torrent" -d "$tmp/l1" --listen 127.0.0.2:0 \
	>/dev/null 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "seed of damaged data: exit $rc, expected 4"
"$BIN" bt get --help | grep -q 'Exit codes' || fail "--help lacks the exit codes"
ok "exit codes 1, 2, 4 and --help"

stop tracker TERM 0
echo "$passed passed, 0 failed"
