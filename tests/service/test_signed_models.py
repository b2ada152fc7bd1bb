"""A running server serves only signed, readable models: the red-team attacks of issue 15, refused.

The attack measured on main: edit the PD model and recompute the manifest checksums;
the edit was served under the old version (PD x11.5, A3/approve -> C2/refer). And a
model file LightGBM cannot parse, with matching checksums, killed the replica at every
start. Here both are refused at start and at reload, and the process keeps serving.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from models_store import ModelStore
from service.client import IpriskClient
from service.keys import new_key
from service.settings import Settings
from tests.factories import TEST_SIGNING_KEY, Trained, application, register_like
from tests.service.harness import start_server

KEY = TEST_SIGNING_KEY.encode()


@pytest.fixture
def home(trained: Trained, tmp_path: Path) -> Path:
    shutil.copytree(trained.models, tmp_path / "models")
    return tmp_path


def _signed(home: Path) -> ModelStore:
    return ModelStore(home / "models", signing_key=KEY)


@contextmanager
def _serving(home: Path, **overrides: Any) -> Iterator[tuple[str, IpriskClient]]:
    """A live server on ``home`` (SQLite); yields its URL and a bank client."""
    settings = Settings(
        **{
            "home": home,
            "reload_interval_seconds": 0.2,
            "log_level": "CRITICAL",
            "ops_public": True,
            "model_signing_key": TEST_SIGNING_KEY,
            **overrides,
        }
    )
    server, thread, base_url, _ = start_server(settings)
    key = new_key(settings, role="bank", institution="bank_a")[0]
    try:
        with IpriskClient(base_url, api_key=key, timeout=60) as client:
            yield base_url, client
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _ready(base_url: str) -> tuple[int, dict[str, Any]]:
    r = httpx.get(f"{base_url}/readyz", timeout=10)
    return r.status_code, r.json()["details"]


def _wait_for(base_url: str, until: Callable[[dict[str, Any]], bool]) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        status, details = _ready(base_url)
        if until(details) or time.monotonic() > deadline:
            return status, details
        time.sleep(0.1)


def _raise_leaves(text: bytes) -> bytes:
    """A valid LightGBM model whose every tree predicts more default: PD goes up."""
    lines = []
    for line in text.decode().splitlines():
        if line.startswith("leaf_value="):
            line = "leaf_value=" + " ".join(repr(float(v) + 0.5) for v in line.split("=", 1)[1].split())
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


def _unparsable(text: bytes) -> bytes:
    """A model file LightGBM's C++ parser aborts on (a letter where a number must be)."""
    return text.replace(b"leaf_value=", b"leaf_value=x", 1)


def _register(store: ModelStore, name: str, edit: Callable[[bytes], bytes] = bytes) -> str:
    """A new version of ``name`` with the files of version 1, ``model.txt`` edited; signed if the store signs."""
    m = store.manifest(name, "1")
    files = {f: (store.root / name / "1" / f).read_bytes() for f in m.files}
    files["model.txt"] = edit(files["model.txt"])
    return register_like(store, m, files)


