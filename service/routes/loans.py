"""Booked loans (their patents count as pledged for double-pledge detection)."""

from __future__ import annotations

from fastapi import Response

from service.deps import BankDep, LoanReaderDep, NowDep, OnceDep, SessionDep, TodayDep
from service.routing import api_router
from service.schemas.loans import LoanCreate, LoanPublic
from service.usecases import loans as uc

router = api_router("/v1/loans", "loans", 401, 403, 404, 409, 422)


@router.post("", status_code=201, response_model=LoanPublic)
def book_loan(body: LoanCreate, session: SessionDep, principal: BankDep, today: TodayDep, once: OnceDep) -> Response:
    """Book a loan from an assessment; its patents become pledged."""
    return once.run(principal, body, lambda: uc.book_loan(session, principal, body, today=today))


@router.get("/{loan_id}")
def get_loan(loan_id: str, session: SessionDep, principal: LoanReaderDep) -> LoanPublic:
    """One booked loan."""
    return uc.get_loan(session, principal, loan_id)


@router.post("/{loan_id}/close", response_model=LoanPublic)
def close_loan(
    loan_id: str, session: SessionDep, principal: BankDep, today: TodayDep, now: NowDep, once: OnceDep
) -> Response:
    """Close a repaid loan (also after a default: repayment cures) and release its patents."""
    return once.run(principal, None, lambda: uc.close_loan(session, principal, loan_id, today=today, now=now))
