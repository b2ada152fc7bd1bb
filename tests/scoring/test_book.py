"""The point-in-time book on hand-computed loans (scoring/book.py)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from scoring.book import (
    BOOK_DIMS,
    BookLoan,
    OutcomeFact,
    Payment,
    balance_at,
    class_at,
    period_end,
    period_ends,
    period_start,
    positions,
    schedule,
    tabulate,
    tolerance,
)
from scoring.types import FieldError

M = 1_000_000_00  # ¥1m in fen


def _loan(loan_id: str, principal_fen: int, **kw: object) -> BookLoan:
    base: dict[str, object] = {"origination": date(2024, 1, 15), "tenor_months": 24, "bank": "bank_a"}
    return BookLoan.model_validate({"loan_id": loan_id, "principal_fen": principal_fen, **base, **kw})


def test_the_issues_example_is_a_hundred_percent_not_thirty_seven_and_a_half() -> None:
    # A ¥3m loan defaulted; a ¥5m loan was repaid earlier. Old figure: 3 / (3 + 5) = 37.5%.
    defaulted = _loan(
        "a",
        3 * M,
        outcomes=[
            OutcomeFact(
                as_of=date(2025, 3, 31),
                status="default",
                npl_class="substandard",
                days_past_due=100,
                default_date=date(2025, 2, 1),
            )
        ],
    )
    repaid = _loan("b", 5 * M, outcomes=[OutcomeFact(as_of=date(2024, 12, 31), status="repaid", npl_class="normal")])
    total, _ = tabulate(positions([defaulted, repaid], date(2025, 6, 30)))
    assert (total.balance_fen, total.npl_balance_fen) == (3 * M, 3 * M)
    assert total.npl_ratio == 1.0
    # Before the repayment both were on the book and performing: 0 of 8m.
    before, _ = tabulate(positions([defaulted, repaid], date(2024, 6, 30)))
    assert (before.balance_fen, before.npl_balance_fen) == (8 * M, 0)


def test_bullet_balance_after_partial_repayments() -> None:
    loan = _loan(
        "c",
        3 * M,
        tenor_months=12,
        payments=[Payment(on=date(2024, 5, 10), amount_fen=M), Payment(on=date(2024, 9, 1), amount_fen=M // 2)],
    )
    assert balance_at(loan, date(2024, 1, 14)) == 0  # not yet lent
    assert balance_at(loan, date(2024, 5, 9)) == 3 * M
    assert balance_at(loan, date(2024, 5, 10)) == 2 * M
    assert balance_at(loan, date(2024, 9, 1)) == 150_000_000  # ¥1.5m
    assert balance_at(loan, date(2025, 1, 14)) == 150_000_000
    assert balance_at(loan, date(2025, 1, 15)) == 0  # matured: the bullet falls due


def test_equal_principal_with_a_prepayment_and_arrears() -> None:
    # ¥1.2m over 12 months from 31 Jan: ¥100k principal at each month end (clamped to the month's last day).
    loan = _loan("d", 120_000_000, origination=date(2025, 1, 31), tenor_months=12, repayment_type="equal_principal")
    assert schedule(loan)[:3] == [
        (date(2025, 2, 28), 10_000_000),
        (date(2025, 3, 31), 10_000_000),
        (date(2025, 4, 30), 10_000_000),
    ]
    assert balance_at(loan, date(2025, 4, 30)) == 90_000_000
    prepaid = loan.model_copy(update={"payments": (Payment(on=date(2025, 3, 10), amount_fen=50_000_000),)})
    # Reported 500k by April beats the scheduled 300k: 1.2m − 0.5m.
    assert balance_at(prepaid, date(2025, 4, 30)) == 70_000_000
    # 40 days past due on 10 May: nothing paid since 31 March, so the schedule stops there (2 instalments).
    late = loan.model_copy(
        update={
            "outcomes": (
                OutcomeFact(
                    as_of=date(2025, 5, 10), status="performing", npl_class="special_mention", days_past_due=40
                ),
            )
        }
    )
    assert balance_at(late, date(2025, 5, 10)) == 100_000_000
    assert class_at(late, date(2025, 5, 9)) is None and class_at(late, date(2025, 5, 10)) == "special_mention"


def test_equal_instalment_principal_parts_follow_the_annuity() -> None:
    loan = _loan("e", 120_000_000, tenor_months=12, repayment_type="equal_instalment", annual_rate=0.06)
    parts = [amount for _, amount in schedule(loan)]
    r = 0.005
    payment = 120_000_000 * r / (1 - (1 + r) ** -12)
    # Principal part k of an annuity is the payment discounted over the instalments still to come.
    expected = [payment * (1 + r) ** -(12 - k + 1) for k in range(1, 13)]
    assert all(abs(a - b) <= 1 for a, b in zip(parts[:-1], expected[:-1], strict=True))
    assert sum(parts) == 120_000_000 and parts[0] < parts[-1]
    assert parts[0] == 9_727_972  # 103,279.72 − 6,000.00 interest on ¥1.2m for the first month


def test_a_reclassified_loan_moves_bucket_on_the_report_date() -> None:
    loan = _loan(
        "f",
        2 * M,
        outcomes=[
            OutcomeFact(
                as_of=date(2025, 4, 10),
                status="default",
                npl_class="substandard",
                days_past_due=100,
                default_date=date(2025, 1, 1),
            ),
            OutcomeFact(
                as_of=date(2025, 9, 15),
                status="default",
                npl_class="loss",
                days_past_due=380,
                default_date=date(2025, 1, 1),
            ),
        ],
    )
    day_before, _ = tabulate(positions([loan], date(2025, 9, 14)))
    on_the_day, _ = tabulate(positions([loan], date(2025, 9, 15)))
    assert day_before.by_class_fen["substandard"] == 2 * M and day_before.by_class_fen["loss"] == 0
    assert on_the_day.by_class_fen["substandard"] == 0 and on_the_day.by_class_fen["loss"] == 2 * M
    # A loss written off leaves the book.
    written = loan.model_copy(update={"payments": (Payment(on=date(2025, 12, 1), amount_fen=2 * M, kind="write_off"),)})
    assert balance_at(written, date(2025, 11, 30)) == 2 * M and balance_at(written, date(2025, 12, 1)) == 0


def _book() -> list[BookLoan]:
    bad = [
        OutcomeFact(
            as_of=date(2025, 3, 1),
            status="default",
            npl_class="doubtful",
            days_past_due=200,
            default_date=date(2024, 8, 1),
        )
    ]
    return [
        _loan("1", 3 * M, bank="bank_a", region="guiyang", industry="baijiu", patent_type="invention", outcomes=bad),
        _loan("2", 12 * M, bank="bank_a", region="zunyi", industry="baijiu", patent_type="utility_model"),
        _loan(
            "3",
            25 * M,
            bank="bank_b",
            region="guiyang",
            industry="computing_power",
            patent_type="invention",
            origination=date(2025, 2, 1),
        ),
        _loan("4", 5 * M, bank="bank_b", region="zunyi", industry="other", patent_type="design", outcomes=bad),
        _loan(
            "5",
            8 * M,
            bank="bank_b",
            region="guiyang",
            industry="baijiu",
            patent_type="invention",
            repayment_type="equal_principal",
        ),
    ]


def test_crossed_cells_sum_to_the_totals_for_every_pair() -> None:
    book = positions(_book(), date(2025, 6, 30))
    total, _ = tabulate(book)
    # Loan 5: ¥8m over 24 months, 17 instalments of ¥333,333.33 paid by 15 June 2025.
    assert total.balance_fen == 3 * M + 12 * M + 25 * M + 5 * M + (8 * M - 17 * (8 * M // 24))
    assert total.npl_balance_fen == 8 * M
    for pair in itertools.combinations(BOOK_DIMS, 2):
        _, cells = tabulate(book, pair)
        assert sum(c.balance_fen for c in cells) == total.balance_fen, pair
        assert sum(c.npl_balance_fen for c in cells) == total.npl_balance_fen, pair
        assert sum(c.loans for c in cells) == total.loans == 5
    _, by_band = tabulate(book, ["ticket_band"])
    assert {c.keys["ticket_band"]: c.loans for c in by_band} == {"under_10m": 3, "10m_to_20m": 1, "20m_and_over": 1}
    _, cross = tabulate(book, ["bank", "region"])
    a_gy = next(c for c in cross if c.keys == {"bank": "bank_a", "region": "guiyang"})
    assert a_gy.npl_ratio == 1.0
    with pytest.raises(FieldError):
        tabulate(book, ["bank", "region", "vintage"])


def test_periods_and_the_tolerance() -> None:
    assert period_end("2026Q3") == date(2026, 9, 30) and period_end("2026-02") == date(2026, 2, 28)
    assert period_end("2025Q4") == date(2025, 12, 31)
    assert period_start("2025Q4") == date(2025, 10, 1) and period_start("2026-02") == date(2026, 2, 1)
    for bad in ("2026Q5", "2026-13", "Q3-2026"):
        with pytest.raises(FieldError):
            period_end(bad)
    assert period_ends(date(2025, 2, 10), date(2025, 8, 15), "quarterly") == [
        date(2025, 3, 31),
        date(2025, 6, 30),
        date(2025, 8, 15),
    ]
    assert period_ends(date(2025, 1, 1), date(2025, 3, 31), "monthly") == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
    ]
    assert tolerance("b", 0.045, 0.015).within_tolerance is True  # exactly 3 points
    assert tolerance("b", 0.046, 0.015).within_tolerance is False
    assert tolerance("b", 0.05, None).within_tolerance is None
