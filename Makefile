# cdl — two commands do everything on a fresh Debian 12 machine:
#   make demo   installs missing packages, builds, runs the walkthrough
#   make test   installs missing packages, builds, runs every test
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
CTEST_ARGS ?=
CMAKE_ARGS ?=
# ccache hits across clones (CI builds a fresh clone in another folder).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps configure build test demo bench asan tsan fuzz clean

all: build

deps:
	@bash deploy/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j$(JOBS) $(CTEST_ARGS)

demo: build
	bash deploy/demo.sh $(BUILD_DIR)

bench: build
	bash bench/run.sh $(BUILD_DIR)

# Every test under AddressSanitizer + UndefinedBehaviorSanitizer, in its own
# build folder (sanitizer options and LeakSanitizer suppressions for the
# uninstrumented Debian libraries: tests/sanitizers/). -O1 -g1 (line tables
# for the reports' stack traces) compiles in half the time of -O2 -g, which
# made this build alone ~28 of CI's minutes on 2 cores.
ASAN_DIR ?= build-asan
asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
	  -DCDL_SANITIZE=address,undefined -DCDL_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(ASAN_DIR) -j$(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS="$$(cat $(CURDIR)/tests/sanitizers/asan.options)" \
	  LSAN_OPTIONS="suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0" \
	  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
	  ctest --output-on-failure --timeout 1800 -j$(JOBS) $(ASAN_CTEST_ARGS)

# The threaded parts (node, transport, BFT node, mempool, storage, HTTP
# gateway) under ThreadSanitizer, with clang in its own build folder. Not in
# CI: Debian's gRPC, Abseil and RocksDB are not instrumented, so this needs the
# absl::Mutex annotations and suppressions of tests/sanitizers/ (README.md).
TSAN_DIR ?= build-tsan
TSAN_TARGETS ?= net_test watch_test node_fault_test peer_transport_test rate_limiter_test storage_test storage_lock_holder ledger_test http_test http_pact_test
# Tests are named <binary>.<Suite>.<Test> in this build (root CMakeLists.txt).
TSAN_TESTS ?= ^(net_test|watch_test|node_fault_test|peer_transport_test|rate_limiter_test|storage_test|http_test|http_pact_test)\.|^ledger_test\.Mempool
tsan: deps
	CC=clang CXX=clang++ cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDL_SANITIZE=thread -DCDL_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(TSAN_DIR) -j$(JOBS) --target $(TSAN_TARGETS)
	cd $(TSAN_DIR) && TSAN_OPTIONS="$$(cat $(CURDIR)/tests/sanitizers/tsan.options):suppressions=$(CURDIR)/tests/sanitizers/tsan.supp" \
	  ctest --output-on-failure --timeout 1800 -j$(JOBS) -R '$(TSAN_TESTS)' $(TSAN_CTEST_ARGS)

# libFuzzer targets (tests/fuzz/README.md): a clang build with only what they
# link, then each target for FUZZ_SECONDS on its seed corpus (read only); fails
# on any crash and prints executions per target.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
fuzz: deps
	@command -v clang++ >/dev/null || { echo "make fuzz: needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDL_FUZZ=ON -DCDL_BUILD_TESTS=OFF $(CMAKE_ARGS)
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz_all
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_DIR)

clean:
	rm -rf $(BUILD_DIR)
