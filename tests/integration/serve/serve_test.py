#!/usr/bin/env python3
"""Integration tests of `runlet serve` against a real RabbitMQ:
    serve_test.py roundtrip|declare|bulk|restart|sigkill|bad|poison|drain|tls|
                  scaleout|noresults|valgrind|bench
Each scenario prints one line per check and exits 0 (all passed), 1, or 77
(no broker and not under CI)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mq  # noqa: E402

CONTRACT_BODY = {"student_id": 7, "problem_id": 42, "course_id": 3, "lang": "py",
                 "code": "a, b = map(int, input().split())\nprint(a + b)\n",
                 "run_data": [{"test_num": 1, "input": "1 2\n"},
                              {"test_num": 2, "input": "5 7\n"}]}


def fnv64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def setup(tag, prefix=None, extra=""):
    url = mq.broker_url()
    n = mq.Names(mq.unique_prefix(tag) if prefix is None else prefix)
    mq.cleanup(url, n)
    tmp = mq.tmpdir(tag)
    return url, n, tmp, mq.write_config(tmp, n, extra)


def by_student(results):
    out = {}
    for props, body in results:
        out.setdefault(body["student_id"], []).append((props, body))
    return out


def sc_roundtrip():
    """§2 field by field and header by header, the contract's own names."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("rt", prefix="")
    mq.platform_declare(url, n)
    d = mq.Daemon(url, cfg, tmp, ["--workers", "2"])
    cl = mq.Client(url, n)
    cl.publish(CONTRACT_BODY, message_id="rt-1")
    got = cl.results(1, 60)
    if t.check(len(got) == 1, "one result on queue 'results'"):
        props, body = got[0]
        h = props.get("application_headers")
        t.check(props.get("delivery_mode") == 2, f"delivery_mode 2 ({props.get('delivery_mode')})")
        t.check(props.get("content_type") == "application/json",
                f"content_type application/json ({props.get('content_type')})")
        t.check(h == {"task_name": "handle_test_result"},
                f"headers exactly {{task_name: handle_test_result}} ({h})")
        t.check(props.get("message_id") == "rt-1" and props.get("correlation_id") == "rt-1",
                f"message_id / correlation_id carried ({props.get('message_id')}, {props.get('correlation_id')})")
        keys = list(body.keys())
        t.check(keys[:6] == ["test_cases", "err_msg", "code", "problem_id", "student_id", "course_id"],
                f"contract keys first, in order ({keys[:6]})")
        t.check([(c["test_num"], c["input"], c["output"]) for c in body["test_cases"]] ==
                [(1, "1 2\n", "3"), (2, "5 7\n", "12")],
                f"test_cases num/input/output ({[(c.get('test_num'), c.get('output')) for c in body['test_cases']]})")
        t.check(body["err_msg"] == "", f"err_msg empty ({body['err_msg']!r})")
        t.check(body["code"] == CONTRACT_BODY["code"], "code echoed")
        t.check((body["problem_id"], body["student_id"], body["course_id"]) == (42, 7, 3), "ids echoed")
        t.check(body.get("id") == "rt-1", f"result id extension ({body.get('id')})")
        t.check(body.get("status") == "OK", f"status OK ({body.get('status')})")
    t.check(d.wait_log("event=job_done id=rt-1"), "log line job_done id=rt-1")
    log = [ln for ln in d.text().splitlines() if "event=job_done" in ln]
    t.check(bool(log) and "lang=py" in log[0] and "verdict=OK" in log[0] and "duration_ms=" in log[0],
            f"job_done line has lang, verdict, duration ({log[:1]})")
    rc = d.stop()
    t.check(rc == 0, f"SIGTERM: exit 0 ({rc})")
    t.check(cl.depth(n.queue) == 0, "submission acked (queue empty after exit)")
    t.check(cl.depth(n.dlq) == 0, "nothing dead-lettered")
    cl.close()
    t.done([d])


