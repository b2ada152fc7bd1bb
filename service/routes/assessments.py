"""Pledge-loan assessments."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.auth import Principal
from service.db.tables import Assessment
from service.deps import BundleDep, ConfigDep, KeyOptionalDep, LangDep, SessionDep, SettingsDep, require
from service.errors import error_responses
from service.responses import ModelResponse, run_once
from service.routing import UnitOfWorkRoute
from service.schemas.scoring import AssessmentRequest, AssessmentResponse, BatchRequest, BatchResponse, Page
from service.usecases import scoring as uc

router = APIRouter(
    prefix="/v1/assessments",
    tags=["assessments"],
    route_class=UnitOfWorkRoute,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
Writer = Annotated[Principal, Depends(require("bank", "insurer"))]
Reader = Annotated[Principal, Depends(require("bank", "insurer", "regulator"))]


@router.post("", status_code=201, response_model=AssessmentResponse)
def create_assessment(
    body: AssessmentRequest,
    session: SessionDep,
    principal: Writer,
    bundle: BundleDep,
    config: ConfigDep,
    lang: LangDep,
    request: Request,
    once: KeyOptionalDep,
) -> Response:
    """Assess a pledge-loan application: PD, grade, LGD, EL, maximum loan, decision, reasons."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: (
            uc.create_assessment(
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


@router.post("/batch", response_model=BatchResponse)
def create_batch(
    body: BatchRequest,
    session: SessionDep,
    principal: Writer,
    bundle: BundleDep,
    config: ConfigDep,
    lang: LangDep,
    settings: SettingsDep,
    request: Request,
    once: KeyOptionalDep,
) -> Response:
    """Assess several applications; each item succeeds or fails on its own."""
    return run_once(
        session,
        principal,
        once,
        body,
        lambda: uc.create_batch(
            session,
            principal,
            bundle,
            config,
            body,
            lang=lang,
            metrics=request.app.state.metrics,
            max_items=settings.batch_max_items,
        ),
    )


@router.get("/{assessment_id}", response_model=AssessmentResponse)
def get_assessment(assessment_id: str, session: SessionDep, principal: Reader) -> ModelResponse:
    """A stored assessment, as it was returned."""
    return ModelResponse(uc.get_assessment(session, principal, assessment_id))


@router.get("", response_model=Page)
def list_assessments(
    session: SessionDep,
    principal: Reader,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ModelResponse:
    """The caller's assessments, newest first, filtered by creation date."""
    return ModelResponse(
        uc.list_results(session, principal, Assessment, since=since, until=until, limit=limit, offset=offset)
    )
