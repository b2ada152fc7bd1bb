"""Who may call the API: the roles of API keys, and how a key is made and stored (its sha256).

Kept apart from :mod:`service.auth` (which reads keys with the ORM on every request) so the
command line's key path can import it without SQLModel.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

Role = Literal["bank", "insurer", "fund_manager", "regulator", "data_team", "data_feed"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "ipr_"
# Characters of a key kept in clear (api_keys.prefix) so a key can be recognised in lists and logs.
SHOWN_CHARS = 10


def hash_key(key: str) -> str:
    """sha256 hex of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_plain_key() -> str:
    """A fresh 256-bit random key, ``ipr_`` and 43 URL-safe characters."""
    return KEY_PREFIX + secrets.token_urlsafe(32)
