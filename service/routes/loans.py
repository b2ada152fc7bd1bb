"""Booked loans (their patents count as pledged for double-pledge detection)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import BankDep, KeyOptionalDep, LoanReaderDep, NowDep, SessionDep, TodayDep
from service.errors import error_responses
from service.responses import run_once
from service.routing import UnitOfWorkRoute
from service.schemas.loans import LoanCreate, LoanPublic
from service.usecases import loans as uc

router = APIRouter(
    prefix="/v1/loans", tags=["loans"], route_class=UnitOfWorkRoute, responses=error_responses(401, 403, 404, 409, 422)
)


@router.post("", status_code=201, response_model=LoanPublic)
def book_loan(
    body: LoanCreate, session: SessionDep, principal: BankDep, today: TodayDep, once: KeyOptionalDep
) -> Response:
    """Book a loan from an assessment; its patents become pledged."""
    return run_once(session, principal, once, body, lambda: uc.book_loan(session, principal, body, today=today))


@router.get("/{loan_id}")
def get_loan(loan_id: str, session: SessionDep, principal: LoanReaderDep) -> LoanPublic:
    """One booked loan."""
    return uc.get_loan(session, principal, loan_id)


@router.post("/{loan_id}/close", response_model=LoanPublic)
def close_loan(
    loan_id: str, session: SessionDep, principal: BankDep, today: TodayDep, now: NowDep, once: KeyOptionalDep
) -> Response:
    """Close a repaid loan (also after a default: repayment cures) and release its patents."""
    return run_once(
        session, principal, once, None, lambda: uc.close_loan(session, principal, loan_id, today=today, now=now)
    )
