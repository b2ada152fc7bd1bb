"""Fault-and-load run: two replicas on one PostgreSQL, batches beside writes, kill -9, a database outage,
50 MB bodies and an idle-connection flood (issue 15).

Usage::

    .venv/bin/python benchmarks/fault_load.py [--quick] [--duration 60] [--clients 16]

Everything runs on 127.0.0.1 and is bounded in time and count.  The two replicas are
``iprisk serve`` processes (uvicorn with the service's own server limits) of the tree ``--code``
(default: this one; an earlier checkout gives a baseline) on a new, throwaway PostgreSQL database,
dropped at the end.  The contention phase reaches the database directly; for the others the
replicas are restarted behind a TCP proxy this script controls (``tcp_proxy.py``), so a database
outage can be made without stopping the server other people use.  Where the machine has two
cores, replica A is pinned to core 0 and replica B to core 1, and each replica's clients run in a
process of their own on the replica's core (``--no-pin-clients`` lets them float): B's solo and
shared runs then have the same CPU, and what the comparison measures is what A's writes cost B's
through the database.  A sampler counts backends waiting on a lock in ``pg_stat_activity``.

Phases (figures go to ``--out``, by default ``benchmarks/results/fault_load.json``):

1. **solo**: B alone, ``--clients`` clients posting assessments for ``--duration`` s.
2. **beside batches**: the same on B while A's ``--clients`` clients post batches of
   ``--batch-items`` assessments.  Target: B's p99 within 3× its solo p99, no 5xx anywhere.
3. **faults**: both replicas under writes; A is killed with SIGKILL and restarted; A is frozen
   (SIGSTOP) for ``--outage`` s, mid-transaction as likely as not; then the database is cut for
   ``--outage`` s.  Target: every acknowledged (2xx) assessment is in the
   database, B keeps writing while A is frozen, nothing but 503 while the database is away, both
   replicas serve again without a restart.
4. **bodies**: ``--big-bodies`` bodies of 50 MB, with and without a key.  Target: 413 each, B's
   resident memory grows under 50 MB.
5. **idle flood**: ``--idle`` idle connections to B, then ordinary requests.  Target: they are
   answered (no lock-out).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_assessment import ensure_store, machine  # noqa: E402
from cases import make_cases  # noqa: E402
from servers import HOST, free_port, make_key, store_for  # noqa: E402
from tcp_proxy import TcpProxy  # noqa: E402

MB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- replicas


@dataclass
class Replica:
    """One service process; restartable on the same port."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    cpu: int | None
    code: Path = HERE.parent  # the tree whose service runs (--code: a baseline checkout)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        """Start the process and wait until ``/healthz`` answers."""
        # `iprisk serve`, as production starts it: its server limits (limit_concurrency, the idle-connection
        # guard, header caps) are part of what is measured
        cmd = [
            sys.executable,
            "-c",
            "from service.cli import main; main()",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                cmd,
                env={**os.environ, **self.env, "PYTHONPATH": str(self.code)},
                cwd=self.code,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if self.cpu is not None:
            os.sched_setaffinity(self.process.pid, {self.cpu})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"replica {self.name} did not start in {timeout} s")

    def kill9(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Terminate (then kill)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_mb(self) -> float:
        """Resident memory of the process, MB."""
        return self._status_mb("VmRSS")

    def hwm_mb(self) -> float:
        """Peak resident memory of the process so far, MB."""
        return self._status_mb("VmHWM")

    def _status_mb(self, field: str) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} in /proc/{self.process.pid}/status")


# --------------------------------------------------------------------------- load


@dataclass
class Shot:
    """One request's outcome: when it started and ended (s from the run's start), status, id written."""

    replica: str
    start: float
    end: float
    status: int | str
    written: list[str] = field(default_factory=list)


# (replica name, base URL, path, payloads, API key, clients)
Target = tuple[str, str, str, list[bytes], str, int]


