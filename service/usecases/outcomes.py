"""Loan outcomes reported by banks: the ground on which models are judged, and steps in the pledge's life.

A report must be true on the service's business day and of its loan: no date
after today (Beijing), no date before origination, no more days past due than
the loan has existed, a class no better than the 2023 asset-classification
rules allow (:mod:`scoring.classification`).  It moves the loan's pledge
(:mod:`scoring.pledge_life`): performing, default, or repaid — which settles
the loan and releases its patents, after a default too.  A report the state
forbids (performing after a default, anything but repaid after settlement) is
a 409 and nothing is written.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlmodel import Session

from scoring.classification import check_outcome_dates
from scoring.pledge_life import PledgeEvent
from scoring.types import FieldError
from service.auth import Principal
from service.db import audit
from service.db.regulator_tables import LoanOutcome
from service.errors import InvalidInput
from service.schemas.regulator import OutcomeCreate, OutcomePublic
from service.usecases.pledge_life import locked_loan, transition

EVENTS: dict[Literal["performing", "repaid", "default"], PledgeEvent] = {
    "performing": "perform",
    "default": "default",
    "repaid": "repay",
}


def _public(row: LoanOutcome) -> OutcomePublic:
    assert row.id is not None
    return OutcomePublic(
        id=row.id,
        loan_id=row.loan_id,
        as_of=row.as_of,
        status=row.status,
        days_past_due=row.days_past_due,
        npl_class=row.npl_class,
        default_date=row.default_date,
        reported_at=row.reported_at,
    )


def report_outcome(
    session: Session, principal: Principal, req: OutcomeCreate, *, today: date, now: datetime
) -> OutcomePublic:
    """Record an outcome of the caller's loan and move its pledge accordingly (a repaid loan is settled)."""
    loan = locked_loan(session, principal, req.loan_id, field="loan_id")
    try:
        check_outcome_dates(
            as_of=req.as_of,
            default_date=req.default_date,
            days_past_due=req.days_past_due,
            origination_date=loan.origination_date,
            today=today,
        )
    except FieldError as exc:
        raise InvalidInput(exc.problem, field=exc.field) from exc
    on = req.default_date if req.status == "default" and req.default_date is not None else req.as_of
    transition(session, principal, loan, EVENTS[req.status], on=on, now=now, field="status")
    row = LoanOutcome(
        loan_id=loan.id,
        institution=principal.institution,
        key_id=principal.key_id,
        as_of=req.as_of,
        status=req.status,
        days_past_due=req.days_past_due,
        npl_class=req.npl_class,
        default_date=req.default_date,
    )
    session.add(row)
    session.flush()
    audit.append_by(
        session,
        principal,
        action="outcome.report",
        resource_type="loan",
        resource_id=loan.id,
        detail={"status": req.status, "npl_class": req.npl_class, "days_past_due": req.days_past_due},
    )
    return _public(row)
