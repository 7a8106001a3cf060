#!/usr/bin/python3
"""Benchmark 1: runlet's cost per test on the native backend.

100 tests of a trivial C++ program (reads a number, prints it) and 20 tests of
a Python hello through `runlet run --backend native`, against the floor: the
same compiled binary / the same interpreter exec'd bare once per input by
bench-floor (fork, exec, a pipe each way, wait4).

runlet's cost per test is its marginal cost: (T(N tests) - T(1 test)) / (N - 1),
both whole `runlet run` processes in the same round, so the compile and the
fixed cost per submission cancel out. The floor's cost per test is its total
over the N inputs divided by N. Each round runs all sides back to back
(alternating which goes first) and the ratio and the overhead are taken per
round.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402

NAME = "native_tests"
TITLE = "Native backend, cost per test"
N_CPP = 100
N_PY = 20
# The marginal method subtracts two noisy totals: more rounds, it is cheap.
ROUNDS = 2 * bl.ROUNDS + 1


def run():
    wd = bl.Workdir("tests")
    try:
        return measure(wd)
    finally:
        wd.close()


def measure(wd):
    cpp_in = [f"{i}\n" for i in range(N_CPP)]
    cpp_out = [str(i) for i in range(N_CPP)]
    py_in = [f"{i}\n" for i in range(N_PY)]
    py_out = ["hello, world"] * N_PY
    jobs = {
        "cpp_n": wd.json("cpp_n.json", bl.job("cpp", bl.CPP_ECHO, cpp_in, cpp_out)),
        "cpp_1": wd.json("cpp_1.json", bl.job("cpp", bl.CPP_ECHO, cpp_in[:1], cpp_out[:1])),
        "py_n": wd.json("py_n.json", bl.job("py", bl.PY_HELLO, py_in, py_out)),
        "py_1": wd.json("py_1.json", bl.job("py", bl.PY_HELLO, py_in[:1], py_out[:1])),
    }
    wd.file("main.cpp", bl.CPP_ECHO)
    binary = bl.compile_cpp(wd)
    main_py = wd.file("main.py", bl.PY_HELLO)
    cpp_files = wd.inputs("cin", cpp_in)
    py_files = wd.inputs("pin", py_in)

    ncores = os.cpu_count() or 1
    configs = {"seq": bl.bench_config(wd, parallel=1), "par": bl.bench_config(wd)}

    def runlet(variant, key):
        def f():
            t, res = bl.runlet_run(jobs[key], configs[variant])
            bl.require_ok(res, key)
            return t, res
        return f

    def bare_cpp(jobs_):
        def f():
            r = bl.floor([binary], inputs=cpp_files, env=bl.CPP_ENV, cwd=wd.path, jobs=jobs_)
            return r["total"] / N_CPP, r["runs"]
        return f

    def bare_py(jobs_):
        def f():
            r = bl.floor([bl.PY_BIN, main_py], inputs=py_files, env=bl.PY_ENV, cwd=wd.path,
                         jobs=jobs_)
            return r["total"] / N_PY, r["runs"]
        return f

    # warm-up: page cache, cgroup hierarchy, plugin files, the compile cache
    for v in configs:
        runlet(v, "cpp_1")()
        runlet(v, "py_1")()
    bare_cpp(1)()
    bare_py(1)()

    def side():
        return {"rl": [], "base": [], "t_n": [], "t_1": [], "inner": []}
    acc = {(v, lang): side() for v in configs for lang in ("cpp", "py")}
    for i in range(ROUNDS):
        for v in configs:
            bjobs = 1 if v == "seq" else ncores
            for lang, n, bare in (("cpp", N_CPP, bare_cpp(bjobs)), ("py", N_PY, bare_py(bjobs))):
                a = acc[(v, lang)]
                (tn, rn), (t1, _), (b, _) = bl.ordered(i, runlet(v, f"{lang}_n"),
                                                       runlet(v, f"{lang}_1"), bare)
                a["t_n"].append(tn)
                a["t_1"].append(t1)
                a["rl"].append((tn - t1) / (n - 1))
                a["base"].append(b)
                a["inner"].append(sum(t["wall_ms"] for t in rn["test_cases"]) / n / 1e3)
        c, p = acc[("seq", "cpp")], acc[("seq", "py")]
        bl.log(f"{NAME}: round {i + 1}/{ROUNDS}: one test at a time: cpp {c['rl'][-1] * 1e3:.2f} "
               f"ms/test (bare {c['base'][-1] * 1e3:.2f}), py {p['rl'][-1] * 1e3:.2f} ms/test "
               f"(bare {p['base'][-1] * 1e3:.2f})")

    def extra(a):
        return {"t_n": bl.stats(a["t_n"]), "t_1": bl.stats(a["t_1"]),
                "inner_wall": bl.stats(a["inner"])}
    rows = []
    for v, label, bname in (("seq", "one test at a time (parallel_tests: 1)", "bare, one at a time"),
                            ("par", f"as configured (parallel_tests default: {ncores} cores)",
                             f"bare, {ncores} at a time")):
        a, b = acc[(v, "cpp")], acc[(v, "py")]
        rows.append(bl.ratio_row(
            f"cpp_per_test{'' if v == 'seq' else '_par'}",
            f"native per test, trivial C++ ({N_CPP} tests), {label}",
            a["rl"], a["base"], f"{bname}: bare exec per input",
            target={"kind": "overhead_le", "value": 0.001,
                    "text": "<= 1 ms over bare per test"} if v == "seq" else None,
            extra=extra(a)))
        rows.append(bl.ratio_row(
            f"py_per_test{'' if v == 'seq' else '_par'}",
            f"native per test, Python hello ({N_PY} tests), {label}",
            b["rl"], b["base"], f"{bname}: bare python3 per input",
            target={"kind": "ratio_le", "value": 1.10,
                    "text": "<= 1.10 x bare"} if v == "seq" else None,
            extra=extra(b)))
    notes = [
        f"runlet per test = (T({N_CPP} tests) - T(1 test)) / {N_CPP - 1} for C++ and "
        f"(T({N_PY}) - T(1)) / {N_PY - 1} for Python, whole `runlet run` processes of "
        "the same round (compile and fixed cost cancel); bare per test = bench-floor's "
        "total over the same inputs / N.",
        "The targets are judged one test at a time (parallel_tests: 1) against a bare "
        "loop one at a time: that is runlet's own cost per test. runlet's default runs "
        f"tests of a submission at once on idle cores; that row is compared with the bare "
        f"runs spread over the same {ncores} cores (bench-floor -j {ncores}).",
        "inner_wall: the mean of runlet's own per-test wall_ms (what the program took "
        "as runlet measures it, without runlet's work between tests).",
        "Every benchmark uses a copy of config.yaml whose compile cache is in the "
        "benchmark's own directory (empty at its start).",
    ]
    return rows, notes, None, {"rounds": ROUNDS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
