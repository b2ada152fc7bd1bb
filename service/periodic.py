"""A daemon thread that calls a function every ``interval`` seconds and survives its failures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("iprisk.periodic")


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
        while not self._stop.wait(self._interval):
            try:
                self._fn()
            except Exception:
                log.exception("%s failed", self._thread.name)
