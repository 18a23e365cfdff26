#!/usr/bin/env bash
# tests/integration/test_cat_basic.sh - `sockit cat` over loopback TCP: the
# command line, exit codes and their messages, half-close both ways, -q,
# -z, --hex, -v, -e/-c, -k, --max-conns, --allow/--deny, and 100 MiB of
# random bytes each way.  Run by ctest with SK_BIN=path/to/sockit.
. "$(dirname "$0")/cat_lib.sh"

# ---- the command line -------------------------------------------------------

run help "$BIN" cat --help
[ "$RC" -eq 0 ] && grep -q '^usage: sockit cat' "$tmp/help.out" && [ ! -s "$tmp/help.err" ]
check $? "--help: usage on stdout, exit 0" "$tmp/help.out" "$tmp/help.err"

usage_ok=0
for args in "" "-l" "127.0.0.1" "-k 127.0.0.1 80" "--tls -u 127.0.0.1 80" \
	"--bogus 127.0.0.1 80" "-w x 127.0.0.1 80" "127.0.0.1 99999" \
	"-l 127.0.0.1 0 --allow 10.0.0.0/33" "relay stdio" "relay stdio stdio" \
	"relay nosuch:x tcp:127.0.0.1:80" "-z -l 127.0.0.1 0" \
	"--tls-cert c.pem 127.0.0.1 80" "-e cat -c cat 127.0.0.1 80" \
	"--broker 127.0.0.1 80" "-4 -6 127.0.0.1 80" "-l example.com 80"; do
	# shellcheck disable=SC2086
	run usage "$BIN" cat $args </dev/null
	if [ "$RC" -ne 2 ] || ! grep -q '^sockit cat: .*(see sockit cat --help)$' "$tmp/usage.err" ||
		[ -s "$tmp/usage.out" ]; then
		usage_ok=1
		not_ok "usage error for 'cat $args': exit $RC" "$tmp/usage.err"
	fi
done
[ $usage_ok -eq 0 ] && ok "usage errors exit 2 with one clear line"

# ---- exit codes: refused, timed out, unknown host ------------------------------

listen gone -l 127.0.0.1 0 || not_ok "listener did not start" "$tmp/gone.err"
dead_port=$PORT
kill "$BG_PID"
wait_exit "$BG_PID" 5
run refused "$BIN" cat 127.0.0.1 "$dead_port" </dev/null
[ "$RC" -eq 1 ] && grep -qx "sockit cat: connection refused (127.0.0.1:$dead_port)" "$tmp/refused.err"
check $? "refused: exit 1, 'connection refused (127.0.0.1:$dead_port)'" "$tmp/refused.err"

run zclosed "$BIN" cat -z 127.0.0.1 "$dead_port" </dev/null
[ "$RC" -eq 1 ] && [ ! -s "$tmp/zclosed.out" ]
check $? "-z on a closed port: exit 1" "$tmp/zclosed.err"

# A name that does not resolve: the only DNS server is a closed loopback port.
start=$SECONDS
SOCKIT_RESOLV_SERVERS=127.0.0.1:$dead_port run dns "$BIN" cat nosuch.invalid 80 </dev/null
[ "$RC" -eq 1 ] && grep -qx "sockit cat: host not found (nosuch.invalid:80)" "$tmp/dns.err" &&
	[ $((SECONDS - start)) -lt 10 ]
check $? "unknown host: exit 1, 'host not found (nosuch.invalid:80)'" "$tmp/dns.err"

# A connect timeout: a listener whose accept queue is full drops SYNs.
if command -v python3 >/dev/null; then
	bg full python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
c = socket.create_connection(s.getsockname())   # fills the queue
print(s.getsockname()[1], flush=True)
time.sleep(60)'
	full_pid=$BG_PID
	wait_until 10 test -s "$tmp/full.out"
	fport=$(head -n 1 "$tmp/full.out")
	start=$SECONDS
	run timeout "$BIN" cat -w 0.5 127.0.0.1 "$fport" </dev/null
	[ "$RC" -eq 1 ] && grep -qx "sockit cat: connection timed out (127.0.0.1:$fport)" "$tmp/timeout.err" &&
		[ $((SECONDS - start)) -lt 5 ]
	check $? "-w 0.5 against a full backlog: exit 1, 'connection timed out'" "$tmp/timeout.err" "$tmp/full.err"
	kill "$full_pid"
