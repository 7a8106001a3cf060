#!/usr/bin/python3
"""Turn the benchmarks' JSON records into bench/results/<date>.md, the chart
<date>.png (gnuplot) and <date>.json (every record, for later comparison).

    report.py RAW_DIR RESULTS_DIR DATE
RAW_DIR holds one <bench>.json per benchmark and env.json from the driver.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ORDER = ["native_tests", "native_submission", "docker", "throughput", "compile", "memory",
         "wheretime"]
# target rows, in the order of the task's table
TARGETS = [
    ("py_per_test", "native per-test overhead, Python hello"),
    ("cpp_per_test", "native per-test overhead, trivial C++"),
    ("fixed_per_submission_daemon|fixed_per_submission", "native fixed cost per submission"),
    ("docker_served", "Docker, 10 Python tests per submission, finding a ready warm container"),
    ("docker_pooled|docker_runlet", "Docker, 10 Python tests per submission, back to back"),
    ("throughput", "throughput via runlet serve + RabbitMQ"),
    ("compile_serve|compile_run", "identical C++ resubmission"),
    ("daemon_rss", "daemon RSS, 10 000 jobs vs 100"),
]
CHART = [("py_per_test", "py per test"), ("cpp_per_test", "C++ per test"),
         ("py_per_test_par", "py per test, parallel"), ("cpp_per_test_par", "C++ per test, parallel"),
         ("fixed_per_submission_daemon", "fixed / subm. (daemon)"),
         ("fixed_per_submission", "fixed / subm. (one-shot)"),
         ("docker_served", "docker: serve, pool ready"),
         ("docker_pooled", "docker: warm pool, back to back"), ("docker_runlet", "docker: runlet run"),
         ("docker_existing", "docker run (old)"), ("throughput", "throughput"),
         ("compile_serve", "resubmit (serve)"), ("compile_run", "resubmit (run)")]


def load(raw):
    recs = {}
    for name in os.listdir(raw):
        if name.endswith(".json") and name != "env.json":
            with open(os.path.join(raw, name)) as f:
                r = json.load(f)
            recs[r["bench"]] = r
    env = {}
    if os.path.exists(os.path.join(raw, "env.json")):
        with open(os.path.join(raw, "env.json")) as f:
            env = json.load(f)
    return recs, env


def rows_by_id(recs):
    out = {}
    for r in recs.values():
        for row in r.get("rows", []):
            out[row["id"]] = (r, row)
    return out


def fmt_val(v, unit):
    if v is None:
        return "n/a"
    if unit == "s":
        return f"{v * 1e3:.2f} ms" if abs(v) < 0.1 else f"{v * 1e3:.0f} ms"
    if unit == "kB":
        return f"{v / 1024:.2f} MB"
    if unit == "submissions/s":
        return f"{v:.1f}/s"
    return f"{v:.3g} {unit}"


def fmt_stats(s, unit, spread=True):
    if not s:
        return "n/a"
    if not spread or s["n"] == 1:
        return fmt_val(s["median"], unit)
    return f"{fmt_val(s['median'], unit)} [{fmt_val(s['min'], unit)} – {fmt_val(s['max'], unit)}]"


def fmt_ratio(s, iqr=True):
    if not s:
        return "n/a"
    if s["n"] == 1:
        return f"{s['median']:.3f} ×"
    out = f"{s['median']:.3f} ×"
    if iqr:
        out += f" (IQR {s['q1']:.2f}–{s['q3']:.2f}, range {s['min']:.2f}–{s['max']:.2f})"
    return out


def judge(row):
    """(measured text, met, distance text) of a row with a target."""
    t = row["target"]
    kind, goal = t["kind"], t["value"]
    if kind == "ratio_le":
        v = row["ratio"]["median"]
        return (fmt_ratio(row["ratio"], iqr=False) + f" [{row['ratio']['min']:.2f}–{row['ratio']['max']:.2f}]",
                v <= goal, f"{v - goal:+.2f} × ({(v / goal - 1) * 100:+.0f} % of the target)")
    if kind == "ratio_ge":
        v = row["ratio"]["median"]
        return (fmt_ratio(row["ratio"], iqr=False) + f" [{row['ratio']['min']:.2f}–{row['ratio']['max']:.2f}]",
                v >= goal, f"{v - goal:+.2f} × ({(v / goal - 1) * 100:+.0f} % of the target)")
    if kind == "overhead_le":
        v = row["overhead"]["median"]
        o = row["overhead"]
        return (f"{v * 1e3:+.2f} ms over bare [{o['min'] * 1e3:+.2f} – {o['max'] * 1e3:+.2f}] "
                f"(ratio {row['ratio']['median']:.2f} ×)",
                v <= goal, f"{(v - goal) * 1e3:+.2f} ms")
    if kind == "growth_le_kb":
        v = row["overhead"]["median"]
        return (f"{v / 1024:+.2f} MB ({row['base']['median'] / 1024:.1f} → "
                f"{row['runlet']['median'] / 1024:.1f} MB)",
                v <= goal, f"{(v - goal) / 1024:+.2f} MB")
    return ("?", False, "?")


def target_table(recs, ids):
    out = ["| measure | target | measured: median [min – max] | met | distance from target |",
           "|---|---|---|---|---|"]
    for key, label in TARGETS:
        hit = None
        for k in key.split("|"):
            if k in ids and ids[k][1].get("target"):
                hit = ids[k]
                break
        target_text = {
            "py_per_test": "≤ 1.10 × bare", "cpp_per_test": "≤ 1 ms over bare per test",
            "fixed_per_submission_daemon|fixed_per_submission": "≤ 5 ms over one bare exec",
            "docker_served": "≤ 1.3 × bare (the existing way: 3.1 ×)",
            "docker_pooled|docker_runlet": "≤ 1.3 × bare (the existing way: 3.1 ×)",
            "throughput": "≥ 0.8 × the bare ceiling",
            "compile_serve|compile_run": "≤ 0.1 × the first",
            "daemon_rss": "no growth beyond 2 MB"}[key]
        if hit is None:
            bench = {"py_per_test": "native_tests", "cpp_per_test": "native_tests",
                     "fixed_per_submission_daemon|fixed_per_submission": "native_submission",
                     "docker_served": "docker", "docker_pooled|docker_runlet": "docker",
                     "throughput": "throughput", "compile_serve|compile_run": "compile",
                     "daemon_rss": "memory"}[key]
            r = recs.get(bench)
            why = "not run" if r is None else (
                f"skipped: {r['skipped']}" if r.get("skipped") else f"error: {r.get('error')}")
            out.append(f"| {label} | {target_text} | not measured ({why}) | – | – |")
            continue
        rec, row = hit
        measured, met, dist = judge(row)
        if key.startswith("docker_") and "docker_existing" in ids:
            measured += f"; the existing way measured here: {ids['docker_existing'][1]['ratio']['median']:.2f} ×"
        if key == "daemon_rss":
            label = row["measure"].replace("daemon RSS, ", "daemon RSS, ")
        out.append(f"| {label} | {target_text} | {measured} | {'**met**' if met else '**not met**'} | {dist} |")
    return out


def bench_section(r):
    out = [f"### {r['title']}", ""]
    if r.get("skipped"):
        return out + [f"Skipped: {r['skipped']}", ""]
    if r.get("error"):
        return out + [f"Failed: `{r['error']}`", ""]
    if r["rows"]:
        out += [f"{r['rounds']} round{'s' if r['rounds'] != 1 else ''}.", "",
                "| measure | runlet: median [min – max] | baseline | baseline: median | ratio (per round) | runlet − baseline |",
                "|---|---|---|---|---|---|"]
        for row in r["rows"]:
            u = row["unit"]
            out.append(f"| {row['measure']} | {fmt_stats(row['runlet'], u)} | {row['baseline']} | "
                       f"{fmt_stats(row['base'], u, spread=False)} | {fmt_ratio(row['ratio'])} | "
                       f"{fmt_stats(row['overhead'], u, spread=False)} |")
        extra = []
        for row in r["rows"]:
            if "t_n" in row:
                extra.append(f"- {row['measure']}: whole submission {fmt_stats(row['t_n'], 's')} "
                             f"with all tests, {fmt_stats(row['t_1'], 's')} with one; runlet's "
                             f"own mean per-test wall_ms {fmt_stats(row['inner_wall'], 's', False)}; "
                             f"intercept (one-test submission minus one test's marginal cost) "
                             f"{fmt_val(row['t_1']['median'] - row['runlet']['median'], 's')}.")
        if extra:
            out += [""] + extra
    out += [""] + [f"- {n}" for n in r.get("notes", [])] + [""]
    cpu = (r.get("series") or {}).get("cpu")
    if cpu:
        out += cpu_table(cpu)
    return out


def cpu_table(cpu):
    """Where the cores went: one column per side, one row per part."""
    def cell(v):
        return "" if v is None else f"{v:.2f}"

    out = [f"Where the cores went ({cpu['unit']}, median over rounds):", "",
           "| part | " + " | ".join(cpu["sides"]) + " |",
           "|---|" + "---|" * len(cpu["sides"])]
    for row in cpu["rows"]:
        out.append(f"| {row[0]} | " + " | ".join(cell(v) for v in row[1:]) + " |")
    return out + ["", cpu["note"], ""]


def ms(v):
    return "n/a" if v is None else f"{v * 1e3:.2f}"


def profile_section(r):
    out = ["## Where the time goes", ""]
    if not r:
        return out + ["Not profiled (bench/wheretime.py did not run).", ""]
    if r.get("skipped") or r.get("error"):
        return out + [f"Not profiled: {r.get('skipped') or r.get('error')}", ""]
    d = r["series"]["profile"]
    out += [f"- {n}" for n in r.get("notes", [])] + [""]
    if "fixed" in d:
        out += timeline_section(d)
    if "py_counts" in d:
        out += counts_section(d)
    return out + findings(d) + [""]


def timeline_section(d):
    fx = d["fixed"]
    total = fx["total (fork of runlet -> its exit)"]
    out = [f"Timelines from `perf trace` on the kernel's process tracepoints (fork, exec, "
           f"exit, setpgid entry): nothing is stopped or slowed; medians of {d['reps']} runs.",
           "", "**One-test Python submission** (`runlet run`, native):", "",
            "| phase | ms | share |", "|---|---|---|"]
    for k, v in fx.items():
        share = "" if k.startswith("total") else f"{v / total * 100:.0f} %"
        out.append(f"| {k} | {ms(v)} | {share} |")
    prog = fx["the program (exec -> exit)"]
    out += [f"| *the same program run bare (exec -> exit)* | {ms(d['bare_py_program'])} | |", "",
            f"Everything but the program: {ms(total - prog)} ms of {ms(total)} ms.", "",
            f"**Per test, C++ submission of {d['per_test_tests']} tests** (median over tests; "
            "bare = bench-floor running the same binary):", "",
            "| phase | runlet ms | bare ms |", "|---|---|---|"]
    for k, (a, b) in d["per_test"].items():
        out.append(f"| {k} | {ms(a)} | {ms(b)} |")
    if d.get("busy"):
        out += ["", "**Syscall time in the one-test Python submission** (`perf trace -s`, "
                "tracepoint based, but some 10–15 µs are added to every call, so many cheap calls look dearer than they are; waits on pipes and children "
                "left out; runlet-runner is the sandbox's first process, before and after it "
                "execs the runner):", "",
                "| process | syscall | calls | total ms | longest ms |", "|---|---|---|---|---|"]
        for comm, rows in d["busy"].items():
            for n, calls, total, mx in rows:
                out.append(f"| {comm} | {n} | {calls:.0f} | {total * 1e3:.2f} | {mx * 1e3:.2f} |")
    return out + [""]


def counts_section(d):
    out = ["**Syscalls by part** (full `strace -ff -T`: counts are exact, times are "
            "inflated by tracing; read them as shares):", "",
            "| run | part | syscalls | most frequent (count) |", "|---|---|---|---|"]
    for label, key in (("py, 1 test", "py_counts"), (f"C++, {d['per_test_tests']} tests", "cpp_counts")):
        for part, s in d[key]["parts"].items():
            top = ", ".join(f"{n} {k}" for n, k, _ in s["top"][:6])
            out.append(f"| {label} | {part} | {s['calls']} | {top} |")
    out += ["", "**Slowest single calls** of runlet, the sandbox setup and the runner in one "
            "traced one-test Python run (waits on pipes/children left out; which calls "
            "show up here varies from run to run):", "",
            "| where | call | ms (under strace) |", "|---|---|---|"]
    for who, name, dur, line in d["py_counts"]["slowest"][:8]:
        line = line.replace("|", "\\|")
        out.append(f"| {who} | `{line[:150]}` | {dur * 1e3:.2f} |")
    dirs = d["py_counts"]["parts"]["runlet process (main thread)"].get("dirs")
    if dirs:
        out += ["", "Directories whose entries runlet's main thread names most (one-test "
                "Python run): " + ", ".join(f"`{p}` {k}" for p, k in dirs) + "."]
    return out + [""]


def findings(d):
    out = ["Findings:", ""]
    if "fixed" in d:
        out += timeline_findings(d)
    for comm, rows in (d.get("busy") or {}).items():
        if rows:
            n, calls, total, mx = rows[0]
            out.append(f"- In {comm}, the syscall taking most time is {n}: {calls:.0f} calls, "
                       f"{total * 1e3:.2f} ms in all, the longest {mx * 1e3:.2f} ms.")
    if "py_counts" in d and d["py_counts"]["slowest"]:
        slow = d["py_counts"]["slowest"][0]
        out.append(f"- The slowest single call is in {slow[0]}: `{slow[3][:110]}` "
                   f"({slow[2] * 1e3:.1f} ms under strace).")
        part = d["py_counts"]["parts"]["runlet process (main thread)"]
        if part.get("dirs"):
            p, k = part["dirs"][0]
            out.append(f"- runlet's own start names `{p}` {k} times "
                       f"({part['calls']} syscalls in its main thread in all).")
    return out


def timeline_findings(d):
    fx = d["fixed"]
    total = fx["total (fork of runlet -> its exit)"]
    out = []
    phases = [(k, v) for k, v in fx.items() if not k.startswith("total")]
    big = max(phases, key=lambda kv: kv[1] if "program" not in kv[0] else -1)
    pt = d["per_test"]
    whole = pt.get("per test (fork -> next fork)", (None, None))
    setup = pt.get("fork -> exec (child setup)", (None, None))
    between = pt.get("exit -> next fork (reap, measure, report, next step's setup)", (None, None))
    sched = pt.get("  of which fork -> child's setpgid (child scheduled, signals reset)", (None, None))
    out.append(f"- Fixed cost: the largest part is *{big[0].split(':')[0]}*, {ms(big[1])} ms "
               f"({big[1] / total * 100:.0f} % of the submission); all but the program: "
               f"{ms(total - fx['the program (exec -> exit)'])} ms.")
    if whole[0] and whole[1]:
        out.append(f"- Per test, runlet spends {ms(whole[0])} ms from fork to next fork against "
                   f"{ms(whole[1])} ms bare: {ms(setup[0] - setup[1])} ms more between fork and "
                   f"exec and {ms(between[0] - between[1])} ms more between exit and the next fork.")
    if sched[0] is not None:
        go = pt.get("  of which setpgid -> exec (wait for go, rlimits, ids, seccomp)", (None,))[0]
        out.append(f"- Of runlet's fork → exec, {ms(sched[0])} ms pass before the child's "
                   f"setpgid (scheduled, signals reset) and {ms(go)} ms from there to exec "
                   "(the runner's go after the cgroup moves, rlimits, ids, seccomp).")
    return out


def chart(recs, ids, png, raw):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot missing (apt-get install gnuplot-nox): no chart"
    tmp = tempfile.mkdtemp(prefix="runlet-bench-plot-")
    bars = os.path.join(tmp, "bars.dat")
    n = 0
    with open(bars, "w") as f:
        for i, (rid, label) in enumerate(CHART):
            if rid not in ids:
                continue
            row = ids[rid][1]
            rt = row["ratio"]
            tgt = "NaN"
            t = row.get("target")
            if t and t["kind"] in ("ratio_le", "ratio_ge"):
                tgt = t["value"]
            elif t and t["kind"] == "overhead_le":
                tgt = (row["base"]["median"] + t["value"]) / row["base"]["median"]
            elif rid == "docker_existing":
                tgt = "NaN"
            f.write(f'{n} "{label}" {rt["median"]} {rt["min"]} {rt["max"]} {tgt}\n')
            n += 1
    rss = os.path.join(tmp, "rss.dat")
    have_rss = False
    mem = recs.get("memory")
    if mem and mem.get("series", {}).get("rss"):
        with open(rss, "w") as f:
            for s in mem["series"]["rss"]:
                f.write(f"{s['jobs']} {s['VmRSS'] / 1024}\n")
        have_rss = True
    if n == 0 and not have_rss:
        shutil.rmtree(tmp, ignore_errors=True)
        return "nothing to chart"
    script = os.path.join(tmp, "plot.gp")
    with open(script, "w") as f:
        f.write(f"""set terminal pngcairo size 1400,560 font ",10" noenhanced
