"""The watch's stored alerts: merged with what a loan raises today, listed per bank, acknowledged with a reason.

A new alert opens; one still raised keeps its status (an acknowledged alert
stays acknowledged) and is refreshed; one no longer raised is resolved.  A
bank sees its own, the regulator all (docs/after-booking.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from scoring.vocab.lang import Lang
from scoring.watch import Alert, AlertType, Severity
from service.auth import Principal
from service.db import audit
from service.db.watch_tables import WatchAlert
from service.errors import Conflict, NotFound
from service.schemas.watch import AlertAck, AlertPage, AlertPublic


def _key(patent_id: str | None, kind: str) -> tuple[str | None, str]:
    return patent_id, kind


def sync_alerts(session: Session, loan_id: str, institution: str, alerts: Sequence[Alert], *, today: date) -> int:
    """Store today's alerts of a loan: open the new, refresh the still raised, resolve the rest; the number opened."""
    rows = session.exec(
        select(WatchAlert).where(col(WatchAlert.loan_id) == loan_id, col(WatchAlert.status) != "resolved")
    ).all()
    return merge_alerts(session, loan_id, institution, rows, alerts, today=today)


def merge_alerts(
    session: Session,
    loan_id: str,
    institution: str,
    stored: Sequence[WatchAlert],
    alerts: Sequence[Alert],
    *,
    today: date,
) -> int:
    """Merge a loan's raised ``alerts`` into its ``stored`` unresolved ones; the number opened."""
    current = {_key(r.patent_id, r.type): r for r in stored}
    raised = {_key(a.patent_id, a.type): a for a in alerts}
    opened = 0
    for key, a in raised.items():
        row = current.get(key)
        if row is None:
            row = WatchAlert(
                id=str(uuid.uuid4()),
                loan_id=loan_id,
                institution=institution,
                patent_id=a.patent_id,
                type=a.type,
                severity=a.severity,
                text_zh=a.text_zh,
                text_en=a.text_en,
                first_seen_on=today,
                last_seen_on=today,
            )
            opened += 1
        elif (row.severity, row.text_en, row.last_seen_on) == (a.severity, a.text_en, today):
            continue  # unchanged today: no write
        row.severity, row.text_zh, row.text_en, row.detail = a.severity, a.text_zh, a.text_en, dict(a.detail)
        row.last_seen_on = today
        session.add(row)
    for key, row in current.items():
        if key not in raised:
            row.status, row.resolved_on = "resolved", today
            session.add(row)
    return opened


def settle_ltv_breach(
    session: Session, loan_id: str, *, balance_then: Callable[[date], float], balance_now: float, today: date
) -> int:
    """Resolve the loan's stored LTV breach that a repayment has cured, without waiting for the next revaluation.

    A breach records what had to be repaid (``detail.repay``) when it was last raised; the loan's maximum under
    its cap was then the balance that day less that amount.  The pledge value has not been re-marked since, so
    the breach is cured once today's balance is within that maximum.  ``balance_then(day)`` is the balance the
    breach saw (the book before this repayment).  The number resolved; a breach still open keeps its figures
    until the next revaluation words them again.
    """
    rows = session.exec(
        select(WatchAlert).where(
            WatchAlert.loan_id == loan_id, WatchAlert.type == "ltv_breach", col(WatchAlert.status) != "resolved"
        )
    ).all()
    resolved = 0
    for row in rows:
        repay = row.detail.get("repay")
        if not isinstance(repay, int | float):
            continue
        if balance_now <= balance_then(row.last_seen_on) - float(repay) + 0.005:
            row.status, row.resolved_on = "resolved", today
            session.add(row)
            resolved += 1
    return resolved


def _public(row: WatchAlert, lang: Lang) -> AlertPublic:
    return AlertPublic(
        id=row.id,
        loan_id=row.loan_id,
        institution=row.institution,
        patent_id=row.patent_id,
        type=cast(AlertType, row.type),  # written only from scoring.watch
        severity=cast(Severity, row.severity),
        text=row.text_zh if lang == "zh" else row.text_en,
        text_zh=row.text_zh,
        text_en=row.text_en,
        detail=row.detail,
        status=row.status,
        first_seen_on=row.first_seen_on,
        last_seen_on=row.last_seen_on,
        resolved_on=row.resolved_on,
        acknowledged_at=row.acknowledged_at.replace(tzinfo=UTC) if row.acknowledged_at else None,
        acknowledged_by=row.acknowledged_by,
        ack_reason=row.ack_reason,
    )


@dataclass(frozen=True)
class AlertFilter:
    """The alert list's query."""

    severity: str | None = None
    type: str | None = None
    status: str | None = None
    loan_id: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 50
    offset: int = 0


def list_alerts(session: Session, principal: Principal, flt: AlertFilter, *, lang: Lang) -> AlertPage:
    """Alerts the caller may see (a bank its own, the regulator all), newest first."""
    where = []
    if principal.role != "regulator":
        where.append(col(WatchAlert.institution) == principal.institution)
    for column, value in (
        (WatchAlert.severity, flt.severity),
        (WatchAlert.type, flt.type),
        (WatchAlert.status, flt.status),
        (WatchAlert.loan_id, flt.loan_id),
    ):
        if value is not None:
            where.append(col(column) == value)
    if flt.since is not None:
        where.append(col(WatchAlert.last_seen_on) >= flt.since)
    if flt.until is not None:
        where.append(col(WatchAlert.first_seen_on) <= flt.until)
    total = session.exec(select(func.count()).select_from(WatchAlert).where(*where)).one()
    rows = session.exec(
        select(WatchAlert)
        .where(*where)
        .order_by(col(WatchAlert.first_seen_on).desc(), col(WatchAlert.created_at).desc(), col(WatchAlert.id))
        .offset(flt.offset)
        .limit(flt.limit)
    ).all()
    return AlertPage(total=int(total), items=[_public(r, lang) for r in rows])


def acknowledge(
    session: Session, principal: Principal, alert_id: str, req: AlertAck, *, now: datetime, lang: Lang
) -> AlertPublic:
    """The lending bank acknowledges its open alert, giving the reason (audited); 409 if not open."""
    row = session.get(WatchAlert, alert_id, with_for_update=True)
    if row is None or row.institution != principal.institution:
        raise NotFound(f"no alert {alert_id}", field="alert_id")
    if row.status != "open":
        raise Conflict(f"alert {alert_id} is {row.status}: only an open alert is acknowledged", field="alert_id")
    row.status, row.acknowledged_at, row.acknowledged_by, row.ack_reason = (
        "acknowledged",
        now,
        principal.institution,
        req.reason,
    )
    session.add(row)
    audit.append_by(
        session,
        principal,
        action="watch.alert.acknowledge",
        resource_type="alert",
        resource_id=row.id,
        detail={"loan_id": row.loan_id, "type": row.type, "reason": req.reason},
    )
    session.flush()
    return _public(row, lang)


def open_counts(session: Session) -> dict[tuple[str, str], int]:
    """Open alerts by (severity, type), for the gauges."""
    rows = session.exec(
        select(WatchAlert.severity, WatchAlert.type, func.count())
        .where(col(WatchAlert.status) == "open")
        .group_by(col(WatchAlert.severity), col(WatchAlert.type))
    ).all()
    return {(s, t): int(n) for s, t, n in rows}
