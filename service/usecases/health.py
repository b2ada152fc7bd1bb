"""Readiness: what the service depends on, and whether each part is usable."""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.bundle import SERVED, BundleHolder

# /readyz must answer within 2 s whatever the database does (a load balancer's probe gives up
# and marks the replica dead otherwise); the check gets most of that.
DATABASE_CHECK_SECONDS = 1.5


class DatabaseProbe:
    """``SELECT 1`` on a daemon thread, waited for at most a deadline.

    A check that overruns keeps running (a hung socket cannot be interrupted
    from outside; the engine's own timeouts end it) and later calls report
    ``timeout`` without starting another, so a hung database costs one
    thread, not one per probe.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the registry below must not keep engines alive
        self._lock = threading.Lock()
        self._running: Future[None] | None = None

    def check(self, timeout: float = DATABASE_CHECK_SECONDS) -> str:
        """``ok``, ``timeout`` or ``error: <exception type>``."""
        with self._lock:
            future = self._running
            if future is None:
                future = self._running = Future()
                threading.Thread(target=self._run, args=(future,), name="readyz-db", daemon=True).start()
        try:
            future.result(timeout=timeout)
        except FutureTimeout:
            return "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return f"error: {type(exc).__name__}"
        return "ok"

    def _run(self, future: Future[None]) -> None:
        try:
            engine = self._engine()
            if engine is None:
                raise RuntimeError("engine disposed")
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting check
            future.set_exception(exc)
        else:
            future.set_result(None)
        finally:
            with self._lock:
                self._running = None


_PROBES: weakref.WeakKeyDictionary[Engine, DatabaseProbe] = weakref.WeakKeyDictionary()
_PROBES_LOCK = threading.Lock()


def database_probe(engine: Engine) -> DatabaseProbe:
    """The one probe of ``engine`` (made on first use)."""
    with _PROBES_LOCK:
        probe = _PROBES.get(engine)
        if probe is None:
            probe = _PROBES[engine] = DatabaseProbe(engine)
        return probe


def readiness(engine: Engine, holder: BundleHolder, extra: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any]]:
    """(ready, details): database reachable within :data:`DATABASE_CHECK_SECONDS` and every served model loaded."""
    details: dict[str, Any] = {"database": database_probe(engine).check()}
    ready = details["database"] == "ok"
    bundle = holder.bundle
    details["models"] = bundle.versions if bundle else {}
    missing = [m for m in SERVED if not bundle or m not in bundle.models]
    if missing:
        ready = False
        details["missing_models"] = missing
    if bundle:
        details["shap_kernel"] = bundle.shap_kernel()
    if holder.last_error:
        details["model_reload_error"] = holder.last_error
        details["models_refused"] = holder.refused
    details.update(extra or {})
    return ready, details
