"""API types of legal-status events and a patent's current facts (docs/after-booking.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from scoring.legal_events import EventType, LegalEvent, LegalFacts

ClientEventId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The sender's own id of the event: the same id with the same body is the same event (answered "
        "again, nothing written); with another body it is a 409.",
    ),
]


class EventCreate(BaseModel):
    """One legal-status event of a patent, typed by ``event.type``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "cnipa-2026-000123",
                    "event": {
                        "type": "fee_due",
                        "on": "2026-11-01",
                        "fee_year": 6,
                        "due_date": "2026-12-15",
                        "amount_cny": "1200.00",
                    },
                },
                {
                    "event_id": "cnipa-2026-000124",
                    "event": {
                        "type": "invalidation_decided",
                        "on": "2026-11-20",
                        "case_number": "4W123456",
                        "outcome": "wholly_invalidated",
                    },
                },
                {
                    "event_id": "bank-a-77",
                    "event": {"type": "licensed", "on": "2026-10-08", "kind": "open", "royalty_rate": 0.03},
                },
            ]
        },
    )
    event_id: ClientEventId
    event: LegalEvent


class EventPublic(BaseModel):
    """A stored event, and the patent's current facts after it (None while no active loan pledges the patent)."""

    id: int
    event_id: str
    patent_id: str
    type: EventType
    on: date
    event: LegalEvent
    recorded_by: str = Field(description="The sender's institution.")
    recorded_at: datetime
    facts: LegalFacts | None


class EventImportResult(BaseModel):
    """What a bulk import did: events recorded, replayed (already stored) and refused with their reasons."""

    recorded: int
    replayed: int
    refused: list[dict[str, str]]
