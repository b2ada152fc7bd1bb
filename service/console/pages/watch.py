"""The loan officer's watch: the bank's alerts (filter, acknowledge with a reason) and each loan's watch."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from scoring.watch import ALERT_TYPES, SEVERITIES, AlertType, Severity
from service.console.forms import FormErrors, nest, parse, service_errors
from service.console.nav import menu, router
from service.console.pages.officer import created_id, fields
from service.console.web import FormDep, OfficerDep, User, render, safe_next
from service.deps import NowDep, SessionDep, TodayDep, WatchDep
from service.errors import ServiceError
from service.schemas.watch import AlertAck
from service.usecases import alerts, watch

ALERTS_PAGE = 100  # alerts per page
STATUSES = ("open", "acknowledged", "resolved")


def _alerts_page(
    request: Request,
    user: User,
    session: Session,
    query: dict[str, Any],
    *,
    failed: str | None = None,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    flt = alerts.AlertFilter(
        severity=query.get("severity"),
        type=query.get("type"),
        status=query.get("status"),
        loan_id=query.get("loan_id"),
        limit=ALERTS_PAGE,
        offset=int(query.get("offset") or 0),
    )
    page = alerts.list_alerts(session, user.principal, flt, lang=user.lang)
    back = str(request.url.path) + ("?" + request.url.query if request.url.query else "")
    return render(
        request,
        "watch/alerts.html",
        user=user,
        page=page,
        query=query,
        severities=SEVERITIES,
        types=ALERT_TYPES,
        statuses=STATUSES,
        failed=failed,
        errors=errors.errors if errors else {},
        originals=errors.originals if errors else {},
        values=values or {},
        back=back,
        once=uuid.uuid4().hex,
        status=status,
    )


@menu("/alerts", "bank", "贷后监控", "Watch")
def alerts_page(
    request: Request,
    user: OfficerDep,
    session: SessionDep,
    severity: Severity | None = None,
    type: AlertType | None = None,
    status: str | None = "open",
    loan_id: str | None = None,
    offset: int = 0,
) -> HTMLResponse:
    """The bank's alerts, newest first, by severity, type and status, each open one with its acknowledge form."""
    query = {
        "severity": severity,
        "type": type,
        "status": status if status in STATUSES else None,
        "loan_id": loan_id or None,
        "offset": max(0, min(offset, 10_000_000)),
    }
    return _alerts_page(request, user, session, query)


@router.post("/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    request: Request, alert_id: str, user: OfficerDep, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Acknowledge an open alert with its reason; the list again, or the problem beside the alert's reason (422)."""
    values = fields(form)
    try:
        body = parse(AlertAck, nest(values.items(), skip=("csrf", "once", "next")), lang=user.lang)
        created_id(
            session,
            user,
            values,
            f"/v1/alerts/{alert_id}/acknowledge",
            body,
            lambda: alerts.acknowledge(
                session, user.principal, alert_id, body, now=now, lang=user.lang
            ).model_dump_json(),
        )
    except (FormErrors, ServiceError) as exc:
        session.rollback()
        if isinstance(exc, ServiceError) and (exc.field is None or exc.status == 404):
            raise  # another bank's alert is a 404 page, as in the API
        errors = exc if isinstance(exc, FormErrors) else service_errors(exc, user.lang)
        query = {"severity": None, "type": None, "status": "open", "loan_id": None, "offset": 0}
        return _alerts_page(
            request,
            user,
            session,
            query,
            failed=alert_id,
            errors=errors,
            values=values,
            status=422 if isinstance(exc, FormErrors) else exc.status,
        )
    return RedirectResponse(safe_next(values.get("next")), status_code=303)


@router.get("/loans/{loan_id}/watch", response_class=HTMLResponse)
def loan_watch(
    request: Request,
    loan_id: str,
    user: OfficerDep,
    session: SessionDep,
    ctx: WatchDep,
    today: TodayDep,
    as_of: str = "",
) -> HTMLResponse:
    """A loan's collateral on a day: each patent's legal status, value, fees; the LTV against the cap; alerts."""
    values = {"as_of": as_of}
    errors: FormErrors | None = None
    try:
        day = date.fromisoformat(as_of.strip()) if as_of.strip() else None
    except ValueError:
        day, errors = (
            None,
            FormErrors({"as_of": "请按 年-月-日 填写日期" if user.lang == "zh" else "a date, YYYY-MM-DD"}),
        )
    if errors is None:
        try:
            w = watch.loan_watch(session, user.principal, ctx, loan_id, as_of=day, today=today, lang=user.lang)
        except ServiceError as exc:
            if exc.field != "as_of":
                raise
            errors = service_errors(exc, user.lang)
    if errors is not None:  # the watch today, with the problem beside the day's field
        w = watch.loan_watch(session, user.principal, ctx, loan_id, as_of=None, today=today, lang=user.lang)
    return render(
        request,
        "watch/loan.html",
        user=user,
        w=w,
        values=values,
        errors=errors.errors if errors else {},
        originals=errors.originals if errors else {},
        status=422 if errors else 200,
    )
