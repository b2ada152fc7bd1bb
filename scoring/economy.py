"""The economy as of a date: the last published annual real GDP growth (``config/economy.yaml``).

Point in time: a year's figure counts from the day it is published (mid-January of the next
year), so a date never sees a figure published after it.  The series is configuration; a date
past its end uses the last year listed, and :class:`EconomyOn` says the figure is stale.  The lgd
model reads it as an input (:mod:`scoring.lgd`) and the synthetic disposal market is driven by it
(:mod:`training.synth.disposal`), so both use this one function.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, Field, PrivateAttr, field_validator

from scoring.vocab import FROZEN
from scoring.vocab.arrays import DateArray, FloatArray

ECONOMY_FILE = Path(__file__).parent / "config" / "economy.yaml"


class EconomySeries(BaseModel):
    """An annual indicator by year, with its source and the day of the year its figure is published."""

    model_config = FROZEN
    indicator: str
    source: str
    source_zh: str = Field(description="The source in Chinese.")
    status: str = Field(description="How far the figures are verified (e.g. 'to check against the publication').")
    published_month_day: str = Field(pattern=r"^\d\d-\d\d$", description="MM-DD of the year after the figure's year.")
    by_year: dict[int, float] = Field(min_length=1, description="Figure by calendar year (percent).")
    # Publication days and figures in year order, built once: an assessment reads one figure per request.
    _published: tuple[date, ...] = PrivateAttr(default=())
    _figures: tuple[float, ...] = PrivateAttr(default=())

    def model_post_init(self, _context: Any, /) -> None:
        """Build the publication days once."""
        self._published = tuple(date.fromisoformat(f"{y + 1}-{self.published_month_day}") for y in self.by_year)
        self._figures = tuple(self.by_year.values())

    @field_validator("by_year")
    @classmethod
    def _consecutive(cls, v: dict[int, float]) -> dict[int, float]:
        years = sorted(v)
        if years != list(range(years[0], years[-1] + 1)):
            raise ValueError("by_year must list consecutive years")
        return dict(sorted(v.items()))

    def publication_days(self) -> np.ndarray:
        """The day each year's figure counts as known (datetime64[D]), in year order."""
        return np.array(self._published, dtype="datetime64[D]")

    def figure_on(self, day: date) -> tuple[int, float] | None:
        """The year and figure last published on or before ``day`` (None before the first release)."""
        k = bisect_right(self._published, day)
        return None if k == 0 else (min(self.by_year) + k - 1, self._figures[k - 1])


class EconomyOn(BaseModel):
    """The figure a date sees: which year, its value, and whether a later year's figure was due."""

    model_config = FROZEN
    indicator: str
    year: int | None = Field(description="The year whose figure is used; None before the series' first release.")
    value: float | None = Field(description="The figure (percent); None before the series' first release.")
    stale: bool = Field(
        description="A later year's figure was due by the date but the series ends earlier: the last year is used."
    )


@cache
def load_economy(path: Path = ECONOMY_FILE) -> EconomySeries:
    """The configured series (default: the bundled ``economy.yaml``), read once."""
    return EconomySeries.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def growth_on(dates: DateArray | np.datetime64, series: EconomySeries) -> FloatArray:
    """The last figure published on or before each date (NaN before the first release).

    Parameters
    ----------
    dates
        Dates (datetime64[D], scalar or array); NaT gives NaN.
    series
        The configured series.

    Returns
    -------
    FloatArray
        The figure (percent) each date sees; a date past the series' end sees the last year.
    """
    d = np.atleast_1d(np.asarray(dates, dtype="datetime64[D]"))
    values = np.array(list(series.by_year.values()), dtype=np.float64)
    idx = np.searchsorted(series.publication_days(), d, side="right") - 1
    out = np.where(idx >= 0, values[np.clip(idx, 0, None)], np.nan)
    out[np.isnat(d)] = np.nan
    return np.asarray(out, dtype=np.float64)


def economy_on(day: date, series: EconomySeries) -> EconomyOn:
    """The figure ``day`` sees, which year it is and whether it is stale (a later year was due)."""
    found = series.figure_on(day)
    if found is None:
        return EconomyOn(indicator=series.indicator, year=None, value=None, stale=False)
    year, value = found
    due = day.year - 1 if (day.month, day.day) >= _month_day(series.published_month_day) else day.year - 2
    return EconomyOn(indicator=series.indicator, year=year, value=value, stale=due > year)


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)
