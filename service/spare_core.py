"""The machine's spare core, for the one part of an assessment nothing else waits on.

An assessment's largest computation is the SHAP of the valuation's P50
booster (about 70% of its LightGBM time, ``docs/performance.md``), and only
the response needs it: the package figures and the whole credit assessment
use the boosters' raw scores.  :class:`SpareCore` is the
:class:`scoring.models.Offload` the service hands to the scoring pipeline: a
helper thread starts on that SHAP, in parts over ranges of trees, while the
request's own thread scores the credit side and then takes the parts the
helper has not reached (LightGBM releases the GIL, so the two use both
cores).  A valuation request has little else to do, so there the two threads
simply share the SHAP.

The helper is taken only when it is idle and the request is the only one
in flight.  With two requests in flight both cores have work already, and
splitting would only add the cost of the parts (measured under load:
throughput fell when every request that found the helper idle took it).
Otherwise the SHAP runs whole and inline, exactly as without a helper: the
offload never queues work behind another request and never adds a thread
per request (DESIGN.md: request-time predictions stay single-threaded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from prometheus_client import Counter

from scoring.models import inline

T = TypeVar("T")


class _Parts(Generic[T]):
    """Parts of one computation, taken one at a time by whichever thread is free: the helper and the caller."""

    def __init__(self, parts: Sequence[Callable[[], T]]) -> None:
        self._parts = parts
        self._next = 0
        self._lock = threading.Lock()
        self._done: dict[int, T] = {}

    @property
    def results(self) -> list[T]:
        """Every part's result, in order (once :meth:`drain` has returned in every thread that took parts)."""
        return [self._done[i] for i in range(len(self._parts))]

    def drain(self) -> None:
        """Run parts until none is left to take."""
        while True:
            with self._lock:
                i = self._next
                if i >= len(self._parts):
                    return
                self._next = i + 1
            self._done[i] = self._parts[i]()


class SpareCore:
    """An :class:`~scoring.models.Offload` onto ``threads`` helper threads, used only when one is idle.

    ``in_flight`` gives the number of requests being served, this one
    included; the helper is used only when it is 1.

    When the helper is free the computation is split into ``parts``: the
    helper starts on them at once, and the caller, when it comes to wait,
    takes the parts the helper has not started, so neither sits idle while
    the other still has work (the caller's own work before it waits varies
    from request to request).  When the helper is busy the computation runs
    whole, on the caller's thread, as if there were no helper.
    """

    def __init__(
        self,
        threads: int,
        counter: Counter | None = None,
        *,
        parts: int = 4,
        in_flight: Callable[[], int] | None = None,
    ) -> None:
        self.parts = parts if threads else 1
        self._in_flight = in_flight
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="iprisk-spare") if threads else None
        self._idle = threading.BoundedSemaphore(threads) if threads else None
        self._counter = counter

    def __call__(self, split: Callable[[int], Sequence[Callable[[], T]]], /) -> Callable[[], list[T]]:
        alone = self._in_flight is None or self._in_flight() <= 1
        if not alone or self._pool is None or self._idle is None or not self._idle.acquire(blocking=False):
            return self._inline(split)
        shared = _Parts(split(self.parts))
        try:
            future = self._pool.submit(shared.drain)
        except RuntimeError:  # shut down while the app stops: the request still gets its answer
            self._idle.release()
            return self._inline(split)
        future.add_done_callback(lambda _: self._release())
        self._count("spare_core")

        def join() -> list[T]:
            shared.drain()
            future.result()  # the helper's last part; re-raises its error
            return shared.results

        return join

    def _inline(self, split: Callable[[int], Sequence[Callable[[], T]]]) -> Callable[[], list[T]]:
        self._count("inline")
        return inline(split)

    @property
    def idle(self) -> bool:
        """Whether a helper thread is free now."""
        if self._idle is None or not self._idle.acquire(blocking=False):
            return False
        self._idle.release()
        return True

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
