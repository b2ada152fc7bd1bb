"""Session fixtures: one small synthetic portfolio and one trained model store for the whole suite.

The store is trained once per session into a session directory and treated as
read-only: a test that changes models takes :func:`store_copy`, a server copies
it into its own home.  The portfolio is small (``PORTFOLIO_LOANS``, 4,000
loans; 40,000 before) because what the suite checks of the trained models —
that they are stored, signed, served, reloaded, explained and refused when
tampered with — does not depend on their size; the floors on model quality,
which do, train at full size in ``tests/training/test_models.py`` (slow).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# LightGBM's OpenMP threads spin while they wait for work (libgomp's default). On a shared 2-core
# machine the spinning threads of several processes starve one another: training the 4,000-loan
# store took 202 s at a load average of 10 with spinning threads and 39 s with sleeping ones.
# libgomp reads this when lightgbm loads it, so it is set before anything imports lightgbm.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest

from models_store import ModelStore
from tests.factories import TEST_SIGNING_KEY, Trained, train_store
from training.synth.generator import generate_portfolio, write_portfolio

PORTFOLIO_LOANS = int(os.environ.get("IPRISK_TEST_LOANS", "4000"))
PORTFOLIO_SEED = 11


@pytest.fixture(scope="session")
def portfolio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic portfolio written as contract CSV files."""
    out = tmp_path_factory.mktemp("portfolio")
    write_portfolio(generate_portfolio(n_loans=PORTFOLIO_LOANS, seed=PORTFOLIO_SEED), out)
    return out


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, portfolio_dir: Path) -> Trained:
    """The session's model store, trained once on :func:`portfolio_dir`; do not change it (use ``store_copy``)."""
    return train_store(portfolio_dir, tmp_path_factory.mktemp("store"))


@pytest.fixture
def store_copy(trained: Trained, tmp_path: Path) -> ModelStore:
    """A private copy of the trained store that a test may change."""
    dst = tmp_path / "models"
    shutil.copytree(trained.models, dst)
    return ModelStore(dst, signing_key=TEST_SIGNING_KEY.encode())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that train at full size first: under pytest-xdist their worker starts the longest job at once."""
    items.sort(key=lambda item: "full_size" not in getattr(item, "fixturenames", ()))
