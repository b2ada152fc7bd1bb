"""Model inventory and model cards, read from the model store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from models_store import ModelStore, StoreError
from scoring.confidence_texts import load_confidence_texts, recorded_reasons
from scoring.vocab.lang import Lang
from service.configuration import CardText
from service.errors import NotFound
from service.schemas.regulator import AliasMove, ModelCard, ModelInventory, ModelVersionInfo


def _moves(store: ModelStore, name: str) -> list[AliasMove]:
    return [
        AliasMove(
            alias=e.alias,
            from_version=e.from_version,
            to_version=e.to_version,
            actor=e.actor,
            reason=e.reason,
            forced=e.forced,
            at=e.at,
            action=e.action,
        )
        for e in store.history(name)
    ]


def inventory(store: ModelStore) -> ModelInventory:
    """Every model and version with its manifest facts and aliases, and every alias move."""
    models: dict[str, list[ModelVersionInfo]] = {}
    history: dict[str, list[AliasMove]] = {}
    for name in store.names():
        aliases = store.aliases(name)
        models[name] = [
            ModelVersionInfo(
                name=name,
                version=m.version,
                task=m.task,
                created_at=m.created_at,
                created_by=m.created_by,
                synthetic=m.synthetic,
                aliases=sorted(a for a, v in aliases.items() if v == m.version),
                metrics=m.metrics,
                data_fingerprint=m.data_fingerprint,
                files=dict(m.files),
            )
            for m in store.versions(name)
        ]
        history[name] = _moves(store, name)
    return ModelInventory(models=models, history=history)


def champion_at(store: ModelStore, name: str, when: datetime) -> dict[str, Any]:
    """Which version was champion of ``name`` at ``when``."""
    if name not in store.names():
        raise NotFound(f"no model {name}")
    return {"name": name, "at": when.isoformat(), "champion": store.champion_on(name, when)}


def model_card(
    store: ModelStore, cards: Mapping[str, CardText], name: str, version: str, *, lang: Lang = "en"
) -> ModelCard:
    """A model card in ``lang``: purpose, data, use, known limits (``cards``), metrics, features, promotions."""
    try:
        m = store.manifest(name, version)
    except StoreError as exc:
        raise NotFound(f"no model version {name}:{version}") from exc
    card = cards.get(name) or _generic_card(name, m.task, m.data_fingerprint, (m.extra or {}).get("target"), lang)
    confidence = (m.extra or {}).get("confidence") or {}
    return ModelCard(
        name=name,
        version=version,
        purpose=card.purpose,
        data=card.data,
        intended_use=card.intended_use,
        known_limits=list(card.known_limits),
        metrics=m.metrics,
        features=[f.name for f in m.features],
        promoted=[e for e in _moves(store, name) if e.to_version == version],
        synthetic=m.synthetic,
        shap_kernel=(m.extra or {}).get("shap_kernel"),
        target=_text((m.extra or {}).get("target")),
        positive_label=_text((m.extra or {}).get("positive_label")),
        low_confidence=bool(confidence.get("low_confidence")),
        low_confidence_reasons=load_confidence_texts().texts(recorded_reasons(confidence), lang),
    )


def _generic_card(name: str, task: str, fingerprint: str, target: object, lang: Lang) -> CardText:
    """The card of a model trained from a file, which has no written card: what the manifest says."""
    if lang == "zh":
        return CardText(
            purpose=f"用通用表格流程训练的{_TASKS_ZH.get(task, task)}模型「{name}」。",
            data=f"训练文件指纹 {fingerprint[:12]}…；目标列 {target}。",
            intended_use="按登记该模型的团队所记载的用途使用。",
            known_limits=("尚未为该模型撰写专门的模型卡。",),
        )
    return CardText(
        purpose=f"{task} model '{name}' trained with the generic tabular pipeline.",
        data=f"Training file fingerprint {fingerprint[:12]}…; target {target}.",
        intended_use="As documented by the team that registered it.",
        known_limits=("No model-specific card has been written for this model.",),
    )


_TASKS_ZH = {"binary": "二分类", "regression": "回归"}


def _text(value: object) -> str | None:
    return None if value is None else str(value)
