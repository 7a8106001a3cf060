"""Helpers for the `runlet serve` tests: the test broker, a platform-like
client (kombu / py-amqp, the platform's own AMQP library), a runlet daemon
under test, and per-test queue names so tests can share one broker."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import amqp
from kombu import Connection, Exchange, Queue

SRC = os.environ.get("RUNLET_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RUNLET = os.environ.get("RUNLET_BIN") or os.path.join(SRC, "build", "runlet")
ENVFILE = os.path.join(SRC, "build", "services", "rabbitmq.env")
SKIP = 77


def service_env(name):
    """A value from the service script's env file (or the environment)."""
    v = os.environ.get(name)
    if not v and os.path.exists(ENVFILE):
        for line in open(ENVFILE):
            k, _, val = line.strip().partition("=")
            if k == name:
                v = val
    return v


def broker_url():
    """The test broker's URL, or exit: skip (77) normally, fail under CI."""
    url = service_env("RUNLET_TEST_AMQP_URL")
    why = None
    if not url:
        why = f"no test broker: {ENVFILE} missing (run scripts/services.d/rabbitmq.sh start)"
    else:
        host, port = url.split("@")[1].split("/")[0].split(":")
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
        except OSError as e:
            why = f"test broker {host}:{port} unreachable ({e}); run scripts/services.d/rabbitmq.sh start"
    if why:
        print(("FAIL " if os.environ.get("CI") == "true" else "SKIP ") + why)
        sys.exit(1 if os.environ.get("CI") == "true" else SKIP)
    return url


def hostport(url):
    hp = url.split("@")[1].split("/")[0]
    return hp


class Names:
    """Queue and exchange names of one test (the contract's names with a
    per-test prefix; prefix "" gives the contract's defaults)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.queue = prefix + "test_solutions"
        self.dlx = prefix + "dlx"
        self.dlq = prefix + "test_solutions_dlq"
        self.results = prefix + "results"

    def all_queues(self):
        return [self.queue, self.dlq, self.results]


def unique_prefix(tag):
    return f"t{os.getpid()}_{tag}_"


def connect(url):
    c = amqp.Connection(hostport(url), userid="guest", password="guest",
                        virtual_host="/", connect_timeout=5)
    c.connect()
    return c


def platform_declare(url, n, ttl=86400):
    """Declare the topology the way the platform's library (kombu) does."""
    dlx = Exchange(n.dlx, type="direct", durable=True)
    queues = [
        Queue(n.dlq, exchange=dlx, routing_key=n.dlq, durable=True,
              queue_arguments={"x-message-ttl": ttl}),
        Queue(n.queue, durable=True,
              queue_arguments={"x-dead-letter-exchange": n.dlx,
                               "x-dead-letter-routing-key": n.dlq}),
        Queue(n.results, durable=True),
    ]
    with Connection("amqp://guest:guest@" + hostport(url) + "//") as conn:
        ch = conn.channel()
        for q in queues:
            q(ch).declare()


def cleanup(url, n):
    c = connect(url)
    ch = c.channel()
    for q in n.all_queues():
        try:
            ch.queue_delete(q)
        except Exception:
            ch = c.channel()
    try:
        ch.exchange_delete(n.dlx)
    except Exception:
        pass
    c.close()


def submission(i, code=None, tests=None, **kw):
    body = {"student_id": i, "problem_id": 42, "course_id": 3, "lang": "py",
            "code": code if code is not None else "a, b = map(int, input().split())\nprint(a + b)\n",
            "run_data": tests if tests is not None else
            [{"test_num": 1, "input": "1 2\n"}, {"test_num": 2, "input": "5 7\n"}]}
    body.update(kw)
    return body


class Client:
    """A platform-like client: publishes submissions, reads results and the
    dead-letter queue."""

    def __init__(self, url, n):
        self.url, self.n = url, n
        self.conn = connect(url)
        self.ch = self.conn.channel()
        self.ch.confirm_select()

    def publish(self, body, task_name="test_solution", message_id=None,
                headers=None, raw=None, correlation_id=None):
        h = dict(headers or {})
        if task_name is not None:
            h["task_name"] = task_name
        props = {"content_type": "application/json", "delivery_mode": 2,
                 "application_headers": h}
        if message_id is not None:
            props["message_id"] = message_id
        if correlation_id is not None:
            props["correlation_id"] = correlation_id
        data = raw if raw is not None else json.dumps(body)
        self.ch.basic_publish(amqp.Message(data, **props), exchange="",
                              routing_key=self.n.queue)

    def get(self, queue, timeout=0.0):
        """One message from queue (acked), or None after timeout seconds."""
        end = time.time() + timeout
        while True:
            m = self.ch.basic_get(queue, no_ack=True)
            if m is not None:
                return m
            if time.time() >= end:
                return None
            time.sleep(0.05)

    def results(self, count, timeout):
        """Collect results until count arrived or timeout; returns
        [(properties, decoded body)]."""
        out = []
        end = time.time() + timeout
        while len(out) < count and time.time() < end:
            m = self.ch.basic_get(self.n.results, no_ack=True)
            if m is None:
                time.sleep(0.05)
                continue
            out.append((m.properties, json.loads(m.body)))
        return out

    def drain_queue(self, queue, settle=0.5):
        """Every message now in queue (waits settle s after the last)."""
        out = []
        while True:
            m = self.get(queue, settle)
            if m is None:
                return out
            out.append(m)

    def depth(self, queue):
        _, count, _ = self.ch.queue_declare(queue, passive=True)
        return count

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


def write_config(tmp, n, extra=""):
    path = os.path.join(tmp, "config.yaml")
    with open(path, "w") as f:
        f.write(f"""runners:
  py:
    image: python:3.13-alpine
    mem_limit: 256m
    cpu_cores: 1
    compile_args: []
    run_args: ["python3", "{{src}}"]
    run_timeout: 5
broker:
  queue: {n.queue}
  dead_letter_exchange: {n.dlx}
  dead_letter_queue: {n.dlq}
  results_queue: {n.results}
{extra}""")
    return path


class Daemon:
    """runlet serve as a child process; stderr goes to a log file."""

    def __init__(self, url, config, tmp, args=(), wrapper=(), name="serve", env=None):
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "ab")
        extra_env = env
        env = dict(os.environ)
        for k in ("RUNLET_AMQP_URL", "RABBITMQ_HOST", "RABBITMQ_PORT",
                  "RABBITMQ_USER", "RABBITMQ_PASSWORD"):
            env.pop(k, None)
        if url is not None:
            env["RUNLET_AMQP_URL"] = url
        env.update(extra_env or {})
        cmd = list(wrapper) + [RUNLET, "serve", "--config", config, "--insecure",
                               "--state-dir", os.path.join(tmp, "state"),
                               "--log-level", "debug", *args]
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=self.log,
                                  env=env, cwd=tmp)

    def wait_log(self, needle, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if needle in self.text():
                return True
            if self.p.poll() is not None:
                return needle in self.text()
            time.sleep(0.05)
        return False

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode


class Runner:
    """Checks with a pass/fail line each; exit status at the end."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}", flush=True)
        return cond

    def done(self, daemons=()):
        if self.failed:
            for d in daemons:
                print(f"---- {d.log_path} (last 40 lines)")
                print("\n".join(d.text().splitlines()[-40:]))
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def tmpdir(tag):
    return tempfile.mkdtemp(prefix=f"runlet-serve-{tag}-")
