#!/usr/bin/python3
"""Benchmark 6: the daemon's memory over many jobs.

`runlet serve --workers 2` judges trivial native jobs (Python print, one
test) published with a bounded window (at most WINDOW in flight). Its VmRSS
is read after the first 100 jobs and after the last, each time with nothing
in flight and a short settle; growth = last - after 100 (target: no growth
beyond 2 MB). Samples along the way (RSS, threads, open fds) go into the
chart. BENCH_MEM_JOBS sets the count (default 10 000; BENCH_QUICK=1: 1 000).
Skipped, saying why, when RabbitMQ cannot be started.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402
import mqbench as mq  # noqa: E402

NAME = "memory"
TITLE = "Daemon memory over many jobs"
JOBS = int(os.environ.get("BENCH_MEM_JOBS") or (1000 if bl.QUICK else 10000))
FIRST = 100
WINDOW = 40
SETTLE = 1.0


def trivial(i):
    return bl.job("py", f"print({i})\n", [""], [str(i)], student_id=i)


def run():
    url = mq.broker_url()
    wd = bl.Workdir("mem")
    try:
        return measure(wd, url)
    finally:
        wd.close()


def measure(wd, url):
    n = mq.Names("mem")
    cfg = mq.write_config(wd, n, 2)
    cl = mq.Client(url, n)
    cl.cleanup()
    cl.declare()
    cl.consume()
    d = mq.Daemon(url, cfg, ["--workers", "2"], tag="mem")
    samples = []
    try:
        if not d.wait_log("event=connected"):
            raise bl.FloorError(f"runlet serve did not connect:\n{d.tail()}")
        start = d.status()
        published = 0
        t0 = time.monotonic()
        every = max(JOBS // 40, 50)

        def pump(upto):
            nonlocal published
            while len(cl.got) < upto:
                while published < upto and published - len(cl.got) < WINDOW:
                    published += 1
                    cl.publish(trivial(published), f"m-{published}")
                before = len(cl.got)
                if not cl.wait(before + 1, 120):
                    raise bl.FloorError(f"no result for 120 s after {before} jobs:\n{d.tail()}")
                done = len(cl.got)
                if done // every != before // every:
                    s = d.status()
                    s["jobs"] = done
                    samples.append(s)

        def settled():
            time.sleep(SETTLE)
            return d.status()

        pump(FIRST)
        at_first = settled()
        pump(JOBS)
        at_last = settled()
        dt = time.monotonic() - t0
        bad = [b["student_id"] for _, b in cl.got if b.get("status") != "OK"]
        if bad or len(cl.got) != JOBS:
            raise bl.FloorError(f"{len(cl.got)} results for {JOBS} jobs, not OK: {bad[:5]}")
        if d.p.poll() is not None:
            raise bl.FloorError(f"runlet serve exited {d.p.returncode}:\n{d.tail()}")
    finally:
        rc = d.stop()
        cl.cleanup()
        cl.close()
    growth_kb = at_last["VmRSS"] - at_first["VmRSS"]
    row = {"id": "daemon_rss", "measure": f"daemon RSS, {JOBS} jobs against {FIRST}",
           "unit": "kB", "baseline": f"RSS after {FIRST} jobs",
           "runlet": bl.stats([at_last["VmRSS"]]), "base": bl.stats([at_first["VmRSS"]]),
           "ratio": bl.stats([at_last["VmRSS"] / at_first["VmRSS"]]),
           "overhead": bl.stats([growth_kb]), "higher_is_better": False,
           "target": {"kind": "growth_le_kb", "value": 2048,
                      "text": "no growth beyond 2 MB"},
           "start": start, "at_first": at_first, "at_last": at_last,
           "jobs_per_s": JOBS / dt, "exit": rc}
    notes = [f"{JOBS} jobs in {dt:.0f} s ({JOBS / dt:.0f}/s), window {WINDOW} in flight; "
             f"at start RSS {start['VmRSS']} kB, after {FIRST} {at_first['VmRSS']} kB "
             f"({at_first['Threads']} threads, {at_first['fds']} fds), after {JOBS} "
             f"{at_last['VmRSS']} kB ({at_last['Threads']} threads, {at_last['fds']} fds), "
             f"peak (VmHWM) {at_last['VmHWM']} kB; exit status on SIGTERM {rc}."]
    return [row], notes, {"rss": samples}, {"rounds": 1}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
