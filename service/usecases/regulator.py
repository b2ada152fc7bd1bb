"""Regulator use cases that need the app's state: drift over served models, audit checks."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.audit_checkpoints import AuditKeeper
from service.bundle import SERVED, ModelBundle
from service.db.audit import Anchor
from service.errors import InvalidInput
from service.metrics import Metrics
from service.schemas.regulator import AuditCheck, AuditCheckpoint, DriftReport
from service.usecases.monitoring import drift_report


def drift_all(
    session: Session, bundle: ModelBundle, metrics: Metrics, *, days: int, now: datetime
) -> list[DriftReport]:
    """Drift of every served model that has a reference over the ``days`` before ``now``, published as gauges too."""
    reports = []
    for name in SERVED:
        if name not in bundle.models or name == "claim_review":
            continue
        report = drift_report(session, bundle.get(name), days=days, now=now)
        reports.append(report)
        for f in report.features:
            metrics.psi.labels(model=name, feature=f.feature).set(f.psi)
        if report.score_psi is not None:
            metrics.psi.labels(model=name, feature="(score)").set(report.score_psi)
    return reports


def drift_summary(reports: list[DriftReport]) -> dict[str, object]:
    """What /readyz shows about drift (never failing readiness)."""
    return {
        r.model: {
            "alert": r.alert,
            "score_psi": r.score_psi,
            "rows": r.rows,
            "act": [f.feature for f in r.features if f.band == "act"],
        }
        for r in reports
    }


def check_audit(
    session: Session, keeper: AuditKeeper, *, seq: int | None = None, digest: str | None = None
) -> AuditCheck:
    """Seal, recompute the chain, check it against every signed checkpoint and the caller's own (seq, hash)."""
    if (seq is None) != (digest is None):
        raise InvalidInput(
            "give both seq and hash of a checkpoint you kept, or neither", field="hash" if digest is None else "seq"
        )
    anchor = Anchor(seq, digest, "your checkpoint") if seq is not None and digest is not None else None
    verdict = keeper.verify(session, anchor=anchor)
    c, latest = verdict.chain, verdict.checkpoints.latest
    return AuditCheck(
        ok=verdict.ok,
        entries=c.entries,
        first_broken_seq=c.first_broken_seq,
        problem=verdict.problem,
        pending=c.pending,
        checkpoints=len(verdict.checkpoints.valid),
        checkpoint=AuditCheckpoint.model_validate(latest.__dict__) if latest is not None else None,
    )


def export_checkpoints(keeper: AuditKeeper) -> list[AuditCheckpoint]:
    """Every validly signed checkpoint, oldest first, for the regulator to keep."""
    return [AuditCheckpoint.model_validate(cp.__dict__) for cp in keeper.checkpoints.read().valid]
