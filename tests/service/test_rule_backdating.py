"""Rule versions take effect today or later; only the regulator backdates one, with a reason, audited,
and never under a claim already filed — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from service.client import ConflictError, ValidationFailed
from tests.factories import FILED, claim_body, rule_body
from tests.service.fund_helpers import clock, file, fund_rows, new_fund, pool_loan
from tests.service.harness import Server

ZERO_SHARE = [{"name": "fund", "role": "pool", "share": 0}, {"name": "bank", "role": "bank", "share": 1}]
THREE_DAYS_AGO = FILED - timedelta(days=3)


def zero_share(effective_from: Any, **extra: Any) -> dict[str, Any]:
    """A version that sets the fund's share to 0 (the measured attack)."""
    body = rule_body("city_40_60", name="fund pays nothing", parties=ZERO_SHARE)
    return {**body, "effective_from": str(effective_from), **extra}


def audit_entries(server: Server, fund_id: str, action: str) -> list[dict[str, Any]]:
    engine = server.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT detail, institution FROM audit_log WHERE resource_id = :f AND action = :a ORDER BY seq"),
                {"f": fund_id, "a": action},
            ).all()
    finally:
        engine.dispose()
    return [{"detail": d if isinstance(d, dict) else json.loads(d), "institution": i} for d, i in rows]


def test_a_manager_cannot_backdate_and_the_zero_payout_is_gone(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    with server.client("bank_a") as bank:
        loan = pool_loan(server, bank, fund_id)
        before = fund_rows(server)
        with clock(server, FILED), pytest.raises(ValidationFailed) as info:
            mgr.add_rule_version(fund_id, zero_share(THREE_DAYS_AGO))
        assert info.value.field == "effective_from" and "today" in info.value.detail
        assert fund_rows(server) == before
        with clock(server, FILED):  # from today on is the manager's right: it changes no claim already in default
            assert mgr.add_rule_version(fund_id, zero_share(FILED)).effective_from == FILED
        claim = file(server, bank, fund_id, claim_body(loan, default_date=THREE_DAYS_AGO.isoformat()))
    # measured on main: ¥0.00 under the backdated version; judged under the version in force on the default date
    assert (claim.rule_version, claim.payout.pool_payout_cny) == (1, Decimal("400000.00"))
    mgr.close()


def test_the_regulator_backdates_only_with_a_reason_and_it_is_audited(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    before = fund_rows(server)
    with server.client("regulator") as reg, clock(server, FILED):
        for reason in ({}, {"reason": "   "}):
            with pytest.raises(ValidationFailed) as info:
                reg.add_rule_version(fund_id, zero_share(THREE_DAYS_AGO, **reason))
            assert info.value.field == "reason"
        assert fund_rows(server) == before
        v = reg.add_rule_version(fund_id, zero_share(THREE_DAYS_AGO, reason="provincial notice 2025-41 of 7 October"))
    assert (v.version, v.effective_from, v.created_by) == (2, THREE_DAYS_AGO, "nfra_guizhou")
    [entry] = audit_entries(server, fund_id, "fund.rules.backdate")
    assert entry["institution"] == "nfra_guizhou"
    assert entry["detail"]["reason"] == "provincial notice 2025-41 of 7 October"
    assert (entry["detail"]["backdated_days"], entry["detail"]["entered_on"]) == (3, FILED.isoformat())
    assert entry["detail"]["effective_from"] == THREE_DAYS_AGO.isoformat()


def test_no_backdating_under_a_filed_claim(server: Server) -> None:
    fund_id, mgr = new_fund(server, "city_40_60")
    mgr.close()
    with server.client("bank_a") as bank:
        claim = file(
            server, bank, fund_id, claim_body(pool_loan(server, bank, fund_id), default_date=THREE_DAYS_AGO.isoformat())
        )
    before = fund_rows(server)
    with server.client("regulator") as reg, clock(server, FILED):
        for day in (THREE_DAYS_AGO, THREE_DAYS_AGO - timedelta(days=30)):  # on and before the claim's default
            with pytest.raises(ConflictError) as info:
                reg.add_rule_version(fund_id, zero_share(day, reason="correction"))
            assert info.value.field == "effective_from" and claim.id in info.value.detail
        assert fund_rows(server) == before
        # after the claim's default date it re-judges nothing already filed
        v = reg.add_rule_version(fund_id, zero_share(THREE_DAYS_AGO + timedelta(days=1), reason="correction"))
    assert v.version == 2
    with server.client("bank_a") as bank:
        again = bank.get_claim(fund_id, claim.id)
    assert (again.rule_version, again.payout.pool_payout_cny) == (1, Decimal("400000.00"))