set output "{png}"
set multiplot layout 1,{2 if have_rss else 1}
set title "runlet / baseline, measured side by side (median, bars: min-max; x: target)"
set logscale y
set yrange [0.05:20]
set ytics (0.1, 0.2, 0.5, 0.8, 1, 1.3, 2, 3, 5, 10)
set grid ytics
set xrange [-0.6:{max(n, 1) - 0.4}]
set xtics rotate by -30
set style fill solid 0.5
set boxwidth 0.6
set arrow from -0.6,1 to {max(n, 1) - 0.4},1 nohead dt 2 lc rgb "black"
plot "{bars}" using 1:3:xtic(2) with boxes lc rgb "#4a7ebb" title "ratio", \\
     "" using 1:3:4:5 with yerrorbars lc rgb "black" pt 0 notitle, \\
     "" using 1:6 with points pt 2 ps 2 lw 2 lc rgb "#c0392b" title "target"
""")
        if have_rss:
            first = mem["rows"][0]["base"]["median"] / 1024 if mem.get("rows") else 0
            f.write(f"""unset logscale y
unset arrow
set yrange [*:*]
set ytics auto
set xrange [*:*]
set xtics norotate auto
set title "runlet serve: daemon RSS over jobs"
set xlabel "jobs judged"
set ylabel "VmRSS (MB)"
plot "{rss}" using 1:2 with linespoints pt 7 ps 0.6 lc rgb "#4a7ebb" title "VmRSS", \\
     {first + 2} with lines dt 2 lc rgb "#c0392b" title "after 100 jobs + 2 MB"
