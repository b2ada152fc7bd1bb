"""Audit appends across two "replicas" (two engines) on one PostgreSQL server.

    IPRISK_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/audit_append.py [--seconds 5] [--threads 8]

Creates a throwaway database, migrates it, and reports:

1. appends/s with 2 engines x N threads, each thread appending one entry per
   transaction (append + commit), the sealer running every 0.5 s if the code
   has one;
2. one engine's append+commit latency alone, and while the other engine holds
   a transaction with an appended entry open for 2 s (a frozen replica).

Works on any revision of ``service.db.audit`` that has ``append`` (the figures
in docs/audit.md compare main's shared-head code with the sealed log).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.db import audit
from service.db.engine import make_engine
from service.db.migrate import upgrade


def one_append(engine: Engine, i: int) -> float:
    """Append one entry in its own transaction; seconds taken."""
    t0 = time.perf_counter()
    with Session(engine) as s:
        audit.append(
            s,
            key_id=1,
            role="bank",
            institution=f"bank_{i % 4}",
            action="bench",
            resource_type="assessment",
            resource_id=str(i),
            detail={"i": i},
        )
        s.commit()
    return time.perf_counter() - t0


def throughput(engines: list[Engine], threads: int, seconds: float) -> float:
    """Appends per second over all engines and threads."""
    stop = time.monotonic() + seconds
    counts = [0] * (len(engines) * threads)

    def work(slot: int, engine: Engine) -> None:
        while time.monotonic() < stop:
            one_append(engine, slot)
            counts[slot] += 1

    pool = [
        threading.Thread(target=work, args=(k * threads + t, e)) for k, e in enumerate(engines) for t in range(threads)
    ]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def latencies(engine: Engine, n: int) -> list[float]:
    """``n`` sequential appends on ``engine``; milliseconds each."""
    return [1000 * one_append(engine, i) for i in range(n)]


def held_open(holder: Engine, other: Engine, hold: float) -> list[float]:
    """``other``'s append latencies (ms) while ``holder`` keeps an appended entry uncommitted."""
    ready = threading.Event()

    def hold_it() -> None:
        with Session(holder) as s:
            audit.append(
                s,
                key_id=1,
                role="bank",
                institution="bank_frozen",
                action="bench",
                resource_type="assessment",
                resource_id="frozen",
                detail={},
            )
            s.flush()
            ready.set()
            time.sleep(hold)
            s.commit()

    t = threading.Thread(target=hold_it)
    t.start()
    ready.wait()
    out = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < hold:
        out.append(1000 * one_append(other, 0))
    t.join()
    return out


def describe(ms: list[float]) -> str:
    """p50, p99 and max of a latency sample."""
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    return f"n={len(ms)} p50={statistics.median(ms):.1f} ms p99={q[98]:.1f} ms max={max(ms):.1f} ms"


def start_sealer(
    seal: Callable[[Engine], int] | None, engine: Engine, stop: threading.Event
) -> threading.Thread | None:
    """The background sealer, every 0.5 s, if this revision has one."""
    if seal is None:
        return None

    def run() -> None:
        while not stop.wait(0.5):
            seal(engine)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def main() -> None:
    """Run the measurements on a throwaway database."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    base = os.environ.get("IPRISK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"iprisk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+psycopg://" + base.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name
    engines = [make_engine(url), make_engine(url)]
    seal = getattr(audit, "seal", None)
    stop = threading.Event()
    try:
        upgrade(engines[0])
        if hasattr(audit, "ensure_head"):
            with Session(engines[0]) as s:
                audit.ensure_head(s)
                s.commit()
        latencies(engines[1], 20)  # warm the pools
        sealer = start_sealer(seal, engines[0], stop)
        rate = throughput(engines, args.threads, args.seconds)
        print(f"throughput, 2 engines x {args.threads} threads: {rate:.0f} appends/s")
        if sealer is not None:
            stop.set()
            sealer.join()
            assert seal is not None  # a sealer ran
            t0 = time.perf_counter()
            n = seal(engines[0])
            dt = time.perf_counter() - t0
            print(f"sealing the backlog left:       {n} entries in {dt:.2f} s ({n / dt:.0f}/s)")
            stop.clear()
            sealer = start_sealer(seal, engines[0], stop)
        print(f"engine B alone:                 {describe(latencies(engines[1], 200))}")
        print(f"engine B, A holds a txn 2 s:    {describe(held_open(engines[0], engines[1], 2.0))}")
        stop.set()
        if seal is not None:
            seal(engines[0])
        with Session(engines[0]) as s:
            check = audit.verify_chain(s)
        print(f"chain: ok={check.ok} entries={check.entries}")
    finally:
        stop.set()
        for e in engines:
            e.dispose()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
