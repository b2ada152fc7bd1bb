"""The regulator's official indicators for a period: lending, balance, enterprises, rates, patents.

Definitions and sources: docs/regulator.md.  Loans and their borrowers come from the booked
loans; balances from the point-in-time book (:mod:`service.usecases.book`); the high-value flag
of each pledged patent from the valuation stored with its assessment (:mod:`scoring.high_value`),
its pledge amount from the loan it secures.
"""

from __future__ import annotations

import statistics
from datetime import date

from sqlmodel import Session, col, select

from scoring.book import TEN_M_FEN, period_start, positions, tabulate
from scoring.high_value import HIGH_PLEDGE_CNY
from service.db.pledge_tables import PledgeRegistration
from service.db.tables import Assessment, Loan, LoanPatent
from service.schemas.regulator import OfficialIndicators, RateStatistics
from service.usecases.book import end_of, load_book


def _rates(loans: list[Loan]) -> RateStatistics:
    rated = [x for x in loans if x.annual_rate is not None]
    rates = [float(x.annual_rate) for x in rated if x.annual_rate is not None]
    amount = sum(x.amount_cny for x in rated)
    return RateStatistics(
        loans_with_rate=len(rated),
        mean=statistics.fmean(rates) if rates else None,
        amount_weighted_mean=sum(r * x.amount_cny for r, x in zip(rates, rated, strict=True)) / amount
        if amount
        else None,
        median=statistics.median(rates) if rates else None,
    )


def _patents(session: Session, loans: list[Loan]) -> tuple[int, int, int, int]:
    """(pledged, pledged inventions in force, high-value, unassessed) over the patents of ``loans``."""
    amount = {x.id: x.amount_cny for x in loans}
    links = session.exec(select(LoanPatent).where(col(LoanPatent.loan_id).in_(list(amount)))).all()
    flags: dict[str, dict[str, object] | None] = {}
    for a_id, response in session.exec(
        select(Assessment.id, Assessment.response).where(col(Assessment.id).in_([x.assessment_id for x in loans]))
    ).all():
        for p in response.get("valuation", {}).get("patents", []):
            flags[f"{a_id}:{p['patent_id']}"] = p.get("high_value")
    by_loan = {x.id: x.assessment_id for x in loans}
    eligible: set[str] = set()
    high: set[str] = set()
    unassessed: set[str] = set()
    for link in links:
        flag = flags.get(f"{by_loan[link.loan_id]}:{link.patent_id}")
        if flag is None:
            unassessed.add(link.patent_id)
        elif flag.get("eligible"):
            eligible.add(link.patent_id)
            if flag.get("criteria") or amount[link.loan_id] >= HIGH_PLEDGE_CNY:
                high.add(link.patent_id)
    return len({x.patent_id for x in links}), len(eligible), len(high), len(unassessed - eligible)


def indicators(session: Session, period: str, *, today: date) -> OfficialIndicators:
    """The official indicators of ``period`` (a quarter 2026Q3 or a month 2026-09), up to today while it runs."""
    end = min(end_of(period), today)
    start = period_start(period)
    loans = [x for x in session.exec(select(Loan).order_by(col(Loan.id))).all() if x.origination_date <= end]
    in_period = [x for x in loans if x.origination_date >= start]
    first: dict[str, date] = {}
    for x in loans:
        first[x.borrower_id] = min(first.get(x.borrower_id, x.origination_date), x.origination_date)
    total, _ = tabulate(positions(load_book(session, loans=loans), end))
    inclusive = [x for x in in_period if round(x.amount_cny * 100) < TEN_M_FEN]
    period_amount = sum(x.amount_cny for x in in_period)
    pledged, inventions, high, unassessed = _patents(session, loans)
    registrations = session.exec(
        select(PledgeRegistration).where(
            col(PledgeRegistration.registration_date).is_not(None), col(PledgeRegistration.registration_date) <= end
        )
    ).all()
    return OfficialIndicators(
        period=period,
        start=start,
        end=end,
        cumulative_loans=len(loans),
        cumulative_amount_cny=sum(x.amount_cny for x in loans),
        period_loans=len(in_period),
        period_amount_cny=period_amount,
        balance_cny=total.balance_fen / 100,
        npl_balance_cny=total.npl_balance_fen / 100,
        npl_ratio=total.npl_ratio,
        enterprises_served=len(first),
        period_enterprises=len({x.borrower_id for x in in_period}),
        first_time_borrowers=sum(1 for d in first.values() if start <= d <= end),
        rate=_rates(in_period),
        inclusive_loans=len(inclusive),
        inclusive_share_of_loans=len(inclusive) / len(in_period) if in_period else None,
        inclusive_share_of_amount=sum(x.amount_cny for x in inclusive) / period_amount if period_amount else None,
        pledged_patents=pledged,
        registrations=len(registrations),
        pledged_invention_patents=inventions,
        high_value_patents=high,
        high_value_share=high / inventions if inventions else None,
        unassessed_patents=unassessed,
    )
