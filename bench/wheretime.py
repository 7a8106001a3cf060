#!/usr/bin/python3
"""Where runlet's native time goes, per submission and per test.

1. Timelines with little overhead: strace -f --seccomp-bpf tracing only
   process events (clone, execve, exit_group), so the other syscalls run
   untraced. From these: the phases of a one-test Python submission (runlet's
   start, sandbox setup, runner, the program, teardown) and, over a 100-test
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
EVENTS = "execve,clone,clone3,fork,vfork,exit_group,setpgid"
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
FF_LINE = re.compile(r"^(\d+\.\d+)\s+(\w+)\((.*?)(?:<(\d+\.\d+)>)?$")
WAITS = {"poll", "ppoll", "wait4", "waitid", "read", "epoll_wait", "epoll_pwait", "futex",
         "pselect6", "select", "clock_nanosleep", "nanosleep", "rt_sigtimedwait", "pread64"}


def have_strace():
    return shutil.which("strace") is not None


def trace_events(argv, inputs, out):
    cmd = ["strace", "-f", "--seccomp-bpf", "-ttt", "-e", f"trace={EVENTS}", "-o", out,
           bl.FLOOR]
    for f in inputs:
        cmd += ["-i", f]
    cmd += ["--", *argv]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    ev = []
    for line in open(out):
        m = LINE.match(line)
        if not m or "resumed>" in m.group(3) or m.group(3).startswith("+++") or \
                m.group(3).startswith("---"):
            continue
        pid, ts, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        ev.append((ts, pid, rest.split("(", 1)[0], rest))
    return ev


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
                            "\n".join(e[3][:100] for e in ev))


def _fixed_phases(ev, prog):
    floor_pid = ev[0][1]
    t_start = first(ev, lambda e: e[1] == floor_pid and e[2] in ("clone", "clone3", "fork", "vfork"))[0]
    rl = first(ev, lambda e: e[3].startswith(f'execve("{bl.RUNLET}"'))
    sbx = first(ev, lambda e: e[1] == rl[1] and e[2] in ("clone", "clone3") and "CLONE_NEWPID" in e[3])
    runner = first(ev, lambda e: e[2] == "execve" and "runlet-runner" in e[3])
    test = first(ev, lambda e: e[2] == "execve" and prog in e[3].split(",")[0])
    test_exit = first(ev, lambda e: e[1] == test[1] and e[2] == "exit_group")
    runner_exit = first(ev, lambda e: e[1] == runner[1] and e[2] == "exit_group")
    end = first(ev, lambda e: e[1] == rl[1] and e[2] == "exit_group")
    return collections.OrderedDict([
        ("runlet start: exec, libraries, config, plugins, job, cgroup prep "
         "(-> sandbox clone)", sbx[0] - t_start),
        ("sandbox setup: namespaces, mounts, cgroup, credentials (-> runner exec)",
         runner[0] - sbx[0]),
        ("runner start, plan, source, step cgroup, fork, child setup (-> program exec)",
         test[0] - runner[0]),
        ("the program (exec -> exit)", test_exit[0] - test[0]),
        ("runner: reap, measure, report, exit", runner_exit[0] - test_exit[0]),
        ("runlet: reap the sandbox, clean up, verdicts, JSON (-> exit)", end[0] - runner_exit[0]),
        ("total (fork of runlet -> its exit)", end[0] - t_start),
    ])


def bare_phases(ev, prog):
    floor_pid = ev[0][1]
    forks = [e for e in ev if e[1] == floor_pid and e[2] in ("clone", "clone3", "fork", "vfork")]
    execs = [e for e in ev if e[2] == "execve" and prog in e[3].split(",")[0]]
    exits = {e[1]: e[0] for e in ev if e[2] == "exit_group"}
    return forks, execs, exits


def per_test_phases(ev, prog, forker):
    """Each test's fork -> exec -> exit -> next fork. forker: pid whose clones
    are the test forks (the runner, or bench-floor)."""
    forks = [e[0] for e in ev if e[1] == forker and e[2] in ("clone", "clone3", "fork", "vfork")]
    execs = [e for e in ev if e[2] == "execve" and prog in e[3].split(",")[0]]
    exits = {e[1]: e[0] for e in ev if e[2] == "exit_group"}
    # the runner's child calls setpgid(0, 0) once it reset its signals,
    # then waits for the runner's go (after the cgroup moves)
    own_pg = {}
    for e in ev:
        if e[2] == "setpgid" and e[3].startswith("setpgid(0, 0)") and e[1] not in own_pg:
            own_pg[e[1]] = e[0]
    setup, program, between, whole, start, go = [], [], [], [], [], []
    for i, ex in enumerate(execs):
        fk = max((f for f in forks if f <= ex[0]), default=None)
        nxt = min((f for f in forks if f > ex[0]), default=None)
        end = exits.get(ex[1])
        if fk is None or end is None:
            continue
        setup.append(ex[0] - fk)
        if ex[1] in own_pg:
            start.append(own_pg[ex[1]] - fk)
            go.append(ex[0] - own_pg[ex[1]])
        program.append(end - ex[0])
        if nxt is not None and i + 1 < len(execs):
            between.append(nxt - end)
            whole.append(nxt - fk)
    med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
    out = {}
    if start:
        out["  of which fork -> child's setpgid (child scheduled, signals reset)"] = med(start)
        out["  of which setpgid -> exec (wait for go, rlimits, ids, seccomp)"] = med(go)
    return {"fork -> exec (child setup)": med(setup), **out,
            "exec -> exit (the program)": med(program),
            "exit -> next fork (reap, measure, report, next step's setup)": med(between),
            "per test (fork -> next fork)": med(whole), "tests": len(execs)}


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
    if not have_strace():
        raise bl.Skip("strace missing (apt-get install strace)")
    wd = bl.Workdir("profile")
    try:
        return measure(wd)
    finally:
        wd.close()


def measure(wd):
    py_job = wd.json("py1.json", bl.job("py", bl.PY_HELLO, ["1\n"], ["hello, world"]))
    cpp_in = [f"{i}\n" for i in range(N_CPP)]
    cpp_job = wd.json("cpp.json", bl.job("cpp", bl.CPP_ECHO, cpp_in, [str(i) for i in range(N_CPP)]))
    main_py = wd.file("main.py", bl.PY_HELLO)
    wd.file("main.cpp", bl.CPP_ECHO)
    binary = bl.compile_cpp(wd)
    py_in = wd.inputs("pin", ["1\n"])
    cpp_files = wd.inputs("cin", cpp_in)
    rl = [bl.RUNLET, "run", "--config", bl.CONFIG, "--backend", "native", "-"]
    tr = os.path.join(wd.path, "ev.txt")
    bl.runlet_run(py_job)  # warm-up

    fixed, bare_py = [], []
    for _ in range(REPS):
        fixed.append(fixed_phases(trace_events(rl, [py_job], tr), "python3"))
        ev = trace_events(["/usr/bin/env", "-i", *bl.PY_ENV, bl.PY_BIN, main_py], py_in, tr)
        forks, execs, exits = bare_phases(ev, "python3")
        bare_py.append(exits[execs[0][1]] - execs[0][0])
    fixed_med = collections.OrderedDict((k, statistics.median(f[k] for f in fixed)) for k in fixed[0])
    bare_py_med = statistics.median(bare_py)
    bl.log(f"{NAME}: fixed-cost phases done")

    per_rl, per_bare = [], []
    for _ in range(REPS):
        ev = trace_events(rl, [cpp_job], tr)
        runner = first(ev, lambda e: e[2] == "execve" and "runlet-runner" in e[3])[1]
        per_rl.append(per_test_phases(ev, "/tmp/main\"", runner))
        ev = trace_events([binary], cpp_files, tr)
        per_bare.append(per_test_phases(ev, binary, ev[0][1]))
    keys = [k for k in per_rl[0] if k != "tests"]
    per = {k: (statistics.median(p[k] for p in per_rl),
               statistics.median(p[k] for p in per_bare) if k in per_bare[0] else None)
           for k in keys}
    bl.log(f"{NAME}: per-test phases done")

    d1 = tempfile.mkdtemp(prefix="runlet-bench-ff-", dir=wd.path)
    py_counts = counts(ff_trace(rl, [py_job], d1), "python3", 1)
    d2 = tempfile.mkdtemp(prefix="runlet-bench-ff-", dir=wd.path)
    cpp_counts = counts(ff_trace(rl, [cpp_job], d2), "/tmp/main\"", N_CPP)
    bl.log(f"{NAME}: syscall counts done")
    data = {"fixed": fixed_med, "bare_py_program": bare_py_med, "per_test": per,
            "per_test_tests": per_rl[0]["tests"], "py_counts": py_counts,
            "cpp_counts": cpp_counts, "reps": REPS}
    return [], [], {"profile": data}, {"rounds": REPS}


if __name__ == "__main__":
    sys.exit(bl.main_guard(NAME, TITLE, run))
