# sockit - the front door.  CMake does the building; this file only orders
# the steps so that two commands cover everything:
#
#   make run    install missing build deps, build, run `sockit ircd`
#   make test   install missing deps, then the whole test suite
#               (gcc -Werror, clang -Werror, clang ASan+UBSan, fuzz smoke)
#
# Other targets: make (= make build), make bench, make install PREFIX=...,
# make clean.  Variables: JOBS (parallel build/test jobs, default 2),
# BUILD (release build dir, default build), PREFIX (default /usr/local),
# FUZZ_SECS (seconds per fuzz target in `make test`, default 20),
# STEPS (subset of "gcc clang asan fuzz" for `make test`).

JOBS   ?= 2
BUILD  ?= build
PREFIX ?= /usr/local
CMAKE  ?= cmake

export JOBS
MAKEFLAGS += --no-print-directory

.NOTPARALLEL:
.PHONY: all deps build run test bench install clean

all: build

deps:
	@bash scripts/deps.sh

# Release build of the library, the sockit program, examples and bench.
build: deps
	@$(CMAKE) -S . -B $(BUILD) --log-level=WARNING -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX)
	@$(CMAKE) --build $(BUILD) -j$(JOBS)

run: build
	./$(BUILD)/sockit ircd

test: deps
	@bash scripts/test.sh

bench: build
	@BUILD_DIR=$(BUILD) bash bench/run.sh

# IRC server benchmark: sockit ircd against ngIRCd, InspIRCd and Ergo
# (bench/irc/bench.sh; irctest conformance: bench/irc/run-irctest.sh).
.PHONY: bench-irc
bench-irc: build
	@BUILD_DIR=$(BUILD) bash bench/irc/bench.sh

install: build
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build
