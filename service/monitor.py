"""Background drift monitor: recomputes PSI periodically for /readyz and the Prometheus gauges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.bundle import BundleHolder
from service.clock import Clock
from service.metrics import Metrics
from service.periodic import Periodic
from service.schemas.regulator import DriftReport
from service.usecases.regulator import drift_all, drift_summary


@dataclass
class DriftMonitor:
    """Keeps the latest drift summary; a drift alert shows in /readyz without failing it."""

    engine: Engine
    models: BundleHolder
    metrics: Metrics
    clock: Clock = field(default_factory=Clock)
    interval: float = 300.0
    window_days: int = 30
    summary: dict[str, Any] = field(default_factory=dict)
    _poller: Periodic | None = None

    def record(self, reports: list[DriftReport]) -> None:
        """Publish reports computed elsewhere (e.g. by the regulator endpoint)."""
        self.summary = drift_summary(reports)

    def run_once(self) -> None:
        """Compute drift of every served model now."""
        bundle = self.models.bundle
        if bundle is None:
            return
        with Session(self.engine) as session:
            self.record(drift_all(session, bundle, self.metrics, days=self.window_days, now=self.clock.now()))

    def details(self) -> dict[str, Any]:
        """Readiness details: per-model drift and whether any alert is raised."""
        return {"drift": self.summary, "drift_alert": any(v.get("alert") for v in self.summary.values())}

    def start(self) -> None:
        """Poll in the background."""
        self._poller = Periodic(self.run_once, self.interval, "drift-monitor")
        self._poller.start()

    def stop(self) -> None:
        """Stop polling."""
        if self._poller is not None:
            self._poller.stop()
