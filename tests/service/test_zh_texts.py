"""Every Chinese text the service produces that this scan reaches has no English word in it.

A zh text is a string with a Han character (tests/zh_scan.py); its ASCII words must be codes
(no lower case), numbers or units.  Scanned: the zh texts of the configuration under
scoring/config and service/config, the zh answers of the regulator's endpoints, and the
regulator's exports (headers and cells), insurance quotes, a fund claim's checks, payout and
review (with why its score is advisory), and the low-confidence reasons of valuations and assessments.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from models_store import ModelStore
from scoring.confidence_texts import load_confidence_texts, recorded_reasons
from scoring.vocab.lang import Lang
from service.configuration import load_model_cards
from service.schemas.scoring import AssessmentResponse
from tests.factories import application, business_today, claim_body
from tests.service.fund_helpers import file, new_fund, pool_loan
from tests.service.harness import Server
from tests.zh_scan import english_words, is_zh, offenders

ROOT = Path(__file__).resolve().parents[2]
CONFIG = sorted([*(ROOT / "scoring" / "config").rglob("*.yaml"), *(ROOT / "service" / "config").rglob("*.yaml")])
ORIGIN = (business_today() - timedelta(days=200)).isoformat()


@pytest.mark.parametrize("path", CONFIG, ids=lambda p: str(p.relative_to(ROOT)))
def test_configured_zh_texts_have_no_english_word(path: Path) -> None:
    assert offenders(yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_the_scan_finds_what_the_issue_found() -> None:
    assert english_words("贷款分类为substandard") == ["substandard"]
    assert english_words("fund/bank") == ["fund", "bank"]
    assert english_words("知识产权占担保物比例{share}，LTV 1.000000 CNY，P50 与 2026Q3") == []


def test_zh_insurance_quotes_have_no_english_word(server: Server) -> None:
    """A guarantee quote (what-if split and fund rules) and an enforcement quote, asked in Chinese."""
    with server.client("bank_a", lang="zh") as c:
        a = c.assess(application(amount_cny=3e6, tenor_months=36))
        what_if = {"insured_share": 0.3, "split": {"government": 0.4, "bank": 0.2, "insurer": 0.4}}
        guarantee = c.quote({"quote": {"product": "pledge_guarantee", "assessment_id": a.id, **what_if}})
        enforcement = c.quote({"quote": {"product": "patent_enforcement", "patents": application()["patents"]}})
    for quote in (guarantee, enforcement):
        body = quote.model_dump(mode="json")
        assert any(is_zh(str(v)) for v in _strings(body)), body  # the reasons are in Chinese at all
        assert offenders(body) == []


def test_zh_claim_texts_have_no_english_word(server: Server) -> None:
    """A claim's rule checks, payout steps and review reasons, asked in Chinese, on a four-party fund."""
    fund_id, _ = new_fund(server, "four_party_54_26_16_4")
    with server.client("bank_a", lang="zh") as bank:
        claim = file(server, bank, fund_id, claim_body(pool_loan(server, bank, fund_id)))
    body = claim.model_dump(mode="json")
    assert any(is_zh(str(v)) for v in _strings(body)), body
    assert offenders(body) == []
    # The session's claim-review model is trained on a few hundred claims: below its floors, so advisory.
    assert body["review"]["advisory"] is True
    _all_chinese(body["review"]["advisory_reasons"])


def _all_chinese(texts: list[str]) -> None:
    """Every text is Chinese (has a Han character) and has no English word; and there is at least one."""
    assert texts
    assert [t for t in texts if not is_zh(t) or english_words(t)] == []


def test_zh_low_confidence_reasons_are_chinese_and_english_ones_unchanged(server: Server) -> None:
    """A valuation and an assessment give the confidence reasons recorded for their models in the asked language."""
    store = ModelStore(server.settings.store_path)
    texts = load_confidence_texts()
    with server.client("bank_a", lang="zh") as zh, server.client("bank_a", lang="en") as en:
        answers: dict[Lang, AssessmentResponse] = {"zh": zh.assess(application()), "en": en.assess(application())}
        valued = zh.value({"patents": application()["patents"]})
    for lang, a in answers.items():
        reasons = []
        for name in ("valuation", "pd"):
            record = store.manifest(name, a.model_versions[name]).extra["confidence"]
            reasons += recorded_reasons(record, model=name)
            if lang == "en":  # unchanged: the English lines recorded at registration, after the model's name
                assert texts.texts(recorded_reasons(record, model=name), "en") == [
                    f"{name}: {r}" for r in record["reasons"]
                ]
        assert a.low_confidence is bool(reasons)
        assert a.low_confidence_reasons == texts.texts(reasons, lang)
        assert offenders(a.model_dump(mode="json")) == []
    assert offenders(valued.model_dump(mode="json")) == []
    flagged = answers["zh"].low_confidence_reasons + valued.low_confidence_reasons
    # The session's pd model misses its oracle by just over the floor (0.056 > 0.05 on 2026-11-30); should a
    # retrained one clear it, every code is still rendered in tests/scoring/test_confidence_texts.py.
    if flagged:
        _all_chinese(flagged)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture(scope="module")
