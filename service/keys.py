"""API-key administration for the CLI, and the demo key of the embedded-default start.

``iprisk keys`` must answer in well under a second, so this module loads only core
SQLAlchemy: the key and audit tables of :mod:`service.db.core_tables`, the engine,
and the schema check of :mod:`service.db.schema_head` (Alembic only when the
database is not current).  No SQLModel, pydantic-settings, psycopg (on SQLite),
pandas or LightGBM: ``tests/service/test_key_path.py`` checks that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from service.clock import system_now
from service.db.core_tables import API_KEYS, AUDIT_LOG, audit_row
from service.db.engine import make_engine
from service.db.schema_head import ensure_current
from service.roles import ROLES, SHOWN_CHARS, hash_key, new_plain_key

if TYPE_CHECKING:
    from service.settings import Settings

DEMO_INSTITUTION = "bank_demo"
DEMO_FILE = "demo_api_key.txt"


class KeySettings(Protocol):
    """What the key commands read from the settings: the database URL in force."""

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the database."""
        ...


@dataclass(frozen=True)
class KeyRecord:
    """An API key as stored, without its hash."""

    id: int
    prefix: str
    role: str
    institution: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> KeyRecord:
        """The record of an ``api_keys`` row."""
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


_COLUMNS = [API_KEYS.c[name] for name in KeyRecord.__dataclass_fields__]


@contextmanager
def _transaction(settings: KeySettings) -> Iterator[Connection]:
    """A transaction on a current database (migrated first if it is not), committed on success."""
    engine = make_engine(settings.db_url)
    try:
        ensure_current(engine)
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _audit(conn: Connection, action: str, key: KeyRecord) -> None:
    """The audit entry of a key created or revoked by the command line (chained later by the sealer)."""
    entry = audit_row(
        key_id=None,
        role="cli",
        institution=key.institution,
        action=action,
        resource_type="api_key",
        resource_id=str(key.id),
        detail={"role": key.role, "prefix": key.prefix, "label": key.label},
    )
    conn.execute(insert(AUDIT_LOG), entry)


def _create(
    conn: Connection, *, role: str, institution: str, label: str, key: str | None = None
) -> tuple[str, KeyRecord]:
    """Insert a key and its audit entry; return the plain key (shown once) and its record."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not institution.strip():
        raise ValueError("institution must not be empty")
    plain = key or new_plain_key()
    values = {
        "key_hash": hash_key(plain),
        "prefix": plain[:SHOWN_CHARS],
        "role": role,
        "institution": institution.strip(),
        "label": label,
        "created_at": system_now(),
        "revoked_at": None,
    }
    key_id = conn.execute(insert(API_KEYS).returning(API_KEYS.c.id), values).scalar_one()
    record = KeyRecord.of({**values, "id": key_id})
    _audit(conn, "key.create", record)
    return plain, record


def new_key(settings: KeySettings, *, role: str, institution: str, label: str = "") -> tuple[str, KeyRecord]:
    """Create and commit a key (audited); return the plain key (shown once) and its record."""
    with _transaction(settings) as conn:
        return _create(conn, role=role, institution=institution, label=label)


def revoke(settings: KeySettings, key_id: int) -> KeyRecord:
    """Revoke a key by id (audited); LookupError when there is none."""
    with _transaction(settings) as conn:
        row = conn.execute(select(*_COLUMNS).where(API_KEYS.c.id == key_id)).mappings().first()
        if row is None:
            raise LookupError(f"no key with id {key_id}")
        record = KeyRecord.of(row)
        if record.revoked_at is None:
            record = KeyRecord.of({**row, "revoked_at": system_now()})
            conn.execute(update(API_KEYS).where(API_KEYS.c.id == key_id).values(revoked_at=record.revoked_at))
        _audit(conn, "key.revoke", record)
        return record


def list_keys(settings: KeySettings) -> list[KeyRecord]:
    """Every key (hashes are never shown)."""
    with _transaction(settings) as conn:
        return [KeyRecord.of(r) for r in conn.execute(select(*_COLUMNS).order_by(API_KEYS.c.id)).mappings()]


def _write_secret(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner can read (no moment when others could)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def ensure_demo_key(
    settings: Settings, *, bootstrapped: bool, host: str, port: int, echo: Callable[[str], None]
) -> str | None:
    """The demo bank key: created once, on the start that bootstrapped the synthetic models; None otherwise.

    Only for the demo: never with ``IPRISK_DEMO=false`` or an ``IPRISK_DATABASE_URL``.  The key is
    printed in full only when it is created (and kept, readable by its owner only, in
    ``IPRISK_HOME/demo_api_key.txt``); later starts print its prefix and where the file is.  A
    demo key revoked with ``iprisk keys revoke`` stays revoked: none is created again.

    Returns the plain key when this call created it.
    """
    if not settings.demo or settings.database_url:
        return None
    path = settings.home / DEMO_FILE
    with _transaction(settings) as conn:
        row = (
            conn.execute(
                select(*_COLUMNS)
                .where(API_KEYS.c.institution == DEMO_INSTITUTION, API_KEYS.c.label == "demo")
                .order_by(API_KEYS.c.id.desc())
            )
            .mappings()
            .first()
        )
        earlier = None if row is None else KeyRecord.of(row)
        created = None
        if earlier is None and bootstrapped:
            fixed = settings.demo_key.get_secret_value() if settings.demo_key else None
            created = _create(conn, role="bank", institution=DEMO_INSTITUTION, label="demo", key=fixed)[0]
    if created is not None:
        _write_secret(path, created + "\n")
        echo(
            _demo_text(
                created, f"demo API key (role bank, institution {DEMO_INSTITUTION}), shown once: {created}", host, port
            )
        )
        return created
    if earlier is None:
        return None
    if earlier.revoked_at is not None:
        echo(f"demo key {earlier.prefix}… (id {earlier.id}) was revoked; no demo key is created again")
    else:
        where = f"in {path}" if path.exists() else "no longer on disk"
        echo(
            _demo_text(
                f"$(cat {path})",
                f"demo API key {earlier.prefix}… (id {earlier.id}, role bank): {where}; "
                f"revoke it with `iprisk keys revoke {earlier.id}`",
                host,
                port,
            )
        )
    return None


def _demo_text(key: str, intro: str, host: str, port: int) -> str:
    # Imported here: the scoring schemas pull in the ML stack, which `iprisk keys` must not wait for.
    from service.schemas.scoring import DEMO_LOAN, DEMO_PATENTS, EXAMPLE_BORROWER

    body = json.dumps({"borrower": EXAMPLE_BORROWER, "loan": DEMO_LOAN, "patents": DEMO_PATENTS})
    return (
        f"\n{intro}\n"
        f"try:\n  curl -s -X POST http://{host}:{port}/v1/assessments "
        f"-H \"Authorization: Bearer {key}\" -H 'Content-Type: application/json' -d '{body}'\n"
        f"API documentation: http://{host}:{port}/docs\n"
    )
