"""The pledge package: which patents a pledge counts, and the package figures.

A pledge counts a patent only when it lives (granted, inside its statutory term) and CNIPA
would register it (no registration ground fails); see ``docs/collateral.md``.  The package's
totals keep every patent's model estimate for reference; its pledge value, liquidation value
(the LGD's collateral) and maximum pledge amount count the pledgeable patents only.

The pledge value's basis is the institution's policy (``valuation.yaml``, ``pledge_value``):
model P10 or P50, the income approach, the bank's appraisal, or a blend; the response states
the basis used and every figure it was chosen from (``docs/valuation.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from scoring.pledge_checks import Note, PledgeCheck, life_state, make_note
from scoring.policy import PledgeBasis, PledgeFigure, PledgeValuePolicy, ScoringConfig, ValuationAssumptions
from scoring.types import Patent
from scoring.vocab import FROZEN
from scoring.vocab.arrays import FloatArray
from scoring.vocab.lang import Lang

ValueBasis = Literal["pledgeable", "not_alive", "not_registrable"]


class ValueComparison(BaseModel):
    """The model value and the income approach side by side, flagged when they diverge."""

    model_config = FROZEN
    model_value_cny: float = Field(description="Model P50, CNY.")
    income_value_cny: float | None = Field(description="Income-approach value, CNY; None without revenue.")
    ratio: float | None = Field(description="Larger / smaller of the two; None when either is missing or 0.")
    divergence_limit: float = Field(description="The configured ratio above which they are flagged.")
    divergent: bool
    note: Note | None = Field(description="Why the two are flagged (None when they are not).")


def compare_values(
    model_value: float, income_value: float | None, *, assumptions: ValuationAssumptions, lang: Lang
) -> ValueComparison:
    """Put the model value beside the income approach; flag a ratio above ``divergence_ratio``."""
    limit = assumptions.divergence_ratio
    low = min(model_value, income_value) if income_value is not None else 0.0
    ratio = max(model_value, income_value or 0.0) / low if low > 0 else None
    divergent = ratio is not None and ratio > limit
    note = (
        make_note(
            assumptions.texts, lang, "VALUE_DIVERGENT", model=model_value, income=income_value, ratio=ratio, limit=limit
        )
        if divergent
        else None
    )
    return ValueComparison(
        model_value_cny=model_value,
        income_value_cny=income_value,
        ratio=ratio,
        divergence_limit=limit,
        divergent=divergent,
        note=note,
    )


class PledgeValueBasis(BaseModel):
    """Which figure the pledge value is, by the institution's policy, and the figures it was chosen from."""

    model_config = FROZEN
    configured: PledgeBasis = Field(description="The institution's basis (valuation.yaml, pledge_value).")
    used: PledgeBasis = Field(description="The basis used: the configured one, or the fallback when it has no figure.")
    figures: dict[PledgeFigure, float | None] = Field(
        description="Of the pledgeable patents, CNY: Σ P10, Σ P50, Σ income approach (None without revenue), "
        "and the appraisal's pledgeable share (None when the bank supplied none)."
    )
    weights: dict[PledgeFigure, float] = Field(
        default_factory=dict, description="Blend weights used, renormalised over the figures present."
    )
    note: Note | None = Field(default=None, description="Why the fallback was used.")


def pledge_value(
    figures: dict[PledgeFigure, float | None],
    policy: PledgeValuePolicy,
    *,
    assumptions: ValuationAssumptions,
    lang: Lang,
) -> tuple[float, PledgeValueBasis]:
    """The pledge value (CNY) under ``policy``, and how it was reached."""
    used: PledgeBasis = policy.basis
    weights: dict[PledgeFigure, float] = {}
    if policy.basis == "blend":
        present = {k: w for k, w in policy.weights.items() if figures.get(k) is not None and w > 0}
        total = sum(present.values())
        weights = {k: w / total for k, w in present.items()} if total > 0 else {}
        value = sum(w * (figures[k] or 0.0) for k, w in weights.items()) if weights else None
    else:
        value = figures[policy.basis]
    note = None
    if value is None:
        used = policy.fallback
        value = figures[policy.fallback] or 0.0
        names = {b: assumptions.texts[f"BASIS_{b.upper()}"].text(lang) for b in (policy.basis, used)}
        note = make_note(assumptions.texts, lang, "PLEDGE_BASIS_FALLBACK", wanted=names[policy.basis], used=names[used])
    basis = PledgeValueBasis(configured=policy.basis, used=used, figures=figures, weights=weights, note=note)
    return value, basis


