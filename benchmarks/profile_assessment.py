"""Where the time of ``POST /v1/assessments`` goes, without the network in the way.

    .venv/bin/python benchmarks/profile_assessment.py [--home /tmp/bench-home] [--n 300]

Drives the real app (``create_app``, lifespan and all) through its ASGI
interface from one event loop, so no socket, uvicorn or HTTP parser is
involved.  It reports:

1. ASGI round trip with FastAPI's real thread pool, and with every
   thread-pool hop run inline (the difference is the cost of the hops), and
   how many hops one request makes;
2. the request path re-enacted step by step with plain calls (no profiler
   overhead): validation, auth, pledge lookup, scoring, response building,
   row serialisation, audit, commit, response JSON;
3. a cProfile of the inline run (top functions by cumulative and own time);
4. the same app under 16 concurrent ASGI clients (real thread pool), with
   timers wrapped around the scoring, the audit append and the commit, to
   show which step the tail latency waits in;
5. an experiment for the fix suggested by 4: the same load with each
   request's write section queued on one in-process lock.

Everything is also written to ``benchmarks/results/profile_assessment.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np
from bench_assessment import ensure_store
from cases import AS_OF, Case, make_cases
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from scoring.pipeline import run_assessment
from service import auth
from service.app import create_app
from service.db import audit
from service.db.tables import Assessment
from service.keys import new_key
from service.schemas.scoring import AssessmentRequest, AssessmentResponse
from service.usecases import scoring as uc

HERE = Path(__file__).resolve().parent
PATH = "/v1/assessments"


async def asgi_post(app: FastAPI, payload: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One POST straight into the ASGI app; returns status and body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "query_string": b"", "root_path": "",
             "headers": [*headers, (b"content-length", str(len(payload)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@contextmanager
def thread_hops(*, inline: bool):
    """Count ``anyio.to_thread.run_sync`` calls; with ``inline`` run them on the loop thread."""
    original = anyio.to_thread.run_sync
    counter = {"hops": 0}

    async def patched(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        counter["hops"] += 1
        if inline:
            return func(*args)
        return await original(func, *args, **kwargs)

    anyio.to_thread.run_sync = patched
    try:
        yield counter
    finally:
        anyio.to_thread.run_sync = original


async def timed_requests(app: FastAPI, cases: list[Case], headers: list[tuple[bytes, bytes]], n: int,
                         profiler: cProfile.Profile | None = None) -> list[float]:
    """Sequential ASGI requests; seconds each."""
    out = []
    for i in range(n):
        payload = cases[i % len(cases)].payload
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        status, body = await asgi_post(app, payload, headers)
        out.append(time.perf_counter() - t0)
        if profiler is not None:
            profiler.disable()
        if status != 201:
            raise RuntimeError(f"{status}: {body[:300]!r}")
    return out


def steps(app: FastAPI, case: Case, key: str) -> dict[str, float]:
    """The request path of ``create_assessment`` re-enacted step by step; seconds per step."""
    st = app.state
    bundle, config = st.models.bundle, st.scoring_config
    t: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        t[name] = now - t0
        return now

    t0 = time.perf_counter()
    req = AssessmentRequest.model_validate(json.loads(case.payload))
    t0 = lap("1 parse JSON + validate AssessmentRequest", t0)
    with Session(st.engine, expire_on_commit=False) as session:
        principal = auth.lookup(session, key)
        assert principal is not None
        t0 = lap("2 auth: API-key lookup (SELECT)", t0)
        pledged = uc.pledged_elsewhere(session, [p.patent_id for p in req.patents or ()])
        t0 = lap("3 pledged_elsewhere (SELECT)", t0)
        result = run_assessment(bundle.get("valuation"), bundle.get("pd"), borrower=req.borrower, loan=req.loan,
                                patents=list(req.patents or ()), as_of=AS_OF, config=config,
                                caps=config.ltv.for_institution(principal.institution), pledged_in_service=pledged)
        t0 = lap("4 run_assessment (scoring)", t0)
        aid = str(uuid.uuid4())
        row = Assessment(id=aid, institution=principal.institution, key_id=principal.key_id, as_of=AS_OF,
                         borrower_id=req.borrower.enterprise_id, amount_cny=req.loan.amount_cny,
                         pd=result.credit.pd, grade=result.credit.grade, decision=result.credit.decision,
                         expected_loss=result.credit.expected_loss, valuation_id=None,
                         request=req.model_dump(mode="json"))
        versions = {"valuation": bundle.get("valuation").version, "pd": bundle.get("pd").version}
        t0 = lap("5 Assessment row + request.model_dump(json)", t0)
        valuation = uc._valuation_response(bundle, result.valuation, vid=aid, created=row.created_at, as_of=AS_OF)
        response = AssessmentResponse(id=aid, created_at=row.created_at, as_of=AS_OF, model_versions=versions,
                                      synthetic_models=True, valuation_id=None, valuation=valuation,
                                      **result.credit.model_dump())
        t0 = lap("6 build AssessmentResponse (credit.model_dump + revalidate)", t0)
        row.model_versions = versions
        row.response = response.model_dump(mode="json")
        t0 = lap("7 response.model_dump(json) for the row", t0)
        session.add(row)
        audit.append(session, key_id=principal.key_id, role=principal.role, institution=principal.institution,
                     action="assessment.create", resource_type="assessment", resource_id=aid,
                     detail={"model_versions": versions, "pd": result.credit.pd})
        t0 = lap("8 audit.append (UPDATE head, SELECT, refresh, INSERT entry, flush row)", t0)
        session.commit()
        t0 = lap("9 commit", t0)
    response.model_dump_json()
    lap("10 response JSON for the wire (model_dump_json)", t0)
    return t


@contextmanager
def step_timers():
    """Wrap the scoring, audit append and commit of the request path in timers (this process only)."""
    timings: dict[str, list[float]] = {"run_assessment": [], "audit.append": [], "session.commit": [],
                                       "create_assessment (route body)": []}
    originals = {"run": uc.run_assessment, "append": audit.append, "commit": Session.commit,
                 "create": uc.create_assessment}

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                timings[name].append(time.perf_counter() - t0)
        return wrapper

    uc.run_assessment = timed("run_assessment", originals["run"])
    audit.append = timed("audit.append", originals["append"])
    Session.commit = timed("session.commit", originals["commit"])
    uc.create_assessment = timed("create_assessment (route body)", originals["create"])
    try:
        yield timings
    finally:
        uc.run_assessment, audit.append = originals["run"], originals["append"]
        Session.commit, uc.create_assessment = originals["commit"], originals["create"]


@contextmanager
def serialised_writes():
    """Experiment only: hold one process-wide lock from ``audit.append`` until that session commits or rolls back.

    The lock is tracked on the session, not the thread: FastAPI commits in
    another thread-pool hop than the one that ran the route.
    """
    lock = threading.Lock()
    append, commit, rollback = audit.append, Session.commit, Session.rollback

    def locked_append(session: Session, **kwargs: Any) -> Any:
        lock.acquire()
        session.info["bench_write_lock"] = True
        return append(session, **kwargs)

    def releasing(method: Callable[[Session], None]) -> Callable[[Session], None]:
        def wrapper(self: Session) -> None:
            try:
                method(self)
            finally:
                if self.info.pop("bench_write_lock", False):
                    lock.release()
        return wrapper

    audit.append, Session.commit, Session.rollback = locked_append, releasing(commit), releasing(rollback)
    try:
        yield
    finally:
        audit.append, Session.commit, Session.rollback = append, commit, rollback


async def concurrent_requests(app: FastAPI, cases: list[Case], headers: list[tuple[bytes, bytes]], *,
                              clients: int, per_client: int) -> tuple[list[float], float]:
    """``clients`` concurrent ASGI callers, ``per_client`` requests each; latencies and elapsed seconds."""
    latencies: list[float] = []

    async def client(offset: int) -> None:
        for i in range(per_client):
            latencies.extend(await timed_requests(app, cases[offset + i:offset + i + 1], headers, 1))

    t0 = time.perf_counter()
    await asyncio.gather(*(client(c * per_client) for c in range(clients)))
    return latencies, time.perf_counter() - t0


def pct(seconds: list[float]) -> str:
    """p50 / p90 / p99 / max in ms."""
    p = np.percentile(np.asarray(seconds) * 1e3, [50, 90, 99, 100])
    return f"p50 {p[0]:8.1f}  p90 {p[1]:8.1f}  p99 {p[2]:8.1f}  max {p[3]:8.1f} ms"


@contextmanager
def sql_timers(engine: Engine):
    """Count SQL statements and their driver time (cursor execute to return), by statement head."""
    spent: dict[str, list[float]] = {}
    started: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, _stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool) -> None:
        words = statement.split()
        head = " ".join(words[:3] if words[0] in ("INSERT", "DELETE") else words[:2]) if words else "?"
        if words and words[0] == "SELECT":
            head = "SELECT … FROM " + words[words.index("FROM") + 1] if "FROM" in words else "SELECT"
        spent.setdefault(head, []).append(time.perf_counter() - started.pop(id(cursor), time.perf_counter()))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def stats(seconds: list[float]) -> str:
    """Median and p90 in ms."""
    ms = sorted(s * 1e3 for s in seconds)
    return f"median {statistics.median(ms):7.2f} ms  p90 {ms[int(0.9 * (len(ms) - 1))]:7.2f} ms"


async def profile(args: argparse.Namespace, out: io.StringIO) -> None:
    """All three reports, written to ``out`` as they are produced."""

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.write(line + "\n")

    settings = ensure_store(args.home)
    key, _ = new_key(settings, role="bank", institution="bench", label="profile")
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
               (b"authorization", f"Bearer {key}".encode())]
    cases = make_cases(256, seed=7)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # Alternate blocks of both modes so drift in the machine's load hits both alike.
        threaded: list[float] = []
        inline: list[float] = []
        blocks = 6
        for block in range(2 * blocks):
            with thread_hops(inline=bool(block % 2)) as hops:
                await timed_requests(app, cases, headers, 5)
                hops["hops"] = 0
                series = inline if block % 2 else threaded
                series += await timed_requests(app, cases[block * 7:], headers, args.n // blocks)
                if not block % 2:
                    per_request = hops["hops"] / (args.n // blocks)
        emit(f"1. ASGI round trip, no network ({args.n} sequential requests)")
        emit(f"   real thread pool ({per_request:.0f} hops/request): {stats(threaded)}")
        emit(f"   hops run inline:                {stats(inline)}")
        hop_ms = (statistics.median(threaded) - statistics.median(inline)) * 1e3
        emit(f"   => thread-pool hops cost about {hop_ms:.2f} ms per request (median difference)")

        with sql_timers(app.state.engine) as spent:
            runs = [steps(app, cases[i % len(cases)], key) for i in range(args.n)]
        emit()
        emit("2. the request path step by step (median ms over the same cases)")
        total = 0.0
        for name in runs[0]:
            med = statistics.median(r[name] for r in runs) * 1e3
            total += med
            emit(f"   {name:70s} {med:7.3f}")
        emit(f"   {'sum of step medians':70s} {total:7.3f}")
        emit("   SQL statements per request, and time inside the sqlite3 driver (the rest is Python):")
        for head, values in spent.items():
            emit(f"     {len(values) / args.n:4.1f} x {head:50s} {statistics.median(values) * 1e3:6.3f} ms each")

        prof = cProfile.Profile()
        with thread_hops(inline=True):
            await timed_requests(app, cases, headers, args.n, profiler=prof)
        for order in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(order).print_stats(args.top)
            emit()
            emit(f"3. cProfile, inline hops, {args.n} requests, by {order} (cProfile inflates Python-heavy code)")
            emit(buf.getvalue().split("\n", 4)[-1].rstrip())

        with step_timers() as timings:
            latencies, elapsed = await concurrent_requests(app, make_cases(16 * args.per_client, seed=11), headers,
                                                           clients=16, per_client=args.per_client)
        emit()
        emit(f"4. 16 concurrent ASGI clients, real thread pool: {len(latencies) / elapsed:.1f} req/s")
        emit(f"   {'request (ASGI round trip)':32s} {pct(latencies)}")
        for name, values in timings.items():
            emit(f"   {name:32s} {pct(values)}")

        with serialised_writes(), step_timers() as timings:
            latencies, elapsed = await concurrent_requests(app, make_cases(16 * args.per_client, seed=13), headers,
                                                           clients=16, per_client=args.per_client)
        emit()
        emit("5. experiment: as 4, with each request's write section (audit.append to commit) behind one")
        emit("   (here audit.append includes the wait for the lock)")
        emit(f"   in-process threading.Lock, so waiters queue instead of polling SQLite: {len(latencies) / elapsed:.1f}"
             " req/s")
        emit(f"   {'request (ASGI round trip)':32s} {pct(latencies)}")
        for name, values in timings.items():
            emit(f"   {name:32s} {pct(values)}")


def main(argv: list[str] | None = None) -> int:
    """Run the profile and save the text report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--per-client", type=int, default=40, help="requests per client in the concurrent run")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "profile_assessment.txt")
    args = ap.parse_args(argv)
    out = io.StringIO()
    asyncio.run(profile(args, out))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(out.getvalue())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
