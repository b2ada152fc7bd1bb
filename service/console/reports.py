"""What the valuation and assessment pages, the report and the memo show, read from the stored record.

A stored valuation or assessment keeps its request (the inputs) and its response
exactly as returned, with the model versions (``service.usecases.scoring``):
the pages and the printed documents show those, never a recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, select

from scoring.explain import Contributions
from scoring.policy import ReasonText, ScoringConfig
from scoring.valuation import PatentValuation
from scoring.vocab.lang import Lang
from service.console import charts, text
from service.db.tables import Assessment, Loan, Valuation
from service.schemas.scoring import AssessmentResponse, ValuationResponse


@dataclass(frozen=True)
class PatentView:
    """One patent: its inputs, its valuation and the waterfall of its P50."""

    inputs: dict[str, Any]
    result: PatentValuation
    chart: Markup


@dataclass(frozen=True)
class ValuationView:
    """A valuation as the page and the report show it."""

    id: str
    response: ValuationResponse
    context: dict[str, Any]
    patents: list[PatentView]


@dataclass(frozen=True)
class AssessmentView:
    """An assessment as the page and the memo show it."""

    id: str
    response: AssessmentResponse
    inputs: dict[str, Any]
    valuation: ValuationView
    chart: Markup
    loan_id: str | None


def waterfall(
    c: Contributions,
    texts: dict[str, ReasonText],
    lang: Lang,
    *,
    title: str,
    neutral: dict[str, tuple[str, str]] | None = None,
) -> Markup:
    """The SHAP waterfall of ``c``, each input named neutrally where given, else by its reason text."""
    zh = lang == "zh"

    def name(feature: str) -> str:
        if neutral and feature in neutral:
            return neutral[feature][0 if zh else 1]
        return texts[feature].text(lang) if feature in texts else feature

    return charts.waterfall(
        c.base_value,
        c.values,
        title=title,
        names=name,
        base_label="基准值" if zh else "Base",
        output_label="输出值" if zh else "Output",
        others_label="其余因素合计" if zh else "All other inputs",
    )


def _valuation(
    vid: str,
    response: ValuationResponse,
    patents: list[dict[str, Any]],
    context: dict[str, Any],
    config: ScoringConfig,
    lang: Lang,
) -> ValuationView:
    by_id = {p.patent_id: p for p in response.patents}
    title = "估值（对数元）的 SHAP 分解" if lang == "zh" else "SHAP of the value (log CNY)"
    views = []
    for i, inputs in enumerate(patents):
        result = by_id.get(str(inputs.get("patent_id"))) or response.patents[i]
        views.append(
            PatentView(inputs, result, waterfall(result.contributions, config.reasons.valuation, lang, title=title))
        )
    return ValuationView(vid, response, context, views)


def valuation_view(row: Valuation, config: ScoringConfig, lang: Lang) -> ValuationView:
    """A stored valuation with its inputs."""
    response = ValuationResponse.model_validate(row.response)
    return _valuation(
        row.id, response, list(row.request["patents"]), dict(row.request.get("context") or {}), config, lang
    )


def assessment_view(session: Session, row: Assessment, config: ScoringConfig, lang: Lang) -> AssessmentView:
    """A stored assessment with its inputs, its valuation and the loan booked from it (if any)."""
    response = AssessmentResponse.model_validate(row.response)
    patents = row.request.get("patents")
    if patents is None and row.valuation_id:
        source = session.get(Valuation, row.valuation_id)
        patents = source.request["patents"] if source is not None else []
    valuation = _valuation(response.valuation.id, response.valuation, list(patents or []), {}, config, lang)
    title = "违约概率（对数几率）的 SHAP 分解" if lang == "zh" else "SHAP of the PD (log-odds)"
    chart = waterfall(response.contributions, config.reasons.pd, lang, title=title, neutral=text.PD_INPUTS)
    loan = session.exec(select(Loan.id).where(Loan.assessment_id == row.id)).first()
    return AssessmentView(row.id, response, dict(row.request), valuation, chart, loan)
