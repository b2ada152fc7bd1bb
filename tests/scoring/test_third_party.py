"""Third-party pledges (Civil Code art. 440): the owner pledges for the borrower's debt, with consent on record."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.pledge_checks import check_pledge, pledge_notes
from scoring.pledges import Consent, Pledgor
from scoring.policy import load_scoring_config
from scoring.types import Patent
from scoring.vocab.lang import Lang
from tests.patent_numbers import fresh_patent_id

CONFIG = load_scoring_config()
TEXTS, NOTES = CONFIG.reasons.checks, CONFIG.reasons.notes
AS_OF = date(2026, 6, 30)
FOUNDERS_PATENT_ID = fresh_patent_id("invention", filed=date(2020, 1, 1))


def _founders_patent(**over: object) -> Patent:
    base: dict[str, object] = {
        "patent_id": FOUNDERS_PATENT_ID,
        "patent_type": "invention",
        "ipc_section": "G",
        "tech_field": "software",
        "filing_date": date(2020, 1, 1),
        "grant_date": date(2022, 1, 1),
        "owner_type": "individual",
        "owner_id": "P-FOUNDER-01",
    }
    return Patent.model_validate({**base, **over})


def _founder(consent: Consent | None) -> Pledgor:
    return Pledgor(kind="individual", id="P-FOUNDER-01", name="Zhang San", consent=consent)


def _owner_check(patent: Patent, named: Pledgor | None, lang: Lang = "en") -> tuple[str, str, str]:
    checks = check_pledge(
        patent,
        as_of=AS_OF,
        texts=TEXTS,
        lang=lang,
        pledgor="E1",
        third_party=named,
        tenor_months=24,
    )
    c = next(c for c in checks if c.check == "registered_owner")
    assert sum(x.status == "fail" for x in checks) == (c.status == "fail")  # no other ground moves
    return c.status, c.code, c.reason


CONSENTED = Consent(given=True, date=date(2026, 6, 1), reference="letter 2026-017")


def test_a_third_party_owner_with_consent_on_record_passes_and_is_noted() -> None:
    status, code, reason = _owner_check(_founders_patent(), _founder(CONSENTED))
    assert (status, code) == ("pass", "THIRD_PARTY_CONSENT")
    assert "Zhang San" in reason and "2026-06-01" in reason and "letter 2026-017" in reason and "E1" in reason
    _, _, zh = _owner_check(_founders_patent(), _founder(CONSENTED), "zh")
    assert zh.startswith("第三人出质人Zhang San为登记权利人") and "《民法典》第四百四十条" in zh
    (en_note,) = pledge_notes(borrower="E1", named=_founder(CONSENTED), texts=NOTES)
    assert en_note.code == "THIRD_PARTY_PLEDGE" and "third party" in en_note.text and "E1" in en_note.text
    (zh_note,) = pledge_notes(borrower="E1", named=_founder(CONSENTED), texts=NOTES, lang="zh")
    assert zh_note.text.startswith("由第三人Zhang San为E1的债务出质")


@pytest.mark.parametrize(
    ("consent", "code"),
    [
        (None, "THIRD_PARTY_NO_CONSENT"),
        (Consent(given=False, date=date(2026, 6, 1)), "THIRD_PARTY_NO_CONSENT"),
        (Consent(given=True), "THIRD_PARTY_NO_CONSENT"),  # undated: not on record
        (Consent(given=True, date=date(2026, 7, 1)), "THIRD_PARTY_CONSENT_LATE"),  # after the assessment date
    ],
)
def test_a_third_party_without_dated_consent_fails_with_a_reason(consent: Consent | None, code: str) -> None:
    status, got, en = _owner_check(_founders_patent(), _founder(consent))
    assert (status, got) == ("fail", code) and en.startswith("Third-party pledgor Zhang San")
    _, _, zh = _owner_check(_founders_patent(), _founder(consent), "zh")
    assert zh.startswith("第三人出质人Zhang San")


def test_the_consent_day_itself_is_on_time() -> None:
    assert _owner_check(_founders_patent(), _founder(Consent(given=True, date=AS_OF)))[:2] == (
        "pass",
        "THIRD_PARTY_CONSENT",
    )


def test_a_third_party_must_be_the_registered_owner_of_the_same_kind() -> None:
    assert _owner_check(_founders_patent(owner_id="P-OTHER"), _founder(CONSENTED))[1] == "OWNER_MISMATCH"
    parent = Pledgor(kind="enterprise", id="P-FOUNDER-01", consent=CONSENTED)
    assert _owner_check(_founders_patent(), parent)[1] == "OWNER_KIND_MISMATCH"
    sister = Pledgor(kind="enterprise", id="E-SISTER", consent=CONSENTED)
    sisters_patent = _founders_patent(owner_type="enterprise", owner_id="E-SISTER")
    assert _owner_check(sisters_patent, sister)[:2] == ("pass", "THIRD_PARTY_CONSENT")


def test_the_borrowers_own_patent_behaves_as_before() -> None:
    own = _founders_patent(owner_type="enterprise", owner_id="E1")
    assert _owner_check(own, None)[:2] == ("pass", "OWNER_MATCH")
    assert _owner_check(own, Pledgor(kind="enterprise", id="E1"))[:2] == ("pass", "OWNER_MATCH")  # no consent needed
    status, code, reason = _owner_check(_founders_patent(), None)  # the founder's patent, borrower as pledgor
    assert (status, code) == ("fail", "OWNER_MISMATCH") and "P-FOUNDER-01" in reason
    assert pledge_notes(borrower="E1", named=None, texts=NOTES) == []
    assert pledge_notes(borrower="E1", named=Pledgor(kind="enterprise", id="E1"), texts=NOTES) == []
