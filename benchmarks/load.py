"""Measurement loops: sequential latency of any call, and closed-loop HTTP load with N clients.

All loops are bounded (a request count or a deadline) and only talk to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import numpy as np

CLK_TCK = os.sysconf("SC_CLK_TCK")

T = TypeVar("T")


@dataclass(frozen=True)
class LatencyStats:
    """Latency percentiles of one series, milliseconds."""

    n: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> LatencyStats:
        """Summarise latencies given in seconds."""
        ms = np.asarray(seconds, dtype=float) * 1e3
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        return cls(n=len(ms), median_ms=float(p50), p90_ms=float(p90), p99_ms=float(p99), mean_ms=float(ms.mean()))


def busy_cpu_seconds() -> float:
    """CPU time all processes of the machine have spent busy since boot (``/proc/stat``)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / CLK_TCK


def with_foreign_load(measure: Callable[[], dict[str, Any]], own_cpu: Callable[[], float]) -> dict[str, Any]:
    """Run ``measure`` and add ``other_cpu_cores``: the cores other processes kept busy meanwhile.

    ``own_cpu`` returns the CPU seconds used so far by the benchmark and its
    servers; everything else busy on the machine is noise for these figures.
    """
    busy0, own0, t0 = busy_cpu_seconds(), own_cpu(), time.perf_counter()
    out = measure()
    wall = time.perf_counter() - t0
    out["other_cpu_cores"] = max(0.0, (busy_cpu_seconds() - busy0 - (own_cpu() - own0)) / wall)
    return out


def wait_for_quiet(
    own_cpu: Callable[[], float], *, below: float, max_wait: float, window: float = 1.0
) -> tuple[float, float]:
    """Wait until other processes keep fewer than ``below`` cores busy (over ``window`` s), at most ``max_wait`` s.

    Returns the last load seen (cores) and the seconds waited.
    """

    def sleep() -> dict[str, Any]:
        time.sleep(window)
        return {"slept": None}

    t0 = time.monotonic()
    while True:
        seen = with_foreign_load(sleep, own_cpu)["other_cpu_cores"]
        waited = time.monotonic() - t0
        if seen < below or waited >= max_wait:
            return seen, waited


def time_calls(call: Callable[[T], Any], items: Sequence[T], *, n: int, warmup: int) -> list[float]:
    """Call ``call`` on ``warmup`` then ``n`` items in turn (cycling); return the ``n`` timings in seconds."""
    cycle = itertools.cycle(items)
    for _ in range(warmup):
        call(next(cycle))
    out = []
    for _ in range(n):
        item = next(cycle)
        t0 = time.perf_counter()
        call(item)
        out.append(time.perf_counter() - t0)
    return out


def http_poster(client: httpx.Client, path: str) -> Callable[[bytes], None]:
    """A call that POSTs a JSON payload and fails on any status other than 200/201."""
    headers = {"Content-Type": "application/json"}

    def post(payload: bytes) -> None:
        resp = client.post(path, content=payload, headers=headers)
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"POST {path}: {resp.status_code} {resp.text[:300]}")

    return post


@dataclass(frozen=True)
class LoadResult:
    """Outcome of a closed-loop load run."""

    clients: int
    duration_s: float
    elapsed_s: float
    completed: int
    errors: int
    throughput_rps: float
    latency: LatencyStats | None
    server_cpu_ms_per_request: float | None


async def _closed_loop(
    base_url: str,
    path: str,
    payloads: Sequence[bytes],
    headers: dict[str, str],
    *,
    clients: int,
    duration: float,
    max_requests: int,
    timeout: float,
) -> tuple[list[float], int, float]:
    cycle = itertools.cycle(payloads)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, headers={**headers, "Content-Type": "application/json"}, limits=limits, timeout=timeout
    ) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
                t0 = time.perf_counter()
                try:
                    resp = await client.post(path, content=next(cycle))
                    ok = resp.status_code in (200, 201)
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def closed_loop_load(
    base_url: str,
    path: str,
    payloads: Sequence[bytes],
    *,
    headers: dict[str, str],
    clients: int,
    duration: float,
    server_cpu: Callable[[], float] | None = None,
    max_requests: int = 100_000,
    timeout: float = 120.0,
) -> LoadResult:
    """``clients`` concurrent keep-alive connections, each sending its next request when the last returns.

    Requests start until ``duration`` seconds have passed; those in flight then
    finish and count.  Throughput is completed requests over the whole elapsed
    time (start to last response).
    """
    cpu0 = server_cpu() if server_cpu else None
    latencies, errors, elapsed = asyncio.run(
        _closed_loop(
            base_url,
            path,
            payloads,
            headers,
            clients=clients,
            duration=duration,
            max_requests=max_requests,
            timeout=timeout,
        )
    )
    cpu_ms = None
    if server_cpu is not None and cpu0 is not None and latencies:
        cpu_ms = (server_cpu() - cpu0) * 1e3 / len(latencies)
    return LoadResult(
        clients=clients,
        duration_s=duration,
        elapsed_s=elapsed,
        completed=len(latencies),
        errors=errors,
        throughput_rps=len(latencies) / elapsed,
        latency=LatencyStats.of(latencies) if latencies else None,
        server_cpu_ms_per_request=cpu_ms,
    )
