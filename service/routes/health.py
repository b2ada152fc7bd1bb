"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.deps import MetricsDep, OpsDetailsDep, OpsReaderDep, StateDep
from service.errors import error_responses
from service.routing import UnitOfWorkRoute
from service.usecases.health import readiness

router = APIRouter(tags=["operations"], route_class=UnitOfWorkRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    # async: liveness must not wait for a free worker thread when every one is busy scoring.
    return {"status": "ok"}


@router.get("/readyz", responses=error_responses(401, 422))
def readyz(state: StateDep, show_details: OpsDetailsDep) -> JSONResponse:
    """Readiness: database reachable and models loaded; details for a regulator or data-team key."""
    ready, details = readiness(state.engine, state.models, state.monitor.details())
    body: dict[str, object] = {"status": "ready" if ready else "not ready"}
    if show_details:
        body["details"] = details
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep, _: OpsReaderDep) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
