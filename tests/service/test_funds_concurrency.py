"""Many threads filing and approving claims on one fund at once, on SQLite and PostgreSQL.

The fund holds ¥3m and the claims ask for ¥12m: the fund lock must keep every
reservation and payout within the balance, every approval exactly once, and
the ledger balanced at every moment a reader looks.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlmodel import Session

from service.client import ConflictError, IpriskClient
from service.db.audit import verify_chain
from tests.factories import FILED, claim_body
from tests.service.fund_helpers import clock, manager_key, new_fund, pool_loan
from tests.service.harness import Server

CLAIMS = 24
WORKERS = 8
DEPOSIT = Decimal("3000000.00")
EACH = Decimal("500000.00")  # 50% of ¥1m principal


def test_concurrent_filings_and_approvals_never_overdraw(server: Server) -> None:
    fund_id, mgr = new_fund(server, "fund_50_20_20_10", deposit=str(DEPOSIT))
    mgr.close()
    keys = {"bank": server.keys["bank_a"], "mgr": manager_key(server, fund_id)}
    with server.client("bank_a") as bank:
        loans = [pool_loan(server, bank, fund_id) for _ in range(CLAIMS)]
    local = threading.local()
    seen: list[tuple[Decimal, Decimal, bool]] = []
    outcomes: list[str] = []
    stop = threading.Event()

    def client(who: str) -> IpriskClient:
        if not hasattr(local, who):  # one connection pool per thread and caller
            setattr(local, who, IpriskClient(server.base_url, api_key=keys[who], timeout=120))
        c: IpriskClient = getattr(local, who)
        return c

    def file_and_approve(loan_id: str) -> None:
        key = uuid.uuid4().hex
        body = claim_body(loan_id)
        claim = client("bank").file_claim(fund_id, body, idempotency_key=key)
        assert client("bank").file_claim(fund_id, body, idempotency_key=key).id == claim.id
        for _ in range(2):  # the second approval of the same claim must be refused
            try:
                client("mgr").decide_claim(fund_id, claim.id, "approve")
                outcomes.append("approved")
            except ConflictError:
                outcomes.append("conflict")

    def watch() -> None:
        with IpriskClient(server.base_url, api_key=server.keys["regulator"], timeout=120) as reg:
            while not stop.is_set():
                b = reg.fund_balance(fund_id)
                seen.append((b.available_cny, b.committed_cny, b.reconciled))

    with clock(server, FILED), ThreadPoolExecutor(WORKERS + 1) as pool:
        watcher = pool.submit(watch)
        # each loan's claim is filed twice with one key and approved twice, from many threads at once
        futures = [pool.submit(file_and_approve, loan) for loan in loans]
        for f in futures:
            f.result(timeout=600)
        stop.set()
        watcher.result(timeout=60)

    assert outcomes.count("approved") == CLAIMS and outcomes.count("conflict") == CLAIMS
    assert seen and all(avail >= 0 and committed >= 0 and ok for avail, committed, ok in seen)
    with server.client("regulator") as reg:
        b = reg.fund_balance(fund_id)
        claims = reg.list_claims(fund_id, limit=500).items
        ledger = reg.fund_ledger(fund_id, limit=500)
    assert len(claims) == CLAIMS and all(c.status == "approved" for c in claims)
    assert all(Decimal(0) <= c.paid_cny <= EACH for c in claims)
    assert sum(c.paid_cny for c in claims) == b.paid_cny == DEPOSIT  # demand ¥12m > ¥3m: all of it, never more
    assert (b.balance_cny, b.available_cny, b.committed_cny) == (Decimal(0), Decimal(0), Decimal(0))
    assert b.reconciled and b.debits_cny == b.credits_cny
    assert sum(x.debit_cny for x in ledger.items) == sum(x.credit_cny for x in ledger.items)
    assert server.count("fund_claims") >= CLAIMS
    engine = server.engine()
    try:
        with Session(engine) as session:
            assert verify_chain(session).ok
    finally:
        engine.dispose()


def test_concurrent_filings_with_one_key_make_one_claim(server: Server) -> None:
    fund_id, mgr = new_fund(server, "fund_50_20_20_10", deposit="1000000.00")
    mgr.close()
    with server.client("bank_a") as bank:
        loans = [pool_loan(server, bank, fund_id) for _ in range(4)]
    before = server.count("fund_claims")

    def race(loan_id: str) -> set[str]:
        key = uuid.uuid4().hex
        with ThreadPoolExecutor(3) as pool, clock(server, FILED):
            clients = [IpriskClient(server.base_url, api_key=server.keys["bank_a"], timeout=120) for _ in range(3)]
            try:
                futures = [
                    pool.submit(c.file_claim, fund_id, claim_body(loan_id), idempotency_key=key) for c in clients
                ]
                return {f.result(timeout=300).id for f in futures}
            finally:
                for c in clients:
                    c.close()

    assert all(len(race(loan)) == 1 for loan in loans)
    assert server.count("fund_claims") == before + len(loans)
    with server.client("regulator") as reg:
        b = reg.fund_balance(fund_id)
    assert b.committed_cny == Decimal("1000000.00") and b.available_cny == 0 and b.reconciled