def sc_declare():
    """Declarations interoperate with the platform's library both ways; a
    mismatch is reported (queue, argument) and exits 2."""
    t = mq.Runner()
    # 1. the platform declared first
    url, n, tmp, cfg = setup("decl1")
    mq.platform_declare(url, n)
    d = mq.Daemon(url, cfg, tmp, ["--once"], name="first")
    cl = mq.Client(url, n)
    cl.publish(CONTRACT_BODY, message_id="d-1")
    got = cl.results(1, 60)
    t.check(len(got) == 1, "platform declared first: runlet consumes and answers")
    rc = d.wait(30)
    t.check(rc == 0, f"--once: exit 0 after one submission ({rc})")
    t.check("declare_refused" not in d.text(), "no declaration refused")
    cl.close()
    mq.cleanup(url, n)
    # 2. runlet declared first, then the platform; runlet finds the broker
    # through the existing gateway's variables
    url, n, tmp, cfg = setup("decl2")
    host, port = mq.hostport(url).split(":")
    d2 = mq.Daemon(None, cfg, tmp, name="second",
                   env={"RABBITMQ_HOST": host, "RABBITMQ_PORT": port,
                        "RABBITMQ_USER": "guest", "RABBITMQ_PASSWORD": "guest"})
    t.check(d2.wait_log("event=connected"), "runlet declares and connects (RABBITMQ_* env)")
    t.check("source=RABBITMQ_*" in d2.text(), "the gateway's variables were used")
    rc = d2.stop()
    err = None
    try:
        mq.platform_declare(url, n)
    except Exception as e:  # PRECONDITION_FAILED would land here
        err = e
    t.check(err is None, f"platform's declaration accepted after runlet's ({err})")
    mq.cleanup(url, n)
    # 3. mismatch: the DLQ exists with another TTL
    url, n, tmp, cfg = setup("decl3")
    mq.platform_declare(url, n, ttl=1000)
    d3 = mq.Daemon(url, cfg, tmp, name="third")
    rc = d3.wait(30)
    text = d3.text()
    t.check(rc == 2, f"mismatch: exit 2 ({rc})")
    line = [ln for ln in text.splitlines() if "declare_refused" in ln]
    t.check(bool(line) and n.dlq in line[0] and "x-message-ttl" in line[0],
            f"mismatch names the queue and the argument ({line[:1]})")
    mq.cleanup(url, n)
    # 4. mismatch on the submission queue (declared without dead-lettering)
    url, n, tmp, cfg = setup("decl4")
    c = mq.connect(url)
    c.channel().queue_declare(n.queue, durable=True, auto_delete=False)
    c.close()
    d4 = mq.Daemon(url, cfg, tmp, name="fourth")
    rc = d4.wait(30)
    line = [ln for ln in d4.text().splitlines() if "declare_refused" in ln]
    t.check(rc == 2 and bool(line) and n.queue in line[0] and "x-dead-letter-exchange" in line[0],
            f"queue without x-dead-letter-exchange: exit 2, named ({rc}, {line[:1]})")
    mq.cleanup(url, n)
    # 5. a refused login is reported and retried; SIGTERM still stops it
    url, n, tmp, cfg = setup("decl5")
    d5 = mq.Daemon(url.replace("guest:guest@", "guest:wrong@"), cfg, tmp, name="fifth")
    t.check(d5.wait_log("event=connect_failed", 20), "wrong password: connect_failed")
    line = [ln for ln in d5.text().splitlines() if "connect_failed" in ln]
    t.check(bool(line) and "refused" in line[0] and "level=error" in line[0] and "wrong" not in line[0],
            f"says the login was refused, without the password ({line[:1]})")
    time.sleep(1.0)
    t.check(d5.text().count("event=connect_failed") >= 2 and d5.p.poll() is None,
            "keeps retrying")
    rc = d5.stop()
    t.check(rc == 0, f"SIGTERM while unconnected: exit 0 ({rc})")
    t.done([d, d2, d3, d4, d5])


