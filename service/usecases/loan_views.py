"""A booked loan as the API shows it: its terms, patents, pledge state, registrations and history."""

from __future__ import annotations

from datetime import UTC

from sqlmodel import Session, col, select

from scoring.vocab.money import to_cny
from service.db.pledge_tables import PledgeEvent, PledgeRegistration
from service.db.tables import Loan, LoanPatent
from service.schemas.loans import LoanPublic
from service.schemas.pledges import PledgeEventPublic, RegistrationPublic


def registration_public(row: PledgeRegistration) -> RegistrationPublic:
    """One registration as the API shows it."""
    return RegistrationPublic.model_validate(row, from_attributes=True)


def event_public(row: PledgeEvent) -> PledgeEventPublic:
    """One step of a pledge's history as the API shows it."""
    assert row.id is not None
    return PledgeEventPublic(
        id=row.id,
        patent_id=row.patent_id,
        event=row.event,
        from_state=row.from_state,
        to_state=row.to_state,
        on=row.occurred_on,
        reason=row.reason,
        price_cny=to_cny(row.price_fen) if row.price_fen is not None else None,
        at=row.at.replace(tzinfo=UTC),
    )


def loan_public(session: Session, loan: Loan) -> LoanPublic:
    """``loan`` with its patents (in id order), registrations and pledge history."""
    ids = session.exec(
        select(LoanPatent.patent_id).where(LoanPatent.loan_id == loan.id).order_by(col(LoanPatent.id))
    ).all()
    registrations = session.exec(
        select(PledgeRegistration)
        .where(PledgeRegistration.loan_id == loan.id)
        .order_by(col(PledgeRegistration.patent_id))
    ).all()
    events = session.exec(select(PledgeEvent).where(PledgeEvent.loan_id == loan.id).order_by(col(PledgeEvent.id))).all()
    return LoanPublic(
        id=loan.id,
        assessment_id=loan.assessment_id,
        borrower_id=loan.borrower_id,
        amount_cny=loan.amount_cny,
        tenor_months=loan.tenor_months,
        annual_rate=loan.annual_rate,
        origination_date=loan.origination_date,
        status=loan.status,
        pledge_state=loan.pledge_state,
        patent_ids=list(ids),
        registrations=[registration_public(r) for r in registrations],
        pledge_history=[event_public(e) for e in events],
        created_at=loan.created_at.replace(tzinfo=UTC),
        closed_at=loan.closed_at.replace(tzinfo=UTC) if loan.closed_at else None,
    )
