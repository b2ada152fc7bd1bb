"""IP insurance quotes."""

from __future__ import annotations

from fastapi import Response

from service.deps import ConfigDep, LangDep, NowDep, OnceDep, ScorerDep, ScoringReaderDep, SessionDep
from service.routing import api_router
from service.schemas.insurance import QuoteRequest, QuoteResponse
from service.usecases import insurance as uc

router = api_router("/v1/insurance", "insurance", 401, 403, 404, 409, 422, 503)


@router.post("/quotes", status_code=201, response_model=QuoteResponse)
def create_quote(
    body: QuoteRequest,
    session: SessionDep,
    principal: ScorerDep,
    config: ConfigDep,
    now: NowDep,
    once: OnceDep,
    lang: LangDep,
) -> Response:
    """Quote pledge-guarantee insurance for an assessment, or patent-enforcement insurance for patents."""
    return once.run(principal, body, lambda: uc.create_quote(session, principal, config, body, now=now, lang=lang))


@router.get("/quotes/{quote_id}")
def get_quote(quote_id: str, session: SessionDep, principal: ScoringReaderDep) -> QuoteResponse:
    """A stored quote."""
    return uc.get_quote(session, principal, quote_id)
