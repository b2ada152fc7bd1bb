"""Where the model signing key comes from, and that the first bootstrap signs with a key it creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models_store import ModelStore
from service import bootstrap
from service.settings import Settings
from service.signing_key import ensure_signing_key, load_signing_key, served_store, signing_key_path


def _settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "model_signing_key": None, "model_signing_key_file": None, **overrides}
    return Settings(**values)


def test_the_variable_wins_over_the_file_and_whitespace_is_not_key(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text("  from-the-file-0123456789\n")
    assert load_signing_key(_settings(tmp_path, model_signing_key_file=key_file)) == b"from-the-file-0123456789"
    both = _settings(tmp_path, model_signing_key_file=key_file, model_signing_key="from-the-variable-0123456789")
    assert load_signing_key(both) == b"from-the-variable-0123456789"


def test_missing_short_or_unreadable_keys(tmp_path: Path) -> None:
    assert load_signing_key(_settings(tmp_path)) is None
    with pytest.raises(ValueError, match="shorter than 16 bytes"):
        load_signing_key(_settings(tmp_path, model_signing_key="short"))
    (tmp_path / "dir-not-file").mkdir()
    bad = _settings(tmp_path, model_signing_key_file=tmp_path / "dir-not-file")
    with pytest.raises(ValueError, match="cannot read"):
        load_signing_key(bad)
    store, why = served_store(bad)
    assert not store.has_signing_key and why is not None and "cannot read" in why
    store, why = served_store(_settings(tmp_path))
    assert not store.has_signing_key and why is not None and str(signing_key_path(_settings(tmp_path))) in why


def test_ensure_creates_a_private_key_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    messages: list[str] = []
    key = ensure_signing_key(settings, echo=messages.append)
    path = tmp_path / "keys" / "model-signing.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) == 64 and path.read_text().strip().encode() == key
    assert ensure_signing_key(settings, echo=messages.append) == key
    assert len(messages) == 1 and str(path) in messages[0]
    assert served_store(settings)[0].has_signing_key


def _fake_training(data_dir: Path, store: ModelStore, *, models: list[str], **_: object) -> list[object]:
    """Registers what training would, in milliseconds (training itself is tested in tests/training)."""
    for name in models:
        version = store.register(
            name,
            {"model.txt": b"tree\n"},
            task="binary",
            features=[],
            params={},
            metrics={},
            data_fingerprint="x",
            created_by="bootstrap",
        ).version
        store.promote(name, version, actor="bootstrap", reason="first")
    return []


def test_first_bootstrap_signs_with_a_key_it_creates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "find_table_file", lambda *_: tmp_path / "loans.csv")
    monkeypatch.setattr(bootstrap, "train_models", _fake_training)
    settings = _settings(tmp_path)
    assert bootstrap.ensure_models(settings, progress=lambda _: None)
    key = (tmp_path / "keys" / "model-signing.key").read_text().strip().encode()
    store = ModelStore(settings.store_path, signing_key=key)
    for name in ("valuation", "pd", "claim_review"):
        assert store.verify(name, store.resolve(name)[1]).files
    assert bootstrap.ensure_models(settings, progress=lambda _: None) == []  # nothing to do, same key
    assert (tmp_path / "keys" / "model-signing.key").read_text().strip().encode() == key
