#!/usr/bin/env bash
# tests/integration/test_cat_tls.sh - `sockit cat --tls`: the ephemeral
# self-signed server certificate and its fingerprint, verification failing
# and succeeding (CA file, host name, SNI), --tls-insecure, ALPN, 20 MiB
# each way with half-close, and a TLS-terminating relay.  Run by ctest with
# SK_BIN=path/to/sockit.
. "$(dirname "$0")/cat_lib.sh"

printf 'hello\n' >"$tmp/hello"

# ---- ephemeral certificate ----------------------------------------------------

listen eph -l -k --tls 127.0.0.1 0 -e cat
eph=$BG_PID
fp_re='SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}$'
grep -Eq "^sockit cat: TLS certificate: ephemeral, self-signed for 127.0.0.1, $fp_re" "$tmp/eph.err" &&
	grep -q "listening on 127.0.0.1:$PORT (TLS)" "$tmp/eph.err"
check $? "-l --tls without a certificate: ephemeral one, fingerprint on stderr" "$tmp/eph.err"

run rej "$BIN" cat --tls 127.0.0.1 "$PORT" <"$tmp/hello"
[ "$RC" -eq 1 ] && [ ! -s "$tmp/rej.out" ] &&
	grep -qx "sockit cat: certificate verification failed: self-signed certificate (127.0.0.1:$PORT)" "$tmp/rej.err"
check $? "client verifies by default: exit 1, 'certificate verification failed'" "$tmp/rej.err"

run ins "$BIN" cat -v --tls --tls-insecure 127.0.0.1 "$PORT" <"$tmp/hello"
[ "$RC" -eq 0 ] && cmp -s "$tmp/hello" "$tmp/ins.out" && grep -q "connected to 127.0.0.1:$PORT (TLS)" "$tmp/ins.err"
check $? "--tls-insecure: echo over TLS" "$tmp/ins.err" "$tmp/eph.err"
kill "$eph"

# ---- a certificate from a CA file ---------------------------------------------------

if command -v openssl >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>"$tmp/openssl.err"
	check $? "openssl made a test certificate" "$tmp/openssl.err"

	listen ca -l -k --tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
		--tls-alpn h2,http/1.1 127.0.0.1 0 -e cat
	ca=$BG_PID
	! grep -q "ephemeral" "$tmp/ca.err"
	check $? "--tls-cert/--tls-key: no ephemeral certificate" "$tmp/ca.err"

	run good "$BIN" cat -v --tls --tls-ca "$tmp/cert.pem" --tls-alpn h2 localhost "$PORT" <"$tmp/hello"
	[ "$RC" -eq 0 ] && cmp -s "$tmp/hello" "$tmp/good.out" &&
		grep -q "connected to 127.0.0.1:$PORT (TLS, ALPN h2)" "$tmp/good.err"
	check $? "--tls-ca, name localhost: verified; ALPN h2 negotiated" "$tmp/good.err"

	run goodip "$BIN" cat --tls --tls-ca "$tmp/cert.pem" 127.0.0.1 "$PORT" <"$tmp/hello"
	[ "$RC" -eq 0 ] && cmp -s "$tmp/hello" "$tmp/goodip.out"
	check $? "--tls-ca, address 127.0.0.1 (IP SAN): verified" "$tmp/goodip.err"

	run sni "$BIN" cat --tls --tls-ca "$tmp/cert.pem" --tls-sni other.example 127.0.0.1 "$PORT" <"$tmp/hello"
	[ "$RC" -eq 1 ] && grep -q "^sockit cat: certificate verification failed: hostname mismatch" "$tmp/sni.err"
	check $? "--tls-sni with a name the certificate lacks: rejected" "$tmp/sni.err"

	run noca "$BIN" cat --tls localhost "$PORT" <"$tmp/hello"
	[ "$RC" -eq 1 ] && grep -q "^sockit cat: certificate verification failed" "$tmp/noca.err"
	check $? "without --tls-ca the system store does not know it: rejected" "$tmp/noca.err"

	# 20 MiB each way with the half-close in the middle: our end of input
	# (close_notify) comes first, the echo still arrives whole.
	head -c $((20 << 20)) /dev/urandom >"$tmp/big"
	run big "$BIN" cat --tls --tls-ca "$tmp/cert.pem" localhost "$PORT" <"$tmp/big"
	[ "$RC" -eq 0 ] && cmp -s "$tmp/big" "$tmp/big.out"
	check $? "20 MiB echoed over TLS, intact" "$tmp/big.err" "$tmp/ca.err"
	rm -f "$tmp/big.out"
	kill "$ca"

	# A TLS terminator: TLS outside, plain TCP inside.
	listen plain -l -k 127.0.0.1 0 -e "tr a-z A-Z"
	plain=$BG_PID
	bg term timeout 30 "$BIN" cat relay -v --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
		tls-listen:127.0.0.1:0 "tcp:127.0.0.1:$PORT"
	wait_until 10 has_port term
	run termc "$BIN" cat --tls --tls-ca "$tmp/cert.pem" localhost "$(port_of term)" <"$tmp/hello"
	[ "$RC" -eq 0 ] && [ "$(cat "$tmp/termc.out")" = HELLO ]
	check $? "relay tls-listen: -> tcp: terminates TLS" "$tmp/term.err" "$tmp/termc.err"
	kill "$plain"
else
	ok "# SKIP CA-file tests (no openssl command)"
fi

finish
