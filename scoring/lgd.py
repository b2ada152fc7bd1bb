"""Loss given default without cover, from the ``lgd`` model trained on disposal outcomes.

The model (LightGBM, cross-entropy on the realised, discounted LGD of past
disposals; :func:`training.fit.fit_lgd`) predicts in log-odds; its SHAP
contributions plus the expected value equal that log-odds exactly, so the
reasons add up.  A configurable floor (``valuation.yaml`` ``lgd_floor``,
documented against Basel's unsecured references in ``docs/loss.md``) is
applied after the model and said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from scoring import features as F
from scoring.explain import Contributions, Reason, top_reasons
from scoring.models import LoadedModel, sigmoid
from scoring.policy import ReasonText
from scoring.types import Borrower, LoanTerms, Patent
from scoring.vocab import FROZEN
from scoring.vocab.arrays import FloatArray
from scoring.vocab.lang import Lang


class LgdEstimate(BaseModel):
    """The lgd model's estimate for one loan, the floor and why."""

    model_config = FROZEN
    model_lgd: float = Field(ge=0, le=1, description="The model's expected discounted LGD, before the floor.")
    floor: float = Field(ge=0, le=1, description="Configured minimum LGD without cover.")
    floor_applied: bool = Field(description="The floor, not the model, set the LGD.")
    months_to_recovery: float | None = Field(
        default=None, description="Expected months from default to cash (the model's months booster), if it has one."
    )
    model_version: str
    reasons: list[Reason] = Field(description="Up to four features that raised the LGD most.")
    contributions: Contributions = Field(description="SHAP contributions in log-odds of the LGD.")


def lgd_matrix(
    borrower: Borrower, loan: LoanTerms, patents: Sequence[Patent], as_of: date, package_value: float
) -> FloatArray:
    """LGD model inputs for one application (one row)."""
    life = F.remaining_life_years(
        np.array([p.patent_type for p in patents], dtype=object),
        np.array([np.datetime64(p.filing_date, "D") for p in patents]),
        np.datetime64(as_of, "D"),
    )
    summary = F.package_summary(
        np.array([p.patent_type for p in patents], dtype=object), life, np.zeros(len(patents), dtype=int), 1
    )
    ent = {"industry": np.array([borrower.industry], dtype=object)}
    ln = {k: np.array([v], dtype=object) for k, v in loan.model_dump().items()}
    cols = F.lgd_columns(ent, ln, summary, np.array([package_value], dtype=float))
    return F.to_matrix(cols, F.LGD_FEATURES)


def estimate_lgd(
    model: LoadedModel, x: FloatArray, *, floor: float, texts: dict[str, ReasonText], lang: Lang = "en"
) -> LgdEstimate:
    """The model's LGD for one row ``x``, its reasons, and the floor.

    Parameters
    ----------
    model
        The ``lgd`` model (log-odds of the LGD).
    x
        One row of :data:`scoring.features.LGD_FEATURES`.
    floor
        Minimum LGD without cover (configuration).
    texts, lang
        Reason texts by feature, and their language.
    """
    ex = model.explain(x, space="log-odds")[0]
    value = float(sigmoid(np.array([ex.output]))[0])
    months = float(np.exp(model.raw(x, "months"))[0]) if "months" in model.boosters else None
    return LgdEstimate(
        model_lgd=value,
        months_to_recovery=months,
        floor=floor,
        floor_applied=value < floor,
        model_version=model.version,
        reasons=top_reasons(ex, texts, lang=lang, k=4),
        contributions=Contributions.from_explanation(ex),
    )
