"""Patent valuations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.db.tables import Valuation
from service.deps import CreatedWindowDep, KeyOptionalDep, ScorerDep, ScoringDep, ScoringReaderDep, SessionDep
from service.errors import error_responses
from service.responses import ModelResponse, run_once
from service.routing import UnitOfWorkRoute
from service.schemas.scoring import Page, ValuationRequest, ValuationResponse
from service.usecases import scoring as uc

router = APIRouter(
    prefix="/v1/valuations",
    tags=["valuations"],
    route_class=UnitOfWorkRoute,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)


@router.post("", status_code=201, response_model=ValuationResponse)
def create_valuation(
    body: ValuationRequest, session: SessionDep, principal: ScorerDep, scoring: ScoringDep, once: KeyOptionalDep
) -> Response:
    """Value one or more patents: P10/P50/P90, income approach, scores, stars, checks, reasons."""
    return run_once(session, principal, once, body, lambda: uc.create_valuation(session, principal, scoring, body).json)


@router.get("/{valuation_id}", response_model=ValuationResponse)
def get_valuation(valuation_id: str, session: SessionDep, principal: ScoringReaderDep) -> ModelResponse:
    """A stored valuation, as it was returned."""
    return ModelResponse(uc.get_valuation(session, principal, valuation_id))


@router.get("", response_model=Page)
def list_valuations(session: SessionDep, principal: ScoringReaderDep, window: CreatedWindowDep) -> ModelResponse:
    """The caller's valuations, newest first, filtered by creation date."""
    return ModelResponse(uc.list_results(session, principal, Valuation, window))
