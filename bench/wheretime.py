#!/usr/bin/python3
"""Where runlet's native time goes, per submission and per test.

1. Timelines without tracing overhead: perf trace on the kernel's process
   tracepoints (sched_process_fork/exec/exit, and setpgid's entry), so no
   process is ever stopped. From these: the phases of a one-test Python
   submission (runlet's start, sandbox setup, runner, the program, teardown)
   and, over a 100-test
   C++ submission, each test's fork -> exec -> exit -> next fork, next to the
   same phases of bench-floor running the same binary bare.
2. Syscall counts from a full strace -ff -T of one run each: how many
   syscalls each part makes (exact) and what they cost under strace
   (inflated: use the shares, not the times), and the slowest single calls.
Writes wheretime.json into the raw directory; the report turns it into the
"where the time goes" section.
"""
import collections
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as bl  # noqa: E402

NAME = "wheretime"
TITLE = "Where the time goes (native backend)"
REPS = 3 if bl.QUICK else 5
N_CPP = 100
# kernel tracepoints: no ptrace stops, so the traced run keeps its untraced
# timing (strace -f stops every new child and inflates exactly the
# fork/exec paths being measured)
TRACEPOINTS = ("sched:sched_process_fork,sched:sched_process_exec,"
               "sched:sched_process_exit,syscalls:sys_enter_setpgid")
PERF_LINE = re.compile(r"^\s*(\d+\.\d+)\s+(?:\(\s*\)\s*)?:?\s*(\S+)/(\d+)\s+(\S+?)\((.*)\)\s*$")
FF_LINE = re.compile(r"^(\d+\.\d+)\s+(\w+)\((.*?)(?:<(\d+\.\d+)>)?$")
WAITS = {"poll", "ppoll", "wait4", "waitid", "read", "epoll_wait", "epoll_pwait", "futex",
         "pselect6", "select", "clock_nanosleep", "nanosleep", "rt_sigtimedwait", "pread64"}


def have_strace():
    return shutil.which("strace") is not None


