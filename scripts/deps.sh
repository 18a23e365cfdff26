#!/usr/bin/env bash
# scripts/deps.sh - make sure the Debian packages sockit needs are installed.
#
# usage: scripts/deps.sh [--check] [build|test|bench|all]...   (default: all)
#
#   build  cmake make gcc pkg-config libssl-dev libc-ares-dev liburing-dev
#   test   clang libclang-rt-14-dev (libFuzzer + ASan/UBSan runtimes for
#          clang 14) iproute2 (ss) mktorrent (bt create tests) python3
#          ncat socat openssl (sockit cat's interop and TLS tests)
#          aria2 transmission-daemon transmission-cli python3-libtorrent
#          (sockit bt's interop tests)
#   bench  libuv1-dev libevent-dev python3 (the libuv/libevent yardstick)
#          ncat socat time (bench/cat_bench.sh)
#
# Prints nothing when everything is present.  Otherwise it names exactly
# the missing packages and, on Debian/Ubuntu, installs them with
# `apt-get install -y --no-install-recommends` (after one `apt-get update`),
# as root or through sudo.  --check only reports (exit 1 if anything is
# missing).  On other systems it prints what is needed and exits 1.
# The PKGS_* lists are read through ${!var}:
# shellcheck disable=SC2034
set -euo pipefail

# Where the clang 14 runtimes live on Debian 12:
#   dpkg -S libclang_rt.fuzzer-x86_64.a -> libclang-rt-14-dev
#   (/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/)
CLANG_RT=${CLANG_RT:-libclang-rt-14-dev}

PKGS_build="cmake make gcc pkg-config libssl-dev libc-ares-dev liburing-dev"
PKGS_test="clang $CLANG_RT iproute2 mktorrent python3 ncat socat openssl aria2 transmission-daemon transmission-cli python3-libtorrent"
PKGS_bench="libuv1-dev libevent-dev python3 ncat socat time"

check_only=0
groups=()
for a in "$@"; do
	case $a in
	--check) check_only=1 ;;
	build | test | bench) groups+=("$a") ;;
	all) groups+=(build test bench) ;;
	-h | --help)
		sed -n '2,15s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "deps.sh: unknown argument '$a' (see --help)" >&2
		exit 2
		;;
	esac
done
[ ${#groups[@]} -gt 0 ] || groups=(build test bench)

wanted=()
for g in "${groups[@]}"; do
	var="PKGS_$g"
	# shellcheck disable=SC2206
	wanted+=(${!var})
done

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: not a Debian/Ubuntu system; sockit needs the equivalents of:" >&2
	echo "  ${wanted[*]}" >&2
	exit 1
fi

missing=()
declare -A seen=()
for p in "${wanted[@]}"; do
	[ -z "${seen[$p]:-}" ] || continue
	seen[$p]=1
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: missing packages: ${missing[*]}" >&2
if [ "$check_only" = 1 ]; then
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	run=()
elif command -v sudo >/dev/null 2>&1; then
	run=(sudo)
else
	echo "deps.sh: not root and no sudo; install them with:" >&2
	echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: apt-get update && apt-get install ${missing[*]}" >&2
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Confirm: a package name that does not exist here would otherwise only
# surface later as a confusing build failure.
still=()
for p in "${missing[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || still+=("$p")
done
if [ ${#still[@]} -gt 0 ]; then
	echo "deps.sh: still missing after install: ${still[*]}" >&2
	exit 1
fi
