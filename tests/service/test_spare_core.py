"""The spare core: the valuation's SHAP beside the credit scoring, same results, never queued."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Counter

from models_store import ModelStore
from scoring.credit import pd_matrix
from scoring.models import inline
from scoring.pipeline import run_assessment, run_valuation
from scoring.policy import load_scoring_config
from scoring.valuation import quantiles, valuation_matrix
from service.bundle import load_champion
from service.schemas.scoring import AssessmentRequest
from service.spare_core import SpareCore
from tests.factories import Trained, application, patent


def _counter() -> Counter:
    return Counter("t_shap", "test", ["where"], registry=CollectorRegistry())


def _count(counter: Counter, where: str) -> float:
    return float(counter.labels(where=where).__dict__["_value"].get())


def _names(n: int) -> list[Any]:
    """``n`` parts, each returning the name of the thread that ran it."""
    return [lambda: threading.current_thread().name for _ in range(n)]


def test_an_idle_helper_and_the_caller_share_the_parts() -> None:
    counter = _counter()
    spare = SpareCore(1, counter, parts=4)
    asked: list[int] = []
    started, gate = threading.Event(), threading.Event()

    def first() -> str:
        started.set()
        gate.wait(10)  # held until the caller has come to join: the caller must take the rest
        return threading.current_thread().name

    def split(n: int) -> list[Any]:
        asked.append(n)
        return [first, *_names(n - 1)]

    try:
        join = spare(split)
        assert started.wait(10)
        caller = threading.current_thread().name
        timer = threading.Timer(0.2, gate.set)
        timer.start()
        names = join()
        timer.join()
        assert asked == [4]
        assert names[0].startswith("iprisk-spare")
        assert names[1:] == [caller] * 3
        assert _count(counter, "spare_core") == 1 and _count(counter, "inline") == 0
    finally:
        gate.set()
        spare.close()


def test_a_busy_helper_is_not_waited_for_the_work_runs_whole_inline() -> None:
    counter = _counter()
    spare = SpareCore(1, counter, parts=4)
    release, started = threading.Event(), threading.Event()

    def hold(n: int) -> list[Any]:
        def part() -> str:
            started.set()
            release.wait(10)
            return "held"

        return [part] * 1

    asked: list[int] = []

    def split(n: int) -> list[Any]:
        asked.append(n)
        return _names(n)

    try:
        first = spare(hold)
        assert started.wait(10)
        second = spare(split)
        # Ran at once, whole, on the caller's thread, although the helper is still busy.
        assert asked == [1]
        assert second() == [threading.current_thread().name]
        assert _count(counter, "inline") == 1
        release.set()
        assert first() == ["held"]
        _until_idle(spare)
        # The helper is free again: the next computation is shared with it.
        assert spare(split)() and asked[-1] == 4
        assert _count(counter, "spare_core") == 2
    finally:
        release.set()
        spare.close()


def _until_idle(spare: SpareCore) -> None:
    """Wait for the helper's done-callback, which runs just after its last part returns."""
    deadline = time.monotonic() + 10
    while not spare.idle:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_an_error_in_a_part_reaches_the_caller_and_frees_the_helper() -> None:
    counter = _counter()
    spare = SpareCore(1, counter, parts=2)

    def boom() -> None:
        raise ValueError("bad row")

    try:
        for failing in (0, 1):  # whichever thread runs the failing part
            parts: list[Any] = [lambda: None, lambda: None]
            parts[failing] = boom

            def split(_n: int, parts: list[Any] = parts) -> list[Any]:
                return parts

            join = spare(split)
            with pytest.raises(ValueError, match="bad row"):
                join()
        _until_idle(spare)
        spare(lambda n: _names(n))()
        assert _count(counter, "spare_core") == 3 and _count(counter, "inline") == 0
    finally:
        spare.close()


def test_with_other_requests_in_flight_the_work_runs_whole_inline() -> None:
    counter = _counter()
    in_flight = {"n": 2}
    spare = SpareCore(1, counter, in_flight=lambda: in_flight["n"])
    asked: list[int] = []

    def split(n: int) -> list[Any]:
        asked.append(n)
        return _names(n)

    try:
        assert spare(split)() == [threading.current_thread().name]  # both cores have a request already
        in_flight["n"] = 1
        spare(split)()  # alone: shared with the helper
        assert asked == [1, 4]
        assert _count(counter, "inline") == 1 and _count(counter, "spare_core") == 1
    finally:
        spare.close()


def test_no_helper_threads_or_closed_means_whole_and_inline() -> None:
    counter = _counter()
    none = SpareCore(0, counter)
    caller = [threading.current_thread().name]
    assert none(lambda n: _names(n))() == caller
    closed = SpareCore(1, counter)
    closed.close()
    assert closed(lambda n: _names(n))() == caller
    assert _count(counter, "inline") == 2 and _count(counter, "spare_core") == 0


