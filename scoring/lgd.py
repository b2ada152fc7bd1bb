"""Loss given default without cover, from the ``lgd`` model trained on disposal outcomes.

The model (LightGBM, cross-entropy on the realised, discounted LGD of past
disposals; :func:`training.fit.fit_lgd`) predicts in log-odds; its SHAP
contributions plus the expected value equal that log-odds exactly, so the
reasons add up.  A configurable floor (``valuation.yaml`` ``lgd_floor``,
documented against Basel's unsecured references in ``docs/loss.md``) is
applied after the model and said so.

Two inputs come from outside the application: the economy as of the assessment date (the
last published real GDP growth, :mod:`scoring.economy`; a date past the configured series
uses its last year, and the estimate says so) and the recovery experience of past disposals
in the borrower's industry (:class:`ChannelHistory`), computed when the model was trained from
its own training outcomes, stored in its manifest and looked up here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from scoring import features as F
from scoring.economy import EconomyOn, EconomySeries, economy_on, load_economy
from scoring.explain import Contributions, Reason, top_reasons
from scoring.models import LoadedModel, sigmoid
from scoring.policy import ReasonText
from scoring.types import Borrower, LoanTerms, Patent
from scoring.vocab import FROZEN, INDUSTRIES
from scoring.vocab.arrays import DateArray, FloatArray
from scoring.vocab.lang import Lang

# Pseudo-count of the shrinkage: an industry with this many past disposals sits halfway between
# its own mean LGD and the overall mean.  Assumption: a few dozen bimodal outcomes (a sale
# recovers most, a failed auction nothing) are needed before an industry's mean says much.
HISTORY_SHRINK = 30.0


class IndustryRecord(BaseModel):
    """Past disposals of one industry: how many, their mean realised LGD, and the shrunk value used."""

    model_config = FROZEN
    n: int = Field(ge=0)
    mean_lgd: float | None = Field(description="Mean realised LGD of the industry's disposals; None without any.")
    value: float = Field(ge=0, le=1, description="(sum + shrink × overall mean) / (n + shrink): the model input.")


class ChannelHistory(BaseModel):
    """Recovery experience of past disposals by industry, stored with the lgd model that learned on it."""

    model_config = FROZEN
    method: str = "mean realised LGD by industry, shrunk towards the overall mean by count"
    shrink: float = Field(gt=0, description="Pseudo-count of the shrinkage.")
    n: int = Field(ge=1, description="Disposals it is computed from.")
    overall_mean_lgd: float = Field(ge=0, le=1, description="Used for an industry without a record.")
    last_disposal: str | None = Field(default=None, description="Date of the latest disposal counted (ISO).")
    by_industry: dict[str, IndustryRecord]

    def value_of(self, industry: str) -> float:
        """The model input for ``industry``; an unknown industry gets the overall mean."""
        record = self.by_industry.get(industry)
        return record.value if record is not None else self.overall_mean_lgd


def channel_history(
    industry: FloatArray, lgd: FloatArray, *, last_disposal: str | None = None, shrink: float = HISTORY_SHRINK
) -> ChannelHistory:
    """The table of past disposals by industry (codes into ``INDUSTRIES``, NaN unknown) and realised LGD."""
    ok = np.isfinite(lgd)
    overall = float(np.mean(lgd[ok]))
    records = {}
    for code, name in enumerate(INDUSTRIES):
        own = lgd[ok & (industry == code)]
        records[name] = IndustryRecord(
            n=len(own),
            mean_lgd=float(own.mean()) if len(own) else None,
            value=float((own.sum() + shrink * overall) / (len(own) + shrink)),
        )
    return ChannelHistory(
        shrink=shrink, n=int(ok.sum()), overall_mean_lgd=overall, last_disposal=last_disposal, by_industry=records
    )


def history_before(
    industry: FloatArray,
    day: DateArray,
    *,
    past_industry: FloatArray,
    past_lgd: FloatArray,
    past_day: DateArray,
    shrink: float = HISTORY_SHRINK,
) -> FloatArray:
    """Point-in-time channel history: for each loan, the shrunk mean LGD of its industry's disposals
    finished strictly before its date (NaN when no disposal had finished yet, LightGBM's missing).

    Parameters
    ----------
    industry, day
        Each loan's industry code and date (origination).
    past_industry, past_lgd, past_day
        Every finished disposal: industry code, realised LGD, date the cash came in.
    shrink
        Pseudo-count of the shrinkage towards the mean of every earlier disposal.
    """
    ok = np.isfinite(past_lgd) & ~np.isnat(past_day)
    order = np.argsort(past_day[ok], kind="stable")
    days, lgd, ind = past_day[ok][order], past_lgd[ok][order], past_industry[ok][order]
    before = np.searchsorted(days, day, side="left")
    total = np.concatenate([[0.0], np.cumsum(lgd)])
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.where(before > 0, total[before] / before, np.nan)
        out = np.full(len(day), np.nan)
        for code in range(len(INDUSTRIES)):
            mine = ind == code
            sums = np.concatenate([[0.0], np.cumsum(lgd[mine])])
            k = np.searchsorted(days[mine], day, side="left")
            value = (sums[k] + shrink * overall) / (k + shrink)
            out = np.where(industry == code, value, out)
    return np.where(np.isnan(industry), overall, out)


class LgdEstimate(BaseModel):
    """The lgd model's estimate for one loan, the floor and why."""

    model_config = FROZEN
    model_lgd: float = Field(ge=0, le=1, description="The model's expected discounted LGD, before the floor.")
    floor: float = Field(ge=0, le=1, description="Configured minimum LGD without cover.")
    floor_applied: bool = Field(description="The floor, not the model, set the LGD.")
    months_to_recovery: float | None = Field(
        default=None, description="Expected months from default to cash (the model's months booster), if it has one."
    )
    economy: EconomyOn | None = Field(
        default=None,
        description="The economy the estimate read: the last published figure on the assessment date, its year, "
        "and whether a later year's figure was due but is not configured (stale).",
    )
    model_version: str
    reasons: list[Reason] = Field(description="Up to four features that raised the LGD most.")
    contributions: Contributions = Field(description="SHAP contributions in log-odds of the LGD.")


def history_of(model: LoadedModel) -> ChannelHistory | None:
    """The channel history stored with ``model`` (None for a model trained before it existed)."""
    raw = model.manifest.get("extra", {}).get("channel_history")
    return ChannelHistory.model_validate(raw) if raw is not None else None


def history_value(model: LoadedModel, industry: str) -> float:
    """The channel-history input for ``industry`` from the table stored with ``model`` (NaN without one).

    Read straight from the manifest (written from a validated :class:`ChannelHistory` at training): one
    dictionary lookup per request, no parsing.
    """
    raw = model.manifest.get("extra", {}).get("channel_history")
    if raw is None:
        return float("nan")
    record = raw["by_industry"].get(industry)
    return float(record["value"] if record is not None else raw["overall_mean_lgd"])


def lgd_matrix(
    model: LoadedModel,
    *,
    borrower: Borrower,
    loan: LoanTerms,
    patents: Sequence[Patent],
    as_of: date,
    package_value: float,
    economy: EconomySeries | None = None,
) -> FloatArray:
    """The lgd model's input row for one application, in the model's own feature order.

    The economy is the figure published by ``as_of`` (``economy``: default the bundled series);
    the channel history is the table stored with ``model``.
    """
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
    found = (economy or load_economy()).figure_on(as_of)
    cols = F.lgd_columns(
        ent,
        ln,
        summary,
        np.array([package_value], dtype=float),
        economy=np.array([np.nan if found is None else found[1]]),
        history=np.array([history_value(model, borrower.industry)]),
    )
    return F.to_matrix(cols, model.features)


def estimate_lgd(
    model: LoadedModel,
    x: FloatArray,
    *,
    floor: float,
    texts: dict[str, ReasonText],
    lang: Lang = "en",
    as_of: date | None = None,
    economy: EconomySeries | None = None,
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
    as_of, economy
        The assessment date and the series, to state which year's economy was read (when the
        model has the economy among its inputs).
    """
    ex = model.explain(x, space="log-odds")[0]
    value = float(sigmoid(np.array([ex.output]))[0])
    months = float(np.exp(model.raw(x, "months"))[0]) if "months" in model.boosters else None
    return LgdEstimate(
        model_lgd=value,
        months_to_recovery=months,
        floor=floor,
        floor_applied=value < floor,
        economy=(
            economy_on(as_of, economy or load_economy())
            if as_of is not None and "economy_gdp_growth" in model.feature_names
            else None
        ),
        model_version=model.version,
        reasons=top_reasons(ex, texts, lang=lang, k=4),
        contributions=Contributions.from_explanation(ex),
    )
