#!/usr/bin/env python3
"""Integration tests of the docker backend against a real dockerd.

usage: docker_test.py BUILD_DIR SRC_DIR CASE
CASE: setup | languages | hardening | isolation | isolation_bind |
      crash_cleanup | on_demand | engine_missing | no_leftovers |
      pool_languages | pool_replace | pool_crash | pool_timing |
      hostile-GROUP (the hostile suite's GROUP with --backend docker)
Prints one line per check and 'N passed, N failed' last. Exits 77 (skip)
when no engine answers or config.local.yaml is missing (make images); under
CI=true a skip is a failure. Engine state is read through the Engine API on
/var/run/docker.sock (no docker CLI)."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

BUILD, SRC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
RUNLET = os.path.join(BUILD, "runlet")
# RUNLET_DOCKER_IT_CONFIG: another config (e.g. with its own image names)
CONFIG = os.environ.get("RUNLET_DOCKER_IT_CONFIG") or os.path.join(SRC, "config.local.yaml")
SOCK = "/var/run/docker.sock"
passed = failed = 0


def say(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {why}")
    sys.stdout.flush()


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def skip(why):
    print(f"SKIP {CASE}: {why}")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def api(method, path):
    c = UnixHTTP(SOCK)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, (json.loads(body) if body[:1] in (b"{", b"[") else body)


def runlet_containers():
    q = urllib.parse.quote(json.dumps({"label": ["runlet"]}))
    st, body = api("GET", f"/containers/json?all=1&filters={q}")
    return body if st == 200 else []


def running_of(pid):
    """Running containers of the runlet process pid (job ids are <pid>-<n>)."""
    return [c for c in runlet_containers() if c.get("State") == "running" and
            (c.get("Labels") or {}).get("runlet.job", "").startswith(f"{pid}-")]


def runlet_volumes():
    q = urllib.parse.quote(json.dumps({"label": ["runlet"]}))
    st, body = api("GET", f"/volumes?filters={q}")
    return (body.get("Volumes") or []) if st == 200 else []


def job(lang, code, tests, limits=None):
    j = {"student_id": 1, "problem_id": 2, "course_id": 3, "lang": lang,
         "code": code,
         "run_data": [{"test_num": i + 1, "input": t[0], "output": t[1]}
                      for i, t in enumerate(tests)]}
    if limits:
        j["limits"] = limits
    return j


def run(j, config=CONFIG, env=None, timeout=300):
    e = dict(os.environ)
    e.pop("CONFIG_PATH", None)
    e.update(env or {})
    p = subprocess.run([RUNLET, "run", "--backend", "docker", "--config", config, "-"],
                       input=json.dumps(j), capture_output=True, text=True,
                       timeout=timeout, env=e)
    try:
        res = json.loads(p.stdout)
    except ValueError:
        res = None
    return p.returncode, res, p.stderr


def precheck():
    if not os.path.exists(SOCK):
        skip(f"no Docker engine socket at {SOCK} (scripts/services.d/dockerd.sh start)")
    try:
        st, _ = api("GET", "/_ping")
    except OSError as e:
        skip(f"the Docker engine does not answer on {SOCK}: {e}")
    if st != 200:
        skip(f"the Docker engine answers {st} on /_ping")
    if not os.path.exists(CONFIG):
        skip(f"{CONFIG} missing: run `make images` (scripts/images.sh)")


SUM = {
    "py": "a, b = map(int, input().split())\nprint(a + b)\n",
    "go": "package main\nimport \"fmt\"\nfunc main() { var a, b int; fmt.Scan(&a, &b); fmt.Println(a + b) }\n",
    "js": "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n",
    "cs": "using System;\nclass Program { static void Main() { var p = Console.ReadLine().Split(' ');\n"
          "Console.WriteLine(int.Parse(p[0]) + int.Parse(p[1])); } }\n",
    "cpp": "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << std::endl; }\n",
}


def case_setup():
    env = dict(os.environ, RUNLET=RUNLET)
    p = subprocess.run(["bash", os.path.join(SRC, "scripts", "images.sh")], cwd=SRC,
                       env=env, capture_output=True, text=True, timeout=3000)
    say(p.returncode == 0, "scripts/images.sh builds or reuses every image",
        p.stderr[-2000:])


def case_languages():
    for lang, code in SUM.items():
        t0 = time.time()
        rc, res, err = run(job(lang, code, [("1 2\n", "3"), ("5 7\n", "12")]))
        ok = rc == 0 and res and res["status"] == "OK" and \
            [t["output"] for t in res["test_cases"]] == ["3", "12"] and \
            res["runner"]["backend"] == "docker"
        say(ok, f"{lang}: judged OK in a container ({time.time() - t0:.1f} s)",
            f"rc={rc} result={json.dumps(res)[:600] if res else None} stderr={err[-600:]}")


HARDENING = r'''
import os
def cap(name):
    for l in open("/proc/self/status"):
        if l.startswith(name + ":"):
            return l.split()[1]
print("uid", os.getuid(), os.getgid())
print("capeff", cap("CapEff"), "capbnd", cap("CapBnd"))
print("nonewprivs", cap("NoNewPrivs"))
print("net", ",".join(sorted(os.listdir("/sys/class/net"))))
try:
    open("/etc/runlet-probe", "w"); print("rootfs writable")
except OSError as e:
    print("rootfs", e.errno)
for l in open("/proc/mounts"):
    f = l.split()
    if f[1] == "/tmp":
        print("tmpfs", f[2], ",".join(o for o in f[3].split(",") if o in ("nosuid", "nodev", "ro", "rw", "noexec")))
print("home", sorted(os.listdir("/home/sandbox")))
print("pid1", open("/proc/1/cmdline").read().split("\0")[0])
print("lang", os.environ.get("LANG"))
for f in ("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"):
    if os.path.exists(f):
        print("pids", open(f).read().strip())
        break
'''


def case_hardening():
    rc, res, err = run(job("py", HARDENING, [("", None)]))
    if not (rc == 0 and res):
        say(False, "hardening probe ran", f"rc={rc} {err[-800:]}")
        return
    out = res["test_cases"][0]["output"]
    lines = dict(l.split(" ", 1) for l in out.splitlines() if " " in l)
    say(lines.get("uid") == "1001 1001", "runs as uid/gid 1001", out)
    say(lines.get("capeff", "").startswith("0000000000000000 capbnd 0000000000000000"),
        "no capabilities (effective and bounding)", out)
    say(lines.get("nonewprivs") == "1", "no_new_privs", out)
    say(lines.get("net") == "lo", "no network but loopback", out)
    say(lines.get("rootfs") in ("30", "13"), "read-only root filesystem", out)
    say(lines.get("tmpfs", "").startswith("tmpfs") and "nosuid" in lines.get("tmpfs", "")
        and "nodev" in lines.get("tmpfs", ""), "tmpfs work dir nosuid,nodev", out)
    say(lines.get("home") == "['plan']", "the staging dir holds this job's plan only", out)
    say(lines.get("pid1") == "/runlet/runlet-runner", "runlet-runner is PID 1", out)
    say(lines.get("lang") == "py", "LANG is the language code", out)
    say(lines.get("pids", "max").isdigit() and int(lines["pids"]) <= 200,
        "the container has a pids limit", out)


SECRET_A = "RUNLET_SECRET_A_" + os.urandom(6).hex()
CODE_A = f'import time\nsecret = "{SECRET_A}"\ntime.sleep(6)\nprint("done")\n'
# B builds the secret at run time so its own plan does not contain it
CODE_B = f'''
import os, time
want = "RUNLET_SECRET_" + "A_" + "{SECRET_A[len("RUNLET_SECRET_A_"):]}"
time.sleep(2)
hits = []
for top in ("/home", "/tmp", "/runlet", "/var", "/run", "/mnt", "/srv", "/opt", "/root"):
    for d, dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, "rb") as fh:
                    if want.encode() in fh.read(64 << 20):
                        hits.append(p)
            except OSError:
                pass
print("LEAK " + " ".join(hits) if hits else "CLEAN")
'''


def isolation(env, label):
    e = dict(os.environ)
    e.pop("CONFIG_PATH", None)
    e.update(env)
    ja = job("py", CODE_A, [("", "done")])
    fa = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    fa.write(json.dumps(ja))
    fa.close()
    pa = subprocess.Popen([RUNLET, "run", "--backend", "docker", "--config", CONFIG, fa.name],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    # B starts once A's container runs
    for _ in range(150):
        if running_of(pa.pid):
            break
        time.sleep(0.1)
    rc, res, err = run(job("py", CODE_B, [("", "CLEAN")]), env=env)
    out_a, err_a = pa.communicate(timeout=120)
    os.unlink(fa.name)
    ra = json.loads(out_a) if out_a.strip() else None
    say(ra is not None and ra["status"] == "OK", f"{label}: job A ran meanwhile", err_a[-500:])
    say(rc == 0 and res and res["test_cases"][0]["output"] == "CLEAN",
        f"{label}: job B cannot read job A's files while both run",
        f"rc={rc} {json.dumps(res)[:600] if res else err[-600:]}")


def case_isolation():
    isolation({}, "archive staging")


def case_isolation_bind():
    root = tempfile.mkdtemp(prefix="runlet-staging-it-")
    os.chmod(root, 0o700)
    isolation({"RUNLET_DOCKER_STAGING": "bind", "RUNLET_DOCKER_STAGING_DIR": root},
              "bind staging")
    left = os.listdir(root)
    say(left == [], "bind staging: every job dir removed", str(left))
    shutil.rmtree(root, ignore_errors=True)


def case_crash_cleanup():
    root = tempfile.mkdtemp(prefix="runlet-staging-crash-")
    os.chmod(root, 0o700)
    killed = []
    for mode in ("archive", "bind"):
        env = dict(os.environ, RUNLET_DOCKER_STAGING=mode, RUNLET_DOCKER_STAGING_DIR=root)
        env.pop("CONFIG_PATH", None)
        mine = f"crash-{mode}-{os.getpid()}"
        jf = os.path.join(root, "..", f"runlet-crash-{os.getpid()}.json")
        with open(jf, "w") as f:
            f.write(json.dumps(job("py", f"import time\n# {mine}\ntime.sleep(8)\n", [("", "")])))
        p = subprocess.Popen([RUNLET, "run", "--backend", "docker", "--config", CONFIG, jf],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        seen = None
        for _ in range(150):
            cs = running_of(p.pid)
            if cs:
                seen = cs[0]["Id"]
                break
            time.sleep(0.1)
        p.send_signal(signal.SIGKILL)
        p.wait()
        killed.append(p.pid)
        os.unlink(jf)
        say(seen is not None, f"{mode}: a job's container ran when runlet was killed")
        st, _ = api("GET", f"/containers/{seen}/json") if seen else (404, None)
        say(st == 200, f"{mode}: the killed runlet left its container behind")
        if mode == "bind":
            say(len(os.listdir(root)) == 1, f"{mode}: and its staging dir", str(os.listdir(root)))
        # the next runlet sweeps it at startup
        rc, res, err = run(job("py", SUM["py"], [("1 2\n", "3")]), env=env)
        say(rc == 0 and res and res["status"] == "OK", f"{mode}: the next runlet judges",
            err[-500:])
        st, _ = api("GET", f"/containers/{seen}/json") if seen else (404, None)
        say(st == 404, f"{mode}: the next runlet removed the dead one's container")
        if mode == "bind":
            say(os.listdir(root) == [], f"{mode}: and its staging dir", str(os.listdir(root)))
    vols = [v["Name"] for v in runlet_volumes()
            if any(f"/{pid}/" in (v.get("Labels") or {}).get("runlet.owner", "") for pid in killed)]
    say(vols == [], "no volume of the killed runlets left", str(vols))
    shutil.rmtree(root, ignore_errors=True)


def case_on_demand():
    pid = os.getpid()
    text = open(CONFIG).read()
    text = re.sub(r'(?m)^runner_image_name_pattern:.*$', '', text)
    text = re.sub(r'(?m)^shared_image_name:.*$', '', text)
    text += f'\nrunner_image_name_pattern: "runlet_it{pid}_{{}}"\nshared_image_name: runlet_it{pid}_shared\n'
    d = tempfile.mkdtemp(prefix="runlet-ondemand-")
    cfg = os.path.join(d, "config.yaml")
    open(cfg, "w").write(text)
    name = f"runlet_it{pid}_py"
    api("DELETE", f"/images/{name}?force=1")
    st, _ = api("GET", f"/images/{name}/json")
    say(st == 404, "the runner image is missing at startup")
    rc, res, err = run(job("py", SUM["py"], [("1 2\n", "3")]), config=cfg)
    say(rc == 0 and res and res["status"] == "OK", "the job is judged", err[-800:])
    st, img = api("GET", f"/images/{name}/json")
    say(st == 200, "the runner image was built on demand")
    if st == 200:
        labels = img["Config"]["Labels"] or {}
        say(labels.get("runlet.image") == "runlet-lang-py:bookworm" and "runlet.runner" in labels,
            "it is labelled with its language image and runner", str(labels))
        say(img["Config"]["User"] == "1001:1001", "it runs as the sandbox user", img["Config"]["User"])
    # a language image that cannot be had: the build error is shown
    text2 = re.sub(r'image: runlet-lang-py:bookworm', 'image: runlet-no-such-image:none', text)
    cfg2 = os.path.join(d, "config2.yaml")
    open(cfg2, "w").write(text2)
    rc, res, err = run(job("py", SUM["py"], [("1 2\n", "3")]), config=cfg2)
    msg = (res or {}).get("err_msg", "") + err
    say(res is not None and res["status"] == "IE" and "runlet-no-such-image" in msg,
        "a failed build is an IE naming the image", msg[-800:])
    for n in (name, f"runlet_it{pid}_shared"):
        api("DELETE", f"/images/{n}?force=1")
    shutil.rmtree(d, ignore_errors=True)


def case_engine_missing():
    rc, res, err = run(job("py", SUM["py"], [("1 2\n", "3")]),
                       env={"DOCKER_HOST": f"unix:///tmp/runlet-no-engine-{os.getpid()}.sock"})
    text = err + ((res or {}).get("err_msg") or "")
    say(rc != 0 or (res and res["status"] == "IE"), "no engine: runlet fails the job", text[-400:])
    say("not running" in text and "dockerd" in text, "and says the engine is not running and how to start it",
        text[-400:])


def owner_alive(tag):
    """The runlet that made a container still runs (host/pid/starttime)."""
    try:
        host, pid, start = (tag or "").split("/")
        if host != socket.gethostname():
            return False
        stat = open(f"/proc/{int(pid)}/stat").read()
        fields = stat[stat.rindex(")") + 2:].split()
        return fields[0] not in ("Z", "X") and fields[19] == start
    except (OSError, ValueError):
        return False


def case_no_leftovers():
    # Containers of runlets that still run are jobs in progress (another
    # runlet on this engine); wait for them a little. Any whose runlet is
    # gone is a leak. Under CI nothing else uses the engine: none may stay.
    strict = os.environ.get("CI") == "true"
    for _ in range(60):
        cs = runlet_containers()
        if not cs or (not strict and
                      all(owner_alive((c.get("Labels") or {}).get("runlet.owner")) for c in cs)):
            break
        time.sleep(0.5)
    leaked = [(c["Id"][:12], (c.get("Labels") or {}).get("runlet.job")) for c in cs
              if strict or not owner_alive((c.get("Labels") or {}).get("runlet.owner"))]
    say(leaked == [], "no runlet container left after the suite", str(leaked))
    vols = [v for v in runlet_volumes()
            if strict or not owner_alive((v.get("Labels") or {}).get("runlet.owner"))]
    # a volume is removed with its container: one of a live job is in use
    say(vols == [], "no runlet volume left after the suite", str([v["Name"] for v in vols]))


def case_hostile(group):
    """tests/hostile/hostile.py reads SRC/tests/hostile/config.yaml: give it a
    tree whose config is the suite's own with the docker backend and the
    local language images, and run it unchanged."""
    d = tempfile.mkdtemp(prefix="runlet-hostile-docker-")
    hd = os.path.join(d, "tests", "hostile")
    os.makedirs(hd)
    for f in ("hostile.py", "cases.py"):
        shutil.copy(os.path.join(SRC, "tests", "hostile", f), hd)
    text = open(os.path.join(SRC, "tests", "hostile", "config.yaml")).read()
    for code in ("py", "cpp", "go"):
        text = re.sub(rf"(?m)^  {code}:\n", f"  {code}:\n    image: runlet-lang-{code}:bookworm\n", text, count=1)
    text = re.sub(r"(?m)^backend:.*$", "backend: docker", text)
    text += f"\ndockerfiles_path: {os.path.join(SRC, 'dockerfiles')}\n"
    open(os.path.join(hd, "config.yaml"), "w").write(text)
    p = subprocess.run([sys.executable, os.path.join(hd, "hostile.py"), BUILD, d, group],
                       capture_output=True, text=True, timeout=1800)
    sys.stdout.write(p.stdout)
    shutil.rmtree(d, ignore_errors=True)
    if p.returncode == 77:
        skip(p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "hostile suite skipped")
    say(p.returncode == 0, f"hostile {group} with --backend docker", p.stderr[-1500:])


# --- the warm pool (docker.pool_size) ---------------------------------------
# A pool helps a process that judges many jobs (serve, plugin-test): these
# cases run `runlet plugin-test` on generated case dirs, one process each,
# and read its docker_pool_take / docker_pool_discarded log lines. A
# language's pool fills from its second job on: its first two go cold.
POOL = 2
TAKE = re.compile(r"event=docker_pool_take container=([0-9a-f]+) job=\S* lang=(\S+)")
DISCARD = re.compile(r"event=docker_pool_discarded container=([0-9a-f]+)")


def pool_config(d, size=POOL):
    text = open(CONFIG).read()
    text = re.sub(r"(?m)^dockerfiles_path:\s*dockerfiles\s*$",
                  f"dockerfiles_path: {os.path.join(SRC, 'dockerfiles')}", text)
    if re.search(r"(?m)^docker:\s*$", text):
        text = re.sub(r"(?m)^docker:\s*$", f"docker:\n  pool_size: {size}", text, count=1)
    else:
        text += f"\ndocker:\n  pool_size: {size}\n"
    path = os.path.join(d, f"pool{size}.yaml")
    open(path, "w").write(text)
    return path


def write_cases(d, cases):
    """cases: [(name, source, [(input, output)...])] as plugin-test JSON cases."""
    os.makedirs(d, exist_ok=True)
    for name, src, tests in cases:
        with open(os.path.join(d, f"{name}.json"), "w") as f:
            json.dump({"description": name, "source": src,
                       "tests": [{"input": i, "output": o} for i, o in tests]}, f)
    return d


def plugin_test(config, plugin, cases, timeout=600, popen=False):
    argv = [RUNLET, "plugin-test", "--backend", "docker", "--config", config, plugin, cases]
    e = dict(os.environ)
    e.pop("CONFIG_PATH", None)
    if popen:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=SRC, env=e)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       cwd=SRC, env=e, timeout=timeout)
    return p.returncode, p.stdout


def owned_by(pid):
    return [c for c in runlet_containers()
            if f"/{pid}/" in (c.get("Labels") or {}).get("runlet.owner", "")]


def left_of(pid, what):
    cs = owned_by(pid)
    say(cs == [], f"{what}: none of its containers left after it ended",
        str([(c["Id"][:12], c.get("State")) for c in cs]))


PLUGIN = {"py": "python", "go": "go", "js": "js", "cs": "csharp", "cpp": "cpp"}


PROBE = r'''
import os
def first(*fs):
    for f in fs:
        if os.path.exists(f):
            return open(f).read().strip()
print("pids", first("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"))
print("mem", first("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"))
print("uid", os.getuid(), "lang", os.environ.get("LANG"), "tmp", sorted(os.listdir("/tmp")))
'''


def case_pool_languages():
    """Every language judged through the pool: the sum case a few times, then
    each plugin's own cases (limits, errors, timeouts) on warm containers."""
    d = tempfile.mkdtemp(prefix="runlet-pool-it-")
    cfg = pool_config(d)
    ids = []
    # a warm container gets the job's limits (64 MiB here) and no trace of others
    cases = os.path.join(d, "probe")
    write_cases(cases, [("a_quick", "print(1)\n", [("", "1")]), ("a_fill", "import time\ntime.sleep(3)\n", [("", "")])])
    for i in range(2):
        with open(os.path.join(cases, f"b_probe{i}.json"), "w") as f:
            json.dump({"description": "probe", "source": PROBE, "limits": {"memory_mb": 64},
                       "tests": [{"input": "", "output": "-"}]}, f)
    argv = [RUNLET, "plugin-test", "--verbose", "--backend", "docker", "--config", cfg,
            "python", cases]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       cwd=SRC, timeout=300)
    takes = [m.group(1) for m in TAKE.finditer(p.stdout)]
    outs = re.findall(r'(?m)^\s+test 1: \w+ \d+ ms.*output "(pids [^"]*)"', p.stdout)
    say(len(takes) >= 2 and len(outs) == 2, "probe jobs ran on warm containers", p.stdout[-1500:])
    for o in outs:
        o = o.replace("\\n", "\n")
        say(f"mem {64 << 20}" in o, "a warm container has the job's memory limit", o)
        say(re.search(r"pids \d+", o) is not None, "and a pids limit", o)
        say("uid 1001 lang py tmp ['main.py']" in o, "runs as 1001 with LANG=py and only "
            "its own files in its tmpfs", o)
    ids += takes
    for lang, code in SUM.items():
        cases = write_cases(os.path.join(d, lang), [
            (f"sum{i}", code, [("1 2\n", "3"), ("5 7\n", "12")]) for i in range(8)])
        p = plugin_test(cfg, PLUGIN[lang], cases, popen=True)
        out, _ = p.communicate(timeout=600)
        takes = [m.group(1) for m in TAKE.finditer(out) if m.group(2) == lang]
        say(p.returncode == 0 and "8 passed, 0 failed" in out,
            f"{lang}: judged OK through the pool", out[-1500:])
        # the first jobs may come before the pool has this language's
        say(len(takes) >= 2, f"{lang}: jobs ran on warm containers ({len(takes)} of 8)", out[-800:])
        left_of(p.pid, f"{lang}")
        ids += takes
    for lang, plugin in PLUGIN.items():
        p = plugin_test(cfg, plugin, os.path.join(SRC, "plugins", plugin, "cases"), popen=True)
        out, _ = p.communicate(timeout=900)
        takes = [m.group(1) for m in TAKE.finditer(out)]
        say(p.returncode == 0 and takes, f"{plugin}: the plugin's cases pass on warm containers "
            f"({len(takes)} jobs took one)", out[-2500:])
        left_of(p.pid, plugin)
        ids += takes
    say(len(ids) == len(set(ids)), f"single use: {len(ids)} jobs, {len(set(ids))} containers",
        str(sorted(i for i in ids if ids.count(i) > 1)))
    shutil.rmtree(d, ignore_errors=True)


