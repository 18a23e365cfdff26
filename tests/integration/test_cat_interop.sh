#!/usr/bin/env bash
# tests/integration/test_cat_interop.sh - `sockit cat` against ncat and socat
# (Debian packages ncat, socat) as the other end, both ways: TCP with binary
# data, half-close, UDP, Unix sockets and TLS.  Skips what is not
# installed.  Run by ctest with SK_BIN=path/to/sockit.
. "$(dirname "$0")/cat_lib.sh"

have_ncat=0
have_socat=0
command -v ncat >/dev/null && have_ncat=1
command -v socat >/dev/null && have_socat=1
[ $have_ncat -eq 1 ] || ok "# SKIP ncat tests (apt-get install ncat)"
[ $have_socat -eq 1 ] || ok "# SKIP socat tests (apt-get install socat)"

head -c $((10 << 20)) /dev/urandom >"$tmp/data"
printf 'hello\n' >"$tmp/hello"

# tool_listen NAME tcp|udp CMD...: start another tool's listener on a random
# free port (@PORT@ in CMD); retries when the port is taken.  Sets PORT and
# BG_PID; 1 if it never listened.
tool_listen() {
	local name=$1 proto=$2 try a
	shift 2
	for try in 1 2 3 4 5; do
		PORT=$(random_port)
		if [ "$proto" = tcp ]; then tcp_port_used "$PORT" && continue; fi
		if [ "$proto" = udp ]; then udp_bound "$PORT" && continue; fi
		local args=()
		for a in "$@"; do
			args+=("${a//@PORT@/$PORT}")
		done
		bg "$name" timeout 60 "${args[@]}"
		if [ "$proto" = tcp ]; then
			wait_until 5 eval "tcp_listening $PORT || ! kill -0 $BG_PID"
		else
			wait_until 5 eval "udp_bound $PORT || ! kill -0 $BG_PID"
		fi
		kill -0 "$BG_PID" 2>/dev/null && return 0
		wait "$BG_PID" 2>/dev/null
	done
	return 1
}

same() { cmp -s "$1" "$2"; }

# ---- ncat -------------------------------------------------------------------------