async def _load(
    targets: list[Target], duration: float, t0: float, events: list[tuple[float, Any]] | None = None
) -> list[Shot]:
    """Closed-loop clients for every (replica, url, path, payloads, clients); events run at their times."""
    shots: list[Shot] = []
    deadline = t0 + duration

    async def client_loop(
        name: str, url: str, path: str, payloads: list[bytes], key: str, offset: int, http: httpx.AsyncClient
    ) -> None:
        i = offset
        while time.perf_counter() < deadline:
            payload = payloads[i % len(payloads)]
            i += 1
            start = time.perf_counter()
            try:
                resp = await http.post(
                    url + path,
                    content=payload,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                status: int | str = resp.status_code
                written = _written_ids(resp) if resp.status_code in (200, 201) else []
            except httpx.HTTPError as exc:
                status, written = type(exc).__name__, []
                await asyncio.sleep(0.05)  # a refused connection returns at once: don't spin
            shots.append(Shot(name, start - t0, time.perf_counter() - t0, status, written))

    async def run_events() -> None:
        for at, action in events or []:
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            await asyncio.to_thread(action)

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as http:
        tasks = [
            client_loop(name, url, path, payloads, key, n * 7919, http)
            for name, url, path, payloads, key, clients in targets
            for n in range(clients)
        ]
        await asyncio.gather(*tasks, run_events())
    return shots


def _written_ids(resp: httpx.Response) -> list[str]:
    body = resp.json()
    if "results" in body:  # a batch
        return [item["assessment"]["id"] for item in body["results"] if item.get("assessment")]
    return [body["id"]]


def run_load(
    targets: list[Target], duration: float, events: list[tuple[float, Any]] | None = None, t0: float | None = None
) -> list[Shot]:
    """Run the closed loops for ``duration`` s from ``t0`` (requests in flight then finish)."""
    return asyncio.run(_load(targets, duration, time.perf_counter() if t0 is None else t0, events))


def summary(shots: list[Shot], replica: str) -> dict[str, Any]:
    """Latency of the 2xx answers of ``replica`` and a count of every status."""
    mine = [s for s in shots if s.replica == replica]
    ok = np.array([s.end - s.start for s in mine if isinstance(s.status, int) and s.status < 300]) * 1e3
    statuses: dict[str, int] = {}
    for s in mine:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    out: dict[str, Any] = {
        "requests": len(mine),
        "statuses": statuses,
        "five_xx": sum(1 for s in mine if isinstance(s.status, int) and s.status >= 500),
    }
    if len(ok):
        p50, p90, p99 = np.percentile(ok, [50, 90, 99])
        out.update(
            ok=len(ok),
            median_ms=round(float(p50), 2),
            p90_ms=round(float(p90), 2),
            p99_ms=round(float(p99), 2),
            max_ms=round(float(ok.max()), 2),
        )
    return out


# --------------------------------------------------------------------------- set-up


@contextmanager
def pg_database(url: str) -> Iterator[tuple[str, str]]:
    """A new, empty database on the server of ``url``; dropped afterwards.  Yields (name, url)."""
    name = f"iprisk_fault_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _host_port(url: str) -> tuple[str, int]:
    netloc = url.split("//", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = netloc.partition(":")
    return host, int(port or 5432)


def _via(url: str, port: int) -> str:
    scheme, rest = url.split("//", 1)
    netloc, path = rest.split("/", 1)
    user = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
    return f"{scheme}//{user}{HOST}:{port}/{path}"


def batch_payloads(cases: list[Any], items: int) -> list[bytes]:
    """Batch bodies of ``items`` assessments each."""
    bodies = [c.body for c in cases]
    return [
        json.dumps({"items": [bodies[(i + j) % len(bodies)] for j in range(items)]}).encode()
        for i in range(0, len(bodies), items)
    ]


# --------------------------------------------------------------------------- phases


def _load_pinned(target: Target, duration: float, cpu: int | None) -> list[Shot]:
    """One replica's clients in a process of their own, on ``cpu`` if given."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    return run_load([target], duration)


class LockWaits:
    """Samples ``pg_stat_activity`` every 0.2 s: how often a backend of the database waits on a lock."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.samples = 0
        self.waiting: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockWaits:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while not self._stop.wait(0.2):
                rows = conn.execute(
                    "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                for (event,) in rows:
                    self.waiting[event] = self.waiting.get(event, 0) + 1

    def result(self) -> dict[str, Any]:
        """Samples taken and, per lock kind, how many backend-samples were waiting."""
        return {"samples": self.samples, "backends_waiting_on_locks": self.waiting}


def load_apart(targets: list[tuple[Target, int | None]], duration: float) -> list[Shot]:
    """Each replica's clients in their own process, so parsing A's large batch answers never delays the
    client loop that times B's requests; pinned to their replica's core with ``--pin-clients``."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(len(targets), mp_context=ctx) as pool:
        futures = [pool.submit(_load_pinned, target, duration, cpu) for target, cpu in targets]
        return [shot for f in futures for shot in f.result()]


def phase_contention(
    a: Replica,
    b: Replica,
    keys: dict[str, str],
    db_url: str,
    args: argparse.Namespace,
    singles: list[bytes],
    batches: list[bytes],
) -> dict[str, Any]:
    """B's write latency alone, then beside A's batches."""
    writes: Target = ("B", b.url, "/v1/assessments", singles, keys["B"], args.clients)
    a_cpu, b_cpu = (a.cpu, b.cpu) if args.pin_clients else (None, None)
    cpu0 = b.cpu_seconds()
    with LockWaits(db_url) as solo_waits:
        solo = load_apart([(writes, b_cpu)], args.duration)
    cpu1 = b.cpu_seconds()
    with LockWaits(db_url) as shared_waits:
        shared = load_apart(
            [(writes, b_cpu), (("A", a.url, "/v1/assessments/batch", batches, keys["A"], args.clients), a_cpu)],
            args.duration,
        )
    cpu2 = b.cpu_seconds()
    s, m = summary(solo, "B"), summary(shared, "B")
    s["server_cpu_ms_per_request"] = round((cpu1 - cpu0) * 1e3 / max(s["requests"], 1), 2)
    m["server_cpu_ms_per_request"] = round((cpu2 - cpu1) * 1e3 / max(m["requests"], 1), 2)
    return {
        "clients_pinned": args.pin_clients,
        "solo_B": s,
        "beside_batches_B": m,
        "batches_A": summary(shared, "A"),
        "lock_waits": {"solo": solo_waits.result(), "beside_batches": shared_waits.result()},
        "p99_ratio": round(m["p99_ms"] / s["p99_ms"], 2) if "p99_ms" in m and "p99_ms" in s else None,
        "target": "B's p99 beside batches <= 3x solo, 0 5xx",
    }


def phase_faults(
    a: Replica,
    b: Replica,
    keys: dict[str, str],
    proxy: TcpProxy,
    db_url: str,
    args: argparse.Namespace,
    singles: list[bytes],
) -> dict[str, Any]:
    """kill -9 of A and a database outage under load; then count what was acknowledged and what is stored."""
    d = max(args.duration, 30.0)  # room for a restart, the outage and the recovery after it
    marks: dict[str, float] = {}
    t_start = time.perf_counter()

    def mark(name: str) -> None:
        marks[name] = time.perf_counter() - t_start

    def kill_a() -> None:
        mark("kill_a")
        a.kill9()
        a.start()
        mark("a_back")

    def freeze_a() -> None:
        # SIGSTOP: a replica that hangs mid-transaction (GC pause, swapped out, debugger): B must not wait on it
        assert a.process is not None
        mark("freeze_a")
        a.process.send_signal(signal.SIGSTOP)
        time.sleep(args.outage)
        a.process.send_signal(signal.SIGCONT)
        mark("thaw_a")

    def cut() -> None:
        mark("db_cut")
        proxy.cut()
        time.sleep(args.outage)
        proxy.restore()
        mark("db_back")

    events = [(d * 0.2, kill_a), (d * 0.4, freeze_a), (d * 0.6, cut)]
    shots = run_load(
        [
            ("A", a.url, "/v1/assessments", singles, keys["A"], args.clients),
            ("B", b.url, "/v1/assessments", singles, keys["B"], args.clients),
        ],
        d,
        events,
        t_start,
    )
    acked = {i for s in shots for i in s.written}
    with psycopg.connect(db_url) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM assessments").fetchall()}
    cut_at, back_at = marks.get("db_cut", 0.0), marks.get("db_back", 0.0)
    during = [s for s in shots if s.start >= cut_at and s.end <= back_at]
    bad_during = [s for s in during if s.status != 503]
    after = sorted(
        (s for s in shots if s.start >= back_at and isinstance(s.status, int) and s.status < 300), key=lambda s: s.end
    )
    frozen = [
        s
        for s in shots
        if s.replica == "B" and s.start >= marks.get("freeze_a", 0.0) and s.end <= marks.get("thaw_a", 0.0)
    ]
    recovered = {r: next((round(s.end - back_at, 2) for s in after if s.replica == r), None) for r in ("A", "B")}
    return {
        "marks_s": {k: round(v, 2) for k, v in marks.items()},
        "A": summary(shots, "A"),
        "B": summary(shots, "B"),
        "acknowledged_writes": len(acked),
        "lost_acknowledged_writes": len(acked - stored),
        "B_while_A_frozen": summary(frozen, "B"),
        "during_outage": {
            "requests": len(during),
            "not_503": len(bad_during),
            "statuses": sorted({str(s.status) for s in during}),
        },
        "five_hundreds": sum(1 for s in shots if s.status == 500),
        "seconds_to_first_2xx_after_outage": recovered,
        "target": "0 acknowledged writes lost; only 503 while the database is away; recovery without restart",
    }


def phase_bodies(b: Replica, keys: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """50 MB bodies with and without a key: statuses, time and B's memory."""
    big = b"[" + b"1," * (50 * MB // 2 - 1) + b"1]"
    rss0, hwm0 = b.rss_mb(), b.hwm_mb()
    results = []
    for i in range(args.big_bodies):
        headers = {"Content-Type": "application/json"}
        if i % 2:
            headers["Authorization"] = f"Bearer {keys['B']}"
        t0 = time.perf_counter()
        try:
            resp = httpx.post(b.url + "/v1/assessments/batch", content=big, headers=headers, timeout=60)
            status: int | str = resp.status_code
            size = len(resp.content)
        except httpx.HTTPError as exc:  # the server may close the connection after its 413
            status, size = type(exc).__name__, 0
        results.append(
            {
                "with_key": bool(i % 2),
                "status": status,
                "seconds": round(time.perf_counter() - t0, 3),
                "response_bytes": size,
            }
        )
    return {
        "body_mb": round(len(big) / MB, 1),
        "requests": results,
        "rss_before_mb": round(rss0, 1),
        "rss_after_mb": round(b.rss_mb(), 1),
        "peak_growth_mb": round(b.hwm_mb() - hwm0, 1),
        "target": "413 each, RSS growth < 50 MB",
    }


def phase_idle(b: Replica, keys: dict[str, str], args: argparse.Namespace, singles: list[bytes]) -> dict[str, Any]:
    """Open ``--idle`` idle connections, then ask for ordinary answers."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle + 256)), hard))
    socks = []
    for _ in range(args.idle):
        try:
            socks.append(socket.create_connection((HOST, b.port), timeout=5))
        except OSError:
            break
    probes = []
    try:
        for i in range(10):
            t0 = time.perf_counter()
            try:
                resp = httpx.post(
                    b.url + "/v1/assessments",
                    content=singles[i],
                    headers={"Authorization": f"Bearer {keys['B']}", "Content-Type": "application/json"},
                    timeout=30,
                )
                status: int | str = resp.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            probes.append({"status": status, "seconds": round(time.perf_counter() - t0, 3)})
            time.sleep(0.5)
        open_after = sum(1 for s in socks if _still_open(s))
    finally:
        for s in socks:
            s.close()
    return {
        "idle_opened": len(socks),
        "idle_still_open_after_probes": open_after,
        "probes": probes,
        "target": "every probe answered (no lock-out)",
    }


def _still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- main


def _revision(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or tree.name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--pg", default=os.environ.get("IPRISK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"), help="IPRISK_HOME with the models")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per load phase")
    ap.add_argument("--clients", type=int, default=16, help="clients per replica")
    ap.add_argument("--batch-items", type=int, default=20)
    ap.add_argument("--outage", type=float, default=5.0, help="seconds the database is away")
    ap.add_argument("--big-bodies", type=int, default=4)
    ap.add_argument("--idle", type=int, default=1100)
    ap.add_argument(
        "--pin-clients",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each replica's clients on the replica's core (default), or let them float",
    )
    ap.add_argument(
        "--code",
        type=Path,
        default=HERE.parent,
        help="the tree whose service runs (a checkout of an earlier commit: a baseline)",
    )
    ap.add_argument("--only-contention", action="store_true", help="stop after the contention phase")
    ap.add_argument("--quick", action="store_true", help="10 s phases, 4 clients")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.duration, args.clients, args.big_bodies = 10.0, 4, 2
    name = (
        "fault_load"
        + ("-quick" if args.quick else "")
        + ("" if args.pin_clients else "-floating")
        + ("" if args.code.resolve() == HERE.parent else f"-baseline-{_revision(args.code)}")
    )
    args.out = args.out or HERE / "results" / f"{name}.json"
    return args


def _phase(out: dict[str, Any], name: str, run: Any) -> None:
    print(f"{name}...", flush=True)
    out[name] = run()
    print(json.dumps(out[name], indent=1), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run every phase and write the figures."""
    args = parse_args(argv)
    base = ensure_store(args.home)
    logs = Path(tempfile.mkdtemp(prefix="fault-load-"))
    cores = sorted(os.sched_getaffinity(0))
    cpus = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    cases = make_cases(400)
    singles = [c.payload for c in cases]
    batches = batch_payloads(cases, args.batch_items)
    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    with pg_database(args.pg) as (_name, db_url):
        settings = base.model_copy(update={"database_url": db_url})
        keys = {r: make_key(args.code, settings, institution=f"bank_{r.lower()}") for r in ("A", "B")}
        store = store_for(args.code, settings.store_path, logs)
        env = {
            "IPRISK_HOME": str(settings.home),
            "IPRISK_DATABASE_URL": db_url,
            "IPRISK_DEMO": "false",
            "IPRISK_MODEL_STORE": str(store),
            "IPRISK_BATCH_MAX_ITEMS": str(max(args.batch_items, 1)),
            "IPRISK_RATE_LIMIT_PER_MINUTE": "0",
            "IPRISK_SPARE_CORE_THREADS": "0",  # for trees before issue 20; later ones ignore it
            "IPRISK_DB_POOL_TIMEOUT_SECONDS": "5",
            "IPRISK_DB_CONNECT_TIMEOUT_SECONDS": "2",
            "IPRISK_LOG_LEVEL": "WARNING",
        }
        a = Replica("A", free_port(), env, logs / "a.log", cpus[0], args.code)
        b = Replica("B", free_port(), env, logs / "b.log", cpus[1], args.code)
        proxy = TcpProxy(_host_port(db_url))
        try:
            # Contention straight to the database: the proxy's copying would be load of its own.
            a.start()
            b.start()
            _phase(out, "contention", lambda: phase_contention(a, b, keys, db_url, args, singles, batches))
            if args.only_contention:
                return _write(out, args, logs)
            a.stop()
            b.stop()
            proxy.start()
            for r in (a, b):
                r.env = {**env, "IPRISK_DATABASE_URL": _via(db_url, proxy.port)}
                r.start()
            _phase(out, "faults", lambda: phase_faults(a, b, keys, proxy, db_url, args, singles))
            _phase(out, "bodies", lambda: phase_bodies(b, keys, args))
            _phase(out, "idle", lambda: phase_idle(b, keys, args, singles))
        finally:
            a.stop()
            b.stop()
            proxy.stop()
    _write(out, args, logs)


def _write(out: dict[str, Any], args: argparse.Namespace, logs: Path) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(f"wrote {args.out}")
    shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
