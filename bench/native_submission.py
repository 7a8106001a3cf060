#!/usr/bin/python3
"""Benchmark 2: runlet's fixed cost per submission on the native backend.

A one-test Python hello through `runlet run --backend native`, against one
bare exec of the same interpreter on the same input (bench-floor). The
difference is what a submission costs beyond running its program once:
runlet's start, config and plugins, the sandbox (namespaces, mounts, cgroups),
the runner, the result. Pairs run back to back, alternating which side goes
first; the ratio and the difference are taken per pair.

Also the daemon's case: a long-lived runlet judging K one-test submissions
(`runlet plugin-test` over K identical cases; per submission (T_K - T_2) /
(K - 2)), where process start, config and plugins are paid once and the
pre-forked sandboxes are in use.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402

NAME = "native_submission"
TITLE = "Native backend, fixed cost per submission"
PAIRS = 3  # pairs per round
POOL_K = 12


def run():
    wd = bl.Workdir("sub")
    try:
        return measure(wd)
    finally:
        wd.close()


def cache_entries(path="/var/cache/runlet/compile"):
    try:
        return len(os.listdir(path))
    except OSError:
        return 0


def measure(wd):
    job = wd.json("py_1.json", bl.job("py", bl.PY_HELLO, ["1\n"], ["hello, world"]))
    main_py = wd.file("main.py", bl.PY_HELLO)
    inp = wd.inputs("in", ["1\n"])

    cfg = bl.bench_config(wd)
    dirs = bl.identical_cases(wd, "cases", bl.PY_HELLO, [("1\n", "hello, world")], POOL_K)

    def long_lived():
        return bl.per_submission_long_lived(cfg, dirs, POOL_K)

    def runlet(config=cfg):
        t, res = bl.runlet_run(job, config)
        bl.require_ok(res, "py_1")
        return t

    def runlet_repo():
        return runlet(bl.CONFIG)

    def bare():
        return bl.floor([bl.PY_BIN, main_py], inputs=inp, env=bl.PY_ENV, cwd=wd.path)["total"]

    runlet()
    runlet_repo()
    bare()
    long_lived()
    rl, repo, base, ll, llbase = [], [], [], [], []
    for i in range(bl.ROUNDS * PAIRS):
        r, rr, b = bl.ordered(i, runlet, runlet_repo, bare)
        rl.append(r)
        repo.append(rr)
        base.append(b)
        if i % PAIRS == 0:
            w, b2 = bl.ordered(i // PAIRS, long_lived, bare)
            ll.append(w)
            llbase.append(b2)
        if i % PAIRS == PAIRS - 1:
            bl.log(f"{NAME}: round {i // PAIRS + 1}/{bl.ROUNDS}: runlet {r * 1e3:.1f} ms, "
                   f"bare {b * 1e3:.1f} ms")
    rows = [bl.ratio_row("fixed_per_submission",
                         "native fixed cost per submission (1-test Python hello), one-shot "
                         "`runlet run`", rl, base, "one bare python3 exec"),
            bl.ratio_row("fixed_per_submission_repo",
                         "the same with the repo's config.yaml as is (the machine's compile "
                         f"cache, {cache_entries()} entries)", repo, base, "one bare python3 exec"),
            bl.ratio_row("fixed_per_submission_daemon",
                         "native fixed cost per submission (1-test Python hello), the daemon's "
                         "case: a long-lived runlet (pre-forked sandboxes, start paid once)",
                         ll, llbase, "one bare python3 exec",
                         target={"kind": "overhead_le", "value": 0.005,
                                 "text": "<= 5 ms over one bare exec"})]
    notes = [f"{bl.ROUNDS * PAIRS} pairs ({bl.ROUNDS} rounds of {PAIRS}); each side is a "
             "whole process timed by bench-floor (runlet: `runlet run -` with the job on "
             "stdin; bare: python3 main.py with the input on stdin).",
             "The target row uses the benchmark's copy of config.yaml (its own, empty compile "
             "cache); the repo's config as is shares the machine's cache.",
             f"The daemon's case: `runlet plugin-test` over {POOL_K} and over 2 identical "
             "one-test submissions, per submission the difference over the extra ones, once "
             "per round against one bare exec."]
    return rows, notes, None, {"rounds": bl.ROUNDS * PAIRS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
