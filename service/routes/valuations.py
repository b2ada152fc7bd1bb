"""Patent valuations."""

from __future__ import annotations

from fastapi import Response

from service.db.tables import Valuation
from service.deps import CreatedWindowDep, OnceDep, ScorerDep, ScoringDep, ScoringReaderDep, SessionDep
from service.responses import ModelResponse
from service.routing import api_router
from service.schemas.scoring import Page, ValuationRequest, ValuationResponse
from service.usecases import scoring as uc

router = api_router("/v1/valuations", "valuations", 401, 403, 404, 409, 422, 503)


@router.post("", status_code=201, response_model=ValuationResponse)
def create_valuation(
    body: ValuationRequest, session: SessionDep, principal: ScorerDep, scoring: ScoringDep, once: OnceDep
) -> Response:
    """Value one or more patents: P10/P50/P90, income approach, scores, stars, checks, reasons."""
    return once.run(principal, body, lambda: uc.create_valuation(session, principal, scoring, body).json)


@router.get("/{valuation_id}", response_model=ValuationResponse)
def get_valuation(valuation_id: str, session: SessionDep, principal: ScoringReaderDep) -> ModelResponse:
    """A stored valuation, as it was returned."""
    return ModelResponse(uc.get_valuation(session, principal, valuation_id))


@router.get("", response_model=Page)
def list_valuations(session: SessionDep, principal: ScoringReaderDep, window: CreatedWindowDep) -> ModelResponse:
    """The caller's valuations, newest first, filtered by creation date."""
    return ModelResponse(uc.list_results(session, principal, Valuation, window))
