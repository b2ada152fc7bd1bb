"""Signed manifests: only someone holding the key can publish a version a keyed store accepts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models_store import IntegrityError, InvalidReference, ModelStore, SignatureError, StoreError
from models_store.signing import key_id
from service.cli import app

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
MODEL_TEXT = b"tree\nversion=v4\nnum_class=1\n"


def register(store: ModelStore, name: str = "pd", files: dict[str, bytes] | None = None) -> str:
    manifest = store.register(
        name,
        files or {"model.txt": MODEL_TEXT},
        task="binary",
        features=[{"name": "age", "kind": "numeric"}],
        params={"num_leaves": 15},
        metrics={"auc": 0.71},
        data_fingerprint="abc",
        created_by="alice",
    )
    return manifest.version


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> ModelStore:
    return ModelStore(root, signing_key=KEY)


def _recompute_checksum(vdir: Path, fname: str) -> None:
    """What an attacker with write access does after editing a file."""
    manifest = json.loads((vdir / "manifest.json").read_text())
    manifest["files"][fname] = hashlib.sha256((vdir / fname).read_bytes()).hexdigest()
    (vdir / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_registering_signs_and_the_key_verifies(store: ModelStore) -> None:
    version = register(store)
    signature = json.loads((store.root / "pd" / version / "signature.json").read_text())
    assert signature["algorithm"] == "hmac-sha256"
    assert signature["key_id"] == key_id(KEY)
    assert signature["signed_by"] == "alice"
    assert store.verify("pd", version).files
    assert store.read_file("pd", version, "model.txt") == MODEL_TEXT
    store.promote("pd", version, actor="alice", reason="first")


def test_edited_file_with_recomputed_checksum_is_refused(store: ModelStore) -> None:
    version = register(store)
    vdir = store.root / "pd" / version
    (vdir / "model.txt").write_bytes(MODEL_TEXT.replace(b"v4", b"v5"))
    _recompute_checksum(vdir, "model.txt")
    assert ModelStore(store.root).verify("pd", version)  # the checksums alone are satisfied
    with pytest.raises(SignatureError) as exc:
        store.verify("pd", version)
    assert exc.value.reason == "mismatch"
    assert "changed after signing" in str(exc.value)
    with pytest.raises(SignatureError):
        store.promote("pd", version, actor="mallory", reason="tuning")


def test_edited_manifest_field_is_refused(store: ModelStore) -> None:
    version = register(store)
    path = store.root / "pd" / version / "manifest.json"
    path.write_text(path.read_text().replace('"auc": 0.71', '"auc": 0.91'))
    with pytest.raises(SignatureError) as exc:
        store.read_file("pd", version, "model.txt")
    assert exc.value.reason == "mismatch"


def test_edited_file_without_new_checksum_is_an_integrity_error_naming_it(store: ModelStore) -> None:
    version = register(store)
    (store.root / "pd" / version / "model.txt").write_bytes(b"tampered")
    with pytest.raises(IntegrityError) as exc:
        store.verify("pd", version)
    assert not isinstance(exc.value, SignatureError)
    assert exc.value.filename == "model.txt"


def test_signature_copied_from_another_version_is_refused(store: ModelStore) -> None:
    register(store)
    other = register(store, files={"model.txt": b"another model"})
    pd = store.root / "pd"
    (pd / other / "signature.json").write_bytes((pd / "1" / "signature.json").read_bytes())
    with pytest.raises(SignatureError, match="changed after signing"):
        store.verify("pd", other)


def test_wrong_key_is_refused_and_named(store: ModelStore) -> None:
    version = register(store)
    with pytest.raises(SignatureError) as exc:
        ModelStore(store.root, signing_key=OTHER_KEY).verify("pd", version)
    assert exc.value.reason == "other_key"
    assert key_id(KEY) in str(exc.value) and key_id(OTHER_KEY) in str(exc.value)


def test_unsigned_and_unparsable_signatures_are_refused(root: Path, store: ModelStore) -> None:
    unsigned = register(ModelStore(root))
    assert not (root / "pd" / unsigned / "signature.json").exists()
    assert ModelStore(root).verify("pd", unsigned)  # a key-less store does not check signatures
    with pytest.raises(SignatureError) as exc:
        store.verify("pd", unsigned)
    assert exc.value.reason == "unsigned"
    (root / "pd" / unsigned / "signature.json").write_text("{not json")
    with pytest.raises(SignatureError) as exc:
        store.verify("pd", unsigned)
    assert exc.value.reason == "invalid"


def test_sign_migrates_an_unsigned_version_after_checking_its_files(root: Path, store: ModelStore) -> None:
    version = register(ModelStore(root))
    signature = store.sign("pd", version, actor="ops")
    assert signature.signed_by == "ops"
    assert store.verify("pd", version)
    tampered = register(ModelStore(root))
    (root / "pd" / tampered / "model.txt").write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match=r"model\.txt"):
        store.sign("pd", tampered, actor="ops")
    assert not (root / "pd" / tampered / "signature.json").exists()
    with pytest.raises(StoreError, match="no signing key"):
        ModelStore(root).sign("pd", version, actor="ops")


def test_key_rotation_is_signing_again_with_the_new_key(store: ModelStore) -> None:
    version = register(store)
    rotated = ModelStore(store.root, signing_key=OTHER_KEY)
    rotated.sign("pd", version, actor="ops")
    assert rotated.verify("pd", version)
    with pytest.raises(SignatureError, match="another key"):
        store.verify("pd", version)


def test_short_keys_and_a_file_named_like_the_signature_are_refused(root: Path, store: ModelStore) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        ModelStore(root, signing_key=b"short")
    with pytest.raises(InvalidReference):
        register(store, files={"model.txt": MODEL_TEXT, "signature.json": b"{}"})


def test_signing_the_champion_changes_the_state_token(root: Path, store: ModelStore) -> None:
    version = register(ModelStore(root))
    ModelStore(root).promote("pd", version, actor="alice", reason="before signing existed")
    before = store.state_token()
    store.sign("pd", version, actor="ops")
    assert store.state_token() != before


def test_previous_champions_walk_back_like_rollback(store: ModelStore) -> None:
    for _ in range(3):
        store.promote("pd", register(store), actor="alice", reason="new")
    assert store.previous_champions("pd") == ["2", "1"]
    store.rollback("pd", actor="alice", reason="3 misbehaves")
    assert store.previous_champions("pd") == ["1"]


def test_sign_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("IPRISK_HOME", str(home))
    monkeypatch.delenv("IPRISK_MODEL_SIGNING_KEY", raising=False)
    monkeypatch.delenv("IPRISK_MODEL_SIGNING_KEY_FILE", raising=False)
    unsigned = ModelStore(home / "models")
    register(unsigned)
    register(unsigned)
    (home / "models" / "pd" / "2" / "model.txt").write_bytes(b"tampered")
    result = CliRunner().invoke(app, ["models", "sign", "pd:1"])
    assert result.exit_code == 0, result.output
    key_file = home / "keys" / "model-signing.key"  # created on first use, readable by its owner only
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip().encode()
    assert f"pd:1 signed (key id {key_id(key)})" in result.output
    assert ModelStore(home / "models", signing_key=key).verify("pd", "1")
    result = CliRunner().invoke(app, ["models", "sign", "pd:2"])
    assert result.exit_code == 1
    assert "pd:2: not signed" in result.output and "model.txt" in result.output
    monkeypatch.setenv("IPRISK_MODEL_SIGNING_KEY", OTHER_KEY.decode())  # rotation: the new key signs again
    assert CliRunner().invoke(app, ["models", "sign", "pd:1"]).exit_code == 0
    assert ModelStore(home / "models", signing_key=OTHER_KEY).verify("pd", "1")
