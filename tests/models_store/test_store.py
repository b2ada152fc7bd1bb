from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from models_store import (
    AliasNotFound,
    FeatureRecord,
    IntegrityError,
    InvalidReference,
    Manifest,
    ModelStore,
    StoreError,
    VersionNotFound,
    _versions,
)

MODEL_TEXT = b"tree\nversion=v4\nnum_class=1\n"
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> ModelStore:
    return ModelStore(tmp_path / "store", clock=clock)


def register(store: ModelStore, name: str = "pd", content: bytes = MODEL_TEXT, **overrides: object) -> Manifest:
    kwargs: dict[str, object] = {
        "task": "binary",
        "features": [
            {"name": "age_months", "kind": "numeric"},
            {"name": "ipc_section", "kind": "categorical", "categories": ["A", "B", "H"]},
            FeatureRecord(name="has_litigation", kind="bool"),
        ],
        "params": {"num_leaves": 31, "objective": "binary"},
        "metrics": {"auc": 0.74},
        "data_fingerprint": "sha256:feedface",
        "created_by": "trainer@test",
        "extra": {"calibration": {"method": "isotonic"}},
        "synthetic": True,
    }
    kwargs.update(overrides)
    return store.register(name, {"model.txt": content, "reasons.json": b"{}"}, **kwargs)  # type: ignore[arg-type]


def entries(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()}


# -- registration --------------------------------------------------------------


def test_register_roundtrip_records_sha256_and_returns_verified_bytes(store: ModelStore) -> None:
    m = register(store)

    assert (m.name, m.version, m.task, m.synthetic) == ("pd", "1", "binary", True)
    assert m.files["model.txt"] == hashlib.sha256(MODEL_TEXT).hexdigest()
    assert m.created_at == T0
    assert m.library_versions["python"]
    assert m.features[1].categories == ["A", "B", "H"]
    assert store.read_file("pd", "1", "model.txt") == MODEL_TEXT
    assert store.manifest("pd", "1") == m
    assert store.verify("pd", "1") == m
    assert entries(store.path("pd", "1")) == {"model.txt", "reasons.json", "manifest.json"}
    on_disk = json.loads((store.root / "pd" / "1" / "manifest.json").read_text())
    assert on_disk["files"]["model.txt"] == m.files["model.txt"]
    assert on_disk["created_at"] == "2025-01-01T09:00:00Z"


def test_read_version_returns_the_manifest_data_and_every_file_verified(store: ModelStore) -> None:
    m = register(store)

    manifest, files = store.read_version("pd", "1")
    assert manifest == m.model_dump(mode="json")
    assert files == {"model.txt": MODEL_TEXT, "reasons.json": b"{}"}
    (store.root / "pd" / "1" / "reasons.json").write_bytes(b"{ }")
    with pytest.raises(IntegrityError, match=r"reasons\.json"):
        store.read_version("pd", "1")


def test_versions_are_numbered_and_sorted_as_integers(store: ModelStore) -> None:
    for i in range(11):
        register(store, content=b"model %d" % i)
    register(store, "valuation")

    assert [m.version for m in store.versions("pd")] == [str(i) for i in range(1, 12)]
    assert store.read_file("pd", "10", "model.txt") == b"model 9"
    assert store.names() == ["pd", "valuation"]
    assert store.versions("claim_review") == []


def test_manifest_is_frozen(store: ModelStore) -> None:
    m = register(store)
    with pytest.raises(ValidationError):
        m.version = "2"  # type: ignore[misc]


def test_concurrent_registers_get_distinct_versions(store: ModelStore) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = register(store, content=b"model from thread %d" % i).version
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(results.values(), key=int) == [str(v) for v in range(1, n + 1)]
    for i, version in results.items():
        assert store.read_file("pd", version, "model.txt") == b"model from thread %d" % i
    assert not [e for e in entries(store.root / "pd") if e.startswith(".tmp-")]


def test_failure_mid_register_leaves_no_visible_version(store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_write(directory: Path, manifest: Manifest) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_versions, "write_manifest", broken_write)
    with pytest.raises(OSError, match="disk full"):
        register(store)

    assert store.versions("pd") == []
    assert store.names() == []
    with pytest.raises(VersionNotFound):
        store.resolve("pd:1")
    assert not [e for e in entries(store.root / "pd") if e.startswith(".tmp-")]
    monkeypatch.undo()
    assert register(store).version == "1"


