# Benchmarks (bench/README.md):
#   make bench                 build, then run every benchmark and write
#                              bench/results/<date>.md/.png/.json
#   make bench BENCH_QUICK=1   the short run
# The docker benchmark uses the images of `make images` (made or checked
# first, ~2 s when they are up to date) and says it skipped when they cannot
# be made; throughput and memory start the test RabbitMQ.
.PHONY: bench

bench: deps-test build
	@RUNLET=$(BUILD)/runlet bash scripts/images.sh || echo "bench: the docker images could not be made (scripts/images.sh): the docker benchmark will say it skipped" >&2
	@BUILD=$(BUILD) bash bench/run.sh
