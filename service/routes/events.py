"""Legal-status events of pledged patents (docs/after-booking.md)."""

from __future__ import annotations

from fastapi import Response

from service.deps import EventSenderDep, NowDep, OnceDep, SessionDep, TodayDep, WatchDep
from service.routing import api_router
from service.schemas.events import EventCreate, EventPublic
from service.usecases import watch

router = api_router("/v1/patents", "events", 401, 403, 404, 409, 422, 503)


@router.post("/{patent_id}/events", status_code=201, response_model=EventPublic)
def record_event(
    patent_id: str,
    body: EventCreate,
    session: SessionDep,
    principal: EventSenderDep,
    today: TodayDep,
    now: NowDep,
    once: OnceDep,
    ctx: WatchDep,
) -> Response:
    """Record a legal-status event of a patent (once per event id); the facts and the loan's alerts follow it."""
    return once.run(
        principal, body, lambda: watch.record_event(session, principal, ctx, patent_id, body, today=today, now=now)
    )
