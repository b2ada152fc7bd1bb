"""A daemon thread that calls a function every ``interval`` seconds and survives its failures.

A failure is logged with its traceback the first time; while the same kind of
failure repeats (a database outage fails the audit sealer every half second)
one line a minute counts the repeats instead of a traceback per call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("iprisk.periodic")
REPEAT_LOG_SECONDS = 60.0


class Periodic:
    """Run ``fn`` every ``interval`` seconds until stopped; exceptions are logged, never fatal."""

    def __init__(self, fn: Callable[[], object], interval: float, name: str) -> None:
        self._fn = fn
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait (at most 5 s) for the current call to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failing: str | None = None  # the kind of failure repeating now
        repeats, last_logged = 0, 0.0
        while not self._stop.wait(self._interval):
            try:
                self._fn()
            except Exception as exc:
                kind = type(exc).__name__
                now = time.monotonic()
                if kind != failing:
                    log.exception("%s failed", self._thread.name)
                    failing, repeats, last_logged = kind, 0, now
                else:
                    repeats += 1
                    if now - last_logged >= REPEAT_LOG_SECONDS:
                        log.error(
                            "%s still failing: %s, %d times since the last report", self._thread.name, kind, repeats
                        )
                        repeats, last_logged = 0, now
            else:
                if failing is not None:
                    log.info("%s recovered", self._thread.name)
                failing = None
