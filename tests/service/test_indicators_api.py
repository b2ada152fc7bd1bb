"""The official indicators of a constructed quarter, computed by hand, and the high-value flag in valuations."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from scoring.book import period_end, period_start
from tests.factories import application, business_today
from tests.patent_numbers import fresh_patent_id
from tests.service.harness import Server

_DAY = business_today() - timedelta(days=200)
PERIOD = f"{_DAY.year}Q{(_DAY.month - 1) // 3 + 1}"
START, END = period_start(PERIOD), period_end(PERIOD)
PLAIN = {"foreign_family_members": 0, "family_size": 1, "strategic_emerging": False, "patent_award": False}


def _book(
    server: Server, who: str, amount: float, borrower: str, on: date, *, rate: float | None, **patent: Any
) -> dict[str, Any]:
    loan: dict[str, Any] = {"amount_cny": amount, "tenor_months": 24}
    if rate is not None:
        loan["annual_rate"] = rate
    app = application(borrower={"enterprise_id": borrower}, **loan)
    p = app["patents"][0]
    p.update({**PLAIN, "owner_id": borrower, **patent})
    if patent.get("patent_type") == "utility_model":
        p.update(patent_id=fresh_patent_id("utility_model"), filing_date="2021-03-15", grant_date="2022-01-10")
    app["as_of"] = on.isoformat()
    with server.client(who) as c:
        a = c.assess(app)
        loan_id = c.book_loan({"assessment_id": a.id, "origination_date": on.isoformat()}).id
    return {"loan_id": loan_id, "high_value": a.valuation.patents[0].high_value}


@pytest.fixture(scope="module")
def quarter(server: Server) -> dict[str, dict[str, Any]]:
    """Three loans in the quarter (two borrowers), one before it (a third borrower)."""
    inside = START + timedelta(days=5)
    loans = {
        "L1": _book(server, "bank_a", 3e6, "E-HV-1", inside, rate=0.04, strategic_emerging=True),
        "L2": _book(server, "bank_a", 12e6, "E-HV-2", inside, rate=0.05),
        "L3": _book(server, "bank_b", 5e6, "E-HV-1", inside, rate=None, patent_type="utility_model"),
        "L4": _book(server, "bank_b", 2e6, "E-HV-3", START - timedelta(days=100), rate=0.06),
    }
    with server.client("bank_a") as c:
        c.record_registrations(
            loans["L1"]["loan_id"],
            {
                "status": "registered",
                "registration_number": "Y2026980001234",
                "registration_date": (inside + timedelta(days=3)).isoformat(),
                "term_start": inside.isoformat(),
                "term_end": (inside + timedelta(days=700)).isoformat(),
            },
        )
    return loans


def test_valuations_carry_the_high_value_flag(quarter: dict[str, dict[str, Any]]) -> None:
    assert quarter["L1"]["high_value"].criteria == ("strategic_emerging",)
    assert quarter["L1"]["high_value"].high_value is True
    # L2 meets none at valuation: its high pledge amount is known only once the ¥12m loan is booked.
    assert quarter["L2"]["high_value"].high_value is False and quarter["L2"]["high_value"].eligible is True
    assert quarter["L3"]["high_value"].eligible is False


def test_the_official_indicators_of_the_quarter(server: Server, quarter: dict[str, dict[str, Any]]) -> None:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.keys['regulator']}"}) as r:
        got = r.get(f"/v1/regulator/indicators/{PERIOD}").json()
        bad = r.get("/v1/regulator/indicators/2026Q9")
    assert bad.status_code == 422 and bad.json()["field"] == "period"
    assert (got["start"], got["end"]) == (START.isoformat(), END.isoformat())
    assert (got["cumulative_loans"], got["cumulative_amount_cny"]) == (4, 22e6)
    assert (got["period_loans"], got["period_amount_cny"]) == (3, 20e6)
    assert (got["balance_cny"], got["npl_balance_cny"], got["npl_ratio"]) == (22e6, 0, 0)  # 24-month bullets
    assert (got["enterprises_served"], got["period_enterprises"], got["first_time_borrowers"]) == (3, 2, 2)
    assert got["rate"] == {
        "loans_with_rate": 2,
        "mean": pytest.approx(0.045),
        "amount_weighted_mean": pytest.approx((0.04 * 3 + 0.05 * 12) / 15),
        "median": pytest.approx(0.045),
    }
    assert got["inclusive_loans"] == 2  # 3m and 5m
    assert got["inclusive_share_of_loans"] == pytest.approx(2 / 3)
    assert got["inclusive_share_of_amount"] == pytest.approx(8 / 20)
    assert (got["pledged_patents"], got["registrations"]) == (4, 1)
    # Inventions in force: L1, L2, L4; high-value: L1 (strategic emerging) and L2 (¥12m pledge).
    assert (got["pledged_invention_patents"], got["high_value_patents"]) == (3, 2)
    assert got["high_value_share"] == pytest.approx(2 / 3) and got["unassessed_patents"] == 0
