"""Value only what lives: pledge value, maximum pledge, LGD collateral and the decision count pledgeable patents."""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from models_store import ModelStore
from scoring.models import LoadedModel
from scoring.package import value_bases, value_package
from scoring.pipeline import run_assessment, run_valuation
from scoring.pledge_checks import PledgeCheck
from scoring.policy import ScoringConfig, load_scoring_config
from scoring.types import Borrower, LoanTerms, Patent
from service.bundle import load_champion
from tests.patent_numbers import fresh_patent_id
from training.pipeline import RunResult

CONFIG = load_scoring_config()
CAPS = CONFIG.ltv.default
AS_OF = date(2026, 6, 30)
BORROWER = Borrower(
    enterprise_id="E1",
    industry="computing_power",
    region="guiyang",
    revenue_cny=48e6,
    employees=120,
    years_registered=6.5,
    leverage=0.45,
)


@functools.cache
def _patent_id(name: str, patent_type: str) -> str:
    """One valid application number per test name and type."""
    return fresh_patent_id(patent_type)


def _patent(pid: str = "P1", **over: object) -> Patent:
    base: dict[str, object] = {
        "patent_id": _patent_id(pid, str(over.get("patent_type", "invention"))),
        "patent_type": "invention",
        "ipc_section": "H",
        "tech_field": "electronics",
        "filing_date": date(2021, 3, 15),
        "grant_date": date(2023, 6, 20),
        "claims_count": 12,
        "independent_claims": 2,
        "family_size": 3,
        "forward_citations": 8,
        "owner_id": "E1",
    }
    return Patent.model_validate({**base, **over})


OLD_INVENTION = {"filing_date": date(1999, 3, 15), "grant_date": date(2001, 6, 20)}


def _check(status: str) -> PledgeCheck:
    return PledgeCheck(check="x", status=status, code="X", reason="x")


def test_value_bases_alive_registrable_or_not() -> None:
    patents = [
        _patent("ok"),
        _patent("old", **OLD_INVENTION),
        _patent("lapsed", legal_status="lapsed", fees_up_to_date=False),
        _patent("pending", legal_status="pending", grant_date=None),
        _patent("refused"),
    ]
    checks = [[_check("pass")], [_check("fail")], [_check("fail")], [_check("fail")], [_check("pass"), _check("fail")]]
    assert value_bases(patents, checks, AS_OF) == [
        "pledgeable",
        "not_alive",
        "not_alive",
        "not_alive",
        "not_registrable",
    ]
    assert value_bases([_patent("warned")], [[_check("warn")]], AS_OF) == ["pledgeable"]


def test_package_counts_only_pledgeable_patents() -> None:
    q = np.array([[1e6, 2e6, 3e6], [4e6, 8e6, 9e6], [1e6, 1e6, 2e6]])
    caps = [0.25, 0.25, 0.15]
    pkg = value_package(q, caps, [[], [], []], CONFIG, bases=["pledgeable", "not_alive", "not_registrable"])
    assert (pkg.total_p10, pkg.total_p50, pkg.total_p90) == (6e6, 11e6, 14e6)  # the model's view, for reference
    assert pkg.pledge_value_cny == 2e6 and pkg.pledgeable_patents == 1
    assert pkg.max_pledge_amount == pytest.approx(2e6 * 0.25)
    assert pkg.liquidation_value == pytest.approx(2e6 * 0.55 * 0.9)
    assert pkg.note is None
    none = value_package(q, caps, [[], [], []], CONFIG, bases=["not_alive"] * 3, lang="zh")
    assert (none.pledge_value_cny, none.max_pledge_amount, none.liquidation_value) == (0, 0, 0)
    assert none.note is not None and none.note.code == "NO_PLEDGEABLE_PATENT"
    assert none.note.text == "质押专利中没有有效且可办理质押登记的专利：最高可质押金额为0"


@pytest.fixture(scope="module")
def models(trained: tuple[Path, list[RunResult]]) -> tuple[LoadedModel, LoadedModel, ScoringConfig]:
    store = ModelStore(trained[0])
    return load_champion(store, "valuation"), load_champion(store, "pd"), CONFIG


