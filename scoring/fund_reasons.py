"""Reasons behind every fund number, in English or Chinese.

Checks and payout steps are stored language-neutral (codes and numbers); the
functions here render them from the texts of ``config/fund_texts.yaml`` when a
caller reads them, in the caller's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from scoring.fund_checks import RuleCheck, money
from scoring.fund_facts import percent
from scoring.payout import BaseStep, CapStep, PartyPayout
from scoring.policy import ReasonText
from scoring.subsidies import SubsidyStep
from scoring.vocab.lang import Lang
from scoring.vocab.zh import label as zh_label

TEXTS_FILE = Path(__file__).parent / "config" / "fund_texts.yaml"
Texts = Mapping[str, ReasonText]


def load_texts(path: Path | None = None) -> dict[str, ReasonText]:
    """Texts of every check, base-step, party and cap code (default: the bundled file)."""
    raw = yaml.safe_load((path or TEXTS_FILE).read_text(encoding="utf-8"))
    return {code: ReasonText.model_validate({"code": code, **t}) for code, t in raw.items()}


# In a zh text a vocabulary value is shown by its Chinese label (scoring/vocab/zh.py), not its code:
# the parameter's vocabulary, and for ``value``/``allowed`` the vocabulary the code's family names.
_PARAM_VOCABULARY = {"npl_class": "npl_class", "purpose": "purpose", "party": "party"}
_LIST_VOCABULARY = {"NPL": "npl_class", "PURPOSE": "purpose", "REGION": "region"}
# Shares the rules hold as six-place decimals, shown as percentages in zh ("100%", not "1.000000").
_SHARE_PARAMS = ("share", "min")
_SHARE_CODES = ("IP_SHARE", "PARTY")


def _zh(code: str, params: dict[str, object]) -> dict[str, object]:
    out = dict(params)
    for name, vocabulary in _PARAM_VOCABULARY.items():
        if name in out:
            out[name] = zh_label(vocabulary, str(out[name]))
    family = _LIST_VOCABULARY.get(code.split("_")[0])
    if family is not None:
        for name in ("value", "allowed"):
            if name in out:
                out[name] = "、".join(zh_label(family, v.strip()) for v in str(out[name]).split(","))
    if code.startswith(_SHARE_CODES):
        for name in _SHARE_PARAMS:
            share = out.get(name)
            if share is not None and _is_share(str(share)):
                out[name] = percent(Decimal(str(share)))
    return out


def _is_share(text: str) -> bool:
    try:
        return 0 <= Decimal(text) <= 1
    except InvalidOperation:
        return False


def _say(texts: Texts, lang: Lang, code: str, **params: object) -> str:
    return texts[code].text(lang).format(**(_zh(code, params) if lang == "zh" else params))


def check_reason(check: RuleCheck, texts: Texts, lang: Lang) -> str:
    """Why a rule passed or failed (an ``event`` parameter is a filing trigger, named in ``lang``)."""
    params: dict[str, object] = dict(check.params)
    if "event" in params:
        params["event"] = texts[f"EVENT_{str(params['event']).upper()}"].text(lang)
    return _say(texts, lang, check.code, **params)


def base_step_reason(step: BaseStep, texts: Texts, lang: Lang) -> str:
    """What one covered-base step did."""
    covered, _, loan = step.parameter.partition("/")  # a pro-rata step quotes "covered/loan"
    return _say(
        texts,
        lang,
        f"BASE_{step.step.upper()}",
        amount=money(step.amount_fen),
        parameter=step.parameter,
        covered=covered,
        loan=loan,
    )


def party_reason(party: PartyPayout, base_fen: int, texts: Texts, lang: Lang) -> str:
    """How a party's amount follows from its share (the bank: what it bears)."""
    code = "PARTY_BANK" if party.role == "bank" else "PARTY_SHARE"
    return _say(
        texts,
        lang,
        code,
        party=party.name,
        share=party.share,
        base=money(base_fen),
        share_amount=money(party.share_amount_fen),
        amount=money(party.amount_fen),
    )


def cap_reason(party: str, cap: CapStep, texts: Texts, lang: Lang) -> str:
    """What one cap allowed."""
    return _say(
        texts,
        lang,
        f"CAP_{cap.cap.upper()}",
        party=party,
        limit=money(cap.limit_fen),
        used=money(cap.used_fen),
        room=money(cap.room_fen),
        before=money(cap.before_fen),
        after=money(cap.after_fen),
        **cap.detail,
    )


def subsidy_step_reason(step: SubsidyStep, texts: Texts, lang: Lang) -> str:
    """What one step from the cost to a subsidy did."""
    return _say(texts, lang, f"SUBSIDY_{step.step.upper()}", amount=money(step.amount_fen), **step.params)
