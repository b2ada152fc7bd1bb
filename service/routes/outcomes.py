"""Loan outcomes reported by banks."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import BankDep, KeyOptionalDep, NowDep, SessionDep, TodayDep
from service.errors import error_responses
from service.responses import run_once
from service.routing import UnitOfWorkRoute
from service.schemas.regulator import OutcomeCreate, OutcomePublic
from service.usecases.outcomes import report_outcome

router = APIRouter(
    prefix="/v1/outcomes",
    tags=["outcomes"],
    route_class=UnitOfWorkRoute,
    responses=error_responses(401, 403, 404, 409, 422),
)


@router.post("", status_code=201, response_model=OutcomePublic)
def create_outcome(
    body: OutcomeCreate, session: SessionDep, principal: BankDep, today: TodayDep, now: NowDep, once: KeyOptionalDep
) -> Response:
    """Report what happened to a booked loan (repaid, performing, default with NPL class); it moves the pledge."""
    return run_once(
        session, principal, once, body, lambda: report_outcome(session, principal, body, today=today, now=now)
    )
