"""The collateral watch: mark pledged patents to model in batches, and the alerts a loan raises.

:func:`mark_patents` values any number of patents from contract-shaped columns with
the valuation path's own features (:func:`scoring.features.valuation_columns`) and
quantiles (:func:`scoring.valuation.quantiles`), one LightGBM call per booster per
chunk and no per-row Python, then decides vectorised which patents the pledge still
counts: a patent that no longer lives (expired, lapsed, invalidated) counts 0, and so
does one that lives under a court preservation order, an ownership dispute or unpaid
fees (CNIPA's grounds 4 and 5, docs/collateral.md).  :func:`loan_alerts` turns one
loan's marks and legal facts into alerts with a severity and zh/en texts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from scoring import features as F
from scoring.legal_events import LegalFacts, grace_end, surcharge_share
from scoring.models import LoadedModel
from scoring.pledge_checks import add_months
from scoring.valuation import patent_columns, quantiles
from scoring.vocab import FROZEN
from scoring.vocab.arrays import AnyArray, FloatArray

AlertType = Literal[
    "ltv_breach",
    "fee_due",
    "lapse",
    "invalidated",
    "invalidation_requested",
    "litigation",
    "preservation_order",
    "pledge_term_short",
    "expires_before_maturity",
    "value_fall",
]
ALERT_TYPES: tuple[AlertType, ...] = get_args(AlertType)
Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
BASES = ("pledgeable", "not_alive", "not_registrable")
CHUNK = 65_536


class WatchThresholds(BaseModel):
    """When the watch raises an alert (configuration, not code)."""

    model_config = FROZEN
    fee_due_days: int = Field(default=30, ge=0, le=366, description="Warn of an annual fee due within so many days.")
    value_fall_share: float = Field(
        default=0.2, gt=0, le=1, description="Warn when the pledge value fell by more than this share since booking."
    )


class Alert(BaseModel):
    """One alert: its type, severity, the patent it concerns (None: the loan) and its texts."""

    model_config = FROZEN
    type: AlertType
    severity: Severity
    patent_id: str | None
    text_zh: str
    text_en: str
    detail: dict[str, float | int | str | None] = Field(default_factory=dict)


# (zh, en) texts by alert type, filled with str.format.
TEXTS: Mapping[AlertType, tuple[str, str]] = {
    "ltv_breach": (
        "质押率{ltv_zh}超过上限 {cap:.1%}：需归还 {repay:,.0f} 元，或追加评估价值 {top_up:,.0f} 元的质押物",
        "LTV {ltv_en} exceeds the cap of {cap:.1%}: repay CNY {repay:,.0f} or pledge CNY {top_up:,.0f} more collateral",
    ),
    "fee_due": (
        "第 {year} 年年费应于 {due} 缴纳{late_zh}；宽限期至 {grace}",
        "Annual fee for year {year} due on {due}{late_en}; grace period until {grace}",
    ),
    "lapse": ("专利权已终止，质押物价值计为零", "The patent has lapsed: the pledge counts it at zero"),
    "invalidated": (
        "专利权已被宣告全部无效，质押物价值计为零",
        "The patent was wholly invalidated: the pledge counts it at zero",
    ),
    "invalidation_requested": (
        "专利权处于无效宣告程序中（案号 {cases}）",
        "An invalidation request is pending (case {cases})",
    ),
    "litigation": ("专利涉诉未结（案号 {cases}）", "Litigation about the patent is pending (case {cases})"),
    "preservation_order": (
        "专利权被法院财产保全（案号 {cases}），质押物价值计为零",
        "A court preservation order froze the patent (case {cases}): the pledge counts it at zero",
    ),
    "pledge_term_short": (
        "质押登记期限 {term_end} 早于贷款到期日 {maturity}",
        "The registered pledge term ends on {term_end}, before the loan matures on {maturity}",
    ),
    "expires_before_maturity": (
        "专利权于 {expiry} 届满，早于贷款到期日 {maturity}",
        "The patent expires on {expiry}, before the loan matures on {maturity}",
    ),
    "value_fall": (
        "质押价值较放款时下降 {fall:.1%}（{before:,.0f} 元降至 {now:,.0f} 元）",
        "The pledge value fell {fall:.1%} since booking (CNY {before:,.0f} to CNY {now:,.0f})",
    ),
}


@dataclass(frozen=True)
class Marks:
    """Marks of patents, one entry per input row: quantiles and pledge value in CNY, basis index into BASES."""

    q: FloatArray
    basis: AnyArray
    pledge_value: FloatArray
    remaining_life_years: FloatArray


def facts_columns(facts: Sequence[LegalFacts]) -> dict[str, AnyArray]:
    """Contract-shaped columns of a few patents' current facts (the per-loan watch's path)."""
    return patent_columns([f.patent for f in facts])


def _basis(cols: Mapping[str, AnyArray], life: FloatArray) -> AnyArray:
    status = np.asarray(cols["legal_status"], dtype=object)
    alive = (life > 0) & (status == "granted")
    impaired = (
        np.asarray(cols["preservation_order"], dtype=bool)
        | np.asarray(cols["ownership_dispute"], dtype=bool)
        | ~np.asarray(cols["fees_up_to_date"], dtype=bool)
    )
    return np.where(~alive, 1, np.where(impaired, 2, 0)).astype(np.int8)


def mark_patents(
    model: LoadedModel,
    cols: Mapping[str, AnyArray],
    as_of: date,
    *,
    owner_revenue: FloatArray | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], object] | None = None,
) -> Marks:
    """Mark patents to model at ``as_of``: P10/P50/P90 (CNY) and what the pledge counts.

    Parameters
    ----------
    model
        The valuation model (roles ``p10``, ``p50``, ``p90``; log CNY).
    cols
        Contract ``patents`` columns (:func:`scoring.valuation.patent_columns` or a frame's).
    as_of
        Valuation date.
    owner_revenue
        Owner revenue per patent (CNY per year), NaN where unknown.
    chunk
        Rows per LightGBM call (bounds memory; one call per booster per chunk).
    progress
        Called with the rows done and the rows in all after each chunk.

    Returns
    -------
    Marks
    """
    n = len(cols["patent_id"])
    day = np.datetime64(as_of, "D")
    rev = np.full(n, np.nan) if owner_revenue is None else np.asarray(owner_revenue, dtype=np.float64)
    q = np.empty((n, 3))
    for start in range(0, n, chunk):
        part = {k: np.asarray(v)[start : start + chunk] for k, v in cols.items()}
        x = F.to_matrix(F.valuation_columns(part, day, owner_revenue=rev[start : start + chunk]), F.VALUATION_FEATURES)
        q[start : start + chunk] = quantiles(model, x)
        if progress is not None:
            progress(min(start + chunk, n), n)
    life = F.remaining_life_years(
        np.asarray(cols["patent_type"], dtype=object), np.asarray(cols["filing_date"], dtype="datetime64[D]"), day
    )
    basis = _basis(cols, life)
    return Marks(q=q, basis=basis, pledge_value=np.where(basis == 0, q[:, 1], 0.0), remaining_life_years=life)


def caps_of(patent_types: AnyArray, caps: Mapping[str, float]) -> FloatArray:
    """The LTV cap of each patent's type."""
    types = np.asarray(patent_types, dtype=object)
    return np.select([types == t for t in caps], list(caps.values()), default=0.0)


@dataclass(frozen=True)
class LoanFigures:
    """A loan's collateral figures at a date (CNY; ``ltv`` None when nothing is counted)."""

    amount: float
    pledge_value: float
    max_loan: float
    ltv: float | None
    cap: float
    repay: float
    top_up: float


def loan_figures(amount: float, pledge_values: FloatArray, caps: FloatArray) -> LoanFigures:
    """LTV against the cap: what the pledge supports (Σ value × cap), and the repayment or top-up a breach needs.

    The cap of a package is its value-weighted cap; a top-up is valued at that cap too
    (or the highest of the package's types when nothing is counted any more).
    """
    value = float(pledge_values.sum())
    max_loan = float((pledge_values * caps).sum())
    cap = max_loan / value if value > 0 else float(caps.max(initial=0.0))
    repay = max(0.0, amount - max_loan)
    return LoanFigures(
        amount=amount,
        pledge_value=value,
        max_loan=max_loan,
        ltv=amount / value if value > 0 else None,
        cap=cap,
        repay=repay,
        top_up=repay / cap if cap > 0 else 0.0,
    )


def _alert(kind: AlertType, severity: Severity, patent_id: str | None, **fmt: object) -> Alert:
    zh, en = TEXTS[kind]
    zh_fmt = {k: v for k, v in fmt.items() if not k.endswith("_en")}
    en_fmt = {k: v for k, v in fmt.items() if not k.endswith("_zh")}
    detail = {k: v if isinstance(v, int | float | str) or v is None else str(v) for k, v in fmt.items()}
    return Alert(
        type=kind,
        severity=severity,
        patent_id=patent_id,
        text_zh=zh.format(**zh_fmt),
        text_en=en.format(**en_fmt),
        detail={k: v for k, v in detail.items() if not k.endswith(("_zh", "_en"))},
    )


def _fee_alert(f: LegalFacts, as_of: date, days: int) -> Alert | None:
    due = f.fee_due_date
    if due is None or f.patent.legal_status != "granted" or (due - as_of).days > days:
        return None
    grace = grace_end(due)
    if as_of <= due:
        return _alert(
            "fee_due", "warning", f.patent.patent_id, year=f.fee_due_year, due=due, grace=grace, late_zh="", late_en=""
        )
    share = float(surcharge_share(due, as_of))
    return _alert(
        "fee_due",
        "critical",
        f.patent.patent_id,
        year=f.fee_due_year,
        due=due,
        grace=grace,
        surcharge_share=share,
        late_zh=f"，已逾期，今日补缴须加收当年年费 {share:.0%} 的滞纳金",
        late_en=f", overdue: paid today it carries a surcharge of {share:.0%} of the year's fee",
    )


def patent_alerts(f: LegalFacts, *, as_of: date, maturity: date, thresholds: WatchThresholds) -> list[Alert]:
    """The alerts one pledged patent raises from its legal facts."""
    pid, p = f.patent.patent_id, f.patent
    out: list[Alert] = []
    if p.legal_status == "lapsed":
        out.append(_alert("lapse", "critical", pid))
    if p.legal_status == "invalidated":
        out.append(_alert("invalidated", "critical", pid))
    if fee := _fee_alert(f, as_of, thresholds.fee_due_days):
        out.append(fee)
    if f.open_invalidations:
        out.append(_alert("invalidation_requested", "warning", pid, cases="、".join(f.open_invalidations)))
    if f.open_litigation:
        cases = "、".join(c.split(":", 1)[1] for c in f.open_litigation)
        out.append(_alert("litigation", "critical" if p.ownership_dispute else "warning", pid, cases=cases))
    if f.preservation_orders:
        out.append(_alert("preservation_order", "critical", pid, cases="、".join(f.preservation_orders)))
    if f.pledge_term_end is not None and f.pledge_registration != "released" and f.pledge_term_end < maturity:
        out.append(_alert("pledge_term_short", "warning", pid, term_end=f.pledge_term_end, maturity=maturity))
    if p.expiry() < maturity and p.legal_status == "granted":
        out.append(_alert("expires_before_maturity", "warning", pid, expiry=p.expiry(), maturity=maturity))
    return out


def loan_alerts(figures: LoanFigures, *, booked_value: float | None, thresholds: WatchThresholds) -> list[Alert]:
    """The alerts a loan raises from its figures: an LTV breach, a fall of the pledge value since booking."""
    out: list[Alert] = []
    if figures.repay > 0.005:
        out.append(
            _alert(
                "ltv_breach",
                "critical",
                None,
                ltv=figures.ltv,
                ltv_zh=f" {figures.ltv:.1%} " if figures.ltv is not None else "（质押物价值为零）",
                ltv_en=f"{figures.ltv:.1%}" if figures.ltv is not None else "(nothing counted)",
                cap=figures.cap,
                repay=figures.repay,
                top_up=figures.top_up,
            )
        )
    if booked_value and booked_value > 0:
        fall = 1 - figures.pledge_value / booked_value
        if fall > thresholds.value_fall_share:
            severity: Severity = "critical" if fall >= 2 * thresholds.value_fall_share else "warning"
            out.append(_alert("value_fall", severity, None, fall=fall, before=booked_value, now=figures.pledge_value))
    return out


def maturity_of(origination: date, tenor_months: int) -> date:
    """The loan's maturity: origination plus its tenor."""
    return add_months(origination, tenor_months)
