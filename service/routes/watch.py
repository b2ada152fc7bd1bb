"""The collateral watch of booked loans and its alerts (docs/after-booking.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Response

from scoring.watch import AlertType, Severity
from service.deps import BankDep, LangDep, LoanReaderDep, NowDep, OnceDep, SessionDep, TodayDep, WatchDep
from service.routing import api_router
from service.schemas.watch import AlertAck, AlertPage, AlertPublic, LoanWatch
from service.usecases import alerts, watch

router = api_router("/v1", "watch", 401, 403, 404, 409, 422, 503)


@router.get("/loans/{loan_id}/watch", response_model=LoanWatch)
def loan_watch(
    loan_id: str,
    session: SessionDep,
    principal: LoanReaderDep,
    ctx: WatchDep,
    today: TodayDep,
    lang: LangDep,
    as_of: date | None = None,
) -> LoanWatch:
    """Each pledged patent's legal status, value, LTV against the cap, life and fees on a date, with the alerts."""
    return watch.loan_watch(session, principal, ctx, loan_id, as_of=as_of, today=today, lang=lang)


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    session: SessionDep,
    principal: LoanReaderDep,
    lang: LangDep,
    severity: Severity | None = None,
    type: AlertType | None = None,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$")] = None,
    loan_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AlertPage:
    """The watch's alerts: a bank its own, the regulator all; by severity, type, status, loan and date."""
    flt = alerts.AlertFilter(severity, type, status, loan_id, since, until, limit, offset)
    return alerts.list_alerts(session, principal, flt, lang=lang)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic)
def acknowledge_alert(
    alert_id: str, body: AlertAck, session: SessionDep, principal: BankDep, now: NowDep, lang: LangDep, once: OnceDep
) -> Response:
    """Acknowledge an open alert of one of your loans, giving the reason."""
    return once.run(principal, body, lambda: alerts.acknowledge(session, principal, alert_id, body, now=now, lang=lang))
