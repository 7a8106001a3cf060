#!/usr/bin/python3
"""Benchmark 4: throughput of `runlet serve` (2 workers) with a real RabbitMQ,
against the bare ceiling.

Each round: 300 submissions (the contract's example: Python a+b, 2 tests
each) wait in the queue; `runlet serve --workers 2 --max-jobs 300` starts and
the clock runs from its start to the 300th result arriving at a consumer on
the results queue. The ceiling: the same 600 tests (python3 main.py, the same
inputs) run bare by bench-floor split over 2 processes, one per core. The
ratio is runlet's rate over the ceiling's (higher is better).
Skipped, saying why, when RabbitMQ cannot be started.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402
import mqbench as mq  # noqa: E402

NAME = "throughput"
TITLE = "Throughput: runlet serve + RabbitMQ (2 workers) against the bare ceiling"
COUNT = int(os.environ.get("BENCH_THROUGHPUT_COUNT") or 300)
ROUNDS = 3 if bl.QUICK else 5
WORKERS = 2


def submission(i):
    a, b = i, 2 * i + 1
    return bl.job("py", bl.PY_SUM, [f"{a} {b}\n", f"{b} {a}\n"],
                  [str(a + b), str(a + b)], student_id=i)


def run():
    url = mq.broker_url()
    wd = bl.Workdir("tput")
    try:
        return measure(wd, url)
    finally:
        wd.close()


def one_round(url, wd, rnd):
    n = mq.Names(f"tput{rnd}")
    cfg = mq.write_config(wd, n, WORKERS)
    cl = mq.Client(url, n)
    d = None
    try:
        cl.cleanup()
        cl.declare()
        for i in range(1, COUNT + 1):
            cl.publish(submission(i), f"t{rnd}-{i}")
        for _ in range(100):
            if cl.depth(n.queue) == COUNT:
                break
            time.sleep(0.05)
        cl.consume()
        d = mq.Daemon(url, cfg, ["--workers", str(WORKERS), "--max-jobs", str(COUNT)],
                      tag="tput")
        if not cl.wait(COUNT, 600):
            raise bl.FloorError(f"only {len(cl.got)}/{COUNT} results in 600 s; "
                                f"daemon log:\n{d.tail()}")
        dt = cl.got[-1][0] - d.t_start
        wrong = [b["student_id"] for _, b in cl.got if b.get("status") != "OK"]
        if wrong or len({b["student_id"] for _, b in cl.got}) != COUNT:
            raise bl.FloorError(f"results not all OK and distinct (bad: {wrong[:5]})")
        try:  # --max-jobs: it drains and exits by itself
            rc = d.p.wait(60)
        except Exception:
            rc = d.stop()
        if rc != 0:
            raise bl.FloorError(f"runlet serve exited {rc}:\n{d.tail()}")
        return dt
    finally:
        if d:
            d.stop()
        cl.cleanup()
        cl.close()


def measure(wd, url):
    main_py = wd.file("main.py", bl.PY_SUM)
    ins = []
    for i in range(1, COUNT + 1):
        a, b = i, 2 * i + 1
        ins += [f"{a} {b}\n", f"{b} {a}\n"]
    files = wd.inputs("in", ins)

    def bare():
        r = bl.floor([bl.PY_BIN, main_py], inputs=files, env=bl.PY_ENV, cwd=wd.path,
                     jobs=WORKERS)
        return COUNT / r["total"]

    def runlet(i):
        return lambda: COUNT / one_round(url, wd, i)

    bare()
    rl, base = [], []
    for i in range(ROUNDS):
        r, b = bl.ordered(i, runlet(i), bare)
        rl.append(r)
        base.append(b)
        bl.log(f"{NAME}: round {i + 1}/{ROUNDS}: runlet {r:.1f}/s, bare ceiling {b:.1f}/s")
    rows = [bl.ratio_row("throughput", f"throughput, {COUNT} submissions x 2 Python tests, "
                         f"runlet serve --workers {WORKERS} + RabbitMQ",
                         rl, base, f"bare ceiling (the same tests, bench-floor -j {WORKERS})",
                         unit="submissions/s", higher_is_better=True,
                         target={"kind": "ratio_ge", "value": 0.8,
                                 "text": ">= 0.8 x the bare ceiling"})]
    notes = [f"runlet's time runs from starting `runlet serve` (queue pre-filled with "
             f"{COUNT} submissions) to the last result arriving at the consumer: it "
             "includes the daemon's start and connection and every publish/ack.",
             "The broker runs on the same 2 cores (its CPU is part of runlet's cost)."]
    return rows, notes, None, {"rounds": ROUNDS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
