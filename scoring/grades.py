"""Master scale: calibrated PD → grade with its expected default rate."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from scoring.vocab.arrays import FloatArray, IndexArray
from scoring.vocab.shares import Probability

CONFIG_DIR = Path(__file__).parent / "config"


class Grade(BaseModel):
    """One grade of the master scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    grade: str
    pd_upper: Probability
    expected_default_rate: Probability


class GradeScale(BaseModel):
    """Ordered grades; upper bounds strictly increase and the last is 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    grades: tuple[Grade, ...]

    @model_validator(mode="after")
    def _ordered(self) -> GradeScale:
        bounds = [g.pd_upper for g in self.grades]
        if not bounds or any(b2 <= b1 for b1, b2 in pairwise(bounds)) or bounds[-1] != 1:
            raise ValueError("grade upper bounds must strictly increase and end at 1.0")
        return self

    def grade_of(self, pd: float) -> Grade:
        """The grade of one PD."""
        return self.grades[int(self.indices(np.array([pd]))[0])]

    def indices(self, pds: FloatArray) -> IndexArray:
        """Grade index of each PD."""
        bounds = np.array([g.pd_upper for g in self.grades], dtype=np.float64)
        found = np.searchsorted(bounds, np.asarray(pds, dtype=np.float64), side="right")
        return np.minimum(found, len(bounds) - 1)


def load_grade_scale(path: str | Path | None = None) -> GradeScale:
    """Read a grade scale from YAML (default: the bundled master scale)."""
    p = Path(path) if path else CONFIG_DIR / "grades.yaml"
    return GradeScale.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
