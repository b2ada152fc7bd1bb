"""Readiness: what the service depends on, and whether each part is usable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.bundle import SERVED, BundleHolder


def readiness(engine: Engine, holder: BundleHolder, extra: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any]]:
    """(ready, details): database reachable and every served model loaded."""
    details: dict[str, Any] = {}
    ready = True
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        details["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        details["database"] = f"error: {type(exc).__name__}"
        ready = False
    bundle = holder.bundle
    details["models"] = bundle.versions if bundle else {}
    missing = [m for m in SERVED if not bundle or m not in bundle.models]
    if missing:
        ready = False
        details["missing_models"] = missing
    if holder.last_error:
        details["model_reload_error"] = holder.last_error
        details["models_refused"] = holder.refused
    details.update(extra or {})
    return ready, details
