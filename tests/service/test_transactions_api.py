"""The IP-transaction registry over real HTTP: who registers what, validation, statistics of a constructed quarter."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest

from scoring.book import period_end, period_start
from scoring.vocab import PRICE_SOURCES
from service.client import ApiError, IpriskClient, NotFoundError, PermissionDenied, ValidationFailed
from service.keys import new_key
from tests.factories import application, business_today
from tests.patent_numbers import fresh_patent_id
from tests.service.harness import Server
from training.contract import PATENTS

_DAY = business_today() - timedelta(days=100)
PERIOD = f"{_DAY.year}Q{(_DAY.month - 1) // 3 + 1}"
START, END = period_start(PERIOD), period_end(PERIOD)
PREVIOUS = f"{(START - timedelta(days=1)).year}Q{(START - timedelta(days=1)).month // 3}"
GY = {"region": "guiyang", "industry": "computing_power"}
ZY = {"region": "zunyi", "industry": "baijiu"}


def _t(kind: str, owner: dict[str, Any], on: date | None = None, **terms: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "patent_id": fresh_patent_id(),
        "occurred_on": (on or START + timedelta(days=10)).isoformat(),
        "owner": owner,
        "counterparty": {"region": "anshun", "industry": "other"},
        **terms,
    }


@pytest.fixture(scope="module")
def feed(server: Server) -> IpriskClient:
    """A data-feed client."""
    return IpriskClient(server.base_url, api_key=new_key(server.settings, role="data_feed", institution="feed")[0])


@pytest.fixture(scope="module")
def bank_loan(server: Server) -> dict[str, str]:
    """A loan of bank_a and the patent pledged to it."""
    app = application(amount_cny=2e6, tenor_months=24)
    app["as_of"] = (START - timedelta(days=5)).isoformat()
    with server.client("bank_a") as c:
        a = c.assess(app)
        loan = c.book_loan({"assessment_id": a.id, "origination_date": app["as_of"]})
    return {"loan_id": loan.id, "patent_id": app["patents"][0]["patent_id"]}


@pytest.fixture(scope="module")
def quarter(server: Server, feed: IpriskClient, bank_loan: dict[str, str]) -> list[Any]:
    """Six transactions of the feed and a bank's pledge registration in the quarter, one the quarter before."""
    rows = [
        feed.register_transaction(_t("transfer", GY, price_cny="1000000.00")),
        feed.register_transaction(_t("transfer", ZY, price_cny="500000.00")),
        feed.register_transaction(_t("licence_exclusive", GY, royalty_rate=0.03, upfront_cny="200000.00")),
        feed.register_transaction(_t("licence_non_exclusive", GY, royalty_rate=0.05, term_months=36)),
        feed.register_transaction(_t("licence_open", {"industry": "baijiu"}, royalty_rate=0.02)),
        feed.register_transaction(_t("capital_contribution", ZY, price_cny="3000000.00")),
        feed.register_transaction(_t("transfer", GY, START - timedelta(days=30), price_cny="700000.00")),
        feed.report_turnover({"period": PERIOD, "turnover_cny": "34000000.00"}),
    ]
    with server.client("bank_a") as c:
        rows.append(
            c.register_transaction(
                {**_t("pledge_registration", GY, price_cny="2000000.00"), **bank_loan},
            )
        )
    return rows


def _regulator(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.keys['regulator']}"})


def test_statistics_of_the_constructed_quarter(server: Server, quarter: list[Any]) -> None:
    with _regulator(server) as r:
        s = r.get(f"/v1/transactions/statistics/{PERIOD}").json()
    assert (s["start"], s["end"]) == (START.isoformat(), END.isoformat())
    assert (s["count"], s["amount_cny"]) == (7, 6.7e6)

    def table(name: str) -> dict[str, tuple[int, float]]:
        return {g["key"]: (g["count"], g["amount_cny"]) for g in s[name]}

    assert table("by_type") == {
        "transfer": (2, 1.5e6),
        "licence_exclusive": (1, 2e5),
        "licence_non_exclusive": (1, 0),
        "licence_open": (1, 0),
        "capital_contribution": (1, 3e6),
        "pledge_registration": (1, 2e6),
    }
    assert table("by_region") == {"guiyang": (4, 3.2e6), "zunyi": (2, 3.5e6), "outside": (1, 0)}
    assert {g["key"]: g["label"] for g in s["by_region"]} == {"guiyang": "贵阳市", "zunyi": "遵义市", "outside": "省外"}
    assert table("by_industry") == {"computing_power": (4, 3.2e6), "baijiu": (3, 3.5e6)}
    assert table("by_quarter") == {PREVIOUS: (1, 7e5), PERIOD: (7, 6.7e6)}
    royalty = {g["industry"]: g for g in s["royalty_rates"]}
    assert royalty["computing_power"] == {
        "industry": "computing_power",
        "label": "数据中心（算力）",
        "licences": 2,
        "mean": pytest.approx(0.04),
        "p25": pytest.approx(0.035),
        "median": pytest.approx(0.04),
        "p75": pytest.approx(0.045),
        "min": 0.03,
        "max": 0.05,
    }
    assert royalty["baijiu"]["licences"] == 1 and royalty["baijiu"]["median"] == 0.02
    # Transfers 1.5m + the exclusive licence's upfront 0.2m, of a 34m turnover.
    assert s["transfer_and_licence_cny"] == 1.7e6 and s["technology_turnover_cny"] == 34e6
    assert s["share_of_turnover"] == pytest.approx(0.05)


