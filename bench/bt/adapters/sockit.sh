# sockit bt (this repo) as a client of the shared swarm yardstick
# (../shared/bench/bt/swarm.sh); bench/bt/run.sh plugs it in.
# sockit has no DHT, LSD, PEX, UPnP or NAT-PMP at all, so nothing to turn
# off.  --listen IP:PORT also binds the outgoing peer and tracker sockets to
# IP; files are sparse by default.  Completion: --on-complete writes
# WORKDIR/DONE the way hook_done.sh does.  The seeder announces at start and
# on its normal interval; sockit leechers dial the peers the tracker lists,
# so no kick is needed.
# Env: SOCKIT_BIN (set by run.sh; default: sockit on PATH),
#      BT_SOCKIT_ARGS (extra options, e.g. "--upload-slots 8").
sockit_bin() {
    echo "${SOCKIT_BIN:-sockit}"
}
sockit_start() {
    local role=$1 ip=$2 port=$3 torrent=$4 dd=$5 wd=$6 cmd=get
    [ "$role" = seed ] && cmd=seed
    launch "$wd" "$(sockit_bin)" bt "$cmd" "$torrent" -d "$dd" \
        --listen "$ip:$port" --no-progress \
        --on-complete "date +%s.%N >'$wd/DONE.tmp' && mv '$wd/DONE.tmp' '$wd/DONE'" \
        ${BT_SOCKIT_ARGS:-}
    # The seeder may still be checking its data (a dead process is the
    # failure).  Leechers are not waited for, as with the other adapters:
    # the clock runs while they start one after another.
    [ "$role" = seed ] || return 0
    wait_listen "$ip" "$port" 15 || kill -0 "$(cat "$wd/pid")" 2>/dev/null
}
sockit_version() { "$(sockit_bin)" --version 2>&1 | head -1; }