if [ $have_ncat -eq 1 ]; then
	# ncat listens, we send 10 MiB and half-close; ncat ends.
	tool_listen n1 tcp ncat -l 127.0.0.1 @PORT@
	run n1c "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/data"
	wait_exit "$BG_PID" 20
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/n1.out"
	check $? "sockit cat -> ncat -l: 10 MiB intact, both end" "$tmp/n1.err" "$tmp/n1c.err"

	# ncat listens and sends.  ncat ends a session at the first end of
	# input it sees from the network, half-close or not (ncat to ncat
	# loses the rest the same way), so our input stays open until all
	# has arrived.
	BG_IN=$tmp/data tool_listen n2 tcp ncat -l 127.0.0.1 @PORT@
	n2=$BG_PID
	hold_fifo n2in
	n2fd=$HOLD_FD
	BG_IN=$tmp/n2in.fifo bg n2c timeout 30 "$BIN" cat 127.0.0.1 "$PORT"
	n2c=$BG_PID
	wait_until 20 eval "[ \$(stat -c %s '$tmp/n2c.out') -ge $((10 << 20)) ]"
	release "$n2fd"
	wait_exit "$n2c" 10
	wait_exit "$n2" 10
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/n2c.out"
	check $? "ncat -l -> sockit cat: 10 MiB intact, both end" "$tmp/n2.err" "$tmp/n2c.err"

	# We listen; ncat connects and sends.
	listen n3 -l 127.0.0.1 0
	run n3c ncat 127.0.0.1 "$PORT" <"$tmp/data"
	wait_exit "$BG_PID" 20
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/n3.out"
	check $? "ncat -> sockit cat -l: 10 MiB intact" "$tmp/n3.err" "$tmp/n3c.err"

	# We listen with a program; ncat's half-close reaches it, the answer
	# comes back after.
	listen n4 -l 127.0.0.1 0 -c "wc -c"
	run n4c ncat 127.0.0.1 "$PORT" <"$tmp/data"
	wait_exit "$BG_PID" 20
	[ "$(tr -d ' ' <"$tmp/n4c.out")" = $((10 << 20)) ]
	check $? "ncat -> sockit cat -l -c 'wc -c': half-close, then the count" "$tmp/n4c.out" "$tmp/n4.err"

	# TLS both ways (ncat does not verify unless asked; as above, its -e
	# session ends at our end of input, so that waits for the echo).
	tool_listen n5 tcp ncat --ssl -l 127.0.0.1 @PORT@ -e /bin/cat
	n5=$BG_PID
	hold_fifo n5in
	n5fd=$HOLD_FD
	BG_IN=$tmp/n5in.fifo bg n5c timeout 30 "$BIN" cat --tls --tls-insecure 127.0.0.1 "$PORT"
	n5c=$BG_PID
	printf 'hello\n' >&"$n5fd"
	wait_until 10 grep -q hello "$tmp/n5c.out"
	release "$n5fd"
	wait_exit "$n5c" 10
	[ "$RC" -eq 0 ] && same "$tmp/hello" "$tmp/n5c.out"
	check $? "sockit cat --tls -> ncat --ssl -l -e cat: echo" "$tmp/n5c.err" "$tmp/n5.err"
	wait_exit "$n5" 5

	listen n6 -l --tls 127.0.0.1 0 -e cat
	run n6c ncat --ssl 127.0.0.1 "$PORT" <"$tmp/hello"
	wait_exit "$BG_PID" 10
	[ "$RC" -eq 0 ] && same "$tmp/hello" "$tmp/n6c.out"
	check $? "ncat --ssl -> sockit cat -l --tls -e cat: echo" "$tmp/n6c.err" "$tmp/n6.err"

	# UDP: ncat's echo, our client.
	tool_listen n7 udp ncat -u -l 127.0.0.1 @PORT@ -e /bin/cat
	hold_fifo n7in
	n7fd=$HOLD_FD
	BG_IN=$tmp/n7in.fifo bg n7c timeout 30 "$BIN" cat -u 127.0.0.1 "$PORT"
	n7c=$BG_PID
	printf 'udp-ping\n' >&"$n7fd"
	wait_until 10 grep -q udp-ping "$tmp/n7c.out"
	release "$n7fd"
	wait_exit "$n7c" 10
	[ "$RC" -eq 0 ] && [ "$(cat "$tmp/n7c.out")" = udp-ping ]
	check $? "sockit cat -u -> ncat -u -l -e cat: echo" "$tmp/n7c.err" "$tmp/n7.err"
fi

# ---- socat -------------------------------------------------------------------------