SLEEP = "import time\ntime.sleep(5)\nprint('slept')\n"


def idle_pool(pid, taken, lang="py"):
    return [c["Id"] for c in owned_by(pid) if c.get("State") == "running" and
            (c.get("Labels") or {}).get("runlet.job") == f"pool-{lang}" and
            c["Id"][:12] not in taken]


def case_pool_replace():
    """A warm container killed while idle is discarded, replaced, and never
    handed a job; a failed job's container is not reused; none left."""
    d = tempfile.mkdtemp(prefix="runlet-pool-it-")
    cfg = pool_config(d)
    cases = write_cases(os.path.join(d, "cases"), [
        ("a_sum", SUM["py"], [("1 2\n", "3")]),
        ("b_sum", SUM["py"], [("1 2\n", "3")]),
        ("c_sleep", SLEEP, [("", "slept")]),
        ("d_sleep", SLEEP, [("", "slept")]),
        ("e_fail", "import sys\nsys.exit(3)\n", [("", "x")]),
        ("f_sum", SUM["py"], [("1 2\n", "3")]),
        ("g_sum", SUM["py"], [("1 2\n", "3")])])
    # e_fail expects output "x" and gets an RE: plugin-test counts it failed
    p = plugin_test(cfg, "python", cases, popen=True)
    lines = []
    import threading
    t = threading.Thread(target=lambda: lines.extend(p.stdout), daemon=True)
    t.start()
    killed = None
    before = []
    for _ in range(300):
        text = "".join(lines)
        taken = {m.group(1) for m in TAKE.finditer(text)}
        idle = idle_pool(p.pid, taken)
        done = len(re.findall(r"(?m)^(ok|FAIL) ", text))
        # a sleeper holds a warm container and no take is due for seconds
        sleeping = 2 <= done < 4 and lines and TAKE.search(lines[-1])
        if killed is None and len(idle) >= 1 and sleeping:
            killed = idle[0]
            before = idle
            api("POST", f"/containers/{killed}/kill?signal=KILL")
        if killed:
            fresh = [i for i in idle_pool(p.pid, taken) if i not in before]
            if fresh:
                break
        time.sleep(0.1)
    say(killed is not None, "a warm py container was idle while a job ran")
    say(killed is not None and bool(fresh), "the killed one was replaced by a new warm container")
    p.wait(timeout=300)
    t.join(timeout=30)
    out = "".join(lines)
    takes = [m.group(1) for m in TAKE.finditer(out)]
    discards = [m.group(1) for m in DISCARD.finditer(out)]
    say(killed is not None and killed[:12] in discards, "it was discarded as dead",
        out[-1500:])
    say(killed is not None and killed[:12] not in takes, "it was never handed a job", str(takes))
    say("6 passed, 1 failed" in out and "FAIL e_fail" in out,
        "the other jobs are judged right (the failing one as expected)", out[-1500:])
    say(len(takes) == len(set(takes)), "no two jobs shared a container (the failed job's "
        "container was not reused)", str(takes))
    left_of(p.pid, "plugin-test")
    shutil.rmtree(d, ignore_errors=True)


