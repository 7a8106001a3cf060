#!/usr/bin/env python3
"""End-to-end tests of `runlet run`: the contract's example, verdicts, and
bad input (exit 2 with a clear message). Prints one line per check and
'N passed, N failed' last; exit 1 on any failure."""
import json
import os
import subprocess
import sys
import tempfile

BUILD, SRC = sys.argv[1], sys.argv[2]
RUNLET = os.path.join(BUILD, "runlet")
CONFIG = os.path.join(SRC, "config.yaml")
passed = failed = 0


def run(args, stdin=None, timeout=300):
    p = subprocess.run([RUNLET] + args, input=stdin, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def judge(job, extra=()):
    rc, out, err = run(["run", "--config", CONFIG, *extra, "-"],
                       stdin=json.dumps(job).encode())
    if rc != 0:
        raise AssertionError(f"exit {rc}: {err.strip()}")
    return json.loads(out)


def check(name, fn):
    global passed, failed
    try:
        fn()
        print(f"ok   {name}")
        passed += 1
    except Exception as e:  # report and go on
        print(f"FAIL {name}: {e}")
        failed += 1


def py(code, tests, **kw):
    job = {"student_id": 7, "problem_id": 42, "course_id": 3, "lang": "py",
           "code": code, "run_data": tests}
    job.update(kw)
    return job


CONTRACT_BODY = open(os.path.join(SRC, "examples", "sum.json"), "rb").read()


def t_contract():
    rc, out, err = run(["run", "--config", CONFIG, "-"], stdin=CONTRACT_BODY)
    assert rc == 0, f"exit {rc}: {err}"
    r = json.loads(out)
    keys = list(r.keys())
    assert keys[:6] == ["test_cases", "err_msg", "code", "problem_id",
                        "student_id", "course_id"], keys
    assert [t["output"] for t in r["test_cases"]] == ["3", "12"], r
    assert [t["test_num"] for t in r["test_cases"]] == [1, 2]
    assert [t["input"] for t in r["test_cases"]] == ["1 2\n", "5 7\n"]
    assert r["status"] == "OK" and r["err_msg"] == ""
    assert r["code"] == json.loads(CONTRACT_BODY)["code"]
    assert (r["problem_id"], r["student_id"], r["course_id"]) == (42, 7, 3)
    for t in r["test_cases"]:
        for k in ("status", "time_ms", "wall_ms", "memory_kb", "exit_code",
                  "signal", "stderr"):
            assert k in t, k
        assert t["status"] == "OK" and t["exit_code"] == 0
    assert r["runner"]["backend"] == "native" and r["runner"]["version"]
    assert isinstance(r["duration_ms"], int)


def t_file_arg():
    rc, out, err = run(["run", "--config", CONFIG, os.path.join(SRC, "examples", "sum.json")])
    assert rc == 0, err
    assert [t["output"] for t in json.loads(out)["test_cases"]] == ["3", "12"]


def t_order_and_wa():
    r = judge(py("print(int(input()) * 2)\n",
                 [{"test_num": 3, "input": "1\n", "output": "2\n"},
                  {"test_num": 1, "input": "2\n", "output": "5"},
                  {"test_num": 2, "input": "3\n"}]))
    assert [t["test_num"] for t in r["test_cases"]] == [3, 1, 2]
    assert [t["status"] for t in r["test_cases"]] == ["OK", "WA", "OK"], r
    assert r["status"] == "WA"


def t_tle():
    r = judge(py("while True:\n    pass\n", [{"test_num": 1, "input": ""}],
                 limits={"time_ms": 500}))
    t = r["test_cases"][0]
    assert t["status"] == "TLE" and t["output"] == "timeout exceeded", t
    assert r["status"] == "TLE"


def t_sleep_wall():
    r = judge(py("import time\ntime.sleep(30)\n", [{"test_num": 1, "input": ""}],
                 limits={"time_ms": 500}))
    t = r["test_cases"][0]
    assert t["status"] == "TLE" and t["output"] == "timeout exceeded", t
    assert t["wall_ms"] < 10000, t


def t_re():
    r = judge(py("x = 1\nprint(x // 0)\n", [{"test_num": 1, "input": ""}]))
    t = r["test_cases"][0]
    assert t["status"] == "RE", t
    assert "ZeroDivisionError" in t["output"], t
    assert "main.py" in t["output"] and "/tmp/" not in t["output"], t
    assert t["exit_code"] == 1


def t_mle():
    r = judge(py("a = []\nwhile True:\n    a.append(' ' * 10**6)\n",
                 [{"test_num": 1, "input": ""}], limits={"memory_mb": 64}))
    t = r["test_cases"][0]
    assert t["status"] == "MLE", t


def t_ole():
    r = judge(py("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                 [{"test_num": 1, "input": ""}], limits={"output_kb": 64}))
    assert r["test_cases"][0]["status"] == "OLE", r["test_cases"][0]


def t_stderr_noise_ok():
    r = judge(py("import sys\nprint('warn', file=sys.stderr)\nprint(5)\n",
                 [{"test_num": 1, "input": "", "output": "5"}]))
    t = r["test_cases"][0]
    assert t["status"] == "OK" and t["output"] == "5" and t["stderr"] == "warn", t


def t_utf8():
    r = judge(py("print(input()[::-1])\n", [{"test_num": 1, "input": "héllo мир\n"}]))
    assert r["test_cases"][0]["output"] == "рим olléh", r["test_cases"][0]


def t_big_input():
    data = "1 2\n" * 300000
    r = judge(py("import sys\nprint(sum(1 for _ in sys.stdin))\n",
                 [{"test_num": 1, "input": data, "output": "300000"}]))
    assert r["test_cases"][0]["status"] == "OK", r["test_cases"][0]


def t_cpp_ce():
    job = {"student_id": 1, "problem_id": 2, "course_id": 3, "lang": "cpp",
           "code": "int main() { return x; }\n",
           "run_data": [{"test_num": 1, "input": ""}, {"test_num": 2, "input": ""}]}
    r = judge(job)
    assert r["status"] == "CE", r
    assert "main.cpp" in r["err_msg"] and "/tmp/" not in r["err_msg"], r["err_msg"]
    assert [t["status"] for t in r["test_cases"]] == ["CE", "CE"]


def t_cpp_ok():
    body = open(os.path.join(SRC, "examples", "sum.cpp.json"), "rb").read()
    rc, out, err = run(["run", "--config", CONFIG, "-"], stdin=body)
    assert rc == 0, err
    r = json.loads(out)
    assert [t["status"] for t in r["test_cases"]] == ["OK", "OK"], r


def expect_exit2(body, *needles):
    rc, out, err = run(["run", "--config", CONFIG, "-"], stdin=body)
    assert rc == 2, f"exit {rc}, stderr {err!r}"
    assert out == "", out
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"


def t_bad_json():
    expect_exit2(b'{"student_id": 7,', "invalid JSON")


def t_bad_fields():
    good = json.loads(CONTRACT_BODY)
    b = dict(good); del b["run_data"]
    expect_exit2(json.dumps(b).encode(), "run_data")
    b = dict(good); b["run_data"] = []
    expect_exit2(json.dumps(b).encode(), "run_data")
    b = dict(good); b["lang"] = "rb"
    expect_exit2(json.dumps(b).encode(), "rb")
    b = dict(good); b["run_data"] = [{"test_num": -1, "input": ""}]
    expect_exit2(json.dumps(b).encode(), "test_num")
    b = dict(good); b["run_data"] = [{"test_num": 1, "input": ""}, {"test_num": 1, "input": ""}]
    expect_exit2(json.dumps(b).encode(), "duplicate")


def t_usage():
    rc, out, err = run(["run"])
    assert rc == 2 and "usage" in err, (rc, err)
    rc, out, err = run(["run", "--backend", "qemu", "x.json"])
    assert rc == 2 and "qemu" in err, (rc, err)
    rc, out, err = run(["run", "/nonexistent/job.json"])
    assert rc == 2 and "/nonexistent/job.json" in err, (rc, err)


def t_bad_config():
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("runners:\n  py:\n    run_args: [python3, '{src}']\n    run_timeout: ten\n")
        path = f.name
    try:
        rc, out, err = run(["run", "--config", path, "-"], stdin=CONTRACT_BODY)
        assert rc == 2, (rc, err)
        assert f"{path}:4:" in err and "run_timeout" in err and "ten" in err, err
        rc, out, err = run(["check-config", path])
        assert rc == 2 and "run_timeout" in err, (rc, err)
    finally:
        os.unlink(path)


def t_check_config_and_plugins():
    rc, out, err = run(["check-config", CONFIG])
    assert rc == 0 and "ok" in out, (rc, out, err)
    rc, out, err = run(["plugins", "--config", CONFIG])
    assert rc == 0, err
    assert "python" in out and "runlet-python.so" in out, out


CACHE_CONFIG = """
runners:
  cpp:
    compile_args: ["g++", "-O2", "-o", "{bin}", "{src}"]
    run_args: ["{src}"]
    run_timeout: 5
compile_cache:
  dir: %s
  max_size: 64m
"""

POISON = r"""
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>
int main() {
    long a, b;
    if (scanf("%ld %ld", &a, &b) != 2) return 1;
    printf("%ld\n", a + b);
    fflush(stdout);
    unlink("/tmp/main");
    FILE *f = fopen("/tmp/main", "w");
    if (f) { fputs("#!/bin/sh\necho pwned\n", f); fclose(f); chmod("/tmp/main", 0755); }
    FILE *c = fopen("%s/poison", "w");
    if (c) { fputs("x", c); fclose(c); fprintf(stderr, "cache dir writable\n"); }
    return 0;
}
"""


def with_cache(fn):
    d = tempfile.mkdtemp(prefix="runlet-cc-")
    cfg = os.path.join(d, "config.yaml")
    cdir = os.path.join(d, "cache")
    with open(cfg, "w") as f:
        f.write(CACHE_CONFIG % cdir)
    try:
        fn(cfg, cdir)
    finally:
        subprocess.run(["rm", "-rf", d])


def judge_cfg(cfg, job):
    rc, out, err = run(["run", "--config", cfg, "-"], stdin=json.dumps(job).encode())
    assert rc == 0, err
    return json.loads(out)


def t_cache_hit():
    def body(cfg, cdir):
        job = json.loads(open(os.path.join(SRC, "examples", "sum.cpp.json")).read())
        first = judge_cfg(cfg, job)
        second = judge_cfg(cfg, job)
        assert first["status"] == second["status"] == "OK", (first, second)
        assert len([n for n in os.listdir(cdir) if len(n) == 64]) == 1, os.listdir(cdir)
        assert second["duration_ms"] <= max(first["duration_ms"] // 2, 1), (
            first["duration_ms"], second["duration_ms"])
        job["code"] += "// another source\n"
        judge_cfg(cfg, job)
        assert len([n for n in os.listdir(cdir) if len(n) == 64]) == 2
    with_cache(body)


def t_cache_poison():
    def body(cfg, cdir):
        job = {"student_id": 1, "problem_id": 2, "course_id": 3, "lang": "cpp",
               "code": POISON.replace("%s", cdir),
               "run_data": [{"test_num": 1, "input": "1 2\n", "output": "3"},
                            {"test_num": 2, "input": "1 2\n", "output": "3"}]}
        first = judge_cfg(cfg, job)
        # sealed: the program could not replace its own binary for test 2
        assert [t["output"] for t in first["test_cases"]] == ["3", "3"], first
        second = judge_cfg(cfg, job)
        assert second["test_cases"][0]["output"] == "3", second
        outs = json.dumps([r["test_cases"] for r in (first, second)])
        assert "pwned" not in outs and "cache dir writable" not in outs, outs
        assert not os.path.exists(os.path.join(cdir, "poison"))
    with_cache(body)


def t_env_config_path():
    env = dict(os.environ, CONFIG_PATH=CONFIG)
    p = subprocess.run([RUNLET, "run", "-"], input=CONTRACT_BODY, capture_output=True,
                       env=env, cwd="/", timeout=120)
    assert p.returncode == 0, p.stderr


checks = [
    ("contract example", t_contract), ("job from a file", t_file_arg),
    ("order kept, WA against expected output", t_order_and_wa),
    ("TLE on a busy loop", t_tle), ("TLE on sleep (wall limit)", t_sleep_wall),
    ("RE with a clean traceback", t_re), ("MLE", t_mle), ("OLE", t_ole),
    ("stderr noise with exit 0 is OK", t_stderr_noise_ok), ("UTF-8", t_utf8),
    ("1.2 MB of stdin", t_big_input), ("C++ compile error", t_cpp_ce),
    ("C++ accepted", t_cpp_ok), ("invalid JSON -> exit 2", t_bad_json),
    ("invalid fields -> exit 2", t_bad_fields), ("usage errors", t_usage),
    ("config errors name file:line:col", t_bad_config),
    ("check-config and plugins", t_check_config_and_plugins),
    ("CONFIG_PATH", t_env_config_path),
    ("compile cache: identical resubmission is a hit", t_cache_hit),
    ("compile cache: a submission cannot poison it", t_cache_poison),
]
only = os.environ.get("RUNLET_TEST_ONLY")
for name, fn in checks:
    if only and only not in name:
        continue
    check(name, fn)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
