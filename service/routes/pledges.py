"""The pledge life of a booked loan: registrations with CNIPA, disposal and release (docs/pledge-life.md)."""

from __future__ import annotations

from fastapi import Response

from service.deps import BankWriteDep
from service.routing import api_router
from service.schemas.loans import LoanPublic
from service.schemas.pledges import DisposalReport, RegistrationChange, RegistrationCreate, ReleaseRequest
from service.usecases import pledge_life, registrations

router = api_router("/v1/loans", "loans", 401, 403, 404, 409, 422)


@router.post("/{loan_id}/registrations", status_code=201, response_model=LoanPublic)
def record_registrations(loan_id: str, body: RegistrationCreate, w: BankWriteDep) -> Response:
    """Record the CNIPA registration (or application) of the pledge of the loan's patents."""
    return w.run(
        body,
        lambda: registrations.record_registrations(w.session, w.principal, loan_id, body, today=w.today, now=w.now),
    )


@router.post("/{loan_id}/registrations/{patent_id}/changes", response_model=LoanPublic)
def change_registration(loan_id: str, patent_id: str, body: RegistrationChange, w: BankWriteDep) -> Response:
    """The next step of one patent's registration: registered after application, or changed (变更登记)."""
    return w.run(
        body,
        lambda: registrations.change_registration(
            w.session, w.principal, loan_id, patent_id, body, today=w.today, now=w.now
        ),
    )


@router.post("/{loan_id}/disposal", response_model=LoanPublic)
def report_disposal(loan_id: str, body: DisposalReport, w: BankWriteDep) -> Response:
    """A defaulted loan's patents go into disposal, or were disposed of (which releases them)."""
    return w.run(
        body, lambda: pledge_life.report_disposal(w.session, w.principal, loan_id, body, today=w.today, now=w.now)
    )


@router.post("/{loan_id}/release", response_model=LoanPublic)
def release_loan(loan_id: str, body: ReleaseRequest, w: BankWriteDep) -> Response:
    """Release a defaulted loan's patents without disposal, giving the reason."""
    return w.run(
        body, lambda: pledge_life.release_loan(w.session, w.principal, loan_id, body, today=w.today, now=w.now)
    )