""")
        f.write("unset multiplot\n")
    p = subprocess.run([gp, script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if p.returncode != 0:
        return f"gnuplot failed: {p.stdout.strip()[-300:]}"
    return None


def main():
    raw, results, date = sys.argv[1], sys.argv[2], sys.argv[3]
    recs, env = load(raw)
    ids = rows_by_id(recs)
    os.makedirs(results, exist_ok=True)
    png = os.path.join(results, f"{date}.png")
    chart_err = chart(recs, ids, png, raw)
    quick = env.get("quick")
    lines = [f"# runlet benchmarks, {date}", "",
             f"`make bench`{' with BENCH_QUICK=1 (short run)' if quick else ' (full run)'}; "
             f"commit {env.get('commit', '?')}{' plus uncommitted changes in the tree' if env.get('dirty') else ''}; "
             f"{env.get('nproc', '?')} cores, kernel {env.get('kernel', '?')}, load average "
             f"{env.get('load_before', '?')} before and {env.get('load_after', '?')} after; "
             f"took {env.get('elapsed_s', '?')} s.", "",
             "Absolute times on this shared machine are noise (other work runs on the same two "
             "cores); every ratio is taken between sides that ran back to back in the same "
             "round, alternating which went first, and the median over rounds is reported with "
             "its spread. How to read this: bench/README.md.", "",
             "## Targets", ""]
    lines += target_table(recs, ids)
    lines += ["", "Met/not met is judged on the median. \"distance\" is measured − target.", ""]
    if chart_err:
        lines += [f"Chart: {chart_err}.", ""]
    else:
        lines += [f"![ratios and daemon memory]({date}.png)", ""]
    lines += ["## Details", ""]
    for name in ORDER:
        if name in recs and name != "wheretime":
            lines += bench_section(recs[name])
    lines += profile_section(recs.get("wheretime"))
    with open(os.path.join(results, f"{date}.md"), "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    with open(os.path.join(results, f"{date}.json"), "w") as f:
        json.dump({"env": env, "benchmarks": recs}, f, indent=1)
    print(os.path.join(results, f"{date}.md"))


if __name__ == "__main__":
    main()