if [ $have_socat -eq 1 ]; then
	tool_listen s1 tcp socat -u TCP-LISTEN:@PORT@,bind=127.0.0.1,reuseaddr STDOUT
	run s1c "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/data"
	wait_exit "$BG_PID" 20
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/s1.out"
	check $? "sockit cat -> socat TCP-LISTEN: 10 MiB intact" "$tmp/s1.err" "$tmp/s1c.err"

	# An echo through socat's EXEC: 10 MiB there and back, and the half-close
	# must carry through cat for the answer to end.
	tool_listen s2 tcp socat TCP-LISTEN:@PORT@,bind=127.0.0.1,reuseaddr EXEC:cat
	run s2c "$BIN" cat 127.0.0.1 "$PORT" <"$tmp/data"
	wait_exit "$BG_PID" 20
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/s2c.out"
	check $? "sockit cat -> socat EXEC:cat: 10 MiB echoed, clean end" "$tmp/s2c.err" "$tmp/s2.err"

	listen s3 -l 127.0.0.1 0
	run s3c socat -u FILE:"$tmp/data" TCP:127.0.0.1:"$PORT"
	wait_exit "$BG_PID" 20
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/s3.out"
	check $? "socat -> sockit cat -l: 10 MiB intact" "$tmp/s3.err" "$tmp/s3c.err"

	BG_IN=$tmp/data listen s4 -l 127.0.0.1 0
	run s4c socat - TCP:127.0.0.1:"$PORT" </dev/null
	wait_exit "$BG_PID" 20
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/s4c.out"
	check $? "sockit cat -l -> socat - TCP: 10 MiB intact" "$tmp/s4.err" "$tmp/s4c.err"

	# socat runs us as its program: stdin and stdout are one socket.
	listen s5 -l 127.0.0.1 0 -e cat
	run s5c socat - EXEC:"$BIN cat 127.0.0.1 $PORT" <"$tmp/hello"
	wait_exit "$BG_PID" 10
	[ "$RC" -eq 0 ] && same "$tmp/hello" "$tmp/s5c.out"
	check $? "socat EXEC:'sockit cat' (stdio on a socketpair): echo" "$tmp/s5c.err" "$tmp/s5.err"

	# UDP both ways.
	tool_listen s6 udp socat UDP-LISTEN:@PORT@,bind=127.0.0.1 EXEC:cat
	hold_fifo s6in
	s6fd=$HOLD_FD
	BG_IN=$tmp/s6in.fifo bg s6c timeout 30 "$BIN" cat -u 127.0.0.1 "$PORT"
	s6c=$BG_PID
	printf 'udp-ping\n' >&"$s6fd"
	wait_until 10 grep -q udp-ping "$tmp/s6c.out"
	release "$s6fd"
	wait_exit "$s6c" 10
	[ "$RC" -eq 0 ] && [ "$(cat "$tmp/s6c.out")" = udp-ping ]
	check $? "sockit cat -u -> socat UDP-LISTEN EXEC:cat: echo" "$tmp/s6c.err" "$tmp/s6.err"

	listen s7 -u -l 127.0.0.1 0 -e cat
	s7=$BG_PID
	hold_fifo s7in
	s7fd=$HOLD_FD
	BG_IN=$tmp/s7in.fifo bg s7c timeout 30 socat - UDP:127.0.0.1:"$PORT"
	s7c=$BG_PID
	printf 'udp-pong\n' >&"$s7fd"
	wait_until 10 grep -q udp-pong "$tmp/s7c.out"
	release "$s7fd"
	[ "$(cat "$tmp/s7c.out")" = udp-pong ]
	check $? "socat UDP -> sockit cat -u -l -e cat: echo" "$tmp/s7c.err" "$tmp/s7.err"
	wait_exit "$s7c" 5
	kill "$s7"

	# Unix sockets both ways.
	usock=$tmp/socat.sock
	bg s8 timeout 30 socat UNIX-LISTEN:"$usock" EXEC:cat
	wait_until 10 test -S "$usock"
	run s8c "$BIN" cat "unix:$usock" <"$tmp/data"
	wait_exit "$BG_PID" 10
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/s8c.out"
	check $? "sockit cat unix: -> socat UNIX-LISTEN EXEC:cat: 10 MiB echoed" "$tmp/s8c.err" "$tmp/s8.err"

	bg s9 timeout 30 "$BIN" cat -v -l "unix:$tmp/ours.sock"
	wait_until 10 grep -q "listening on unix:" "$tmp/s9.err"
	run s9c socat -u FILE:"$tmp/data" UNIX-CONNECT:"$tmp/ours.sock"
	wait_exit "$BG_PID" 10
	[ "$RC" -eq 0 ] && same "$tmp/data" "$tmp/s9.out"
	check $? "socat UNIX-CONNECT -> sockit cat -l unix:: 10 MiB intact" "$tmp/s9.err" "$tmp/s9c.err"

	# TLS: socat verifies against our certificate when told to trust it.
	if command -v openssl >/dev/null; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
		listen s10 -l --tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" 127.0.0.1 0 -e cat
		run s10c socat - OPENSSL:localhost:"$PORT",cafile="$tmp/cert.pem" <"$tmp/hello"
		wait_exit "$BG_PID" 10
		[ "$RC" -eq 0 ] && same "$tmp/hello" "$tmp/s10c.out"
		check $? "socat OPENSSL (verifying) -> sockit cat -l --tls: echo" "$tmp/s10c.err" "$tmp/s10.err"

		tool_listen s11 tcp socat OPENSSL-LISTEN:@PORT@,bind=127.0.0.1,reuseaddr,cert="$tmp/cert.pem",key="$tmp/key.pem",verify=0 EXEC:cat
		run s11c "$BIN" cat --tls --tls-ca "$tmp/cert.pem" localhost "$PORT" <"$tmp/hello"
		wait_exit "$BG_PID" 10
		[ "$RC" -eq 0 ] && same "$tmp/hello" "$tmp/s11c.out"
		check $? "sockit cat --tls (verifying) -> socat OPENSSL-LISTEN: echo" "$tmp/s11c.err" "$tmp/s11.err"
	fi
fi

finish
