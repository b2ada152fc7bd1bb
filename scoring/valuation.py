"""Patent valuation: model quantiles, value dimensions, stars, income approach, the pledge value of each patent.

The model values any patent it is shown; a pledge counts only what lives and can be
registered.  Each patent's ``value_basis`` says which: ``pledgeable`` (granted, inside
its statutory term and failing no registration ground) counts its P50; ``not_alive``
(expired, lapsed, invalidated or not yet granted) and ``not_registrable`` (alive, but
CNIPA would refuse the pledge) count 0 toward the pledge value, the liquidation value
behind the LGD and the maximum pledge amount, and say why in ``value_note``.  The
model's P10/P50/P90 stay in the response for reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from scoring import features as F
from scoring.explain import Contributions, Reason, top_reasons
from scoring.high_value import HighValue, high_value
from scoring.income import IncomeApproach, relief_from_royalty
from scoring.models import LoadedModel
from scoring.package import ValueBasis, ValueComparison, compare_values
from scoring.pledge_checks import LifeState, Note, PledgeCheck, life_state, make_note
from scoring.policy import LtvCaps, ScoringConfig
from scoring.types import Patent
from scoring.vocab import FROZEN
from scoring.vocab.arrays import AnyArray, FloatArray
from scoring.vocab.lang import Lang

_NOT_ALIVE_NOTES: dict[LifeState, str] = {
    "expired": "VALUE_EXPIRED",
    "pending": "VALUE_PENDING",
    "lapsed": "VALUE_LAPSED",
    "invalidated": "VALUE_INVALIDATED",
}

# Which model inputs speak to which CNIPA value dimension (LVD / TVD / EVD).
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "legal": (
        "patent_type",
        "age_years",
        "remaining_life_years",
        "granted",
        "claims_count",
        "independent_claims",
        "invalidation_requests",
        "annual_fees_paid_years",
        "fees_up_to_date",
        "co_owned",
    ),
    "technical": (
        "ipc_section",
        "tech_field",
        "family_size",
        "foreign_family_members",
        "forward_citations",
        "citations_per_year",
        "patent_award",
    ),
    "economic": (
        "industry",
        "owner_type",
        "licences_count",
        "transfers_count",
        "prior_pledges_count",
        "litigation_count",
        "strategic_emerging",
        "log_owner_revenue",
    ),
}


class PatentValuation(BaseModel):
    """Value of one patent with its reasons and registration checks."""

    model_config = FROZEN
    patent_id: str
    p10: float = Field(description="Model estimate: 10th percentile of value, CNY (shown whatever the value basis).")
    p50: float = Field(description="Model estimate: median value, CNY (shown whatever the value basis).")
    p90: float = Field(description="Model estimate: 90th percentile of value, CNY (shown whatever the value basis).")
    value_basis: ValueBasis = Field(
        description="pledgeable: alive and registrable, the P50 counts; not_alive: expired, lapsed, invalidated "
        "or not yet granted; not_registrable: a registration ground fails. Only pledgeable patents count."
    )
    pledge_value_cny: float = Field(
        ge=0,
        description="What the pledge counts, CNY: if pledgeable, its share of the package's pledge value (pro rata "
        "to P50; the P50 itself on the default basis p50), else 0.",
    )
    value_note: Note | None = Field(description="Why the pledge value is 0 (None when pledgeable).")
    income_approach: IncomeApproach | None = Field(description="Reference value; None without revenue or life.")
    legal_score: float = Field(ge=0, le=100)
    technical_score: float = Field(ge=0, le=100)
    economic_score: float = Field(ge=0, le=100)
    stars: int | None = Field(ge=1, le=5, description="1–5 stars; None for a patent that does not live.")
    contributions: Contributions
    reasons: list[Reason]
    checks: list[PledgeCheck]
    notes: list[Note] = Field(default_factory=list, description="Remarks on the pledge, e.g. a third-party pledgor.")
    ltv_cap: float
    high_value: HighValue | None = Field(default=None, description="CNIPA's high-value invention patent flag.")
    comparison: ValueComparison | None = Field(
        default=None, description="Model P50 beside the income approach, flagged above the configured ratio."
    )


def patent_columns(patents: Sequence[Patent]) -> dict[str, AnyArray]:
    """Contract-shaped columns for a list of patents: dates as datetime64[D], the rest as objects."""
    out: dict[str, AnyArray] = {}
    for name in Patent.model_fields:
        values = [getattr(p, name) for p in patents]
        if name in ("filing_date", "grant_date"):
            out[name] = np.array(
                [np.datetime64(v, "D") if v else np.datetime64("NaT") for v in values], dtype="datetime64[D]"
            )
        else:
            out[name] = np.array(values, dtype=object)
    return out


def valuation_matrix(patents: Sequence[Patent], as_of: date, owner_revenue: float | None) -> FloatArray:
    """Model inputs for ``patents`` at ``as_of``."""
    rev = np.full(len(patents), np.nan if owner_revenue is None else float(owner_revenue))
    cols = F.valuation_columns(patent_columns(patents), np.datetime64(as_of, "D"), owner_revenue=rev)
    return F.to_matrix(cols, F.VALUATION_FEATURES)


def dimension_scores(contrib: dict[str, float]) -> dict[str, float]:
    """0–100 score per value dimension: 50 is the average patent, each point a share of log value.

    score = 100 · sigmoid(2 · Σ SHAP of the dimension's inputs), so +0.35 log
    value (≈ +42% value) from a dimension scores about 67.
    """
    return {
        d: round(float(100 / (1 + np.exp(-2 * sum(contrib.get(f, 0.0) for f in feats)))), 1)
        for d, feats in DIMENSIONS.items()
    }


def stars_from_reference(log_p50: float, reference: dict[str, list[float]] | None) -> int:
    """1–5 stars: the quintile of the P50 among the training sample's P50s."""
    if not reference or not reference.get("edges"):
        return 3
    edges = np.asarray(reference["edges"], dtype=float)
    shares = np.asarray(reference["shares"], dtype=float)[: len(edges) + 1]
    total = shares.sum() or 1.0
    pct = float(shares[: int(np.searchsorted(edges, log_p50, side="right"))].sum() / total)
    return int(min(5, 1 + int(pct * 5)))


def quantiles(model: LoadedModel, x: FloatArray) -> FloatArray:
    """P10, P50 and P90 in CNY, one row per patent; the outer two clamped to the P50 where they cross it.

    The P50 is always the P50 booster's own output, the figure its SHAP
    contributions explain and the package, the LTV and the PD use.  Sorting
    the three instead would, where the boosters cross (0.05% of the
    benchmark's patents, 0.2% of the synthetic portfolio's), show another
    booster's value as the P50 beside an explanation of a different number.
    """
    p10, p50, p90 = (np.exp(model.raw(x, r)) for r in ("p10", "p50", "p90"))
    return np.column_stack([np.minimum(p10, p50), p50, np.maximum(p90, p50)])


def _value_note(patent: Patent, basis: ValueBasis, as_of: date, config: ScoringConfig, lang: Lang) -> Note | None:
    texts = config.reasons.notes
    if basis == "pledgeable":
        return None
    if basis == "not_registrable":
        return make_note(texts, lang, "VALUE_NOT_REGISTRABLE")
    return make_note(texts, lang, _NOT_ALIVE_NOTES[life_state(patent, as_of)], expiry=patent.expiry())


def value_patents(
    model: LoadedModel,
    patents: Sequence[Patent],
    *,
    q: FloatArray,
    contributions: FloatArray,
    as_of: date,
    config: ScoringConfig,
    caps: LtvCaps,
    checks: Sequence[list[PledgeCheck]],
    bases: Sequence[ValueBasis],
    notes: Sequence[list[Note]] = (),
    lang: Lang = "en",
    owner_revenue: float | None = None,
    revenue_attributable: float | None = None,
    high_tech: bool = False,
    incomes: Sequence[IncomeApproach | None] | None = None,
    pledge_scale: float = 1.0,
) -> list[PatentValuation]:
    """Value each patent: P10/P50/P90 (CNY), SHAP drivers, dimension scores, stars, income approach.

    Parameters
    ----------
    model
        The valuation model (roles ``p10``, ``p50``, ``p90``; log CNY).
    patents
        Patents to value.
    q
        Their :func:`quantiles`.
    contributions
        The P50 booster's :meth:`~scoring.models.LoadedModel.contributions`
        for the same rows.
    as_of
        Valuation date.
    config
        Scoring configuration (reasons, income-approach assumptions).
    caps
        LTV caps of the institution.
    checks
        Registration checks per patent (same order).
    bases
        Their :func:`value_bases`.
    notes
        Remarks per patent (same order), e.g. that a third party pledges it.
    lang
        Language of reason texts.
    owner_revenue
        Owner's annual revenue (CNY), a model input when known.
    revenue_attributable
        Annual revenue the package supports (CNY), split evenly across patents
        for the income approach; else a share of ``owner_revenue``.
    high_tech
        The owner is a high and new technology enterprise (income tax 15%).
    incomes
        The patents' :func:`income_approaches`, when the caller has them.
    pledge_scale
        Pledge value per yuan of pledgeable P50 (:func:`scoring.package.pledge_scale`).

    Returns
    -------
    list of PatentValuation
    """
    explanations = model.explanations(contributions, space="log CNY")
    reference = ((model.manifest.get("extra") or {}).get("reference") or {}).get("score")
    va = config.valuation
    if incomes is None:
        incomes = income_approaches(
            patents,
            bases=bases,
            as_of=as_of,
            config=config,
            owner_revenue=owner_revenue,
            revenue_attributable=revenue_attributable,
            high_tech=high_tech,
        )
    out = []
    for i, p in enumerate(patents):
        ex = explanations[i]
        scores = dimension_scores(ex.contributions)
        basis, alive, income = bases[i], bases[i] != "not_alive", incomes[i]
        out.append(
            PatentValuation(
                patent_id=p.patent_id,
                p10=float(q[i, 0]),
                p50=float(q[i, 1]),
                p90=float(q[i, 2]),
                value_basis=basis,
                pledge_value_cny=float(q[i, 1]) * pledge_scale if basis == "pledgeable" else 0.0,
                value_note=_value_note(p, basis, as_of, config, lang),
                income_approach=income,
                legal_score=scores["legal"],
                technical_score=scores["technical"],
                economic_score=scores["economic"],
                stars=stars_from_reference(ex.output, reference) if alive else None,
                contributions=Contributions.from_explanation(ex),
                reasons=top_reasons(
                    ex,
                    config.reasons.valuation,
                    lang=lang,
                    k=4,
                    direction="both",
                    exclude=F.not_applicable(p.patent_type),
                ),
                checks=list(checks[i]),
                notes=list(notes[i]) if notes else [],
                ltv_cap=caps.cap(p.patent_type),
                high_value=high_value(p, as_of=as_of),
                comparison=compare_values(
                    float(q[i, 1]), None if income is None else income.value, assumptions=va, lang=lang
                )
                if alive
                else None,
            )
        )
    return out


def income_approaches(
    patents: Sequence[Patent],
    *,
    bases: Sequence[ValueBasis],
    as_of: date,
    config: ScoringConfig,
    owner_revenue: float | None,
    revenue_attributable: float | None,
    high_tech: bool = False,
) -> list[IncomeApproach | None]:
    """Each patent's income-approach value (None without revenue, or for a patent that does not live).

    The package's revenue (``revenue_attributable``, else ``attributable_revenue_share`` of
    the owner's revenue) is split evenly across the patents; a patent that does not live earns
    no royalties to discount.
    """
    va = config.valuation
    per_patent = None
    if revenue_attributable is not None:
        per_patent = revenue_attributable / len(patents)
    elif owner_revenue is not None:
        per_patent = owner_revenue * va.attributable_revenue_share / len(patents)
    return [
        relief_from_royalty(p, as_of=as_of, revenue=per_patent, assumptions=va, high_tech=high_tech)
        if b != "not_alive"
        else None
        for p, b in zip(patents, bases, strict=True)
    ]
