"""The configuration the service serves with, loaded in one place.

Three parts, each typed:

* the scoring policy (``scoring/config/*.yaml``: LTV caps, valuation assumptions,
  decision rules, reason texts, insurance, master scale);
* the fund context (``fund_texts.yaml`` and the working-day ``calendar.yaml``);
* the static text of the model cards, in English and Chinese (``service/config/model_cards.yaml``,
  ``model_cards_zh.yaml``: the same facts, item by item).

:func:`load_configuration` reads them all, bundled files first overridden by
files of the same name in ``IPRISK_CONFIG_DIR``.  It runs when the application
starts (a broken file stops start-up) and again whenever the served models
change (``service.bundle.BundleHolder``: a broken file then keeps the previous
configuration serving and is reported in ``/readyz``).  No request reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from scoring.calendar import HolidayCalendar, chinese_calendar, load_overrides
from scoring.fund_reasons import load_texts
from scoring.policy import ReasonText, ScoringConfig, load_scoring_config
from scoring.vocab.lang import LANGS, Lang


def package_yaml(package: str, *parts: str) -> Any:
    """YAML data shipped inside ``package`` (package data: read the same from a checkout or a wheel)."""
    return yaml.safe_load(resources.files(package).joinpath(*parts).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class FundContext:
    """What fund use cases need besides the database: reason texts and the working-day calendar."""

    texts: dict[str, ReasonText]
    claim_texts: dict[str, ReasonText]
    calendar: HolidayCalendar


class CardText(BaseModel):
    """The written part of a model card; metrics, features and promotions come from the store."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    purpose: str
    data: str
    intended_use: str
    known_limits: tuple[str, ...]


@dataclass(frozen=True)
class Configuration:
    """Everything the service reads from configuration files, validated."""

    scoring: ScoringConfig
    funds: FundContext
    model_cards: Mapping[Lang, Mapping[str, CardText]]


def _override(config_dir: Path | None, name: str) -> Path | None:
    """``config_dir/name`` if that override exists, else ``None`` (the bundled file)."""
    return config_dir / name if config_dir is not None and (config_dir / name).exists() else None


def load_model_cards() -> dict[Lang, dict[str, CardText]]:
    """The bundled model-card texts, by language and model name; every language has every card, limit for limit."""
    cards: dict[Lang, dict[str, CardText]] = {}
    for lang in LANGS:
        raw: dict[str, Any] = package_yaml(
            "service.config", "model_cards.yaml" if lang == "en" else f"model_cards_{lang}.yaml"
        )
        cards[lang] = {name: CardText.model_validate(text) for name, text in raw.items()}
    shape = {lang: {name: len(card.known_limits) for name, card in c.items()} for lang, c in cards.items()}
    if len({tuple(sorted(s.items())) for s in shape.values()}) > 1:
        raise ValueError(f"the model cards differ between languages (models and known limits): {shape}")
    return cards


def load_configuration(config_dir: Path | None) -> Configuration:
    """Read and validate every configuration file (overrides from ``config_dir`` first, then bundled)."""
    scoring = load_scoring_config(config_dir)
    funds = FundContext(
        texts=load_texts(_override(config_dir, "fund_texts.yaml")),
        claim_texts=dict(scoring.reasons.claim_review),
        calendar=chinese_calendar(load_overrides(_override(config_dir, "calendar.yaml"))),
    )
    return Configuration(scoring=scoring, funds=funds, model_cards=load_model_cards())
