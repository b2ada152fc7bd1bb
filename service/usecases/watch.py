"""The collateral watch of one loan, and the stored alerts: raised, kept up to date, listed and acknowledged.

A loan's watch on a date replays its patents' facts to that day
(:func:`service.usecases.events.facts_as_of`), marks them with the champion
valuation model (:func:`scoring.watch.mark_patents`) and measures the LTV
against the institution's caps.  The alerts of *today* are stored
(:func:`sync_alerts`): a new one opens, one still raised keeps its status (an
acknowledged alert stays acknowledged), one no longer raised is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from sqlmodel import Session

from scoring.book import balance_at
from scoring.legal_events import LegalFacts, grace_end
from scoring.models import LoadedModel
from scoring.policy import LtvCaps, LtvPolicy, ScoringConfig, ValuationAssumptions
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_cny
from scoring.watch import (
    BASES,
    Alert,
    LoanFigures,
    WatchThresholds,
    caps_of,
    facts_columns,
    loan_alerts,
    loan_figures,
    mark_patents,
    maturity_of,
    patent_alerts,
)
from service.auth import Principal
from service.db.tables import Assessment, Loan
from service.errors import InvalidInput
from service.schemas.events import EventCreate, EventPublic
from service.schemas.watch import AlertView, LoanWatch, PatentWatch
from service.settings import Settings
from service.usecases import events
from service.usecases.alerts import sync_alerts
from service.usecases.book import load_book
from service.usecases.events import LIVE_STATUSES, facts_as_of
from service.usecases.tenancy import visible


@dataclass(frozen=True)
class WatchContext:
    """What the watch needs besides the loan: the champion valuation model, the LTV caps, the thresholds."""

    model: LoadedModel
    ltv: LtvPolicy
    thresholds: WatchThresholds
    valuation: ValuationAssumptions


def watch_context(model: LoadedModel, config: ScoringConfig, settings: Settings) -> WatchContext:
    """The watch's context from the served model, the configuration and the settings' thresholds."""
    thresholds = WatchThresholds(
        fee_due_days=settings.watch_fee_due_days, value_fall_share=settings.watch_value_fall_share
    )
    return WatchContext(model, config.ltv, thresholds, config.valuation)


def caps_by_type(caps: LtvCaps) -> dict[str, float]:
    """The caps as a mapping from patent type."""
    return {t: caps.cap(t) for t in ("invention", "utility_model", "design")}


def booked_value(session: Session, loan: Loan) -> float | None:
    """The pledge value the assessment behind the loan gave (its package's pledgeable P50s)."""
    a = session.get(Assessment, loan.assessment_id)
    if a is None:
        return None
    package = a.response.get("valuation", {}).get("package", {})
    value = package.get("pledge_value_cny", package.get("total_p50"))
    return float(value) if value is not None else None


@dataclass(frozen=True)
class Evaluated:
    """A loan's watch on a date before it is rendered: facts, marks, figures and alerts."""

    facts: list[LegalFacts]
    q: np.ndarray
    basis: np.ndarray
    pledge_value: np.ndarray
    life: np.ndarray
    caps: np.ndarray
    figures: LoanFigures
    booked: float | None
    alerts: list[Alert]
    outstanding: float


def outstanding_on(session: Session, loan: Loan, on: date) -> float:
    """The loan's principal outstanding on ``on``, CNY: its schedule, reports and repayments (scoring/book.py)."""
    (book_loan,) = load_book(session, loans=[loan])
    return float(to_cny(balance_at(book_loan, on)))


def evaluate(session: Session, ctx: WatchContext, loan: Loan, as_of: date) -> Evaluated:
    """Mark the loan's patents on ``as_of`` and raise its alerts."""
    facts = facts_as_of(session, loan, as_of)
    cols = facts_columns(facts)
    rev = np.array([np.nan if f.owner_revenue_cny is None else f.owner_revenue_cny for f in facts])
    marks = mark_patents(ctx.model, cols, as_of, owner_revenue=rev)
    caps = caps_of(cols["patent_type"], caps_by_type(ctx.ltv.for_institution(loan.institution)))
    outstanding = outstanding_on(session, loan, as_of)
    figures = loan_figures(outstanding, marks.pledge_value, caps)
    maturity = maturity_of(loan.origination_date, loan.tenor_months)
    booked = booked_value(session, loan)
    alerts = [a for f in facts for a in patent_alerts(f, as_of=as_of, maturity=maturity, thresholds=ctx.thresholds)]
    alerts += loan_alerts(figures, booked_value=booked, thresholds=ctx.thresholds)
    return Evaluated(
        facts,
        marks.q,
        marks.basis,
        marks.pledge_value,
        marks.remaining_life_years,
        caps,
        figures,
        booked,
        alerts,
        outstanding,
    )


def _patent_view(e: Evaluated, i: int, maturity: date) -> PatentWatch:
    f, p = e.facts[i], e.facts[i].patent
    return PatentWatch(
        patent_id=p.patent_id,
        patent_type=p.patent_type,
        legal_status=p.legal_status,
        owner_id=p.owner_id,
        value_basis=BASES[int(e.basis[i])],
        p10=float(e.q[i, 0]),
        p50=float(e.q[i, 1]),
        p90=float(e.q[i, 2]),
        pledge_value_cny=float(e.pledge_value[i]),
        ltv_cap=float(e.caps[i]),
        expiry=p.expiry(),
        remaining_life_years=round(float(e.life[i]), 3),
        expires_before_maturity=p.expiry() < maturity,
        fee_due_date=f.fee_due_date,
        fee_due_year=f.fee_due_year,
        fee_grace_end=grace_end(f.fee_due_date) if f.fee_due_date else None,
        open_invalidations=list(f.open_invalidations),
        open_litigation=list(f.open_litigation),
        preservation_orders=list(f.preservation_orders),
        open_licence_royalty=f.open_licence_royalty,
        pledge_registration=f.pledge_registration,
        pledge_term_end=f.pledge_term_end,
        last_event_on=f.last_event_on,
    )


def _alert_view(a: Alert, lang: Lang) -> AlertView:
    text = a.text_zh if lang == "zh" else a.text_en
    return AlertView(
        type=a.type,
        severity=a.severity,
        patent_id=a.patent_id,
        text=text,
        text_zh=a.text_zh,
        text_en=a.text_en,
        detail=a.detail,
    )


def loan_watch(
    session: Session,
    principal: Principal,
    ctx: WatchContext,
    loan_id: str,
    *,
    as_of: date | None,
    today: date,
    lang: Lang,
) -> LoanWatch:
    """The watch of a loan the caller may see, on ``as_of`` (default today; not after it, not before origination)."""
    day = as_of or today
    if day > today:
        raise InvalidInput(f"{day} is after today ({today}, Beijing)", field="as_of")
    loan = visible(session, principal, Loan, loan_id, what="loan")
    if day < loan.origination_date:
        raise InvalidInput(f"{day} is before the loan's origination ({loan.origination_date})", field="as_of")
    e = evaluate(session, ctx, loan, day)
    maturity = maturity_of(loan.origination_date, loan.tenor_months)
    fig = e.figures
    return LoanWatch(
        loan_id=loan.id,
        as_of=day,
        status=loan.status,
        pledge_state=loan.pledge_state,
        principal_cny=loan.amount_cny,
        amount_cny=e.outstanding,
        maturity=maturity,
        pledge_value_cny=fig.pledge_value,
        booked_pledge_value_cny=e.booked,
        value_change_share=fig.pledge_value / e.booked - 1 if e.booked else None,
        max_loan_cny=fig.max_loan,
        ltv=fig.ltv,
        ltv_cap=fig.cap,
        repay_cny=fig.repay,
        top_up_cny=fig.top_up,
        model_versions={"valuation": ctx.model.version},
        patents=[_patent_view(e, i, maturity) for i in range(len(e.facts))],
        alerts=[_alert_view(a, lang) for a in e.alerts],
    )


def refresh_loan(session: Session, ctx: WatchContext, loan: Loan, *, today: date) -> list[Alert]:
    """Evaluate a live loan today and store its alerts (what an event or the book revaluation does)."""
    if loan.status not in LIVE_STATUSES:
        return []
    alerts = evaluate(session, ctx, loan, today).alerts
    sync_alerts(session, loan.id, loan.institution, alerts, today=today)
    return alerts


def record_event(
    session: Session,
    principal: Principal,
    ctx: WatchContext,
    patent_id: str,
    req: EventCreate,
    *,
    today: date,
    now: datetime,
) -> EventPublic:
    """Record a legal-status event (:func:`service.usecases.events.record_event`) and refresh its loan's alerts."""
    out = events.record_event(session, principal, patent_id, req, today=today, now=now)
    loan = events.pledging_loan(session, out.patent_id)
    if loan is not None:
        session.flush()
        refresh_loan(session, ctx, loan, today=today)
    return out
