"""API keys: creation, hashing, lookup, and the role check.

Keys are 256-bit random tokens, so a plain sha256 is enough to store them
(no password-style stretching needed); the full key is shown once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from sqlmodel import Session, select

from service.db.tables import ApiKey, utcnow

Role = Literal["bank", "insurer", "fund_manager", "regulator", "data_team"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "ipr_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: key id, role and institution."""

    key_id: int
    role: str
    institution: str


def hash_key(key: str) -> str:
    """sha256 hex of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, role: str, institution: str, label: str = "",
               key: str | None = None) -> tuple[str, ApiKey]:
    """Create a key; return the plain key (shown once) and its stored row."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not institution.strip():
        raise ValueError("institution must not be empty")
    plain = key or KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(key_hash=hash_key(plain), prefix=plain[:10], role=role, institution=institution.strip(),
                 label=label)
    session.add(row)
    session.flush()
    return plain, row


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key by id; LookupError when unknown."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise LookupError(f"no key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return row


def lookup(session: Session, key: str) -> Principal | None:
    """The principal of an active key, or None."""
    row = session.exec(select(ApiKey.id, ApiKey.role, ApiKey.institution, ApiKey.revoked_at)
                       .where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row[3] is not None or row[0] is None:
        return None
    return Principal(key_id=row[0], role=row[1], institution=row[2])
