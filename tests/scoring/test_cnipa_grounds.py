"""Two CNIPA refusal grounds (专利权质押登记办法 2021): a dual-filed utility model, and the contract's contents."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from scoring.package import value_package
from scoring.pledge_checks import check_contract, check_pledge
from scoring.pledges import PledgeContract
from scoring.policy import load_scoring_config
from scoring.types import Patent
from scoring.vocab.lang import Lang
from tests.patent_numbers import fresh_patent_id

CONFIG = load_scoring_config()
TEXTS, ITEMS = CONFIG.reasons.checks, CONFIG.reasons.contract_items
AS_OF = date(2026, 6, 30)
UM_ID = fresh_patent_id("utility_model", filed=date(2022, 1, 10))


def _utility_model(**over: object) -> Patent:
    base: dict[str, object] = {
        "patent_id": UM_ID,
        "patent_type": "utility_model",
        "ipc_section": "B",
        "tech_field": "automotive_industrial",
        "filing_date": date(2022, 1, 10),
        "grant_date": date(2022, 9, 1),
        "owner_id": "E1",
    }
    return Patent.model_validate({**base, **over})


def _dual(patent: Patent, *, declared: bool = False, lang: Lang = "en") -> tuple[str, str, str, dict[str, str]]:
    checks = check_pledge(
        patent,
        as_of=AS_OF,
        texts=TEXTS,
        lang=lang,
        pledgor="E1",
        tenor_months=24,
        same_day_declared=declared,
    )
    c = next(c for c in checks if c.check == "same_day_invention")
    return c.status, c.code, c.reason, {x.check: x.status for x in checks}


def test_a_utility_model_whose_same_day_invention_was_granted_cannot_be_pledged() -> None:
    um = _utility_model(same_day_invention_status="granted", same_day_invention_id="CN202210012345.6")
    status, code, reason, others = _dual(um)
    assert (status, code) == ("fail", "DUAL_FILING_INVENTION_GRANTED")
    assert "CN202210012345.6" in reason and "Patent Law art. 9" in reason
    assert sum(s == "fail" for s in others.values()) == 1  # only this ground
    _, _, zh, _ = _dual(um, lang="zh")
    assert zh == "同日申请的相同发明专利CN202210012345.6已授权：该实用新型专利权应当放弃（《专利法》第九条），不能质押"
    # declaring does not help once the invention is granted
    assert _dual(um, declared=True)[:2] == ("fail", "DUAL_FILING_INVENTION_GRANTED")


def test_a_pending_same_day_invention_is_refused_unless_the_parties_declare_then_flagged() -> None:
    um = _utility_model(same_day_invention_status="pending", same_day_invention_id="CN202210012345.6")
    status, code, reason, _ = _dual(um)
    assert (status, code) == ("fail", "DUAL_FILING_PENDING") and "declare they continue" in reason
    _, _, zh, _ = _dual(um, lang="zh")
    assert "一案双申" in zh and "不予质押登记" in zh and "《专利权质押登记办法》" in zh
    status, code, reason, _ = _dual(um, declared=True)
    assert (status, code) == ("warn", "DUAL_FILING_DECLARED") and "abandoned" in reason
    assert "将被放弃" in _dual(um, declared=True, lang="zh")[2]


def test_no_or_an_ended_same_day_invention_passes() -> None:
    assert _dual(_utility_model())[:2] == ("pass", "DUAL_FILING_NONE")
    for ended in ("refused", "withdrawn"):
        assert _dual(_utility_model(same_day_invention_status=ended))[:2] == ("pass", "DUAL_FILING_ENDED")


def test_only_a_utility_model_can_have_a_same_day_invention() -> None:
    with pytest.raises(ValueError, match="same_day_invention_status: only a utility model"):
        _utility_model(patent_type="invention", patent_id=fresh_patent_id(), same_day_invention_status="pending")
    with pytest.raises(ValueError, match="same_day_invention_status: give the status"):
        _utility_model(same_day_invention_id="CN202210012345.6")


ALL = dict.fromkeys(PledgeContract.model_fields, True)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_contract_missing_required_contents_fails_listing_them(lang: Lang) -> None:
    c = check_contract(
        PledgeContract(**{**ALL, "secured_claim": False, "scope": False}),
        texts=TEXTS,
        items=ITEMS,
        lang=lang,
    )
    assert (c.check, c.status, c.code) == ("contract_contents", "fail", "CONTRACT_INCOMPLETE")
    if lang == "en":
        assert "lacks: the kind and amount of the secured claim; the scope of the security" in c.reason
    else:
        assert c.reason.startswith("质押合同缺少：被担保债权的种类和数额、质押担保的范围；")
        assert not any(ch.isascii() and ch.isalpha() for ch in c.reason)  # fully Chinese


def test_a_complete_contract_passes_and_an_unstated_one_is_not_assessed() -> None:
    assert check_contract(PledgeContract(**ALL), texts=TEXTS, items=ITEMS).status == "pass"
    none = check_contract(None, texts=TEXTS, items=ITEMS, lang="zh")
    assert (none.status, none.code, none.reason) == (
        "not_assessed",
        "CONTRACT_NOT_GIVEN",
        "未评估：未提供质押合同，提供后核查其必备内容",
    )
    partly = check_contract(PledgeContract(parties=True, debt_term=True), texts=TEXTS, items=ITEMS)
    assert (partly.status, partly.code) == ("not_assessed", "CONTRACT_PARTLY_STATED")
    assert "the kind and amount of the secured claim" in partly.reason and "parties" not in partly.reason


def test_a_failing_contract_makes_the_package_unregistrable_but_an_unstated_one_does_not() -> None:
    q = np.array([[1e6, 2e6, 3e6]])
    bad = check_contract(PledgeContract(**{**ALL, "patents": False}), texts=TEXTS, items=ITEMS)
    unknown = check_contract(None, texts=TEXTS, items=ITEMS)
    refused = value_package(q, [0.25], [[]], CONFIG, bases=["pledgeable"], package_checks=[bad])
    assert not refused.registrable and refused.checks == [bad]
    assert refused.max_pledge_amount == pytest.approx(0.5e6)  # a contract can be amended: the patent still counts
    assert value_package(q, [0.25], [[]], CONFIG, bases=["pledgeable"], package_checks=[unknown]).registrable
