"""Reported outcomes and closed disposals as rows of the data contract's ``outcomes`` table.

The ``lgd`` model learns from the disposal columns; the ``pd`` model from the credit
columns, with ``observed_until`` saying how far the outcome was seen (censoring).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from scoring.pledge_checks import add_months
from scoring.vocab.money import to_cny
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Loan
from service.db.watch_tables import DisposalCase

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


def outcome_row(loan: Loan, reports: Sequence[LoanOutcome], case: DisposalCase | None) -> dict[str, Any]:
    """A loan's ``outcomes`` row from its bank's reports (at least one) and its disposal case, if closed.

    The class is the latest report's; days past due the most any report gave; the default date the
    first one reported.  ``observed_until`` is the latest report's date, or the disposal's close if
    later; ``recovery_cny`` is the net proceeds applied to the loan, ``disposal_date`` the day the
    case closed.  The disposal columns stay empty until the case is closed.
    """
    latest = max(reports, key=lambda r: (r.as_of, r.id or 0))
    defaults = [r.default_date for r in reports if r.default_date is not None]
    default_date = min(defaults) if defaults else None
    row: dict[str, Any] = {
        "loan_id": loan.id,
        "default_12m": default_date is not None and default_date <= add_months(loan.origination_date, 12),
        "days_past_due": max(r.days_past_due for r in reports),
        "npl_class": latest.npl_class,
        "default_date": default_date,
        "observed_until": latest.as_of,
        **dict.fromkeys(OUTCOME_COLUMNS[6:]),
    }
    if case is None or case.status != "closed" or case.closed_on is None:
        return row
    net = max(0, (case.proceeds_fen or 0) - case.costs_fen)
    row.update(
        observed_until=max(latest.as_of, case.closed_on),
        disposal_price_cny=float(to_cny(case.proceeds_fen or 0)),
        ead_cny=float(to_cny(case.ead_fen)),
        disposal_channel=case.channel,
        auction_rounds=case.rounds,
        disposal_date=case.closed_on,
        disposal_costs_cny=float(to_cny(case.costs_fen)),
        recovery_cny=float(to_cny(net)),
        realised_lgd=case.realised_lgd,
    )
    return row


def settled_row(loan: Loan, settled_on: date) -> dict[str, Any]:
    """The ``outcomes`` row of a loan repaid (closed) without a default and without any outcome report.

    Its outcome is known without a report: no default, nothing past due, observed until it was settled.
    """
    return {
        "loan_id": loan.id,
        "default_12m": False,
        "days_past_due": 0,
        "npl_class": "normal",
        "default_date": None,
        "observed_until": settled_on,
        **dict.fromkeys(OUTCOME_COLUMNS[6:]),
    }


def outcome_rows(session: Session) -> list[dict[str, Any]]:
    """Every closed case as a row of the data contract's ``outcomes`` table (the ``lgd`` model's training data).

    A case whose loan has no outcome report (no reported default to pair it with) is left out.
    """
    rows = []
    cases = session.exec(
        select(DisposalCase).where(col(DisposalCase.status) == "closed").order_by(col(DisposalCase.closed_on))
    ).all()
    for case in cases:
        loan = session.get(Loan, case.loan_id)
        reports = session.exec(select(LoanOutcome).where(col(LoanOutcome.loan_id) == case.loan_id)).all()
        if loan is not None and reports:
            rows.append(outcome_row(loan, reports, case))
    return rows
