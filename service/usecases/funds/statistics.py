"""Fund statistics for the regulator, derived from pools, claims, recoveries and the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from service.db.fund_tables import Claim, Fund, FundBank, PoolLoan, Recovery
from service.schemas.regulator import FundStatistics, PartyAmount
from service.usecases.funds import ledger

FEN = 100


def _by_party(items: Iterable[dict[str, Any]]) -> list[PartyAmount]:
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for i in items:
        sums[(str(i["name"]), str(i["role"]))] += int(i["amount_fen"])
    return [PartyAmount(name=n, role=r, amount_cny=v / FEN) for (n, r), v in sorted(sums.items())]


def fund_statistics(session: Session, fund: Fund) -> FundStatistics:
    """Every figure of one fund; money figures come from the ledger where it holds them."""
    banks = session.exec(select(FundBank).where(col(FundBank.fund_id) == fund.id)).all()
    loans = session.exec(select(PoolLoan).where(col(PoolLoan.fund_id) == fund.id)).all()
    claims = session.exec(select(Claim).where(col(Claim.fund_id) == fund.id)).all()
    recoveries = session.exec(select(Recovery).where(col(Recovery.fund_id) == fund.id)).all()
    counts: dict[str, int] = defaultdict(int)
    for c in claims:
        counts[c.status] += 1
    counts["filed"] = len(claims)
    lines = sum(b.committed_line_fen for b in banks)
    pooled = sum(x.amount_fen for x in loans)
    # What uses the banks' lines is the principal still outstanding on active pooled loans
    # (registry.bank_figures): a repaid loan releases its part.
    outstanding = sum(x.amount_fen - x.repaid_fen for x in loans if x.status == "active")
    bal = ledger.balance(session, fund.id)
    paid, recovered, contributions = float(bal.paid_cny), float(bal.recovered_cny), float(bal.contributions_cny)
    return FundStatistics(
        fund_id=fund.id,
        name=fund.name,
        banks=len(banks),
        pool_share_cny=sum(b.pool_share_fen for b in banks) / FEN,
        committed_lines_cny=lines / FEN,
        pooled_loans=len(loans),
        pooled_amount_cny=pooled / FEN,
        outstanding_cny=outstanding / FEN,
        line_utilisation=outstanding / lines if lines else None,
        claims=dict(counts),
        claimed_loss_cny=sum(c.loss_fen for c in claims if c.status != "rejected") / FEN,  # as the fund counts it
        paid_by_party=_by_party(p for c in claims if c.status == "approved" for p in c.evaluation["payout"]["parties"]),
        recovered_by_party=_by_party(s for r in recoveries for s in r.shares),
        contributions_cny=contributions,
        paid_cny=paid,
        recovered_cny=recovered,
        balance_cny=float(bal.balance_cny),
        committed_cny=float(bal.committed_cny),
        fund_utilisation=(paid - recovered) / contributions if contributions else None,
        reconciled=bal.reconciled,
    )


def all_fund_statistics(session: Session) -> list[FundStatistics]:
    """Statistics of every fund, by id."""
    return [fund_statistics(session, f) for f in session.exec(select(Fund).order_by(col(Fund.id))).all()]
