"""The application's clock is injectable, and its configuration is read at start and again with the models."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from scoring.policy import CONFIG_DIR
from service.app import create_app
from service.bundle import BundleHolder
from service.clock import Clock
from service.configuration import load_configuration
from service.keys import new_key
from service.settings import Settings
from tests.factories import rule_body


@dataclass
class _Store:
    """A model store with no champions whose state changes when a test says so."""

    token: str = "1"
    has_signing_key: bool = True

    def state_token(self) -> str:
        return self.token

    def alias(self, name: str, alias: str) -> str | None:
        return None


def test_the_configuration_is_read_again_with_the_models_and_a_broken_one_keeps_serving(tmp_path: Path) -> None:
    reads: list[object] = []

    def load() -> object:
        reads.append(load_configuration(tmp_path))
        return reads[-1]

    store = _Store()
    first = load_configuration(tmp_path)
    holder = BundleHolder(store, configuration=first, load_configuration=load)  # type: ignore[arg-type]
    holder.refresh()
    assert holder.configuration is first and reads == []  # start-up's own read is not repeated

    (tmp_path / "ltv_caps.yaml").write_text((CONFIG_DIR / "ltv_caps.yaml").read_text(encoding="utf-8"))
    store.token = "2"  # a model was promoted
    holder.refresh()
    assert holder.configuration is reads[-1] and holder.configuration is not first
    assert "configuration" not in holder.refused

    (tmp_path / "ltv_caps.yaml").write_text("default: {invention: 2.0}\n", encoding="utf-8")
    store.token = "3"
    holder.refresh()
    assert holder.configuration is reads[-1]  # the last good one keeps serving
    assert "configuration" in holder.refused and "configuration refused" in (holder.last_error or "")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, log_level="WARNING", rate_limit_per_minute=0)


async def _backdating_answers(settings: Settings, clock: Clock, key: str) -> list[httpx.Response]:
    app = create_app(settings, clock=clock)
    body = rule_body("city_40_60")
    answers = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://iprisk", headers={"Authorization": f"Bearer {key}"}
        ) as client,
    ):
        answers.append(await client.post("/v1/funds", json={"id": "fund_clock", "name": "clock test"}))
        for day in ("2030-06-01", "2031-01-02"):
            answers.append(await client.post("/v1/funds/fund_clock/rules", json={**body, "effective_from": day}))
    return answers


def test_the_service_dates_requests_by_the_clock_it_is_given(settings: Settings) -> None:
    """A rule version from before the clock's day is a backdating: the regulator must give a reason."""
    later = Clock.fixed(datetime(2031, 1, 1, 16, 30, tzinfo=UTC))  # 00:30 on 2 January 2031 in Beijing
    regulator = new_key(settings, role="regulator", institution="nfra")[0]
    created, backdated, today = asyncio.run(_backdating_answers(settings, later, regulator))
    assert created.status_code == 201
    assert backdated.status_code == 422 and backdated.json()["field"] == "reason"
    assert "before today (2031-01-02)" in backdated.json()["detail"]
    assert today.status_code == 201  # the clock's own day is not backdated
