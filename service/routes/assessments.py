"""Pledge-loan assessments."""

from __future__ import annotations

from fastapi import Response

from service.db.tables import Assessment
from service.deps import (
    CreatedWindowDep,
    OnceDep,
    ScorerDep,
    ScoringDep,
    ScoringReaderDep,
    SessionDep,
    SettingsDep,
)
from service.responses import ModelResponse
from service.routing import api_router
from service.schemas.scoring import AssessmentRequest, AssessmentResponse, BatchRequest, BatchResponse, Page
from service.usecases import scoring as uc

router = api_router("/v1/assessments", "assessments", 401, 403, 404, 409, 422, 503)


@router.post("", status_code=201, response_model=AssessmentResponse)
def create_assessment(
    body: AssessmentRequest, session: SessionDep, principal: ScorerDep, scoring: ScoringDep, once: OnceDep
) -> Response:
    """Assess a pledge-loan application: PD, grade, LGD, EL, maximum loan, decision, reasons."""
    return once.run(principal, body, lambda: uc.create_assessment(session, principal, scoring, body).json)


@router.post("/batch", response_model=BatchResponse)
def create_batch(
    body: BatchRequest,
    session: SessionDep,
    principal: ScorerDep,
    scoring: ScoringDep,
    settings: SettingsDep,
    once: OnceDep,
) -> Response:
    """Assess several applications; each item succeeds or fails on its own."""
    return once.run(
        principal, body, lambda: uc.create_batch(session, principal, scoring, body, max_items=settings.batch_max_items)
    )


@router.get("/{assessment_id}", response_model=AssessmentResponse)
def get_assessment(assessment_id: str, session: SessionDep, principal: ScoringReaderDep) -> ModelResponse:
    """A stored assessment, as it was returned."""
    return ModelResponse(uc.get_assessment(session, principal, assessment_id))


@router.get("", response_model=Page)
def list_assessments(session: SessionDep, principal: ScoringReaderDep, window: CreatedWindowDep) -> ModelResponse:
    """The caller's assessments, newest first, filtered by creation date."""
    return ModelResponse(uc.list_results(session, principal, Assessment, window))
