"""The append-only, hash-chained audit log.

Each entry's hash is sha256 over the previous hash and the entry's canonical
JSON.  Appends first update the single ``audit_head`` row, which takes the
database's write lock (SQLite) or a row lock (PostgreSQL), so concurrent
transactions chain one after another instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from service.db.tables import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


_HASHED = ("seq", "at", "key_id", "role", "institution", "action", "resource_type", "resource_id", "detail")


def entry_hash(prev_hash: str, entry: AuditEntry | Mapping[str, Any]) -> str:
    """sha256 of the previous hash and the entry's canonical content (a stored row or a new one)."""
    get = entry.get if isinstance(entry, Mapping) else entry.__getattribute__
    payload = {name: get(name) for name in _HASHED}
    payload["at"] = payload["at"].isoformat(timespec="microseconds")
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + blob).encode()).hexdigest()


def ensure_head(session: Session) -> None:
    """Create the head row if the log is new."""
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, seq=0, last_hash=GENESIS))
        session.flush()


_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
_LOG = AuditEntry.__table__  # type: ignore[attr-defined]
# Core statements, built once: the entry is never read back in the request, so the
# ORM's unit of work (about 1 ms per request, benchmarks/profile_assessment.py) is waste.
_TAKE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1)
              .returning(_HEAD.c.seq, _HEAD.c.last_hash))
_INSERT = insert(_LOG)
_SET_HEAD = update(_HEAD).where(_HEAD.c.id == 1)


def append(session: Session, *, key_id: int | None, role: str, institution: str, action: str,
           resource_type: str, resource_id: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append one entry in the caller's transaction (executes, never commits); returns the stored row."""
    # One statement takes the lock and reads the head (SQLite ≥ 3.35 and PostgreSQL both RETURN).
    # Pending ORM rows are flushed first, so the database's write order is the code's order.
    session.flush()
    conn = session.connection()
    seq, prev = conn.execute(_TAKE_HEAD).one()
    row: dict[str, Any] = {"seq": seq, "at": utcnow(), "key_id": key_id, "role": role, "institution": institution,
                           "action": action, "resource_type": resource_type, "resource_id": resource_id,
                           "detail": detail or {}, "prev_hash": prev}
    row["hash"] = entry_hash(prev, row)
    conn.execute(_INSERT, [row])
    conn.execute(_SET_HEAD, {"last_hash": row["hash"]})
    return row


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of recomputing the chain."""

    ok: bool
    entries: int
    first_broken_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Recompute every hash in order; name the first broken link."""
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.exec(select(AuditEntry).where(AuditEntry.seq > last_seq)
                            .order_by(col(AuditEntry.seq)).limit(batch)).all()
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return ChainCheck(False, count, expected_seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev:
                return ChainCheck(False, count, e.seq, "prev_hash does not match the previous entry")
            if entry_hash(prev, e) != e.hash:
                return ChainCheck(False, count, e.seq, "content does not match its hash")
            prev, expected_seq, count, last_seq = e.hash, e.seq + 1, count + 1, e.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.last_hash != prev):
        return ChainCheck(False, count, count + 1 if head.seq > count else count,
                          f"chain ends at entry {count} but the head records {head.seq}")
    return ChainCheck(True, count)
