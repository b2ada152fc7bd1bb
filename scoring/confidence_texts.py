"""Why a model is low-confidence, in English or Chinese.

Training records each reason as a code with its figures (``training/confidence.py``,
in the manifest's ``extra.confidence.reason_codes``); the texts of
``config/confidence_texts.yaml`` write them in the reader's language whenever an
answer uses the model.  A record from before the codes keeps only its English
lines: English readers get them as they were, Chinese readers a Chinese line
saying the model is below its floors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from scoring.policy import ReasonText
from scoring.vocab import FROZEN
from scoring.vocab.lang import Lang

TEXTS_FILE = Path(__file__).parent / "config" / "confidence_texts.yaml"
ConfidenceCode = Literal["FEW_TEST_ROWS", "FEW_TEST_EVENTS", "ORACLE_GAP", "SINGLE_CLASS", "UNCODED", "BELOW_FLOORS"]


class ConfidenceReason(BaseModel):
    """One reason, language-neutral: its code, the figures its text shows, and the model it is about."""

    model_config = FROZEN
    code: ConfidenceCode
    params: dict[str, float | int | str] = Field(default_factory=dict)
    model: str | None = None


class ConfidenceTexts(BaseModel):
    """The text of every reason code, and each bundled model's name, in both languages."""

    model_config = FROZEN
    reasons: dict[ConfidenceCode, ReasonText]
    models: dict[str, ReasonText]

    def reason(self, reason: ConfidenceReason, lang: Lang) -> str:
        """``reason`` in ``lang``, after its model's name if it has one (``pd: ...``, ``违约概率模型：...``)."""
        text = self.reasons[reason.code].text(lang).format(**reason.params)
        if reason.model is None:
            return text
        return f"{self.model_name(reason.model, lang)}{'：' if lang == 'zh' else ': '}{text}"

    def model_name(self, name: str, lang: Lang) -> str:
        """A bundled model's name in ``lang``; another model (a generic one) by its own name."""
        known = self.models.get(name)
        if known is not None:
            return known.text(lang)
        return f"模型「{name}」" if lang == "zh" else name

    def texts(self, reasons: Iterable[ConfidenceReason], lang: Lang) -> list[str]:
        """Every reason in ``lang``, in order, each once (older records' English lines share one Chinese text)."""
        return list(dict.fromkeys(self.reason(r, lang) for r in reasons))


@cache
def load_confidence_texts(path: Path = TEXTS_FILE) -> ConfidenceTexts:
    """The texts of ``path`` (default: the bundled file), read once per process."""
    return ConfidenceTexts.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def recorded_reasons(record: Mapping[str, Any], model: str | None = None) -> list[ConfidenceReason]:
    """The reasons of a confidence record (``extra.confidence`` of a manifest), as codes; [] when not flagged.

    A record made before the codes gives its English lines as ``UNCODED`` reasons (or
    ``BELOW_FLOORS`` if it kept none).
    """
    if not record.get("low_confidence"):
        return []
    coded = record.get("reason_codes")
    if isinstance(coded, list):
        return [ConfidenceReason.model_validate({**c, "model": model}) for c in coded]
    lines = [str(r) for r in record.get("reasons") or []]
    if not lines:
        return [ConfidenceReason(code="BELOW_FLOORS", model=model)]
    return [ConfidenceReason(code="UNCODED", params={"text": line}, model=model) for line in lines]
