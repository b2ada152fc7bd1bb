"""Promoting a new champion is picked up by the running service with no restart and no failed request."""

from __future__ import annotations

import json
import threading
import time

from models_store import ModelStore
from service.client import IpriskClient
from tests.conftest import TEST_SIGNING_KEY
from tests.service.conftest import Server
from tests.service.test_scoring_api import application


def _register_copy(store: ModelStore, name: str) -> str:
    """A new version of ``name`` with the champion's files (a retrain stand-in)."""
    _, version = store.resolve(f"{name}@champion")
    m = store.verify(name, version)
    files = {f: store.read_file(name, version, f) for f in m.files}
    new = store.register(
        name,
        files,
        task=m.task,
        features=[f.model_dump() for f in m.features],
        params=m.params,
        metrics=m.metrics,
        data_fingerprint=m.data_fingerprint,
        created_by="tests",
        extra=m.extra,
        synthetic=m.synthetic,
    )
    return str(new.version)


def test_hot_reload_under_concurrent_requests(server: Server) -> None:
    store = ModelStore(server.settings.store_path, signing_key=TEST_SIGNING_KEY.encode())
    new_version = _register_copy(store, "pd")
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
    time.sleep(1.0)
    store.promote("pd", new_version, actor="tests", reason="hot reload test", forced=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not versions or versions[-1] != new_version):
        time.sleep(0.1)
    time.sleep(0.5)
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
    new_version = _register_copy(store, "valuation")
    path = store.path("valuation", new_version) / "model_p50.txt"
    path.write_bytes(path.read_bytes().replace(b"tree", b"TREE", 1))
    # Promotion verifies first, so move the alias file directly, the way a bad deploy would.
    aliases = store.path("valuation", current).parent / "aliases.json"
    data = json.loads(aliases.read_text())
    data["champion"] = new_version
    aliases.write_text(json.dumps(data))
    time.sleep(1.0)
    with IpriskClient(server.base_url, api_key=server.keys["bank_a"]) as c:
        v = c.value({"patents": application()["patents"]})
    with server.client("data_team") as ops:  # readiness details need an operations key
        ready = ops.request("GET", "/readyz")
    assert v.model_versions["valuation"] == current
    assert "IntegrityError" in ready["details"]["model_reload_error"]
