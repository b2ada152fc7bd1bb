"""Patent identity: one canonical form for every Chinese application and patent number.

A pledge, a double-pledge look-up and a statistic must agree on which patent
a text names, whichever way a bank typed it. CNIPA's application number
standard (ZC 0006-2003, in force 1 October 2003) fixes the number:

* since 1 October 2003, 12 digits ``YYYYTNNNNNNN``: filing year, application
  type, 7-digit serial;
* before, 8 digits ``YYTNNNNN`` (years 85–03), type, 5-digit serial;
* then a check digit, joined by a dot: the digits times the weights
  2, 3, …, 9, 2, 3, 4, 5 (left to right), summed, modulo 11; 10 is written ``X``.

The patent number (专利号) of a granted patent is ``ZL`` + the application
number; ``CN`` may precede the application number. Prefixes, the dot,
spaces, letter case and full-width characters are formatting, not identity,
so all of them map to one canonical text, ``CN`` + digits + ``.`` + check
digit (``CN201910555111.1``). Publication and grant numbers (公开号/公告号,
``CN110123456A``) name a publication, not an application, and are refused.

Numbers of other offices, or legacy in-house references, are accepted only in
mode ``allow_other``; the caller passes the mode (:data:`PatentIdMode`),
this module reads no setting. See docs/patent-identity.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

PatentIdMode = Literal["cn_only", "allow_other"]
PATENT_ID_MODES: Final[tuple[PatentIdMode, ...]] = ("cn_only", "allow_other")
MAX_LENGTH: Final = 64

# Weights of the check digit, left to right (12-digit form; the 8-digit form uses the first eight).
_WEIGHTS: Final = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
# Application type digit -> patent type; 8 and 9 are PCT applications entering the national phase.
_TYPES: Final = {"1": "invention", "2": "utility_model", "3": "design", "8": "invention", "9": "utility_model"}
_FIRST_12_DIGIT_YEAR: Final = 2003  # ZC 0006-2003 took effect on 1 October 2003
_FIRST_12_DIGIT_DAY: Final = date(2003, 10, 1)
_TYPE_DIGITS: Final = {"invention": "1", "utility_model": "2", "design": "3"}
_OLD_YEARS: Final = frozenset({*(f"{y:02d}" for y in range(85, 100)), "00", "01", "02", "03"})
# Separators a Chinese text may use for the check digit's dot, after NFKC (which maps the full-width ．).
_DOTS: Final = str.maketrans({"·": ".", "•": "."})
_ALLOWED: Final = re.compile(r"[A-Z0-9./-]+")
_PUBLICATION: Final = re.compile(r"(?:CN)?\d{7,9}[ABCUYS]\d?")
_CN_DIGITS: Final = re.compile(r"\d{8}\.?[0-9X]|\d{12}\.?[0-9X]|\d{8}|\d{12}")
_OTHER: Final = re.compile(r"[A-Z0-9][A-Z0-9./-]*")


class PatentIdError(ValueError):
    """A text that is not a patent number this mode accepts; ``problem`` says why, without quoting it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class PatentNumber:
    """A parsed patent number.

    Attributes
    ----------
    canonical : str
        The one text stored and compared: ``CN<digits>.<check>`` for a Chinese
        number, the upper-cased text without spaces for another office's.
    chinese : bool
        Whether it is a CNIPA application (or patent) number.
    patent_type : str or None
        ``invention``, ``utility_model`` or ``design`` from the type digit;
        None for other offices' numbers.
    """

    canonical: str
    chinese: bool
    patent_type: str | None


def check_digit(digits: str) -> str:
    """The check digit of an 8- or 12-digit Chinese application number.

    Parameters
    ----------
    digits : str
        The application number's digits, without prefix, dot or check digit.

    Returns
    -------
    str
        ``"0"``–``"9"``, or ``"X"`` for a remainder of 10.
    """
    if len(digits) not in (8, 12) or not digits.isdigit():
        raise ValueError("an application number has 8 or 12 digits")
    rest = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False)) % 11
    return "X" if rest == 10 else str(rest)


def application_number(filed: date, patent_type: str, serial: int) -> str:
    """The canonical number CNIPA would give an application filed on ``filed``.

    Parameters
    ----------
    filed : datetime.date
        Filing date: from 1 October 2003 the 12-digit form, before it the 8-digit one.
    patent_type : {"invention", "utility_model", "design"}
        Sets the type digit (1, 2, 3; national-phase PCT digits are not made).
    serial : int
        The serial within the year and type: 1–9,999,999 (12-digit), 1–99,999 (8-digit).

    Returns
    -------
    str
        ``CN<digits>.<check>``, e.g. ``CN202110000001.6``.
    """
    if filed >= _FIRST_12_DIGIT_DAY:
        digits = f"{filed.year:04d}{_TYPE_DIGITS[patent_type]}{serial:07d}"
    else:
        digits = f"{filed.year % 100:02d}{_TYPE_DIGITS[patent_type]}{serial:05d}"
    if len(digits) not in (8, 12) or serial < 1:
        raise ValueError(f"serial {serial} does not fit the application number of {filed}")
    return f"CN{digits}.{check_digit(digits)}"


