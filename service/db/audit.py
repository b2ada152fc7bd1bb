"""The append-only, hash-chained audit log, appended without a shared row (docs/audit.md).

A request inserts its entry with a database-generated ``id`` and nothing else
that another transaction could be waiting for.  The sealer (:func:`seal`, one at
a time across replicas) later takes committed entries that have no chain
position yet, in ``id`` order, and gives each the next ``seq`` and
``prev_hash``/``hash``: sha256 over the previous hash and the entry's canonical
JSON.  The chain order is the sealing order, so an entry whose transaction
commits late simply gets a later ``seq``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, func, insert, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.core_tables import audit_row
from service.db.tables import AuditEntry, AuditHead

GENESIS = "0" * 64
# pg_try_advisory_xact_lock key: one sealer at a time across replicas ("iprisk audit seal").
SEAL_LOCK_KEY = 0x1A0D_5EA1_0000_0015
SEAL_BATCH = 1000

_HASHED = ("seq", "at", "key_id", "role", "institution", "action", "resource_type", "resource_id", "detail")


def entry_hash(prev_hash: str, entry: AuditEntry | Mapping[str, Any]) -> str:
    """sha256 of the previous hash and the entry's canonical content (a stored row or a new one)."""
    get = entry.get if isinstance(entry, Mapping) else entry.__getattribute__
    payload: dict[str, Any] = {name: get(name) for name in _HASHED}
    payload["at"] = payload["at"].isoformat(timespec="microseconds")
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + blob).encode()).hexdigest()


def ensure_head(session: Session) -> None:
    """Create the sealer's cursor row if the log is new (migration 0003 creates it too)."""
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, seq=0, last_hash=GENESIS))
        session.flush()


# SQLModel declares no __table__ (set by SQLAlchemy's declarative base): hence the ignores.
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
_LOG = AuditEntry.__table__  # type: ignore[attr-defined]
# Core statements, built once: the ORM's unit of work costs about 1 ms per request
# (benchmarks/profile_assessment.py) and the entry is never read back in the request.
_INSERT = insert(_LOG).returning(_LOG.c.id)
_ANY_UNSEALED = select(_LOG.c.id).where(_LOG.c.seq.is_(None)).limit(1)
_HEAD_FOR_UPDATE = select(_HEAD.c.seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
# SQLite: a write first, so the sealer holds the database's write lock before it reads the head.
_TOUCH_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq).returning(_HEAD.c.seq, _HEAD.c.last_hash)
_SET_CHAIN = (
    update(_LOG)
    .where(_LOG.c.id == bindparam("entry_id"), _LOG.c.seq.is_(None))
    .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash"))
)
_SET_HEAD = update(_HEAD).where(_HEAD.c.id == 1)


class Actor(Protocol):
    """Who acts: an API principal (its key, role and institution)."""

    @property
    def key_id(self) -> int | None: ...
    @property
    def role(self) -> str: ...
    @property
    def institution(self) -> str: ...


