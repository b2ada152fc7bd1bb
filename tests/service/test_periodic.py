"""Background jobs: a failure is logged once with its traceback, repeats are counted, recovery is said."""

from __future__ import annotations

import logging
import time

import pytest

from service import periodic
from service.periodic import Periodic


def _run_for(seconds: float, fn: object) -> None:
    job = Periodic(fn, 0.005, "probe-job")  # type: ignore[arg-type]
    job.start()
    time.sleep(seconds)
    job.stop()


def test_a_repeating_failure_logs_one_traceback_then_counts(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(periodic, "REPEAT_LOG_SECONDS", 0.1)
    calls = {"n": 0}

    def failing() -> None:
        calls["n"] += 1
        raise ConnectionError("database unavailable")

    with caplog.at_level(logging.INFO, logger="iprisk.periodic"):
        _run_for(0.35, failing)
    tracebacks = [r for r in caplog.records if r.exc_info]
    counts = [r for r in caplog.records if "still failing" in r.getMessage()]
    assert calls["n"] > 20
    assert len(tracebacks) == 1 and "probe-job failed" in tracebacks[0].getMessage()
    assert 1 <= len(counts) <= 4 and all("ConnectionError" in r.getMessage() for r in counts)
    assert sum(int(r.getMessage().split(", ")[1].split()[0]) for r in counts) < calls["n"]


def test_recovery_is_logged_and_a_new_kind_of_failure_gets_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    seen = {"n": 0}

    def flaky() -> None:
        seen["n"] += 1
        if seen["n"] <= 3:
            raise ConnectionError("down")
        if seen["n"] == 4:
            return
        if seen["n"] <= 6:
            raise ValueError("bad row")

    with caplog.at_level(logging.INFO, logger="iprisk.periodic"):
        _run_for(0.2, flaky)
    messages = [(r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert [m for m, tb in messages if tb] == ["probe-job failed", "probe-job failed"]
    assert [m for m, _ in messages].count("probe-job recovered") == 2
