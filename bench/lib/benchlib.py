"""Shared helpers of runlet's benchmarks: paths and knobs from the
environment, statistics, the bench-floor stopwatch, runlet invocations, job
bodies, and the result record every benchmark writes.

Knobs (environment):
  BENCH_QUICK=1     fewer rounds, smaller counts (a short run)
  BENCH_ROUNDS=N    rounds of the side-by-side benchmarks
  RUNLET_BUILD=DIR  where runlet and runlet-runner are (default: build)
  BENCH_FLOOR=PATH  the bench-floor binary (default: $RUNLET_BUILD/bench/bench-floor)
  BENCH_RAW=DIR     where the benchmarks' JSON records go
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.path.join(SRC, os.environ.get("RUNLET_BUILD", "build")))
RUNLET = os.path.join(BUILD, "runlet")
FLOOR = os.environ.get("BENCH_FLOOR") or os.path.join(BUILD, "bench", "bench-floor")
RAW = os.environ.get("BENCH_RAW") or os.path.join(BUILD, "bench", "raw")
QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or (5 if QUICK else 9))
CONFIG = os.path.join(SRC, "config.yaml")
CONFIG_LOCAL = os.path.join(SRC, "config.local.yaml")

# The environment runlet's python plugin gives a test (runlet run, native
# backend, the repo's config.yaml); the bare floor runs python with the same
# one so that both sides start the same interpreter the same way.
PY_BIN = "/usr/bin/python3"
PY_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "HOME=/tmp", "TMPDIR=/tmp", "LANG=py", "PYTHONDONTWRITEBYTECODE=1",
          "PYTHONUNBUFFERED=1", "PYTHONUTF8=1", "PYTHONIOENCODING=utf-8"]
CPP_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME=/tmp", "TMPDIR=/tmp", "LANG=cpp"]

# The benchmarks' programs.
CPP_ECHO = ('#include <cstdio>\n'
            'int main() {\n'
            '    long long x;\n'
            '    if (std::scanf("%lld", &x) != 1) return 1;\n'
            '    std::printf("%lld\\n", x);\n'
            '    return 0;\n'
            '}\n')
PY_HELLO = 'print("hello, world")\n'
PY_SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# ---- statistics ------------------------------------------------------------

def stats(xs):
    """median, min, max, quartiles and count of a list of numbers."""
    xs = sorted(float(x) for x in xs)
    if not xs:
        return None
    if len(xs) >= 2:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    else:
        q1 = q3 = xs[0]
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1],
            "q1": q1, "q3": q3, "n": len(xs)}


def ordered(i, *fns):
    """Run fns in order on even rounds and in reverse order on odd ones, so
    neither side of a comparison always runs first (warm caches, drifting
    load), each on a quiet machine (settle). Returns their results in the
    order given."""
    idx = list(range(len(fns)))
    if i % 2:
        idx.reverse()
    out = [None] * len(fns)
    for k in idx:
        settle()
        out[k] = fns[k]()
    return out


def settle(max_s=2.0, window=0.2, cores=0.15):
    """Wait until the machine is quiet (less than `cores` of a core busy over
    a window), at most max_s seconds: work a side leaves behind (a daemon
    refilling its pool, the engine removing a container) then does not run
    into the next side's measurement. Returns the seconds waited."""
    import cpuacct

    t0 = time.monotonic()
    while time.monotonic() - t0 < max_s:
        b0, _ = cpuacct.machine()
        time.sleep(window)
        b1, _ = cpuacct.machine()
        if b1 - b0 < cores * window:
            break
    return time.monotonic() - t0


# ---- the stopwatch ---------------------------------------------------------

class FloorError(RuntimeError):
    pass


def floor(argv, inputs=(), env=None, cwd=None, repeat=1, jobs=1, out=None,
          check=True):
    """Run argv once per input file (repeat times; over jobs processes) with
    bench-floor. Returns {"runs": [seconds...], "total": seconds, "ok": bool}.
    env: None keeps the environment, a list gives exactly these VAR=VAL."""
    cmd = [FLOOR, "-n", str(repeat), "-j", str(jobs)]
    if env is not None:
        cmd.append("-c")
        for e in env:
            cmd += ["-e", e]
    if cwd:
        cmd += ["-d", cwd]
    for f in inputs:
        cmd += ["-i", f]
    if out:
        cmd += ["-O", out]
    cmd += ["--", *argv]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs, total, bad = [], None, 0
    for line in p.stdout.splitlines():
        f = line.split()
        if f and f[0] == "run":
            runs.append(int(f[2]) / 1e9)
            bad += int(f[3]) != 0
        elif f and f[0] == "total":
            total = int(f[1]) / 1e9
    if total is None:
        raise FloorError(f"bench-floor failed ({p.returncode}): {' '.join(argv)}: {p.stderr.strip()}")
    if check and bad:
        raise FloorError(f"{bad} run(s) of {' '.join(argv)} did not exit 0")
    return {"runs": runs, "total": total, "ok": bad == 0}


