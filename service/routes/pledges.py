"""The pledge life of a booked loan: registrations with CNIPA, disposal and release (docs/pledge-life.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import BankDep, KeyOptionalDep, NowDep, SessionDep, TodayDep
from service.errors import error_responses
from service.responses import run_once
from service.routing import UnitOfWorkRoute
from service.schemas.loans import LoanPublic
from service.schemas.pledges import DisposalReport, RegistrationChange, RegistrationCreate, ReleaseRequest
from service.usecases import pledge_life, registrations

router = APIRouter(
    prefix="/v1/loans", tags=["loans"], route_class=UnitOfWorkRoute, responses=error_responses(401, 403, 404, 409, 422)
)


@router.post("/{loan_id}/registrations", status_code=201, response_model=LoanPublic)
def record_registrations(
    loan_id: str,
    body: RegistrationCreate,
    session: SessionDep,
    principal: BankDep,
    today: TodayDep,
    now: NowDep,
    once: KeyOptionalDep,
) -> Response:
    """Record the CNIPA registration (or application) of the pledge of the loan's patents."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: registrations.record_registrations(session, principal, loan_id, body, today=today, now=now),
    )


@router.post("/{loan_id}/registrations/{patent_id}/changes", response_model=LoanPublic)
def change_registration(
    loan_id: str,
    patent_id: str,
    body: RegistrationChange,
    session: SessionDep,
    principal: BankDep,
    today: TodayDep,
    now: NowDep,
    once: KeyOptionalDep,
) -> Response:
    """The next step of one patent's registration: registered after application, or changed (变更登记)."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: registrations.change_registration(session, principal, loan_id, patent_id, body, today=today, now=now),
    )


@router.post("/{loan_id}/disposal", response_model=LoanPublic)
def report_disposal(
    loan_id: str,
    body: DisposalReport,
    session: SessionDep,
    principal: BankDep,
    today: TodayDep,
    now: NowDep,
    once: KeyOptionalDep,
) -> Response:
    """A defaulted loan's patents go into disposal, or were disposed of (which releases them)."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: pledge_life.report_disposal(session, principal, loan_id, body, today=today, now=now),
    )


@router.post("/{loan_id}/release", response_model=LoanPublic)
def release_loan(
    loan_id: str,
    body: ReleaseRequest,
    session: SessionDep,
    principal: BankDep,
    today: TodayDep,
    now: NowDep,
    once: KeyOptionalDep,
) -> Response:
    """Release a defaulted loan's patents without disposal, giving the reason."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: pledge_life.release_loan(session, principal, loan_id, body, today=today, now=now),
    )
