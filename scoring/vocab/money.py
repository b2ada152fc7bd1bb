"""Money: exact CNY at the API and in the ledger, integer fen inside the ledger.

``Money`` is a ``Decimal`` amount of yuan with at most two decimal places
(1 CNY = 100 fen); the ledger stores integer fen (:func:`to_fen`,
:func:`to_cny`).  Model maths (values, expected loss, maximum loan) runs in
float yuan and becomes ``Money`` at one boundary, :func:`money_from_model`.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_CNY = Decimal("100000000000")  # ¥100bn: larger than any fund, small enough for BIGINT fen
FEN = Decimal("0.01")


def _cents(amount: Decimal) -> Decimal:
    """Normalise to exactly two places (1.5 and 1.50 are the same amount; -0 is 0)."""
    return amount.quantize(FEN) + 0


Money = Annotated[
    Decimal, Field(ge=0, le=MAX_CNY, max_digits=14, decimal_places=2, description="CNY (yuan)."), AfterValidator(_cents)
]


def to_fen(cny: Decimal) -> int:
    """CNY (at most two decimal places) → integer fen."""
    return int((cny * 100).to_integral_value(rounding=ROUND_HALF_UP))


def to_cny(fen: int) -> Decimal:
    """Integer fen → CNY with exactly two decimal places."""
    return Decimal(fen).scaleb(-2)


def fen_times(fen: int, factor: Decimal) -> int:
    """``fen × factor`` rounded half up to the fen."""
    return int((Decimal(fen) * factor).to_integral_value(rounding=ROUND_HALF_UP))


def money_from_model(yuan: float) -> Decimal:
    """A model's float yuan → exact CNY rounded half up to the fen (the one float → Decimal boundary)."""
    if not math.isfinite(yuan):
        raise ValueError(f"not a finite amount: {yuan!r}")
    return Decimal(repr(yuan)).quantize(FEN, rounding=ROUND_HALF_UP) + 0
