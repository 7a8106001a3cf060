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
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402
import cpuacct  # noqa: E402
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
        meter = cpuacct.Meter(named=["beam.smp"])
        d = mq.Daemon(url, cfg, ["--workers", str(WORKERS), "--max-jobs", str(COUNT)],
                      tag="tput")
        if not cl.wait(COUNT, 600):
            raise bl.FloorError(f"only {len(cl.got)}/{COUNT} results in 600 s; "
                                f"daemon log:\n{d.tail()}")
        at_last = cpuacct.machine()
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
        c = meter.read(machine_end=at_last)
        # the results' time_ms is each test's CPU time truncated to whole
        # milliseconds: half a millisecond each puts back the mean loss
        tests = [t for _, b in cl.got for t in b["test_cases"]]
        programs = sum(t["time_ms"] + 0.5 for t in tests) / 1e3
        parts = {"programs": programs,
                 "runlet": c["children"] - programs,
                 "broker": c["beam.smp"],
                 "rest": c["busy"] - c["children"] - c["beam.smp"],
                 "idle": c["idle"]}
        return dt, cpuacct.per_unit(parts, COUNT)
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
        meter = cpuacct.Meter()
        r = bl.floor([bl.PY_BIN, main_py], inputs=files, env=bl.PY_ENV, cwd=wd.path,
                     jobs=WORKERS)
        c = meter.read()
        parts = {"programs": c["children"], "rest": c["busy"] - c["children"],
                 "idle": c["idle"]}
        return COUNT / r["total"], cpuacct.per_unit(parts, COUNT)

    def runlet(i):
        def side():
            dt, parts = one_round(url, wd, i)
            return COUNT / dt, parts
        return side

    bare()
    rl, base, rl_cpu, base_cpu = [], [], [], []
    for i in range(ROUNDS):
        (r, rc), (b, bc) = bl.ordered(i, runlet(i), bare)
        rl.append(r)
        base.append(b)
        rl_cpu.append(rc)
        base_cpu.append(bc)
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
    cpu = cpu_parts(rl_cpu, base_cpu)
    notes += gap_notes(cpu, statistics.median(r / b for r, b in zip(rl, base)))
    return rows, notes, {"cpu": cpu}, {"rounds": ROUNDS}


def cpu_parts(rl, base):
    """The cpu table: core-ms per submission, median over rounds, per side."""
    med = cpuacct.median_part
    rows = [["the programs: python3 (runlet: the results' time_ms, +0.5 ms each for "
             "truncation; bare: bench-floor's reaped children)",
             med(rl, "programs"), med(base, "programs")],
            ["runlet serve, its sandboxes and runners (the daemon's process tree "
             "minus the programs)", med(rl, "runlet"), None],
            ["RabbitMQ (beam.smp)", med(rl, "broker"), None],
            ["the rest of the machine: kernel threads (cgroup and namespace "
             "teardown), the results consumer, other processes",
             med(rl, "rest"), med(base, "rest")],
            ["idle", med(rl, "idle"), med(base, "idle")],
            ["all of both cores over the stretch",
             cpuacct.median_total(rl), cpuacct.median_total(base)]]
    return {"unit": "core-ms per submission",
            "sides": ["runlet serve + RabbitMQ", "bare ceiling"],
            "rows": rows,
            "note": "Each side's stretch: runlet from starting the daemon to the last "
                    "result (its process tree's CPU is read when it has exited, so its "
                    "exit is in it too); bare, bench-floor's run. Busy and idle time come "
                    "from /proc/stat, process trees from their rusage."}


def gap_notes(cpu, ratio):
    """What stands between the measured ratio and 0.8 x, in core-ms."""
    if ratio >= 0.8:
        return []
    prog, own, broker, rest, idle, total = cpu["rows"]
    budget = total[2] / 0.8
    extra = own[1] + broker[1] + rest[1] - rest[2]
    return [f"What stands in the way of 0.8 x: at that rate a submission may use "
            f"{budget:.1f} core-ms of the two cores; it used {total[1]:.1f} "
            f"({total[1] - budget:+.1f}). The programs took {prog[1]:.1f} against "
            f"{prog[2]:.1f} bare ({prog[1] - prog[2]:+.1f}); runlet with its sandboxes "
            f"and runners, the broker and the extra kernel work took {extra:.1f} "
            f"together; the cores stood idle for {idle[1]:.1f} (bare: {idle[2]:.1f}). "
            "Every submission gets a sandbox of its own (namespaces, mounts and cgroups "
            "made and torn down for it alone), which the bare loop never pays."]


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
