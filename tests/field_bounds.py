"""Numeric bounds of a pydantic field, read from its constraints (shared by the range tests)."""

from __future__ import annotations

from typing import Any

import annotated_types as at


def bounds(info: Any) -> tuple[float | None, float | None, bool]:
    """(lowest, highest, exclusive) of a field's ``ge``/``gt``/``le``/``lt``; exclusive if either end is open."""
    lo: Any = None  # the constraint's own value: float or int here (Supports* protocols to annotated-types)
    hi: Any = None
    exclusive = False
    for m in info.metadata:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, exclusive = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, exclusive = m.lt, True
    return lo, hi, exclusive