def runlet_run(job_path, config, backend="native", extra=()):
    """Judge job_path with `runlet run`, timed by bench-floor (the job goes in
    on stdin). Returns (wall seconds, result dict)."""
    fd, out = tempfile.mkstemp(prefix="bench-result-", suffix=".json")
    os.close(fd)
    try:
        r = floor([RUNLET, "run", "--config", config, "--backend", backend, *extra, "-"],
                  inputs=[job_path], out=out, check=False)
        with open(out) as f:
            text = f.read()
    finally:
        os.unlink(out)
    try:
        res = json.loads(text)
    except ValueError:
        # again, untimed, for runlet's own message
        p = subprocess.run([RUNLET, "run", "--config", config, "--backend", backend,
                            *extra, job_path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        raise FloorError(f"runlet run {job_path}: no result JSON (exit {p.returncode}): "
                         f"{p.stderr.strip()[-400:]}")
    return r["total"], res


def require_ok(res, what):
    """Raise unless every test of a result passed (a benchmark of wrong
    answers measures nothing)."""
    bad = [t for t in res.get("test_cases", []) if t.get("status") not in ("OK", None)]
    if res.get("status") != "OK" or bad:
        detail = bad[0] if bad else {"err_msg": res.get("err_msg")}
        raise FloorError(f"{what}: runlet's result is {res.get('status')}, not OK: "
                         f"{json.dumps(detail)[:300]}")


# ---- jobs and files ----------------------------------------------------------

def job(lang, code, inputs, expected=None, student_id=1):
    tests = []
    for i, inp in enumerate(inputs):
        t = {"test_num": i + 1, "input": inp}
        if expected is not None:
            t["output"] = expected[i]
        tests.append(t)
    return {"student_id": student_id, "problem_id": 1, "course_id": 1,
            "lang": lang, "code": code, "run_data": tests}


class Workdir:
    """A temporary directory for one benchmark, removed at the end."""

    def __init__(self, tag):
        self.path = tempfile.mkdtemp(prefix=f"runlet-bench-{tag}-")
        os.chmod(self.path, 0o755)

    def file(self, name, data, mode=0o644):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def json(self, name, obj):
        return self.file(name, json.dumps(obj))

    def inputs(self, prefix, datas):
        return [self.file(f"{prefix}{i + 1}", d) for i, d in enumerate(datas)]

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)


def bench_config(wd, base=CONFIG, parallel=None, name=None, extra=""):
    """A copy of a repo config for one benchmark: the compile cache in the
    benchmark's own directory (every run starts from an empty cache, and the
    machine's cache is neither used nor filled), parallel_tests when given,
    context_path made absolute (the copy lives elsewhere), extra appended.
    Returns its path."""
    import re
    text = open(base).read()
    text = re.sub(r"(?m)^context_path:.*$", f"context_path: {SRC}", text)
    if parallel is not None:
        if re.search(r"(?m)^parallel_tests:", text):
            text = re.sub(r"(?m)^parallel_tests:.*$", f"parallel_tests: {parallel}", text)
        else:
            text += f"\nparallel_tests: {parallel}\n"
    if not re.search(r"(?m)^compile_cache:", text):
        text += f"\ncompile_cache:\n  dir: {os.path.join(wd.path, 'compile-cache')}\n"
    text += extra
    return wd.file(name or f"config-{parallel or 'default'}.yaml", text)


def compile_cpp(wd, src_name="main.cpp", bin_name="main"):
    """Compile with the command of the repo's config.yaml (g++ -o BIN SRC)."""
    src = os.path.join(wd.path, src_name)
    binp = os.path.join(wd.path, bin_name)
    subprocess.run(["g++", "-o", binp, src], check=True)
    return binp


# ---- records -------------------------------------------------------------------

def ratio_row(rid, measure, runlet, base, base_name, unit="s", target=None,
              higher_is_better=False, per_round_ratio=None, per_round_over=None,
              extra=None):
    """A row comparing runlet with a baseline over rounds: runlet and base are
    per-round values (seconds, or rates); the ratio and the overhead are taken
    round by round (the pairs ran side by side), then summarised."""
    ratios = per_round_ratio or [r / b for r, b in zip(runlet, base)]
    over = per_round_over or [r - b for r, b in zip(runlet, base)]
    row = {"id": rid, "measure": measure, "unit": unit, "baseline": base_name,
           "runlet": stats(runlet), "base": stats(base), "ratio": stats(ratios),
           "overhead": stats(over), "higher_is_better": higher_is_better}
    if target:
        row["target"] = target
    if extra:
        row.update(extra)
    return row


def record(name, title, rows=(), notes=(), skipped=None, series=None, error=None,
           meta=None):
    os.makedirs(RAW, exist_ok=True)
    meta = dict(meta or {})
    rec = {"bench": name, "title": title, "rounds": meta.pop("rounds", ROUNDS),
           "quick": QUICK,
           "rows": list(rows), "notes": list(notes), "skipped": skipped,
           "error": error, "series": series or {}, "meta": meta,
           "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with open(os.path.join(RAW, name + ".json"), "w") as f:
        json.dump(rec, f, indent=1)
    if skipped:
        log(f"{name}: skipped: {skipped}")
    elif error:
        log(f"{name}: error: {error}")
    else:
        for r in rec["rows"]:
            rt = r.get("ratio") or {}
            log(f"{name}: {r['measure']}: ratio {rt.get('median', float('nan')):.3f}")
    return rec


def main_guard(name, title, fn):
    """Run fn() -> (rows, notes[, series[, meta]]); an exception becomes an
    error record (the driver goes on with the other benchmarks)."""
    try:
        out = fn()
    except Skip as s:
        record(name, title, skipped=str(s))
        return 0
    except Exception as e:  # a benchmark failing is a result to report
        import traceback
        traceback.print_exc()
        record(name, title, error=f"{type(e).__name__}: {e}")
        return 1
    rows, notes = out[0], out[1]
    series = out[2] if len(out) > 2 else None
    meta = out[3] if len(out) > 3 else None
    record(name, title, rows, notes, series=series, meta=meta)
    return 0


class Skip(Exception):
    """This benchmark cannot run here; the message says why and how to fix."""


# ---- a long-lived runlet ----------------------------------------------------

def identical_cases(wd, name, code, tests, k):
    """Two directories of plugin-test cases: k identical submissions of code
    (tests: (input, expected output) pairs) and the first two alone.
    Returns (dir_k, dir_2)."""
    case = "source: |\n" + "".join("  " + l + "\n" for l in code.splitlines()) + \
        "tests:\n" + "".join(f"  - input: {json.dumps(i)}\n    output: {json.dumps(o)}\n"
                            for i, o in tests)
    k_all = os.path.join(wd.path, f"{name}-k")
    k_two = os.path.join(wd.path, f"{name}-2")
    os.makedirs(k_all)
    os.makedirs(k_two)
    for n in range(k):
        for d in ([k_all, k_two] if n < 2 else [k_all]):
            with open(os.path.join(d, f"c{n:02d}.yaml"), "w") as f:
                f.write(case)
    return k_all, k_two


def per_submission_long_lived(config, dirs, k, plugin="python", backend="native",
                              named=None):
    """Seconds per submission in one long-lived runlet (`runlet plugin-test`
    over the k and the 2 identical submissions of identical_cases): the
    difference over the extra k - 2, so process start, config and plugins
    are paid once and the pools are in use.
    named: a list of process names (comm) to meter as well: then returns
    (seconds, parts), parts being core-ms per submission the same way
    (cpuacct.Meter's keys: busy, idle, children = runlet's process tree,
    self, and each name)."""
    import time

    import cpuacct

    def once(cases):
        meter = cpuacct.Meter(named=named or ())
        t0 = time.perf_counter()
        p = subprocess.run([RUNLET, "plugin-test", "--backend", backend, "--config",
                            config, plugin, cases], capture_output=True, text=True)
        t = time.perf_counter() - t0
        if p.returncode != 0:
            raise FloorError("plugin-test failed: " + (p.stdout + p.stderr)[-400:])
        return t, meter.read()

    (t_k, c_k), (t_2, c_2) = once(dirs[0]), once(dirs[1])
    per = (t_k - t_2) / (k - 2)
    if named is None:
        return per
    return per, {key: (c_k[key] - c_2[key]) * 1e3 / (k - 2) for key in c_k}