def trivial(i, sleep=0.0):
    code = (f"import time\ntime.sleep({sleep})\n" if sleep else "") + f"print({i})\n"
    return mq.submission(i, code=code, tests=[{"test_num": 1, "input": ""}])


def answered_all(t, results, ids, what, exactly_once=False):
    got = by_student(results)
    missing = [i for i in ids if i not in got]
    wrong = [i for i in ids if i in got and any(b["test_cases"][0]["output"] != str(i) for _, b in got[i])]
    dup = [i for i in ids if len(got.get(i, [])) > 1]
    t.check(not missing, f"{what}: every submission answered ({len(ids) - len(missing)}/{len(ids)}, missing {missing[:10]})")
    t.check(not wrong, f"{what}: each answer is its own ({wrong[:10]})")
    if exactly_once:
        t.check(not dup, f"{what}: each answered exactly once ({dup[:10]})")
    else:
        bad = [i for i in dup if len({p.get("message_id") for p, _ in got[i]}) != 1]
        t.check(not bad, f"{what}: duplicates carry the same message_id ({bad[:10]})")
    return got


def sc_bulk(count=200, workers=4, label="bulk"):
    t = mq.Runner()
    url, n, tmp, cfg = setup(label)
    d = mq.Daemon(url, cfg, tmp, ["--workers", str(workers), "--log-level", "info"])
    t.check(d.wait_log("event=connected"), "connected")
    cl = mq.Client(url, n)
    t0 = time.time()
    for i in range(1, count + 1):
        cl.publish(trivial(i), message_id=f"b-{i}")
    res = cl.results(count, 240)
    dt = time.time() - t0
    answered_all(t, res, list(range(1, count + 1)), f"{count} submissions, {workers} workers",
                 exactly_once=True)
    time.sleep(1)
    extra = cl.results(1, 0.5)
    t.check(not extra, "no extra results")
    print(f"throughput: {count} trivial submissions in {dt:.2f} s with {workers} workers "
          f"= {count / dt:.1f}/s", flush=True)
    rc = d.stop()
    t.check(rc == 0, f"exit 0 ({rc})")
    t.check(cl.depth(n.queue) == 0 and cl.depth(n.dlq) == 0, "queue and DLQ empty")
    cl.close()
    mq.cleanup(url, n)
    t.done([d])


def restart_broker():
    script = os.path.join(mq.SRC, "scripts", "services.d", "rabbitmq.sh")
    subprocess.run(["bash", script, "restart"], check=True, timeout=120)


def sc_restart():
    """The broker restarts mid-run: runlet reconnects, nothing is lost."""
    t = mq.Runner()
    count = 40
    url, n, tmp, cfg = setup("restart")
    d = mq.Daemon(url, cfg, tmp, ["--workers", "2"])
    t.check(d.wait_log("event=connected"), "connected")
    cl = mq.Client(url, n)
    for i in range(1, count + 1):
        cl.publish(trivial(i, sleep=0.1), message_id=f"r-{i}")
    res = cl.results(8, 60)
    cl.close()
    restart_broker()
    cl = mq.Client(url, n)
    end = time.time() + 150
    while time.time() < end and len(set(b["student_id"] for _, b in res)) < count:
        res += cl.results(1, 1)
    answered_all(t, res, list(range(1, count + 1)), "broker restarted mid-run")
    t.check(d.p.poll() is None, "daemon still running")
    t.check(d.text().count("event=connected") >= 2 and "event=disconnected" in d.text(),
            "log: disconnected, then connected again")
    rc = d.stop()
    t.check(rc == 0, f"exit 0 ({rc})")
    t.check(cl.depth(n.queue) == 0, "queue empty")
    cl.close()
    mq.cleanup(url, n)
    t.done([d])


