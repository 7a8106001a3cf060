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

    def runlet(key):
        def f():
            t, res = bl.runlet_run(jobs[key])
            bl.require_ok(res, key)
            return t, res
        return f

    def bare_cpp():
        r = bl.floor([binary], inputs=cpp_files, env=bl.CPP_ENV, cwd=wd.path)
        return r["total"] / N_CPP, r["runs"]

    def bare_py():
        r = bl.floor([bl.PY_BIN, main_py], inputs=py_files, env=bl.PY_ENV, cwd=wd.path)
        return r["total"] / N_PY, r["runs"]

    # warm-up: page cache, cgroup hierarchy, plugin files
    runlet("cpp_1")()
    runlet("py_1")()
    bare_cpp()
    bare_py()

    cpp = {"rl": [], "base": [], "t_n": [], "t_1": [], "inner": []}
    py = {"rl": [], "base": [], "t_n": [], "t_1": [], "inner": []}
    for i in range(ROUNDS):
        (tn, rn), (t1, _), (b, _) = bl.ordered(i, runlet("cpp_n"), runlet("cpp_1"), bare_cpp)
        cpp["t_n"].append(tn)
        cpp["t_1"].append(t1)
        cpp["rl"].append((tn - t1) / (N_CPP - 1))
        cpp["base"].append(b)
        cpp["inner"].append(sum(t["wall_ms"] for t in rn["test_cases"]) / N_CPP / 1e3)
        (tn, rn), (t1, _), (b, _) = bl.ordered(i, runlet("py_n"), runlet("py_1"), bare_py)
        py["t_n"].append(tn)
        py["t_1"].append(t1)
        py["rl"].append((tn - t1) / (N_PY - 1))
        py["base"].append(b)
        py["inner"].append(sum(t["wall_ms"] for t in rn["test_cases"]) / N_PY / 1e3)
        bl.log(f"{NAME}: round {i + 1}/{ROUNDS}: cpp {cpp['rl'][-1] * 1e3:.2f} ms/test "
               f"(bare {cpp['base'][-1] * 1e3:.2f}), py {py['rl'][-1] * 1e3:.2f} ms/test "
               f"(bare {py['base'][-1] * 1e3:.2f})")

    rows = [
        bl.ratio_row("cpp_per_test", f"native per test, trivial C++ ({N_CPP} tests)",
                     cpp["rl"], cpp["base"], "bare exec per input",
                     target={"kind": "overhead_le", "value": 0.001,
                             "text": "<= 1 ms over bare per test"},
                     extra={"t_n": bl.stats(cpp["t_n"]), "t_1": bl.stats(cpp["t_1"]),
                            "inner_wall": bl.stats(cpp["inner"])}),
        bl.ratio_row("py_per_test", f"native per test, Python hello ({N_PY} tests)",
                     py["rl"], py["base"], "bare python3 per input",
                     target={"kind": "ratio_le", "value": 1.10, "text": "<= 1.10 x bare"},
                     extra={"t_n": bl.stats(py["t_n"]), "t_1": bl.stats(py["t_1"]),
                            "inner_wall": bl.stats(py["inner"])}),
    ]
    notes = [
        f"runlet per test = (T({N_CPP} tests) - T(1 test)) / {N_CPP - 1} for C++ and "
        f"(T({N_PY}) - T(1)) / {N_PY - 1} for Python, whole `runlet run` processes of "
        "the same round (compile and fixed cost cancel); bare per test = bench-floor's "
        "total over the same inputs / N.",
        "inner_wall: the mean of runlet's own per-test wall_ms (what the program took "
        "as runlet measures it, without runlet's work between tests).",
    ]
    return rows, notes, None, {"rounds": ROUNDS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