def test_crashed_register_is_invisible_and_cleaned_up(tmp_path: Path) -> None:
    root = tmp_path / "store"
    script = f"""
import os
from models_store import ModelStore, _versions
_versions.write_manifest = lambda directory, manifest: os._exit(3)  # process dies mid-register
ModelStore({str(root)!r}).register("pd", {{"model.txt": b"x"}}, task="binary", features=[],
    params={{}}, metrics={{}}, data_fingerprint="f", created_by="crash-test")
"""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, check=False)
    assert proc.returncode == 3

    store = ModelStore(root)
    leftovers = [e for e in entries(root / "pd") if e.startswith(".tmp-")]
    assert len(leftovers) == 1
    assert store.versions("pd") == []
    assert store.names() == []

    assert store.cleanup_temp(older_than=3600) == []  # too young: might be a live writer
    assert [p.name for p in store.cleanup_temp(older_than=0)] == leftovers
    assert not [e for e in entries(root / "pd") if e.startswith(".")]
    assert register(store).version == "1"


@pytest.mark.parametrize("filename", ["../x", "/etc/passwd", "a/b.txt", ".hidden", "..", "manifest.json", ""])
def test_register_rejects_file_names_that_are_not_plain(store: ModelStore, filename: str) -> None:
    with pytest.raises(InvalidReference, match="invalid file name"):
        store.register(
            "pd",
            {filename: b"x"},
            task="binary",
            features=[],
            params={},
            metrics={},
            data_fingerprint="f",
            created_by="me",
        )
    assert store.names() == []
    assert not (store.root.parent / "x").exists()


@pytest.mark.parametrize("name", ["../pd", "pd@x", "pd:1", ".pd", "", "a/b"])
def test_register_rejects_bad_model_names(store: ModelStore, name: str) -> None:
    with pytest.raises(InvalidReference, match="invalid model name"):
        register(store, name)
    assert list(store.root.iterdir()) == []


def test_register_rejects_invalid_manifest_fields_before_writing(store: ModelStore) -> None:
    with pytest.raises(ValueError, match="categories"):
        register(store, features=[{"name": "age", "kind": "numeric", "categories": ["a"]}])
    with pytest.raises(ValueError, match="created_by"):
        register(store, created_by=" ")
    assert list(store.root.iterdir()) == []


# -- integrity -----------------------------------------------------------------


def test_verify_names_a_file_with_one_changed_byte(store: ModelStore) -> None:
    m = register(store)
    model_file = store.root / "pd" / "1" / "model.txt"
    data = bytearray(model_file.read_bytes())
    data[0] ^= 0x01
    model_file.write_bytes(bytes(data))

    with pytest.raises(IntegrityError, match=r"pd:1: file 'model.txt'") as info:
        store.verify("pd", "1")
    assert info.value.filename == "model.txt"
    assert info.value.expected == m.files["model.txt"]
    assert info.value.actual == hashlib.sha256(bytes(data)).hexdigest()
    assert m.files["model.txt"] in str(info.value)
    assert info.value.actual in str(info.value)
    with pytest.raises(IntegrityError):
        store.read_file("pd", "1", "reasons.json")  # the whole version is refused
    with pytest.raises(IntegrityError):
        store.path("pd", "1")
    with pytest.raises(IntegrityError):
        store.promote("pd", "1", actor="alice", reason="r")
    assert store.aliases("pd") == {}


def test_verify_detects_a_missing_file(store: ModelStore) -> None:
    register(store)
    (store.root / "pd" / "1" / "reasons.json").unlink()
    with pytest.raises(IntegrityError, match=r"'reasons\.json' is missing") as info:
        store.verify("pd", "1")
    assert info.value.filename == "reasons.json"
    assert info.value.actual is None


