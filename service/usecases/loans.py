"""Booked loans: the record double-pledge detection relies on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from service.auth import Principal
from service.db import audit
from service.db.tables import Assessment, Loan, LoanPatent, Valuation
from service.errors import Conflict
from service.schemas.loans import LoanCreate, LoanPublic
from service.usecases.pledges import already_pledged, assessed_patent_ids, pledge
from service.usecases.scoring import pledged_elsewhere
from service.usecases.tenancy import visible


def _public(session: Session, loan: Loan) -> LoanPublic:
    ids = session.exec(
        select(LoanPatent.patent_id).where(LoanPatent.loan_id == loan.id).order_by(col(LoanPatent.id))
    ).all()
    return LoanPublic(
        id=loan.id,
        assessment_id=loan.assessment_id,
        borrower_id=loan.borrower_id,
        amount_cny=loan.amount_cny,
        tenor_months=loan.tenor_months,
        origination_date=loan.origination_date,
        status=loan.status,
        patent_ids=list(ids),
        created_at=loan.created_at.replace(tzinfo=UTC),
        closed_at=loan.closed_at.replace(tzinfo=UTC) if loan.closed_at else None,
    )


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
        origination_date=req.origination_date or today,
        **origination_facts(session, a),
    )
    session.add(loan)
    session.flush()
    pledge(session, loan.id, patent_ids)  # the database decides a race between two bookings
    audit.append(
        session,
        key_id=principal.key_id,
        role=principal.role,
        institution=principal.institution,
        action="loan.book",
        resource_type="loan",
        resource_id=loan.id,
        detail={"assessment_id": a.id, "patents": patent_ids, "amount_cny": a.amount_cny},
    )
    session.flush()
    return _public(session, loan)


def get_loan(session: Session, principal: Principal, loan_id: str) -> LoanPublic:
    """One booked loan of the caller's institution."""
    return _public(session, visible(session, principal, Loan, loan_id, what="loan"))


def close(session: Session, loan: Loan, *, at: datetime) -> None:
    """Mark ``loan`` closed at ``at`` and release its patents (they may be pledged again)."""
    loan.status, loan.closed_at = "closed", at
    session.add(loan)
    for lp in session.exec(select(LoanPatent).where(col(LoanPatent.loan_id) == loan.id)).all():
        lp.active = False
        session.add(lp)


def close_loan(session: Session, principal: Principal, loan_id: str, *, now: datetime) -> LoanPublic:
    """Close (repay) a loan at ``now``: its patents are released."""
    loan = visible(session, principal, Loan, loan_id, what="loan", read=False)
    if loan.status != "active":
        raise Conflict(f"loan {loan_id} is {loan.status}")
    close(session, loan, at=now)
    audit.append(
        session,
        key_id=principal.key_id,
        role=principal.role,
        institution=principal.institution,
        action="loan.close",
        resource_type="loan",
        resource_id=loan_id,
        detail={},
    )
    session.flush()
    return _public(session, loan)
