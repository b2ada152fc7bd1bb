"""Statutory patent terms (China): how long a patent can live, by its type and filing date.

Patent Law art. 42: an invention lives 20 years from filing, a utility model 10, a
design 15 — the design term was 10 years until the fourth amendment (in force
2021-06-01), which applies to designs filed on or after that day; designs filed
before keep 10.  Every check, feature, valuation and the synthetic generator
read the term here, so the rule is written once.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from scoring.vocab.arrays import AnyArray, DateArray, FloatArray

# Patent Law, 4th amendment, in force 2021-06-01: designs filed from this day get 15 years.
DESIGN_15_YEARS_FROM = date(2021, 6, 1)
_BASE_TERM_YEARS = {"invention": 20, "utility_model": 10, "design": 10}
_DESIGN_TERM_AFTER_AMENDMENT = 15


def statutory_term_years(patent_type: str, filing_date: date) -> int:
    """Statutory term in years from ``filing_date`` for a patent of ``patent_type``.

    Raises
    ------
    KeyError
        For a type that is not a Chinese patent type.
    """
    if patent_type == "design" and filing_date >= DESIGN_15_YEARS_FROM:
        return _DESIGN_TERM_AFTER_AMENDMENT
    return _BASE_TERM_YEARS[patent_type]


def expiry(patent_type: str, filing_date: date) -> date:
    """The day the patent's statutory term ends: the filing date's anniversary after the term.

    A patent filed on 29 February expires on 28 February of a non-leap year.
    """
    years = statutory_term_years(patent_type, filing_date)
    try:
        return filing_date.replace(year=filing_date.year + years)
    except ValueError:  # 29 February
        return filing_date.replace(year=filing_date.year + years, day=28)


def term_years(patent_type: AnyArray, filing_date: DateArray) -> FloatArray:
    """Vectorised :func:`statutory_term_years`: years per patent, NaN for an unknown type or date.

    Parameters
    ----------
    patent_type
        Type labels (``invention``, ``utility_model``, ``design``).
    filing_date
        Filing dates, datetime64[D] (NaT allowed).

    Returns
    -------
    numpy.ndarray
        Term in years (float), one per patent.
    """
    types = np.asarray(patent_type, dtype=object)
    filed = np.asarray(filing_date, dtype="datetime64[D]")
    base = np.array([_BASE_TERM_YEARS.get(t, np.nan) if isinstance(t, str) else np.nan for t in types], dtype=float)
    amended = (types == "design") & (filed >= np.datetime64(DESIGN_15_YEARS_FROM, "D"))
    out: FloatArray = np.where(amended, float(_DESIGN_TERM_AFTER_AMENDMENT), base)
    out[np.isnat(filed)] = np.nan
    return out
