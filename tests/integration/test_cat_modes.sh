#!/usr/bin/env bash
# tests/integration/test_cat_modes.sh - `sockit cat` beyond TCP: UDP,
# Unix stream and datagram sockets, the relay (Unix <-> TCP, UDP -> TCP)
# and the broker with 50 clients.  Run by ctest with SK_BIN=path/to/sockit.
. "$(dirname "$0")/cat_lib.sh"

printf 'hello\n' >"$tmp/hello"

# ---- UDP ------------------------------------------------------------------------

# An echo: our UDP listener runs `cat`; our client's input stays open until
# the echo is back, and it ends (UDP has no close) at the end of its input.
listen uecho -u -l 127.0.0.1 0 -e cat
uecho=$BG_PID
grep -q "(datagrams)" "$tmp/uecho.err"
check $? "UDP listener reports its port" "$tmp/uecho.err"
hold_fifo uin
ufd=$HOLD_FD
BG_IN=$tmp/uin.fifo bg uc timeout 30 "$BIN" cat -v -u 127.0.0.1 "$PORT"
uc=$BG_PID
printf 'ping-1\n' >&"$ufd"
wait_until 10 grep -q ping-1 "$tmp/uc.out"
printf 'ping-2\n' >&"$ufd"
wait_until 10 grep -q ping-2 "$tmp/uc.out"
release "$ufd"
wait_exit "$uc" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/uc.out")" = "$(printf 'ping-1\nping-2')" ] &&
	grep -q "datagrams from 127.0.0.1:" "$tmp/uecho.err"
check $? "UDP echo both ways; the client ends with its input" "$tmp/uc.out" "$tmp/uc.err" "$tmp/uecho.err"
kill "$uecho"

# -k: no fixed peer; replies go to whoever sent last.
listen uk -u -l -k 127.0.0.1 0 -e cat
uk=$BG_PID
uk_ok=0
for who in alpha beta; do
	hold_fifo "uk$who"
	ukfd=$HOLD_FD
	BG_IN=$tmp/uk$who.fifo bg "uk$who" timeout 30 "$BIN" cat -u 127.0.0.1 "$PORT"
	ukc=$BG_PID
	printf '%s\n' "$who" >&"$ukfd"
	wait_until 10 grep -q "$who" "$tmp/uk$who.out"
	release "$ukfd"
	wait_exit "$ukc" 10
	[ "$RC" -eq 0 ] && [ "$(cat "$tmp/uk$who.out")" = "$who" ] || uk_ok=1
done
[ $uk_ok -eq 0 ]
check $? "UDP -l -k: each sender gets its own echo" "$tmp/ukalpha.out" "$tmp/ukbeta.out" "$tmp/uk.err"
kill "$uk"

# Nobody listening: the ICMP port unreachable comes back as "refused".
listen gone -l 127.0.0.1 0
dead=$PORT
kill "$BG_PID"
wait_exit "$BG_PID" 5
hold_fifo urf
urfd=$HOLD_FD
BG_IN=$tmp/urf.fifo bg urc timeout 30 "$BIN" cat -u 127.0.0.1 "$dead"
urc=$BG_PID
printf 'anyone?\n' >&"$urfd"
wait_exit "$urc" 10
release "$urfd"
[ "$RC" -eq 1 ] && grep -qx "sockit cat: connection refused (127.0.0.1:$dead)" "$tmp/urc.err"
check $? "UDP to a closed port: exit 1, 'connection refused'" "$tmp/urc.err"

# ---- Unix stream and datagram sockets ---------------------------------------------

sock=$tmp/s.sock
bg us timeout 30 "$BIN" cat -v -l "unix:$sock"
us=$BG_PID
wait_until 10 grep -q "listening on unix:$sock" "$tmp/us.err"
run usc "$BIN" cat "unix:$sock" <"$tmp/hello"
wait_exit "$us" 10
[ "$RC" -eq 0 ] && cmp -s "$tmp/hello" "$tmp/us.out" && [ ! -e "$sock" ]
check $? "Unix stream socket (path removed at the end)" "$tmp/us.err" "$tmp/usc.err"

abs="@sockit-cat-test-$$-$RANDOM"
bg ua timeout 30 "$BIN" cat -v -l "unix:$abs" -e "tr a-z A-Z"
ua=$BG_PID
wait_until 10 grep -q "listening on unix:$abs" "$tmp/ua.err"
run uac "$BIN" cat "unix:$abs" <"$tmp/hello"
wait_exit "$ua" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/uac.out")" = HELLO ]
check $? "abstract Unix socket with -e" "$tmp/ua.err" "$tmp/uac.err"

dsock=$tmp/d.sock
bg ud timeout 30 "$BIN" cat -v -u -l "unix:$dsock" -e cat
ud=$BG_PID
wait_until 10 grep -q "listening on unix:$dsock" "$tmp/ud.err"
hold_fifo udin
udfd=$HOLD_FD
BG_IN=$tmp/udin.fifo bg udc timeout 30 "$BIN" cat --dgram "unix:$dsock"
udc=$BG_PID
printf 'dgram-echo\n' >&"$udfd"
wait_until 10 grep -q dgram-echo "$tmp/udc.out"
release "$udfd"
wait_exit "$udc" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/udc.out")" = dgram-echo ]
check $? "Unix datagram socket echo (--dgram)" "$tmp/ud.err" "$tmp/udc.err"
kill "$ud"
wait_exit "$ud" 5
[ ! -e "$dsock" ]
check $? "Unix datagram listener removes its path" "$tmp/ud.err"

