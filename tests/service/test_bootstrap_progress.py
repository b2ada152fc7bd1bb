"""First start: the bootstrap shows each step with the time left, captured as a log would capture it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models_store import ModelStore
from service import bootstrap
from service.settings import Settings

PORTFOLIO_LOANS, PORTFOLIO_SEED = 4000, 11  # the suite's portfolio (tests/conftest.py): large enough for every split


@pytest.mark.slow
def test_bootstrap_prints_a_progress_line_per_step_with_an_estimate(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        model_signing_key=None,
        model_signing_key_file=None,
        bootstrap_loans=PORTFOLIO_LOANS,
        bootstrap_seed=PORTFOLIO_SEED,
    )
    lines: list[str] = []
    trained = bootstrap.ensure_models(settings, progress=lines.append)
    assert trained == ["valuation", "pd", "lgd", "claim_review"]
    steps = [line for line in lines if line.startswith("[bootstrap ")]
    assert [s.split("]")[0] for s in steps] == [f"[bootstrap {i}/5" for i in range(1, 6)]
    assert f"portfolio generated ({PORTFOLIO_LOANS} loans)" in steps[0]
    assert [s.split("] ")[1].split(" (")[0] for s in steps[1:]] == [
        "valuation trained",
        "pd trained",
        "lgd trained",
        "claim_review trained",
    ]
    assert all(re.search(r"about [\d.]+ (s|min) left\)$", s) for s in steps[:-1])  # the time left, until done
    assert steps[-1].endswith("elapsed)")
    assert lines.index(steps[0]) < next(i for i, line in enumerate(lines) if line == "training valuation")
    assert lines[-1].startswith("bootstrap finished in ")
    store = ModelStore(settings.store_path)
    assert all(store.alias(name, "champion") for name in trained)
