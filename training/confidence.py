"""Is a trained model strong and well evidenced enough to be trusted on its own?

Recorded in the manifest at registration (``extra.confidence``) from the model's
test metrics and the floors of ``training/config/confidence.yaml``; whatever
answers with the model repeats ``low_confidence`` and the reasons, in its reader's
language (the texts are ``scoring/config/confidence_texts.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from scoring.confidence_texts import ConfidenceReason, load_confidence_texts

CONFIDENCE_FILE = Path(__file__).parent / "config" / "confidence.yaml"


class Floors(BaseModel):
    """The limits below which a model is flagged."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_oracle_gap: float
    min_test_rows: int
    min_test_events: int


def load_floors(name: str, path: Path | None = None) -> Floors:
    """The floors of model ``name`` (its own entry, else ``default``)."""
    raw: dict[str, Any] = yaml.safe_load((path or CONFIDENCE_FILE).read_text(encoding="utf-8"))
    return Floors.model_validate(raw.get(name) or raw["default"])


def assess_confidence(name: str, metrics: Mapping[str, Any], floors: Floors | None = None) -> dict[str, Any]:
    """``{"low_confidence", "reasons", "reason_codes", "floors"}`` for a binary model's test metrics.

    ``reason_codes`` are the reasons language-neutral (code and figures,
    :class:`scoring.confidence_texts.ConfidenceReason`), so an answer can give them in
    its reader's language; ``reasons`` are the same in English.

    Parameters
    ----------
    name
        Model name (selects the floors).
    metrics
        Test metrics: flat (generic models: ``auc``, ``n``, ``event_rate``) or nested under
        ``model`` with ``oracle`` and ``model_vs_truth`` (bundled models on synthetic data).
        Models without binary metrics (valuation, regressions) are never flagged here.
    """
    floors = floors or load_floors(name)
    m = metrics.get("model", metrics)
    codes = _reasons(metrics, m, floors) if "auc" in m else []
    return {
        "low_confidence": bool(codes),
        "reasons": load_confidence_texts().texts(codes, "en"),
        "reason_codes": [c.model_dump(exclude={"model"}) for c in codes],
        "floors": floors.model_dump(),
    }


def _reasons(metrics: Mapping[str, Any], m: Mapping[str, Any], floors: Floors) -> list[ConfidenceReason]:
    reasons: list[ConfidenceReason] = []
    rows = int(m.get("n") or metrics.get("n_test") or 0)
    events = round(rows * float(m.get("event_rate") or 0.0))
    if rows < floors.min_test_rows:
        reasons.append(ConfidenceReason(code="FEW_TEST_ROWS", params={"rows": rows, "floor": floors.min_test_rows}))
    if events < floors.min_test_events:
        reasons.append(
            ConfidenceReason(code="FEW_TEST_EVENTS", params={"events": events, "floor": floors.min_test_events})
        )
    oracle = (metrics.get("oracle") or {}).get("auc")
    own = (metrics.get("model_vs_truth") or m).get("auc")
    if oracle is not None and own is not None and oracle - own > floors.max_oracle_gap:
        gap = {"auc": own, "gap": oracle - own, "oracle": oracle, "floor": floors.max_oracle_gap}
        reasons.append(ConfidenceReason(code="ORACLE_GAP", params=gap))
    if m.get("auc") is None:
        reasons.append(ConfidenceReason(code="SINGLE_CLASS"))
    return reasons
