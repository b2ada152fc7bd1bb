"""Patent valuations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.auth import Principal
from service.db.tables import Valuation
from service.deps import BundleDep, ConfigDep, KeyOptionalDep, LangDep, SessionDep, require
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
Writer = Annotated[Principal, Depends(require("bank", "insurer"))]
Reader = Annotated[Principal, Depends(require("bank", "insurer", "regulator"))]


@router.post("", status_code=201, response_model=ValuationResponse)
def create_valuation(
    body: ValuationRequest,
    session: SessionDep,
    principal: Writer,
    bundle: BundleDep,
    config: ConfigDep,
    lang: LangDep,
    request: Request,
    once: KeyOptionalDep,
) -> Response:
    """Value one or more patents: P10/P50/P90, income approach, scores, stars, checks, reasons."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: (
            uc.create_valuation(
                session,
                principal,
                bundle,
                config,
                body,
                lang=lang,
                metrics=request.app.state.metrics,
            ).json
        ),
    )


@router.get("/{valuation_id}", response_model=ValuationResponse)
def get_valuation(valuation_id: str, session: SessionDep, principal: Reader) -> ModelResponse:
    """A stored valuation, as it was returned."""
    return ModelResponse(uc.get_valuation(session, principal, valuation_id))


@router.get("", response_model=Page)
def list_valuations(
    session: SessionDep,
    principal: Reader,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ModelResponse:
    """The caller's valuations, newest first, filtered by creation date."""
    return ModelResponse(
        uc.list_results(session, principal, Valuation, since=since, until=until, limit=limit, offset=offset)
    )