def case_pool_crash():
    """A runlet killed with its pool full leaves warm containers; the next
    runlet's startup sweep removes them (same labels as job containers)."""
    d = tempfile.mkdtemp(prefix="runlet-pool-it-")
    cfg = pool_config(d)
    cases = write_cases(os.path.join(d, "cases"), [("a_sum", SUM["py"], [("1 2\n", "3")]),
                                                    ("b_sleep", SLEEP, [("", "slept")])])
    p = plugin_test(cfg, "python", cases, popen=True)
    seen = []
    for _ in range(300):
        seen = [c["Id"] for c in owned_by(p.pid)
                if (c.get("Labels") or {}).get("runlet.job", "").startswith("pool-")]
        if len(seen) >= 2:
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    say(len(seen) >= 2, f"the killed runlet had warm containers ({len(seen)})")
    st = [api("GET", f"/containers/{i}/json")[0] for i in seen]
    say(seen and all(s == 200 for s in st), "they outlived it", str(st))
    rc, res, err = run(job("py", SUM["py"], [("1 2\n", "3")]))
    say(rc == 0 and res and res["status"] == "OK", "the next runlet judges", err[-500:])
    st = [api("GET", f"/containers/{i}/json")[0] for i in seen]
    say(seen and all(s == 404 for s in st), "its startup sweep removed them", str(st))
    shutil.rmtree(d, ignore_errors=True)


