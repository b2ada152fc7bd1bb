"""The periodic book revaluation runs on its own at the configured interval (docs/after-booking.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.factories import application
from tests.service.harness import Server, wait_until


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    """Revalue the book every second."""
    return {"revalue_interval_seconds": 1.0}


def test_the_periodic_job_marks_the_live_book(server: Server) -> None:
    with server.client("bank_a") as a:
        loan = a.book_loan({"assessment_id": a.assess(application(amount_cny=1_000_000)).id})
    wait_until(lambda: server.count("loan_marks") >= 1, timeout=60, what="the first mark")
    engine = server.engine()
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT pledge_value_cny, model_version FROM loan_marks WHERE loan_id = :id"), {"id": loan.id}
            ).one()
            facts = conn.execute(text("SELECT COUNT(*) FROM patent_facts WHERE loan_id = :id"), {"id": loan.id})
            seeded = facts.scalar_one()
    finally:
        engine.dispose()
    assert row[0] > 0 and row[1] and seeded == 1
