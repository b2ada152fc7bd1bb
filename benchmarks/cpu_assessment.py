"""Where the server's CPU goes for ``POST /v1/assessments``, by thread and by library.

    .venv/bin/pip install -e ".[bench]"      # py-spy
    .venv/bin/python benchmarks/cpu_assessment.py [--home /tmp/bench-home] [--seconds 25]

Starts the real server under uvicorn (same settings as ``bench_assessment``,
a new SQLite file), sends sequential requests over one keep-alive
connection and meanwhile:

1. reads each server thread's CPU time from ``/proc`` (event loop thread and
   the worker thread that runs the endpoint);
2. samples the server with ``py-spy --gil --nonblocking``: only the thread
   holding the GIL is recorded, so the samples are Python-level CPU.  Each
   sample is put in the bucket of the innermost frame that belongs to a
   known library (LightGBM's Python wrapper, SQLAlchemy, pydantic, FastAPI
   and Starlette, uvicorn, anyio and asyncio, numpy, iprisk's own packages).

LightGBM's C++ code and SQLite's C code run without the GIL and appear only
in (1).  Writes ``benchmarks/results/cpu_assessment.txt``.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bench_assessment import ensure_store, with_database
from cases import make_cases
from servers import serve_iprisk

from service.keys import new_key

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")
# Innermost matching frame wins; order matters only for frames matching several.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("LightGBM Python wrapper", ("lightgbm/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("pydantic", ("pydantic/", "pydantic_core")),
    ("FastAPI / Starlette", ("fastapi/", "starlette/")),
    ("uvicorn / httptools", ("uvicorn/", "httptools")),
    ("anyio / asyncio", ("anyio/", "asyncio/", "sniffio")),
    ("numpy", ("numpy/",)),
    ("json / logging / prometheus", ("json/", "logging/", "prometheus_client/")),
    ("iprisk scoring/", ("scoring/",)),
    ("iprisk service/", ("service/",)),
)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of ``pid`` (the worker that runs endpoints is the busy unnamed one)."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            fields = Path(task, "stat").read_text().rsplit(")", 1)[1].split()
            name = Path(task, "comm").read_text().strip()
        except FileNotFoundError:
            continue
        tid = Path(task).name
        label = "event loop (main thread)" if tid == str(pid) else f"{name} thread {tid}"
        out[label] = (int(fields[11]) + int(fields[12])) / TICKS
    return out


def bucket_of(frames: list[str]) -> str:
    """The library bucket of a sample: its innermost frame that matches one."""
    for frame in reversed(frames):
        for name, patterns in BUCKETS:
            if any(p in frame for p in patterns):
                return name
    return "other"


def read_samples(path: Path) -> dict[str, collections.Counter[str]]:
    """py-spy raw output → samples per thread and bucket."""
    out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = "event loop" if "MainThread" in frames[0] else "worker" if "AnyIO" in frames[0] else frames[0]
        out[thread][bucket_of(frames[1:])] += int(count)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run, print and save the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-home"))
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "cpu_assessment.txt")
    args = ap.parse_args(argv)
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 2
    settings = ensure_store(args.home)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = with_database(settings, Path(tmp) / "cpu.db")
        key, _ = new_key(settings, role="bank", institution="bench", label="cpu profile")
        cases = make_cases(400)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        with (
            serve_iprisk(settings, Path(tmp) / "server.log") as server,
            httpx.Client(base_url=server.url, headers=headers, timeout=60) as client,
        ):
            for case in cases[:30]:
                client.post("/v1/assessments", content=case.payload).raise_for_status()
            samples = Path(tmp) / "spy.txt"
            recorder = subprocess.Popen(
                [
                    spy,
                    "record",
                    "-p",
                    str(server.process.pid),
                    "-r",
                    str(args.rate),
                    "-f",
                    "raw",
                    "-o",
                    str(samples),
                    "-d",
                    str(int(args.seconds) + 2),
                    "--nonblocking",
                    "--threads",
                    "--gil",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
            latencies: list[float] = []
            cpu0, t0 = thread_cpu(server.process.pid), time.perf_counter()
            while time.perf_counter() - t0 < args.seconds:
                t = time.perf_counter()
                client.post("/v1/assessments", content=cases[len(latencies) % len(cases)].payload).raise_for_status()
                latencies.append(time.perf_counter() - t)
            cpu1, wall = thread_cpu(server.process.pid), time.perf_counter() - t0
            recorder.wait()
        n = len(latencies)
        lines += [
            f"run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {n} sequential requests in {wall:.1f} s, "
            f"median {statistics.median(latencies) * 1e3:.2f} ms, mean {wall / n * 1e3:.2f} ms",
            "",
            "1. server CPU per request, by thread (/proc; includes C code that runs without the GIL)",
        ]
        for name in cpu1:
            spent = cpu1[name] - cpu0.get(name, 0.0)
            if spent > 0:
                lines.append(f"   {name:32s} {spent / n * 1e3:7.2f} ms")
        lines += ["", f"2. Python CPU per request (GIL held), by thread and library (py-spy --gil, {args.rate} Hz)"]
        per_sample = 1e3 / args.rate / n
        for thread, counts in read_samples(samples).items():
            lines.append(f"   {thread:32s} {sum(counts.values()) * per_sample:7.2f} ms")
            lines += [f"     {b:30s} {c * per_sample:7.3f} ms" for b, c in counts.most_common()]
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
