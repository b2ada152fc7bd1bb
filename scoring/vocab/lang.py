"""The languages every text iprisk writes comes in: Chinese (the default for people) and English."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("zh", "en")
