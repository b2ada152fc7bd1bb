"""How long the command line takes: ``iprisk keys create`` on an existing SQLite database, and ``iprisk --help``.

    .venv/bin/python benchmarks/bench_cli.py [--runs 12] [--home /tmp/bench-cli] [--database-url URL] [--checkout DIR]

Each command runs ``--runs`` times in a fresh interpreter (as a user starts it), one after
the other; printed are the median and the range of the wall time and of the CPU time (user
plus system, from the kernel's accounting of the child).  The first ``keys create`` creates
and migrates the database and is not counted.  ``--checkout DIR`` measures another source tree
(e.g. ``git archive a73ed3b | tar -x -C DIR``) with this venv's packages: the child drops the
editable install's import hook and imports from DIR (the script prints where ``service`` came from).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENTRY = "from service.cli import main; main()"
# Another checkout: without the editable install's finder, which would import this worktree instead.
UNHOOK = "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '')]; "


def run(args: list[str], env: dict[str, str], prelude: str = "") -> tuple[float, float]:
    """Wall and CPU seconds of one ``iprisk ARGS`` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    code = prelude + ENTRY
    subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(name: str, samples: list[tuple[float, float]]) -> str:
    """One line: median and range of wall and CPU time."""
    wall, cpu = [s[0] for s in samples], [s[1] for s in samples]
    return (
        f"{name:<12} n={len(samples)}  wall median {statistics.median(wall):.3f} s "
        f"({min(wall):.3f}-{max(wall):.3f})  CPU median {statistics.median(cpu):.3f} s ({min(cpu):.3f}-{max(cpu):.3f})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run both commands ``--runs`` times and print their medians."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-cli"))
    ap.add_argument("--database-url", default=None, help="A PostgreSQL URL instead of SQLite in --home.")
    ap.add_argument("--checkout", type=Path, default=None, help="Measure this source tree instead.")
    a = ap.parse_args(argv)
    prelude = "" if a.checkout is None else UNHOOK + f"sys.path.insert(0, {str(a.checkout.resolve())!r}); "
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPRISK_")}
    env["IPRISK_HOME"] = str(a.home)
    if a.database_url:
        env["IPRISK_DATABASE_URL"] = a.database_url
    where = subprocess.run(
        [sys.executable, "-c", prelude + "import service; print(service.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"service from {where.stdout.strip()}; load {os.getloadavg()[0]:.1f}")
    create = ["keys", "create", "--role", "bank", "--institution", "bench", "--label", "bench_cli"]
    run(create, env, prelude)  # creates and migrates the database: not counted
    keys = [run(create, env, prelude) for _ in range(a.runs)]
    helps = [run(["--help"], env, prelude) for _ in range(a.runs)]
    print(summary("keys create", keys))
    print(summary("--help", helps))
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
