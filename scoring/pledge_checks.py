"""Pledge-registration checks: each CNIPA refusal ground as pass / fail / warn with its reason.

The grounds are those of the Patent Pledge Registration Measures (专利权质押登记办法, CNIPA
announcement 461, 2021): see ``docs/collateral.md``.  A ground the request gives no facts
for is ``not_assessed``: shown, never counted as passed or failed.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from scoring.pledges import PledgeContract, Pledgor
from scoring.policy import ReasonText
from scoring.terms import statutory_term_years
from scoring.types import Patent
from scoring.vocab.lang import Lang

Status = Literal["pass", "fail", "warn", "not_assessed"]
LifeState = Literal["alive", "expired", "pending", "lapsed", "invalidated"]
_STATUS_CODES: dict[LifeState, str] = {
    "alive": "STATUS_OK",
    "expired": "STATUS_EXPIRED",
    "pending": "STATUS_PENDING",
    "lapsed": "STATUS_LAPSED",
    "invalidated": "STATUS_INVALIDATED",
}


class PledgeCheck(BaseModel):
    """One registration ground and its outcome."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    check: str
    status: Status
    code: str
    reason: str


class Note(BaseModel):
    """A remark shown beside a figure: a fixed code and its text in the caller's language."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    text: str


def make_note(texts: dict[str, ReasonText], lang: Lang, code: str, **fmt: object) -> Note:
    """The note ``code`` with its ``{placeholders}`` filled."""
    return Note(code=code, text=texts[code].text(lang).format(**fmt))


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's end."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError("unreachable")


def _mk(texts: dict[str, ReasonText], lang: Lang, check: str, outcome: Status, code: str, **fmt: object) -> PledgeCheck:
    text = texts[code].text(lang).format(**fmt)
    return PledgeCheck(check=check, status=outcome, code=code, reason=text)


def life_state(patent: Patent, as_of: date) -> LifeState:
    """Whether ``patent`` lives on ``as_of``: granted and inside its statutory term, or why not.

    Expiry comes first: a patent past its term is expired whatever its recorded status.
    """
    if patent.expiry() <= as_of:
        return "expired"
    if patent.legal_status == "granted":
        return "alive"
    return patent.legal_status


def _status(patent: Patent, as_of: date) -> tuple[Status, str, dict[str, object]]:
    state = life_state(patent, as_of)
    fmt: dict[str, object] = {
        "expiry": patent.expiry(),
        "filing": patent.filing_date,
        "years": statutory_term_years(patent.patent_type, patent.filing_date),
    }
    return ("pass" if state == "alive" else "fail"), _STATUS_CODES[state], fmt


def is_third_party(borrower: str | None, named: Pledgor | None) -> bool:
    """Whether ``named`` pledges for another's debt: named, and not the borrower itself."""
    return named is not None and named.id != borrower


def _owner(
    patent: Patent, borrower: str | None, named: Pledgor | None, as_of: date
) -> tuple[Status, str, dict[str, object]]:
    owner = patent.owner_id or "—"
    if named is None or not is_third_party(borrower, named):
        if borrower is None:
            return "warn", "OWNER_UNKNOWN", {}
        if patent.owner_id == borrower:
            return "pass", "OWNER_MATCH", {"pledgor": borrower}
        return "fail", "OWNER_MISMATCH", {"pledgor": borrower, "owner": owner}
    # A third party (Civil Code art. 440): it must own the patent and have agreed to secure the debt.
    fmt: dict[str, object] = {"pledgor": named.label, "debtor": borrower or "—", "owner": owner}
    if patent.owner_id != named.id:
        return "fail", "OWNER_MISMATCH", fmt
    if patent.owner_type != named.kind:
        return "fail", "OWNER_KIND_MISMATCH", fmt
    consent = named.consent
    if consent is None or not consent.given or consent.date is None:
        return "fail", "THIRD_PARTY_NO_CONSENT", fmt
    fmt |= {"date": consent.date, "reference": consent.reference or "—"}
    if consent.date > as_of:
        return "fail", "THIRD_PARTY_CONSENT_LATE", fmt | {"as_of": as_of}
    return "pass", "THIRD_PARTY_CONSENT", fmt


def pledge_notes(
    *,
    borrower: str | None,
    named: Pledgor | None,
    texts: dict[str, ReasonText],
    lang: Lang = "en",
) -> list[Note]:
    """Remarks on a patent's pledge by ``named``: that a third party pledges it for the borrower's debt."""
    if named is None or not is_third_party(borrower, named):
        return []
    return [make_note(texts, lang, "THIRD_PARTY_PLEDGE", pledgor=named.label, debtor=borrower or "—")]


def _term(patent: Patent, as_of: date, tenor_months: int | None) -> tuple[Status, str, dict[str, object]]:
    expiry = patent.expiry()
    if tenor_months is None:
        return "warn", "TERM_UNKNOWN", {"expiry": expiry}
    maturity = add_months(as_of, tenor_months)
    code = "TERM_OK" if maturity <= expiry else "TERM_EXCEEDS"
    return ("pass" if code == "TERM_OK" else "fail"), code, {"maturity": maturity, "expiry": expiry}


def _same_day_invention(patent: Patent, declared: bool) -> tuple[Status, str, dict[str, object]]:
    """一案双申: Patent Law art. 9 grants the invention only if the utility model is abandoned."""
    status = patent.same_day_invention_status
    fmt: dict[str, object] = {"invention": patent.same_day_invention_id or "—"}
    if patent.patent_type != "utility_model" or status is None:
        return "pass", "DUAL_FILING_NONE", fmt
    if status == "granted":
        return "fail", "DUAL_FILING_INVENTION_GRANTED", fmt
    if status == "pending":
        return ("warn", "DUAL_FILING_DECLARED", fmt) if declared else ("fail", "DUAL_FILING_PENDING", fmt)
    return "pass", "DUAL_FILING_ENDED", fmt


