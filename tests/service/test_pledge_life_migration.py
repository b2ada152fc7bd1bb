"""Migration 0005_pledge_life on a database that already holds loans, on SQLite and PostgreSQL.

Stored loans get the pledge state their status means (active → booked,
defaulted → defaulted, closed → settled) without any pledge changing; the new
tables match the models; a defaulted loan stored before the migration can then
be released; and the migration steps down and up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from service.auth import Principal
from service.db.migrate import alembic_config, upgrade
from service.schemas.pledges import ReleaseRequest
from service.usecases.pledge_life import release_loan
from tests.service.harness import scratch_engine

BEFORE = "0004_one_pledge"
NEW_TABLES = {"pledge_registrations", "pledge_events"}
LOANS = {"L1": "active", "L2": "defaulted", "L3": "closed"}
PLEDGES = [("L1", "CN201910555111.1", True), ("L2", "CN202110123456.7", True), ("L3", "CN201710601862.3", False)]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at 0004_one_pledge holding an active, a defaulted and a closed loan."""
    with scratch_engine(request.param, tmp_path) as eng:
        upgrade(eng, BEFORE)
        with eng.begin() as conn:
            for loan_id, status in LOANS.items():
                conn.execute(
                    text(
                        "INSERT INTO loans (id, institution, assessment_id, borrower_id, amount_cny, tenor_months, "
                        "origination_date, status, created_at) VALUES (:id, 'bank_a', :a, 'E1', 1e6, 12, :d, :s, :t)"
                    ),
                    {"id": loan_id, "a": f"a-{loan_id}", "d": date(2025, 1, 2), "s": status, "t": datetime.now(UTC)},
                )
            for loan_id, patent_id, active in PLEDGES:
                conn.execute(
                    text("INSERT INTO loan_patents (loan_id, patent_id, active) VALUES (:l, :p, :a)"),
                    {"l": loan_id, "p": patent_id, "a": active},
                )
        yield eng


def _states(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(text("SELECT id, status, pledge_state FROM loans"))}


def _active(engine: Engine) -> list[tuple[str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT loan_id, active FROM loan_patents ORDER BY loan_id")).all()
    return [(r[0], bool(r[1])) for r in rows]


def test_stored_loans_get_the_state_their_status_means(engine: Engine) -> None:
    upgrade(engine)
    assert _states(engine) == {
        "L1": ("active", "booked"),
        "L2": ("defaulted", "defaulted"),
        "L3": ("closed", "settled"),
    }
    assert _active(engine) == [("L1", True), ("L2", True), ("L3", False)]  # no pledge changed
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert conn.execute(text("SELECT COUNT(*) FROM pledge_events")).scalar_one() == 0
    assert [d for d in diff if "pledge" in repr(d) or "loans" in repr(d)] == []


def test_a_defaulted_loan_stored_before_can_be_released(engine: Engine) -> None:
    upgrade(engine)
    bank = Principal(key_id=1, role="bank", institution="bank_a")
    with Session(engine) as session:
        shown = release_loan(
            session,
            bank,
            "L2",
            ReleaseRequest(reason="written off under the 2024 settlement"),
            today=date(2026, 11, 30),
            now=datetime.now(UTC),
        )
        session.commit()
    assert (
        shown.pledge_state == "released" and shown.pledge_history[-1].reason == "written off under the 2024 settlement"
    )
    assert _active(engine) == [("L1", True), ("L2", False), ("L3", False)]


def test_the_migration_steps_down_and_up_again(engine: Engine) -> None:
    upgrade(engine)
    command.downgrade(alembic_config(engine), BEFORE)
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    assert "pledge_state" not in {c["name"] for c in inspect(engine).get_columns("loans")}
    assert _active(engine) == [("L1", True), ("L2", True), ("L3", False)]
    upgrade(engine)
    assert NEW_TABLES <= set(inspect(engine).get_table_names())
    assert _states(engine)["L3"] == ("closed", "settled")
