"""``iprisk data generate`` shows a step per generation stage and per table written, with the time left."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from service.cli import app
from training import progress
from training.synth.generator import GENERATION_WORK

STEP = re.compile(r"^\[(?P<label>[a-z ]+) (?P<done>\d+)/(?P<total>\d+)\] (?P<note>.+) \((?P<eta>[^()]+)\)$")


def test_generation_shows_each_stage_and_each_table_with_the_time_left(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = CliRunner().invoke(app, ["data", "generate", "--loans", "400", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    steps = [m for line in result.output.splitlines() if (m := STEP.match(line))]
    stages = [m for m in steps if m["label"] == "generate"]
    tables = [m for m in steps if m["label"] == "write csv"]
    assert [int(m["done"]) for m in stages] == list(range(1, len(GENERATION_WORK) + 1))
    assert {int(m["total"]) for m in stages} == {len(GENERATION_WORK)}
    assert stages[0]["note"] == "400 originations, 320 enterprises"
    written = {m["note"].split(".csv: ")[0]: int(m["note"].split(": ")[1].split()[0]) for m in tables}
    assert written == {p.stem: len(pd.read_csv(p)) for p in out.glob("*.csv")}  # each table, with its rows
    assert [int(m["done"]) for m in tables] == list(range(1, len(written) + 1))
    for task in (stages, tables):  # an estimate on every line but the last, which says the task is done
        assert all(m["eta"].endswith(" left") for m in task[:-1])
        assert task[-1]["eta"].endswith(" elapsed")


def test_the_time_left_follows_the_work_done_not_the_count_of_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    now = iter([0.0, 1.0, 2.0])
    monkeypatch.setattr("training.progress.time.perf_counter", lambda: next(now, 2.0))
    lines: list[str] = []
    bar = progress.LineSteps("write csv", 2, lines.append, total_work=100)
    bar.advance("small.csv: 10 rows", work=10)  # 10% of the work in 1 s: about 9 s for the other 90%
    bar.advance("big.csv: 90 rows", work=90)
    assert lines == [
        "[write csv 1/2] small.csv: 10 rows (1 s elapsed, about 9 s left)",
        "[write csv 2/2] big.csv: 90 rows (2 s elapsed)",
    ]
