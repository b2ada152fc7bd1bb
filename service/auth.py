"""API keys at request time: lookup by digest, the principal, and the cache of recent keys.

Keys are 256-bit random tokens, so a plain sha256 is enough to store them
(no password-style stretching needed); the full key is shown once.  Roles and
hashing are in :mod:`service.roles`; creating and revoking keys (the CLI) in
:mod:`service.keys`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from service.db.tables import ApiKey
from service.roles import KEY_PREFIX, ROLES, Role, hash_key

__all__ = ["KEY_PREFIX", "ROLES", "KeyCache", "Principal", "Role", "hash_key", "is_active", "lookup_digest"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: key id, role and institution."""

    key_id: int
    role: str
    institution: str


def lookup_digest(session: Session, digest: str) -> Principal | None:
    """The principal of the active key whose sha256 is ``digest``, or None."""
    row = session.exec(
        select(ApiKey.id, ApiKey.role, ApiKey.institution, ApiKey.revoked_at).where(ApiKey.key_hash == digest)
    ).first()
    if row is None or row[3] is not None or row[0] is None:
        return None
    return Principal(key_id=row[0], role=row[1], institution=row[2])


_KEYS = ApiKey.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__ (set by SQLAlchemy's declarative base)
# Built once and run on the session's connection: it is on every request's path.
_REVOKED_AT = core_select(_KEYS.c.revoked_at).where(_KEYS.c.id == bindparam("key_id"))


def is_active(session: Session, key_id: int) -> bool:
    """Whether key ``key_id`` exists and is not revoked, read in the caller's transaction."""
    row = session.connection().execute(_REVOKED_AT, {"key_id": key_id}).first()
    return row is not None and row[0] is None


class KeyCache:
    """Principals of keys seen recently, by key digest, so the role check needs no database call.

    A key's role and institution never change, so a cached principal cannot
    be wrong, only revoked: callers confirm with :func:`is_active` inside the
    request's own transaction (see ``service.routing``) and :meth:`evict` on
    failure.  Only keys that were valid are cached, so unknown keys sent by a
    client cannot fill it; ``limit`` bounds it anyway.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._items: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        """The cached principal of ``digest``, or None."""
        return self._items.get(digest)

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a principal just read from the database."""
        with self._lock:
            if len(self._items) >= self._limit:
                self._items.clear()
            self._items[digest] = principal

    def evict(self, digest: str) -> None:
        """Forget a key (it was revoked)."""
        with self._lock:
            self._items.pop(digest, None)
