"""The point-in-time book over real HTTP: repayments, balances, NPL ratio by date, crossed cells, tolerance."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest

from scoring.book import BOOK_DIMS, period_end
from scoring.pledge_checks import add_months
from service.client import NotFoundError, PermissionDenied, ValidationFailed
from tests.factories import application, business_today
from tests.service.harness import Server

TODAY = business_today()
ORIGIN = TODAY - timedelta(days=400)  # every loan here runs 24 months from this day


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def _book(server: Server, who: str, amount: float, *, region: str, industry: str = "baijiu", **loan: Any) -> str:
    app = application(amount_cny=amount, tenor_months=24, **loan)
    app["borrower"].update(region=region, industry=industry)
    app["as_of"] = ORIGIN.isoformat()
    with server.client(who) as c:
        a = c.assess(app)
        return c.book_loan({"assessment_id": a.id, "origination_date": ORIGIN.isoformat()}).id


def _outcome(server: Server, who: str, loan_id: str, **body: Any) -> None:
    with server.client(who) as c:
        c.report_outcome({"loan_id": loan_id, **body})


def _get(server: Server, path: str, **params: Any) -> Any:
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.keys['regulator']}"}, timeout=30
    ) as r:
        resp = r.get(path, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture(scope="module")
def issue_example(server: Server) -> dict[str, str]:
    """The issue's example in Anshun: a ¥3m loan in default and a ¥5m loan repaid 100 days ago."""
    bad = _book(server, "bank_a", 3e6, region="anshun")
    repaid = _book(server, "bank_b", 5e6, region="anshun")
    _outcome(server, "bank_b", repaid, as_of=_day(100), status="repaid", days_past_due=0, npl_class="normal")
    _outcome(
        server,
        "bank_a",
        bad,
        as_of=_day(10),
        status="default",
        days_past_due=100,
        npl_class="substandard",
        default_date=_day(110),
    )
    return {"bad": bad, "repaid": repaid}


def test_the_issues_example_gives_a_hundred_percent(server: Server, issue_example: dict[str, str]) -> None:
    book = _get(server, "/v1/regulator/book", by="region")
    anshun = next(c for c in book["cells"] if c["keys"] == {"region": "anshun"})
    assert anshun["balance_cny"] == 3e6 and anshun["npl_balance_cny"] == 3e6 and anshun["npl_ratio"] == 1.0
    assert anshun["loans"] == 1 and anshun["by_class_cny"]["substandard"] == 3e6
    # Before the repayment both were on the book, unreported: 0 of ¥8m.
    earlier = _get(server, "/v1/regulator/book", by="region", as_of=_day(200))
    assert next(c for c in earlier["cells"] if c["keys"] == {"region": "anshun"})["balance_cny"] == 8e6
    portfolio = _get(server, "/v1/regulator/portfolio", group_by="region")
    group = next(g for g in portfolio["groups"] if g["key"] == "anshun")
    assert group["npl_rate"] == 1.0 and group["balance_cny"] == 3e6 and group["amount_cny"] == 8e6


def test_repayments_lower_the_balance_and_nothing_impossible_is_written(server: Server) -> None:
    loan = _book(server, "bank_a", 2e6, region="liupanshui")
    before = (server.count("loan_repayments"), server.count("audit_log"))
    with server.client("bank_a") as c:
        first = c.report_repayment(loan, {"amount_cny": "500000.00", "paid_on": _day(300)}, idempotency_key="r-1")
        replay = c.report_repayment(loan, {"amount_cny": "500000.00", "paid_on": _day(300)}, idempotency_key="r-1")
        second = c.report_repayment(loan, {"amount_cny": "250000.50", "paid_on": _day(30)})
        for body, field in (
            ({"amount_cny": "1250000.00", "paid_on": _day(20)}, "amount_cny"),  # ¥1,249,999.50 left
            ({"amount_cny": "1000.00", "paid_on": (TODAY + timedelta(days=2)).isoformat()}, "paid_on"),
            ({"amount_cny": "1000.00", "paid_on": _day(401)}, "paid_on"),  # before origination
            ({"amount_cny": "0", "paid_on": _day(20)}, "amount_cny"),
            # before the ¥250,000.50 on day −30, ¥1.5m was outstanding: ¥1.4m then would leave −¥150,000.50
            ({"amount_cny": "1400000.00", "paid_on": _day(60)}, "amount_cny"),
        ):
            with pytest.raises(ValidationFailed) as exc:
                c.report_repayment(loan, body)
            assert exc.value.body["field"] == field, body
    with server.client("bank_b") as other, pytest.raises(NotFoundError):
        other.report_repayment(loan, {"amount_cny": "1.00", "paid_on": _day(20)})
    with server.client("regulator") as reg, pytest.raises(PermissionDenied):
        reg.report_repayment(loan, {"amount_cny": "1.00", "paid_on": _day(20)})
    assert first == replay and str(first.balance_cny) == "1500000.00"
    assert str(second.balance_cny) == "1249999.50"
    assert (server.count("loan_repayments"), server.count("audit_log")) == (before[0] + 2, before[1] + 2)
    book = _get(server, "/v1/regulator/book", by="region")
    assert next(c for c in book["cells"] if c["keys"] == {"region": "liupanshui"})["balance_cny"] == 1249999.5
    at = _get(server, "/v1/regulator/book", by="region", as_of=_day(100))
    assert next(c for c in at["cells"] if c["keys"] == {"region": "liupanshui"})["balance_cny"] == 1.5e6