def have_perf():
    """perf trace with the sched tracepoints works here (root, tracefs, a
    perf matching the kernel)."""
    if not shutil.which("perf"):
        return "perf missing (apt-get install linux-perf)"
    p = subprocess.run(["perf", "trace", "--no-syscalls", "-e", TRACEPOINTS, "--", "true"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0 or "sched_process_exec" not in p.stdout:
        return f"perf trace unusable here: {p.stdout.strip()[-200:]}"
    return None


def trace_events(argv, inputs, out):
    """Process events of bench-floor running argv: a list of (seconds, pid,
    kind, detail) with kind fork (detail: child pid), exec (detail: file
    name), exit, setpgid (detail: the pid argument, 0 for itself)."""
    cmd = ["perf", "trace", "--no-syscalls", "-e", TRACEPOINTS, "-o", out, "--", bl.FLOOR]
    for f in inputs:
        cmd += ["-i", f]
    cmd += ["--", *argv]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    ev = []
    for line in open(out):
        m = PERF_LINE.match(line.rstrip("\n"))
        if not m:
            continue
        ts, pid, name, args = float(m.group(1)) / 1e3, int(m.group(3)), m.group(4), m.group(5)
        if name.endswith("sched_process_fork"):
            c = re.search(r"child_pid: (\d+)", args)
            if c:
                ev.append((ts, pid, "fork", int(c.group(1))))
        elif name.endswith("sched_process_exec"):
            f = re.search(r'filename: "([^"]*)"', args)
            ev.append((ts, pid, "exec", f.group(1) if f else ""))
        elif name.endswith("sched_process_exit"):
            ev.append((ts, pid, "exit", None))
        elif name.endswith("sys_enter_setpgid"):
            a = re.search(r"pid: (\d+)", args)
            ev.append((ts, pid, "setpgid", int(a.group(1)) if a else 0))
    ev.sort(key=lambda e: e[0])
    return ev


SUM_HEAD = re.compile(r"^\s*(\S+) \((\d+)\), (\d+) events")
SUM_ROW = re.compile(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")


def syscall_summary(argv, inputs, out):
    """perf trace -s of bench-floor running argv: {comm: {syscall: (calls,
    total s, max s)}} (tracepoint-based: a few us per call, no stops)."""
    cmd = ["perf", "trace", "-s", "-o", out, "--", bl.FLOOR]
    for f in inputs:
        cmd += ["-i", f]
    cmd += ["--", *argv]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    res, cur = {}, None
    for line in open(out):
        h = SUM_HEAD.match(line)
        if h:
            cur = res.setdefault(h.group(1), {})
            continue
        r = SUM_ROW.match(line)
        if r and cur is not None:
            calls, total, mx = int(r.group(2)), float(r.group(4)) / 1e3, float(r.group(7)) / 1e3
            old = cur.get(r.group(1), (0, 0.0, 0.0))
            cur[r.group(1)] = (old[0] + calls, old[1] + total, max(old[2], mx))
    return res


def first(ev, pred):
    for e in ev:
        if pred(e):
            return e
    return None


def fixed_phases(ev, prog):
    """Phases of a one-test submission from a process-event trace."""
    try:
        return _fixed_phases(ev, prog)
    except TypeError:
        raise bl.FloorError("unexpected process-event trace:\n" +
                            "\n".join(str(e) for e in ev[:40]))


def _fixed_phases(ev, prog):
    floor_pid = first(ev, lambda e: e[2] == "exec" and e[3].endswith("bench-floor"))[1]
    t_start = first(ev, lambda e: e[1] == floor_pid and e[2] == "fork")[0]
    rl = first(ev, lambda e: e[2] == "exec" and e[3] == bl.RUNLET)[1]
    runner = first(ev, lambda e: e[2] == "exec" and e[3].endswith("runlet-runner"))
    sbx = first(ev, lambda e: e[1] == rl and e[2] == "fork" and e[3] == runner[1])
    test = first(ev, lambda e: e[2] == "exec" and e[3].endswith(prog))
    test_exit = first(ev, lambda e: e[1] == test[1] and e[2] == "exit")
    runner_exit = first(ev, lambda e: e[1] == runner[1] and e[2] == "exit")
    end = first(ev, lambda e: e[1] == rl and e[2] == "exit")
    return collections.OrderedDict([
        ("runlet start: exec, libraries, config, plugins, job, cgroup prep "
         "(-> sandbox fork)", sbx[0] - t_start),
        ("sandbox setup: namespaces, mounts, cgroup, credentials (-> runner exec)",
         runner[0] - sbx[0]),
        ("runner start, plan, source, step cgroup, fork, child setup (-> program exec)",
         test[0] - runner[0]),
        ("the program (exec -> exit)", test_exit[0] - test[0]),
        ("runner: reap, measure, report, exit", runner_exit[0] - test_exit[0]),
        ("runlet: reap the sandbox, clean up, verdicts, JSON (-> exit)", end[0] - runner_exit[0]),
        ("total (fork of runlet -> its exit)", end[0] - t_start),
    ])


def bare_program(ev, prog):
    """exec -> exit of the first run of prog."""
    ex = first(ev, lambda e: e[2] == "exec" and e[3].endswith(prog))
    end = first(ev, lambda e: e[1] == ex[1] and e[2] == "exit")
    return end[0] - ex[0]


def per_test_phases(ev, prog, forker):
    """Each test's fork -> exec -> exit -> next fork. forker: the pid whose
    forks are the steps (the runner, or bench-floor); only children that
    exec prog count as tests."""
    forks = [(e[0], e[3]) for e in ev if e[1] == forker and e[2] == "fork"]
    execs = {e[1]: e[0] for e in ev if e[2] == "exec" and e[3].endswith(prog)}
    exits = {e[1]: e[0] for e in ev if e[2] == "exit"}
    # the runner's child calls setpgid(0, 0) once it reset its signals,
    # then waits for the runner's go (after the cgroup moves)
    own_pg = {}
    for e in ev:
        if e[2] == "setpgid" and e[3] == 0 and e[1] not in own_pg:
            own_pg[e[1]] = e[0]
    setup, program, between, whole, start, go = [], [], [], [], [], []
    tests = 0
    for i, (fk, child) in enumerate(forks):
        if child not in execs or child not in exits:
            continue
        tests += 1
        ex, end = execs[child], exits[child]
        setup.append(ex - fk)
        if child in own_pg:
            start.append(own_pg[child] - fk)
            go.append(ex - own_pg[child])
        program.append(end - ex)
        if i + 1 < len(forks) and forks[i + 1][1] in execs:
            between.append(forks[i + 1][0] - end)
            whole.append(forks[i + 1][0] - fk)
    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    out = {}
    if start:
        out["  of which fork -> child's setpgid (child scheduled, signals reset)"] = med(start)
        out["  of which setpgid -> exec (wait for go, rlimits, ids, seccomp)"] = med(go)
    return {"fork -> exec (child setup)": med(setup), **out,
            "exec -> exit (the program)": med(program),
            "exit -> next fork (reap, measure, report, next step's setup)": med(between),
            "per test (fork -> next fork)": med(whole), "tests": tests}


def ff_trace(argv, inputs, outdir):
    cmd = ["strace", "-ff", "-ttt", "-T", "-o", os.path.join(outdir, "t"), bl.FLOOR]
    for f in inputs:
        cmd += ["-i", f]
    cmd += ["--", *argv]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    procs = {}
    for path in glob.glob(os.path.join(outdir, "t.*")):
        calls = []  # (ts, name, strace duration, line)
        for line in open(path):
            m = FF_LINE.match(line.rstrip("\n"))
            if m:
                calls.append((float(m.group(1)), m.group(2), float(m.group(4) or 0),
                              line.rstrip("\n")))
        procs[int(path.rsplit(".", 1)[1])] = name_fds(calls)
    return procs


FD_OPEN = re.compile(r'^openat\([^,]+, "([^"]+)".*\) = (\d+)')
FD_USE = re.compile(r'^(\w+)\((\d+)[,)]')


def name_fds(calls):
    """Each call's line with the path of its fd argument, where an openat of
    the same process named it."""
    fds, out = {}, []
    for ts, name, dur, line in calls:
        body = line.split(" ", 1)[1] if " " in line else line
        m = FD_USE.match(body)
        if m and int(m.group(2)) in fds:
            body = f"{m.group(1)}({m.group(2)}={fds[int(m.group(2))]}" + body[m.end() - 1:]
        o = FD_OPEN.match(body)
        if o:
            fds[int(o.group(2))] = o.group(1)
        elif m and name in ("close", "dup2", "dup3"):
            fds.pop(int(m.group(2)), None)
        elif re.search(r"\) = (\d+)", body) and name in ("socket", "pipe2", "open_tree",
                                                       "fsopen", "fsmount", "dup", "fcntl"):
            fds.pop(int(re.search(r"\) = (\d+)", body).group(1)), None)
        out.append((ts, name, dur, body))
    return out


def summarize(calls):
    cnt = collections.Counter(c[1] for c in calls)
    dur = collections.Counter()
    for c in calls:
        dur[c[1]] += c[2]
    return {"calls": len(calls), "strace_s": sum(c[2] for c in calls),
            "top": [(n, k, dur[n]) for n, k in cnt.most_common(8)]}


PATH_ARG = re.compile(r'^\w+\((?:AT_FDCWD, |\d+=([^,]+), )?"([^"]*)"')


def dirs_touched(calls):
    """The directories whose entries a process's path calls name most."""
    c = collections.Counter()
    for _, name, _, body in calls:
        m = PATH_ARG.match(body)
        if not m or name in ("execve",):
            continue
        base, path = m.group(1), m.group(2)
        if base and path and not path.startswith("/"):
            c[base] += 1
        elif path.startswith("/"):
            c[os.path.dirname(path) or "/"] += 1
    return c.most_common(5)


def split_at_exec(calls, needle):
    for i, c in enumerate(calls):
        if c[1] == "execve" and needle in c[3]:
            return calls[:i], calls[i:]
    return None, None


def counts(procs, prog, ntests):
    """Syscalls of each part of a run from a strace -ff trace."""
    parts = collections.OrderedDict()
    slow = []
    rl_pid = next(p for p, c in procs.items()
                  if any(x[1] == "execve" and f'execve("{bl.RUNLET}"' in x[3] for x in c))
    rl_threads = [p for p, c in procs.items() if c and p != rl_pid and
                  not any(x[1] == "execve" for x in c) and
                  not any(x[1] in ("mount", "pivot_root") for x in c)]
    runlet_calls = procs[rl_pid]
    sbx_pid = runner_calls = None
    for p, c in procs.items():
        pre, post = split_at_exec(c, "runlet-runner")
        if pre is not None:
            sbx_pid, sbx_pre, runner_calls = p, pre, post
    children_pre, children_post = [], []
    for p, c in procs.items():
        pre, post = split_at_exec(c, prog)
        if pre is not None and p != rl_pid:
            children_pre.append(pre)
            children_post.append(post)
    parts["runlet process (main thread)"] = summarize(runlet_calls)
    parts["runlet process (main thread)"]["dirs"] = dirs_touched(runlet_calls)
    if sbx_pid is not None:
        parts["sandbox setup (its first process, before exec of the runner)"] = summarize(sbx_pre)
        parts["runner (after its exec, all steps)"] = summarize(runner_calls)
        slow += [("sandbox setup", c) for c in sbx_pre]
    slow += [("runlet", c) for c in runlet_calls]
    if runner_calls:
        slow += [("runner", c) for c in runner_calls]
    if children_pre:
        per = [len(x) for x in children_pre]
        parts["each test's child before exec (median)"] = summarize(
            children_pre[sorted(range(len(per)), key=per.__getitem__)[len(per) // 2]])
    slow = [(who, c) for who, c in slow if c[1] not in WAITS and c[1] != "execve"]
    slow.sort(key=lambda x: -x[1][2])
    return {"parts": parts, "threads": len(rl_threads), "ntests": ntests,
            "slowest": [(who, c[1], c[2], c[3][:200]) for who, c in slow[:10]]}


def run():
    no_perf = have_perf()
    if no_perf and not have_strace():
        raise bl.Skip(f"{no_perf}; strace missing too (apt-get install strace)")
    wd = bl.Workdir("profile")
    try:
        return measure(wd, no_perf)
    finally:
        wd.close()


def timelines(wd, rl, py_job, cpp_job, main_py, py_in, binary, cpp_files):
    tr = os.path.join(wd.path, "ev.txt")
    fixed, bare_py = [], []
    for _ in range(REPS):
        fixed.append(fixed_phases(trace_events(rl, [py_job], tr), bl.PY_BIN))
        ev = trace_events([bl.PY_BIN, main_py], py_in, tr)
        bare_py.append(bare_program(ev, bl.PY_BIN))
    fixed_med = collections.OrderedDict((k, statistics.median(f[k] for f in fixed))
                                        for k in fixed[0])
    bl.log(f"{NAME}: fixed-cost phases done")
    per_rl, per_bare = [], []
    for _ in range(REPS):
        ev = trace_events(rl, [cpp_job], tr)
        runner = first(ev, lambda e: e[2] == "exec" and e[3].endswith("runlet-runner"))[1]
        per_rl.append(per_test_phases(ev, "/tmp/main", runner))
        ev = trace_events([binary], cpp_files, tr)
        floor_pid = first(ev, lambda e: e[2] == "exec" and e[3].endswith("bench-floor"))[1]
        per_bare.append(per_test_phases(ev, binary, floor_pid))
    keys = [k for k in per_rl[0] if k != "tests"]

    def med(ps, k):
        xs = [p[k] for p in ps if p.get(k) is not None]
        return statistics.median(xs) if xs else None
    per = {k: (med(per_rl, k), med(per_bare, k)) for k in keys}
    bl.log(f"{NAME}: per-test phases done")
    sums = [syscall_summary(rl, [py_job], tr) for _ in range(REPS)]
    busy = {}
    for comm in ("runlet", "runlet-runner"):
        names = set().union(*(set(x.get(comm, {})) for x in sums)) - WAITS - {"execve"}
        rows = []
        for n in names:
            v = [x.get(comm, {}).get(n, (0, 0.0, 0.0)) for x in sums]
            rows.append((n, statistics.median(a[0] for a in v), statistics.median(a[1] for a in v),
                         statistics.median(a[2] for a in v)))
        rows.sort(key=lambda r: -r[2])
        busy[comm] = rows[:8]
    bl.log(f"{NAME}: syscall times done")
    return {"fixed": fixed_med, "bare_py_program": statistics.median(bare_py),
            "per_test": per, "per_test_tests": per_rl[0]["tests"], "busy": busy}


def measure(wd, no_perf):
    py_job = wd.json("py1.json", bl.job("py", bl.PY_HELLO, ["1\n"], ["hello, world"]))
    cpp_in = [f"{i}\n" for i in range(N_CPP)]
    cpp_job = wd.json("cpp.json", bl.job("cpp", bl.CPP_ECHO, cpp_in,
                                         [str(i) for i in range(N_CPP)]))
    main_py = wd.file("main.py", bl.PY_HELLO)
    wd.file("main.cpp", bl.CPP_ECHO)
    binary = bl.compile_cpp(wd)
    py_in = wd.inputs("pin", ["1\n"])
    cpp_files = wd.inputs("cin", cpp_in)
    # one test at a time: each test's phases follow one another
    cfg = bl.bench_config(wd, parallel=1)
    rl = [bl.RUNLET, "run", "--config", cfg, "--backend", "native", "-"]
    bl.runlet_run(py_job, cfg)  # warm-up (and the compile cache)
    bl.runlet_run(cpp_job, cfg)
    data = {"reps": REPS, "per_test_tests": N_CPP}
    notes = []
    if no_perf:
        notes.append(f"timelines skipped: {no_perf}")
    else:
        data.update(timelines(wd, rl, py_job, cpp_job, main_py, py_in, binary, cpp_files))
    if have_strace():
        d1 = tempfile.mkdtemp(prefix="runlet-bench-ff-", dir=wd.path)
        data["py_counts"] = counts(ff_trace(rl, [py_job], d1), "python3", 1)
        d2 = tempfile.mkdtemp(prefix="runlet-bench-ff-", dir=wd.path)
        data["cpp_counts"] = counts(ff_trace(rl, [cpp_job], d2), '/tmp/main"', N_CPP)
        bl.log(f"{NAME}: syscall counts done")
    else:
        notes.append("syscall counts skipped: strace missing (apt-get install strace)")
    notes.append("runlet runs with parallel_tests: 1 here, so one test's phases follow "
                 "another's; the C++ submission's compile is a cache hit (warmed first).")
    return [], notes, {"profile": data}, {"rounds": REPS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
