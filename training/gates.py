"""Promotion gates: candidate against champion on the same test data."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

GATES_FILE = Path(__file__).parent / "config" / "gates.yaml"


class Gate(BaseModel):
    """One metric check."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: str
    higher_is_better: bool
    max_drop: float = 0.0
    floor: float | None = None
    ceiling: float | None = None


class GateCheck(BaseModel):
    """The outcome of one check, with the figures it compared."""

    metric: str
    candidate: float | None
    champion: float | None
    passed: bool
    reason: str


class GateResult(BaseModel):
    """All checks of one promotion decision."""

    name: str
    passed: bool
    checks: list[GateCheck]

    def __str__(self) -> str:
        lines = [f"gates for {self.name}: {'PASSED' if self.passed else 'FAILED'}"]
        lines += [f"  [{'ok' if c.passed else 'FAIL'}] {c.metric}: {c.reason}" for c in self.checks]
        return "\n".join(lines)


def load_gates(path: Path | None = None) -> dict[str, list[Gate]]:
    """Gate configuration by model name (or ``generic_<task>``)."""
    raw = yaml.safe_load((path or GATES_FILE).read_text(encoding="utf-8"))
    return {k: [Gate.model_validate(g) for g in v] for k, v in raw.items()}


def _check(g: Gate, cand: float | None, champ: float | None) -> GateCheck:
    if cand is None:
        return GateCheck(
            metric=g.metric,
            candidate=None,
            champion=champ,
            passed=False,
            reason="candidate has no value for this metric",
        )
    if g.floor is not None and cand < g.floor:
        return GateCheck(
            metric=g.metric,
            candidate=cand,
            champion=champ,
            passed=False,
            reason=f"{cand:.4f} below the floor {g.floor}",
        )
    if g.ceiling is not None and cand > g.ceiling:
        return GateCheck(
            metric=g.metric,
            candidate=cand,
            champion=champ,
            passed=False,
            reason=f"{cand:.4f} above the ceiling {g.ceiling}",
        )
    if champ is None:
        return GateCheck(
            metric=g.metric,
            candidate=cand,
            champion=None,
            passed=True,
            reason=f"{cand:.4f}; no champion to compare with",
        )
    drop = (champ - cand) if g.higher_is_better else (cand - champ)
    ok = drop <= g.max_drop + 1e-12
    return GateCheck(
        metric=g.metric,
        candidate=cand,
        champion=champ,
        passed=ok,
        reason=f"candidate {cand:.4f} vs champion {champ:.4f} (worse by {drop:.4f}, allowed {g.max_drop})",
    )


def check_gates(
    name: str, gates: list[Gate], candidate: Mapping[str, Any], champion: Mapping[str, Any] | None
) -> GateResult:
    """Compare flat metric mappings of candidate and champion."""
    checks = [
        _check(g, _num(candidate.get(g.metric)), None if champion is None else _num(champion.get(g.metric)))
        for g in gates
    ]
    return GateResult(name=name, passed=all(c.passed for c in checks), checks=checks)


def _num(v: Any) -> float | None:
    return None if v is None else float(v)
