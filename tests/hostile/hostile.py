#!/usr/bin/env python3
"""The hostile-submission suite: each case is a submission with the verdicts
it may get; after each, three checks: the host is untouched (canary paths
absent, secrets not in the result, no connection reached the host's
loopback listeners), nothing of it still runs (its marker processes and its
cgroups are gone), and the next ordinary submission is judged correctly.

usage: hostile.py BUILD_DIR SRC_DIR GROUP   (GROUP: resources|escape|compile|all)
Prints one line per check and 'N passed, N failed' last. Exit 77 (skip) when
not root; under CI=true a skip is a failure."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES, ORDINARY  # noqa: E402

BUILD, SRC, GROUP = sys.argv[1], sys.argv[2], sys.argv[3]
RUNLET = os.path.join(BUILD, "runlet")
CONFIG = os.path.join(SRC, "tests", "hostile", "config.yaml")
TOKEN = "runlet-secret-" + secrets.token_hex(8)
SECRET = f"/root/runlet-hostile-secret-{os.getpid()}"
CANARY = "runlet-pwned"
CANARY_DIRS = ["/usr", "/etc", "/root", "/var/tmp", "/tmp", "/", "/home", "/run"]
passed = failed = skipped = 0


def say(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {why}")
    sys.stdout.flush()


class Listener:
    """A TCP listener on the host's loopback that counts connections."""

    def __init__(self, port=0):
        self.hits = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.hits += 1
            try:
                c.sendall(b"HOST-LOOPBACK-BANNER\n")
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def runlet_pids_cgroups(pid):
    """Cgroup dirs left by the runlet process `pid` (names start '<pid>-')."""
    left = []
    for root, _, _ in [(r, None, None) for r in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                               "/sys/fs/cgroup/cpu", "/sys/fs/cgroup")]:
        for dirpath, dirnames, _ in os.walk(root):
            if os.path.basename(dirpath) == "runlet":
                left += [os.path.join(dirpath, d) for d in dirnames
                         if d.startswith(f"{pid}-")]
                dirnames[:] = []
            elif dirpath.count("/") > 8:
                dirnames[:] = []
    return left


def procs_with(marker):
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(p))
        except OSError:
            pass
    return found


def judge(job, timeout=300):
    t0 = time.monotonic()
    p = subprocess.Popen([RUNLET, "run", "--config", CONFIG, "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate(json.dumps(job).encode(), timeout=timeout)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        raise AssertionError(f"runlet exit {p.returncode}: {err.decode()[-500:]}")
    return json.loads(out), p.pid, dt, out.decode("utf-8", "replace")


def job_of(lang, code, inputs):
    return {"student_id": 1, "problem_id": 1, "course_id": 1, "lang": lang,
            "code": code,
            "run_data": [dict(test_num=i + 1, **t) for i, t in enumerate(inputs)]}


def have(lang):
    return {"py": "python3", "cpp": "g++", "go": "go"}[lang]


def run_case(c, ports):
    name = c["name"]
    lang = c["lang"]
    if shutil.which(have(lang)) is None:
        global skipped
        skipped += 1
        print(f"skip {name}: {have(lang)} is not installed")
        return
    code = c["code"].replace("@SECRET@", SECRET).replace("@PORT@", str(ports[0])) \
        .replace("@CANARY@", CANARY)
    inputs = c.get("tests", [{"input": ""}])
    before = {d: os.path.exists(os.path.join(d, CANARY)) for d in CANARY_DIRS}
    try:
        res, pid, dt, raw = judge(job_of(lang, code, inputs))
    except Exception as e:  # noqa: BLE001
        say(False, f"{name}: verdict", str(e))
        return
    statuses = [t["status"] for t in res["test_cases"]]
    want = c["expect"]
    ok = all(s in want for s in statuses) and len(statuses) == len(inputs)
    say(ok, f"{name}: verdict {statuses} in {sorted(want)} ({dt:.1f}s)",
        f"got {statuses}; err_msg={res.get('err_msg')!r}; "
        f"first output={res['test_cases'][0].get('output', '')[:300]!r}")
    if "max_s" in c:
        say(dt <= c["max_s"], f"{name}: judged within {c['max_s']}s", f"took {dt:.1f}s")
    for fn in c.get("checks", []):
        why = fn(res)
        say(why is None, f"{name}: {fn.__name__}", why or "")
    # 1. the host is untouched
    touched = [d for d in CANARY_DIRS
               if os.path.exists(os.path.join(d, CANARY)) and not before[d]]
    leaked = TOKEN in raw or "root:$" in raw or "root:*" in raw or "root:!" in raw
    with open(SECRET) as f:
        secret_ok = f.read() == TOKEN
    hits = sum(listener.hits for listener in LISTENERS)
    say(not touched and not leaked and secret_ok and hits == 0,
        f"{name}: host untouched",
        f"canaries={touched} leaked={leaked} secret_intact={secret_ok} loopback_hits={hits}")
    # 2. nothing of it still runs
    marker = c.get("marker")
    deadline = time.monotonic() + 2
    while True:
        left = runlet_pids_cgroups(pid)
        procs = procs_with(marker) if marker else []
        if (not left and not procs) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    say(not left and not procs, f"{name}: nothing left running",
        f"cgroups={left} processes={procs}")
    # 3. the next ordinary submission is judged correctly
    for olang in sorted({"py", lang}):
        o = ORDINARY[olang]
        try:
            r2, _, _, _ = judge(job_of(olang, o, [{"input": "1 2\n", "output": "3"},
                                                 {"input": "5 7\n", "output": "12"}]))
            st = [t["status"] for t in r2["test_cases"]]
            outs = [t["output"] for t in r2["test_cases"]]
            say(st == ["OK", "OK"] and outs == ["3", "12"],
                f"{name}: next {olang} submission judged", f"{st} {outs}")
        except Exception as e:  # noqa: BLE001
            say(False, f"{name}: next {olang} submission judged", str(e))


LISTENERS = []


def main():
    if os.geteuid() != 0:
        print("SKIP: the hostile suite runs the native sandbox, which needs root")
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    with open(SECRET, "w") as f:
        f.write(TOKEN)
    os.chmod(SECRET, 0o644)  # readable by everyone on the host: only the sandbox hides it
    try:
        LISTENERS.append(Listener())
        if port_free(5672):
            LISTENERS.append(Listener(5672))
        ports = [LISTENERS[0].port]
        for c in CASES:
            if GROUP in ("all", c["group"]):
                run_case(c, ports)
    finally:
        for listener in LISTENERS:
            listener.close()
        os.unlink(SECRET)
        for d in CANARY_DIRS:
            p = os.path.join(d, CANARY)
            if os.path.exists(p):
                print(f"note: removing canary {p}")
                os.unlink(p)
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    if skipped and os.environ.get("CI") == "true":
        sys.exit(1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
