#!/usr/bin/env python3
"""Proof under faults, against the real `closedloop` binary (run by scripts/faults):

1. kill -9 during concurrent ticket creation, on SQLite and on PostgreSQL: every ticket the service
   acknowledged (201) is there after a restart, with a unique number.
2. PostgreSQL stopped and started again under load (a private cluster of its own): requests get a
   quick 503 problem while it is away, never another 5xx; the service stays up and serves again by
   itself when the database is back; then it stops cleanly on SIGTERM.
3. schemathesis fuzzes the API from its own OpenAPI document: no 5xx, answers as documented.

Prints what it measured; exits non-zero on the first broken promise.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("CLOSEDLOOP_BIN", os.path.join(ROOT, "target", "debug", "closedloop"))
ADMIN_PG = os.environ.get("CLOSEDLOOP_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
SCHEMATHESIS = os.environ.get("SCHEMATHESIS", "schemathesis")

# The valid complaint the integration tests send too.
with open(os.path.join(ROOT, "tests", "fixtures", "complaint.json"), encoding="utf-8") as f:
    COMPLAINT = json.load(f)


# What this script started, to be stopped however it ends.
RUNNING = []


@atexit.register
def clean_up():
    for thing in reversed(RUNNING):
        try:
            thing.remove() if isinstance(thing, PrivateCluster) else os.killpg(thing.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass


def fail(message):
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, token=None, body=None, headers=None, timeout=10):
    """(status, json body or None, seconds); status 0 when the service could not be reached."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            status = res.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None, time.monotonic() - started
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, time.monotonic() - started