def _edit_in_place(store: ModelStore, name: str, version: str, edit: Callable[[bytes], bytes]) -> None:
    """The attack: change a stored model, then recompute its manifest checksum so the files "match"."""
    vdir = store.root / name / version
    model = vdir / "model.txt"
    model.write_bytes(edit(model.read_bytes()))
    manifest = json.loads((vdir / "manifest.json").read_text())
    manifest["files"]["model.txt"] = hashlib.sha256(model.read_bytes()).hexdigest()
    (vdir / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_attack_at_start_serves_the_last_good_champion(home: Path) -> None:
    store = _signed(home)
    unreadable = _register(store, "pd", _unparsable)  # signed, checksums match, LightGBM cannot load it
    store.promote("pd", unreadable, actor="tests", reason="bad build", forced=True)
    edited = _register(store, "pd")
    store.promote("pd", edited, actor="tests", reason="retrained", forced=True)
    _edit_in_place(store, "pd", edited, _raise_leaves)
    with _serving(home) as (base_url, client):
        status, details = _ready(base_url)
        assessed = client.assess(application())
    assert status == 200
    assert details["models"]["pd"] == "1"
    assert assessed.model_versions["pd"] == "1"
    refused = details["models_refused"]
    assert "SignatureError" in refused[f"pd:{edited}"]
    assert "ended the process" in refused[f"pd:{unreadable}"]  # LightGBM aborted a child, not the server
    assert f"pd:{edited} refused" in details["model_reload_error"]


def test_attack_at_start_with_no_good_version_is_not_ready(home: Path) -> None:
    store = _signed(home)
    _edit_in_place(store, "pd", "1", _raise_leaves)
    with _serving(home) as (base_url, _):
        status, details = _ready(base_url)
        healthz = httpx.get(f"{base_url}/healthz", timeout=10).status_code
    assert status == 503
    assert healthz == 200
    assert details["missing_models"] == ["pd"]
    assert "signature does not match" in details["models_refused"]["pd:1"]
    assert set(details["models"]) == {"valuation", "lgd", "claim_review"}


def test_unreadable_only_champion_at_start_is_refused_without_crashing(home: Path) -> None:
    store = _signed(home)
    _edit_in_place(store, "claim_review", "1", _unparsable)  # checksums match the broken file
    store.sign("claim_review", "1", actor="tests")  # and the key holder signed it
    with _serving(home) as (base_url, _):
        status, details = _ready(base_url)
    assert status == 503
    assert details["missing_models"] == ["claim_review"]
    assert "ended the process" in details["models_refused"]["claim_review:1"]


def test_reload_refuses_attacks_and_keeps_serving(home: Path) -> None:
    signed, unsigned = _signed(home), ModelStore(home / "models")
    with _serving(home) as (base_url, client):
        before = client.assess(application())
        # 1. edited with recomputed checksums; the key-less store checks files only, so the alias moves
        edited = _register(signed, "pd")
        _edit_in_place(signed, "pd", edited, _raise_leaves)
        unsigned.promote("pd", edited, actor="mallory", reason="tuning", forced=True)
        status, details = _wait_for(base_url, lambda d: f"pd:{edited}" in d.get("models_refused", {}))
        after = client.assess(application())
        assert status == 200
        assert "SignatureError" in details["models_refused"][f"pd:{edited}"]
        assert (after.model_versions["pd"], after.pd, after.grade, after.decision) == (
            "1",
            before.pd,
            before.grade,
            before.decision,
        )
        # 2. signed, matching checksums, but LightGBM aborts on it
        unreadable = _register(signed, "pd", _unparsable)
        signed.promote("pd", unreadable, actor="tests", reason="bad build", forced=True)
        status, details = _wait_for(base_url, lambda d: f"pd:{unreadable}" in d.get("models_refused", {}))
        assert status == 200
        assert "ended the process" in details["models_refused"][f"pd:{unreadable}"]
        assert client.assess(application()).model_versions["pd"] == "1"
        # 3. unsigned, then signed in place by the key holder: served without a restart
        late = _register(unsigned, "pd")
        unsigned.promote("pd", late, actor="tests", reason="trained before signing", forced=True)
        _, details = _wait_for(base_url, lambda d: f"pd:{late}" in d.get("models_refused", {}))
        assert "unsigned" in details["models_refused"][f"pd:{late}"]
        signed.sign("pd", late, actor="ops")
        status, details = _wait_for(base_url, lambda d: d["models"].get("pd") == late)
        assert status == 200
        assert details["models"]["pd"] == late
        assert "models_refused" not in details
        assert client.assess(application()).model_versions["pd"] == late


def test_without_a_key_nothing_is_served_and_readyz_says_why(home: Path) -> None:
    with _serving(home, model_signing_key=None) as (base_url, _):
        status, details = _ready(base_url)
    assert status == 503
    assert details["models"] == {}
    assert "no model signing key is configured" in details["model_reload_error"]
    assert "IPRISK_MODEL_SIGNING_KEY" in details["models_refused"]["pd:1"]