else
	ok "# SKIP connect timeout (no python3)"
fi

# ---- transfer, -v, -z, --hex ------------------------------------------------------

listen zsrv -l -k 127.0.0.1 0 || not_ok "listener did not start" "$tmp/zsrv.err"
run zopen "$BIN" cat -z -v 127.0.0.1 "$PORT" </dev/null
[ "$RC" -eq 0 ] && grep -q "127.0.0.1:$PORT is open" "$tmp/zopen.err" && [ ! -s "$tmp/zopen.out" ]
check $? "-z on an open port: exit 0, nothing sent" "$tmp/zopen.err"
kill "$BG_PID"

listen srv -l 127.0.0.1 0 || not_ok "listener did not start" "$tmp/srv.err"
srv=$BG_PID
printf 'hello\n' >"$tmp/hello"
run cli "$BIN" cat -v --hex 127.0.0.1 "$PORT" <"$tmp/hello"
wait_exit "$srv" 10
[ "$RC" -eq 0 ] && cmp -s "$tmp/hello" "$tmp/srv.out" &&
	grep -q "connected to 127.0.0.1:$PORT" "$tmp/cli.err" &&
	grep -q "closed 127.0.0.1:$PORT: sent 6 bytes, received 0 bytes" "$tmp/cli.err" &&
	grep -q "sent 0 bytes, received 6 bytes" "$tmp/srv.err" &&
	grep -q '^> 00000000  68 65 6c 6c 6f 0a .*|hello.|$' "$tmp/cli.err"
check $? "transfer, -v byte counts, --hex dump" "$tmp/cli.err" "$tmp/srv.err" "$tmp/srv.out"

# ---- half-close ----------------------------------------------------------------

# 1. Our input ends first: the peer reads to its end, then answers; we print
#    the answer and exit 0 once it closes.
listen hc1 -l 127.0.0.1 0 -c "cat > '$tmp/hc1.got'; printf answer-after-eof"
run hc1c "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/hello"
wait_exit "$BG_PID" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/hc1c.out")" = answer-after-eof ] && cmp -s "$tmp/hello" "$tmp/hc1.got"
check $? "half-close: end of stdin shuts down our side; the answer still arrives" \
	"$tmp/hc1c.out" "$tmp/hc1c.err" "$tmp/hc1.err"

# 2. The peer ends first (its stdin is a file): we get its bytes and its end,
#    and still send ours afterwards.
printf 'from-server\n' >"$tmp/fromsrv"
BG_IN=$tmp/fromsrv listen hc2 -l 127.0.0.1 0
hc2=$BG_PID
hold_fifo hc2in
hc2fd=$HOLD_FD
BG_IN=$tmp/hc2in.fifo bg hc2c timeout 30 "$BIN" cat 127.0.0.1 "$PORT"
hc2c=$BG_PID
wait_until 10 grep -q from-server "$tmp/hc2c.out"
printf 'late-data\n' >&"$hc2fd"
release "$hc2fd"
wait_exit "$hc2c" 10
c_rc=$RC
wait_exit "$hc2" 10
[ "$c_rc" -eq 0 ] && [ "$RC" -eq 0 ] && [ "$(cat "$tmp/hc2.out")" = late-data ] &&
	[ "$(cat "$tmp/hc2c.out")" = from-server ]
check $? "half-close: after the peer's end we still send ours" \
	"$tmp/hc2.out" "$tmp/hc2.err" "$tmp/hc2c.out" "$tmp/hc2c.err"

# -q: a peer that never closes; we quit 0.3 s after our input ends.
hold_fifo qsrv
qfd=$HOLD_FD
BG_IN=$tmp/qsrv.fifo listen q -l 127.0.0.1 0
start=$SECONDS
run qc "$BIN" cat -q 0.3 127.0.0.1 "$PORT" <"$tmp/hello"
wait_until 5 cmp -s "$tmp/hello" "$tmp/q.out"
[ "$RC" -eq 0 ] && [ $((SECONDS - start)) -lt 5 ] && cmp -s "$tmp/hello" "$tmp/q.out"
check $? "-q 0.3: quits after end of input although the peer stays" "$tmp/qc.err" "$tmp/q.err"
release "$qfd"
wait_exit "$BG_PID" 5

