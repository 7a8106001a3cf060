# runlet: thin wrapper over CMake and the project's scripts.
#   make run    install what is missing, build, judge examples/sum.json natively
#   make test   install test deps, build (plain and ASan/UBSan), start the
#               services the tests need, run every test with CTest
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all build asan run test test-plain test-asan deps deps-test clean

all: build

deps:
	@bash scripts/setup.sh build

deps-test:
	@bash scripts/setup.sh test

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DRUNLET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)

run: deps-test build
	@echo "runlet: judging examples/sum.json on the native backend" >&2
	./$(BUILD)/runlet run --config config.yaml --backend native --pretty examples/sum.json

test: deps-test build asan
	@bash scripts/test-services.sh start
	@rc=0; \
	(cd $(BUILD) && ctest --output-on-failure --timeout 900 -j2) || rc=1; \
	(cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --timeout 900 -j2 -LE no-asan) || rc=1; \
	bash scripts/test-services.sh stop || true; \
	exit $$rc

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

-include mk/*.mk
