"""Drift reads stored model inputs fast and in bounded amounts."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import insert
from sqlmodel import Session

from scoring.drift import psi
from service.db.engine import make_engine
from service.db.migrate import upgrade
from service.db.regulator_tables import FeatureSnapshot
from service.usecases import monitoring
from service.usecases.monitoring import _input_matrix, drift_report


def test_input_rows_parse_in_chunks_with_missing_values_and_older_shorter_rows() -> None:
    texts = ["[1.5, null, 3]", "[4, 5, 6.25]", "[7, 8]", "[null, null, null]", "[1e-3, -2, 0]"]
    x = _input_matrix(texts, chunk=2)
    assert x.shape == (5, 3)
    assert x[0, 0] == 1.5 and math.isnan(x[0, 1]) and x[0, 2] == 3
    assert x[1].tolist() == [4, 5, 6.25]
    assert x[2, :2].tolist() == [7, 8] and math.isnan(x[2, 2])
    assert np.isnan(x[3]).all()
    assert x[4].tolist() == [0.001, -2, 0]
    assert np.array_equal(_input_matrix(texts, chunk=1000), x, equal_nan=True)


def test_drift_uses_the_most_recent_rows_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'drift.db'}")
    upgrade(engine)
    now = datetime.now(UTC)
    # 150 old rows at 0, then 100 recent rows at 1: only the recent ones may be read.
    rows = [
        {
            "created_at": now - timedelta(hours=250 - i),
            "model": "pd",
            "version": "1",
            "institution": "b",
            "result_type": "assessment",
            "result_id": str(i),
            "score": -3.0,
            "x": [0.0 if i < 150 else 1.0],
        }
        for i in range(250)
    ]
    with engine.begin() as conn:
        conn.execute(insert(FeatureSnapshot.__table__), rows)  # type: ignore[attr-defined]
    reference = {
        "features": {"f": {"edges": [0.5], "shares": [0.5, 0.5, 0.0]}},
        "score": {"edges": [-2.0], "shares": [0.5, 0.5, 0.0]},
    }
    model = SimpleNamespace(name="pd", version="1", feature_names=["f"], manifest={"extra": {"reference": reference}})
    monkeypatch.setattr(monitoring, "MAX_ROWS", 100)
    with Session(engine) as session:
        report = drift_report(session, model, days=30, now=now)  # type: ignore[arg-type]
    engine.dispose()
    assert report.rows == 100
    assert report.note == "PSI over the most recent 100 of 250 rows in the window"
    # All 100 rows read are recent ones (value 1, the upper bin); an old row would shift the shares.
    assert report.features[0].psi == pytest.approx(psi([0.5, 0.5, 0.0], [0.0, 1.0, 0.0]))