def sc_sigkill():
    """runlet killed with SIGKILL mid-run and started again: nothing lost."""
    t = mq.Runner()
    count = 30
    url, n, tmp, cfg = setup("kill")
    d = mq.Daemon(url, cfg, tmp, ["--workers", "2"], name="first")
    t.check(d.wait_log("event=connected"), "connected")
    cl = mq.Client(url, n)
    for i in range(1, count + 1):
        cl.publish(trivial(i, sleep=0.2), message_id=f"k-{i}")
    res = cl.results(6, 60)
    d.p.kill()
    d.wait(10)
    d2 = mq.Daemon(url, cfg, tmp, ["--workers", "2"], name="second")
    end = time.time() + 120
    while time.time() < end and len(set(b["student_id"] for _, b in res)) < count:
        res += cl.results(1, 1)
    answered_all(t, res, list(range(1, count + 1)), "SIGKILL mid-run, then restart")
    t.check(cl.depth(n.dlq) == 0, "nothing dead-lettered")
    rc = d2.stop()
    t.check(rc == 0, f"second daemon: exit 0 ({rc})")
    t.check(cl.depth(n.queue) == 0, "queue empty")
    cl.close()
    mq.cleanup(url, n)
    t.done([d, d2])


def sc_bad():
    """Each kind of bad message ends in the DLQ or as an error result; the
    daemon keeps serving."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("bad")
    d = mq.Daemon(url, cfg, tmp, ["--workers", "2"])
    t.check(d.wait_log("event=connected"), "connected")
    cl = mq.Client(url, n)
    cl.publish(CONTRACT_BODY, task_name=None, message_id="bad-noheader")
    cl.publish(CONTRACT_BODY, task_name="other_task", message_id="bad-othertask")
    cl.publish(None, raw="{not json", message_id="bad-json")
    cl.publish(None, raw=json.dumps([1, 2, 3]), message_id="bad-array")
    cl.publish(dict(CONTRACT_BODY, lang="cobol", student_id=101), message_id="bad-lang")
    b = dict(CONTRACT_BODY, student_id=102)
    del b["code"]
    cl.publish(b, message_id="bad-nocode")
    cl.publish(dict(CONTRACT_BODY, student_id=103,
                    run_data=[{"test_num": 1, "input": "1 2\n"}, {"test_num": -4, "input": ""}]),
               message_id="bad-testnum")
    cl.publish(dict(CONTRACT_BODY, student_id=104), message_id="good-after")
    res = cl.results(4, 60)
    got = by_student(res)
    t.check(sorted(got) == [101, 102, 103, 104], f"error results for identifiable ones, and the good one ({sorted(got)})")
    if 101 in got:
        body = got[101][0][1]
        t.check("cobol" in body["err_msg"] and len(body["test_cases"]) == 2,
                f"undeclared language: err_msg names it, every test reported ({body['err_msg']!r}, {len(body['test_cases'])})")
    if 102 in got:
        body = got[102][0][1]
        t.check("code" in body["err_msg"] and len(body["test_cases"]) == 2,
                f"missing code: err_msg says so ({body['err_msg']!r})")
    if 103 in got:
        body = got[103][0][1]
        t.check("test_num" in body["err_msg"] and len(body["test_cases"]) == 2,
                f"bad test_num: err_msg says so, every test reported ({body['err_msg']!r})")
    if 104 in got:
        body = got[104][0][1]
        t.check([c["output"] for c in body["test_cases"]] == ["3", "12"],
                "a good submission after the bad ones is judged")
    dlq = cl.drain_queue(n.dlq, settle=1.0)
    ids = sorted(m.properties.get("message_id") for m in dlq)
    t.check(ids == sorted(["bad-noheader", "bad-othertask", "bad-json", "bad-array"]),
            f"dead-lettered: no/other task_name, unparseable bodies ({ids})")
    if dlq:
        xd = dlq[0].properties.get("application_headers", {}).get("x-death")
        t.check(bool(xd) and xd[0].get("reason") == "rejected" and xd[0].get("queue") == n.queue,
                f"dead-lettered by rejection from {n.queue} ({xd and xd[0].get('reason')})")
    t.check(d.p.poll() is None, "daemon still serving")
    rc = d.stop()
    t.check(rc == 0, f"exit 0 ({rc})")
    t.check(cl.depth(n.queue) == 0, "queue empty")
    cl.close()
    mq.cleanup(url, n)
    t.done([d])


def sc_poison():
    """A message whose judging never finishes (the daemon is killed each
    time) goes to the DLQ after broker.max_redeliveries, not round and round."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("poison", extra="  max_redeliveries: 2\n")
    mq.platform_declare(url, n)
    cl = mq.Client(url, n)
    cl.publish(trivial(1, sleep=30), message_id="poison-1")
    key = fnv64("poison-1")
    daemons = []
    kills = 0
    for attempt in range(1, 6):
        d = mq.Daemon(url, cfg, tmp, ["--workers", "1"], name=f"try{attempt}")
        daemons.append(d)
        if d.wait_log("event=dead_lettered", timeout=0.1):
            pass
        ok = False
        end = time.time() + 20
        while time.time() < end:
            txt = d.text()
            if f"event=job_taken key={key}" in txt:
                ok = "taken"
                break
            if "event=dead_lettered" in txt:
                ok = "dead"
                break
            time.sleep(0.05)
        if ok == "taken":
            d.p.kill()
            d.wait(10)
            kills += 1
            continue
        break
    t.check(kills == 3, f"judged 1 + max_redeliveries(2) times, killed each time ({kills})")
    last = daemons[-1]
    t.check(last.wait_log("reason=redeliveries", 10), "then dead-lettered for its redeliveries")
    dlq = cl.drain_queue(n.dlq, settle=1.0)
    t.check([m.properties.get("message_id") for m in dlq] == ["poison-1"], "it is in the DLQ")
    t.check(not os.path.exists(os.path.join(tmp, "state", key)), "attempt count cleared")
    cl.publish(trivial(2), message_id="after-poison")
    res = cl.results(1, 60)
    t.check(len(res) == 1 and res[0][1]["student_id"] == 2, "daemon keeps serving")
    rc = last.stop()
    t.check(rc == 0, f"exit 0 ({rc})")
    cl.close()
    mq.cleanup(url, n)
    t.done(daemons)


