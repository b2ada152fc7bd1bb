"""API-key administration for the CLI, and the demo key of the embedded-default start."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from sqlmodel import Session, select

from service.auth import create_key, hash_key, revoke_key
from service.db import audit
from service.db.audit import ensure_head
from service.db.engine import make_engine
from service.db.migrate import upgrade
from service.db.tables import ApiKey
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT
from service.settings import Settings

DEMO_INSTITUTION = "bank_demo"
DEMO_FILE = "demo_api_key.txt"


def _session(settings: Settings) -> Session:
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return Session(engine, expire_on_commit=False)


def _audit(session: Session, action: str, row: ApiKey) -> None:
    ensure_head(session)
    audit.append(session, key_id=None, role="cli", institution=row.institution, action=action,
                 resource_type="api_key", resource_id=str(row.id),
                 detail={"role": row.role, "prefix": row.prefix, "label": row.label})


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
        return list(session.exec(select(ApiKey).order_by(ApiKey.id)).all())


def ensure_demo_key(settings: Settings, *, host: str, port: int, echo: Callable[[str], None]) -> str:
    """Create the demo bank key on first start (kept in IPRISK_HOME for later starts) and print it."""
    path = settings.home / DEMO_FILE
    plain = settings.demo_key.get_secret_value() if settings.demo_key else None
    if plain is None and path.exists():
        plain = path.read_text(encoding="utf-8").strip()
    with _session(settings) as session:
        exists = plain and session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(plain))).first()
        if not exists:
            plain, row = create_key(session, role="bank", institution=DEMO_INSTITUTION, label="demo", key=plain)
            _audit(session, "key.create", row)
            session.commit()
    path.write_text(plain + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    body = json.dumps({"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "patents": [EXAMPLE_PATENT]})
    echo(f"\ndemo API key (role bank, institution {DEMO_INSTITUTION}): {plain}\n"
         f"try:\n  curl -s -X POST http://{host}:{port}/v1/assessments "
         f"-H 'Authorization: Bearer {plain}' -H 'Content-Type: application/json' -d '{body}'\n"
         f"API documentation: http://{host}:{port}/docs\n")
    return plain
