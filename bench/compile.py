#!/usr/bin/python3
"""Benchmark 5: an identical C++ resubmission.

Each round makes a C++ source no earlier round used (a comment with the
round's nonce), submits it (first) and then the very same job again (second);
the ratio is second / first. Once runlet caches compiled binaries the second
should skip the compiler; without a cache the ratio is about 1.
Two paths, both reported:
  run    two `runlet run` processes (a cache that outlives the process)
  serve  two submissions to one `runlet serve` through RabbitMQ, timed from
         publish to result (a cache in the daemon); skipped without a broker
The bare compile (g++ with the config's command) is reported as a reference.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402
import mqbench as mq  # noqa: E402

NAME = "compile"
TITLE = "Compile: an identical C++ resubmission"


def source(nonce):
    return f"// submission {nonce}\n" + bl.CPP_ECHO


def run():
    wd = bl.Workdir("compile")
    try:
        return measure(wd)
    finally:
        wd.close()


def via_run(wd, nonce):
    cfg = os.path.join(wd.path, "config-default.yaml")
    if not os.path.exists(cfg):
        bl.bench_config(wd)
    path = wd.json(f"job{nonce}.json", bl.job("cpp", source(nonce), ["5\n"], ["5"]))
    t1, r1 = bl.runlet_run(path, cfg)
    bl.require_ok(r1, "first compile")
    t2, r2 = bl.runlet_run(path, cfg)
    bl.require_ok(r2, "second compile")
    return t1, t2


def bare_compile(wd, nonce):
    wd.file(f"c{nonce}.cpp", source(nonce))
    return bl.floor(["/usr/bin/g++", "-o", os.path.join(wd.path, f"c{nonce}"),
                     os.path.join(wd.path, f"c{nonce}.cpp")])["total"]


class ServePath:
    def __init__(self, wd, url):
        n = mq.Names("compile")
        self.s = mq.Session(url, n, mq.write_config(wd, n, 2), "compile")
        self.k = 0

    def submit(self, nonce):
        self.k += 1
        return self.s.submit(bl.job("cpp", source(nonce), ["5\n"], ["5"], student_id=self.k),
                             f"c-{nonce}-{self.k}", "serve compile")

    def close(self):
        self.s.close()


def measure(wd):
    notes = []
    serve = None
    try:
        serve = ServePath(wd, mq.broker_url())
    except bl.Skip as s:
        notes.append(f"serve path skipped: {s}")
    base = f"{os.getpid()}-{int(time.time())}"
    try:
        via_run(wd, base + "-warm")
        if serve:
            serve.submit(base + "-warm")
        run1, run2, srv1, srv2, bare = [], [], [], [], []
        for i in range(bl.ROUNDS):
            nonce = f"{base}-{i}"
            t1, t2 = via_run(wd, nonce + "r")
            run1.append(t1)
            run2.append(t2)
            if serve:
                srv1.append(serve.submit(nonce + "s"))
                srv2.append(serve.submit(nonce + "s"))
            bare.append(bare_compile(wd, nonce + "b"))
            bl.log(f"{NAME}: round {i + 1}/{bl.ROUNDS}: run {t1 * 1e3:.0f} -> {t2 * 1e3:.0f} ms"
                   + (f", serve {srv1[-1] * 1e3:.0f} -> {srv2[-1] * 1e3:.0f} ms" if serve else "")
                   + f", bare g++ {bare[-1] * 1e3:.0f} ms")
    finally:
        if serve:
            serve.close()
    target = {"kind": "ratio_le", "value": 0.1, "text": "<= 0.1 x the first"}
    rows = []
    if serve:
        rows.append(bl.ratio_row("compile_serve", "identical C++ resubmission, runlet serve "
                                 "(second / first)", srv2, srv1, "the first submission",
                                 target=target))
    rows.append(bl.ratio_row("compile_run", "identical C++ resubmission, runlet run "
                             "(second / first)", run2, run1, "the first submission",
                             target=None if serve else target))
    rows.append(bl.ratio_row("compile_first_vs_bare", "first C++ submission (compile + 1 test) "
                             "against a bare g++", run1, bare, "bare g++ -o main main.cpp"))
    notes.append("The target row is the serve path when a broker is available (the "
                 "daemon is where a cache pays), else the run path.")
    return rows, notes


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
