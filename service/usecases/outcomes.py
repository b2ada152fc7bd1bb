"""Loan outcomes reported by banks: the ground on which models are judged."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.auth import Principal
from service.db import audit
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Loan
from service.errors import InvalidInput
from service.schemas.regulator import OutcomeCreate, OutcomePublic
from service.usecases.loans import close
from service.usecases.tenancy import visible


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


def report_outcome(session: Session, principal: Principal, req: OutcomeCreate, *, now: datetime) -> OutcomePublic:
    """Record an outcome of the caller's loan; a repaid loan is closed (at ``now``) and its patents released."""
    loan = visible(session, principal, Loan, req.loan_id, what="loan", field="loan_id", read=False)
    if req.as_of < loan.origination_date:
        raise InvalidInput("as_of is before the loan's origination date", field="as_of")
    if req.default_date is not None and req.default_date < loan.origination_date:
        raise InvalidInput("default_date is before the loan's origination date", field="default_date")
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
    if req.status == "repaid" and loan.status == "active":
        close(session, loan, at=now)
    elif req.status == "default" and loan.status == "active":
        loan.status = "defaulted"
        session.add(loan)
    session.flush()
    audit.append(
        session,
        key_id=principal.key_id,
        role=principal.role,
        institution=principal.institution,
        action="outcome.report",
        resource_type="loan",
        resource_id=loan.id,
        detail={"status": req.status, "npl_class": req.npl_class, "days_past_due": req.days_past_due},
    )
    return _public(row)