# ---- relay -------------------------------------------------------------------------

# The IPC case: a Unix socket in front of a TCP service, every client its own
# connection (-k).
listen tsvc -l -k 127.0.0.1 0 -e "tr a-z A-Z"
tsvc=$BG_PID
tport=$PORT
rsock=$tmp/r.sock
bg relay timeout 60 "$BIN" cat relay -v -k "unix-listen:$rsock" "tcp:127.0.0.1:$tport"
relay=$BG_PID
wait_until 10 grep -q "listening on unix:$rsock" "$tmp/relay.err"
r_ok=0
for i in 1 2 3; do
	printf 'client %s\n' "$i" >"$tmp/rin"
	run rc "$BIN" cat "unix:$rsock" <"$tmp/rin"
	[ "$RC" -eq 0 ] && [ "$(cat "$tmp/rc.out")" = "CLIENT $i" ] || r_ok=1
done
[ $r_ok -eq 0 ] && grep -q "closed .*: 9 bytes A to B, 9 bytes B to A" "$tmp/relay.err"
check $? "relay -k unix-listen: <-> tcp: (three clients)" "$tmp/relay.err" "$tmp/rc.err" "$tmp/rc.out"
kill "$relay"

# And the other way round: TCP in front of a Unix service.
usvc=$tmp/svc.sock
bg usvc timeout 30 "$BIN" cat -l -k "unix:$usvc" -c 'rev'
usvc_pid=$BG_PID
wait_until 10 test -S "$usvc"
bg relay2 timeout 30 "$BIN" cat relay -v tcp-listen:127.0.0.1:0 "unix:$usvc"
wait_until 10 has_port relay2
PORT=$(port_of relay2)
printf 'abc\n' >"$tmp/abc"
run r2c "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/abc"
wait_exit "$BG_PID" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/r2c.out")" = cba ]
check $? "relay tcp-listen: <-> unix: (one client, then it ends)" "$tmp/relay2.err" "$tmp/r2c.err"
kill "$usvc_pid"

# UDP in front of TCP: each datagram's bytes go on the stream, replies back
# (an echo that answers at once: tr would wait for the end of its input).
kill "$tsvc"
listen tsvc -l -k 127.0.0.1 0 -e cat
tsvc=$BG_PID
tport=$PORT
bg relay3 timeout 30 "$BIN" cat relay -v udp-listen:127.0.0.1:0 "tcp:127.0.0.1:$tport"
relay3=$BG_PID
wait_until 10 has_port relay3
PORT=$(port_of relay3)
hold_fifo r3in
r3fd=$HOLD_FD
BG_IN=$tmp/r3in.fifo bg r3c timeout 30 "$BIN" cat -u 127.0.0.1 "$PORT"
r3c=$BG_PID
printf 'over udp\n' >&"$r3fd"
wait_until 10 grep -q "over udp" "$tmp/r3c.out"
release "$r3fd"
wait_exit "$r3c" 10
[ "$RC" -eq 0 ] && [ "$(cat "$tmp/r3c.out")" = "over udp" ]
check $? "relay udp-listen: <-> tcp:" "$tmp/relay3.err" "$tmp/r3c.err"
kill "$relay3" "$tsvc"

# ---- broker: 50 clients ----------------------------------------------------------

N=50
listen broker -l --broker 127.0.0.1 0
broker=$BG_PID
bport=$PORT
fds=()
for i in $(seq 1 $N); do
	hold_fifo "b$i"
	fds[i]=$HOLD_FD
	BG_IN=$tmp/b$i.fifo bg "b$i" timeout 60 "$BIN" cat 127.0.0.1 "$bport"
	bpid[i]=$BG_PID
done
wait_until 20 grep -q "($N in the room)" "$tmp/broker.err"
check $? "broker: $N clients joined" "$tmp/broker.err"
for i in $(seq 1 $N); do
	printf 'message from %s\n' "$i" >&"${fds[i]}"
done
all_got() {
	local i
	for i in $(seq 1 $N); do
		[ "$(wc -l <"$tmp/b$i.out")" -ge $((N - 1)) ] || return 1
	done
}
wait_until 30 all_got
b_ok=0
for i in $(seq 1 $N); do
	# everyone else's message exactly once, never its own
	if [ "$(sort "$tmp/b$i.out" | uniq | wc -l)" -ne $((N - 1)) ] ||
		[ "$(wc -l <"$tmp/b$i.out")" -ne $((N - 1)) ] ||
		grep -qx "message from $i" "$tmp/b$i.out"; then
		b_ok=1
		not_ok "broker: client $i got the wrong lines" "$tmp/b$i.out"
		break
	fi
done
[ $b_ok -eq 0 ] && ok "broker: each of $N clients got the $((N - 1)) others' messages"
for i in $(seq 1 $N); do
	release "${fds[i]}"
done
b_rc=0
for i in $(seq 1 $N); do
	wait_exit "${bpid[i]}" 10
	[ "$RC" -eq 0 ] || b_rc=$RC
done
wait_until 10 grep -q "(0 in the room)" "$tmp/broker.err" && [ $b_rc -eq 0 ] && kill -0 "$broker"
check $? "broker: clients leave at the end of their input (exit 0); it keeps listening" "$tmp/broker.err"
kill "$broker"

finish
