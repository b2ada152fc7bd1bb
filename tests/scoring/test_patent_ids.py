"""Patent identity: every accepted way of writing a number is one patent; anything else is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from scoring.patent_ids import (
    PatentIdError,
    application_number,
    canonical_patent_id,
    check_digit,
    parse_patent_id,
    patent_type_of,
)
from scoring.types import Patent

TYPES = {"1": "invention", "2": "utility_model", "3": "design", "8": "invention", "9": "utility_model"}


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """The digits of a valid application number (8- or 12-digit form), without check digit."""
    kind = draw(st.sampled_from(sorted(TYPES)))
    if draw(st.booleans()):
        return f"{draw(st.integers(2003, 2099))}{kind}{draw(st.integers(0, 9_999_999)):07d}"
    year = draw(st.sampled_from([*range(85, 100), 0, 1, 2, 3]))
    return f"{year:02d}{kind}{draw(st.integers(0, 99_999)):05d}"


def _full_width(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def written(draw: st.DrawFn, digits: str) -> str:
    """``digits`` and its check digit, written as a bank might: prefix, case, dot, spaces, full width."""
    check = check_digit(digits)
    prefix = draw(st.sampled_from(["", "CN", "cn", "Cn", "ZL", "zl", "CN ", "ZL "]))
    if draw(st.booleans()):  # spaces between year, type and serial, as ZC 0006-2003 allows
        cut = 4 if len(digits) == 12 else 2
        digits = f"{digits[:cut]} {digits[cut]} {digits[cut + 1 :]}"
    dot = draw(st.sampled_from([".", "", "．", "·"]))
    text = f"{prefix}{digits}{dot}{check.lower() if draw(st.booleans()) else check}"
    text = " " * draw(st.integers(0, 3)) + text + " " * draw(st.integers(0, 3))
    return _full_width(text) if draw(st.booleans()) else text


@given(data=st.data(), digits=numbers())
def test_every_variant_of_a_number_is_one_canonical_id(data: st.DataObject, digits: str) -> None:
    canonical = f"CN{digits}.{check_digit(digits)}"
    for _ in range(3):
        text = data.draw(written(digits))
        assert canonical_patent_id(text) == canonical, text
        assert canonical_patent_id(text, mode="allow_other") == canonical
    assert canonical_patent_id(canonical) == canonical  # canonical is a fixed point
    kind = digits[4] if len(digits) == 12 else digits[2]
    assert patent_type_of(canonical) == TYPES[kind]


@given(digits=numbers(), position=st.integers(0, 11), shift=st.integers(1, 9))
def test_any_single_digit_change_breaks_the_number(digits: str, position: int, shift: int) -> None:
    position %= len(digits) + 1  # the check digit too
    text = f"{digits}{check_digit(digits)}"
    old = text[position]
    new = str((int(old) + shift) % 10) if old != "X" else str(shift)
    with pytest.raises(PatentIdError):
        parse_patent_id(text[:position] + new + text[position + 1 :])


@given(digits=numbers(), position=st.integers(0, 10))
def test_swapping_two_neighbouring_digits_breaks_the_number(digits: str, position: int) -> None:
    position %= len(digits) - 1
    a, b = digits[position], digits[position + 1]
    if a == b:
        return
    swapped = digits[:position] + b + a + digits[position + 2 :]
    with pytest.raises(PatentIdError):
        parse_patent_id(f"{swapped}.{check_digit(digits)}")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # worked examples of the check digit, as published with the rule
        ("201710601862.3", "CN201710601862.3"),
        ("ZL95115608.X", "CN95115608.X"),  # remainder 10 -> X
        ("ZL2013106997442", "CN201310699744.2"),
        ("CN202110123456.7", "CN202110123456.7"),  # the API example
        ("CN201910555111.1 ", "CN201910555111.1"),
        ("ＣＮ２０１９１０５５５１１１．１", "CN201910555111.1"),
    ],
)
def test_known_numbers(text: str, canonical: str) -> None:
    assert canonical_patent_id(text) == canonical


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("\u3000", "blank"),
        ("CN201910555111.1\n", "U+000A"),
        ("CN2019\t10555111.1", "U+0009"),
        ("CN201910555111\u200b.1", "U+200B"),
        ("<b>CN201910555111.1</b>", "'<'"),
        ("CN201910555111.1;DROP", "';'"),
        ("CN201910555111.2", "check digit"),  # the example: its check digit is 1
        ("CN110123456A", "publication"),
        ("CN209876543U", "publication"),
        ("CN1234567A", "publication"),
        ("CN110123456B", "publication"),
        ("201910555111", "no check digit"),
        ("CN2019105551.1", "12 digits"),
        ("CN201910555111.11", "12 digits"),
        ("CN2019105551111.1", "12 digits"),
        ("CN201940555111.1", "type digit 4"),
        ("CN199910555111.9", "year 1999"),
        ("CN04100001.1", "year 04"),
        ("CNZL201910555111.1", "12 digits"),
        ("CN-201910555111.1", "12 digits"),
        ("x" * 65, "64"),
        ("US10123456B2", "other offices"),
        ("P1", "other offices"),
    ],
)
def test_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(PatentIdError) as info:
        parse_patent_id(text)
    assert says in info.value.problem
    assert text.strip() == "" or text not in info.value.problem  # the problem never quotes the input


def test_other_offices_only_in_allow_other_and_still_one_form() -> None:
    assert canonical_patent_id(" us 10,123,456 b2 ".replace(",", ""), mode="allow_other") == "US10123456B2"
    assert canonical_patent_id("EP1234567", mode="allow_other") == "EP1234567"
    assert patent_type_of("US10123456B2") is None
    for junk in ("", "<script>", "ABC", "CN201910555111.2", "CN110123456A", "line\nbreak"):
        with pytest.raises(PatentIdError):
            parse_patent_id(junk, mode="allow_other")


@given(
    filed=st.dates(date(1985, 4, 1), date(2199, 12, 31)),
    kind=st.sampled_from(["invention", "utility_model", "design"]),
    serial=st.integers(1, 99_999),
)
def test_application_number_is_valid_and_typed(filed: date, kind: str, serial: int) -> None:
    number = application_number(filed, kind, serial)
    parsed = parse_patent_id(number)
    assert parsed.canonical == number and parsed.patent_type == kind
    assert len(number) == (16 if filed >= date(2003, 10, 1) else 12)  # CN, digits, dot, check


def _patent(**over: Any) -> dict[str, Any]:
    return {
        "patent_id": "zl 2019 1 0555111.1 ",
        "patent_type": "invention",
        "ipc_section": "G",
        "tech_field": "software",
        "filing_date": date(2019, 5, 1),
        "grant_date": date(2021, 1, 1),
        **over,
    }


def test_domain_patent_holds_the_canonical_id_and_takes_the_mode_from_the_context() -> None:
    assert Patent.model_validate(_patent()).patent_id == "CN201910555111.1"
    with pytest.raises(ValidationError) as info:
        Patent.model_validate(_patent(patent_id="US10123456B2"))
    assert info.value.errors()[0]["loc"] == ("patent_id",) and info.value.errors()[0]["type"] == "patent_id"
    other = Patent.model_validate(_patent(patent_id="us10123456b2"), context={"patent_ids": "allow_other"})
    assert other.patent_id == "US10123456B2"
    with pytest.raises(ValidationError):
        Patent.model_validate(_patent(), context={"patent_ids": "anything_goes"})


def test_domain_patent_refuses_a_type_its_number_contradicts() -> None:
    with pytest.raises(ValidationError) as info:
        Patent.model_validate(_patent(patent_type="utility_model"))
    assert "patent_type" in str(info.value) and "invention" in str(info.value)
    design = application_number(date(2019, 5, 1), "design", 7)
    assert Patent.model_validate(_patent(patent_id=design, patent_type="design")).patent_type == "design"