def append_by(
    session: Session,
    actor: Actor,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`append` an entry for what ``actor`` (an API principal) did."""
    return append(
        session,
        key_id=actor.key_id,
        role=actor.role,
        institution=actor.institution,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )


def append(
    session: Session,
    *,
    key_id: int | None,
    role: str,
    institution: str,
    action: str,
    resource_type: str,
    resource_id: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Insert one entry in the caller's transaction (executes, never commits); returns the stored row.

    The row has its database ``id``; ``seq`` and the hashes stay ``None`` until the sealer chains it.
    """
    # Pending ORM rows are flushed first, so the database's write order is the code's order.
    session.flush()
    row = audit_row(
        key_id=key_id,
        role=role,
        institution=institution,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )
    row["id"] = session.connection().execute(_INSERT, row).scalar_one()
    row.update(seq=None, prev_hash=None, hash=None)
    return row


def seal(engine: Engine, *, batch: int = SEAL_BATCH) -> int:
    """Chain every committed entry that has no ``seq`` yet; returns how many were sealed.

    Returns 0 at once when another sealer holds the lock (PostgreSQL): sealing is
    only delayed, and no request ever waits for a sealer.
    """
    total = 0
    while True:
        with engine.connect() as conn:
            if conn.execute(_ANY_UNSEALED).first() is None:
                return total
        with engine.begin() as conn:
            n = _seal_batch(conn, batch)
        if n is None:
            return total
        total += n
        if n < batch:
            return total


def _seal_batch(conn: Connection, batch: int) -> int | None:
    """Seal up to ``batch`` entries in this transaction; ``None`` if another sealer is at work."""
    if conn.dialect.name == "postgresql":
        if not conn.execute(select(func.pg_try_advisory_xact_lock(SEAL_LOCK_KEY))).scalar_one():
            return None
        # Only sealers touch these rows; a bounded wait all the same, never an unbounded one.
        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        seq, prev = conn.execute(_HEAD_FOR_UPDATE).one()
    else:
        seq, prev = conn.execute(_TOUCH_HEAD).one()
    # Committed entries only (READ COMMITTED / SQLite's snapshot); one still in flight is
    # picked up by a later run, after whatever was sealed meanwhile.
    rows = conn.execute(select(_LOG).where(_LOG.c.seq.is_(None)).order_by(_LOG.c.id).limit(batch)).mappings().all()
    if not rows:
        return 0
    chain = []
    for row in rows:
        seq += 1
        digest = entry_hash(prev, {**row, "seq": seq})
        chain.append({"entry_id": row["id"], "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(_SET_CHAIN, chain)
    conn.execute(_SET_HEAD, {"seq": seq, "last_hash": prev})
    return len(chain)


@dataclass(frozen=True)
class Anchor:
    """A chain position known from outside the database: entry ``seq`` had hash ``hash``."""

    seq: int
    hash: str
    source: str


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of recomputing the chain: ``entries`` sealed entries checked, the last one's ``head_hash``."""

    ok: bool
    entries: int
    first_broken_seq: int | None = None
    problem: str | None = None
    pending: int = 0
    head_hash: str = GENESIS


def verify_chain(
    session: Session, *, anchors: Iterable[Anchor] = (), start: Anchor | None = None, batch: int = 5000
) -> ChainCheck:
    """Recompute every hash in ``seq`` order up to the sealer's head; compare with ``anchors``.

    The head is read first: everything it counts was committed with it, so sealing
    going on meanwhile (another replica) cannot look like a gap.  ``start`` skips
    the entries up to an anchor already checked (its entry must still carry its
    hash).  Entries not sealed yet are counted in ``pending``, not judged.
    """
    conn = session.connection()
    head = conn.execute(select(_HEAD.c.seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1)).first()
    pending = conn.execute(select(func.count()).select_from(_LOG).where(_LOG.c.seq.is_(None))).scalar_one()
    known = {a.seq: a for a in anchors}
    prev, last_seq = GENESIS, 0
    if start is not None and start.seq > 0:
        if conn.execute(select(_LOG.c.hash).where(_LOG.c.seq == start.seq)).scalar() != start.hash:
            return ChainCheck(False, 0, start.seq, _rewritten(start), pending)
        prev, last_seq = start.hash, start.seq
    while True:
        query = select(AuditEntry).where(col(AuditEntry.seq) > last_seq)
        if head is not None:
            query = query.where(col(AuditEntry.seq) <= head.seq)
        rows = session.exec(query.order_by(col(AuditEntry.seq)).limit(batch)).all()
        for e in rows:
            problem = _link_problem(e, last_seq + 1, prev, known)
            if problem is not None:
                return ChainCheck(False, last_seq, problem[0], problem[1], pending, prev)
            prev, last_seq = e.hash or "", last_seq + 1
        if len(rows) < batch:
            break
    beyond = [a for a in known.values() if a.seq > last_seq]
    if beyond:
        a = max(beyond, key=lambda a: a.seq)
        return ChainCheck(
            False,
            last_seq,
            last_seq + 1,
            f"the log ends at entry {last_seq} but {a.source} recorded entry {a.seq}: it was truncated",
            pending,
            prev,
        )
    if head is not None and (head.seq != last_seq or head.last_hash != prev):
        return ChainCheck(
            False,
            last_seq,
            last_seq + 1 if head.seq > last_seq else last_seq,
            f"chain ends at entry {last_seq} but the head records {head.seq}",
            pending,
            prev,
        )
    return ChainCheck(True, last_seq, pending=pending, head_hash=prev)


def _rewritten(anchor: Anchor) -> str:
    return f"entry {anchor.seq} differs from {anchor.source}: the log was rewritten"


def _link_problem(e: AuditEntry, expected_seq: int, prev: str, anchors: Mapping[int, Anchor]) -> tuple[int, str] | None:
    """(seq, problem) if entry ``e`` does not continue the chain at ``expected_seq`` after ``prev``."""
    if e.seq != expected_seq:
        return expected_seq, f"entry {expected_seq} is missing"
    if e.prev_hash != prev:
        return expected_seq, "prev_hash does not match the previous entry"
    if entry_hash(prev, e) != e.hash:
        return expected_seq, "content does not match its hash"
    anchor = anchors.get(expected_seq)
    if anchor is not None and anchor.hash != e.hash:
        return expected_seq, _rewritten(anchor)
    return None
