"""The append-only, hash-chained audit log.

Each entry's hash is sha256 over the previous hash and the entry's canonical
JSON.  Appends first update the single ``audit_head`` row, which takes the
database's write lock (SQLite) or a row lock (PostgreSQL), so concurrent
transactions chain one after another instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.db.tables import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """sha256 of the previous hash and the entry's canonical content."""
    payload = {
        "seq": entry.seq, "at": entry.at.isoformat(timespec="microseconds"), "key_id": entry.key_id,
        "role": entry.role, "institution": entry.institution, "action": entry.action,
        "resource_type": entry.resource_type, "resource_id": entry.resource_id, "detail": entry.detail,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + blob).encode()).hexdigest()


def ensure_head(session: Session) -> None:
    """Create the head row if the log is new."""
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, seq=0, last_hash=GENESIS))
        session.flush()


def append(session: Session, *, key_id: int | None, role: str, institution: str, action: str,
           resource_type: str, resource_id: str, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (flushes, never commits)."""
    # One statement takes the lock and reads the head (SQLite ≥ 3.35 and PostgreSQL both RETURN).
    seq, prev = session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                                .values(seq=AuditHead.seq + 1)
                                .returning(col(AuditHead.seq), col(AuditHead.last_hash))).one()
    entry = AuditEntry(seq=seq, at=utcnow(), key_id=key_id, role=role, institution=institution,
                       action=action, resource_type=resource_type, resource_id=resource_id,
                       detail=detail or {}, prev_hash=prev, hash="")
    entry.hash = entry_hash(prev, entry)
    session.add(entry)
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(last_hash=entry.hash))
    return entry


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