# ---- -e / -c -------------------------------------------------------------------------

listen up -l 127.0.0.1 0 -e "tr a-z A-Z"
run upc "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/hello"
wait_exit "$BG_PID" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/upc.out")" = HELLO ] && grep -q "'tr a-z A-Z' (pid [0-9]*) exited with status 0" "$tmp/up.err"
check $? "-e 'tr a-z A-Z': the program's stdin/stdout on the socket" "$tmp/upc.out" "$tmp/up.err"

# The same without pidfd: the child's exit comes through SIGCHLD.
SOCKIT_CAT_NO_PIDFD=1 listen upsig -l -k 127.0.0.1 0 -e "tr a-z A-Z"
upsig=$BG_PID
sig_ok=0
for i in 1 2; do
	run upsigc "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/hello"
	[ "$RC" -eq 0 ] && [ "$(cat "$tmp/upsigc.out")" = HELLO ] || sig_ok=1
done
reaped() { [ "$(grep -c "exited with status 0" "$tmp/upsig.err")" -eq 2 ]; }
wait_until 10 reaped && [ $sig_ok -eq 0 ]
check $? "-e with SIGCHLD instead of a pidfd: both children reaped" "$tmp/upsig.err"
kill "$upsig"

listen shc -l 127.0.0.1 0
run shcc "$BIN" cat -c 'echo "sum=$((40 + 2))"' 127.0.0.1 "$PORT" </dev/null
wait_exit "$BG_PID" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/shc.out")" = sum=42 ]
check $? "-c with a shell command on the client side" "$tmp/shc.out" "$tmp/shcc.err"

listen nocmd -l 127.0.0.1 0 -e /nonexistent/program
run nocmdc "$BIN" cat 127.0.0.1 "$PORT" </dev/null
wait_exit "$BG_PID" 10
[ "$RC" -eq 1 ] && grep -q "cannot run '/nonexistent/program': no such file or directory" "$tmp/nocmd.err"
check $? "-e with a missing program: exit 1, the cause named" "$tmp/nocmd.err"

# ---- -k: one client after another; -e clients at once; --max-conns ----------------

listen keep -l -k 127.0.0.1 0
keep=$BG_PID
for w in one two three; do
	printf '%s\n' "$w" >"$tmp/w"
	run kc "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/w"
	[ "$RC" -eq 0 ] || not_ok "-k client '$w' exit $RC" "$tmp/kc.err"
done
wait_until 5 grep -q three "$tmp/keep.out"
[ "$(tr '\n' ' ' <"$tmp/keep.out")" = "one two three " ] && kill -0 "$keep"
check $? "-k: serves clients one after another and keeps listening" "$tmp/keep.out" "$tmp/keep.err"
kill "$keep"

# With stdio, a client that comes while another is served waits its turn.
listen kq -l -k 127.0.0.1 0
kq=$BG_PID
hold_fifo kq1
kq1fd=$HOLD_FD
BG_IN=$tmp/kq1.fifo bg kq1 timeout 30 "$BIN" cat 127.0.0.1 "$PORT"
kq1=$BG_PID
printf 'first\n' >&"$kq1fd"
wait_until 10 grep -q first "$tmp/kq.out"
printf 'second\n' >"$tmp/second"
BG_IN=$tmp/second bg kq2 timeout 30 "$BIN" cat 127.0.0.1 "$PORT"
kq2=$BG_PID
two_came() { [ "$(grep -c "connection from" "$tmp/kq.err")" -ge 2 ]; }
wait_until 10 two_came
wait_until 1 grep -q second "$tmp/kq.out" # must not happen (bounded look)
early=$?
printf 'first-again\n' >&"$kq1fd"
release "$kq1fd"
wait_exit "$kq1" 10
wait_exit "$kq2" 10
wait_until 10 grep -q second "$tmp/kq.out"
[ $early -ne 0 ] && [ "$(tr '\n' ' ' <"$tmp/kq.out")" = "first first-again second " ]
check $? "-k with stdio: a second client waits for the first to end" "$tmp/kq.out" "$tmp/kq.err"
kill "$kq"

