"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.routing import UnitOfWorkRoute
from service.usecases.health import readiness

router = APIRouter(tags=["operations"], route_class=UnitOfWorkRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    # async: liveness must not wait for a free worker thread when every one is busy scoring.
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: database reachable and every model loaded; details say what is served."""
    state = request.app.state
    extra = getattr(state, "readiness_details", None)
    ready, details = readiness(state.engine, state.models, extra() if extra else None)
    return JSONResponse({"status": "ready" if ready else "not ready", "details": details},
                        status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
