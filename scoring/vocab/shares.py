"""Fractions of a whole, in the two arithmetics iprisk uses.

``Probability`` and ``Share`` are floats: model maths (PD, LGD, collateral mix).
``ExactShare`` is a ``Decimal`` with six places: a fund rule's split of a loss,
which must add up to exactly 1 because it is applied to money to the fen.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

Probability = Annotated[float, Field(ge=0, le=1)]
Share = Annotated[float, Field(ge=0, le=1)]
ExactShare = Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6)]
Multiple = Annotated[Decimal, Field(ge=0, le=1000, max_digits=8, decimal_places=4)]
