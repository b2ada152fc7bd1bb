"""Outcome reports against the 2023 asset-classification floors and the loan's own dates."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.classification import check_classification, check_outcome_dates, minimum_class
from scoring.types import FieldError


@pytest.mark.parametrize(
    ("days", "floor"),
    [
        (0, "normal"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (270, "substandard"),
        (271, "doubtful"),
        (360, "doubtful"),
        (361, "loss"),
    ],
)
def test_floors_by_days_past_due(days: int, floor: str) -> None:
    assert minimum_class(days) == floor


def test_a_class_better_than_the_floor_names_npl_class() -> None:
    with pytest.raises(FieldError) as refused:
        check_classification(npl_class="normal", days_past_due=120)
    assert refused.value.field == "npl_class" and "at least substandard" in refused.value.problem
    check_classification(npl_class="loss", days_past_due=120)  # worse than the floor is the bank's call


ORIGIN, TODAY = date(2026, 1, 10), date(2026, 11, 30)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"as_of": date(2026, 12, 1)}, "as_of"),
        ({"default_date": date(2026, 12, 1), "as_of": TODAY}, "default_date"),
        ({"as_of": date(2026, 1, 9)}, "as_of"),
        ({"default_date": date(2026, 1, 9)}, "default_date"),
        ({"as_of": date(2026, 2, 9), "days_past_due": 31}, "days_past_due"),
    ],
)
def test_dates_the_loan_or_today_contradict_name_their_field(change: dict[str, object], field: str) -> None:
    facts: dict[str, object] = {"as_of": TODAY, "default_date": None, "days_past_due": 0, **change}
    with pytest.raises(FieldError) as refused:
        check_outcome_dates(origination_date=ORIGIN, today=TODAY, **facts)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_true_report_passes() -> None:
    check_outcome_dates(
        as_of=TODAY,
        default_date=date(2026, 6, 1),
        days_past_due=(TODAY - ORIGIN).days,
        origination_date=ORIGIN,
        today=TODAY,
    )