def sc_drain():
    """SIGTERM drains in-flight work and exits 0; past drain_timeout the
    unfinished submission is requeued; --once takes exactly one."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("drain", extra="  drain_timeout: 2\n")
    d = mq.Daemon(url, cfg, tmp, ["--workers", "2"])
    t.check(d.wait_log("event=connected"), "connected")
    cl = mq.Client(url, n)
    cl.publish(trivial(1, sleep=1.0), message_id="dr-1")
    cl.publish(trivial(2, sleep=1.0), message_id="dr-2")
    end = time.time() + 20
    while time.time() < end and d.text().count("event=job_taken") < 2:
        time.sleep(0.05)
    d.signal(signal.SIGTERM)
    rc = d.wait(20)
    t.check(rc == 0, f"SIGTERM with 2 in flight: exit 0 ({rc})")
    res = cl.results(2, 10)
    t.check(sorted(b["student_id"] for _, b in res) == [1, 2], "both in-flight submissions answered")
    t.check(cl.depth(n.queue) == 0, "and acked")
    # past the drain timeout
    d2 = mq.Daemon(url, cfg, tmp, ["--workers", "1"], name="slow")
    t.check(d2.wait_log("event=connected"), "connected (2)")
    cl.publish(trivial(3, sleep=4.0), message_id="dr-3")
    t.check(d2.wait_log("event=job_taken"), "slow job taken")
    t0 = time.time()
    d2.signal(signal.SIGTERM)
    rc = d2.wait(20)
    dt = time.time() - t0
    t.check(rc == 0 and dt < 4.0, f"drain timeout: exit 0 after ~2 s ({rc}, {dt:.1f} s)")
    t.check("event=drain_timeout" in d2.text(), "log: drain_timeout")
    time.sleep(0.5)
    t.check(cl.depth(n.queue) == 1, "unfinished submission requeued")
    # --once takes one, leaves the rest
    cl.publish(trivial(4), message_id="dr-4")
    d3 = mq.Daemon(url, cfg, tmp, ["--once", "--workers", "2"], name="once")
    rc = d3.wait(60)
    t.check(rc == 0, f"--once: exit 0 ({rc})")
    res = cl.results(1, 5)
    t.check(len(res) == 1, f"--once: one result ({len(res)})")
    time.sleep(0.5)
    t.check(cl.depth(n.queue) == 1, "--once: the other submission is still queued")
    cl.close()
    mq.cleanup(url, n)
    t.done([d, d2, d3])


def sc_valgrind():
    """runlet serve --max-jobs 20 under valgrind: no memory errors, no leaks."""
    t = mq.Runner()
    if shutil.which("valgrind") is None:
        print("SKIP valgrind not installed (apt-get install valgrind)")
        sys.exit(1 if os.environ.get("CI") == "true" else mq.SKIP)
    url, n, tmp, cfg = setup("vg")
    mq.platform_declare(url, n)
    cl = mq.Client(url, n)
    for i in range(1, 18):
        cl.publish(trivial(i), message_id=f"v-{i}")
    cl.publish(None, raw="{broken", message_id="v-bad")
    cl.publish(dict(CONTRACT_BODY, lang="cobol", student_id=100), message_id="v-lang")
    cl.publish(CONTRACT_BODY, task_name=None, message_id="v-nohdr")
    d = mq.Daemon(url, cfg, tmp, ["--max-jobs", "20", "--workers", "2"],
                  wrapper=["valgrind", "--error-exitcode=1", "--leak-check=full",
                           "--errors-for-leak-kinds=definite", "--track-fds=no",
                           # the sandbox's forked helpers are not the daemon
                           "--child-silent-after-fork=yes",
                           "--trace-children=no", "-q"])
    rc = d.wait(280)
    if rc is None:
        d.p.kill()
    t.check(rc == 0, f"valgrind: exit 0 ({rc})")
    res = cl.results(18, 10)
    t.check(len(res) == 18, f"17 results + 1 error result ({len(res)})")
    # valgrind cannot run the native sandbox's namespaced clone(), so these
    # results say IE: what is checked here is the daemon, not the judge
    got = by_student(res)
    t.check(sorted(got) == list(range(1, 18)) + [100] and all(len(v) == 1 for v in got.values()),
            f"each answered exactly once ({sorted(got)})")
    t.check(len(cl.drain_queue(n.dlq, settle=0.5)) == 2, "2 dead-lettered")
    cl.close()
    mq.cleanup(url, n)
    t.done([d])


def sc_tls():
    """amqps:// with the broker's certificate verified against a CA file;
    without that CA the connection is refused (verification is on)."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("tls")
    tls_url, ca = mq.service_env("RUNLET_TEST_AMQPS_URL"), mq.service_env("RUNLET_TEST_AMQP_CACERT")
    if not tls_url or not ca or not os.path.exists(ca):
        print("FAIL no TLS listener in build/services/rabbitmq.env (scripts/services.d/rabbitmq.sh restart)")
        sys.exit(1)
    mq.platform_declare(url, n)
    d = mq.Daemon(tls_url, cfg, tmp, ["--workers", "1"], name="tls",
                  env={"RUNLET_AMQP_CACERT": ca})
    t.check(d.wait_log("event=connected"), "connected over TLS")
    t.check("broker=amqps://guest@localhost:" in d.text(), "log shows amqps, no password")
    cl = mq.Client(url, n)
    cl.publish(CONTRACT_BODY, message_id="tls-1")
    got = cl.results(1, 60)
    t.check(len(got) == 1 and [c["output"] for c in got[0][1]["test_cases"]] == ["3", "12"],
            "round trip over TLS")
    rc = d.stop()
    t.check(rc == 0, f"exit 0 ({rc})")
    d2 = mq.Daemon(tls_url, cfg, tmp, ["--workers", "1"], name="untrusted",
                   env={"RUNLET_AMQP_CACERT": ""})
    t.check(d2.wait_log("event=connect_failed", 20) and "event=connected" not in d2.text(),
            "a certificate from an unknown CA is refused")
    rc = d2.stop()
    t.check(rc == 0, f"stops cleanly while unconnected ({rc})")
    cl.close()
    mq.cleanup(url, n)
    t.done([d, d2])