def check_pledge(
    patent: Patent,
    *,
    as_of: date,
    texts: dict[str, ReasonText],
    lang: Lang = "en",
    pledgor: str | None = None,
    third_party: Pledgor | None = None,
    same_day_declared: bool = False,
    tenor_months: int | None = None,
    pledged_in_service: bool = False,
) -> list[PledgeCheck]:
    """Run every registration ground for one patent.

    Parameters
    ----------
    patent
        The patent's facts.
    as_of
        Date of the (intended) pledge; the debt runs ``tenor_months`` from it.
    texts
        PledgeCheck texts by code (``reasons.yaml``, ``checks``).
    lang
        Language of the reasons.
    pledgor
        The borrower (the debtor), who pledges its own patent unless ``third_party``
        names another pledgor; None when not known (a warning).
    third_party
        The pledgor named for this patent, when the request names one: a third
        party passes when it is the registered owner and its consent is on record,
        dated on or before ``as_of``.
    same_day_declared
        For a utility model whose same-day identical invention is pending: the
        parties declared they continue with the pledge (a warning instead of a refusal).
    tenor_months
        Loan tenor; None when not known (a warning).
    pledged_in_service
        The patent secures another active loan recorded by this service.

    Returns
    -------
    list of PledgeCheck
        One entry per ground; any ``fail`` means CNIPA would refuse registration.
    """
    out = []
    status, code, fmt = _owner(patent, pledgor, third_party, as_of)
    out.append(_mk(texts, lang, "registered_owner", status, code, **fmt))
    status, code, fmt = _status(patent, as_of)
    out.append(_mk(texts, lang, "legal_status", status, code, **fmt))
    out.append(
        _mk(
            texts,
            lang,
            "annual_fees",
            "pass" if patent.fees_up_to_date else "fail",
            "FEES_OK" if patent.fees_up_to_date else "FEES_UNPAID",
        )
    )
    out.append(
        _mk(
            texts,
            lang,
            "ownership_dispute",
            "fail" if patent.ownership_dispute else "pass",
            "DISPUTE_FOUND" if patent.ownership_dispute else "DISPUTE_NONE",
        )
    )
    out.append(
        _mk(
            texts,
            lang,
            "preservation_order",
            "fail" if patent.preservation_order else "pass",
            "PRESERVATION_FOUND" if patent.preservation_order else "PRESERVATION_NONE",
        )
    )
    status, code, fmt = _term(patent, as_of, tenor_months)
    out.append(_mk(texts, lang, "debt_term", status, code, **fmt))
    if not patent.co_owned:
        out.append(_mk(texts, lang, "co_owner_consent", "pass", "CO_OWNER_NA"))
    else:
        ok = patent.co_owner_consent
        out.append(
            _mk(
                texts,
                lang,
                "co_owner_consent",
                "pass" if ok else "fail",
                "CO_OWNER_CONSENT" if ok else "CO_OWNER_NO_CONSENT",
            )
        )
    code = "PLEDGE_DOUBLE" if pledged_in_service else "PLEDGE_REGISTERED" if patent.currently_pledged else "PLEDGE_FREE"
    out.append(_mk(texts, lang, "not_already_pledged", "pass" if code == "PLEDGE_FREE" else "fail", code))
    out.append(
        _mk(
            texts,
            lang,
            "invalidation",
            "warn" if patent.invalidation_pending else "pass",
            "INVALIDATION_PENDING" if patent.invalidation_pending else "INVALIDATION_NONE",
        )
    )
    status, code, fmt = _same_day_invention(patent, same_day_declared)
    out.append(_mk(texts, lang, "same_day_invention", status, code, **fmt))
    return out


def check_contract(
    contract: PledgeContract | None,
    *,
    texts: dict[str, ReasonText],
    items: dict[str, ReasonText],
    lang: Lang = "en",
) -> PledgeCheck:
    """Whether the pledge contract has every content CNIPA requires (one check for the package).

    Parameters
    ----------
    contract
        What the contract contains, item by item; None when the request gives no contract.
    texts
        Check texts by code (``reasons.yaml``, ``checks``).
    items
        The required contents' names by :class:`~scoring.pledges.PledgeContract` field
        (``reasons.yaml``, ``contract_items``).
    lang
        Language of the reason.

    Returns
    -------
    PledgeCheck
        ``fail`` listing what is missing; ``not_assessed`` when no contract, or not every
        item, is stated (nothing missing is known); ``pass`` when every item is there.
    """
    if contract is None:
        return _mk(texts, lang, "contract_contents", "not_assessed", "CONTRACT_NOT_GIVEN")
    stated = contract.model_dump()
    sep = "、" if lang == "zh" else "; "
    missing = sep.join(items[name].text(lang) for name, has in stated.items() if has is False)
    if missing:
        return _mk(texts, lang, "contract_contents", "fail", "CONTRACT_INCOMPLETE", missing=missing)
    unknown = sep.join(items[name].text(lang) for name, has in stated.items() if has is None)
    if unknown:
        return _mk(texts, lang, "contract_contents", "not_assessed", "CONTRACT_PARTLY_STATED", unknown=unknown)
    return _mk(texts, lang, "contract_contents", "pass", "CONTRACT_COMPLETE")
