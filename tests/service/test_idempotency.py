"""Idempotency-Key on every state-changing POST, over real HTTP, on SQLite and PostgreSQL.

For each route: a retry with the same key and body gets the same status and
bytes and writes nothing (no row, ledger line or audit entry); the same key
with another request is 409 naming the header; keys are per institution;
concurrent requests with one key act once; deposits and recoveries without a
key are 422.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel

from service.db.engine import make_engine
from service.db.migrate import alembic_config, upgrade
from service.db.tables import utcnow
from service.usecases.idempotency import RETENTION, purge_expired, purge_older_than
from tests.factories import ENTERED, FILED, application, claim_body, facts, patent, rule_body
from tests.service.fund_helpers import clock, file, manager_key, new_fund, pool_loan
from tests.service.harness import PG_URL, Server, drop_pg, pg_database

TABLES = (
    "funds",
    "fund_rule_versions",
    "fund_banks",
    "fund_loans",
    "fund_claims",
    "fund_recoveries",
    "fund_ledger",
    "audit_log",
    "valuations",
    "assessments",
    "insurance_quotes",
    "loans",
    "loan_patents",
    "loan_outcomes",
    "pledge_registrations",
    "pledge_events",
    "feature_snapshots",
    "idempotency_record",
)


def rows(server: Server) -> dict[str, int]:
    """Rows in every table a write can touch (ledger lines and audit entries included)."""
    engine = server.engine()
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()) for t in TABLES}
    finally:
        engine.dispose()


@dataclass
class Caller:
    """Raw HTTP as one API key, so status, bytes and headers can be compared."""

    server: Server
    api_key: str

    def post(self, path: str, body: Any = None, *, key: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"} | ({"Idempotency-Key": key} if key else {})
        return httpx.post(self.server.base_url + path, json=body, headers=headers, timeout=120)


def as_(server: Server, who: str) -> Caller:
    return Caller(server, server.keys[who])


def check_once(caller: Caller, path: str, body: Any, *, clash: tuple[str, Any]) -> dict[str, Any]:
    """The first request acts; its retry is the same answer and writes nothing; ``clash`` with its key is 409."""
    key = str(uuid.uuid4())
    first = caller.post(path, body, key=key)
    assert first.status_code in (200, 201), first.text
    assert "Idempotency-Replayed" not in first.headers
    after = rows(caller.server)
    again = caller.post(path, body, key=key)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert rows(caller.server) == after
    refused = caller.post(clash[0], clash[1], key=key)
    assert refused.status_code == 409, refused.text
    assert refused.json()["field"] == "Idempotency-Key" and "Idempotency-Key" in refused.json()["detail"]
    assert rows(caller.server) == after
    out: dict[str, Any] = first.json()
    return out


def test_fund_set_up_writes_act_once(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    new_id = f"fund_{uuid.uuid4().hex[:10]}"
    manager = Caller(server, manager_key(server, new_id))
    made = check_once(
        manager,
        "/v1/funds",
        {"id": new_id, "name": "a fund"},
        clash=("/v1/funds", {"id": new_id, "name": "another name"}),
    )
    assert made["id"] == new_id
    manager = Caller(server, manager_key(server, fund_id))
    rules = {"effective_from": "2025-12-01", "rules": {**_rules(), "name": "from December"}}
    with clock(server, FILED):
        version = check_once(
            manager,
            f"/v1/funds/{fund_id}/rules",
            rules,
            clash=(f"/v1/funds/{fund_id}/rules", {**rules, "effective_from": "2026-01-01"}),
        )
    assert version["version"] == 2
    deposit = {"amount_cny": "1234.56", "source": "city budget"}
    balance = check_once(
        manager,
        f"/v1/funds/{fund_id}/deposits",
        deposit,
        clash=(f"/v1/funds/{fund_id}/deposits", {**deposit, "amount_cny": "1234.57"}),
    )
    assert Decimal(balance["contributions_cny"]) == Decimal("100001234.56")  # once, not twice


def _rules() -> dict[str, Any]:
    rules: dict[str, Any] = rule_body("city_40_60")["rules"]
    return rules


def test_claim_workflow_writes_act_once(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    bank, manager = as_(server, "bank_a"), Caller(server, manager_key(server, fund_id))
    body = {"facts": facts()}
    with clock(server, ENTERED):
        entered = check_once(
            bank, f"/v1/funds/{fund_id}/loans", body, clash=(f"/v1/funds/{fund_id}/loans", {"facts": facts()})
        )
    with server.client("bank_a") as c:
        claim = file(server, c, fund_id, claim_body(entered["id"]))
    path = f"/v1/funds/{fund_id}/claims/{claim.id}"
    with clock(server, FILED):
        asked = check_once(
            manager,
            f"{path}/decision",
            {"decision": "request_info", "reason": "court papers?"},
            clash=(f"{path}/decision", {"decision": "approve"}),
        )
        assert asked["status"] == "info_requested"
        more = {"evidence": ["court acceptance notice"], "note": "filed"}
        again = check_once(bank, f"{path}/evidence", more, clash=(f"{path}/evidence", {"evidence": ["another notice"]}))
        assert again["status"] == "pending"
        paid = check_once(
            manager,
            f"{path}/decision",
            {"decision": "approve"},
            clash=(f"{path}/decision", {"decision": "reject", "reason": "no"}),
        )
        assert paid["status"] == "approved"
        recovery = {"amount_cny": "1000.00", "recovered_on": FILED.isoformat()}
        got = check_once(
            bank, f"{path}/recoveries", recovery, clash=(f"{path}/recoveries", {**recovery, "amount_cny": "1000.01"})
        )
    assert Decimal(got["amount_cny"]) == Decimal("1000.00")
    with server.client("regulator") as reg:
        assert reg.get_claim(fund_id, claim.id).recovered_cny == Decimal("1000.00")  # recovered once


def test_loan_outcome_and_quote_writes_act_once(server: Server) -> None:
    bank = as_(server, "bank_a")
    with server.client("bank_a") as c:
        a, b = c.assess(application()), c.assess(application())
    loan = check_once(bank, "/v1/loans", {"assessment_id": a.id}, clash=("/v1/loans", {"assessment_id": b.id}))
    other = bank.post("/v1/loans", {"assessment_id": b.id}, key=None).json()
    outcome = {
        "loan_id": loan["id"],
        "as_of": loan["origination_date"],
        "status": "performing",
        "days_past_due": 0,  # booked today: nothing can be past due yet
        "npl_class": "normal",
    }
    check_once(bank, "/v1/outcomes", outcome, clash=("/v1/outcomes", {**outcome, "npl_class": "special_mention"}))
    closed = check_once(bank, f"/v1/loans/{loan['id']}/close", None, clash=(f"/v1/loans/{other['id']}/close", None))
    assert closed["status"] == "closed"
    registration = {
        "status": "registered",
        "registration_number": "Y2026980001234",
        "registration_date": other["origination_date"],
        "term_start": other["origination_date"],
        "term_end": "2099-12-31",
    }
    path = f"/v1/loans/{other['id']}/registrations"
    recorded = check_once(
        bank, path, registration, clash=(path, {**registration, "registration_number": "Y2026980009999"})
    )
    assert recorded["pledge_state"] == "registered"
    quote = {"quote": {"product": "patent_enforcement", "tier": "basic", "patents": [patent()]}}
    check_once(
        bank,
        "/v1/insurance/quotes",
        quote,
        clash=("/v1/insurance/quotes", {"quote": {**quote["quote"], "tier": "enhanced"}}),
    )


def test_scoring_writes_act_once(server: Server) -> None:
    bank, app = as_(server, "bank_a"), application()
    check_once(bank, "/v1/valuations", {"patents": app["patents"]}, clash=("/v1/valuations", {"patents": [patent()]}))
    check_once(bank, "/v1/assessments", app, clash=("/v1/assessments", application()))
    check_once(bank, "/v1/assessments/batch", {"items": [app]}, clash=("/v1/assessments/batch", {"items": [app, app]}))


def test_a_key_on_another_route_is_409(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    manager = Caller(server, manager_key(server, fund_id))
    key = str(uuid.uuid4())
    assert manager.post(f"/v1/funds/{fund_id}/deposits", {"amount_cny": "1", "source": "x"}, key=key).status_code == 201
    refused = manager.post(f"/v1/funds/{fund_id}/rules", {"effective_from": "2099-01-01", "rules": _rules()}, key=key)
    assert refused.status_code == 409 and refused.json()["field"] == "Idempotency-Key"


@pytest.mark.parametrize("route", ["deposits", "recoveries"])
def test_money_routes_require_the_key(server: Server, route: str) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    with server.client("bank_a") as c:
        claim = file(server, c, fund_id, claim_body(pool_loan(server, c, fund_id)))
    caller, path, body = {
        "deposits": (
            Caller(server, manager_key(server, fund_id)),
            f"/v1/funds/{fund_id}/deposits",
            {"amount_cny": "1", "source": "x"},
        ),
        "recoveries": (
            as_(server, "bank_a"),
            f"/v1/funds/{fund_id}/claims/{claim.id}/recoveries",
            {"amount_cny": "1", "recovered_on": FILED.isoformat()},
        ),
    }[route]
    before = rows(server)
    with clock(server, FILED):
        out = caller.post(path, body, key=None)
    assert out.status_code == 422 and out.json()["field"] == "Idempotency-Key", out.text
    assert rows(server) == before
    schema = httpx.get(f"{server.base_url}/openapi.json").json()
    params = schema["paths"][path.replace(fund_id, "{fund_id}").replace(claim.id, "{claim_id}")]["post"]["parameters"]
    header = next(p for p in params if p["name"] == "Idempotency-Key")
    assert header["required"] is True and "retry" in header["description"]


def test_a_failed_request_stores_nothing_so_its_retry_acts(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    with server.client("bank_a") as c:
        claim = file(server, c, fund_id, claim_body(pool_loan(server, c, fund_id)))
    bank, key = as_(server, "bank_a"), str(uuid.uuid4())
    path, body = f"/v1/funds/{fund_id}/claims/{claim.id}/recoveries", {"amount_cny": "10", "recovered_on": "2025-10-09"}
    with clock(server, FILED):
        assert bank.post(path, body, key=key).status_code == 409  # not paid yet: nothing stored
        mgr.decide_claim(fund_id, claim.id, "approve")
        first = bank.post(path, body, key=key)
        assert first.status_code == 201 and "Idempotency-Replayed" not in first.headers
    mgr.close()


def test_one_key_in_two_institutions_names_two_requests(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    other_fund, other_mgr = new_fund(server, "city_40_60")
    key = str(uuid.uuid4())
    with clock(server, ENTERED):
        a = as_(server, "bank_a").post(f"/v1/funds/{fund_id}/loans", {"facts": facts()}, key=key)
        b = as_(server, "bank_b").post(f"/v1/funds/{fund_id}/loans", {"facts": facts()}, key=key)
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]
    assert "Idempotency-Replayed" not in b.headers
    body = {"amount_cny": "5", "source": "x"}
    for fid in (fund_id, other_fund):  # the same key and body, two funds' managers: two deposits
        out = Caller(server, manager_key(server, fid)).post(f"/v1/funds/{fid}/deposits", body, key=key)
        assert out.status_code == 201 and "Idempotency-Replayed" not in out.headers
    assert mgr.fund_balance(fund_id).contributions_cny == Decimal("100000005.00")
    assert other_mgr.fund_balance(other_fund).contributions_cny == Decimal("100000005.00")
    mgr.close()
    other_mgr.close()


def _race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    start = threading.Barrier(len(calls))

    def go(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result(timeout=300) for f in [pool.submit(go, c) for c in calls]]


def test_concurrent_requests_with_one_key_post_once(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    with server.client("bank_a") as c:
        claim = file(server, c, fund_id, claim_body(pool_loan(server, c, fund_id)))
    with clock(server, FILED):
        mgr.decide_claim(fund_id, claim.id, "approve")
    manager, bank = Caller(server, manager_key(server, fund_id)), as_(server, "bank_a")
    lines, audit = server.count("fund_ledger"), server.count("audit_log")
    for _ in range(3):
        key, body = str(uuid.uuid4()), {"amount_cny": "777.77", "source": "race"}
        out = _race([partial(manager.post, f"/v1/funds/{fund_id}/deposits", body, key=key)] * 6)
        assert {(r.status_code, r.content) for r in out} == {(201, out[0].content)}
        assert sum("Idempotency-Replayed" in r.headers for r in out) == 5
    recovery, key = {"amount_cny": "300.00", "recovered_on": "2025-10-09"}, str(uuid.uuid4())
    with clock(server, FILED):
        out = _race([lambda: bank.post(f"/v1/funds/{fund_id}/claims/{claim.id}/recoveries", recovery, key=key)] * 6)
    assert {(r.status_code, r.content) for r in out} == {(201, out[0].content)}
    assert server.count("fund_ledger") == lines + 3 * 2 + 2  # three deposits and one claw-back, two lines each
    assert server.count("audit_log") == audit + 4
    b = mgr.fund_balance(fund_id)
    assert b.contributions_cny == Decimal("100000000.00") + 3 * Decimal("777.77") and b.reconciled
    assert mgr.get_claim(fund_id, claim.id).recovered_cny == Decimal("300.00")
    mgr.close()


def test_answers_are_kept_for_the_retention_period_then_purged(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    manager, key, body = (
        Caller(server, manager_key(server, fund_id)),
        str(uuid.uuid4()),
        {"amount_cny": "1", "source": "x"},
    )
    assert manager.post(f"/v1/funds/{fund_id}/deposits", body, key=key).status_code == 201
    engine = server.engine()
    try:
        with Session(engine) as session:
            assert purge_older_than(session, before=utcnow() - RETENTION) == 0
            session.execute(
                text("UPDATE idempotency_record SET created_at = :at WHERE key = :key"),
                {"at": utcnow() - RETENTION - timedelta(days=1), "key": key},
            )
            session.commit()
        assert purge_expired(engine) == 1  # what the service runs hourly
        assert purge_expired(engine) == 0
    finally:
        engine.dispose()
    again = manager.post(f"/v1/funds/{fund_id}/deposits", body, key=key)
    assert again.status_code == 201 and "Idempotency-Replayed" not in again.headers  # purged: a new request
    assert mgr.fund_balance(fund_id).contributions_cny == Decimal("100000002.00")
    mgr.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_matches_the_model_and_downgrades(backend: str, tmp_path: Any) -> None:
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    url, name = (f"sqlite:///{tmp_path / 'm.db'}", None) if backend == "sqlite" else pg_database()
    if name:
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert [d for d in diff if "idempotency_record" in repr(d)] == []
        command.downgrade(alembic_config(engine), "0003_idempotency@0002_funds")
        assert "idempotency_record" not in inspect(engine).get_table_names()
        assert "fund_claims" in inspect(engine).get_table_names()
        upgrade(engine)
        assert "idempotency_record" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
        if name:
            drop_pg(name)