def test_a_reclassified_loan_moves_bucket_on_the_report_date(server: Server) -> None:
    loan = _book(server, "bank_b", 4e6, region="qiannan")
    common = {"status": "default", "default_date": _day(390)}
    _outcome(server, "bank_b", loan, as_of=_day(290), days_past_due=100, npl_class="substandard", **common)
    _outcome(server, "bank_b", loan, as_of=_day(20), days_past_due=370, npl_class="loss", **common)

    def classes(days_ago: int) -> dict[str, float]:
        book = _get(server, "/v1/regulator/book", by="region", as_of=_day(days_ago))
        cell = next(c for c in book["cells"] if c["keys"] == {"region": "qiannan"})
        return {k: v for k, v in cell["by_class_cny"].items() if v}

    assert classes(291) == {"unreported": 4e6}
    assert classes(21) == {"substandard": 4e6}
    assert classes(20) == {"loss": 4e6}


def test_crossed_cells_sum_to_the_total(server: Server, issue_example: dict[str, str]) -> None:
    _book(server, "bank_b", 12e6, region="anshun", industry="computing_power", repayment_type="equal_principal")
    total = _get(server, "/v1/regulator/book")["total"]
    assert total["balance_cny"] > 0
    # ¥12m equal principal over 24 months: ¥500k falls due on each monthly anniversary passed by today.
    paid = sum(1 for k in range(1, 25) if add_months(ORIGIN, k) <= TODAY)
    cell = next(
        c
        for c in _get(server, "/v1/regulator/book", by=["region", "industry"])["cells"]
        if c["keys"] == {"region": "anshun", "industry": "computing_power"}
    )
    assert 12 <= paid <= 14 and cell["balance_cny"] == 12e6 - paid * 5e5
    for pair in itertools.combinations(BOOK_DIMS, 2):
        book = _get(server, "/v1/regulator/book", by=list(pair))
        assert book["total"] == total
        assert sum(c["balance_cny"] for c in book["cells"]) == pytest.approx(total["balance_cny"], abs=0.001)
        assert sum(c["npl_balance_cny"] for c in book["cells"]) == pytest.approx(total["npl_balance_cny"], abs=0.001)
        assert sum(c["loans"] for c in book["cells"]) == total["loans"]
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.keys['regulator']}"}) as r:
        three = r.get("/v1/regulator/book", params={"by": ["bank", "region", "vintage"]})
        future = r.get("/v1/regulator/book", params={"as_of": (TODAY + timedelta(days=3)).isoformat()})
    assert three.status_code == 422 and future.status_code == 422 and future.json()["field"] == "as_of"


def test_snapshots_end_with_today(server: Server, issue_example: dict[str, str]) -> None:
    snaps = _get(server, "/v1/regulator/book/snapshots", frequency="quarterly")
    assert snaps[-1]["on"] == TODAY.isoformat()
    assert snaps[-1]["total"] == _get(server, "/v1/regulator/book")["total"]
    monthly = _get(server, "/v1/regulator/book/snapshots", frequency="monthly", since=_day(60))
    assert 2 <= len(monthly) <= 4 and all(a["on"] < b["on"] for a, b in itertools.pairwise(monthly))


def test_the_three_point_tolerance_per_bank(server: Server, issue_example: dict[str, str]) -> None:
    quarter = (TODAY.month - 1) // 3 + 1
    year, q = (TODAY.year, quarter - 1) if quarter > 1 else (TODAY.year - 1, 4)
    period = f"{year}Q{q}"
    end = period_end(period)
    by_bank = {c["keys"]["bank"]: c for c in _get(server, "/v1/regulator/book", by="bank", as_of=end)["cells"]}
    ip_a = by_bank["bank_a"]["npl_ratio"]
    with server.client("bank_a") as a, server.client("bank_b") as b:
        a.report_npl_ratio({"period": period, "npl_ratio": max(ip_a - 0.02, 0)})
        b.report_npl_ratio({"period": period, "npl_ratio": 0.9})  # a correction follows
        b.report_npl_ratio({"period": period, "npl_ratio": 0.01})
        with pytest.raises(ValidationFailed) as unfinished:
            a.report_npl_ratio({"period": f"{TODAY.year + 1}Q1", "npl_ratio": 0.01})
        with pytest.raises(ValidationFailed) as nonsense:
            a.report_npl_ratio({"period": "2026Q7", "npl_ratio": 0.01})
    assert unfinished.value.body["field"] == nonsense.value.body["field"] == "period"
    rows = {r["bank"]: r for r in _get(server, f"/v1/regulator/tolerance/{period}")}
    assert rows["bank_a"]["ip_npl_ratio"] == ip_a and rows["bank_a"]["within_tolerance"] is True
    ip_b = by_bank["bank_b"]["npl_ratio"] if "bank_b" in by_bank else None
    assert rows["bank_b"]["overall_npl_ratio"] == 0.01
    assert rows["bank_b"]["within_tolerance"] is (None if ip_b is None else ip_b - 0.01 <= 0.03)