def test_verify_detects_an_unlisted_extra_file(store: ModelStore) -> None:
    register(store)
    (store.root / "pd" / "1" / "model.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(IntegrityError, match=r"'model\.pkl' is not listed") as info:
        store.verify("pd", "1")
    assert info.value.filename == "model.pkl"


def test_unparsable_or_misplaced_manifest_is_refused(store: ModelStore) -> None:
    register(store)
    register(store)
    (store.root / "pd" / "1" / "manifest.json").write_text("{not json")
    with pytest.raises(IntegrityError, match=r"manifest\.json"):
        store.verify("pd", "1")
    with pytest.raises(IntegrityError):
        store.versions("pd")
    manifest_2 = store.root / "pd" / "2" / "manifest.json"
    manifest_2.write_text(manifest_2.read_text().replace('"version": "2"', '"version": "7"'))
    with pytest.raises(IntegrityError, match="describes pd:7"):
        store.manifest("pd", "2")


def test_read_file_rejects_unknown_and_unsafe_names(store: ModelStore) -> None:
    register(store)
    with pytest.raises(InvalidReference, match=r"has no file 'other\.txt'"):
        store.read_file("pd", "1", "other.txt")
    with pytest.raises(InvalidReference):
        store.read_file("pd", "1", "../../etc/passwd")
    with pytest.raises(VersionNotFound):
        store.read_file("pd", "2", "model.txt")


# -- references ----------------------------------------------------------------


def test_resolve_grammar(store: ModelStore) -> None:
    register(store)
    register(store)
    store.promote("pd", "1", actor="alice", reason="first")
    store.set_alias("pd", "challenger", "2", actor="alice", reason="shadow")

    assert store.resolve("pd") == ("pd", "1")
    assert store.resolve("pd@champion") == ("pd", "1")
    assert store.resolve("pd@challenger") == ("pd", "2")
    assert store.resolve("pd:2") == ("pd", "2")


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "pd@",
        "@champion",
        "pd:",
        "pd:0",
        "pd:01",
        "pd:x",
        "pd:-1",
        "pd@prod",
        "pd@champion:2",
        "pd:1:2",
        "../pd",
    ],
)
def test_resolve_rejects_malformed_references(store: ModelStore, ref: str) -> None:
    register(store)
    with pytest.raises(InvalidReference, match="invalid model reference"):
        store.resolve(ref)


def test_resolve_reports_what_is_missing(store: ModelStore) -> None:
    register(store)
    with pytest.raises(VersionNotFound, match="no version '9'"):
        store.resolve("pd:9")
    with pytest.raises(VersionNotFound, match="no model named 'valuation'"):
        store.resolve("valuation")
    with pytest.raises(AliasNotFound, match="pd@champion is not set"):
        store.resolve("pd")
    with pytest.raises(AliasNotFound, match="pd@challenger is not set"):
        store.resolve("pd@challenger")


# -- aliases -------------------------------------------------------------------


def test_promote_rollback_history_and_champion_on(store: ModelStore, clock: FakeClock) -> None:
    for _ in range(3):
        register(store)
    t1 = clock.advance(hours=1)
    store.promote("pd", "1", actor="alice", reason="initial")
    t2 = clock.advance(days=1)
    store.promote("pd", "2", actor="bob", reason="better AUC")
    t3 = clock.advance(days=1)
    store.promote("pd", "3", actor="bob", reason="retrained")
    t4 = clock.advance(hours=2)
    back = store.rollback("pd", actor="carol", reason="PSI alarm")
    t5 = clock.advance(hours=1)
    store.rollback("pd", actor="carol", reason="still bad")

    assert (back.action, back.from_version, back.to_version, back.at) == ("rollback", "3", "2", t4)
    assert store.alias("pd", "champion") == "1"
    assert [(e.from_version, e.to_version, e.action, e.actor) for e in store.history("pd")] == [
        (None, "1", "promote", "alice"),
        ("1", "2", "promote", "bob"),
        ("2", "3", "promote", "bob"),
        ("3", "2", "rollback", "carol"),
        ("2", "1", "rollback", "carol"),
    ]
    assert store.champion_on("pd", T0) is None
    assert store.champion_on("pd", t1) == "1"
    assert store.champion_on("pd", t2 + timedelta(hours=12)) == "2"
    assert store.champion_on("pd", t3) == "3"
    assert store.champion_on("pd", t4 + timedelta(minutes=1)) == "2"
    assert store.champion_on("pd", t5 + timedelta(days=30)) == "1"
    with pytest.raises(StoreError, match="no champion before version 1"):
        store.rollback("pd", actor="carol", reason="again")


