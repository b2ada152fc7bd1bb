"""Progress with estimates for long steps: a live bar on a terminal, one line per step elsewhere.

Cross-validated training, batch prediction and the first-start bootstrap take
from seconds to minutes on a shared machine; a user should see how far along a
step is and about how long is left. On a terminal that is a ``rich`` bar; in a
log or a captured stream (CI, ``iprisk serve`` under a supervisor) each step
prints one line with the same figures, so nothing is lost.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from scoring.vocab.arrays import FloatArray

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class Steps(Protocol):
    """A counted task: ``advance`` once per step, with a note on what just finished.

    Steps of very different sizes (tables of 500 and of 50,000 rows) say how much
    ``work`` each was, against the ``total_work`` the task was opened with, so the
    time left is estimated from the work done rather than from the count of steps.
    """

    def advance(self, note: str = "", work: float = 1.0) -> None:
        """One more step done (``work`` units of the task's total)."""

    def __enter__(self) -> Steps: ...

    def __exit__(self, *exc: object) -> None: ...


def eta_text(done: float, total: float, elapsed: float) -> str:
    """``12 s elapsed, about 30 s left`` (the rate so far times the work left)."""
    left = elapsed / done * (total - done) if done else float("nan")
    tail = f", about {_duration(left)} left" if done < total and done else ""
    return f"{_duration(elapsed)} elapsed{tail}"


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: no estimate yet
        return "?"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


class LineSteps:
    """One line per step through ``echo``: ``[label 3/20] note (12 s elapsed, about 30 s left)``."""

    def __init__(self, label: str, total: int, echo: Callable[[str], None], *, total_work: float | None = None) -> None:
        self.label, self.total, self.echo = label, max(total, 1), echo
        self.total_work = float(total_work) if total_work else float(self.total)
        self.done, self.work_done = 0, 0.0
        self.t0 = time.perf_counter()

    def advance(self, note: str = "", work: float = 1.0) -> None:
        """Count a step and print its line."""
        self.done += 1
        self.work_done += work
        done = self.work_done if self.done < self.total else self.total_work  # the last step ends the task
        eta = eta_text(done, self.total_work, time.perf_counter() - self.t0)
        self.echo(f"[{self.label} {self.done}/{self.total}] {note} ({eta})".replace("]  (", "] ("))

    def __enter__(self) -> LineSteps:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class BarSteps:
    """A live ``rich`` bar on stderr with the count, elapsed time and the time left."""

    def __init__(self, label: str, total: int, *, total_work: float | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress: Progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=Console(stderr=True),
            transient=False,
        )
        # Counted in work units when the steps differ in size: the bar's time left is then the work left.
        self.task: TaskID = self.progress.add_task(label, total=total_work or max(total, 1), note="")

    def advance(self, note: str = "", work: float = 1.0) -> None:
        """Move the bar one step (``work`` units), showing ``note``."""
        self.progress.update(self.task, advance=work, note=note)

    def __enter__(self) -> BarSteps:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def steps(label: str, total: int, echo: Callable[[str], None] | None, *, total_work: float | None = None) -> Steps:
    """A bar on an interactive stderr, otherwise lines through ``echo`` (or nothing without one).

    ``total_work``: the task's size when its ``total`` steps differ in size (see :class:`Steps`).
    """
    if echo is None:
        return LineSteps(label, total, lambda _line: None, total_work=total_work)
    if sys.stderr.isatty():
        return BarSteps(label, total, total_work=total_work)
    return LineSteps(label, total, echo, total_work=total_work)


CHUNK_ROWS = 2000


def map_chunks(
    fn: Callable[[FloatArray], FloatArray], x: FloatArray, *, label: str, echo: Callable[[str], None] | None
) -> FloatArray:
    """``fn`` over ``x`` in chunks of :data:`CHUNK_ROWS` rows, one progress step per chunk."""
    starts = range(0, max(len(x), 1), CHUNK_ROWS)
    parts = []
    with steps(label, len(starts), echo) as bar:
        for i in starts:
            parts.append(fn(x[i : i + CHUNK_ROWS]))
            bar.advance(f"{min(i + CHUNK_ROWS, len(x))} of {len(x)} rows")
    return np.concatenate(parts, axis=0) if parts else fn(x)
