"""RabbitMQ side of the benchmarks: the test broker (scripts/services.d/
rabbitmq.sh), a platform-like publisher and result consumer (py-amqp, the
library the platform's kombu sits on), and `runlet serve` as a child process
on queues of its own (names prefixed per run, so a shared broker is fine)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import benchlib as bl

SERVICE = os.path.join(bl.SRC, "scripts", "services.d", "rabbitmq.sh")
ENVFILE = os.path.join(bl.SRC, "build", "services", "rabbitmq.env")


def broker_url():
    """Start the test broker if needed; its URL. Raises Skip saying why when
    it cannot be had."""
    try:
        import amqp  # noqa: F401
    except ImportError:
        raise bl.Skip("python3-amqp missing (apt-get install python3-amqp, or "
                      "bash scripts/setup.sh test)")
    url = os.environ.get("RUNLET_BENCH_AMQP_URL")
    if not url:
        p = subprocess.run(["bash", SERVICE, "start"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise bl.Skip("RabbitMQ could not be started (scripts/services.d/rabbitmq.sh "
                          f"start: {p.stdout.strip()[-300:]})")
        for line in open(ENVFILE):
            k, _, v = line.strip().partition("=")
            if k == "RUNLET_TEST_AMQP_URL":
                url = v
    if not url:
        raise bl.Skip(f"no AMQP URL in {ENVFILE}")
    host, port = hostport(url).split(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as e:
        raise bl.Skip(f"broker {host}:{port} unreachable ({e})")
    return url


def hostport(url):
    return url.split("@")[1].split("/")[0]


class Names:
    def __init__(self, tag):
        p = f"bench{os.getpid()}_{tag}_"
        self.queue = p + "test_solutions"
        self.dlx = p + "dlx"
        self.dlq = p + "test_solutions_dlq"
        self.results = p + "results"


def write_config(wd, n, workers, base=bl.CONFIG, extra=""):
    """The benchmark copy of base (bl.bench_config) plus extra and a broker
    section naming n's queues."""
    return bl.bench_config(wd, base=base, name=f"config-{n.queue}.yaml", extra=extra + f"""
broker:
  queue: {n.queue}
  dead_letter_exchange: {n.dlx}
  dead_letter_queue: {n.dlq}
  results_queue: {n.results}
  workers: {workers}
""")


class Client:
    """Publishes submissions and consumes results (one connection)."""

    def __init__(self, url, n):
        import amqp
        self.amqp = amqp
        self.n = n
        self.conn = amqp.Connection(hostport(url), userid="guest", password="guest",
                                    virtual_host="/", connect_timeout=5)
        self.conn.connect()
        self.ch = self.conn.channel()
        self.got = []
        self.consuming = False

    def declare(self):
        """The topology as the platform's library declares it (CONTRACT.md
        section 1), so submissions can wait in the queue before runlet runs."""
        ch, n = self.ch, self.n
        ch.exchange_declare(n.dlx, "direct", durable=True, auto_delete=False)
        ch.queue_declare(n.dlq, durable=True, auto_delete=False,
                         arguments={"x-message-ttl": 86400})
        ch.queue_bind(n.dlq, n.dlx, routing_key=n.dlq)
        ch.queue_declare(n.queue, durable=True, auto_delete=False,
                         arguments={"x-dead-letter-exchange": n.dlx,
                                    "x-dead-letter-routing-key": n.dlq})
        ch.queue_declare(n.results, durable=True, auto_delete=False)

    def depth(self, queue):
        _, count, _ = self.ch.queue_declare(queue, passive=True)
        return count

    def publish(self, body, message_id):
        props = {"content_type": "application/json", "delivery_mode": 2,
                 "application_headers": {"task_name": "test_solution"},
                 "message_id": message_id}
        self.ch.basic_publish(self.amqp.Message(json.dumps(body), **props),
                              exchange="", routing_key=self.n.queue)

    def _on_result(self, m):
        self.got.append((time.monotonic(), json.loads(m.body)))

    def consume(self):
        if not self.consuming:
            self.ch.basic_consume(self.n.results, callback=self._on_result, no_ack=True)
            self.consuming = True

    def wait(self, count, timeout):
        """Until len(self.got) >= count; False on timeout."""
        end = time.monotonic() + timeout
        while len(self.got) < count:
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                self.conn.drain_events(timeout=min(left, 1.0))
            except socket.timeout:
                pass
        return True

    def cleanup(self):
        for q in (self.n.queue, self.n.dlq, self.n.results):
            try:
                self.ch.queue_delete(q)
            except Exception:
                self.ch = self.conn.channel()
        try:
            self.ch.exchange_delete(self.n.dlx)
        except Exception:
            pass

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


class Daemon:
    """`runlet serve` with the bench config; log in its own file."""

    def __init__(self, url, config, args=(), tag="serve"):
        self.dir = tempfile.mkdtemp(prefix=f"runlet-bench-{tag}-")
        self.keep_dir = False
        self.log_path = os.path.join(self.dir, "serve.log")
        self.log = open(self.log_path, "ab")
        env = dict(os.environ)
        env["RUNLET_AMQP_URL"] = url
        env.pop("RABBITMQ_HOST", None)
        cmd = [bl.RUNLET, "serve", "--config", config,
               "--state-dir", os.path.join(self.dir, "state"), *args]
        self.t_start = time.monotonic()
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env,
                                  cwd=self.dir)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, needle, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return True
            if self.p.poll() is not None:
                return needle in self.text()
            time.sleep(0.02)
        return False

    def status(self):
        """VmRSS, VmHWM (kB), threads and open fds of the daemon process."""
        out = {}
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads"):
                    out[k] = int(v.split()[0])
        out["fds"] = len(os.listdir(f"/proc/{self.p.pid}/fd"))
        return out

    def stop(self, timeout=60):
        """SIGTERM (SIGKILL after timeout s), then remove its directory
        (keep_dir: leave it, e.g. to read the log). Its exit status."""
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self.log.closed:
            self.log.close()
            if not self.keep_dir:
                shutil.rmtree(self.dir, ignore_errors=True)
        return self.p.returncode

    def tail(self, n=20):
        return "\n".join(self.text().splitlines()[-n:])


class Session:
    """`runlet serve` with config on n's queues and a client of its own,
    for submissions timed one at a time (publish to result)."""

    def __init__(self, url, n, config, tag, workers=2):
        self.cl = Client(url, n)
        self.cl.cleanup()
        self.cl.declare()
        self.cl.consume()
        self.d = Daemon(url, config, ["--workers", str(workers)], tag=tag)
        if not self.d.wait_log("event=connected"):
            raise bl.FloorError(f"runlet serve did not connect:\n{self.d.tail()}")

    def submit(self, body, message_id, what, timeout=120):
        """Seconds from publishing body to its result arriving; FloorError
        when none comes or its status is not OK (what names it)."""
        want = len(self.cl.got) + 1
        t0 = time.monotonic()
        self.cl.publish(body, message_id)
        if not self.cl.wait(want, timeout):
            raise bl.FloorError(f"no result in {timeout} s:\n{self.d.tail()}")
        t, res = self.cl.got[-1]
        if res.get("status") != "OK":
            raise bl.FloorError(f"{what}: status {res.get('status')}: {res.get('err_msg')}")
        return t - t0

    def close(self):
        self.d.stop()
        self.cl.cleanup()
        self.cl.close()
