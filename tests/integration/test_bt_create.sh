#!/usr/bin/env bash
# tests/integration/test_bt_create.sh - `sockit bt create` and `sockit bt
# info` against mktorrent (Debian package mktorrent, see scripts/deps.sh)
# and against an independent reading of the torrents in Python.
#
# For the same data and piece size, our info dict must be byte for byte
# mktorrent's (same info-hash, same pieces); our parser must read
# mktorrent's torrents; Python recomputes the piece hashes with hashlib and
# checks the bencode is canonical.  Then the options and the error exits.
# Run by ctest with SK_BIN=path/to/sockit.
set -euo pipefail
BIN=${SK_BIN:?SK_BIN must point at the sockit binary}
command -v mktorrent >/dev/null ||
	{ echo "FAIL - mktorrent is not installed (scripts/deps.sh test)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL - python3 is needed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
	echo "FAIL - $*" >&2
	for f in "$tmp"/out "$tmp"/err; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; head -c 4000 "$f"; } >&2
	done
	echo "$passed passed, 1 failed"
	exit 1
}

# run ARGS... : sets rc; output in $tmp/out, $tmp/err.  Bounded in time.
run() {
	rc=0
	timeout 60 "$BIN" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

# A bencode reader that keeps the exact bytes of "info" and insists on
# canonical form; prints what the checks below compare.
cat >"$tmp/bt.py" <<'EOF'
import hashlib, os, sys

def dec(b, i):
    c = b[i:i + 1]
    if c == b'i':
        j = b.index(b'e', i)
        s = b[i + 1:j]
        assert s == b'0' or (s[:1] != b'0' and s[:2] != b'-0' and s != b'-'), s
        return int(s), j + 1
    if c == b'l':
        i += 1
        out = []
        while b[i:i + 1] != b'e':
            v, i = dec(b, i)
            out.append(v)
        return out, i + 1
    if c == b'd':
        i += 1
        out = {}
        prev = None
        while b[i:i + 1] != b'e':
            k, i = dec(b, i)
            assert isinstance(k, bytes) and (prev is None or prev < k), k
            prev = k
            start = i
            v, i = dec(b, i)
            out[k] = v
            if k == b'info':
                out[b'__info_raw'] = b[start:i]
        return out, i + 1
    j = b.index(b':', i)
    assert b[i:i + 1] != b'0' or j == i + 1
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n

def load(path):
    b = open(path, 'rb').read()
    t, end = dec(b, 0)
    assert end == len(b), 'trailing bytes'
    return t

def stream_files(t, root):
    info = t[b'info']
    if b'files' in info:
        return [os.path.join(root, *[p.decode() for p in f[b'path']])
                for f in info[b'files']]
    return [root]

cmd = sys.argv[1]
t = load(sys.argv[2])
info = t[b'info']
if cmd == 'infohash':
    print(hashlib.sha1(t[b'__info_raw']).hexdigest())
elif cmd == 'inforaw':
    sys.stdout.buffer.write(t[b'__info_raw'])
elif cmd == 'field':          # a top-level or info field, printed
    key = sys.argv[3].encode()
    v = info.get(key, t.get(key))
    print(v.decode() if isinstance(v, bytes) else v)
elif cmd == 'trackers':
    print(t[b'announce'].decode())
    for tier in t.get(b'announce-list', []):
        print(' '.join(u.decode() for u in tier))
elif cmd == 'verify':         # recompute every piece from the data
    plen = info[b'piece length']
    data = b''.join(open(f, 'rb').read() for f in stream_files(t, sys.argv[3]))
    pieces = info[b'pieces']
    assert len(pieces) == 20 * ((len(data) + plen - 1) // plen)
    for k in range(0, len(data), plen):
        assert hashlib.sha1(data[k:k + plen]).digest() == pieces[k // plen * 20:][:20], k
    print('verified', len(data) // plen + (len(data) % plen > 0), 'pieces')
EOF
bt() { python3 "$tmp/bt.py" "$@"; }

# ---- test data ------------------------------------------------------------------
mkdir -p "$tmp/data/d/a" "$tmp/data/d/.hidden" "$tmp/data/d/sub dir/deep"
cd "$tmp/data"
head -c $((3 * 1048576 + 123)) /dev/urandom >single.bin
head -c 40000 /dev/urandom >d/a.txt           # "a.txt" sorts before "a/b"
head -c 70001 /dev/urandom >d/a/b
head -c 5 /dev/urandom >d/.hidden/h
: >d/empty
head -c 100000 /dev/urandom >"d/sub dir/deep/f ü.bin"
head -c 32768 /dev/urandom >"d/sub dir/exact"
ln -s a.txt d/link                               # followed, as mktorrent does

# ---- same bytes as mktorrent ------------------------------------------------------
for target in single.bin d; do
	for exp in 15 18; do
		ps=$((1 << exp))
		rm -f mk.torrent ours.torrent
		mktorrent -d -l $exp -a http://t.example/announce -o mk.torrent "$target" \
			>/dev/null || fail "mktorrent on $target"
		run bt create "$target" -t http://t.example/announce -l $ps -o ours.torrent
		[ "$rc" -eq 0 ] || fail "bt create $target -l $ps exits $rc"
		cmp -s <(bt inforaw mk.torrent) <(bt inforaw ours.torrent) ||
			fail "$target, piece size $ps: info differs from mktorrent's"
		want=$(bt infohash mk.torrent)
		grep -q "info-hash $want" "$tmp/err" ||
			fail "$target, $ps: create did not report info-hash $want"
		bt verify ours.torrent "$target" >/dev/null ||
			fail "$target, $ps: python does not verify our pieces"
		# our reader on mktorrent's torrent agrees with python
		run bt info mk.torrent
		[ "$rc" -eq 0 ] || fail "bt info on mktorrent's $target exits $rc"
		grep -qx "info-hash:     $want" "$tmp/out" || fail "bt info: wrong info-hash"
		grep -qx "piece size:    $ps bytes.*" "$tmp/out" || fail "bt info: piece size"
		ok "$target, piece size $ps: same info-hash as mktorrent ($want)"
	done
done

# bt info on mktorrent's multi-file torrent: names, sizes, order, trackers
rm -f mk.torrent
mktorrent -d -p -l 15 -a http://a.example/ann,http://b.example/ann -a udp://c.example:6969 \
	-c "a comment" -o mk.torrent d >/dev/null
run bt info mk.torrent
[ "$rc" -eq 0 ] || fail "bt info mk.torrent exits $rc"
cat >"$tmp/want" <<EOF
name:          d
info-hash:     $(bt infohash mk.torrent)
size:          282774 bytes (276.1 KiB)
piece size:    32768 bytes (32.0 KiB)
pieces:        9
private:       yes
created by:    mktorrent 1.1
comment:       a comment
trackers:
  tier 1    http://a.example/ann
             http://b.example/ann
  tier 2    udp://c.example:6969
files:         7
               5  .hidden/h
           40000  a.txt
           70001  a/b
               0  empty
           40000  link
          100000  sub dir/deep/f ü.bin
           32768  sub dir/exact
EOF
diff -u "$tmp/want" "$tmp/out" >&2 || fail "bt info output differs"
ok "bt info reads mktorrent's multi-file torrent (tiers, private, comment)"

# ---- our own torrents, read by python ------------------------------------------------
run bt create d -t http://a.example/ann,http://b.example/ann -t udp://c.example:6969 \
	--private --source SRC -c "hi there" -n renamed -o full.torrent
[ "$rc" -eq 0 ] || fail "bt create with every option exits $rc"
[ "$(bt field full.torrent name)" = renamed ] || fail "--name not used"
[ "$(bt field full.torrent private)" = 1 ] || fail "--private not set"
[ "$(bt field full.torrent source)" = SRC ] || fail "--source not set"
[ "$(bt field full.torrent comment)" = "hi there" ] || fail "--comment not set"
[ "$(bt field full.torrent 'created by')" = "sockit 0.1.0" ] || fail "created by"
date=$(bt field full.torrent 'creation date')
[ "$date" -gt 1600000000 ] || fail "no creation date"
printf 'http://a.example/ann\nhttp://a.example/ann http://b.example/ann\nudp://c.example:6969\n' \
	>"$tmp/want"
bt trackers full.torrent | diff -u "$tmp/want" - >&2 || fail "trackers differ"
bt verify full.torrent d >/dev/null || fail "python does not verify full.torrent"
[ "$(bt field full.torrent 'piece length')" = 32768 ] || fail "default piece size"
ok "options: tiers, --private, --source, --comment, --name; python verifies"

# default piece size: a power of two, 32 KiB..16 MiB, at most 2048 pieces
head -c $((200 * 1048576)) /dev/zero >big.bin
run bt create big.bin -t http://t/a -d -o big.torrent
[ "$rc" -eq 0 ] || fail "bt create big.bin exits $rc"
[ "$(bt field big.torrent 'piece length')" = 131072 ] ||
	fail "200 MiB should get 128 KiB pieces (1600 of them)"
mktorrent -d -l 17 -a http://t/a -o big-mk.torrent big.bin >/dev/null
[ "$(bt infohash big.torrent)" = "$(bt infohash big-mk.torrent)" ] || fail "big.bin differs"
# the number of threads does not change the result; -o - is stdout
"$BIN" bt create big.bin -t http://t/a -d -j 1 -o - 2>/dev/null >one.torrent
cmp -s one.torrent big.torrent || fail "-j 1 -o - gives a different torrent"
rm -f big.bin
ok "default piece size 128 KiB for 200 MiB; -j 1 and -o - give identical bytes"

# the name is PATH's last component as given (a link keeps its name); a
# pipe works both ways
ln -s single.bin alias.bin
"$BIN" bt create alias.bin -t http://t/a -o - 2>/dev/null | "$BIN" bt info - >"$tmp/out"
grep -qx "name:          alias.bin" "$tmp/out" || fail "link name not kept"
(cd d && "$BIN" bt create ./ -t http://t/a -o - 2>/dev/null) | "$BIN" bt info - >"$tmp/out"
grep -qx "name:          d" "$tmp/out" || fail "'./' should be named after the directory"
ok "names from PATH as given; bt info - reads stdin"

# ---- errors and exit codes ---------------------------------------------------------
run bt create d -o x.torrent
[ "$rc" -eq 2 ] || fail "no tracker: exit $rc, want 2"
run bt create d -t ftp://x/ -o x.torrent
[ "$rc" -eq 2 ] || fail "bad tracker URL: exit $rc, want 2"
run bt create d -t http://t/a -l 1000 -o x.torrent
[ "$rc" -eq 2 ] || fail "bad piece size: exit $rc, want 2"
run bt create d -t http://t/a --bogus
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc, want 2"
run bt create -t http://t/a
[ "$rc" -eq 2 ] || fail "no path: exit $rc, want 2"
run bt create nonexistent -t http://t/a
[ "$rc" -eq 1 ] || fail "missing path: exit $rc, want 1"
mkdir emptydir
run bt create emptydir -t http://t/a -o x.torrent
[ "$rc" -eq 1 ] || fail "empty directory: exit $rc, want 1"
run bt create d -t http://t/a -o full.torrent
[ "$rc" -eq 1 ] || fail "existing output: exit $rc, want 1"
grep -q -- --force "$tmp/err" || fail "no hint about --force"
run bt create d -t http://t/a -o full.torrent -f -d
[ "$rc" -eq 0 ] || fail "--force: exit $rc"
[ -z "$(bt field full.torrent 'creation date' | grep -v None)" ] || fail "--no-date"
run bt create d -t http://t/a
[ "$rc" -eq 0 ] && [ -s d.torrent ] || fail "default output name d.torrent"
ok "create: usage errors exit 2, runtime errors exit 1, --force, default name"

printf 'd4:infod6:lengthi1e4:name2:..12:piece lengthi1e6:pieces20:%020dee' 0 >evil.torrent
run bt info evil.torrent
[ "$rc" -eq 1 ] && grep -q "unsafe" "$tmp/err" || fail "bt info accepted name '..'"
echo "not bencode" >junk.torrent
run bt info junk.torrent
[ "$rc" -eq 1 ] && grep -q "bad bencode at byte 0" "$tmp/err" || fail "junk"
run bt info
[ "$rc" -eq 2 ] || fail "bt info without a file: exit $rc"
run bt info nonexistent.torrent
[ "$rc" -eq 1 ] || fail "bt info on a missing file: exit $rc"
run bt
[ "$rc" -eq 2 ] || fail "bt without a command: exit $rc"
run bt frobnicate
[ "$rc" -eq 2 ] || fail "bt with an unknown command: exit $rc"
for h in "bt --help" "bt help" "bt create --help" "bt info -h" "bt help create" "help bt"; do
	# shellcheck disable=SC2086
	run $h
	[ "$rc" -eq 0 ] && [ -s "$tmp/out" ] || fail "sockit $h: exit $rc or no output"
done
ok "info rejects unsafe and malformed torrents; bt exit codes and --help"

echo "$passed passed, 0 failed"
