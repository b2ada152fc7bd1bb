"""The bootstrap regenerates a bundled portfolio an older generator made (it has no disposals for the lgd model)."""

from __future__ import annotations

from pathlib import Path

from service.bootstrap import stale_portfolio
from training.synth.generator import GENERATOR_VERSION, generate_portfolio, write_portfolio


def test_current_bundled_portfolio_is_kept(tmp_path: Path) -> None:
    write_portfolio(generate_portfolio(n_loans=30, seed=3), tmp_path)
    assert not stale_portfolio(tmp_path)


def test_older_bundled_portfolio_is_stale_and_a_banks_own_data_never(tmp_path: Path) -> None:
    write_portfolio(generate_portfolio(n_loans=30, seed=3), tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8").replace(f"generator_version: {GENERATOR_VERSION}", "generator_version: 1"),
        encoding="utf-8",
    )
    assert stale_portfolio(tmp_path)
    readme.write_text("# our loan book\n", encoding="utf-8")
    assert not stale_portfolio(tmp_path)
    readme.unlink()
    assert not stale_portfolio(tmp_path)
