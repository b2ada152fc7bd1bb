"""CNIPA's high-value invention patent (高价值发明专利): a flag on every valued patent.

CNIPA counts an invention patent in force as high-value when it meets at least one of five
criteria (the statistical definition behind the 14th five-year plan's indicator "high-value
invention patents per 10,000 people"; docs/regulator.md):

1. ``strategic_emerging``: it belongs to a strategic emerging industry (战略性新兴产业);
2. ``overseas_family``: it has a family member filed abroad (在海外有同族专利权);
3. ``maintained_10_years``: it has been maintained more than 10 years since filing (维持年限超过10年);
4. ``high_pledge_amount``: it secured a high pledge-financing amount (实现较高质押融资金额);
5. ``national_award``: it won the China Patent Award or a national science and technology award
   (获得国家科学技术奖或中国专利奖).

CNIPA publishes no figure for "high" in criterion 4: :data:`HIGH_PLEDGE_CNY` (¥10m, the
inclusive-finance line of the regulator's ticket bands) is an assumption, a keyword to change.
Utility models and designs are never high-value by this definition, nor is a patent not in force.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, Field

from scoring.pledge_checks import add_months
from scoring.types import Patent
from scoring.vocab import FROZEN

HighValueCriterion = Literal[
    "strategic_emerging", "overseas_family", "maintained_10_years", "high_pledge_amount", "national_award"
]
HIGH_VALUE_CRITERIA: tuple[HighValueCriterion, ...] = get_args(HighValueCriterion)
HIGH_PLEDGE_CNY = 10_000_000.0
"""Assumption: a pledge of at least ¥10m counts as a high pledge-financing amount."""


class HighValue(BaseModel):
    """Whether a patent is a high-value invention patent, and the criteria it meets."""

    model_config = FROZEN
    high_value: bool = Field(description="An invention patent in force meeting at least one of CNIPA's five criteria.")
    eligible: bool = Field(description="An invention patent in force: the only kind the definition counts.")
    criteria: tuple[HighValueCriterion, ...] = Field(description="The criteria the patent meets, in CNIPA's order.")


def high_value(
    patent: Patent, *, as_of: date, pledge_amount_cny: float | None = None, threshold_cny: float = HIGH_PLEDGE_CNY
) -> HighValue:
    """The high-value flag of ``patent`` on ``as_of``.

    Parameters
    ----------
    patent
        Its facts; ``pledge_amount_cny`` on the patent is the largest pledge it secured before.
    as_of
        The day the maintenance period is counted to.
    pledge_amount_cny
        The amount of a pledge it secures now (a booked loan), CNY; the larger of the two counts.
    threshold_cny
        The pledge amount counted as high, CNY.
    """
    pledged = max(patent.pledge_amount_cny or 0.0, pledge_amount_cny or 0.0)
    met = {
        "strategic_emerging": patent.strategic_emerging,
        "overseas_family": patent.foreign_family_members > 0,
        "maintained_10_years": add_months(patent.filing_date, 120) < as_of,
        "high_pledge_amount": pledged >= threshold_cny,
        "national_award": patent.patent_award,
    }
    criteria = tuple(c for c in HIGH_VALUE_CRITERIA if met[c])
    eligible = patent.patent_type == "invention" and patent.legal_status == "granted" and patent.expiry() > as_of
    return HighValue(high_value=eligible and bool(criteria), eligible=eligible, criteria=criteria)
