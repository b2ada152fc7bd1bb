"""The spare core: the valuation's SHAP beside the credit scoring, same results, never queued."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter

from models_store import ModelStore
from scoring.models import inline
from scoring.pipeline import run_assessment
from scoring.policy import load_scoring_config
from service.bundle import load_champion
from service.schemas.scoring import AssessmentRequest
from service.spare_core import SpareCore
from training.pipeline import RunResult

from .test_scoring_api import application, patent


def _counter() -> Counter:
    return Counter("t_shap", "test", ["where"], registry=CollectorRegistry())


def _count(counter: Counter, where: str) -> float:
    return counter.labels(where=where).__dict__["_value"].get()


def test_work_runs_on_the_helper_when_it_is_idle() -> None:
    counter = _counter()
    spare = SpareCore(1, counter)
    try:
        join = spare(lambda: threading.current_thread().name)
        assert join().startswith("iprisk-spare")
        assert _count(counter, "spare_core") == 1 and _count(counter, "inline") == 0
    finally:
        spare.close()


def test_a_busy_helper_is_not_waited_for_the_work_runs_inline() -> None:
    counter = _counter()
    spare = SpareCore(1, counter)
    release, started = threading.Event(), threading.Event()

    def hold() -> str:
        started.set()
        release.wait(10)
        return "held"

    try:
        first = spare(hold)
        assert started.wait(10)
        second = spare(lambda: threading.current_thread().name)
        # Ran at once on the caller's thread, although the helper is still busy.
        assert second() == threading.current_thread().name
        assert _count(counter, "inline") == 1
        release.set()
        assert first() == "held"
        # The helper is free again.
        assert spare(lambda: threading.current_thread().name)().startswith("iprisk-spare")
        assert _count(counter, "spare_core") == 2
    finally:
        release.set()
        spare.close()


def test_an_error_in_the_helper_reaches_the_caller_and_frees_the_helper() -> None:
    spare = SpareCore(1)

    def boom() -> None:
        raise ValueError("bad row")

    try:
        join = spare(boom)
        with pytest.raises(ValueError, match="bad row"):
            join()
        assert spare(lambda: threading.current_thread().name)().startswith("iprisk-spare")
    finally:
        spare.close()


def test_no_helper_threads_or_closed_means_inline() -> None:
    counter = _counter()
    none = SpareCore(0, counter)
    assert none(lambda: threading.current_thread().name)() == threading.current_thread().name
    closed = SpareCore(1, counter)
    closed.close()
    assert closed(lambda: threading.current_thread().name)() == threading.current_thread().name
    assert _count(counter, "inline") == 2 and _count(counter, "spare_core") == 0


def _assess(models: tuple[Any, Any], body: dict[str, Any], offload: Any) -> dict[str, Any]:
    req = AssessmentRequest.model_validate(body)
    config = load_scoring_config(None)
    result = run_assessment(*models, borrower=req.borrower, loan=req.loan, patents=list(req.patents or []),
                            as_of=req.as_of, config=config, caps=config.ltv.for_institution("bank_a"),
                            pledged_in_service=lambda: {req.patents[0].patent_id} if req.patents else set(),
                            offload=offload)
    return result.model_dump(mode="json") | {"inputs": result.inputs.tolist()}


def test_the_assessment_is_the_same_with_and_without_the_spare_core(
        trained: tuple[Path, list[RunResult]]) -> None:
    store = ModelStore(trained[0])
    models = (load_champion(store, "valuation"), load_champion(store, "pd"))
    counter = _counter()
    spare = SpareCore(1, counter)
    try:
        for body in (application(), {**application(), "patents": [patent(), patent(claims_count=3)]}):
            alone = _assess(models, body, inline)
            beside = _assess(models, body, spare)
            assert beside == alone  # bit for bit: the same LightGBM calls, only on another thread
            v = alone["valuation"]["patents"][0]
            # The P50 comes from the raw score, the explanation from SHAP: they agree.
            c = v["contributions"]
            assert c["base_value"] + sum(c["values"].values()) == pytest.approx(c["output"], abs=1e-9)
            assert c["output"] == pytest.approx(math.log(v["p50"]), abs=1e-9)
            # The pledged-elsewhere lookup ran and fed the double-pledge check.
            assert {"code": "PLEDGE_DOUBLE", "status": "fail"}.items() <= next(
                ch for ch in v["checks"] if ch["code"].startswith("PLEDGE_")).items()
        assert _count(counter, "spare_core") == 2  # both ran on the helper, not inline
    finally:
        spare.close()