def test_contribution_parts_add_up_to_the_contributions(trained: Trained) -> None:
    store = ModelStore(trained.models)
    pd_model = load_champion(store, "pd")  # calibrated: the intercept goes into one part only
    valuation = load_champion(store, "valuation")
    req = AssessmentRequest.model_validate(application())
    x = valuation_matrix(list(req.patents or []), _as_of(req), req.borrower.revenue_cny)
    for model, role, rows in ((valuation, "p50", x), (pd_model, "main", np.vstack([pd_model_row(req, valuation)]))):
        whole = model.contributions(rows, role)
        for n in (1, 2, 4, 7):
            parts = model.contribution_parts(rows, role, n)
            assert len(parts) == n
            total = sum(p() for p in parts)
            np.testing.assert_allclose(total, whole, rtol=0, atol=1e-12)
            if n == 1:
                assert np.array_equal(total, whole)


def test_parts_and_whole_predictions_may_run_on_threads_at_once(trained: Trained) -> None:
    """As under load: one request's SHAP whole, another's in parts on two threads, all at the same time."""
    valuation = load_champion(ModelStore(trained.models), "valuation")
    req = AssessmentRequest.model_validate({**application(), "patents": [patent(), patent(claims_count=2)]})
    x = valuation_matrix(list(req.patents or []), _as_of(req), req.borrower.revenue_cny)
    whole = valuation.contributions(x, "p50")
    parts = valuation.contribution_parts(x, "p50", 2)
    expected = [parts[0](), parts[1](), whole]
    wrong: list[int] = []

    def hammer(i: int) -> None:
        calls: list[Callable[[], np.ndarray]] = [parts[0], parts[1], lambda: valuation.contributions(x, "p50")]
        call = calls[i]
        for _ in range(150):
            if not np.array_equal(call(), expected[i]):
                wrong.append(i)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert not any(b is valuation.boosters["p50"] for b in valuation.split_boosters("p50", 2))


def _as_of(req: AssessmentRequest) -> date:
    """The request's date (the bodies built here always carry one)."""
    assert req.as_of is not None
    return req.as_of


def pd_model_row(req: AssessmentRequest, valuation: Any) -> np.ndarray:
    patents = list(req.patents or [])
    xv = valuation_matrix(patents, _as_of(req), req.borrower.revenue_cny)
    total_p50 = float(quantiles(valuation, xv)[:, 1].sum())
    return np.asarray(pd_matrix(req.borrower, req.loan, patents, _as_of(req), total_p50)[0])


def _close(a: Any, b: Any, path: str = "") -> None:
    """Equal, floats to 1e-12 relative (parts add up in another order than one call)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-12), path
    else:
        assert a == b, path


def _assess(models: tuple[Any, Any], body: dict[str, Any], offload: Any) -> dict[str, Any]:
    req = AssessmentRequest.model_validate(body)
    config = load_scoring_config(None)
    result = run_assessment(
        *models,
        borrower=req.borrower,
        loan=req.loan,
        patents=list(req.patents or []),
        as_of=_as_of(req),
        config=config,
        caps=config.ltv.for_institution("bank_a"),
        pledged_in_service=lambda: {req.patents[0].patent_id} if req.patents else set(),
        offload=offload,
    )
    return result.model_dump(mode="json") | {"inputs": result.inputs.tolist()}


def test_the_assessment_is_the_same_with_and_without_the_spare_core(trained: Trained) -> None:
    store = ModelStore(trained.models)
    models = (load_champion(store, "valuation"), load_champion(store, "pd"))
    counter = _counter()
    spare = SpareCore(1, counter)
    try:
        for body in (application(), {**application(), "patents": [patent(), patent(claims_count=3)]}):
            alone = _assess(models, body, inline)
            beside = _assess(models, body, spare)
            _close(beside, alone)  # the same figures: the SHAP in parts on two threads, or whole on one
            v = alone["valuation"]["patents"][0]
            # The P50 comes from the raw score, the explanation from SHAP: they agree.
            c = v["contributions"]
            assert c["base_value"] + sum(c["values"].values()) == pytest.approx(c["output"], abs=1e-9)
            assert c["output"] == pytest.approx(math.log(v["p50"]), abs=1e-9)
            # The pledged-elsewhere lookup ran and fed the double-pledge check.
            assert {"code": "PLEDGE_DOUBLE", "status": "fail"}.items() <= next(
                ch for ch in v["checks"] if ch["code"].startswith("PLEDGE_")
            ).items()
        # A valuation alone: the helper and the caller share the SHAP, with the same figures.
        req = AssessmentRequest.model_validate(body)
        config = load_scoring_config(None)
        valued = [
            run_valuation(
                models[0],
                list(req.patents or []),
                as_of=_as_of(req),
                config=config,
                caps=config.ltv.for_institution("bank_a"),
                offload=offload,
            ).model_dump(mode="json")
            for offload in (inline, spare)
        ]
        _close(valued[1], valued[0])
        assert _count(counter, "spare_core") == 3  # every shared run took the helper, none fell back inline
    finally:
        spare.close()
