"""Disposal cases of defaulted loans' pledged patents (docs/after-booking.md)."""

from __future__ import annotations

from fastapi import Response

from service.deps import DisposerDep, FundReaderDep, NowDep, OnceDep, SessionDep, TodayDep, WatchDep
from service.routing import api_router
from service.schemas.disposals import DisposalOpen, DisposalPublic, DisposalStepCreate
from service.usecases import disposals

router = api_router("/v1", "disposals", 401, 403, 404, 409, 422, 503)


@router.post("/loans/{loan_id}/disposal-case", status_code=201, response_model=DisposalPublic)
def open_case(
    loan_id: str,
    body: DisposalOpen,
    session: SessionDep,
    principal: DisposerDep,
    ctx: WatchDep,
    today: TodayDep,
    now: NowDep,
    once: OnceDep,
) -> Response:
    """Open the disposal of a defaulted loan's patents, with a suggested reserve price from the valuation."""
    return once.run(
        principal,
        body,
        lambda: disposals.open_case(session, principal, ctx, loan_id, body, today=today, now=now),
    )


@router.get("/loans/{loan_id}/disposal-case", response_model=DisposalPublic)
def case_of_loan(loan_id: str, session: SessionDep, principal: FundReaderDep) -> DisposalPublic:
    """The disposal case of a loan."""
    return disposals.case_of_loan(session, principal, loan_id)


@router.post("/disposals/{case_id}/steps", response_model=DisposalPublic)
def add_step(
    case_id: str,
    body: DisposalStepCreate,
    session: SessionDep,
    principal: DisposerDep,
    today: TodayDep,
    now: NowDep,
    once: OnceDep,
) -> Response:
    """The case's next step: list, a failed round (流拍, price cut 20%), sold, licensed, a cost, or close."""
    return once.run(
        principal, body, lambda: disposals.add_step(session, principal, case_id, body, today=today, now=now)
    )


@router.get("/disposals/{case_id}", response_model=DisposalPublic)
def get_case(case_id: str, session: SessionDep, principal: FundReaderDep) -> DisposalPublic:
    """A disposal case with its steps."""
    return disposals.get_case(session, principal, case_id)