class PackageValuation(BaseModel):
    """Figures for the whole package of patents."""

    model_config = FROZEN
    total_p10: float = Field(description="Σ model P10 of every patent, CNY (for reference: pledgeable or not).")
    total_p50: float = Field(description="Σ model P50 of every patent, CNY (for reference: pledgeable or not).")
    total_p90: float = Field(description="Σ model P90 of every patent, CNY (for reference: pledgeable or not).")
    pledge_value_cny: float = Field(
        ge=0,
        description="What the pledge counts, CNY: of the pledgeable patents only, on the basis pledge_basis states.",
    )
    pledgeable_patents: int = Field(ge=0, description="Patents that live and pass every registration ground.")
    liquidation_value: float = Field(
        description="Pledge value after the fire-sale haircut and disposal costs, CNY (the LGD's collateral)."
    )
    max_pledge_amount: float = Field(
        description="Σ pledge value × LTV cap of each pledgeable patent's type (the pledge value shared out "
        "pro rata to P50), CNY."
    )
    registrable: bool = Field(description="No registration check fails, of any patent or of the package.")
    checks: list[PledgeCheck] = Field(
        default_factory=list, description="Registration grounds of the whole pledge: the contract's contents."
    )
    note: Note | None = Field(default=None, description="Why the maximum pledge amount is 0, when it is.")
    pledge_basis: PledgeValueBasis | None = Field(
        default=None, description="The basis of the pledge value (None: valued before the basis was configurable)."
    )
    comparison: ValueComparison | None = Field(
        default=None, description="Σ model P50 beside Σ income approach of the pledgeable patents."
    )

    @property
    def pledgeable_p50(self) -> float:
        """Σ model P50 of the pledgeable patents, CNY, whatever the institution's pledge-value basis.

        What the ``lgd`` model learned a disposal sells (the generator's pledged package at its
        model value), so an institution valuing pledges on P10 or an appraisal does not change
        the loss the model predicts; the basis still sets LTV and the maximum loan.
        """
        figure = self.pledge_basis.figures.get("p50") if self.pledge_basis is not None else None
        return self.pledge_value_cny if figure is None else float(figure)


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
    incomes: Sequence[float | None] | None = None,
    appraisal: float | None = None,
    policy: PledgeValuePolicy | None = None,
) -> PackageValuation:
    """Totals, pledge value, liquidation value and maximum pledge amount of a package.

    ``q`` holds the patents' :func:`~scoring.valuation.quantiles`, ``ltv_caps``, ``checks`` and
    ``bases`` their caps, registration checks and :func:`value_bases`, in the
    same order; ``package_checks`` are the grounds of the whole pledge.  The
    totals add up every patent's model estimate; the pledge value, the
    liquidation value and the maximum pledge amount only the pledgeable
    patents', on the basis of ``policy`` (default: the configured default):
    ``incomes`` are the patents' income-approach values (None without
    revenue), ``appraisal`` the bank's appraisal of the whole package (CNY).
    """
    va = config.valuation
    p10, p50, p90 = ([float(v) for v in q[:, j]] for j in range(3))
    counted = [v if b == "pledgeable" else 0.0 for v, b in zip(p50, bases, strict=True)]
    n_counted = sum(b == "pledgeable" for b in bases)
    figures = _figures(p10, p50, bases, incomes, appraisal)
    value, basis = pledge_value(figures, policy or va.pledge_value.default, assumptions=va, lang=lang)
    scale = pledge_scale(value, sum(counted))
    return PackageValuation(
        total_p10=sum(p10),
        total_p50=sum(p50),
        total_p90=sum(p90),
        pledge_value_cny=value,
        pledgeable_patents=n_counted,
        liquidation_value=value * va.liquidation_factor * (1 - va.disposal_cost_share),
        max_pledge_amount=sum(v * scale * cap for v, cap in zip(counted, ltv_caps, strict=True)),
        registrable=not any(c.status == "fail" for cs in (*checks, package_checks) for c in cs),
        checks=list(package_checks),
        note=None if n_counted else make_note(config.reasons.notes, lang, "NO_PLEDGEABLE_PATENT"),
        pledge_basis=basis,
        comparison=compare_values(sum(counted), figures["income"], assumptions=va, lang=lang) if n_counted else None,
    )


def pledge_scale(value: float, counted_p50: float) -> float:
    """Pledge value per yuan of pledgeable P50: how each pledgeable patent's share of it is found (0 when none)."""
    return value / counted_p50 if counted_p50 > 0 else 0.0


def _figures(
    p10: Sequence[float],
    p50: Sequence[float],
    bases: Sequence[ValueBasis],
    incomes: Sequence[float | None] | None,
    appraisal: float | None,
) -> dict[PledgeFigure, float | None]:
    """The candidate pledge values of the pledgeable patents.

    The income figure needs every pledgeable patent's income value; the appraisal, made of the
    whole package, counts pro rata to the pledgeable patents' share of the package's P50.
    """
    ok = [b == "pledgeable" for b in bases]
    income: float | None = None
    if incomes is not None and all(v is not None for v, k in zip(incomes, ok, strict=True) if k):
        income = sum(v or 0.0 for v, k in zip(incomes, ok, strict=True) if k)
    counted = sum(v for v, k in zip(p50, ok, strict=True) if k)
    whole = sum(p50)
    return {
        "p10": sum(v for v, k in zip(p10, ok, strict=True) if k),
        "p50": counted,
        "income": income,
        "appraisal": None if appraisal is None else appraisal * (counted / whole if whole > 0 else 0.0),
    }
