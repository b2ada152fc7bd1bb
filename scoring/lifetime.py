"""PD over a loan's life: a term structure on top of the calibrated 12-month PD.

The PD model gives the probability of default within 12 months.  A loan of 24
or 36 months can default later, so expected loss needs the cumulative PD over
the tenor.  The term structure is a Weibull proportional-hazard model whose
scale is the loan's own 12-month PD::

    H(t) = −ln(1 − PD₁₂) · (t / 12)^shape        (cumulative hazard, t in months)
    PD(T) = 1 − exp(−H(T)) = 1 − (1 − PD₁₂)^((T / 12)^shape)

so PD(12) is the 12-month PD exactly, and one ``shape`` (fitted by maximum
likelihood on observed default times, censored at the end of observation;
:func:`training.fit.fit_term_structure`) says whether the hazard falls
(shape < 1) or rises (> 1) as a loan seasons.  The shape is stored in the PD
model's manifest (``extra.term_structure``) so every version carries the term
structure it was fitted with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from scoring.vocab import FROZEN

CONSTANT_HAZARD = 1.0
"""The shape a PD model without a fitted term structure gets: a constant hazard (exponential survival)."""


class TermStructure(BaseModel):
    """A fitted Weibull term structure."""

    model_config = FROZEN
    method: str = "weibull_proportional_hazard"
    shape: float = Field(gt=0, le=5, description="Weibull shape of the cumulative hazard in months / 12.")
    fitted_on: str = ""
    n_loans: int | None = Field(default=None, description="Loans the shape was fitted on.")
    n_events: int | None = Field(default=None, description="Defaults among them.")


def term_structure_of(extra: Mapping[str, Any] | None) -> TermStructure:
    """The term structure stored with a PD model (its manifest's ``extra``); a constant hazard without one."""
    raw = (extra or {}).get("term_structure")
    if not raw:
        return TermStructure(method="constant_hazard", shape=CONSTANT_HAZARD, fitted_on="none: not fitted")
    return TermStructure.model_validate(raw)


def pd_over(pd_12m: float, months: float, structure: TermStructure) -> float:
    """Cumulative probability of default within ``months`` of origination.

    Parameters
    ----------
    pd_12m
        Calibrated 12-month PD.
    months
        Horizon, months (the loan's tenor for a lifetime PD).
    structure
        The PD model's term structure.

    Returns
    -------
    float
        PD over the horizon, in [0, 1]; equals ``pd_12m`` at 12 months.
    """
    if months <= 0:
        return 0.0
    if pd_12m >= 1.0:
        return 1.0
    return float(1.0 - (1.0 - pd_12m) ** ((months / 12.0) ** structure.shape))
