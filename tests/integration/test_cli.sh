#!/usr/bin/env bash
# tests/integration/test_cli.sh - the sockit binary's front door: help,
# version, exit codes.  Run by ctest with SK_BIN=path/to/sockit.
set -euo pipefail
BIN=${SK_BIN:?SK_BIN must point at the sockit binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
	echo "FAIL - $*" >&2
	for f in "$tmp"/out "$tmp"/err; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; cat "$f"; } >&2
	done
	echo "$passed passed, 1 failed"
	exit 1
}

# run ARGS... : sets rc; output in $tmp/out, $tmp/err.  Bounded in time.
run() {
	rc=0
	timeout 10 "$BIN" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

# --help, -h and help: exit 0, usage on stdout, one line per command.
for h in --help -h help; do
	run "$h"
	[ "$rc" -eq 0 ] || fail "sockit $h exits $rc"
	grep -q '^usage: sockit' "$tmp/out" || fail "sockit $h: no usage line"
	grep -Eq '^  version +[a-z]' "$tmp/out" || fail "sockit $h: 'version' not listed"
	grep -Eq '^  help +[a-z]' "$tmp/out" || fail "sockit $h: 'help' not listed"
	[ ! -s "$tmp/err" ] || fail "sockit $h wrote to stderr"
done
ok "--help, -h and help list the commands"

# Every listed command answers `help NAME` (its own --help) with exit 0.
mapfile -t cmds < <(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' "$tmp/out")
[ ${#cmds[@]} -ge 2 ] || fail "could not read the command list"
for c in "${cmds[@]}"; do
	run help "$c"
	[ "$rc" -eq 0 ] || fail "sockit help $c exits $rc"
	[ -s "$tmp/out" ] || fail "sockit help $c printed nothing"
done
ok "help COMMAND works for: ${cmds[*]}"

# version: one line in the documented shape.
re='^sockit 0\.1\.0 \(libsockit 0\.1\.0, backend: (uring|epoll|poll), OpenSSL [0-9]+\.[0-9]+\.[0-9]+[a-z]*, c-ares [0-9]+\.[0-9]+\.[0-9]+\)$'
run version
[ "$rc" -eq 0 ] || fail "sockit version exits $rc"
[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "sockit version: not one line"
grep -Eq "$re" "$tmp/out" || fail "sockit version: unexpected output"
version_line=$(cat "$tmp/out")
ok "version: $version_line"

for v in --version -V; do
	run "$v"
	[ "$rc" -eq 0 ] || fail "sockit $v exits $rc"
	[ "$(cat "$tmp/out")" = "$version_line" ] || fail "sockit $v differs from sockit version"
done
ok "--version and -V match"

# The backend shown is the one a loop really gets, so SOCKIT_BACKEND shows.
for be in epoll poll; do
	rc=0
	SOCKIT_BACKEND=$be timeout 10 "$BIN" version >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "SOCKIT_BACKEND=$be sockit version exits $rc"
	grep -q "backend: $be," "$tmp/out" || fail "SOCKIT_BACKEND=$be not reflected"
done
rc=0
SOCKIT_BACKEND=nosuch timeout 10 "$BIN" version >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "an unavailable backend should exit 1 (runtime error), got $rc"
grep -q "backend: none" "$tmp/out" || fail "an unavailable backend should show 'backend: none'"
ok "version follows SOCKIT_BACKEND; an unknown backend is a runtime error (1)"

# Usage errors: exit 2, a message on stderr, nothing on stdout.
run nosuch-command
[ "$rc" -eq 2 ] || fail "unknown command exits $rc, want 2"
grep -qx "sockit: unknown command 'nosuch-command' (see sockit --help)" "$tmp/err" ||
	fail "unknown command: wrong message"
[ ! -s "$tmp/out" ] || fail "unknown command wrote to stdout"
ok "unknown command: exit 2 with a clear message"

run
[ "$rc" -eq 2 ] || fail "no command exits $rc, want 2"
grep -q '^usage: sockit' "$tmp/err" || fail "no command: usage not on stderr"
run --no-such-option
[ "$rc" -eq 2 ] || fail "unknown option exits $rc, want 2"
run version extra
[ "$rc" -eq 2 ] || fail "'version extra' exits $rc, want 2"
run help nosuch-command
[ "$rc" -eq 2 ] || fail "'help nosuch-command' exits $rc, want 2"
ok "no command, unknown option, stray argument: exit 2"

run -v -q -v version
[ "$rc" -eq 0 ] || fail "-v/-q before the command exits $rc"
ok "global -v/-q options are accepted"

echo "$passed passed, 0 failed"
