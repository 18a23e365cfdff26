#!/usr/bin/env bash
# tests/integration/test_examples.sh - run every example server and drive it
# with its client.  Run by ctest with SK_EXAMPLES_DIR=build/examples.
#
# The whole set runs once per loop backend this machine has (SOCKIT_BACKEND;
# SK_BIN's `sockit version` tells which are available).
#
# Servers listen on 127.0.0.1:0 (or a Unix socket in a temporary dir) and
# print "listening on ADDR"; the test reads that line through a FIFO, so it
# waits for the event rather than sleeping.  Every process runs under
# `timeout`, every read has a time limit, and only the PIDs started here
# are killed.
set -euo pipefail
EX=${SK_EXAMPLES_DIR:?SK_EXAMPLES_DIR must point at build/examples}
top=$(mktemp -d)
tmp=$top
passed=0

# Only this shell's own background jobs that are still running: a PID that
# was already waited for may belong to someone else by now.
cleanup() {
	local p
	for p in $(jobs -pr); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$top"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok - ${be:+[$be] }$*"; }
fail() {
	echo "FAIL - ${be:+[$be] }$*" >&2
	local f
	for f in "$tmp"/*.err "$tmp"/*.out; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; tail -n 30 "$f"; } >&2
	done
	echo "$passed passed, 1 failed"
	exit 1
}

# start_server NAME PROG ARGS... : runs it in the background and waits for
# its "listening on ADDR" line; sets ADDR and SPID.  stderr in $tmp/NAME.err.
start_server() {
	local name=$1 prog=$2 line fd
	shift 2
	mkfifo "$tmp/$name.fifo"
	timeout -k 5 90 "$EX/$prog" "$@" >"$tmp/$name.fifo" 2>"$tmp/$name.err" &
	SPID=$!
	exec {fd}<"$tmp/$name.fifo"
	if ! read -r -t 10 -u "$fd" line; then
		fail "$prog did not report listening"
	fi
	exec {fd}<&-
	[[ $line == "listening on "* ]] || fail "$prog said '$line'"
	ADDR=${line#listening on }
}

# close_fd FD... : close file descriptors by number.
close_fd() {
	local fd
	for fd in "$@"; do exec {fd}>&-; done
}

# child_of PID : the one process that `timeout` (PID) runs.
child_of() {
	local c
	c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || true
	c=${c% }
	[[ $c =~ ^[0-9]+$ ]] || fail "cannot find the child of $1"
	echo "$c"
}

# stop_server PID NAME : one SIGTERM to the server itself (not through
# timeout, which would signal its whole process group a second time); the
# server handles it and must exit 0.
stop_server() {
	local rc=0 c
	c=$(child_of "$1")
	kill -TERM "$c"
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || fail "$2 exited $rc after SIGTERM"
}

# check NAME EXPECTED CMD... : run a client (bounded), compare its stdout.
check() {
	local name=$1 want=$2 rc=0
	shift 2
	timeout -k 5 20 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "$name: exit $rc"
	[ "$(cat "$tmp/$name.out")" = "$want" ] || fail "$name: unexpected output"
}

# check_fails NAME STDERR-REGEX CMD... : the client must fail (exit 1).
check_fails() {
	local name=$1 re=$2 rc=0
	shift 2
	timeout -k 5 20 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	[ "$rc" -eq 1 ] || fail "$name: exit $rc, want 1"
	grep -Eqi "$re" "$tmp/$name.err" || fail "$name: stderr does not match /$re/"
}

run_all() {
	# ---- TCP echo ----------------------------------------------------------------
	start_server echo echo_server 127.0.0.1:0
	echo_pid=$SPID echo_addr=$ADDR
	[[ $echo_addr =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "echo_server address '$echo_addr'"
	check echo-args $'one\ntwo words\nthree' "$EX/echo_client" "$echo_addr" one "two words" three
	check echo-stdin $'a\n\nb' "$EX/echo_client" "$echo_addr" < <(printf 'a\n\nb')
	seq 1 20000 >"$tmp/lines.txt" # ~110 KB: more than one read and write
	timeout -k 5 20 "$EX/echo_client" "$echo_addr" <"$tmp/lines.txt" >"$tmp/echo-big.out" 2>"$tmp/echo-big.err" ||
		fail "echo-big: client failed"
	cmp -s "$tmp/lines.txt" "$tmp/echo-big.out" || fail "echo-big: echo differs from input"
	ok "echo_server + echo_client: arguments, stdin, 20000 lines"

	stop_server "$echo_pid" echo_server
	check_fails echo-refused 'connection refused \(127\.0\.0\.1:' "$EX/echo_client" "$echo_addr" hello
	: >"$tmp/not-a-socket"
	check_fails echo-refused-unix 'connection refused \(unix:' "$EX/echo_client" \
		"unix:$tmp/not-a-socket" hello
	ok "echo_server stops cleanly on SIGTERM; echo_client reports 'connection refused (ADDR)'"

	# ---- chat: three clients ---------------------------------------------------------
	start_server chat chat_server 127.0.0.1:0
	chat_pid=$SPID chat_addr=$ADDR
	declare -a cin cout cpid caddr

	# open_client I : chat_client with its stdin and stdout on FIFOs we hold.
	open_client() {
		local i=$1
		mkfifo "$tmp/c$i.in" "$tmp/c$i.out"
		(
			# Our ends of the other clients' FIFOs must not leak into this
			# one, or closing client 1's input would not give it EOF.
			for j in "${!cin[@]}"; do close_fd "${cin[$j]}" "${cout[$j]}"; done
			exec timeout -k 5 60 "$EX/chat_client" "$chat_addr" <"$tmp/c$i.in" \
				>"$tmp/c$i.out" 2>"$tmp/chat$i.err"
		) &
		cpid[i]=$!
		# Read-write opens never block on a FIFO.
		local fd
		exec {fd}<>"$tmp/c$i.in"
		cin[i]=$fd
		exec {fd}<>"$tmp/c$i.out"
		cout[i]=$fd
	}

	# expect I LINE : the next line client I prints must be LINE.
	expect() {
		local i=$1 want=$2 line
		read -r -t 10 -u "${cout[$i]}" line || fail "chat client $i: no line (wanted '$want')"
		[ "$line" = "$want" ] || fail "chat client $i: got '$line', wanted '$want'"
	}

	welcome() {
		local i=$1 line
		read -r -t 10 -u "${cout[$i]}" line || fail "chat client $i: no welcome"
		[[ $line == "* welcome 127.0.0.1:"* ]] || fail "chat client $i: got '$line'"
		caddr[i]=${line#\* welcome }
	}

	open_client 1
	welcome 1
	open_client 2
	welcome 2
	expect 1 "* ${caddr[2]} joined"
	open_client 3
	welcome 3
	expect 1 "* ${caddr[3]} joined"
	expect 2 "* ${caddr[3]} joined"
	ok "chat: three clients joined, each told of the later ones"

	echo "hello from one" >&"${cin[1]}"
	expect 2 "${caddr[1]}: hello from one"
	expect 3 "${caddr[1]}: hello from one"
	echo "hi from two" >&"${cin[2]}"
	# Client 1's next line is client 2's: its own line never came back to it.
	expect 1 "${caddr[2]}: hi from two"
	expect 3 "${caddr[2]}: hi from two"
	echo "bye from three" >&"${cin[3]}"
	expect 1 "${caddr[3]}: bye from three"
	expect 2 "${caddr[3]}: bye from three"
	ok "chat: each line reaches the other two clients only, prefixed with the sender"

	close_fd "${cin[1]}" # end of input: client 1 leaves and exits 0
	rc=0
	wait "${cpid[1]}" || rc=$?
	[ "$rc" -eq 0 ] || fail "chat client 1 exited $rc"
	expect 2 "* ${caddr[1]} left"
	expect 3 "* ${caddr[1]} left"
	ok "chat: a leaving client is announced; it exits 0 at end of input"

	# Stop the server with clients 2 and 3 still connected: it frees them
	# and exits 0, and they see the end of the connection and exit 0.
	stop_server "$chat_pid" chat_server
	for i in 2 3; do
		rc=0
		wait "${cpid[$i]}" || rc=$?
		[ "$rc" -eq 0 ] || fail "chat client $i exited $rc after the server stopped"
	done
	close_fd "${cin[2]}" "${cin[3]}" "${cout[1]}" "${cout[2]}" "${cout[3]}"
	ok "chat: server stops cleanly with clients connected; they exit 0"

	# ---- UDP request/response -------------------------------------------------------
	start_server udp udp_server 127.0.0.1:0
	udp_pid=$SPID udp_addr=$ADDR
	check udp-hello "HELLO UDP" "$EX/udp_client" "$udp_addr" "hello udp"
	check udp-again "ABC 123 XYZ" "$EX/udp_client" "$udp_addr" "abc 123 xyz"
	ok "udp_server + udp_client: request, uppercase reply"
	# A server that is alive but silent (stopped): the client gives up
	# after its retries.  The server is timeout's child.
	udp_child=$(child_of "$udp_pid")
	kill -STOP "$udp_child"
	check_fails udp-silent 'no reply after' "$EX/udp_client" "$udp_addr" "anyone?"
	kill -CONT "$udp_child"
	ok "udp_client: a silent server -> 'no reply' and exit 1 after its retries"
	stop_server "$udp_pid" udp_server
	check_fails udp-noserver 'refused|no reply' "$EX/udp_client" "$udp_addr" "anyone?"
	ok "udp_client: no server -> exit 1"

	# ---- Unix socket IPC ----------------------------------------------------------------
	sock="unix:$tmp/ipc.sock"
	start_server ipc ipc_server "$sock"
	ipc_pid=$SPID
	[ "$ADDR" = "$sock" ] || fail "ipc_server address '$ADDR'"
	check ipc-add "5" "$EX/ipc_client" "$sock" add 2 3
	check ipc-neg "-40" "$EX/ipc_client" "$sock" add -50 10
	check ipc-ping "pong" "$EX/ipc_client" "$sock" ping
	check ipc-bad "error: unknown question 'frobnicate'" "$EX/ipc_client" "$sock" frobnicate
	timeout -k 5 20 "$EX/ipc_client" "$sock" time >"$tmp/ipc-time.out" 2>"$tmp/ipc-time.err" ||
		fail "ipc-time: client failed"
	grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' "$tmp/ipc-time.out" ||
		fail "ipc-time: not a timestamp"
	ok "ipc_server + ipc_client over a Unix socket: add, ping, time, unknown"
	stop_server "$ipc_pid" ipc_server
	[ ! -e "$tmp/ipc.sock" ] || fail "ipc_server left its socket file"
	ok "ipc_server stops on SIGTERM and removes its socket file"

	# ---- TLS echo -------------------------------------------------------------------------
	start_server tls tls_echo 127.0.0.1:0 --cert-out "$tmp/cert.pem"
	tls_pid=$SPID tls_addr=$ADDR
	if [ ! -s "$tmp/cert.pem" ] || [ ! -s "$tmp/cert.pem.key" ]; then
		fail "tls_echo --cert-out wrote no files"
	fi
	check tls-verified $'hello\nover tls' "$EX/tls_echo" --client "$tls_addr" --ca "$tmp/cert.pem" hello "over tls"
	check tls-insecure "hello" "$EX/tls_echo" --client "$tls_addr"
	ok "tls_echo: client trusting the written certificate, and with verification off"

	# A second server with its own fresh certificate must be refused by a
	# client that trusts only the first one.
	start_server tls2 tls_echo 127.0.0.1:0
	tls2_pid=$SPID
	check_fails tls-untrusted 'certificate|verif' "$EX/tls_echo" --client "$ADDR" --ca "$tmp/cert.pem" hello
	ok "tls_echo: a certificate not trusted is refused"
	kill "$tls_pid" "$tls2_pid"
}

backends=""
for be in uring epoll poll; do
	if [ -z "${SK_BIN:-}" ]; then
		break
	elif SOCKIT_BACKEND=$be timeout 10 "$SK_BIN" version 2>/dev/null | grep -q "backend: $be,"; then
		backends="$backends $be"
	fi
done
[ -n "$backends" ] || backends=" default"
for be in $backends; do
	echo "# backend: $be"
	if [ "$be" = default ]; then unset SOCKIT_BACKEND; else export SOCKIT_BACKEND=$be; fi
	tmp=$top/$be
	mkdir -p "$tmp"
	run_all
done

echo "$passed passed, 0 failed"