def test_the_1999_invention_has_pledge_value_0_and_no_stars(
    models: tuple[LoadedModel, LoadedModel, ScoringConfig],
) -> None:
    valuation, _, config = models
    r = run_valuation(
        valuation, [_patent("old", **OLD_INVENTION)], as_of=AS_OF, config=config, caps=CAPS, pledgor="E1",
        tenor_months=24, owner_revenue=48e6,
    )  # fmt: skip
    v, pkg = r.patents[0], r.package
    assert v.p50 > 0  # the model estimate is still shown ...
    assert v.value_basis == "not_alive" and v.pledge_value_cny == 0  # ... but counts nothing
    assert v.stars is None and v.income_approach is None
    assert v.value_note is not None and v.value_note.code == "VALUE_EXPIRED" and "2019-03-15" in v.value_note.text
    assert {c.code for c in v.checks if c.status == "fail"} == {"STATUS_EXPIRED", "TERM_EXCEEDS"}
    assert pkg.max_pledge_amount == 0 and pkg.pledge_value_cny == 0 and pkg.liquidation_value == 0
    assert not pkg.registrable and pkg.note is not None and pkg.note.code == "NO_PLEDGEABLE_PATENT"


def test_a_living_patent_beside_a_dead_one_carries_the_package_alone(
    models: tuple[LoadedModel, LoadedModel, ScoringConfig],
) -> None:
    valuation, _, config = models
    both = [_patent("alive"), _patent("old", **OLD_INVENTION)]
    r = run_valuation(valuation, both, as_of=AS_OF, config=config, caps=CAPS, pledgor="E1", tenor_months=12)
    alive, old = r.patents
    assert alive.value_basis == "pledgeable" and alive.pledge_value_cny == alive.p50 and alive.stars is not None
    assert old.pledge_value_cny == 0
    assert r.package.pledge_value_cny == alive.p50 and r.package.pledgeable_patents == 1
    assert r.package.max_pledge_amount == pytest.approx(alive.p50 * 0.25)
    assert r.package.total_p50 == pytest.approx(alive.p50 + old.p50)


def test_an_assessment_on_dead_patents_declines_saying_why_and_loses_everything(
    models: tuple[LoadedModel, LoadedModel, ScoringConfig],
) -> None:
    valuation, pd_model, config = models
    lapsed = _patent("lapsed", legal_status="lapsed", fees_up_to_date=False)
    pending = _patent("pending", legal_status="pending", grant_date=None)
    for lang, text in (
        ("en", "No pledged patent is alive and registrable"),
        ("zh", "质押专利均已失效或无法办理质押登记"),
    ):
        r = run_assessment(
            valuation,
            pd_model,
            borrower=BORROWER,
            loan=LoanTerms(amount_cny=3e6, tenor_months=24, purpose="rd"),
            patents=[lapsed, pending],
            as_of=AS_OF,
            config=config,
            caps=CAPS,
            lang=lang,  # type: ignore[arg-type]
        )
        credit = r.credit
        assert credit.max_loan_amount == 0 and credit.decision == "decline"
        why = {r.code: r.text for r in credit.policy_reasons}
        assert list(why)[:2] == ["POL_PLEDGE_REFUSED", "POL_NO_PLEDGEABLE_PATENT"]
        assert why["POL_NO_PLEDGEABLE_PATENT"].startswith(text)
        assert credit.lgd.collateral_recovery_cny == 0 and credit.lgd.without_cover == 1.0
        assert [v.value_note.code for v in r.valuation.patents if v.value_note] == ["VALUE_LAPSED", "VALUE_PENDING"]


def test_every_check_note_and_policy_text_is_bilingual_and_the_chinese_fully_chinese() -> None:
    """Placeholders aside (ids, dates), a zh text has no Latin words, and fills the same slots as the en one."""
    r = CONFIG.reasons
    for section in (r.checks, r.notes, r.policy, r.contract_items):
        for code, t in section.items():
            assert t.en and t.zh, code
            assert not re.search(r"[A-Za-z]", re.sub(r"\{[a-z_]+\}", "", t.zh)), (code, t.zh)
            assert set(re.findall(r"\{[a-z_]+\}", t.zh)) == set(re.findall(r"\{[a-z_]+\}", t.en)), code
