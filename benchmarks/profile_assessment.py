"""Where the time of ``POST /v1/assessments`` goes, without the network in the way.

    .venv/bin/python benchmarks/profile_assessment.py [--home /tmp/bench-home] [--n 300]

Drives the real app (``create_app``, lifespan and all) through its ASGI
interface from one event loop, so no socket, uvicorn or HTTP parser is
involved.  It reports:

1. ASGI round trip with FastAPI's real thread pool, and with every
   thread-pool hop run inline (the difference is the cost of the hops), and
   how many hops one request makes;
2. the real request path with a timer around each of its steps (the
   functions the route calls, patched in place: no re-enactment, no
   profiler), plus the SQL statements and their time inside the driver;
3. a cProfile of the inline run (top functions by cumulative and own time).

Everything is also written to ``benchmarks/results/profile_assessment.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from bench_assessment import InProcess, ensure_store, with_database
from cases import Case, make_cases
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models_store import ModelStore
from scoring.models import LoadedModel
from service import responses, routing
from service.app import create_app
from service.db import audit
from service.keys import new_key
from service.state import app_state
from service.usecases import scoring as uc

HERE = Path(__file__).resolve().parent
PATH = "/v1/assessments"


async def asgi_post(app: FastAPI, payload: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One POST straight into the ASGI app; returns status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-length", str(len(payload)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@contextmanager
def thread_hops(*, inline: bool) -> Iterator[dict[str, int]]:
    """Count ``anyio.to_thread.run_sync`` calls; with ``inline`` run them on the loop thread."""
    original = anyio.to_thread.run_sync
    counter = {"hops": 0}

    async def patched(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        counter["hops"] += 1
        if inline:
            return func(*args)
        return await original(func, *args, **kwargs)

    anyio.to_thread.run_sync = patched  # type: ignore[assignment]  # a counting stand-in, restored below
    try:
        yield counter
    finally:
        anyio.to_thread.run_sync = original


async def timed_requests(
    app: FastAPI,
    cases: list[Case],
    headers: list[tuple[bytes, bytes]],
    n: int,
    profiler: cProfile.Profile | None = None,
) -> list[float]:
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


STEPS: tuple[tuple[str, Any, str], ...] = (
    ("confirm the cached API key (SELECT)", routing, "confirm_key"),
    ("pledged_elsewhere (SELECT)", uc, "pledged_elsewhere"),
    ("run_assessment (scoring, LightGBM included)", uc, "run_assessment"),
    ("  SHAP kernel (LoadedModel.contributions)", LoadedModel, "contributions"),
    ("  LightGBM raw predict (LoadedModel.raw)", LoadedModel, "raw"),
    ("store rows (Core INSERT: assessment, snapshots)", uc, "store"),
    ("audit.append (INSERT entry; chained later by the sealer)", audit, "append"),
    ("session.commit", Session, "commit"),
    ("response JSON for the wire (ModelResponse)", responses.ModelResponse, "__init__"),
    ("create_assessment (whole use case)", uc, "create_assessment"),
)


@contextmanager
def step_timers() -> Iterator[dict[str, list[float]]]:
    """Time every call of the functions in :data:`STEPS` (patched in place, restored after)."""
    timings: dict[str, list[float]] = {name: [] for name, _, _ in STEPS}
    originals = [(owner, attr, getattr(owner, attr)) for _, owner, attr in STEPS]

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                timings[name].append(time.perf_counter() - t0)

        return wrapper

    for (name, owner, attr), (_, _, func) in zip(STEPS, originals, strict=True):
        setattr(owner, attr, timed(name, func))
    try:
        yield timings
    finally:
        for owner, attr, func in originals:
            setattr(owner, attr, func)


@contextmanager
def sql_timers(engine: Engine) -> Iterator[dict[str, list[float]]]:
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

    # The home's models, a new database (as in bench_assessment): the home's one grows run by run.
    tmp = tempfile.TemporaryDirectory()
    settings = with_database(ensure_store(args.home), Path(tmp.name) / "profile.db")
    key, _ = new_key(settings, role="bank", institution="bench", label="profile")
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
    ]
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
                series += await timed_requests(app, cases[block * 7 :], headers, args.n // blocks)
                if not block % 2:
                    per_request = hops["hops"] / (args.n // blocks)
        emit(f"1. ASGI round trip, no network ({args.n} sequential requests)")
        emit(f"   real thread pool ({per_request:.0f} hops/request): {stats(threaded)}")
        emit(f"   hops run inline:                {stats(inline)}")
        hop_ms = (statistics.median(threaded) - statistics.median(inline)) * 1e3
        emit(f"   => thread-pool hops cost about {hop_ms:.2f} ms per request (median difference)")

        with sql_timers(app_state(app).engine) as spent, step_timers() as timings:
            await timed_requests(app, cases, headers, args.n)
        # The same LightGBM calls in a tight loop (the benchmark's floor), on the same cases.
        local = InProcess(ModelStore(settings.store_path), cases[: args.n])
        floor_total = 0.0
        for m in local.matrices:
            t0 = time.perf_counter()
            local.floor(m)
            floor_total += time.perf_counter() - t0
        emit()
        emit(f"2. the request path, real thread pool, a timer around each step ({args.n} requests; median ms,")
        emit("   per call, and calls per request; steps nest inside create_assessment)")
        for name, values in timings.items():
            emit(f"   {name:58s} {statistics.median(values) * 1e3:7.3f}  x{len(values) / args.n:.1f}")
        in_server = sum(timings["  SHAP kernel (LoadedModel.contributions)"]) + sum(
            timings["  LightGBM raw predict (LoadedModel.raw)"]
        )
        emit(
            f"   LightGBM calls per request, mean: {in_server / args.n * 1e3:.3f} ms inside the request (its five "
            f"calls), {floor_total / len(local.matrices) * 1e3:.3f} ms in a tight "
            "loop (the floor's four)"
        )
        emit("   SQL statements per request, and time inside the database driver (the rest is Python):")
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
    tmp.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Run the profile and save the text report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--top", type=int, default=40)
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
