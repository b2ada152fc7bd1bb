"""Loan outcomes reported by banks."""

from __future__ import annotations

from fastapi import Response

from service.deps import BankDep, NowDep, OnceDep, SessionDep, TodayDep
from service.routing import api_router
from service.schemas.regulator import OutcomeCreate, OutcomePublic
from service.usecases.outcomes import report_outcome

router = api_router("/v1/outcomes", "outcomes", 401, 403, 404, 409, 422)


@router.post("", status_code=201, response_model=OutcomePublic)
def create_outcome(
    body: OutcomeCreate, session: SessionDep, principal: BankDep, today: TodayDep, now: NowDep, once: OnceDep
) -> Response:
    """Report what happened to a booked loan (repaid, performing, default with NPL class); it moves the pledge."""
    return once.run(principal, body, lambda: report_outcome(session, principal, body, today=today, now=now))