def test_history_is_persisted_as_json_lines_and_filtered_by_alias(store: ModelStore, clock: FakeClock) -> None:
    register(store)
    register(store)
    store.set_alias("pd", "challenger", "2", actor="alice", reason="shadow run")
    store.promote("pd", "1", actor="alice", reason="initial")

    lines = (store.root / "pd" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["alias"] for line in lines] == ["challenger", "champion"]
    assert json.loads(lines[0])["at"] == "2025-01-01T09:00:00Z"
    assert [e.alias for e in store.history("pd", "challenger")] == ["challenger"]
    reopened = ModelStore(store.root)
    assert reopened.aliases("pd") == {"champion": "1", "challenger": "2"}
    assert reopened.history("pd") == store.history("pd")


def test_rollback_without_earlier_champion_fails_clearly(store: ModelStore) -> None:
    register(store)
    with pytest.raises(StoreError, match="cannot roll back 'pd'"):
        store.rollback("pd", actor="alice", reason="oops")
    store.promote("pd", "1", actor="alice", reason="initial")
    with pytest.raises(StoreError, match="no champion before version 1"):
        store.rollback("pd", actor="alice", reason="oops")
    assert len(store.history("pd")) == 1


def test_forced_move_needs_a_reason(store: ModelStore) -> None:
    register(store)
    for reason in ("", "   "):
        with pytest.raises(ValueError, match="reason"):
            store.promote("pd", "1", actor="alice", reason=reason, forced=True)
    assert store.history("pd") == []
    assert store.alias("pd", "champion") is None

    event = store.promote("pd", "1", actor="alice", reason="gate data missing, approved by CRO", forced=True)
    assert event.forced is True
    assert store.history("pd")[0].reason == "gate data missing, approved by CRO"


def test_alias_moves_are_validated(store: ModelStore) -> None:
    register(store)
    with pytest.raises(ValueError, match="allowed aliases are champion, challenger"):
        store.set_alias("pd", "production", "1", actor="alice", reason="x")
    with pytest.raises(ValueError, match="actor"):
        store.promote("pd", "1", actor="", reason="x")
    with pytest.raises(VersionNotFound):
        store.promote("pd", "2", actor="alice", reason="x")
    store.promote("pd", "1", actor="alice", reason="x")
    with pytest.raises(StoreError, match="already points to version 1"):
        store.promote("pd", "1", actor="alice", reason="again")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.champion_on("pd", datetime(2025, 1, 1))
    assert len(store.history("pd")) == 1


def test_concurrent_alias_moves_serialise(store: ModelStore) -> None:
    n = 8
    for _ in range(n):
        register(store)
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker(version: str) -> None:
        try:
            barrier.wait()
            store.set_alias("pd", "challenger", version, actor=f"t{version}", reason="race")
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(str(v),)) for v in range(1, n + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    events = store.history("pd", "challenger")
    assert errors == []
    assert len(events) == n
    # Each move starts where the previous one ended: no lost update.
    assert [e.from_version for e in events] == [None] + [e.to_version for e in events[:-1]]
    assert store.alias("pd", "challenger") == events[-1].to_version


def test_state_token_changes_on_alias_moves_only(store: ModelStore) -> None:
    empty = store.state_token()
    register(store)
    register(store)
    register(store, "valuation")
    assert store.state_token() == empty

    store.promote("pd", "1", actor="alice", reason="initial")
    t1 = store.state_token()
    assert t1 != empty
    store.verify("pd", "1")
    store.resolve("pd")
    register(store)
    assert store.state_token() == t1

    store.set_alias("valuation", "challenger", "1", actor="alice", reason="shadow")
    t2 = store.state_token()
    store.promote("pd", "2", actor="alice", reason="better")
    t3 = store.state_token()
    store.rollback("pd", actor="alice", reason="worse in production")
    t4 = store.state_token()
    assert len({t1, t2, t3}) == 3
    assert t4 != t3
    assert t4 == t2  # the token describes alias state: same aliases, same token
    assert ModelStore(store.root).state_token() == t4