def zh(server: Server) -> httpx.Client:
    """The regulator's client asking for Chinese, over a small book with a defaulted loan."""
    loan_ids = []
    for who, region, industry in (("bank_a", "bijie", "baijiu"), ("bank_b", "qianxinan", "computing_power")):
        app = application(amount_cny=2e6, tenor_months=24)
        app["borrower"].update(region=region, industry=industry)
        app["as_of"] = ORIGIN
        with server.client(who) as c:
            loan_ids.append(c.book_loan({"assessment_id": c.assess(app).id, "origination_date": ORIGIN}).id)
    with server.client("bank_a") as c:
        c.report_outcome(
            {
                "loan_id": loan_ids[0],
                "as_of": business_today().isoformat(),
                "status": "default",
                "days_past_due": 95,
                "npl_class": "substandard",
                "default_date": (business_today() - timedelta(days=95)).isoformat(),
            }
        )
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.keys['regulator']}", "Accept-Language": "zh-CN"},
        timeout=30,
    )


READS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/regulator/portfolio", {"group_by": "region"}),
    ("/v1/regulator/book", {"by": ["region", "industry"]}),
    ("/v1/regulator/book", {"by": ["patent_type", "ticket_band"]}),
    ("/v1/regulator/book/snapshots", {"frequency": "monthly"}),
    ("/v1/regulator/funds", {}),
    ("/v1/regulator/models", {}),
    ("/v1/regulator/monitoring/performance", {}),
]


@pytest.mark.parametrize(("path", "params"), READS, ids=[f"{p}?{q}" for p, q in READS])
def test_zh_answers_of_the_regulator_have_no_english_word(zh: httpx.Client, path: str, params: dict[str, Any]) -> None:
    resp = zh.get(path, params=params)
    assert resp.status_code == 200, resp.text
    assert offenders(resp.json()) == []


def test_zh_book_labels_every_key(zh: httpx.Client) -> None:
    book = zh.get("/v1/regulator/book", params={"by": ["region", "industry"]}).json()
    cell = next(c for c in book["cells"] if c["keys"] == {"region": "bijie", "industry": "baijiu"})
    assert cell["labels"] == {"region": "毕节市", "industry": "酱香白酒"} and cell["npl_ratio"] == 1.0


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/regulator/portfolio/export", {"group_by": "industry"}),
        ("/v1/regulator/book/export", {"by": ["region", "patent_type"]}),
        ("/v1/regulator/book/export", {"by": ["ticket_band"]}),
    ],
)
def test_zh_exports_have_chinese_headers_and_no_english_word(
    zh: httpx.Client, path: str, params: dict[str, Any], fmt: str
) -> None:
    resp = zh.get(path, params={**params, "format": fmt})
    assert resp.status_code == 200, resp.text
    if fmt == "csv":
        frame = pd.read_csv(io.StringIO(resp.content.decode("utf-8-sig")))
    elif fmt == "xlsx":
        frame = pd.read_excel(io.BytesIO(resp.content), engine="openpyxl")
    else:
        frame = pd.read_parquet(io.BytesIO(resp.content))
    assert all(is_zh(str(c)) for c in frame.columns), list(frame.columns)
    texts = [*map(str, frame.columns), *(str(v) for v in frame.to_numpy().ravel())]
    assert [(t, w) for t in texts if (w := english_words(t))] == []


@pytest.mark.parametrize("name", ["valuation", "pd", "lgd", "claim_review"])
def test_zh_model_cards_state_the_same_facts_in_chinese(zh: httpx.Client, server: Server, name: str) -> None:
    """The regulator's model card asked in Chinese: every text Chinese, the same limits, metrics and record."""
    card = zh.get(f"/v1/regulator/models/{name}/1/card")
    assert card.status_code == 200, card.text
    zh_card = card.json()
    en_card = zh.get(f"/v1/regulator/models/{name}/1/card", headers={"Accept-Language": "en"}).json()
    _all_chinese([zh_card["purpose"], zh_card["data"], zh_card["intended_use"], *zh_card["known_limits"]])
    assert offenders(zh_card) == []
    assert len(zh_card["known_limits"]) == len(en_card["known_limits"])
    texts = ("purpose", "data", "intended_use", "known_limits", "low_confidence_reasons")
    assert {k: v for k, v in zh_card.items() if k not in texts} == {k: v for k, v in en_card.items() if k not in texts}
    assert len(zh_card["low_confidence_reasons"]) == len(en_card["low_confidence_reasons"])
    if zh_card["low_confidence"]:
        _all_chinese(zh_card["low_confidence_reasons"])
    assert en_card["purpose"] == load_model_cards()["en"][name].purpose  # English unchanged
