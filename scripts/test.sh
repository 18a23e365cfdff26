#!/usr/bin/env bash
# scripts/test.sh - the whole test suite; `make test` and CI run this.
#
# Steps, in order, stopping at the first failure:
#   gcc    gcc Debug build at -O2 (asserts on, and gcc's flow analysis sees
#          what a Release build's -Wmaybe-uninitialized sees) with -Werror
#          in build/gcc, then ctest
#   clang  clang RelWithDebInfo build with -Werror in build/clang, then ctest
#   asan   clang ASan+UBSan build (-DSK_SANITIZE=ON) in build/asan, then ctest
#   fuzz   clang libFuzzer build (-DSK_FUZZ=ON) in build/fuzz, then every
#          fuzz target for FUZZ_SECS seconds on a scratch copy of its corpus
#
# env: STEPS="gcc clang asan fuzz"  JOBS=2  FUZZ_SECS=20  BUILD_ROOT=build
#      CTEST_ARGS="-R epoll/"  extra ctest arguments (a local subset; CI
#      passes none)
#
# The last line is always "N passed, M failed": N and M count ctest tests
# plus fuzz runs (a build that fails counts as one failure).  The exit code
# is 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

STEPS=${STEPS:-"gcc clang asan fuzz"}
JOBS=${JOBS:-2}
FUZZ_SECS=${FUZZ_SECS:-20}
BUILD_ROOT=${BUILD_ROOT:-build}
# shellcheck disable=SC2206
CTEST_EXTRA=(${CTEST_ARGS:-})

passed=0
failed=0
t_start=$SECONDS

# Abort-on-error sanitizers must not leave core files in the tree.
ulimit -c 0

finish() {
	echo
	echo "== total $((SECONDS - t_start)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

fail_step() {
	echo "test.sh: $*" >&2
	failed=$((failed + 1))
	finish
}

# build DIR NAME CMAKE-ARGS...
build() {
	local dir=$1 name=$2
	shift 2
	echo "== $name: configure and build in $dir"
	cmake -S . -B "$dir" --log-level=WARNING "$@" || fail_step "$name: cmake configure failed"
	cmake --build "$dir" -j"$JOBS" || fail_step "$name: build failed"
}

# run_ctest DIR NAME [ENV=VALUE...]
run_ctest() {
	local dir=$1 name=$2
	shift 2
	local log=$dir/ctest.log t0=$SECONDS rc
	echo "== $name: ctest"
	env "$@" ctest --test-dir "$dir" --output-on-failure --no-tests=error \
		-j"$JOBS" "${CTEST_EXTRA[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# "95% tests passed, 2 tests failed out of 40"
	local line nfail ntotal
	line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
	if [ -n "$line" ]; then
		nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		ntotal=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
		passed=$((passed + ntotal - nfail))
		failed=$((failed + nfail))
	elif [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
	fi
	echo "== $name: ctest done in $((SECONDS - t0)) s (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		echo "test.sh: $name: ctest failed (log: $log)" >&2
		[ "$failed" -gt 0 ] || failed=1
		finish
	fi
}

# The corpus dir and dictionary of fuzz_NAME may be spelt fuzz_NAME or NAME.
first_existing() {
	local p
	for p in "$@"; do
		[ -e "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

run_fuzz() {
	local dir=$1 bin name short corpus dict work log rc
	local -a bins=()
	mapfile -t bins < <(find "$dir" -maxdepth 2 -type f -name 'fuzz_*' -perm -u+x | sort)
	if [ ${#bins[@]} -eq 0 ]; then
		echo "== fuzz: no fuzz targets built (fuzz/fuzz_*.c)"
		return
	fi
	mkdir -p "$dir/artifacts" "$dir/work"
	for bin in "${bins[@]}"; do
		name=$(basename "$bin")
		short=${name#fuzz_}
		work=$dir/work/$name
		log=$dir/work/$name.log
		rm -rf "$work"
		mkdir -p "$work"
		# New inputs go to the scratch copy, never into the repository.
		corpus=$(first_existing "fuzz/corpus/$name" "fuzz/corpus/$short") &&
			cp -R "$corpus"/. "$work"/
		local -a extra=()
		dict=$(first_existing "fuzz/$name.dict" "fuzz/$short.dict") &&
			extra+=("-dict=$dict")
		echo "== fuzz: $name for ${FUZZ_SECS}s (corpus: ${corpus:-none}, $(find "$work" -type f | wc -l) inputs${dict:+, dict: $dict})"
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			timeout -k 10 $((FUZZ_SECS + 120)) "$bin" \
			-max_total_time="$FUZZ_SECS" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" \
			"${extra[@]}" "$work" >"$log" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ]; then
			tail -n 60 "$log"
			fail_step "fuzz: $name failed (exit $rc; log $log, inputs in $dir/artifacts/)"
		fi
		passed=$((passed + 1))
		echo "   ok: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs," \
			"$(grep -E '^stat::peak_rss_mb' "$log" | awk '{print $2}') MB peak RSS"
	done
}

SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

for step in $STEPS; do
	case $step in
	gcc)
		build "$BUILD_ROOT/gcc" gcc -DCMAKE_C_COMPILER=gcc \
			-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-g -O2" -DSK_WERROR=ON
		run_ctest "$BUILD_ROOT/gcc" gcc
		;;
	clang)
		build "$BUILD_ROOT/clang" clang -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_WERROR=ON
		run_ctest "$BUILD_ROOT/clang" clang
		;;
	asan)
		build "$BUILD_ROOT/asan" asan -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=Debug -DSK_WERROR=ON -DSK_SANITIZE=ON
		run_ctest "$BUILD_ROOT/asan" asan "${SAN_ENV[@]}"
		;;
	fuzz)
		# The library itself is compiled with coverage instrumentation
		# (fuzzer-no-link) so that libFuzzer sees into it, not only into
		# the harness; tests are not needed in this tree.
		build "$BUILD_ROOT/fuzz" fuzz -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_FUZZ=ON -DSK_TESTS=OFF -DSK_WERROR=ON \
			"-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
		run_fuzz "$BUILD_ROOT/fuzz"
		;;
	*)
		fail_step "unknown step '$step' (steps: gcc clang asan fuzz)"
		;;
	esac
done
finish
