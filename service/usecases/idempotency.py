"""Idempotent writes: the same ``Idempotency-Key`` and body give the same answer, and the effect happens once.

A keyed request runs in the request's one transaction:

1. **look up** (institution, key): a stored answer for the same request
   (sha256 of method, route template, path parameters and the parsed body) is
   replayed — same status, same bytes — and nothing is written; a stored
   answer for a different request is a 409 naming ``Idempotency-Key``;
2. **claim** the key with ``INSERT … ON CONFLICT DO NOTHING``.  The unique
   constraint on (institution, key) decides a race between replicas:
   PostgreSQL makes the second insert wait until the first transaction ends
   and then inserts nothing (it committed) or inserts (it rolled back);
   SQLite has one writer at a time.  The loser reads the winner's answer (1);
3. **run** the use case and store its status and JSON on the claimed row.
   The session dependency commits row and effect together: an answer is
   stored if and only if its effect is.

A request that fails (4xx or 5xx) rolls back and stores nothing, so a retry
runs again and may succeed once the state allows it.  Keys belong to an
institution: the same key sent by two banks names two unrelated requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.auth import Principal
from service.db.idempotency_tables import IdempotencyRecord
from service.db.tables import utcnow
from service.errors import Conflict

HEADER = "Idempotency-Key"
# How long an answer is kept for replay at least; the service purges older ones hourly (purge_expired).
RETENTION = timedelta(days=30)
_TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__ (set by SQLAlchemy's declarative base)
# Both dialects' INSERT … ON CONFLICT DO NOTHING, by dialect name.
_INSERTS: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}

Result = BaseModel | str  # a model, or JSON text the use case already serialised


@dataclass(frozen=True)
class Call:
    """One request as idempotency sees it: its key (None: not sent), route and status on success."""

    key: str | None
    method: str
    route: str
    params: Mapping[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class Answer:
    """A response to send: status and JSON text; ``replayed`` when it is a stored one."""

    status: int
    body: str
    replayed: bool = False


def request_sha256(call: Call, body: BaseModel | None) -> str:
    """sha256 of what makes two requests "the same": method, route template, path parameters, parsed body."""
    blob = json.dumps(
        {
            "method": call.method,
            "route": call.route,
            "params": dict(call.params),
            "body": body.model_dump(mode="json") if body is not None else None,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def once(
    session: Session, principal: Principal, call: Call, body: BaseModel | None, action: Callable[[], Result]
) -> Answer:
    """Run ``action`` once per (institution, key); replay its stored answer to a retry with the same request."""
    if call.key is None:
        return Answer(call.status, _text(action()))
    digest = request_sha256(call, body)
    stored = _stored(session, principal.institution, call.key, digest)
    if stored is not None:
        return stored
    if not _claim(session, principal.institution, call, digest):
        # another transaction committed this key after our look-up: its answer is the answer
        stored = _stored(session, principal.institution, call.key, digest)
        if stored is None:
            raise Conflict(f"a request with this {HEADER} is in progress; retry it", field=HEADER)
        return stored
    answer = Answer(call.status, _text(action()))
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.institution == principal.institution, _TABLE.c.key == call.key)
        .values(status_code=answer.status, response=answer.body)
    )
    return answer


def _text(result: Result) -> str:
    return result if isinstance(result, str) else result.model_dump_json()


def _stored(session: Session, institution: str, key: str, digest: str) -> Answer | None:
    row = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.institution == institution, IdempotencyRecord.key == key)
    ).first()
    if row is None:
        return None
    if row.request_sha256 != digest:
        raise Conflict(
            f"this {HEADER} was used for a different request ({row.method} {row.route}, "
            "another body or another record): send a new key",
            field=HEADER,
        )
    if row.status_code == 0:  # only visible if a future change commits the claim early
        raise Conflict(f"a request with this {HEADER} is in progress; retry it", field=HEADER)
    return Answer(row.status_code, row.response, replayed=True)


def _claim(session: Session, institution: str, call: Call, digest: str) -> bool:
    """Insert the key's row unless one exists; True if this transaction now owns the key."""
    insert = _INSERTS[session.get_bind().dialect.name]
    stmt = insert(_TABLE).values(
        institution=institution,
        key=call.key,
        method=call.method,
        route=call.route[:200],
        request_sha256=digest,
        status_code=0,
        response="",
        created_at=utcnow(),
    )
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … RETURNING, inserted or not
    inserted = session.execute(
        stmt.on_conflict_do_nothing(index_elements=["institution", "key"]).returning(_TABLE.c.id)
    ).first()
    return inserted is not None


def purge_expired(engine: Engine) -> int:
    """Delete the answers past :data:`RETENTION` in their own transaction (the service runs it hourly)."""
    with Session(engine) as session:
        n = purge_older_than(session, before=utcnow() - RETENTION)
        session.commit()
    return n


def purge_older_than(session: Session, *, before: datetime) -> int:
    """Delete stored answers created before ``before`` (e.g. ``utcnow() - RETENTION``); return how many."""
    result = session.execute(delete(_TABLE).where(_TABLE.c.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]  # Session.execute is typed Result; an UPDATE/DELETE returns a CursorResult
