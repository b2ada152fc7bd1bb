"""Promoting a new champion is picked up by the running service with no restart and no failed request."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from models_store import ModelStore
from service.client import IpriskClient
from tests.factories import TEST_SIGNING_KEY, application, register_copy
from tests.service.harness import Server, wait_until


def test_hot_reload_under_concurrent_requests(server: Server) -> None:
    store = ModelStore(server.settings.store_path, signing_key=TEST_SIGNING_KEY.encode())
    new_version = register_copy(store, "pd")
    errors: list[BaseException] = []
    versions: list[str] = []
    timeline: list[tuple[float, float, str]] = []  # (sent, answered, pd version) of each request
    stop = threading.Event()

    def worker() -> None:
        with IpriskClient(server.base_url, api_key=server.keys["bank_a"], timeout=60) as c:
            while not stop.is_set():
                try:
                    sent = time.monotonic()
                    version = c.assess(application()).model_versions["pd"]
                    timeline.append((sent, time.monotonic(), version))
                    versions.append(version)
                except BaseException as exc:  # noqa: BLE001 - every failure is reported below
                    errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        # Promote under traffic: once every worker has been answered by the old champion.
        wait_until(lambda: len(versions) >= 8 or errors, what="requests on the old champion")
        store.promote("pd", new_version, actor="tests", reason="hot reload test", forced=True)
        wait_until(lambda: new_version in versions or errors, timeout=20, what="the new champion to answer")
        # Then enough requests sent after the first answer of the new version to see the old one never return.
        first = len(versions)
        wait_until(lambda: len(versions) >= first + 12 or errors, what="requests after the switch")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    assert versions[0] == "1" and versions[-1] == new_version
    assert versions.index(new_version) > 0
    # Once the new version has answered, the old one never comes back: every request sent after
    # that moment is served by it (requests already in flight may finish on the bundle they started with).
    first_new = min(answered for _, answered, v in timeline if v == new_version)
    later = [v for sent, _, v in timeline if sent > first_new]
    assert later and set(later) == {new_version}


def test_tampered_version_is_refused_and_old_keeps_serving(server: Server) -> None:
    store = ModelStore(server.settings.store_path, signing_key=TEST_SIGNING_KEY.encode())
    current = store.alias("valuation", "champion")
    assert current is not None
    new_version = register_copy(store, "valuation")
    path = store.path("valuation", new_version) / "model_p50.txt"
    path.write_bytes(path.read_bytes().replace(b"tree", b"TREE", 1))
    # Promotion verifies first, so move the alias file directly, the way a bad deploy would.
    aliases = store.path("valuation", current).parent / "aliases.json"
    data = json.loads(aliases.read_text())
    data["champion"] = new_version
    aliases.write_text(json.dumps(data))
    with server.client("data_team") as ops:  # readiness details need an operations key

        def reload_failed() -> dict[str, Any] | None:
            ready: dict[str, Any] = ops.request("GET", "/readyz")
            return ready if ready["details"].get("model_reload_error") else None

        # The reloader (every 0.2 s) has tried the new champion once readiness reports its failure.
        ready = wait_until(reload_failed, what="the reloader to refuse the tampered version")
    with IpriskClient(server.base_url, api_key=server.keys["bank_a"]) as c:
        v = c.value({"patents": application()["patents"]})
    assert v.model_versions["valuation"] == current
    assert "IntegrityError" in ready["details"]["model_reload_error"]
