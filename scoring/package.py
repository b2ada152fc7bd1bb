"""The pledge package: which patents a pledge counts, and the package figures.

A pledge counts a patent only when it lives (granted, inside its statutory term) and CNIPA
would register it (no registration ground fails); see ``docs/collateral.md``.  The package's
totals keep every patent's model estimate for reference; its pledge value, liquidation value
(the LGD's collateral) and maximum pledge amount count the pledgeable patents only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from scoring.pledge_checks import Note, PledgeCheck, life_state, make_note
from scoring.policy import ScoringConfig
from scoring.types import Patent
from scoring.vocab import FROZEN
from scoring.vocab.arrays import FloatArray
from scoring.vocab.lang import Lang

ValueBasis = Literal["pledgeable", "not_alive", "not_registrable"]


class PackageValuation(BaseModel):
    """Figures for the whole package of patents."""

    model_config = FROZEN
    total_p10: float = Field(description="Σ model P10 of every patent, CNY (for reference: pledgeable or not).")
    total_p50: float = Field(description="Σ model P50 of every patent, CNY (for reference: pledgeable or not).")
    total_p90: float = Field(description="Σ model P90 of every patent, CNY (for reference: pledgeable or not).")
    pledge_value_cny: float = Field(ge=0, description="Σ P50 of the pledgeable patents only, CNY.")
    pledgeable_patents: int = Field(ge=0, description="Patents that live and pass every registration ground.")
    liquidation_value: float = Field(
        description="Pledge value after the fire-sale haircut and disposal costs, CNY (the LGD's collateral)."
    )
    max_pledge_amount: float = Field(description="Σ P50 × LTV cap of each pledgeable patent's type, CNY.")
    registrable: bool = Field(description="No registration check fails, of any patent or of the package.")
    checks: list[PledgeCheck] = Field(
        default_factory=list, description="Registration grounds of the whole pledge: the contract's contents."
    )
    note: Note | None = Field(default=None, description="Why the maximum pledge amount is 0, when it is.")


def value_bases(patents: Sequence[Patent], checks: Sequence[Sequence[PledgeCheck]], as_of: date) -> list[ValueBasis]:
    """Which patents a pledge counts: alive on ``as_of`` and failing no registration ground."""
    out: list[ValueBasis] = []
    for p, cs in zip(patents, checks, strict=True):
        if life_state(p, as_of) != "alive":
            out.append("not_alive")
        elif any(c.status == "fail" for c in cs):
            out.append("not_registrable")
        else:
            out.append("pledgeable")
    return out


def value_package(
    q: FloatArray,
    ltv_caps: Sequence[float],
    checks: Sequence[Sequence[PledgeCheck]],
    config: ScoringConfig,
    *,
    bases: Sequence[ValueBasis],
    package_checks: Sequence[PledgeCheck] = (),
    lang: Lang = "en",
) -> PackageValuation:
    """Totals, pledge value, liquidation value and maximum pledge amount of a package.

    ``q`` holds the patents' :func:`~scoring.valuation.quantiles`, ``ltv_caps``, ``checks`` and
    ``bases`` their caps, registration checks and :func:`value_bases`, in the
    same order; ``package_checks`` are the grounds of the whole pledge.  The
    totals add up every patent's model estimate; the pledge value, the
    liquidation value and the maximum pledge amount only the pledgeable
    patents' P50.
    """
    va = config.valuation
    p10, p50, p90 = ([float(v) for v in q[:, j]] for j in range(3))
    counted = [v if b == "pledgeable" else 0.0 for v, b in zip(p50, bases, strict=True)]
    pledge_value = sum(counted)
    n_counted = sum(b == "pledgeable" for b in bases)
    return PackageValuation(
        total_p10=sum(p10),
        total_p50=sum(p50),
        total_p90=sum(p90),
        pledge_value_cny=pledge_value,
        pledgeable_patents=n_counted,
        liquidation_value=pledge_value * va.liquidation_factor * (1 - va.disposal_cost_share),
        max_pledge_amount=sum(v * cap for v, cap in zip(counted, ltv_caps, strict=True)),
        registrable=not any(c.status == "fail" for cs in (*checks, package_checks) for c in cs),
        checks=list(package_checks),
        note=None if n_counted else make_note(config.reasons.notes, lang, "NO_PLEDGEABLE_PATENT"),
    )
