"""``iprisk keys``: a light path (no SQLModel, Alembic, pydantic-settings or ML stack) that audits as before.

The speed itself is measured in docs/performance.md; these tests guard what makes it:
which modules the command loads, that Alembic runs only for a database that is not
current, and that the light tables write what the SQLModel tables would (the audit
chain verifies).  On SQLite and, where IPRISK_TEST_DATABASE_URL is set, PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, text
from sqlmodel import Session, col, select

from service.db import audit
from service.db.core_tables import API_KEYS, AUDIT_HEAD, AUDIT_LOG
from service.db.engine import make_engine
from service.db.migrate import alembic_config, upgrade
from service.db.schema_head import is_current, script_heads
from service.db.tables import ApiKey, AuditEntry, AuditHead
from service.db_location import DbLocation
from service.keys import list_keys, new_key, revoke
from service.roles import hash_key
from service.settings import Settings
from tests.service.harness import PG_URL, drop_pg, pg_database

ROOT = Path(__file__).resolve().parents[2]
# Never on the key path: the ORM and every table class, migrations, settings validation, the ML stack.
NEVER = {"sqlmodel", "alembic", "pydantic_settings", "pandas", "numpy", "lightgbm", "sklearn", "numba", "fastapi"}


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DbLocation]:
    """A data directory and, on PostgreSQL, a throwaway database."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    if request.param == "sqlite":
        yield DbLocation(home=tmp_path)
        return
    url, name = pg_database()
    try:
        yield DbLocation(home=tmp_path, database_url=url)
    finally:
        drop_pg(name)


def _cli(location: DbLocation, *args: str) -> tuple[str, set[str]]:
    """Run ``iprisk ARGS`` in a fresh interpreter; its output and the top-level modules it loaded."""
    code = (
        "import sys\n"
        "from service.cli import main\n"
        f"sys.argv = ['iprisk', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('MODULES', *sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IPRISK_")}
    env["IPRISK_HOME"] = str(location.home)
    if location.database_url:
        env["IPRISK_DATABASE_URL"] = location.database_url
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    out, _, modules = done.stdout.rpartition("MODULES ")
    return out, set(modules.split())


def test_keys_create_loads_no_orm_no_alembic_and_no_ml_stack(location: DbLocation) -> None:
    new_key(location, role="bank", institution="bank_first")  # the first command migrates the new database
    out, modules = _cli(location, "keys", "create", "--role", "bank", "--institution", "bank_b")
    assert "(bank @ bank_b)" in out
    assert out.strip().splitlines()[-1].startswith("ipr_")
    assert "sqlalchemy" in modules  # the probe sees the imports at all
    never = NEVER | ({"psycopg"} if location.database_url is None else set())
    assert modules & never == set()
    assert [k.institution for k in list_keys(location)] == ["bank_first", "bank_b"]


def test_help_loads_no_database_layer(tmp_path: Path) -> None:
    out, modules = _cli(DbLocation(home=tmp_path), "--help")
    assert "keys" in out
    assert modules & (NEVER | {"sqlalchemy", "psycopg"}) == set()


def test_key_audit_entries_are_the_same_and_the_chain_verifies(location: DbLocation) -> None:
    before = datetime.now(UTC)
    plain, key = new_key(location, role="fund_manager", institution="fund_x", label="ops")
    revoked = revoke(location, key.id)
    engine = make_engine(location.db_url)
    try:
        assert audit.seal(engine) == 2
        with Session(engine) as session:
            assert audit.verify_chain(session).ok
            stored = session.get(ApiKey, key.id)
            entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    finally:
        engine.dispose()
    assert stored is not None and stored.key_hash == hash_key(plain)
    assert (stored.prefix, stored.role, stored.institution, stored.label) == (
        plain[:10],
        "fund_manager",
        "fund_x",
        "ops",
    )
    assert stored.created_at == key.created_at and stored.revoked_at == revoked.revoked_at is not None
    detail = {"role": "fund_manager", "prefix": plain[:10], "label": "ops"}
    assert [(e.action, e.key_id, e.role, e.institution, e.resource_type, e.resource_id, e.detail) for e in entries] == [
        ("key.create", None, "cli", "fund_x", "api_key", str(key.id), detail),
        ("key.revoke", None, "cli", "fund_x", "api_key", str(key.id), detail),
    ]
    assert all(before <= e.at <= datetime.now(UTC) for e in entries)


def test_bad_input_is_refused_and_nothing_is_written(location: DbLocation) -> None:
    with pytest.raises(ValueError, match="role must be one of"):
        new_key(location, role="admin", institution="bank_a")
    with pytest.raises(ValueError, match="institution must not be empty"):
        new_key(location, role="bank", institution="  ")
    with pytest.raises(LookupError, match="no key with id 99"):
        revoke(location, 99)
    engine = make_engine(location.db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM api_keys")).scalar_one() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_database_that_is_not_current_is_migrated_and_seeded(location: DbLocation) -> None:
    engine = make_engine(location.db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            assert is_current(conn)
            conn.execute(delete(AUDIT_HEAD))  # a head row missing: Alembic's seeding must run again
            assert not is_current(conn)
        new_key(location, role="bank", institution="bank_a")
        with engine.begin() as conn:
            assert is_current(conn)
            # Stamped before the merge revision 0010 (which changes no table): Alembic has a step to run.
            conn.execute(text("DELETE FROM alembic_version"))
            for parent in ("0007_after_booking", "0008_book", "0009_fund_life"):
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": parent})
            assert not is_current(conn)
    finally:
        engine.dispose()
    new_key(location, role="bank", institution="bank_b")
    engine = make_engine(location.db_url)
    try:
        with engine.connect() as conn:
            assert is_current(conn)
    finally:
        engine.dispose()


def test_script_heads_read_from_the_files_are_alembics(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert script_heads() == set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("light", "orm"), [(API_KEYS, ApiKey), (AUDIT_LOG, AuditEntry), (AUDIT_HEAD, AuditHead)], ids=lambda t: str(t)
)
def test_core_tables_match_the_sqlmodel_tables(light: object, orm: type) -> None:
    table = orm.__table__  # type: ignore[attr-defined]  # set by SQLAlchemy's declarative base, not declared by SQLModel

    def shape(t: object) -> list[tuple[str, str, object, bool, bool]]:
        return [
            (
                c.name,
                type(c.type).__name__.replace("AutoString", "String"),
                getattr(c.type, "length", None),
                c.nullable,
                c.primary_key,
            )
            for c in t.c  # type: ignore[attr-defined]
        ]

    assert shape(light) == shape(table)
    assert light.name == table.name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"IPRISK_HOME": "~/somewhere"},
        {"iprisk_home": "rel/dir"},
        {"IPRISK_DATABASE_URL": "postgresql://u@h:5432/db"},
        {"IPRISK_DATABASE_URL": "sqlite:////tmp/x.db", "IPRISK_HOME": "/tmp/h"},
    ],
)
def test_the_light_location_reads_what_the_settings_read(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for k in [k for k in os.environ if k.upper().startswith("IPRISK_")]:
        monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    light, full = DbLocation.from_env(), Settings()
    assert (light.home, light.db_url) == (full.home, full.db_url)


def test_the_light_location_refuses_another_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPRISK_DATABASE_URL", "mysql://u@h/db")
    with pytest.raises(ValueError, match="sqlite:// or postgresql://"):
        DbLocation.from_env()
