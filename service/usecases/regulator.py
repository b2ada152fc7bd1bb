"""Regulator use cases that need the app's state: drift over served models, audit checks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from service.bundle import SERVED, ModelBundle
from service.db.audit import verify_chain
from service.metrics import Metrics
from service.schemas.regulator import AuditCheck, DriftReport
from service.usecases.monitoring import drift_report


def drift_all(session: Session, bundle: ModelBundle, metrics: Metrics, *, days: int) -> list[DriftReport]:
    """Drift of every served model that has a reference, published as Prometheus gauges too."""
    reports = []
    for name in SERVED:
        if name not in bundle.models or name == "claim_review":
            continue
        report = drift_report(session, bundle.get(name), days=days, now=datetime.now(UTC))
        reports.append(report)
        for f in report.features:
            metrics.psi.labels(model=name, feature=f.feature).set(f.psi)
        if report.score_psi is not None:
            metrics.psi.labels(model=name, feature="(score)").set(report.score_psi)
    return reports


def drift_summary(reports: list[DriftReport]) -> dict[str, object]:
    """What /readyz shows about drift (never failing readiness)."""
    return {r.model: {"alert": r.alert, "score_psi": r.score_psi, "rows": r.rows,
                      "act": [f.feature for f in r.features if f.band == "act"]} for r in reports}


def check_audit(session: Session) -> AuditCheck:
    """Recompute the hash chain and name the first broken link."""
    c = verify_chain(session)
    return AuditCheck(ok=c.ok, entries=c.entries, first_broken_seq=c.first_broken_seq, problem=c.problem)