listen kx -l -k --max-conns 1 127.0.0.1 0 -e cat
kx=$BG_PID
hold_fifo kx1
kx1fd=$HOLD_FD
BG_IN=$tmp/kx1.fifo bg kx1 timeout 30 "$BIN" cat 127.0.0.1 "$PORT"
kx1=$BG_PID
printf 'first\n' >&"$kx1fd"
wait_until 10 grep -q first "$tmp/kx1.out"
run kx2 "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/hello"
[ ! -s "$tmp/kx2.out" ] && grep -q "refused a connection: --max-conns reached" "$tmp/kx.err"
check $? "--max-conns 1: a second client is turned away" "$tmp/kx.err" "$tmp/kx2.out"
release "$kx1fd"
wait_exit "$kx1" 10
run kx3 "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/hello"
[ "$RC" -eq 0 ] && cmp -s "$tmp/hello" "$tmp/kx3.out"
check $? "-k -e: the next client is served once the first left" "$tmp/kx3.out" "$tmp/kx.err"
kill "$kx"

# ---- --allow / --deny -----------------------------------------------------------------

acl_case() { # expect(served|refused) listen-args... -- client-host
	local want=$1 host=$2
	shift 2
	listen acl -l "$@" || { not_ok "acl listener $*" "$tmp/acl.err"; return; }
	run aclc "$BIN" cat "$host" "$PORT" <"$tmp/hello"
	if [ "$want" = served ]; then
		wait_exit "$BG_PID" 10
		cmp -s "$tmp/hello" "$tmp/acl.out"
		check $? "$* from $host: served" "$tmp/acl.err"
	else
		wait_until 5 grep -q "refused $host\|refused \[$host\]" "$tmp/acl.err"
		[ ! -s "$tmp/acl.out" ] && grep -q "(--allow/--deny)" "$tmp/acl.err" && kill -0 "$BG_PID" &&
			[ "$RC" -eq 1 ] && grep -Eq "^sockit cat: (connection reset by peer|broken pipe)" "$tmp/aclc.err"
		check $? "$* from $host: refused (the client: exit 1, reset), still listening" \
			"$tmp/acl.err" "$tmp/aclc.err"
		kill "$BG_PID"
	fi
}
acl_case refused 127.0.0.1 --deny 127.0.0.0/8 127.0.0.1 0
acl_case refused 127.0.0.1 --allow 10.0.0.0/8,192.168.0.0/16 127.0.0.1 0
acl_case served 127.0.0.1 --allow 10.0.0.0/8 --allow 127.0.0.1/32 127.0.0.1 0
acl_case refused 127.0.0.1 --allow 127.0.0.0/8 --deny 127.0.0.1 127.0.0.1 0
run v6 "$BIN" cat -z ::1 1 </dev/null
if grep -q "connection refused" "$tmp/v6.err"; then
	acl_case served ::1 --allow ::1/128 ::1 0
	acl_case refused ::1 --deny ::/0 ::1 0
else
	ok "# SKIP IPv6 allow/deny (no ::1 here)"
fi

# ---- 100 MiB of random bytes, each way -------------------------------------------------

head -c $((100 << 20)) /dev/urandom >"$tmp/big"
want=$(sha256sum <"$tmp/big")
# The receiver writes into a pipe (backpressure from a slower reader).
bg big1 sh -c "'$BIN' cat -v -l 127.0.0.1 0 | dd bs=4k 2>/dev/null | sha256sum"
wait_until 10 has_port big1
PORT=$(port_of big1)
run big1c "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/big"
wait_exit "$BG_PID" 60
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/big1.out")" = "$want" ]
check $? "100 MiB client to server, checksum equal" "$tmp/big1c.err" "$tmp/big1.err"
rm -f "$tmp/big1.out"

BG_IN=$tmp/big listen big2 -l 127.0.0.1 0
run big2c "$BIN" cat 127.0.0.1 "$PORT" </dev/null
wait_exit "$BG_PID" 60
[ "$RC" -eq 0 ] && [ "$(sha256sum <"$tmp/big2c.out")" = "$want" ]
check $? "100 MiB server to client, checksum equal" "$tmp/big2c.err" "$tmp/big2.err"

finish
