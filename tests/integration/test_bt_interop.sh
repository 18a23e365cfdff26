#!/usr/bin/env bash
# tests/integration/test_bt_interop.sh - sockit against real BitTorrent
# clients from Debian packages, both directions, through the built-in
# tracker on loopback:
#
#   aria2c                     (package aria2)
#   libtorrent-rasterbar 2.0   (package python3-libtorrent, a small
#                               session script below)
#   transmission-daemon 3.00   (packages transmission-daemon,
#                               transmission-cli)
#
# For each: the client seeds and sockit downloads, then sockit seeds and
# the client downloads; every copy is compared byte for byte.  DHT, local
# peer discovery, peer exchange, UPnP and NAT-PMP are off in every client
# (loopback only).  Transmission never dials 127.0.0.0/8 peers, it only
# accepts them, so with it sockit always makes the connection: as a
# leecher it dials the seeder the tracker names, as a seeder it hears of
# the leecher at its next announce (the tracker's interval is 2 s here).
# Transmission also announces from 127.0.0.1, whatever it listens on, so
# it listens there.  A client that is not installed is skipped.
# Run by ctest with SK_BIN=path/to/sockit.
set -euo pipefail
BIN=${SK_BIN:?SK_BIN must point at the sockit binary}
tmp=$(mktemp -d /tmp/sk-bt-interop.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
PY=/usr/bin/python3

ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
	echo "FAIL - $*" >&2
	for f in "$tmp"/*.err "$tmp"/*.log; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; tail -n 12 "$f"; } >&2
	done
	echo "$passed passed, 1 failed"
	exit 1
}

# bg NAME CMD... : run in the background (bounded), output in NAME.err
bg() {
	local name=$1; shift
	# --foreground: a TERM to timeout reaches the program once (without it
	# timeout also signals its process group: a second TERM, which makes
	# sockit quit at once instead of stopping cleanly with exit 0)
	timeout --foreground 90 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=("$!")
	eval "pid_$name=$!"
}
halt() {
	local pid
	eval "pid=\${pid_$1:-}"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
# halt_ok NAME: a sockit process stops on SIGTERM with exit 0 (complete)
halt_ok() {
	local pid rc=0
	eval "pid=\$pid_$1"
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "$1 exited with $rc"
}
wait_log() {
	for ((i = 0; i < $3 * 20; i++)); do
		grep -Eq "$2" "$tmp/$1.err" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "$1: no '$2' within $3 s"
}
# wait_same FILE COPY SECONDS: until the copy equals the file
wait_same() {
	for ((i = 0; i < $3 * 10; i++)); do
		cmp -s "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no identical copy at $2 within $3 s"
}
# a free TCP port on 127.0.0.1 (for clients that need a fixed one)
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_seeders TORRENT N SECONDS: the tracker counts N seeders
wait_seeders() {
	local ih
	ih=$("$BIN" bt info "$1" | sed -nE 's/^info-hash: *([0-9a-f]+).*/\1/p')
	for ((i = 0; i < $3 * 10; i++)); do
		$PY - "$HTTP" "$ih" "$2" <<'EOF' && return 0
import sys, urllib.request, re
url, ih, n = sys.argv[1].replace("announce", "scrape"), bytes.fromhex(sys.argv[2]), int(sys.argv[3])
q = "".join("%%%02X" % b for b in ih)
body = urllib.request.urlopen(url + "?info_hash=" + q, timeout=2).read()
m = re.search(rb"8:completei(\d+)e", body)
sys.exit(0 if m and int(m.group(1)) >= n else 1)
EOF
		sleep 0.1
	done
	fail "tracker: no $2 seeder(s) within $3 s"
}

"$BIN" bt tracker --listen 127.0.0.1:0 --interval 2 >"$tmp/tracker.out" 2>"$tmp/tracker.err" &
pids+=("$!")
for ((i = 0; i < 100; i++)); do [ -s "$tmp/tracker.out" ] && break; sleep 0.05; done
HTTP=$(sed -n 1p "$tmp/tracker.out")
[ -n "$HTTP" ] || fail "no tracker"

mkdir -p "$tmp/src"
head -c $((2 * 1024 * 1024 + 4321)) /dev/urandom >"$tmp/src/payload.bin"
sk=(--progress-interval 5 --max-peers 10)
# one torrent per client (a different source, so a different info-hash):
# peers of one part never linger in the tracker's lists for the next
torrent_for() {
	"$BIN" bt create -f "$tmp/src/payload.bin" -t "$HTTP" -o "$tmp/t.torrent" \
		--piece-size 65536 --source "$1" >/dev/null 2>&1 || fail "bt create"
}

sockit_get() { # NAME IP : download into $tmp/NAME
	bg "$1" "$BIN" bt get "$tmp/t.torrent" -d "$tmp/$1" --listen "$2:0" "${sk[@]}"
	wait_log "$1" 'download complete' 40
	cmp -s "$tmp/src/payload.bin" "$tmp/$1/payload.bin" || fail "$1: copy differs"
	halt_ok "$1"
}
sockit_seed() { # NAME IP
	bg "$1" "$BIN" bt seed "$tmp/t.torrent" -d "$tmp/src" --listen "$2:0" "${sk[@]}"
	wait_log "$1" 'listening on' 10
}

