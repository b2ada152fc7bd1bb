"""The machine's spare core, for the one part of an assessment nothing else waits on.

An assessment's largest computation is the SHAP of the valuation's P50
booster (about 70% of its LightGBM time, ``docs/performance.md``), and only
the response needs it: the package figures and the whole credit assessment
use the boosters' raw scores.  :class:`SpareCore` is the
:class:`scoring.models.Offload` the service hands to the scoring pipeline:
it runs that SHAP on a helper thread while the request's own thread goes on
(LightGBM releases the GIL, so the two use both cores).

The helper is taken only when idle.  Under load every core is busy anyway,
so a request that finds it busy computes inline, exactly as without it: the
offload never queues work behind another request and never adds a thread
per request (DESIGN.md: request-time predictions stay single-threaded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from prometheus_client import Counter

from scoring.models import inline

T = TypeVar("T")


class SpareCore:
    """An :class:`~scoring.models.Offload` onto ``threads`` helper threads, used only when one is idle."""

    def __init__(self, threads: int, counter: Counter | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="iprisk-spare") if threads else None
        self._idle = threading.BoundedSemaphore(threads) if threads else None
        self._counter = counter

    def __call__(self, work: Callable[[], T], /) -> Callable[[], T]:
        if self._pool is None or self._idle is None or not self._idle.acquire(blocking=False):
            return self._inline(work)
        try:
            future: Future[T] = self._pool.submit(work)
        except RuntimeError:  # shut down while the app stops: the request still gets its answer
            self._idle.release()
            return self._inline(work)
        future.add_done_callback(lambda _: self._release())
        self._count("spare_core")
        return future.result

    def _inline(self, work: Callable[[], T]) -> Callable[[], T]:
        self._count("inline")
        return inline(work)

    def _release(self) -> None:
        assert self._idle is not None
        self._idle.release()

    def _count(self, where: str) -> None:
        if self._counter is not None:
            self._counter.labels(where=where).inc()

    def close(self) -> None:
        """Finish what runs and stop the helper threads; later work runs inline."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