class Service:
    """`closedloop serve` on a port of its own."""

    def __init__(self, url, workdir, extra=None):
        self.url = url
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(
            {
                "DATABASE_URL": url,
                "CLOSEDLOOP__HTTP__ADDR": f"127.0.0.1:{self.port}",
                "CLOSEDLOOP__MAIL__DIR": os.path.join(workdir, "mail"),
                "CLOSEDLOOP__AUTH__MAX_FAILURES": "1000000",
                "CLOSEDLOOP__DATABASE__POOL_TIMEOUT": "1s",
                "RUST_LOG": "warn",
            }
        )
        self.env.update(extra or {})
        self.proc = None

    def cli(self, *args):
        out = subprocess.run([BINARY, *args], env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"closedloop {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()

    def start(self):
        log = open(os.path.join(self.workdir, "service.log"), "ab")
        self.proc = subprocess.Popen(
            [BINARY, "serve"], env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        RUNNING.append(self.proc)
        for _ in range(200):
            if request("GET", f"{self.base}/healthz", timeout=1)[0] == 200:
                return
            if self.proc.poll() is not None:
                fail(f"the service exited on start ({self.proc.returncode}); see {self.workdir}/service.log")
            time.sleep(0.1)
        fail("the service did not come up")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("the service did not stop within 30 s of SIGTERM")
        if code != 0:
            fail(f"the service exited {code} on SIGTERM")


def creators(base, token, stop, acked, unanswered, errors, threads=8):
    def run():
        while not stop.is_set():
            key = str(uuid.uuid4())
            status, body, _ = request(
                "POST", f"{base}/api/v1/tickets", token, COMPLAINT, {"Idempotency-Key": key}, timeout=5
            )
            if status == 201:
                acked.append((body["id"], body["number"], key))
            elif status == 0:
                unanswered.append(key)
            elif status != 503:
                errors.append((status, body))

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    return workers


def kill_during_creation(name, url):
    work = tempfile.mkdtemp(prefix=f"closedloop-faults-{name}-")
    service = Service(url, work)
    service.cli("migrate")
    service.cli("seed", "--demo")
    token = service.cli("token", "--username", "operator")
    service.start()
    stop, acked, unanswered, errors = threading.Event(), [], [], []
    workers = creators(service.base, token, stop, acked, unanswered, errors)
    time.sleep(3)
    service.kill()
    stop.set()
    for w in workers:
        w.join()
    if errors:
        fail(f"{name}: unexpected answers while creating: {errors[:3]}")
    if not acked:
        fail(f"{name}: nothing was acknowledged before the kill")
    service.start()
    missing = [i for i, _, _ in acked if request("GET", f"{service.base}/api/v1/tickets/{i}", token)[0] != 200]
    numbers = [n for _, n, _ in acked]
    # A client that got no answer retries with its Idempotency-Key: one ticket per key, whether
    # or not the first try had been written; an acknowledged key gives back its ticket.
    def replay(key):
        status, body, _ = request(
            "POST", f"{service.base}/api/v1/tickets", token, COMPLAINT, {"Idempotency-Key": key}
        )
        return status, (body or {}).get("id")

    for key in unanswered:
        first, second = replay(key), replay(key)
        if first[0] != 201 or first != second:
            fail(f"{name}: a retried key gave {first} then {second}")
    for ticket, _, key in acked[:20]:
        if replay(key) != (201, ticket):
            fail(f"{name}: an acknowledged key, retried, did not give back its ticket")
    service.stop()
    if missing:
        fail(f"{name}: {len(missing)} of {len(acked)} acknowledged tickets are gone after kill -9: {missing[:5]}")
    if len(set(numbers)) != len(numbers):
        fail(f"{name}: acknowledged tickets share numbers")
    print(
        f"kill -9 during creation ({name}): {len(acked)} tickets acknowledged, all there after restart; "
        f"{len(unanswered)} unanswered tries retried with their Idempotency-Key, one ticket each",
        flush=True,
    )
    shutil.rmtree(work, ignore_errors=True)


def postgres_database(admin_url):
    name = f"closedloop_faults_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def drop_database(admin_url, name):
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


class PrivateCluster:
    """A PostgreSQL cluster of this script's own, to stop and start at will."""

    def __init__(self):
        versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: int(v.split(".")[0]))
        self.bin = f"/usr/lib/postgresql/{versions[-1]}/bin"
        self.dir = tempfile.mkdtemp(prefix="closedloop-faults-pg-")
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        RUNNING.append(self)
        self.run("initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "--no-sync")

    def run(self, tool, *args):
        cmd = [f"{self.bin}/{tool}", *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"{tool}: {out.stderr or out.stdout}")

    def start(self):
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-o", opts, "-w", "start")

    def stop(self):
        self.run("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def url(self, db="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def remove(self):
        if os.path.exists(f"{self.dir}/data/postmaster.pid"):
            subprocess.run([f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"],
                           capture_output=True, user="postgres" if self.as_postgres else None)
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_restart_under_load():
    cluster = PrivateCluster()
    cluster.start()
    subprocess.run(["psql", cluster.url(), "-qc", "CREATE DATABASE closedloop"], check=True)
    work = tempfile.mkdtemp(prefix="closedloop-faults-restart-")
    service = Service(cluster.url("closedloop"), work)
    service.cli("migrate")
    service.cli("seed", "--demo")
    token = service.cli("token", "--username", "operator")
    service.start()

    log, stop = [], threading.Event()
    phase = {"now": "before"}

    def load():
        i = 0
        while not stop.is_set():
            i += 1
            # A request counts in the phase it was sent in.
            sent_in = phase["now"]
            if i % 2:
                status, body, took = request("GET", f"{service.base}/api/v1/tickets?limit=5", token, timeout=10)
            else:
                status, body, took = request("POST", f"{service.base}/api/v1/tickets", token, COMPLAINT, timeout=10)
            log.append((sent_in, status, took, body))
            time.sleep(0.02)

    workers = [threading.Thread(target=load, daemon=True) for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(2)
    phase["now"] = "down"
    cluster.stop()
    time.sleep(4)
    phase["now"] = "restarting"
    cluster.start()
    # The pool finds the database again by itself: wait for the first success, then watch.
    back = time.monotonic() + 20
    while time.monotonic() < back and request("GET", f"{service.base}/api/v1/tickets?limit=1", token)[0] != 200:
        time.sleep(0.2)
    time.sleep(1)
    phase["now"] = "after"
    time.sleep(3)
    stop.set()
    for w in workers:
        w.join()
    alive = service.proc.poll() is None
    if alive:
        service.stop()
    cluster.remove()
    shutil.rmtree(work, ignore_errors=True)

    def count(p, pred):
        return sum(1 for ph, s, t, b in log if ph == p and pred(s, t, b))

    if not alive:
        fail("the service died while PostgreSQL was away")
    bad = [(ph, s, b) for ph, s, t, b in log if s == 0 or (s >= 500 and s != 503)]
    if bad:
        fail(f"answers other than success or 503 during the restart: {bad[:3]}")
    unavailable = [(s, t, b) for ph, s, t, b in log if s == 503]
    if not unavailable:
        fail("no 503 while PostgreSQL was stopped")
    if any(b is None or b.get("code") != "unavailable" for s, t, b in unavailable):
        fail("a 503 without the `unavailable` problem")
    slowest = max(t for s, t, b in unavailable)
    if slowest > 3.5:
        fail(f"a 503 took {slowest:.1f} s")
    ok_after = count("after", lambda s, t, b: s in (200, 201))
    not_ok_after = count("after", lambda s, t, b: s not in (200, 201))
    if ok_after == 0 or not_ok_after:
        fail(f"not recovered: {ok_after} successes and {not_ok_after} failures after PostgreSQL came back")
    print(
        "PostgreSQL stopped under load: "
        f"{count('before', lambda s, t, b: s in (200, 201))} ok before, "
        f"{len(unavailable)} quick 503s while away (slowest {slowest:.2f} s), "
        f"{ok_after} ok after it came back, no other 5xx, no restart of the service; exit 0 on SIGTERM",
        flush=True,
    )


def fuzz():
    work = tempfile.mkdtemp(prefix="closedloop-faults-fuzz-")
    service = Service(f"sqlite://{work}/fuzz.db", work)
    service.cli("migrate")
    service.cli("seed", "--demo")
    service.start()
    total = 0
    for user in ("operator", "supervisor"):
        token = service.cli("token", "--username", user)
        out = subprocess.run(
            [
                SCHEMATHESIS, "run", f"{service.base}/api/v1/openapi.json",
                "-H", f"Authorization: Bearer {token}",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--phases", "examples,coverage,fuzzing",
                "--max-examples", os.environ.get("FUZZ_EXAMPLES", "50"),
                "--seed", "20261128",
                "--no-color",
            ],
            cwd=work, capture_output=True, text=True,
        )
        summary = [l for l in out.stdout.splitlines() if "generated" in l]
        print(f"schemathesis as {user}: {summary[-1].strip() if summary else out.stdout[-500:]}", flush=True)
        if out.returncode != 0:
            print(out.stdout[-6000:])
            fail(f"schemathesis found problems (as {user})")
        if summary:
            total += int(summary[-1].split()[0])
    service.stop()
    shutil.rmtree(work, ignore_errors=True)
    print(f"schemathesis: {total} cases in all, no 5xx, every answer as documented", flush=True)


def main():
    which = sys.argv[1:] or ["kill", "restart", "fuzz"]
    if "kill" in which:
        work = tempfile.mkdtemp(prefix="closedloop-faults-sqlite-")
        try:
            kill_during_creation("SQLite", f"sqlite://{work}/closedloop.db")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        url, name = postgres_database(ADMIN_PG)
        try:
            kill_during_creation("PostgreSQL", url)
        finally:
            drop_database(ADMIN_PG, name)
    if "restart" in which:
        postgres_restart_under_load()
    if "fuzz" in which:
        fuzz()
    print("faults: every promise kept", flush=True)


if __name__ == "__main__":
    main()