# ---- aria2 -------------------------------------------------------------------------------
if command -v aria2c >/dev/null; then
	torrent_for aria2
	aria=(--no-conf=true --enable-dht=false --enable-dht6=false
	      --bt-enable-lpd=false --enable-peer-exchange=false --disable-ipv6=true
	      --bt-require-crypto=false --bt-min-crypto-level=plain --file-allocation=none --allow-overwrite=true
	      --auto-save-interval=0 --summary-interval=0 --console-log-level=warn
	      --bt-tracker-interval=2)
	bg aseed aria2c "${aria[@]}" --interface=127.0.0.20 --listen-port="$(free_port)" \
		--check-integrity=true --seed-time=2 --seed-ratio=0.0 -d "$tmp/src" "$tmp/t.torrent"
	wait_seeders "$tmp/t.torrent" 1 20
	sockit_get from_aria2 127.0.0.21
	halt aseed
	ok "aria2c seeds, sockit downloads"
	sockit_seed sseed 127.0.0.22
	bg aget aria2c "${aria[@]}" --interface=127.0.0.23 --listen-port="$(free_port)" \
		--seed-time=0 -d "$tmp/aria2_copy" "$tmp/t.torrent"
	wait_same "$tmp/src/payload.bin" "$tmp/aria2_copy/payload.bin" 40
	halt aget
	halt_ok sseed
	ok "sockit seeds, aria2c downloads"
else
	ok "# SKIP aria2c (apt-get install aria2)"
fi

# ---- libtorrent ----------------------------------------------------------------------------
if $PY -c 'import libtorrent' 2>/dev/null; then
	torrent_for libtorrent
	cat >"$tmp/lt.py" <<'EOF'
import sys, time, libtorrent as lt
torrent, save, ip, seed = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "seed"
s = lt.session({
    "listen_interfaces": ip + ":0", "outgoing_interfaces": ip,
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
    "enable_natpmp": False, "dht_bootstrap_nodes": "",
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "allow_multiple_connections_per_ip": True,
})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.auto_managed
atp.flags &= ~lt.torrent_flags.paused
h = s.add_torrent(atp)
said = False
while True:
    st = h.status()
    if st.is_seeding and not said:
        print("SEEDING", flush=True)
        sys.stderr.write("SEEDING\n"); sys.stderr.flush()
        said = True
        h.force_reannounce()
    time.sleep(0.1)
EOF
	bg lseed "$PY" "$tmp/lt.py" "$tmp/t.torrent" "$tmp/src" 127.0.0.30 seed
	wait_log lseed SEEDING 20
	wait_seeders "$tmp/t.torrent" 1 20
	sockit_get from_lt 127.0.0.31
	halt lseed
	ok "libtorrent seeds, sockit downloads"
	sockit_seed sseed2 127.0.0.32
	bg lget "$PY" "$tmp/lt.py" "$tmp/t.torrent" "$tmp/lt_copy" 127.0.0.33 get
	wait_log lget SEEDING 40
	cmp -s "$tmp/src/payload.bin" "$tmp/lt_copy/payload.bin" || fail "libtorrent copy differs"
	halt lget
	halt_ok sseed2
	ok "sockit seeds, libtorrent downloads"
else
	ok "# SKIP libtorrent (apt-get install python3-libtorrent)"
fi

# ---- transmission -----------------------------------------------------------------------
tr_start() { # NAME DOWNLOAD_DIR
	local wd=$tmp/$1 port
	port=$(free_port)
	mkdir -p "$wd/cfg" "$wd/watch" "$2"
	cat >"$wd/cfg/settings.json" <<JSON
{
 "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
 "peer-port": $port, "peer-port-random-on-start": false,
 "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
 "port-forwarding-enabled": false, "utp-enabled": false,
 "blocklist-enabled": false, "encryption": 0, "rpc-enabled": false,
 "download-dir": "$2", "incomplete-dir-enabled": false,
 "rename-partial-files": false, "watch-dir-enabled": true,
 "watch-dir": "$wd/watch", "start-added-torrents": true,
 "preallocation": 0, "ratio-limit-enabled": false,
 "idle-seeding-limit-enabled": false, "download-queue-enabled": false,
 "seed-queue-enabled": false, "message-level": 2
}
JSON
	cp "$tmp/t.torrent" "$wd/watch/t.torrent"
	bg "$1" transmission-daemon -f -g "$wd/cfg" -e "$tmp/$1.log"
}
if command -v transmission-daemon >/dev/null; then
	torrent_for transmission
	tr_start tseed "$tmp/src"
	wait_seeders "$tmp/t.torrent" 1 30
	sockit_get from_tr 127.0.0.41
	halt tseed
	ok "transmission seeds, sockit downloads"
	sockit_seed sseed3 127.0.0.42
	tr_start tget "$tmp/tr_copy"
	wait_same "$tmp/src/payload.bin" "$tmp/tr_copy/payload.bin" 40
	halt tget
	halt_ok sseed3
	ok "sockit seeds, transmission downloads"
else
	ok "# SKIP transmission (apt-get install transmission-daemon)"
fi

echo "$passed passed, 0 failed"
