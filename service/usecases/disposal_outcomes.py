"""Closed disposal cases as rows of the data contract's ``outcomes`` table (the ``lgd`` model's training data)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from scoring.pledge_checks import add_months
from scoring.vocab.money import to_cny
from service.db.tables import Loan
from service.db.watch_tables import DisposalCase
from service.usecases.disposals import latest_report

OUTCOME_COLUMNS = (
    "loan_id",
    "default_12m",
    "days_past_due",
    "npl_class",
    "default_date",
    "observed_until",
    "disposal_price_cny",
    "ead_cny",
    "disposal_channel",
    "auction_rounds",
    "disposal_date",
    "disposal_costs_cny",
    "recovery_cny",
    "realised_lgd",
)
"""The data contract's ``outcomes`` columns in its order (training.contract.OUTCOMES; a test keeps them equal)."""


def outcome_rows(session: Session) -> list[dict[str, Any]]:
    """Every closed case as a row of the data contract's ``outcomes`` table (the ``lgd`` model's training data).

    The credit columns come from the loan's latest outcome report; ``recovery_cny`` is the
    net proceeds applied to the loan, ``disposal_date`` the day the case closed.
    """
    rows = []
    cases = session.exec(
        select(DisposalCase).where(col(DisposalCase.status) == "closed").order_by(col(DisposalCase.closed_on))
    ).all()
    for case in cases:
        loan = session.get(Loan, case.loan_id)
        report = latest_report(session, case.loan_id)
        if loan is None or report is None:
            continue  # a disposal without a reported default: no credit outcome to pair it with
        default_date = report.default_date
        net = max(0, (case.proceeds_fen or 0) - case.costs_fen)
        rows.append(
            {
                "loan_id": case.loan_id,
                "default_12m": default_date is not None and default_date <= add_months(loan.origination_date, 12),
                "days_past_due": report.days_past_due,
                "npl_class": report.npl_class,
                "default_date": default_date,
                # what was known of the credit outcome: up to the report it comes from, or the close
                "observed_until": max(report.as_of, case.closed_on) if case.closed_on else report.as_of,
                "disposal_price_cny": float(to_cny(case.proceeds_fen or 0)),
                "ead_cny": float(to_cny(case.ead_fen)),
                "disposal_channel": case.channel,
                "auction_rounds": case.rounds,
                "disposal_date": case.closed_on,
                "disposal_costs_cny": float(to_cny(case.costs_fen)),
                "recovery_cny": float(to_cny(net)),
                "realised_lgd": case.realised_lgd,
            }
        )
    return rows
