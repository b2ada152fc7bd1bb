"""Legal-status events of pledged patents: validate, store once per client event id, audit, replay the facts.

A patent's current facts (``patent_facts``) are its **seed** — the facts of the
assessment behind the active loan that pledges it, as of that assessment's date —
with every event dated after that day applied in date order
(:func:`scoring.legal_events.apply_event`).  They are replayed from the stored
events after each new one, so an event that arrives late still lands in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, col, select

from scoring.legal_events import EVENT_TYPES, EventRefused, LegalEvent, LegalFacts, apply_event, check_event
from scoring.patent_ids import PatentIdError
from scoring.types import PATENT_ID_CONTEXT, Patent
from service.auth import Principal
from service.db import audit
from service.db.tables import Assessment, Loan, LoanPatent, Valuation
from service.db.watch_tables import PatentEventRow, PatentFacts
from service.errors import Conflict, InvalidInput, NotFound, field_problem
from service.patent_ids import canonical_stored_id, patent_id_mode
from service.schemas.events import EventCreate, EventPublic
from service.schemas.scoring import AssessmentRequest, ValuationRequest

EVENT = TypeAdapter[LegalEvent](LegalEvent)
LIVE_STATUSES = ("active", "defaulted")
"""Loans whose patents the watch follows: booked and not repaid (a defaulted loan's patents stay pledged)."""


def canonical(patent_id: str, *, field: str = "patent_id") -> str:
    """The canonical form of a patent id from a path (422 naming ``field`` if it is no patent number)."""
    try:
        return canonical_stored_id(patent_id)
    except PatentIdError as exc:
        raise InvalidInput(f"patent id {exc.problem}", field=field) from exc


def pledging_loan(session: Session, patent_id: str) -> Loan | None:
    """The active or defaulted loan that pledges ``patent_id`` now (one active pledge per patent), if any.

    Only the patent's id is asked of the database (its few pledges over time are filtered here):
    SQLite without statistics otherwise walks the index on ``active``, which holds every live pledge
    (35 ms a patent in a 200,000-patent book, docs/performance.md).
    """
    pledges = session.exec(
        select(Loan, LoanPatent.active)
        .join(LoanPatent, col(LoanPatent.loan_id) == col(Loan.id))
        .where(col(LoanPatent.patent_id) == patent_id)
    ).all()
    return next((loan for loan, active in pledges if active and loan.status in LIVE_STATUSES), None)


def _assessment_patents(session: Session, a: Assessment) -> list[dict[str, Any]]:
    patents = a.request.get("patents")
    if patents is None and a.valuation_id:
        v = session.get(Valuation, a.valuation_id)
        patents = v.request["patents"] if v is not None else []
    return list(patents or [])


def seed_facts(session: Session, loan: Loan) -> dict[str, LegalFacts]:
    """The loan's patents as its assessment stated them, by canonical id (the seeds of their facts)."""
    a = session.get(Assessment, loan.assessment_id)
    if a is None:
        return {}
    revenue = (a.request.get("borrower") or {}).get("revenue_cny")
    out = {}
    for raw in _assessment_patents(session, a):
        patent = Patent.model_validate(raw, context={PATENT_ID_CONTEXT: patent_id_mode()})
        out[patent.patent_id] = LegalFacts(patent=patent, owner_revenue_cny=revenue)
    return out


def events_of(session: Session, patent_id: str, *, after: date, until: date | None = None) -> list[LegalEvent]:
    """The patent's stored events dated after ``after`` (and up to ``until``), in date order."""
    q = select(PatentEventRow).where(
        col(PatentEventRow.patent_id) == patent_id, col(PatentEventRow.occurred_on) > after
    )
    if until is not None:
        q = q.where(col(PatentEventRow.occurred_on) <= until)
    rows = session.exec(q.order_by(col(PatentEventRow.occurred_on), col(PatentEventRow.id))).all()
    return [EVENT.validate_python(r.body) for r in rows]


def replay(seed: LegalFacts, events: Sequence[LegalEvent]) -> LegalFacts:
    """``seed`` with ``events`` applied in order."""
    facts = seed
    for e in events:
        facts = apply_event(facts, e)
    return facts


def facts_as_of(session: Session, loan: Loan, as_of: date) -> list[LegalFacts]:
    """The loan's patents' facts on ``as_of``: their seeds with the events dated up to that day."""
    a = session.get(Assessment, loan.assessment_id)
    seeds = seed_facts(session, loan)
    after = a.as_of if a is not None else loan.origination_date
    return [replay(s, events_of(session, pid, after=after, until=as_of)) for pid, s in seeds.items()]


def refresh_facts(session: Session, patent_id: str) -> LegalFacts | None:
    """Replay the current facts of ``patent_id`` (None, and nothing stored, while no live loan pledges it)."""
    loan = pledging_loan(session, patent_id)
    if loan is None:
        return None
    a = session.get(Assessment, loan.assessment_id)
    seed = seed_facts(session, loan).get(patent_id)
    if a is None or seed is None:
        return None
    facts = replay(seed, events_of(session, patent_id, after=a.as_of))
    row = session.get(PatentFacts, patent_id) or PatentFacts(patent_id=patent_id, loan_id=loan.id, seed_as_of=a.as_of)
    row.loan_id, row.seed_as_of, row.facts = loan.id, a.as_of, facts.model_dump(mode="json")
    row.updated_at = datetime.now(UTC)
    session.add(row)
    return facts


def _authorised(session: Session, principal: Principal, patent_id: str) -> None:
    """A bank sends events only for patents it holds as collateral on a live loan; the data feed for any."""
    if principal.role == "data_feed":
        return
    loan = pledging_loan(session, patent_id)
    if loan is None or loan.institution != principal.institution:
        raise NotFound(f"no patent {patent_id} pledged to one of your active or defaulted loans", field="patent_id")


def _checked(req: EventCreate, today: date) -> None:
    if req.event.on > today:
        raise InvalidInput(f"{req.event.on} is after today ({today}, Beijing)", field="event.on")
    try:
        check_event(req.event)
    except EventRefused as exc:
        raise InvalidInput(exc.problem, field=f"event.{exc.field}") from exc


def _public(row: PatentEventRow, facts: LegalFacts | None) -> EventPublic:
    return EventPublic(
        id=row.id or 0,
        event_id=row.event_id,
        patent_id=row.patent_id,
        type=EVENT.validate_python(row.body).type,
        on=row.occurred_on,
        event=EVENT.validate_python(row.body),
        recorded_by=row.institution,
        recorded_at=row.at.replace(tzinfo=UTC),
        facts=facts,
    )


def stored_facts(session: Session, patent_id: str) -> LegalFacts | None:
    """The patent's current facts as last replayed (None if none are kept)."""
    row = session.get(PatentFacts, patent_id)
    return LegalFacts.model_validate(row.facts) if row is not None else None


def record_event(
    session: Session, principal: Principal, patent_id: str, req: EventCreate, *, today: date, now: datetime
) -> EventPublic:
    """Store one event once per (institution, event id), audit it and replay the patent's current facts."""
    pid = canonical(patent_id)
    _authorised(session, principal, pid)
    _checked(req, today)
    body = req.event.model_dump(mode="json")
    same = session.exec(
        select(PatentEventRow).where(
            PatentEventRow.institution == principal.institution, PatentEventRow.event_id == req.event_id
        )
    ).first()
    if same is not None:
        if same.patent_id != pid or same.body != body:
            raise Conflict(f"event {req.event_id} was recorded with another body", field="event_id")
        return _public(same, stored_facts(session, pid))
    row = PatentEventRow(
        event_id=req.event_id,
        patent_id=pid,
        type=req.event.type,
        occurred_on=req.event.on,
        body=body,
        institution=principal.institution,
        role=principal.role,
        key_id=principal.key_id,
        at=now,
    )
    session.add(row)
    session.flush()
    audit.append_by(
        session,
        principal,
        action=f"patent.event.{req.event.type}",
        resource_type="patent",
        resource_id=pid,
        detail={"event_id": req.event_id, "on": req.event.on.isoformat(), "row": row.id},
    )
    return _public(row, refresh_facts(session, pid))


def parse_event(raw: dict[str, Any]) -> tuple[str, EventCreate]:
    """A bulk-import record (``patent_id`` beside the event fields) as (patent id, event); ValueError: a bad field."""
    record = {k: v for k, v in raw.items() if v not in ("", None)}
    pid = str(record.pop("patent_id", ""))
    event_id = record.pop("event_id", None)
    try:
        return pid, EventCreate.model_validate({"event_id": event_id, "event": record})
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [part for part in error.get("loc", ()) if part not in EVENT_TYPES]  # drop the union's tag
        field, problem = field_problem({**error, "loc": tuple(loc)})
        raise EventRefused(field, problem) from exc


# What a valuation request's patent takes from the registry's facts: the legal state as it stands
# (idempotent fields), the counts never below what the events recorded, the claims never above.
_STATE_FIELDS = (
    "legal_status",
    "fees_up_to_date",
    "invalidation_pending",
    "ownership_dispute",
    "preservation_order",
    "owner_id",
    "owner_type",
)
_COUNT_FIELDS = (
    "annual_fees_paid_years",
    "invalidation_requests",
    "litigation_count",
    "transfers_count",
    "licences_count",
)
_CLAIM_FIELDS = ("claims_count", "independent_claims")


def _facts_on(session: Session, row: PatentFacts, as_of: date) -> LegalFacts:
    """The stored facts, or replayed up to ``as_of`` when an event is dated after it."""
    facts = LegalFacts.model_validate(row.facts)
    if facts.last_event_on is None or facts.last_event_on <= as_of:
        return facts
    loan = session.get(Loan, row.loan_id)
    seed = seed_facts(session, loan).get(row.patent_id) if loan is not None else None
    if seed is None:
        return facts
    return replay(seed, events_of(session, row.patent_id, after=row.seed_as_of, until=as_of))


def current_patent(patent: Patent, facts: LegalFacts) -> Patent:
    """``patent`` as a request states it, with what the recorded events established (unchanged without events)."""
    if facts.last_event_on is None:
        return patent
    known = facts.patent
    update: dict[str, Any] = {f: getattr(known, f) for f in _STATE_FIELDS}
    update |= {f: max(getattr(patent, f), getattr(known, f)) for f in _COUNT_FIELDS}
    for f in _CLAIM_FIELDS:
        mine, theirs = getattr(patent, f), getattr(known, f)
        if mine is not None and theirs is not None:
            update[f] = min(mine, theirs)
    try:
        return Patent.model_validate({**patent.model_dump(), **update}, context={PATENT_ID_CONTEXT: patent_id_mode()})
    except ValidationError:
        return patent  # the request's own facts contradict the registry's shape (e.g. no grant date): kept as sent


def with_current_facts(session: Session, patents: Sequence[Patent], *, as_of: date) -> list[Patent]:
    """The request's patents with the facts the recorded legal-status events established by ``as_of``."""
    ids = [p.patent_id for p in patents]
    rows = {r.patent_id: r for r in session.exec(select(PatentFacts).where(col(PatentFacts.patent_id).in_(ids))).all()}
    if not rows:
        return list(patents)
    return [
        current_patent(p, _facts_on(session, rows[p.patent_id], as_of)) if p.patent_id in rows else p for p in patents
    ]


def current_valuation(session: Session, req: ValuationRequest, *, today: date) -> ValuationRequest:
    """A valuation request whose patents carry what the recorded events established by its date."""
    patents = with_current_facts(session, req.patents, as_of=req.context.as_of or today)
    return req if patents == req.patents else req.model_copy(update={"patents": patents})


def current_assessment(session: Session, req: AssessmentRequest, *, today: date) -> AssessmentRequest:
    """An assessment request whose patents carry what the recorded events established by its date."""
    if req.patents is None:
        return req
    patents = with_current_facts(session, req.patents, as_of=req.as_of or today)
    return req if patents == req.patents else req.model_copy(update={"patents": patents})
