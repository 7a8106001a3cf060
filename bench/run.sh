#!/usr/bin/env bash
# runlet's benchmark driver (`make bench` runs it after building): builds the
# bench-floor stopwatch, runs every benchmark, writes
# bench/results/<YYYY-MM-DD>.md, .png and .json. One benchmark failing or
# skipping does not stop the others; the report says what happened to each.
#   BENCH_QUICK=1        short run (fewer rounds, 1 000 daemon jobs)
#   BENCH_ONLY="a b"     run only these (native_tests native_submission docker
#                        throughput compile memory wheretime)
#   BENCH_ROUNDS=N       rounds of the side-by-side benchmarks
#   BENCH_MEM_JOBS=N     daemon jobs of the memory benchmark
#   BUILD=dir            runlet's build directory (default build)
#   BENCH_DATE=YYYY-MM-DD  name of the results files (default today)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath -m "${BUILD:-build}")
PY=${PYTHON:-/usr/bin/python3}
DATE=${BENCH_DATE:-$(date +%F)}
ALL=(native_tests native_submission docker throughput compile memory wheretime)
read -r -a ONLY <<< "${BENCH_ONLY:-${ALL[*]}}"

log() { printf 'bench: %s\n' "$*" >&2; }

if ! [ -x "$BUILD/runlet" ] || ! [ -x "$BUILD/runlet-runner" ]; then
	log "$BUILD/runlet or $BUILD/runlet-runner missing: run \`make build\` (or \`make bench\`)"
	exit 1
fi
if ! [ -x "$PY" ]; then
	log "$PY missing (apt-get install python3)"
	exit 1
fi
mkdir -p "$BUILD/bench"
cc -std=c11 -O2 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-o "$BUILD/bench/bench-floor" bench/floor.c
raw=$BUILD/bench/raw/$DATE
rm -rf "$raw"
mkdir -p "$raw"
export RUNLET_BUILD=$BUILD BENCH_RAW=$raw BENCH_FLOOR=$BUILD/bench/bench-floor

t0=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for b in "${ONLY[@]}"; do
	if ! [ -f "bench/$b.py" ]; then
		log "unknown benchmark $b (one of: ${ALL[*]})"
		exit 2
	fi
	log "== $b"
	"$PY" "bench/$b.py" || log "$b failed; its record says why"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	dirty=true
fi
cat > "$raw/env.json" <<EOF
{"date": "$DATE", "commit": "$commit", "dirty": $dirty,
 "kernel": "$(uname -r)", "nproc": $(nproc),
 "load_before": "$load_before", "load_after": "$load_after",
 "quick": $([ "${BENCH_QUICK:-}" = 1 ] && echo true || echo false),
 "elapsed_s": $(( $(date +%s) - t0 )), "only": "${ONLY[*]}"}
EOF
"$PY" bench/report.py "$raw" bench/results "$DATE"
