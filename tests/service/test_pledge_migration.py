"""Migration 0004_one_pledge on a database that already holds pledges, on SQLite and PostgreSQL.

Ids stored before patent identity existed become canonical; two variants of
one patent in one loan become one row; one patent actively pledged in two
loans stops the migration, with the loans in the log, before anything changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from service.db.migrate import alembic_config, upgrade
from tests.service.harness import scratch_engine

PARENTS = ("0003_audit", "0003_idempotency")
INDEX = "uq_loan_patents_active_patent"
A, B = "CN201910555111.1", "CN202110123456.7"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to the two heads before 0004_one_pledge."""
    with scratch_engine(request.param, tmp_path) as eng:
        for head in PARENTS:
            command.upgrade(alembic_config(eng), head)
        yield eng


def _seed(engine: Engine, loans: dict[str, tuple[str, str]], pledges: list[tuple[str, str, bool]]) -> None:
    """``loans``: id -> (institution, status); ``pledges``: (loan id, patent id as stored, active)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for loan_id, (institution, status) in loans.items():
            conn.execute(
                text(
                    "INSERT INTO loans (id, institution, assessment_id, borrower_id, amount_cny, tenor_months, "
                    "origination_date, status, created_at) VALUES (:id, :inst, :a, 'E1', 1000000, 12, :d, :s, :t)"
                ),
                {"id": loan_id, "inst": institution, "a": f"a-{loan_id}", "d": date(2025, 1, 2), "s": status, "t": now},
            )
        for loan_id, patent_id, active in pledges:
            conn.execute(
                text("INSERT INTO loan_patents (loan_id, patent_id, active) VALUES (:l, :p, :a)"),
                {"l": loan_id, "p": patent_id, "a": active},
            )


def _pledges(engine: Engine) -> list[tuple[str, str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT loan_id, patent_id, active FROM loan_patents ORDER BY id")).all()
    return [(r[0], r[1], bool(r[2])) for r in rows]


def _heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}


def test_stored_variants_become_canonical_and_the_index_holds(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    _seed(
        engine,
        {"L1": ("bank_a", "active"), "L2": ("bank_b", "closed"), "L3": ("bank_b", "active")},
        [
            ("L1", " zl201910555111.1 ", True),  # a variant of A
            ("L1", "CN 2019 1 0555111.1", True),  # another variant of A in the same loan
            ("L2", "cn201910555111.1", False),  # A again, in a closed loan: history, not a pledge
            ("L3", "2021101234567", True),  # B without prefix or dot
            ("L3", "legacy-ref", True),  # no patent number at all: kept and reported
        ],
    )
    with caplog.at_level(logging.WARNING, logger="iprisk.migrations"):
        upgrade(engine, "0004_one_pledge")
    assert _pledges(engine) == [("L1", A, True), ("L2", A, False), ("L3", B, True), ("L3", "legacy-ref", True)]
    assert "legacy-ref" in caplog.text
    assert _heads(engine) == {"0004_one_pledge"}
    assert INDEX in {ix["name"] for ix in inspect(engine).get_indexes("loan_patents")}
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a second active pledge of A
        conn.execute(
            text("INSERT INTO loan_patents (loan_id, patent_id, active) VALUES ('L3', :p, :a)"), {"p": A, "a": True}
        )
    with engine.begin() as conn:  # an inactive one is history and may repeat
        conn.execute(
            text("INSERT INTO loan_patents (loan_id, patent_id, active) VALUES ('L3', :p, :a)"), {"p": A, "a": False}
        )


def test_a_patent_in_two_active_loans_stops_the_migration_and_changes_nothing(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = [("L1", "ZL201910555111.1", True), ("L2", "CN201910555111.1 ", True), ("L2", "cn202110123456.7", True)]
    _seed(engine, {"L1": ("bank_a", "active"), "L2": ("bank_b", "defaulted")}, seeded)
    with caplog.at_level(logging.ERROR, logger="iprisk.migrations"), pytest.raises(RuntimeError) as info:
        upgrade(engine)
    assert "DuplicatePledges" in type(info.value).__name__
    assert A in str(info.value) and "Nothing was changed" in str(info.value)
    assert A in caplog.text and "L1" in caplog.text and "L2" in caplog.text and "bank_b" in caplog.text
    assert _pledges(engine) == seeded
    assert _heads(engine) == set(PARENTS)
    assert INDEX not in {ix["name"] for ix in inspect(engine).get_indexes("loan_patents")}
    with engine.begin() as conn:  # the operator closes the wrong loan; then the migration goes through
        conn.execute(text("UPDATE loan_patents SET active = :f WHERE loan_id = 'L2'"), {"f": False})
    upgrade(engine)
    assert [p for _, p, _ in _pledges(engine)] == [A, A, B]