def test_registered_prices_leave_as_observed_prices(server: Server, quarter: list[Any]) -> None:
    headers = {"Authorization": f"Bearer {new_key(server.settings, role='data_team', institution='iprisk')[0]}"}
    got = httpx.get(f"{server.base_url}/v1/transactions/prices", headers=headers)
    assert got.status_code == 200
    frame = pd.read_csv(io.StringIO(got.content.decode("utf-8-sig")))
    assert set(frame.columns) <= set(PATENTS.column_names)
    assert set(frame["price_source"]) <= set(PRICE_SOURCES)
    # three transfers, the exclusive licence's upfront fee, the contribution; no pledge, no rate-only licence
    assert sorted(frame["observed_price_cny"]) == [2e5, 5e5, 7e5, 1e6, 3e6]
    assert dict(frame["price_source"].value_counts()) == {"transfer": 3, "licence": 1, "appraisal": 1}
    with server.client("bank_a") as bank, pytest.raises(PermissionDenied):
        bank.request("GET", "/v1/transactions/prices")


def test_who_registers_what_and_bad_input_writes_nothing(
    server: Server, feed: IpriskClient, bank_loan: dict[str, str], quarter: list[Any]
) -> None:
    before = (server.count("ip_transactions"), server.count("audit_log"))
    tomorrow = business_today() + timedelta(days=2)
    for body, field in (
        (_t("licence_exclusive", GY), "royalty_rate"),
        (_t("transfer", GY), "price_cny"),
        (_t("transfer", GY, tomorrow, price_cny="1.00"), "occurred_on"),
        (_t("licence_open", GY, royalty_rate=0.02, price_cny="5.00"), "price_cny"),
        (_t("pledge_release", GY, royalty_rate=0.02), "royalty_rate"),
        ({**_t("transfer", GY, price_cny="1.00"), "patent_id": "CN123"}, "patent_id"),
        ({**_t("transfer", GY, price_cny="1.00"), **bank_loan}, "loan_id"),  # the feed names no bank's loan
    ):
        with pytest.raises(ValidationFailed) as exc:
            feed.register_transaction(body)
        assert exc.value.field == field, body
    with server.client("bank_a") as bank:
        with pytest.raises(ValidationFailed) as exc:
            bank.register_transaction({**_t("transfer", GY, price_cny="1.00"), **bank_loan})
        assert exc.value.field == "type"
        with pytest.raises(ValidationFailed) as exc:
            bank.register_transaction({**_t("pledge_release", GY), "loan_id": bank_loan["loan_id"]})
        assert exc.value.field == "patent_id"  # not the loan's patent
    with server.client("bank_b") as other, pytest.raises(NotFoundError):
        other.register_transaction({**_t("pledge_release", GY), **bank_loan})
    for who in ("regulator", "insurer", "fund_manager"):
        with server.client(who) as c, pytest.raises(PermissionDenied):
            c.register_transaction(_t("transfer", GY, price_cny="1.00"))
    assert (server.count("ip_transactions"), server.count("audit_log")) == before


def test_a_transaction_is_read_by_its_registrant_and_the_regulator(
    server: Server, feed: IpriskClient, quarter: list[Any]
) -> None:
    mine = quarter[-1]
    with server.client("bank_a") as a, server.client("bank_b") as b, _regulator(server) as r:
        assert a.request("GET", f"/v1/transactions/{mine.id}")["price_cny"] == "2000000.00"
        assert r.get(f"/v1/transactions/{mine.id}").json()["institution"] == "bank_a"
        with pytest.raises(NotFoundError):
            b.request("GET", f"/v1/transactions/{mine.id}")
    with pytest.raises(ApiError) as exc:
        feed.report_turnover({"period": f"{business_today().year + 1}Q1", "turnover_cny": "1.00"})
    assert exc.value.field == "period"


def test_registered_prices_drift_against_the_valuation_reference(
    server: Server, feed: IpriskClient, quarter: list[Any]
) -> None:
    headers = {"Authorization": f"Bearer {server.keys['regulator']}"}
    few = httpx.get(f"{server.base_url}/v1/transactions/prices/drift", headers=headers).json()
    assert few["model"] == "valuation" and few["rows"] == 5 and few["psi"] is None and "at least 30" in few["note"]
    yesterday = business_today() - timedelta(days=1)
    for _ in range(30):  # a market of one price: all in one bin of the reference
        feed.register_transaction(_t("transfer", GY, yesterday, price_cny="50000000.00"))
    drift = httpx.get(f"{server.base_url}/v1/transactions/prices/drift", headers=headers).json()
    assert drift["rows"] == 35 and drift["psi"] > 0.25 and drift["band"] == "act"
    assert drift["reference"] == "observed_prices"  # the prices the valuation model learned from
    with server.client("bank_a") as bank, pytest.raises(PermissionDenied):
        bank.request("GET", "/v1/transactions/prices/drift")
