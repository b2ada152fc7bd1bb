"""The regulator's view over real HTTP: portfolio figures, outcomes, performance, inventory, audit."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import text

from service.client import NotFoundError, PermissionDenied, ValidationFailed
from service.keys import new_key
from service.state import app_state
from tests.factories import FILED, application, business_today
from tests.patent_numbers import fresh_patent_id
from tests.service.fund_helpers import clock, four_party_claim, new_fund, pool_loan
from tests.service.harness import Server

REGION = "tongren"  # only this module's seeded loans use it


def _book(
    server: Server, who: str, amount: float, *, industry: str, origination: str, patent_type: str = "invention"
) -> str:
    app = application(amount_cny=amount, tenor_months=12)
    app["borrower"].update(region=REGION, industry=industry)
    if patent_type != "invention":
        app["patents"][0].update(
            patent_id=fresh_patent_id(patent_type),
            patent_type=patent_type,
            filing_date="2021-03-15",
            grant_date="2022-01-10",
        )
    app["as_of"] = origination
    with server.client(who) as c:
        a = c.assess(app)
        return c.book_loan({"assessment_id": a.id, "origination_date": origination}).id


def _regulator(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.keys['regulator']}"}, timeout=30
    )


def _outcome(server: Server, who: str, loan_id: str, **body: Any) -> dict[str, Any]:
    with server.client(who) as c:
        return dict(c.request("POST", "/v1/outcomes", json={"loan_id": loan_id, **body}))


@pytest.fixture(scope="module")
def seeded(server: Server) -> dict[str, Any]:
    """Five loans in one region: bank_a 3m / 12m / 25m, bank_b 5m / 8m; one default, one repaid."""
    two_years_ago = (business_today() - timedelta(days=730)).isoformat()
    ids = {
        "a3": _book(server, "bank_a", 3e6, industry="baijiu", origination=two_years_ago),
        "a12": _book(server, "bank_a", 12e6, industry="baijiu", origination=two_years_ago),
        "a25": _book(
            server, "bank_a", 25e6, industry="computing_power", origination=two_years_ago, patent_type="utility_model"
        ),
        "b5": _book(server, "bank_b", 5e6, industry="computing_power", origination=two_years_ago),
        "b8": _book(server, "bank_b", 8e6, industry="baijiu", origination=two_years_ago),
    }
    default_day = (business_today() - timedelta(days=500)).isoformat()
    _outcome(
        server,
        "bank_a",
        ids["a12"],
        as_of=business_today().isoformat(),
        status="default",
        days_past_due=200,
        npl_class="doubtful",
        default_date=default_day,
    )
    _outcome(
        server,
        "bank_b",
        ids["b5"],
        as_of=business_today().isoformat(),
        status="repaid",
        days_past_due=0,
        npl_class="normal",
    )
    _outcome(
        server,
        "bank_a",
        ids["a3"],
        as_of=business_today().isoformat(),
        status="performing",
        days_past_due=0,
        npl_class="normal",
    )
    return ids


def test_portfolio_by_region_has_exact_figures(server: Server, seeded: dict[str, Any]) -> None:
    with _regulator(server) as r:
        report = r.get("/v1/regulator/portfolio", params={"group_by": "region"}).json()
    g = next(x for x in report["groups"] if x["key"] == REGION)
    assert g["loans"] == 5
    assert g["amount_cny"] == pytest.approx(53e6)
    assert g["tickets"] == {
        "under_10m": 3,
        "from_10m_to_20m": 1,
        "over_20m": 1,
        "amount_under_10m": 16e6,
        "amount_10m_to_20m": 12e6,
        "amount_over_20m": 25e6,
    }
    assert g["npl_count"] == 1 and g["npl_amount_cny"] == pytest.approx(12e6)
    # The point-in-time ratio: the 12-month bullets matured a year ago and count as repaid by their schedule,
    # but a12 defaulted before maturity and still owes 12m; the old figure was 12m / (3m + 12m + 5m).
    assert g["balance_cny"] == pytest.approx(12e6) and g["npl_rate"] == 1.0
    assert 0 < g["average_pd"] < 1 and g["collateral_p50_cny"] > 0
    assert g["ltv"]["p10"] <= g["ltv"]["p50"] <= g["ltv"]["p90"]
    assert report["total"]["loans"] >= 5
    month = (business_today() - timedelta(days=730)).strftime("%Y-%m")
    assert any(m["month"] == month and m["loans"] >= 5 for m in report["monthly"])


def test_portfolio_by_bank_industry_type_vintage(server: Server, seeded: dict[str, Any]) -> None:
    with _regulator(server) as r:
        by = {
            k: r.get("/v1/regulator/portfolio", params={"group_by": k}).json()
            for k in ("bank", "industry", "patent_type", "vintage")
        }
    banks = {g["key"]: g for g in by["bank"]["groups"]}
    assert banks["bank_a"]["loans"] >= 3 and banks["bank_b"]["loans"] >= 2
    assert {g["key"] for g in by["patent_type"]["groups"]} >= {"invention", "utility_model"}
    vintage = str((business_today() - timedelta(days=730)).year)
    assert any(g["key"] == vintage and g["loans"] >= 5 for g in by["vintage"]["groups"])
    assert sum(g["loans"] for g in by["industry"]["groups"]) == by["industry"]["total"]["loans"]


def test_exports_match_the_json(server: Server, seeded: dict[str, Any]) -> None:
    with _regulator(server) as r:
        report = r.get("/v1/regulator/portfolio", params={"group_by": "region"}).json()
        files = {
            fmt: r.get("/v1/regulator/portfolio/export", params={"group_by": "region", "format": fmt})
            for fmt in ("csv", "parquet", "xlsx")
        }
    assert files["csv"].headers["content-type"].startswith("text/csv")
    assert files["csv"].content.startswith("\ufeff".encode())  # the BOM spreadsheet programs need for UTF-8
    frames = [
        pd.read_csv(io.StringIO(files["csv"].content.decode("utf-8-sig"))),
        pd.read_parquet(io.BytesIO(files["parquet"].content)),
        pd.read_excel(io.BytesIO(files["xlsx"].content), engine="openpyxl"),
    ]
    g = next(x for x in report["groups"] if x["key"] == REGION)
    for frame in frames:
        row = frame[frame["分组"] == "铜仁市"].iloc[0]
        assert row["累计发放笔数"] == g["loans"] and row["2000万元及以上笔数"] == 1
        assert row["不良贷款率"] == pytest.approx(g["npl_rate"]) and row["分组维度"] == "市州"
        assert (frame["分组"] == "合计").sum() == 1


def test_outcome_validation_and_tenancy_write_nothing(server: Server, seeded: dict[str, Any]) -> None:
    before = (server.count("loan_outcomes"), server.count("audit_log"))
    with server.client("bank_a") as c:
        with pytest.raises(ValidationFailed):
            c.request(
                "POST",
                "/v1/outcomes",
                json={
                    "loan_id": seeded["a3"],
                    "as_of": "2026-01-01",
                    "status": "default",
                    "days_past_due": 100,
                    "npl_class": "loss",
                },
            )
        with pytest.raises(ValidationFailed):
            c.request(
                "POST",
                "/v1/outcomes",
                json={
                    "loan_id": seeded["a3"],
                    "as_of": "2026-01-01",
                    "status": "default",
                    "days_past_due": 100,
                    "npl_class": "normal",
                    "default_date": "2025-12-01",
                },
            )
        with pytest.raises(NotFoundError):
            c.request(
                "POST",
                "/v1/outcomes",
                json={
                    "loan_id": seeded["b8"],
                    "as_of": "2026-01-01",
                    "status": "repaid",
                    "days_past_due": 0,
                    "npl_class": "normal",
                },
            )
    with server.client("regulator") as reg, pytest.raises(PermissionDenied):
        reg.request(
            "POST",
            "/v1/outcomes",
            json={
                "loan_id": seeded["a3"],
                "as_of": "2026-01-01",
                "status": "repaid",
                "days_past_due": 0,
                "npl_class": "normal",
            },
        )
    assert (server.count("loan_outcomes"), server.count("audit_log")) == before


def test_repaid_outcome_closes_the_loan(server: Server, seeded: dict[str, Any]) -> None:
    with server.client("bank_b") as c:
        assert c.get_loan(seeded["b5"]).status == "closed"


def test_performance_on_matured_loans(server: Server, seeded: dict[str, Any]) -> None:
    with _regulator(server) as r:
        perf = r.get("/v1/regulator/monitoring/performance").json()
    # a12 defaulted within 12 months; b5 repaid; a3 performing and older than 12 months.
    assert perf["loans"] >= 3 and perf["defaults"] >= 1
    rows = {g["grade"]: g for g in perf["by_grade"]}
    assert sum(g["loans"] for g in rows.values()) == perf["loans"]
    assert all(0 <= (g["binomial_p_value"] or 0) <= 1 for g in rows.values())


def test_model_inventory_history_and_cards(server: Server) -> None:
    with _regulator(server) as r:
        inv = r.get("/v1/regulator/models").json()
        card = r.get("/v1/regulator/models/pd/1/card").json()
        review = r.get("/v1/regulator/models/claim_review/1/card").json()
        before = r.get("/v1/regulator/models/pd/champion", params={"at": "2000-01-01T00:00:00Z"}).json()
        now = r.get(
            "/v1/regulator/models/pd/champion", params={"at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        ).json()
        missing = r.get("/v1/regulator/models/nope/1/card")
    assert set(inv["models"]) >= {"valuation", "pd", "claim_review"}
    pd1 = inv["models"]["pd"][0]
    assert pd1["version"] == "1" and "champion" in pd1["aliases"] and pd1["synthetic"] is True
    assert pd1["metrics"]["model"]["auc"] > 0.6
    assert inv["history"]["pd"][0]["to_version"] == "1" and inv["history"]["pd"][0]["actor"] == "tests"
    assert card["purpose"].startswith("12-month probability of default")
    assert card["known_limits"] and "log_revenue" in card["features"]
    assert card["promoted"][0]["to_version"] == "1"
    assert card["shap_kernel"]["main"]["supported"] is True  # the gate run at registration
    assert card["shap_kernel"]["main"]["row_kernel"] is True  # and the single-row kernel's own gate
    assert card["low_confidence"] is (card["low_confidence_reasons"] != [])
    assert review["low_confidence"] is True and review["low_confidence_reasons"]  # tens of claims: advisory
    assert before["champion"] is None and now["champion"] == "1"
    assert missing.status_code == 404


@pytest.mark.parametrize("who", ["bank_a", "insurer", "fund_manager", "data_team"])
def test_only_the_regulator_reaches_the_view(server: Server, who: str) -> None:
    headers = {"Authorization": f"Bearer {server.keys[who]}"}
    for path in (
        "/v1/regulator/portfolio",
        "/v1/regulator/models",
        "/v1/regulator/audit/verify",
        "/v1/regulator/audit/checkpoints",
        "/v1/regulator/monitoring/drift",
        "/v1/regulator/monitoring/performance",
        "/v1/regulator/portfolio/export",
    ):
        assert httpx.get(f"{server.base_url}{path}", headers=headers).status_code == 403, path


def test_audit_tampering_is_detected_and_named(server: Server, seeded: dict[str, Any]) -> None:
    with _regulator(server) as r:
        ok = r.get("/v1/regulator/audit/verify").json()
    assert ok["ok"] is True and ok["entries"] == server.count("audit_log")
    engine = server.engine()
    try:
        with engine.begin() as conn:
            original = conn.execute(text("SELECT detail FROM audit_log WHERE seq = 3")).scalar_one()
            conn.execute(text("UPDATE audit_log SET detail = :d WHERE seq = 3"), {"d": '{"pd": 0.0001}'})
        with _regulator(server) as r:
            edited = r.get("/v1/regulator/audit/verify").json()
        assert edited["ok"] is False and edited["first_broken_seq"] == 3
        assert "content does not match" in edited["problem"]
        with engine.begin() as conn:
            restored = original if isinstance(original, str) else json.dumps(original)
            conn.execute(text("UPDATE audit_log SET detail = :d WHERE seq = 3"), {"d": restored})
            row = conn.execute(text("SELECT * FROM audit_log WHERE seq = 4")).mappings().one()
            conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
        with _regulator(server) as r:
            deleted = r.get("/v1/regulator/audit/verify").json()
        assert deleted["ok"] is False and deleted["first_broken_seq"] == 4
        with engine.begin() as conn:
            values = dict(row)
            if not isinstance(values["detail"], str):
                values["detail"] = json.dumps(values["detail"])
            cols = ", ".join(values)
            conn.execute(text(f"INSERT INTO audit_log ({cols}) VALUES ({', '.join(':' + k for k in values)})"), values)
        with _regulator(server) as r:
            assert r.get("/v1/regulator/audit/verify").json()["ok"] is True
    finally:
        engine.dispose()


def test_the_regulator_keeps_signed_checkpoints_and_verifies_against_them(
    server: Server, seeded: dict[str, Any]
) -> None:
    new_key(server.settings, role="bank", institution="bank_late", label="written after the last verify")
    engine = server.engine()
    try:
        deadline = time.monotonic() + 10
        with engine.connect() as conn:  # the background sealer chains what was written, no verify needed
            while conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL")).scalar_one():
                assert time.monotonic() < deadline, "entries left unsealed"
                conn.rollback()
                time.sleep(0.1)
    finally:
        engine.dispose()
    app_state(server.app).audit.checkpoint(force=True)  # what the service does every minute and at shutdown
    with _regulator(server) as r:
        copy = r.get("/v1/regulator/audit/checkpoints").json()
        latest = copy[-1]
        verdict = r.get("/v1/regulator/audit/verify").json()
        mine = r.get("/v1/regulator/audit/verify", params={"seq": latest["seq"], "hash": latest["hash"]}).json()
        wrong = r.get("/v1/regulator/audit/verify", params={"seq": latest["seq"], "hash": "0" * 64}).json()
        half = r.get("/v1/regulator/audit/verify", params={"seq": latest["seq"]})
    assert latest["seq"] >= 1 and len(latest["sig"]) == 64
    assert verdict["ok"] is True and verdict["checkpoint"] == latest and verdict["checkpoints"] == len(copy)
    assert verdict["entries"] >= latest["seq"]
    assert mine["ok"] is True
    assert wrong["ok"] is False and "differs from your checkpoint" in wrong["problem"]
    assert half.status_code == 422 and half.json()["field"] == "hash"


def test_fund_statistics_by_party(server: Server) -> None:
    fund_id, mgr = new_fund(server, "four_party_54_26_16_4")
    with server.client("bank_a") as bank:
        claim = four_party_claim(server, bank, fund_id)
        mgr.decide_claim(fund_id, claim.id, "approve")
        with clock(server, FILED):
            bank.report_recovery(fund_id, claim.id, {"amount_cny": "300000.00", "recovered_on": "2025-10-09"})
    mgr.close()
    with _regulator(server) as r:
        stats = {s["fund_id"]: s for s in r.get("/v1/regulator/funds").json()}[fund_id]
    paid = {p["name"]: p["amount_cny"] for p in stats["paid_by_party"]}
    assert paid == {"fund": 500000.00, "insurer": 148148.15, "appraiser": 37037.04, "bank": 549382.70}
    recovered = {p["name"]: p["amount_cny"] for p in stats["recovered_by_party"]}
    assert recovered == {"fund": 121500.00, "bank": 133500.00, "insurer": 36000.00, "appraiser": 9000.00}
    assert stats["claims"] == {"filed": 1, "approved": 1}
    assert stats["paid_cny"] == 500000.00 and stats["recovered_cny"] == 121500.00
    assert stats["balance_cny"] == pytest.approx(100_000_000 - 500_000 + 121_500)
    assert stats["fund_utilisation"] == pytest.approx((500_000 - 121_500) / 100_000_000)
    assert stats["banks"] == 2 and stats["committed_lines_cny"] == 400_000_000
    assert stats["pooled_loans"] == 1 and stats["line_utilisation"] == pytest.approx(15e6 / 400e6)
    assert stats["outstanding_cny"] == 15e6
    assert stats["reconciled"] is True


def test_repaid_pooled_loans_release_the_line_utilisation(server: Server) -> None:
    fund_id, mgr = new_fund(server, "four_party_54_26_16_4")
    mgr.close()
    with server.client("bank_a") as bank:
        pid = pool_loan(server, bank, fund_id)
        with clock(server, FILED):
            bank.repay_pool_loan(fund_id, pid, {"amount_cny": "5000000.00", "repaid_on": FILED.isoformat()})
        with _regulator(server) as r:
            part = {s["fund_id"]: s for s in r.get("/v1/regulator/funds").json()}[fund_id]
        with clock(server, FILED):
            bank.repay_pool_loan(fund_id, pid, {"amount_cny": "10000000.00", "repaid_on": FILED.isoformat()})
    with _regulator(server) as r:
        done = {s["fund_id"]: s for s in r.get("/v1/regulator/funds").json()}[fund_id]
    assert part["outstanding_cny"] == 10e6 and part["line_utilisation"] == pytest.approx(10e6 / 400e6)
    assert done["outstanding_cny"] == 0 and done["line_utilisation"] == 0
    assert done["pooled_amount_cny"] == 15e6  # what was pooled stays counted as lending


def test_rejected_claims_are_not_claimed_loss(server: Server) -> None:
    fund_id, mgr = new_fund(server, "four_party_54_26_16_4")
    with server.client("bank_a") as bank:
        claim = four_party_claim(server, bank, fund_id)
        mgr.decide_claim(fund_id, claim.id, "reject", "no evidence of collection")
    mgr.close()
    with _regulator(server) as r:
        stats = {s["fund_id"]: s for s in r.get("/v1/regulator/funds").json()}[fund_id]
    assert stats["claims"] == {"filed": 1, "rejected": 1} and stats["claimed_loss_cny"] == 0
