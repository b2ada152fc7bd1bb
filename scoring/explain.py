"""Explanations as returned to users: contributions with their base, and ranked reasons."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, Field

from scoring.models import Explanation
from scoring.policy import ReasonText
from scoring.vocab import FROZEN


class Contributions(BaseModel):
    """Exact TreeSHAP contributions: ``base_value + Σ values == output`` in ``space``."""

    model_config = FROZEN
    space: str = Field(description="Space of the values: 'log-odds' (PD, claim) or 'log CNY' (value).")
    base_value: float
    output: float
    values: dict[str, float]

    @classmethod
    def from_explanation(cls, ex: Explanation) -> Contributions:
        """Wrap a scoring explanation."""
        return cls(space=ex.space, base_value=ex.base_value, output=ex.output, values=ex.contributions)


class Reason(BaseModel):
    """One principal reason: a fixed code and text, the feature behind it and its weight."""

    model_config = FROZEN
    code: str
    text: str
    feature: str
    contribution: float
    direction: Literal["increases", "decreases"]


def top_reasons(
    ex: Explanation,
    texts: dict[str, ReasonText],
    *,
    lang: Literal["en", "zh"],
    k: int = 4,
    direction: Literal["increases", "both"] = "increases",
    exclude: Collection[str] = (),
) -> list[Reason]:
    """The ``k`` largest contributions, mapped to their fixed texts.

    With ``direction="increases"`` (adverse-action practice) only features
    that pushed the output up are given — for PD, what raised the risk.
    Features in ``exclude`` (those that do not apply to the case, such as a
    design's claims) are never given; the next largest take their place.
    """
    items = sorted(((n, v) for n, v in ex.contributions.items() if n not in exclude), key=lambda kv: -abs(kv[1]))
    if direction == "increases":
        items = [kv for kv in items if kv[1] > 0]
    out = []
    for name, value in items[:k]:
        if value == 0:
            continue
        t = texts[name]
        out.append(
            Reason(
                code=t.code,
                text=t.text(lang),
                feature=name,
                contribution=value,
                direction="increases" if value > 0 else "decreases",
            )
        )
    return out
