"""IP insurance quotes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import ConfigDep, KeyOptionalDep, NowDep, ScorerDep, ScoringReaderDep, SessionDep
from service.errors import error_responses
from service.responses import run_once
from service.routing import UnitOfWorkRoute
from service.schemas.insurance import QuoteRequest, QuoteResponse
from service.usecases import insurance as uc

router = APIRouter(
    prefix="/v1/insurance",
    tags=["insurance"],
    route_class=UnitOfWorkRoute,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)


@router.post("/quotes", status_code=201, response_model=QuoteResponse)
def create_quote(
    body: QuoteRequest,
    session: SessionDep,
    principal: ScorerDep,
    config: ConfigDep,
    now: NowDep,
    once: KeyOptionalDep,
) -> Response:
    """Quote pledge-guarantee insurance for an assessment, or patent-enforcement insurance for patents."""
    return run_once(session, principal, once, body, lambda: uc.create_quote(session, principal, config, body, now=now))


@router.get("/quotes/{quote_id}")
def get_quote(quote_id: str, session: SessionDep, principal: ScoringReaderDep) -> QuoteResponse:
    """A stored quote."""
    return uc.get_quote(session, principal, quote_id)
