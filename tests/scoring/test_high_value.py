"""CNIPA's high-value flag on constructed patents: each criterion alone, none, and the kinds never counted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from scoring.high_value import HIGH_VALUE_CRITERIA, high_value
from scoring.types import Patent
from tests.factories import patent

AS_OF = date(2026, 6, 30)
PLAIN: dict[str, Any] = {
    "filing_date": "2020-03-02",  # six years: not maintained ten
    "grant_date": "2022-05-10",
    "strategic_emerging": False,
    "foreign_family_members": 0,
    "family_size": 1,
    "patent_award": False,
}


def _patent(**over: Any) -> Patent:
    return Patent.model_validate(patent(**{**PLAIN, **over}))


@pytest.mark.parametrize(
    ("criterion", "over", "pledge"),
    [
        ("strategic_emerging", {"strategic_emerging": True}, None),
        ("overseas_family", {"family_size": 3, "foreign_family_members": 1}, None),
        ("maintained_10_years", {"filing_date": "2016-06-29", "grant_date": "2019-01-10"}, None),
        ("high_pledge_amount", {"pledge_amount_cny": 12_000_000}, None),
        ("high_pledge_amount", {}, 10_000_000.0),  # the loan it secures now
        ("national_award", {"patent_award": True}, None),
    ],
)
def test_each_criterion_alone_makes_an_invention_high_value(
    criterion: str, over: dict[str, Any], pledge: float | None
) -> None:
    flag = high_value(_patent(**over), as_of=AS_OF, pledge_amount_cny=pledge)
    assert flag.high_value is True and flag.eligible is True and flag.criteria == (criterion,)


def test_none_met_is_not_high_value_and_the_edges_hold() -> None:
    assert high_value(_patent(), as_of=AS_OF).criteria == ()
    assert high_value(_patent(), as_of=AS_OF).high_value is False
    # exactly ten years on the day is not "more than" ten; the next day is
    ten = _patent(filing_date="2016-06-30", grant_date="2019-01-10")
    assert high_value(ten, as_of=AS_OF).criteria == ()
    assert high_value(ten, as_of=date(2026, 7, 1)).criteria == ("maintained_10_years",)
    assert high_value(_patent(pledge_amount_cny=9_999_999.99), as_of=AS_OF).high_value is False


def test_only_invention_patents_in_force_count() -> None:
    every = {"strategic_emerging": True, "patent_award": True, "family_size": 3, "foreign_family_members": 2}
    utility = high_value(_patent(patent_type="utility_model", **every), as_of=AS_OF)
    assert utility.high_value is False and utility.eligible is False and len(utility.criteria) == 3
    lapsed = high_value(_patent(legal_status="lapsed", **every), as_of=AS_OF)
    assert lapsed.high_value is False and lapsed.eligible is False
    assert high_value(_patent(**every), as_of=AS_OF).criteria == tuple(
        c for c in HIGH_VALUE_CRITERIA if c in ("strategic_emerging", "overseas_family", "national_award")
    )
