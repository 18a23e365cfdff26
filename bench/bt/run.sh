#!/usr/bin/env bash
# bench/bt/run.sh - run the shared BitTorrent swarm yardstick
# (../shared/bench/bt/swarm.sh) with sockit as one more client.
#
# usage: bench/bt/run.sh [swarm.sh options]   e.g.
#        bench/bt/run.sh -s sockit -l sockit -S 1G -r 3 -o results/bt.tsv
#        bench/bt/run.sh -s libtorrent -n 4 -S 256M
# env:   BUILD_DIR=build-btbench   Release tree holding ./sockit
#        SOCKIT_BIN=$BUILD_DIR/sockit
#        BT_YARDSTICK=../shared/bench/bt   (beside the repo)
#        plus every BT_* variable swarm.sh reads.
#
# swarm.sh sources only $BT_DIR/adapters/*.sh, where BT_DIR is its own
# directory.  So this builds a throw-away directory of symlinks to the shared
# files (nothing is copied, nothing is written into the shared tree), adds
# adapters/sockit.sh from here, and runs swarm.sh through that directory.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build-btbench}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
export SOCKIT_BIN=${SOCKIT_BIN:-$BUILD_DIR/sockit}
BT_YARDSTICK=${BT_YARDSTICK:-$ROOT/../shared/bench/bt}
[ -f "$BT_YARDSTICK/swarm.sh" ] || {
	echo "bench/bt/run.sh: no yardstick at $BT_YARDSTICK" >&2; exit 1; }
[ -x "$SOCKIT_BIN" ] || {
	echo "bench/bt/run.sh: no $SOCKIT_BIN; build it: cmake -S . -B build-btbench" \
	     "-DCMAKE_BUILD_TYPE=Release && cmake --build build-btbench --target sockit_bin" >&2
	exit 1; }
YS=$(cd "$BT_YARDSTICK" && pwd)

T=$(mktemp -d "${TMPDIR:-/tmp}/sockit-bt-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/adapters"
for f in "$YS"/*; do [ -f "$f" ] && ln -s "$f" "$T/"; done
for f in "$YS"/adapters/*.sh; do ln -s "$f" "$T/adapters/"; done
ln -s "$HERE/adapters/sockit.sh" "$T/adapters/sockit.sh"
# not exec: the trap removes the symlink directory afterwards
bash "$T/swarm.sh" "$@"
