"""``iprisk train --data DIR`` shows a step per model with the time left."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app


def test_training_the_bundled_models_shows_progress_per_model(
    portfolio_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPRISK_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["train", "--data", str(portfolio_dir), "--model", "valuation"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    step = next(line for line in lines if line.startswith("[train "))
    assert step.startswith("[train 1/1] valuation trained (")
    assert step.endswith("elapsed)")
    assert lines.index(step) > lines.index("training valuation")
    assert "valuation:1 registered as champion" in result.output


def test_a_missing_data_directory_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPRISK_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "nowhere"), "--model", "pd"])
    assert result.exit_code == 2
    assert "refused: nothing was trained." in result.output
    assert "Traceback" not in result.output
