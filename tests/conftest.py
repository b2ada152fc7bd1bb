"""Session fixtures: one synthetic portfolio and one trained model store for the whole suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from models_store import ModelStore
from training.pipeline import RunResult, train_models
from training.synth.generator import generate_portfolio, write_portfolio

PORTFOLIO_LOANS = int(os.environ.get("IPRISK_TEST_LOANS", "40000"))
PORTFOLIO_SEED = 11
TEST_SIGNING_KEY = "tests-model-signing-key-0123456789abcdef"  # signs the trained store; servers check it


@pytest.fixture(scope="session")
def portfolio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic portfolio written as contract CSV files."""
    out = tmp_path_factory.mktemp("portfolio")
    write_portfolio(generate_portfolio(n_loans=PORTFOLIO_LOANS, seed=PORTFOLIO_SEED), out)
    return out


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, portfolio_dir: Path) -> tuple[Path, list[RunResult]]:
    """A model store with all three models trained, registered and promoted."""
    root = tmp_path_factory.mktemp("store")
    results = train_models(
        portfolio_dir,
        ModelStore(root / "models", signing_key=TEST_SIGNING_KEY.encode()),
        actor="tests",
        report_dir=root / "reports",
    )
    return root / "models", results


@pytest.fixture
def store_copy(trained: tuple[Path, list[RunResult]], tmp_path: Path) -> ModelStore:
    """A private copy of the trained store that a test may change."""
    dst = tmp_path / "models"
    shutil.copytree(trained[0], dst)
    return ModelStore(dst, signing_key=TEST_SIGNING_KEY.encode())
