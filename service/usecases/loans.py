"""Booked loans: the record double-pledge detection relies on."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from scoring.pledge_life import INITIAL
from service.auth import Principal
from service.db import audit
from service.db.tables import Assessment, Loan, Valuation
from service.errors import Conflict, InvalidInput
from service.schemas.loans import LoanCreate, LoanPublic
from service.usecases.loan_views import loan_public
from service.usecases.pledge_life import locked_loan, record, transition
from service.usecases.pledges import already_pledged, assessed_patent_ids, pledge
from service.usecases.scoring import pledged_elsewhere
from service.usecases.tenancy import visible


def origination_facts(session: Session, a: Assessment) -> dict[str, Any]:
    """Facts of the assessment a loan was booked from, kept on the loan for statistics."""
    patents = a.request.get("patents")
    if patents is None and a.valuation_id:
        v = session.get(Valuation, a.valuation_id)
        patents = v.request["patents"] if v is not None else []
    p50 = {p["patent_id"]: p["p50"] for p in a.response["valuation"]["patents"]}
    by_type: dict[str, float] = {}
    for p in patents or []:
        by_type[p["patent_type"]] = by_type.get(p["patent_type"], 0.0) + p50.get(p["patent_id"], 0.0)
    resp = a.response
    return {
        "region": a.request["borrower"]["region"],
        "industry": a.request["borrower"]["industry"],
        "patent_type": max(by_type, key=lambda k: by_type[k]) if by_type else None,
        "collateral_p50": resp["valuation"]["package"]["total_p50"],
        "ltv": resp["ltv"],
        "pd": resp["pd"],
        "grade": resp["grade"],
        "expected_loss": resp["expected_loss"],
    }


def book_loan(session: Session, principal: Principal, req: LoanCreate, *, today: date) -> LoanPublic:
    """Book a loan from the caller's assessment (originated ``today`` unless it says); 409 if a patent is pledged."""
    a = visible(session, principal, Assessment, req.assessment_id, what="assessment", field="assessment_id", read=False)
    if session.exec(select(Loan).where(Loan.assessment_id == a.id)).first() is not None:
        raise Conflict(f"assessment {a.id} is already booked as a loan", field="assessment_id")
    if req.origination_date is not None and req.origination_date > today:
        raise InvalidInput(f"{req.origination_date} is after today ({today}, Beijing)", field="origination_date")
    patent_ids = assessed_patent_ids(a)
    taken = pledged_elsewhere(session, patent_ids)
    if taken:
        raise already_pledged(taken)
    loan = Loan(
        id=str(uuid.uuid4()),
        institution=principal.institution,
        assessment_id=a.id,
        borrower_id=a.borrower_id,
        amount_cny=a.amount_cny,
        tenor_months=a.request["loan"]["tenor_months"],
        annual_rate=a.request["loan"].get("annual_rate"),
        origination_date=req.origination_date or today,
        **origination_facts(session, a),
    )
    session.add(loan)
    session.flush()
    pledge(session, loan.id, patent_ids)  # the database decides a race between two bookings
    record(
        session, principal, loan.id, event="book", from_state=None, to_state=INITIAL, occurred_on=loan.origination_date
    )
    audit.append_by(
        session,
        principal,
        action="loan.book",
        resource_type="loan",
        resource_id=loan.id,
        detail={"assessment_id": a.id, "patents": patent_ids, "amount_cny": a.amount_cny},
    )
    session.flush()
    return loan_public(session, loan)


def get_loan(session: Session, principal: Principal, loan_id: str) -> LoanPublic:
    """One booked loan of the caller's institution."""
    return loan_public(session, visible(session, principal, Loan, loan_id, what="loan"))


def close_loan(session: Session, principal: Principal, loan_id: str, *, today: date, now: datetime) -> LoanPublic:
    """Close (repay) a loan today: its patents are released, even after a default (repayment cures)."""
    loan = locked_loan(session, principal, loan_id)
    transition(session, principal, loan, "close", on=today, now=now)
    audit.append_by(
        session,
        principal,
        action="loan.close",
        resource_type="loan",
        resource_id=loan_id,
        detail={},
    )
    session.flush()
    return loan_public(session, loan)
