"""API-key administration for the CLI, and the demo key of the embedded-default start."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, col, select

from service.auth import create_key, revoke_key
from service.db import audit
from service.db.audit import ensure_head
from service.db.engine import make_engine
from service.db.migrate import upgrade
from service.db.tables import ApiKey
from service.settings import Settings

DEMO_INSTITUTION = "bank_demo"
DEMO_FILE = "demo_api_key.txt"


def _session(settings: Settings) -> Session:
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return Session(engine, expire_on_commit=False)


def _audit(session: Session, action: str, row: ApiKey) -> None:
    ensure_head(session)
    audit.append(
        session,
        key_id=None,
        role="cli",
        institution=row.institution,
        action=action,
        resource_type="api_key",
        resource_id=str(row.id),
        detail={"role": row.role, "prefix": row.prefix, "label": row.label},
    )


def new_key(settings: Settings, *, role: str, institution: str, label: str = "") -> tuple[str, ApiKey]:
    """Create and commit a key (audited); return the plain key (shown once) and its row."""
    with _session(settings) as session:
        plain, row = create_key(session, role=role, institution=institution, label=label)
        _audit(session, "key.create", row)
        session.commit()
        return plain, row


def revoke(settings: Settings, key_id: int) -> ApiKey:
    """Revoke a key by id (audited)."""
    with _session(settings) as session:
        row = revoke_key(session, key_id)
        _audit(session, "key.revoke", row)
        session.commit()
        return row


def list_keys(settings: Settings) -> list[ApiKey]:
    """Every key (hashes are never shown)."""
    with _session(settings) as session:
        return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())


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
    with _session(settings) as session:
        earlier = session.exec(
            select(ApiKey)
            .where(ApiKey.institution == DEMO_INSTITUTION, ApiKey.label == "demo")
            .order_by(col(ApiKey.id).desc())
        ).first()
        if earlier is None and bootstrapped:
            plain = settings.demo_key.get_secret_value() if settings.demo_key else None
            plain, row = create_key(session, role="bank", institution=DEMO_INSTITUTION, label="demo", key=plain)
            _audit(session, "key.create", row)
            session.commit()
            _write_secret(path, plain + "\n")
            echo(
                _demo_text(
                    plain, f"demo API key (role bank, institution {DEMO_INSTITUTION}), shown once: {plain}", host, port
                )
            )
            return plain
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