def parse_patent_id(text: str, *, mode: PatentIdMode = "cn_only") -> PatentNumber:
    """Parse an application or patent number written in any accepted variant.

    Parameters
    ----------
    text : str
        As typed: optional ``CN`` or ``ZL`` prefix (any case), spaces around
        and inside, with or without the dot before the check digit,
        full-width characters.
    mode : {"cn_only", "allow_other"}
        Whether numbers of other offices (or legacy references) are accepted.

    Returns
    -------
    PatentNumber
        The canonical number and what it tells.

    Raises
    ------
    PatentIdError
        Blank text, a control character or markup, a publication number, a
        malformed Chinese number or a wrong check digit; in ``cn_only`` any
        number that is not Chinese.
    """
    if mode not in PATENT_ID_MODES:
        raise ValueError(f"unknown patent id mode {mode!r}")
    compact = _compact(text)
    if _PUBLICATION.fullmatch(compact):
        raise PatentIdError(
            "is a publication or grant number (公开号/公告号), which names a publication, not the patent: "
            "give the application number (申请号, e.g. CN202110123456.7) or the patent number "
            "(专利号, e.g. ZL202110123456.7), under which a pledge is registered"
        )
    prefix = compact[:2] if compact[:2] in ("CN", "ZL") else ""
    body = compact[len(prefix) :]
    if prefix or _CN_DIGITS.fullmatch(body):
        return _chinese(body)
    if mode == "cn_only":
        raise PatentIdError(
            "is not a Chinese application number (申请号, e.g. CN202110123456.7) or patent number "
            "(专利号, e.g. ZL202110123456.7); numbers of other offices are refused in mode cn_only"
        )
    if not _OTHER.fullmatch(body) or not any(c.isdigit() for c in body):
        raise PatentIdError("is not a patent number: letters, digits, '.', '/' or '-', with at least one digit")
    return PatentNumber(body, chinese=False, patent_type=None)


def canonical_patent_id(text: str, *, mode: PatentIdMode = "cn_only") -> str:
    """The canonical text of a patent number (see :func:`parse_patent_id`)."""
    return parse_patent_id(text, mode=mode).canonical


def patent_type_of(patent_id: str) -> str | None:
    """The patent type a Chinese number's type digit tells, or None for another office's number."""
    return parse_patent_id(patent_id, mode="allow_other").patent_type


def _compact(text: str) -> str:
    """Upper case without spaces, full-width folded; refuses what no variant of a number contains."""
    if len(text) > MAX_LENGTH:
        raise PatentIdError(f"is longer than {MAX_LENGTH} characters")
    folded = unicodedata.normalize("NFKC", text).translate(_DOTS)
    for ch in folded:
        if unicodedata.category(ch)[0] in "CZ" and ch != " ":
            raise PatentIdError(f"contains U+{ord(ch):04X} (a line break, tab or control character)")
    compact = folded.replace(" ", "").upper()
    if not compact:
        raise PatentIdError("is blank")
    if not _ALLOWED.fullmatch(compact):
        bad = next(c for c in compact if not _ALLOWED.fullmatch(c))
        raise PatentIdError(f"contains {bad!r}, which no patent number has")
    return compact


def _chinese(body: str) -> PatentNumber:
    number, dot, check = body.rpartition(".") if "." in body else (body[:-1], "", body[-1:])
    if not dot and len(body) in (8, 12) and body.isdigit():
        raise PatentIdError("has no check digit: an application number ends with one (e.g. CN202110123456.7)")
    if len(number) not in (8, 12) or not number.isdigit() or len(check) != 1 or check not in "0123456789X":
        raise PatentIdError(
            "is not a Chinese application number: 12 digits (8 before 1 October 2003), "
            "then the check digit, e.g. CN202110123456.7 or ZL202110123456.7"
        )
    year, kind = (number[:4], number[4]) if len(number) == 12 else (number[:2], number[2])
    if len(number) == 12 and int(year) < _FIRST_12_DIGIT_YEAR:
        raise PatentIdError(f"has the 12-digit form, used from 2003, with the year {year}")
    if len(number) == 8 and year not in _OLD_YEARS:
        raise PatentIdError(f"has the 8-digit form, used from 1985 to 2003, with the year {year}")
    if kind not in _TYPES:
        raise PatentIdError(f"has the type digit {kind}: 1 invention, 2 utility model, 3 design, 8 or 9 PCT")
    if check != check_digit(number):
        raise PatentIdError("fails its check digit: a digit is mistyped, missing or swapped")
    return PatentNumber(f"CN{number}.{check}", chinese=True, patent_type=_TYPES[kind])
