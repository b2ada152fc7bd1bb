"""Fund API workflows on a live server: funds with their own manager keys, pooled loans, claims, the clock.

The request bodies they send are built by :mod:`tests.factories`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from service.client import IpriskClient
from service.deps import get_today
from service.keys import new_key
from tests.factories import ENTERED, FILED, claim_body, facts, rule_body
from tests.service.harness import Server


@contextmanager
def clock(server: Server, day: date) -> Iterator[None]:
    """Run requests as if the service's date were ``day``."""
    app = server.app
    app.dependency_overrides[get_today] = lambda: day
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_today, None)


def manager_key(server: Server, fund_id: str) -> str:
    """A fresh fund-manager key for ``fund_id``."""
    return new_key(server.settings, role="fund_manager", institution=fund_id)[0]


def manager_for(server: Server, fund_id: str) -> IpriskClient:
    """A client with a fresh fund-manager key for ``fund_id``."""
    return IpriskClient(server.base_url, api_key=manager_key(server, fund_id), timeout=60)


def new_fund(
    server: Server,
    rules: str | dict[str, Any],
    *,
    deposit: str | None = "100000000.00",
    banks: tuple[str, ...] = ("bank_a", "bank_b"),
) -> tuple[str, IpriskClient]:
    """A fund with one rule version, a deposit and cooperating banks; returns its id and its manager."""
    fund_id = f"fund_{uuid.uuid4().hex[:10]}"
    mgr = manager_for(server, fund_id)
    mgr.create_fund({"id": fund_id, "name": f"test fund {fund_id}", "region": "guiyang"})
    body = rule_body(rules) if isinstance(rules, str) else rules
    with clock(server, date.fromisoformat(str(body["effective_from"]))):  # entered on its first day: not backdated
        mgr.add_rule_version(fund_id, body)
    if deposit is not None:
        mgr.deposit(fund_id, {"amount_cny": deposit, "source": "provincial budget"})
    for bank in banks:
        mgr.set_fund_bank(
            fund_id, bank, {"pool_share_cny": "2000000", "committed_line_cny": "200000000", "joined_on": "2024-01-01"}
        )
    return fund_id, mgr


def pool_loan(server: Server, client: IpriskClient, fund_id: str, **over: Any) -> str:
    """Register an eligible loan (on :data:`ENTERED`); return its pool id."""
    with clock(server, ENTERED):
        return client.register_pool_loan(fund_id, {"facts": facts(**over)}).id


def file(
    server: Server,
    client: IpriskClient,
    fund_id: str,
    body: dict[str, Any],
    *,
    key: str | None = None,
    on: date = FILED,
) -> Any:
    """File a claim on ``on`` with a fresh (or the given) Idempotency-Key."""
    with clock(server, on):
        return client.file_claim(fund_id, body, idempotency_key=key or uuid.uuid4().hex)


def amounts(claim: Any) -> dict[str, Decimal]:
    """Party → amount (CNY) of a claim's payout."""
    return {p.name: p.amount_cny for p in claim.payout.parties}


def fund_rows(server: Server) -> tuple[int, ...]:
    """Rows in every fund table and the audit log."""
    return tuple(
        server.count(t)
        for t in (
            "funds",
            "fund_rule_versions",
            "fund_banks",
            "fund_loans",
            "fund_claims",
            "fund_recoveries",
            "fund_ledger",
            "fund_corrections",
            "fund_subsidy_versions",
            "fund_subsidy_applications",
            "audit_log",
        )
    )


def four_party_claim(server: Server, bank: IpriskClient, fund_id: str) -> Any:
    """The 54/26/16/4 worked example's claim: ¥1,234,567.89 principal on a loan with 75% IP collateral."""
    return file(
        server,
        bank,
        fund_id,
        claim_body(
            pool_loan(server, bank, fund_id, ip_share_of_collateral="0.75"),
            principal_outstanding_cny="1234567.89",
            claimed_amount_cny="1234567.89",
        ),
    )
