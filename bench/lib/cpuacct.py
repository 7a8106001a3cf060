"""Where the cores went during a measured stretch: core-seconds from the
machine's /proc/stat (busy, idle), from this process's reaped children
(RUSAGE_CHILDREN) and itself (RUSAGE_SELF), and from named long-lived
processes (utime + stime of each, e.g. the broker).

A Meter is started before the stretch and read after it; the difference is
what the stretch cost. The benchmarks split it into parts per submission and
the report prints them side by side (cpu_table), so a ratio that misses its
target comes with the parts that make the distance.
"""
import os
import resource
import statistics

TICK = os.sysconf("SC_CLK_TCK")


def machine():
    """(busy, idle) core-seconds since boot: idle is idle + iowait; steal
    counts as neither (another guest had the core)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / TICK, (idle + iowait) / TICK


def pids_of(name):
    """Pids whose comm is name."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                if f.read().strip() == name:
                    out.append(int(d))
        except OSError:
            pass
    return out


def proc_cpu(pid):
    """utime + stime of pid itself in core-seconds (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return 0.0
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rusage_cpu(ru):
    return ru.ru_utime + ru.ru_stime


class Meter:
    """Start: snapshot now. read(): the stretch's core-seconds as a dict:
    wall (seconds, if given), busy, idle, children (reaped since the start),
    self, and one entry per name in named (the processes of that comm alive
    at the start)."""

    def __init__(self, named=()):
        self.named = {n: [(p, proc_cpu(p)) for p in pids_of(n)] for n in named}
        self.busy, self.idle = machine()
        self.children = rusage_cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
        self.self = rusage_cpu(resource.getrusage(resource.RUSAGE_SELF))

    def read(self, machine_end=None):
        """machine_end: a machine() taken earlier, to end the busy and idle
        window there (e.g. at the last result, before a daemon's exit)."""
        busy, idle = machine_end or machine()
        out = {"busy": busy - self.busy, "idle": idle - self.idle,
               "children": rusage_cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
               - self.children,
               "self": rusage_cpu(resource.getrusage(resource.RUSAGE_SELF)) - self.self}
        for n, ps in self.named.items():
            out[n] = sum(max(0.0, proc_cpu(p) - c0) for p, c0 in ps)
        return out


def per_unit(parts, n):
    """parts (core-seconds) -> core-milliseconds per unit of n."""
    return {k: v * 1e3 / n for k, v in parts.items()}


def median_part(rounds, key):
    """The median over rounds (dicts of parts) of one part (0 where absent)."""
    return statistics.median(p.get(key, 0.0) for p in rounds)


def median_total(rounds):
    """The median over rounds of all parts together."""
    return statistics.median(sum(p.values()) for p in rounds)