def case_pool_timing():
    """Not a timed test: prints per-submission latency (10 Python tests)
    with and without the pool, from one process judging 2 then 12
    submissions ((T12 - T2) / 10 leaves out startup and shutdown), each
    after two jobs (the second, 4 s long, while the pool fills up)."""
    d = tempfile.mkdtemp(prefix="runlet-pool-it-")
    tests = [(f"{i}\n", str(i * i)) for i in range(1, 11)]
    src = "n = int(input())\nprint(n * n)\n"
    per = {}
    for size in (0, POOL):
        cfg = pool_config(d, size)
        wall = {}
        for n in (2, 12):
            cases = write_cases(os.path.join(d, f"c{size}-{n}"),
                                [("a_quick", "print(1)\n", [("", "1")]), ("a_fill", "import time\ntime.sleep(4)\n", [("", "")])] +
                                [(f"sq{i:02d}", src, tests) for i in range(n)])
            plugin_test(cfg, "python", cases)  # warm-up, untimed
            t0 = time.monotonic()
            rc, out = plugin_test(cfg, "python", cases)
            wall[n] = time.monotonic() - t0
            say(rc == 0 and f"{n + 2} passed, 0 failed" in out,
                f"pool_size {size}: {n} submissions judged", out[-800:])
        per[size] = (wall[12] - wall[2]) / 10
        print(f"pool_size {size}: {per[size] * 1e3:.0f} ms per submission of 10 Python tests "
              f"(2 in {wall[2]:.2f} s, 12 in {wall[12]:.2f} s)")
    print(f"pool/no pool: {per[POOL] / per[0]:.2f}")
    shutil.rmtree(d, ignore_errors=True)


CASES = {
    "setup": case_setup, "languages": case_languages, "hardening": case_hardening,
    "isolation": case_isolation, "isolation_bind": case_isolation_bind,
    "crash_cleanup": case_crash_cleanup, "on_demand": case_on_demand,
    "engine_missing": case_engine_missing, "no_leftovers": case_no_leftovers,
    "pool_languages": case_pool_languages, "pool_replace": case_pool_replace,
    "pool_crash": case_pool_crash, "pool_timing": case_pool_timing,
}

if __name__ == "__main__":
    if os.geteuid() != 0 and CASE in ("crash_cleanup", "pool_crash"):
        skip("needs root (reads another process's containers)")
    precheck() if CASE != "setup" else None
    if CASE.startswith("hostile-"):
        case_hostile(CASE[len("hostile-"):])
    else:
        CASES[CASE]()
    finish()
