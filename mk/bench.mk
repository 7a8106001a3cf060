# Benchmarks (bench/README.md):
#   make bench                 build, then run every benchmark and write
#                              bench/results/<date>.md/.png/.json
#   make bench BENCH_QUICK=1   the short run
# The docker benchmark uses the images of `make images` when they exist and
# says it skipped otherwise; throughput and memory start the test RabbitMQ.
.PHONY: bench

bench: deps-test build
	@BUILD=$(BUILD) bash bench/run.sh
