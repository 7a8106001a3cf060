#!/usr/bin/python3
"""Benchmark 2: runlet's fixed cost per submission on the native backend.

A one-test Python hello through `runlet run --backend native`, against one
bare exec of the same interpreter on the same input (bench-floor). The
difference is what a submission costs beyond running its program once:
runlet's start, config and plugins, the sandbox (namespaces, mounts, cgroups),
the runner, the result. Pairs run back to back, alternating which side goes
first; the ratio and the difference are taken per pair.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402

NAME = "native_submission"
TITLE = "Native backend, fixed cost per submission"
PAIRS = 3  # pairs per round


def run():
    wd = bl.Workdir("sub")
    try:
        return measure(wd)
    finally:
        wd.close()


def measure(wd):
    job = wd.json("py_1.json", bl.job("py", bl.PY_HELLO, ["1\n"], ["hello, world"]))
    main_py = wd.file("main.py", bl.PY_HELLO)
    inp = wd.inputs("in", ["1\n"])

    def runlet():
        t, res = bl.runlet_run(job)
        bl.require_ok(res, "py_1")
        return t

    def bare():
        return bl.floor([bl.PY_BIN, main_py], inputs=inp, env=bl.PY_ENV, cwd=wd.path)["total"]

    runlet()
    bare()
    rl, base = [], []
    for i in range(bl.ROUNDS * PAIRS):
        r, b = bl.ordered(i, runlet, bare)
        rl.append(r)
        base.append(b)
        if i % PAIRS == PAIRS - 1:
            bl.log(f"{NAME}: round {i // PAIRS + 1}/{bl.ROUNDS}: runlet {r * 1e3:.1f} ms, "
                   f"bare {b * 1e3:.1f} ms")
    rows = [bl.ratio_row("fixed_per_submission",
                         "native fixed cost per submission (1-test Python hello)",
                         rl, base, "one bare python3 exec",
                         target={"kind": "overhead_le", "value": 0.005,
                                 "text": "<= 5 ms over one bare exec"})]
    notes = [f"{bl.ROUNDS * PAIRS} pairs ({bl.ROUNDS} rounds of {PAIRS}); each side is a "
             "whole process timed by bench-floor (runlet: `runlet run -` with the job on "
             "stdin; bare: python3 main.py with the input on stdin)."]
    return rows, notes, None, {"rounds": bl.ROUNDS * PAIRS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