def sc_scaleout():
    """Two daemons on one queue share the work; each submission is answered
    exactly once."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("scale")
    mq.platform_declare(url, n)
    ds = [mq.Daemon(url, cfg, tmp, ["--workers", "2", "--log-level", "info"], name=f"d{i}")
          for i in (1, 2)]
    for d in ds:
        t.check(d.wait_log("event=connected"), f"{d.log_path}: connected")
    cl = mq.Client(url, n)
    for i in range(1, 81):
        cl.publish(trivial(i, sleep=0.05), message_id=f"s-{i}")
    res = cl.results(80, 120)
    answered_all(t, res, list(range(1, 81)), "2 daemons x 2 workers", exactly_once=True)
    counts = [d.text().count("event=job_done") for d in ds]
    t.check(all(c > 0 for c in counts) and sum(counts) == 80, f"both daemons worked ({counts})")
    for d in ds:
        t.check(d.stop() == 0, "exit 0")
    cl.close()
    mq.cleanup(url, n)
    t.done(ds)


def sc_noresults():
    """The results queue is deleted while runlet runs: the result comes back
    unroutable, runlet declares the queue again and delivers it; nothing is
    acked before that."""
    t = mq.Runner()
    url, n, tmp, cfg = setup("nores")
    mq.platform_declare(url, n)
    d = mq.Daemon(url, cfg, tmp, ["--workers", "1"])
    t.check(d.wait_log("event=connected"), "connected")
    c = mq.connect(url)
    c.channel().queue_delete(n.results)
    c.close()
    cl = mq.Client(url, n)
    cl.publish(CONTRACT_BODY, message_id="nr-1")
    t.check(d.wait_log("event=result_returned", 30), "log: result_returned")
    t.check(d.wait_log("event=job_done id=nr-1", 30), "then answered after reconnecting")
    got = cl.results(2, 5)
    t.check(len(got) >= 1 and got[0][1]["test_cases"][0]["output"] == "3",
            f"the result is in the declared-again results queue ({len(got)})")
    rc = d.stop()
    t.check(rc == 0, f"exit 0 ({rc})")
    t.check(cl.depth(n.queue) == 0, "submission acked")
    cl.close()
    mq.cleanup(url, n)
    t.done([d])


def sc_bench():
    sc_bulk(count=int(os.environ.get("BENCH_COUNT", "100")),
            workers=int(os.environ.get("BENCH_WORKERS", "2")), label="bench")


SCENARIOS = {"roundtrip": sc_roundtrip, "declare": sc_declare, "bulk": sc_bulk,
             "restart": sc_restart, "sigkill": sc_sigkill, "bad": sc_bad,
             "poison": sc_poison, "drain": sc_drain, "valgrind": sc_valgrind, "tls": sc_tls, "scaleout": sc_scaleout,
             "noresults": sc_noresults,
             "bench": sc_bench}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print("usage: serve_test.py " + "|".join(SCENARIOS))
        sys.exit(2)
    SCENARIOS[sys.argv[1]]()
